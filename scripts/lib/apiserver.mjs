// The real kube-apiserver tier for the test drivers: runs scripts/build-apiserver.mjs (a no-op
// once built, cached by content; ~20 min cold on 2 cores) and hands back the binary's path or the
// build script's one line on what is missing. Used by scripts/test.mjs (before a unit stage whose
// files carry `// needs: kube-apiserver`) and scripts/test-exthost.mjs --backend kube-apiserver.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { root } from './run.mjs';

/**
 * Builds or finds the binary with `<scriptsDir>/build-apiserver.mjs`, its stdout and stderr shown
 * as they come. Resolves { binary } (the script's last stdout line) or { problem } (its last
 * stderr line, or why it could not run; with `scriptMissing` when there is no such script).
 */
export function ensureApiserver({ scriptsDir = path.join(root, 'scripts'), env = {} } = {}) {
  const script = path.join(scriptsDir, 'build-apiserver.mjs');
  if (!existsSync(script))
    return Promise.resolve({ scriptMissing: true, problem: `${path.relative(root, script)} is missing (the real API server tier needs it)` });
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      out += chunk;
    });
    child.stderr.on('data', (chunk) => {
      process.stderr.write(chunk);
      err += chunk;
    });
    child.on('error', (e) => resolve({ problem: `${path.relative(root, script)} did not run: ${e.message}` }));
    child.on('close', (code, signal) => {
      const binary = out.trim().split('\n').pop();
      if (code === 0 && binary) resolve({ binary });
      else resolve({ problem: err.trim().split('\n').pop() || `exit ${code ?? signal}` });
    });
  });
}
