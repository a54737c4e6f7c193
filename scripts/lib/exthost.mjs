// Pieces shared by the extension-host test drivers (code-server: test-exthost.mjs, desktop VS Code:
// test-desktop.mjs): building the suites, the sandbox they run against, printing the results.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCommand } from './proc.mjs';
import { onShutdown, readJson, removeDir, root } from './run.mjs';
import { startSandbox } from './sandbox.mjs';

export const testsModule = path.join(root, 'dist', 'test', 'exthost', 'index.js');

/** Dev build with every test/ui/exthost/*.test.ts bundled; returns the suite file names. */
export async function buildSuites() {
  // Bundles of suites deleted since the last build must not run.
  removeDir(path.dirname(testsModule));
  const build = await runCommand(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { cwd: root, echo: true });
  if (build.code !== 0) throw new Error('build failed');
  if (!existsSync(testsModule)) throw new Error(`${testsModule} was not built (test/ui/exthost/index.ts missing?)`);
  return readdirSync(path.dirname(testsModule)).filter((f) => f.endsWith('.test.js'));
}

/**
 * A fresh sandbox in runDir (stopped on shutdown), or an empty workspace with `none`.
 * Returns { workspace, env } where env is what the suites read inside the host.
 */
export async function testSandbox(runDir, { none = false } = {}) {
  const env = { KSC_EXTHOST_RESULTS: path.join(runDir, 'results.json') };
  if (none) {
    const workspace = path.join(runDir, 'workspace');
    mkdirSync(workspace, { recursive: true });
    return { workspace, env };
  }
  const readyFile = path.join(runDir, 'sandbox.json');
  const sandbox = await startSandbox({
    dir: path.join(runDir, 'sandbox'),
    port: 0, // the sandbox binds a port the system picks
    readyFile,
    logFile: path.join(runDir, 'sandbox.log'),
    // Inference endpoints and Prometheus for the traffic / observed split suites (status.url on loopback).
    inference: true,
  });
  onShutdown(() => sandbox.stop());
  return { workspace: sandbox.info.gitopsClone, env: { ...env, KUBECONFIG: sandbox.info.kubeconfig, KSC_SANDBOX_JSON: readyFile }, sandbox };
}

/** Reads the runner's results file (or an empty result), prints one line per test, returns it. */
export function printResults(resultsFile, copyTo) {
  const results = existsSync(resultsFile) ? readJson(resultsFile) : { passed: 0, failed: 0, skipped: 0, tests: [], missing: true };
  if (copyTo) {
    mkdirSync(path.dirname(copyTo), { recursive: true });
    writeFileSync(copyTo, `${JSON.stringify(results, null, 2)}\n`);
  }
  for (const t of results.tests) {
    const mark = t.state === 'passed' ? 'ok  ' : t.state === 'failed' ? 'FAIL' : 'skip';
    console.log(`  ${mark} ${t.title}${t.state === 'passed' ? ` (${t.durationMs} ms)` : ''}`);
    if (t.error) console.log(`       ${(t.error.stack ?? t.error.message).split('\n').slice(0, 8).join('\n       ')}`);
  }
  return results;
}
