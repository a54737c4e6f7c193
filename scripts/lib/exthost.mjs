// Pieces shared by the extension-host test drivers (code-server: test-exthost.mjs, desktop VS Code:
// test-desktop.mjs): building the suites, the sandbox they run against, printing the results.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ensureApiserver } from './apiserver.mjs';
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

/** The sandbox backends the extension-host drivers can start (`--backend`). */
export const BACKENDS = ['embedded', 'kube-apiserver'];

/** Throws unless `backend` is one of BACKENDS. */
export function checkBackend(backend) {
  if (!BACKENDS.includes(backend)) throw new Error(`--backend must be ${BACKENDS.join(' or ')}, got ${JSON.stringify(backend)}`);
}

/** The real kube-apiserver's binary (built once per machine, scripts/lib/apiserver.mjs), or an error saying what is missing. */
export async function kubeApiserverBinary() {
  const built = await ensureApiserver();
  if (built.problem) throw new Error(`the real kube-apiserver is not available: ${built.problem}`);
  return built.binary;
}

/**
 * A fresh sandbox in runDir (stopped on shutdown), or an empty workspace with `none`.
 * `backend`: `embedded` or `kube-apiserver` (the real server, `binary` or kubeApiserverBinary()),
 * either with inference endpoints, Prometheus and the /_sandbox/ control routes (`--inference`).
 * Returns { workspace, env } where env is what the suites read inside the host
 * (KSC_EXTHOST_BACKEND says which backend they run against).
 */
export async function testSandbox(runDir, { none = false, backend = 'embedded', binary } = {}) {
  checkBackend(backend);
  const env = { KSC_EXTHOST_RESULTS: path.join(runDir, 'results.json'), KSC_EXTHOST_BACKEND: backend };
  if (none) {
    const workspace = path.join(runDir, 'workspace');
    mkdirSync(workspace, { recursive: true });
    return { workspace, env };
  }
  let kube;
  if (backend === 'kube-apiserver') {
    kube = { backend, env: { KSC_KUBE_APISERVER_BIN: binary ?? (await kubeApiserverBinary()) }, timeoutMs: 180_000 };
  }
  const readyFile = path.join(runDir, 'sandbox.json');
  const sandbox = await startSandbox({
    dir: path.join(runDir, 'sandbox'),
    port: 0, // the sandbox binds a port the system picks
    readyFile,
    logFile: path.join(runDir, 'sandbox.log'),
    // Inference endpoints and Prometheus for the traffic / observed split / gate suites (status.url on loopback).
    inference: true,
    ...kube,
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
    console.log(`  ${mark} ${t.title}${t.state === 'passed' ? ` (${t.durationMs} ms)` : t.skipReason ? ` (${t.skipReason})` : ''}`);
    if (t.error) console.log(`       ${(t.error.stack ?? t.error.message).split('\n').slice(0, 8).join('\n       ')}`);
  }
  return results;
}
