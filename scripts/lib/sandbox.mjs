// The sandbox cluster as a child process: `node dist/cli.js sandbox --dir D --port N --ready-file F`.
// It writes F (JSON: server, port, kubeconfig, gitopsClone, gitopsRemote, tokenFile, dir, pid)
// once it serves. Restarting with the same dir and port resumes the same cluster and git remote.
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pollUntil, startProcess } from './proc.mjs';
import { readJson, root } from './run.mjs';

const cli = path.join(root, 'dist', 'cli.js');

/**
 * Starts the sandbox. Returns { info, stop(), restart() } where info is the ready file's content.
 * `port` 0 lets the sandbox pick one; restart() reuses the port it reported. `inference`: serve
 * inference per revision and a Prometheus query API (status.url on loopback; see `sandbox --inference`).
 * `backend`: `embedded` (default) or `kube-apiserver` (a real API server + etcd, `sandbox --backend`;
 * `env` can name its binary, KSC_KUBE_APISERVER_BIN).
 */
export async function startSandbox({ dir, port = 0, readyFile, logFile, echoPrefix, timeoutMs = 60_000, inference = false, backend = 'embedded', env = {} }) {
  if (!existsSync(cli)) {
    throw new Error(`${path.relative(root, cli)} is missing: build first (node scripts/build.mjs).`);
  }
  let proc;
  let info;
  const launch = async (p) => {
    rmSync(readyFile, { force: true });
    const flags = [...(inference ? ['--inference'] : []), ...(backend !== 'embedded' ? ['--backend', backend] : [])];
    proc = startProcess(process.execPath, [cli, 'sandbox', '--dir', dir, '--port', String(p), '--ready-file', readyFile, ...flags], {
      cwd: root,
      env: { ...process.env, ...env, NO_COLOR: '1' },
      logFile,
      echoPrefix,
      name: 'sandbox',
    });
    const exited = proc.exited.then((e) => {
      throw new Error(
        `the sandbox stopped (exit ${e.code ?? e.signal}) before it was ready; log: ${logFile}\n${proc.output().trim().split('\n').slice(-15).join('\n')}`,
      );
    });
    const ready = pollUntil(() => existsSync(readyFile) && readJson(readyFile), timeoutMs, `the sandbox's ready file ${readyFile}`);
    try {
      info = await Promise.race([ready, exited]);
    } catch (err) {
      await proc.stop();
      throw err;
    }
    return info;
  };
  await launch(port);
  return {
    get info() {
      return info;
    },
    get pid() {
      return proc.pid;
    },
    /** Settles when the current sandbox process exits ({ code, signal }). */
    get exited() {
      return proc.exited;
    },
    async stop() {
      await proc.stop();
    },
    async restart() {
      await proc.stop();
      return launch(info.port);
    },
  };
}
