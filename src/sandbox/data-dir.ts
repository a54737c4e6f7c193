/**
 * The sandbox's data dir bookkeeping shared by its backends: the user's token file (0600), the
 * kubeconfig (context `sandbox`, CA data + token, 0600, written atomically) and the one-process
 * lock `<dir>/sandbox.pid`.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify as toYaml } from 'yaml';

/** The token in `file`, or a new one written there (0600). */
export function ensureToken(file: string): string {
  if (existsSync(file)) {
    const t = readFileSync(file, 'utf8').trim();
    if (t) return t;
  }
  const token = `sha256~${randomBytes(24).toString('base64url')}`;
  writeFileSync(file, token + '\n', { mode: 0o600 });
  return token;
}

export function writeKubeconfig(file: string, server: string, caPem: string, token: string, user: string): void {
  const cfg = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'sandbox', cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: 'sandbox', context: { cluster: 'sandbox', user, namespace: `${user}-test` } }],
    'current-context': 'sandbox',
    preferences: {},
  };
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, toYaml(cfg), { mode: 0o600 });
  renameSync(tmp, file);
}

/** Thrown when another live process already runs a sandbox on the same data dir. */
export class SandboxBusyError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(`A sandbox is already running on ${dir} (pid ${pid}).`);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** One process per data dir: `<dir>/sandbox.pid`, taken over when its process is gone. */
export function lockDir(dir: string): () => void {
  const file = path.join(dir, 'sandbox.pid');
  if (existsSync(file)) {
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) throw new SandboxBusyError(dir, pid);
  }
  writeFileSync(file, `${process.pid}\n`);
  return () => {
    try {
      if (readFileSync(file, 'utf8').trim() === String(process.pid)) rmSync(file, { force: true });
    } catch {
      // already gone
    }
  };
}
