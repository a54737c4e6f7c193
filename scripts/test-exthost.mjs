// Extension-host tests: mocha inside the real extension host of code-server, driven by headless
// Debian chromium, against a fresh sandbox cluster.
//
//   node scripts/test-exthost.mjs [--grep RE] [--files smoke,tree] [--keep] [--no-sandbox] [--restricted]
//                                 [--backend embedded|kube-apiserver]
//
// --backend kube-apiserver: the suites run against a real kube-apiserver + etcd (the sandbox's
// `--backend kube-apiserver`, its binary built or found first by scripts/lib/apiserver.mjs, as
// scripts/test.mjs does for the unit stage) instead of the embedded API server; same ready file,
// kubeconfig and gitops workspace, inference, Prometheus and /_sandbox/ controls (both backends start
// with --inference). Tests needing what only one backend has skip on the other, visibly
// (canary-helpers' onlyOn). Results: test-results/exthost-kube-results.json.
//
// --restricted: code-server with workspace trust on (the workspace, trusted by nobody, opens in
// VS Code's restricted mode) and KSC_EXTHOST_RESTRICTED=1; runs canary-9-restricted unless --files says otherwise.
//
// Steps: build (dev, with the suites) -> code-server (installed once) -> sandbox on an ephemeral
// port -> code-server on an ephemeral port with KUBECONFIG and the sandbox's gitops clone as the
// workspace -> chromium opens the page with extensionDevelopmentPath = repo root and
// extensionTestsPath = dist/test/exthost/index.js -> test/ui/exthost/index.ts runs mocha and writes
// the results; the page reports the exit code through window.codeAutomationExit.
//
// Inside the host the suites find: KSC_SANDBOX_JSON (the sandbox's ready file), KUBECONFIG,
// KSC_EXTHOST_BACKEND, KSC_EXTHOST_RESULTS. Results land in test-results/exthost-results.json and the summary in
// $KSC_TEST_SUMMARY; logs of a failed run are copied to test-results/exthost-logs/.
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureCodeServer, startCodeServer } from './codeserver.mjs';
import { checkChromium, launchChromium, workbenchUrl } from './lib/browser.mjs';
import { buildSuites, checkBackend, kubeApiserverBinary, printResults, testSandbox, testsModule } from './lib/exthost.mjs';
import { exitOnSignals, onShutdown, removeDir, root, secondsSince, shutdown, tempRunDir, writeSummary } from './lib/run.mjs';

const { values: opts } = parseArgs({
  options: {
    grep: { type: 'string' },
    files: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'no-sandbox': { type: 'boolean', default: false },
    restricted: { type: 'boolean', default: false },
    backend: { type: 'string', default: 'embedded' },
  },
});
const kube = opts.backend === 'kube-apiserver';
const DEADLINE_MS = Number(process.env.KSC_EXTHOST_DEADLINE_MS ?? 8 * 60_000);
const resultsDir = path.resolve(process.env.KSC_TEST_RESULTS_DIR ?? path.join(root, 'test-results'));
/** Results and logs of this run: exthost-, exthost-kube- or exthost-restricted-. */
const prefix = opts.restricted ? 'exthost-restricted' : kube ? 'exthost-kube' : 'exthost';
const resultsFile = path.join(resultsDir, `${prefix}-results.json`);
const logsDir = path.join(resultsDir, `${prefix}-logs`);
const t0 = Date.now();
const step = (msg) => console.log(`exthost: ${msg} (${secondsSince(t0)} s)`);

async function main() {
  checkBackend(opts.backend);
  if (kube && opts['no-sandbox']) throw new Error('--backend kube-apiserver starts a sandbox: leave out --no-sandbox');
  // The real server first: when it cannot be built, say so before the long steps.
  const binary = kube ? await kubeApiserverBinary() : undefined;
  if (binary) step(`kube-apiserver: ${binary}`);
  checkChromium();
  // 1. Build with the suites.
  const suites = await buildSuites();
  step(`built ${suites.length} suite(s): ${suites.join(', ')}`);

  // 2. code-server, once.
  await ensureCodeServer();

  // 3. Run folder and sandbox.
  const runDir = tempRunDir('exthost');
  onShutdown(() => {
    if (opts.keep) console.log(`exthost: kept ${runDir}`);
    else removeDir(runDir);
  });
  const { workspace, env, sandbox } = await testSandbox(runDir, { none: opts['no-sandbox'], backend: opts.backend, binary });
  if (sandbox) step(`sandbox (${opts.backend}) ready at ${sandbox.info.server}`);
  if (opts.grep) env.KSC_EXTHOST_GREP = opts.grep;
  if (opts.files) env.KSC_EXTHOST_FILES = opts.files;
  if (opts.restricted) {
    env.KSC_EXTHOST_RESTRICTED = '1';
    env.KSC_EXTHOST_FILES ??= 'canary-9-restricted';
  }
  rmSync(resultsFile, { force: true });
  removeDir(logsDir);

  // 4. code-server with an empty extensions folder: the extension under test loads in development mode.
  const cs = await startCodeServer({ workspace, workspaceTrust: opts.restricted, runDir: path.join(runDir, 'code-server'), env });
  onShutdown(() => cs.stop());
  step(`code-server ready at ${cs.url}`);

  // 5. Chromium opens the page; the workbench runs the tests and calls codeAutomationExit.
  const { browser, context } = await launchChromium(runDir);
  onShutdown(() => browser.close().catch(() => {}));
  const page = await context.newPage();
  const pageLog = [];
  page.on('console', (m) => pageLog.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => pageLog.push(`[pageerror] ${e.message}`));
  let settle;
  const exitCode = new Promise((resolve) => {
    settle = resolve;
  });
  await page.exposeFunction('codeAutomationExit', (code) => settle(Number(code)));
  await page.exposeFunction('codeAutomationLog', (type, args) => pageLog.push(`[host ${type}] ${Array.isArray(args) ? args.join(' ') : args}`));
  const url = workbenchUrl(cs.url, { folder: workspace, extensionDevelopmentPath: root, extensionTestsPath: testsModule });
  await page.goto(url);
  step('workbench opened; tests running in the extension host');
  let timer;
  const code = await Promise.race([
    exitCode,
    new Promise((resolve) => {
      timer = setTimeout(() => resolve('timeout'), DEADLINE_MS);
    }),
  ]);
  clearTimeout(timer);

  // 6. Results.
  const hostResults = env.KSC_EXTHOST_RESULTS;
  const results = printResults(hostResults, resultsFile);
  let problem;
  if (code === 'timeout') problem = `the tests did not finish within ${DEADLINE_MS / 1000} s`;
  else if (!existsSync(hostResults)) problem = `the extension host exited with ${code} without results (tests module failed to load?)`;
  else if (code !== 0 && results.failed === 0) problem = `the extension host exited with ${code}`;
  const failed = results.failed + (problem ? 1 : 0);
  writeSummary({ passed: results.passed, failed, skipped: results.skipped });
  if (problem || failed > 0) {
    const logs = logsDir;
    removeDir(logs);
    mkdirSync(logs, { recursive: true });
    writeFileSync(path.join(logs, 'page-console.log'), `${pageLog.join('\n')}\n`);
    await page.screenshot({ path: path.join(logs, 'workbench.png') }).catch(() => {});
    for (const f of ['sandbox.log', 'sandbox/apiserver.log', 'code-server/code-server.log']) {
      if (existsSync(path.join(runDir, f))) cpSync(path.join(runDir, f), path.join(logs, path.basename(f)));
    }
    const exthostLogs = path.join(runDir, 'code-server', 'user-data', 'logs');
    if (existsSync(exthostLogs)) cpSync(exthostLogs, path.join(logs, 'vscode-logs'), { recursive: true });
    if (problem) console.error(`exthost: ${problem}`);
    console.error(`exthost: logs in ${path.relative(root, logs)}/`);
  }
  step(`${results.passed} passed, ${failed} failed, ${results.skipped} skipped`);
  return failed > 0 ? 1 : 0;
}

exitOnSignals();
let status = 1;
try {
  status = await main();
} catch (err) {
  console.error(`exthost: ${err.message}`);
  writeSummary({ passed: 0, failed: 1, skipped: 0 });
} finally {
  await shutdown();
}
process.exit(status);
