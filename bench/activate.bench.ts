// activate() of KServe Canary in the real extension host of code-server, against an empty
// extension's in the same run.
//
// Both extensions are installed the way users get them: KServe Canary from the .vsix that
// `vsce package` makes (production build), the empty one from its own .vsix. One code-server;
// each round opens a fresh workbench page (= a fresh extension host) on an empty folder (so
// nothing activates by itself) with a tiny probe extension in development mode whose tests
// module activates the two, in alternating order, timing `extension.activate()` from the
// caller's side: loading the module plus the activate() call plus the host's bookkeeping,
// what a user waits for. Each timing starts once the host's event loop is quiet (startup work of
// built-in extensions shares it). A warm-up round is discarded. Prints medians and the ratio; writes
// a JSON summary to $KSC_BENCH_OUT.
// Baselines: "empty" loads the vscode API (as every working extension does) and does nothing;
// "bare" does not even require('vscode'), shown for reference.
// Targets (issue 5): under 50 ms and within 2x of the empty extension.
//
//   node --import tsx bench/activate.bench.ts [rounds]      (npm run bench -- activate)
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { checkChromium, launchChromium } from '../scripts/lib/browser.mjs';
import { freePort, runCommand } from '../scripts/lib/proc.mjs';
import { exitOnSignals, onShutdown, removeDir, root, shutdown, tempRunDir } from '../scripts/lib/run.mjs';

interface CodeServerModule {
  ensureCodeServer(): Promise<{ version: string }>;
  installExtension(o: { vsix: string; extensionsDir: string; userDataDir: string; runDir: string }): Promise<void>;
  startCodeServer(o: {
    port: number;
    workspace: string;
    runDir: string;
    extensionsDir: string;
    userDataDir: string;
    env?: Record<string, string>;
  }): Promise<{ url: string; stop(): Promise<void> }>;
}
interface PackageModule {
  packageVsix(out: string, o?: { logFile?: string }): Promise<{ file: string; bytes: number }>;
}

const OURS = 'kserve-canary.kserve-canary';
/** The baseline: an extension that loads the vscode API and does nothing, like a fresh `yo code` skeleton minus its command. */
const EMPTY = 'bench.empty-baseline';
/** For reference: not even `require('vscode')` (the host builds the API object on that first require). */
const BARE = 'bench.bare-baseline';
const IDS = [OURS, EMPTY, BARE];
const NAMES: Record<string, string> = { [OURS]: 'kserve-canary', [EMPTY]: 'empty', [BARE]: 'bare' };
const ROUNDS = Number(process.argv[2] ?? process.env.KSC_BENCH_ROUNDS ?? 15);
const ROUND_TIMEOUT_MS = 90_000;

interface Sample {
  ms: number;
  wasActive: boolean;
  inner?: number;
}

/** The probe runs inside the extension host (CommonJS, plain JS: no build step). */
const PROBE = `
const fs = require('node:fs');
const vscode = require('vscode');
// Startup work (built-in extensions activating, the workbench restoring) shares this event
// loop: wait until 10 consecutive 50 ms timers fire on time (at most 15 s) before each timing.
async function quiet() {
  const deadline = Date.now() + 15000;
  let calm = 0;
  while (calm < 10 && Date.now() < deadline) {
    const t = performance.now();
    await new Promise((r) => setTimeout(r, 50));
    calm = performance.now() - t < 56 ? calm + 1 : 0;
  }
}
exports.run = async function run() {
  const cfg = JSON.parse(fs.readFileSync(process.env.KSC_BENCH_ROUND, 'utf8'));
  const out = {};
  for (const id of cfg.order) {
    await quiet();
    const ext = vscode.extensions.getExtension(id);
    if (!ext) throw new Error('extension not loaded: ' + id);
    const wasActive = ext.isActive;
    const t = performance.now();
    const exp = await ext.activate();
    const ms = performance.now() - t;
    const inner = exp && exp.test && typeof exp.test.activateMs === 'function' ? exp.test.activateMs() : undefined;
    out[id] = { ms, wasActive, inner };
  }
  fs.writeFileSync(cfg.out, JSON.stringify(out));
};
`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function pageUrl(base: string, folder: string, devPath: string, tests: string): string {
  const u = new URL(base);
  const payload = [
    ['extensionDevelopmentPath', `vscode-remote://${u.host}${devPath}`],
    ['extensionTestsPath', `vscode-remote://${u.host}${tests}`],
  ];
  return `${u.origin}/?${new URLSearchParams({ folder, payload: JSON.stringify(payload) }).toString()}`;
}

function writeExtension(dir: string, name: string, publisher: string, engine: string, main: string): void {
  mkdirSync(dir, { recursive: true });
  const pkg = {
    name,
    displayName: name,
    description: `${name} (benchmark)`,
    publisher,
    version: '0.0.1',
    license: 'Apache-2.0',
    repository: { type: 'git', url: 'https://example.invalid/bench.git' },
    engines: { vscode: engine },
    main: './extension.js',
    activationEvents: [],
  };
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
  writeFileSync(path.join(dir, 'extension.js'), main);
  writeFileSync(path.join(dir, 'README.md'), `# ${name}\n\nBenchmark fixture.\n`);
  writeFileSync(path.join(dir, 'LICENSE'), 'Apache-2.0\n');
}

async function main(): Promise<number> {
  checkChromium();
  const cs = (await import(pathToFileURL(path.join(root, 'scripts', 'codeserver.mjs')).href)) as CodeServerModule;
  const pk = (await import(pathToFileURL(path.join(root, 'scripts', 'lib', 'package.mjs')).href)) as PackageModule;
  await cs.ensureCodeServer();

  const runDir = tempRunDir('bench-activate');
  onShutdown(() => removeDir(runDir));
  const csDir = path.join(runDir, 'cs');
  const extensionsDir = path.join(csDir, 'ext');
  const userDataDir = path.join(csDir, 'ud');
  const workspace = path.join(runDir, 'workspace');
  mkdirSync(workspace, { recursive: true });
  const engine = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { engines: { vscode: string } }).engines.vscode;

  // KServe Canary as shipped, and the empty baseline, both installed from a .vsix.
  const oursVsix = (await pk.packageVsix(path.join(runDir, 'kserve-canary.vsix'), { logFile: path.join(runDir, 'package.log') })).file;
  const vsixes = [oursVsix];
  const baselines: [string, string][] = [
    ['empty-baseline', "require('vscode');\nexports.activate = function activate() {};\nexports.deactivate = function deactivate() {};\n"],
    ['bare-baseline', 'exports.activate = function activate() {};\nexports.deactivate = function deactivate() {};\n'],
  ];
  for (const [name, main] of baselines) {
    const dir = path.join(runDir, name);
    writeExtension(dir, name, 'bench', engine, main);
    const vsix = path.join(runDir, `${name}.vsix`);
    const vp = await runCommand(process.execPath, [path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce'), 'package', '--no-dependencies', '--out', vsix], {
      cwd: dir,
    });
    if (vp.code !== 0) throw new Error(`packaging ${name} failed:\n${vp.output}`);
    vsixes.push(vsix);
  }
  for (const vsix of vsixes) await cs.installExtension({ vsix, extensionsDir, userDataDir, runDir: csDir });

  // The probe: an extension in development mode whose tests module does the timing.
  const probeDir = path.join(runDir, 'probe');
  writeExtension(probeDir, 'activation-probe', 'bench', engine, '');
  const probe = path.join(probeDir, 'probe.js');
  writeFileSync(probe, PROBE);
  const roundFile = path.join(runDir, 'round.json');

  const server = await cs.startCodeServer({
    port: await freePort(),
    workspace,
    runDir: csDir,
    extensionsDir,
    userDataDir,
    env: { KSC_BENCH_ROUND: roundFile },
  });
  onShutdown(() => server.stop());
  const { browser, context } = await launchChromium(runDir);
  onShutdown(() => browser.close().catch(() => {}));

  const samples: Record<string, Sample>[] = [];
  for (let round = 0; round <= ROUNDS; round++) {
    const out = path.join(runDir, `round-${round}.json`);
    // Rotate who goes first: the first activation of a page may pay for warming shared code.
    const order = IDS.map((_, i) => IDS[(i + round) % IDS.length]!);
    writeFileSync(roundFile, JSON.stringify({ order, out }));
    const page = await context.newPage();
    let settle!: (code: number) => void;
    const exited = new Promise<number>((resolve) => {
      settle = resolve;
    });
    await page.exposeFunction('codeAutomationExit', (code: number) => settle(Number(code)));
    const hostLog: string[] = [];
    await page.exposeFunction('codeAutomationLog', (type: string, args: unknown) =>
      hostLog.push(`[${type}] ${Array.isArray(args) ? args.join(' ') : String(args)}`),
    );
    await page.goto(pageUrl(server.url, workspace, probeDir, probe));
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      exited,
      new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), ROUND_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
    await page.close();
    if (code !== 0 || !existsSync(out)) throw new Error(`round ${round}: the probe did not finish (${code})\n${hostLog.slice(-20).join('\n')}`);
    const r = JSON.parse(readFileSync(out, 'utf8')) as Record<string, Sample>;
    if (IDS.some((id) => r[id]!.wasActive)) throw new Error(`round ${round}: an extension was already active before the probe; the numbers would be wrong`);
    console.log(
      `round ${round}${round === 0 ? ' (warm-up, discarded)' : ''}: kserve-canary ${r[OURS]!.ms.toFixed(1)} ms (activate() body ${r[OURS]!.inner?.toFixed(1) ?? '?'} ms), ` +
        `empty ${r[EMPTY]!.ms.toFixed(1)} ms, bare ${r[BARE]!.ms.toFixed(1)} ms; order ${order.map((o) => NAMES[o]).join(' → ')}`,
    );
    if (round > 0) samples.push(r);
  }

  const oursMs = median(samples.map((s) => s[OURS]!.ms));
  const emptyMs = median(samples.map((s) => s[EMPTY]!.ms));
  const bareMs = median(samples.map((s) => s[BARE]!.ms));
  const innerMs = median(samples.map((s) => s[OURS]!.inner ?? NaN));
  // Paired: both timed in the same page a moment apart, so a busy machine slows both.
  const pairedRatio = median(samples.map((s) => s[OURS]!.ms / s[EMPTY]!.ms));
  const round2 = (x: number) => Number(x.toFixed(2));
  const summary = {
    bench: 'activate',
    rounds: samples.length,
    kserveCanaryMedianMs: round2(oursMs),
    kserveCanaryMinMs: round2(Math.min(...samples.map((s) => s[OURS]!.ms))),
    emptyMedianMs: round2(emptyMs),
    emptyMinMs: round2(Math.min(...samples.map((s) => s[EMPTY]!.ms))),
    bareMedianMs: round2(bareMs),
    activateBodyMedianMs: round2(innerMs),
    ratio: round2(pairedRatio),
    ratioOfMedians: round2(oursMs / emptyMs),
    samples: samples.map((s) => ({ kserveCanary: round2(s[OURS]!.ms), empty: round2(s[EMPTY]!.ms), bare: round2(s[BARE]!.ms) })),
    target: { underMs: 50, withinRatio: 2 },
    meetsTarget: oursMs < 50 && pairedRatio <= 2,
  };
  console.log(
    `\nactivate(): kserve-canary median ${summary.kserveCanaryMedianMs} ms (min ${summary.kserveCanaryMinMs}; activate() body ${summary.activateBodyMedianMs} ms) ` +
      `vs empty extension ${summary.emptyMedianMs} ms (min ${summary.emptyMinMs}); median paired ratio ${summary.ratio}x, ratio of medians ${summary.ratioOfMedians}x; ` +
      `bare extension ${summary.bareMedianMs} ms. Target < 50 ms and ≤ 2x: ${summary.meetsTarget ? 'met' : 'NOT met'}.`,
  );
  if (process.env.KSC_BENCH_OUT) writeFileSync(process.env.KSC_BENCH_OUT, JSON.stringify(summary, null, 2) + '\n');
  return 0;
}

exitOnSignals();
// No top-level await: tsx loads this file as CommonJS.
main()
  .catch((err: unknown) => {
    console.error(`bench activate: ${(err as Error).message}`);
    return 1;
  })
  .then(async (status) => {
    await shutdown();
    process.exit(status);
  });
