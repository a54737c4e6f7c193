// The extension-host suites in desktop VS Code through @vscode/test-electron, at the `engines`
// minimum and at stable:
//
//   npm run test:desktop [-- --version 1.90.0|stable|insiders ...] [-- --grep RE] [-- --no-sandbox]
//
// It downloads VS Code into .cache/vscode-test/ (git-ignored), so it needs access to
// update.code.visualstudio.com: it is not part of `npm test` on machines that only reach the npm
// registry. On Linux without a display it re-runs itself under `xvfb-run -a` (apt-get install -y xvfb),
// and VS Code needs its usual libraries (libnss3, libgtk-3-0, libasound2, libgbm1, ...).
// The suites are the same as in code-server (test/ui/exthost/*.test.ts, runner test/ui/exthost/index.ts)
// and run against a fresh sandbox; the summary goes to $KSC_TEST_SUMMARY like the other stages.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildSuites, printResults, testSandbox, testsModule } from './lib/exthost.mjs';
import { onPath } from './lib/proc.mjs';
import { exitOnSignals, onShutdown, removeDir, root, secondsSince, shutdown, tempRunDir, writeSummary } from './lib/run.mjs';

const { values: opts } = parseArgs({
  options: {
    version: { type: 'string', multiple: true },
    grep: { type: 'string' },
    files: { type: 'string' },
    'no-sandbox': { type: 'boolean', default: false },
  },
});

// VS Code's Electron needs a display; without one, run this script again inside a virtual one.
if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.KSC_UNDER_XVFB) {
  if (!onPath('xvfb-run')) {
    console.error('test:desktop: no display and no xvfb-run; install it (apt-get install -y xvfb) or set DISPLAY.');
    process.exit(1);
  }
  const child = spawn('xvfb-run', ['-a', process.execPath, ...process.argv.slice(1)], { stdio: 'inherit', env: { ...process.env, KSC_UNDER_XVFB: '1' } });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  exitOnSignals();
  let status = 1;
  try {
    status = await main();
  } catch (err) {
    console.error(`test:desktop: ${err.message}`);
    writeSummary({ passed: 0, failed: 1, skipped: 0 });
  } finally {
    await shutdown();
  }
  process.exit(status);
}

/** The engines minimum from package.json (`^1.90.0` -> `1.90.0`). */
function enginesMinimum() {
  const range = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).engines.vscode;
  const m = /(\d+\.\d+\.\d+)/.exec(range);
  if (!m) throw new Error(`package.json engines.vscode (${range}) names no version`);
  return m[1];
}

async function main() {
  const t0 = Date.now();
  const { runTests } = await import('@vscode/test-electron');
  const versions = opts.version?.length ? opts.version : [enginesMinimum(), 'stable'];
  const suites = await buildSuites();
  console.log(`test:desktop: ${suites.length} suite(s): ${suites.join(', ')}; VS Code ${versions.join(', ')}`);
  const cachePath = path.join(root, '.cache', 'vscode-test');
  mkdirSync(cachePath, { recursive: true });

  const totals = { passed: 0, failed: 0, skipped: 0 };
  for (const version of versions) {
    const runDir = tempRunDir(`desktop-${version}`);
    onShutdown(() => removeDir(runDir));
    const { workspace, env, sandbox } = await testSandbox(runDir, { none: opts['no-sandbox'] });
    if (opts.grep) env.KSC_EXTHOST_GREP = opts.grep;
    if (opts.files) env.KSC_EXTHOST_FILES = opts.files;
    console.log(`\ntest:desktop: VS Code ${version}${sandbox ? ` against ${sandbox.info.server}` : ''}`);
    let code;
    try {
      code = await runTests({
        version,
        cachePath,
        extensionDevelopmentPath: root,
        extensionTestsPath: testsModule,
        extensionTestsEnv: env,
        launchArgs: [
          workspace,
          '--disable-extensions', // other installed extensions stay out; the one under development loads
          '--disable-workspace-trust',
          '--skip-welcome',
          '--skip-release-notes',
          '--user-data-dir',
          path.join(runDir, 'user-data'),
          '--extensions-dir',
          path.join(runDir, 'extensions'),
        ],
      });
    } catch (err) {
      console.error(`test:desktop: VS Code ${version}: ${err.message}`);
      code = 1;
    }
    const results = printResults(env.KSC_EXTHOST_RESULTS, path.join(root, 'test-results', `desktop-${version}-results.json`));
    const extra = code !== 0 && results.failed === 0 ? 1 : 0;
    totals.passed += results.passed;
    totals.failed += results.failed + extra;
    totals.skipped += results.skipped;
    if (sandbox) await sandbox.stop();
  }
  writeSummary(totals);
  console.log(`test:desktop: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped (${secondsSince(t0)} s)`);
  return totals.failed > 0 ? 1 : 0;
}
