/** Shared helpers for the sandbox suites: the one sandbox starter (either backend), kubectl runner, polling. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/index';
import { untilTruthy } from '../poll';

const ROOT = path.resolve(__dirname, '..', '..');
export const KUBECTL = process.env.KUBECTL ?? '/usr/bin/kubectl';

/** The embedded backend with its controls (`controller`, `faults`) and what both backends give. */
export type TestSandbox = Sandbox & Pick<BackendSandbox, 'userToken' | 'adminToken' | 'cleanup'> & { backend: 'embedded' };

/** The sandbox backends: our embedded API server, or a real kube-apiserver + etcd (issue 14). */
export type Backend = 'embedded' | 'kube-apiserver';

/**
 * The backends the parameterised suites run on, in this order: `KSC_SANDBOX_BACKEND`
 * (`embedded`, `kube-apiserver`, or both comma-separated), by default both.
 */
export const BACKENDS: readonly Backend[] = (() => {
  const raw = (process.env.KSC_SANDBOX_BACKEND ?? 'embedded,kube-apiserver')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = raw.filter((b) => b !== 'embedded' && b !== 'kube-apiserver');
  if (bad.length || !raw.length) throw new Error(`KSC_SANDBOX_BACKEND: ${bad.join(', ') || '(empty)'} is not a backend (embedded, kube-apiserver)`);
  return raw as Backend[];
})();

/** What both backends give a test: files, endpoints and the two users' credentials. */
export interface BackendSandbox extends Pick<
  Sandbox,
  'server' | 'dir' | 'kubeconfigPath' | 'tokenFile' | 'caFile' | 'gitopsRemote' | 'gitopsClone' | 'user' | 'prometheusUrl'
> {
  backend: Backend;
  /** The workshop user's token (the kubeconfig's). */
  userToken(): string;
  /** A token allowed everything (the real server's system:masters admin; the embedded one has one user). */
  adminToken(): string;
  cleanup(): Promise<void>;
}

/**
 * The one line saying what to install when the real server cannot run here, or undefined when
 * it can (a built binary, or Go to build it). The real-backend tests fail with it: no skip.
 */
export function kubeApiserverMissing(): string | undefined {
  if (process.env.KSC_KUBE_APISERVER_BIN)
    return existsSync(process.env.KSC_KUBE_APISERVER_BIN)
      ? undefined
      : `KSC_KUBE_APISERVER_BIN=${process.env.KSC_KUBE_APISERVER_BIN} does not exist: build it with node scripts/build-apiserver.mjs`;
  const script = path.join(ROOT, 'scripts', 'build-apiserver.mjs');
  if (!existsSync(script)) return `the kube-apiserver backend is not on this branch (${script} is missing)`;
  if (spawnSync(process.execPath, [script, '--path'], { stdio: 'ignore' }).status === 0) return undefined;
  if (spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0) return undefined;
  return 'kube-apiserver backend: Go is not installed: install Go 1.26 (https://go.dev/dl/) with the Go module proxy reachable, then node scripts/build-apiserver.mjs';
}

type KubeStarted = Omit<BackendSandbox, 'backend' | 'userToken' | 'adminToken' | 'cleanup'> & {
  backend?: string;
  admin?: () => { token: string };
  stop(): Promise<void>;
};

/**
 * The one sandbox starter of the tests: a seeded sandbox in its own temp dir (or `opts.dir`);
 * `cleanup()` stops it and removes the dir. Embedded by default, with its controls
 * (`controller`, `faults`); `backend: 'kube-apiserver'` starts the real server (built once per
 * machine) and gives what both backends share.
 */
export async function openSandbox(opts?: SandboxOptions & { backend?: 'embedded' }): Promise<TestSandbox>;
export async function openSandbox(opts: SandboxOptions & { backend: Backend }): Promise<BackendSandbox>;
export async function openSandbox(opts: SandboxOptions & { backend?: Backend } = {}): Promise<TestSandbox | BackendSandbox> {
  const { backend = 'embedded', ...sbOpts } = opts;
  const dir = sbOpts.dir ?? mkdtempSync(path.join(os.tmpdir(), 'ksc-sandbox-test-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  const token = () => readFileSync(path.join(dir, 'token'), 'utf8').trim();
  if (backend === 'kube-apiserver') {
    const missing = kubeApiserverMissing();
    if (missing) throw new Error(missing);
    const start = startSandbox as unknown as (o: Record<string, unknown>) => Promise<KubeStarted>;
    const { user, kserveDialect, syncDelayMs = 150, rolloutDelayMs = 100, pollMs = 50, inference } = sbOpts;
    const kb = await start({ dir, user, kserveDialect, syncDelayMs, rolloutDelayMs, pollMs, inference, backend });
    if (kb.backend !== 'kube-apiserver') {
      await kb.stop();
      remove();
      throw new Error('startSandbox({ backend: "kube-apiserver" }) started something else: this branch has no kube-apiserver backend');
    }
    return {
      ...kb,
      backend,
      userToken: token,
      adminToken: () => kb.admin?.().token ?? readFileSync(path.join(dir, 'admin-token'), 'utf8').trim(),
      cleanup: async () => (await kb.stop(), remove()),
    };
  }
  const sb = await startSandbox({ syncDelayMs: 150, rolloutDelayMs: 100, pollMs: 50, ...sbOpts, dir });
  return Object.assign(sb, {
    backend: 'embedded' as const,
    userToken: token,
    adminToken: token,
    cleanup: async () => {
      await sb.stop();
      remove();
    },
  });
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** kubectl with the sandbox's kubeconfig and a private discovery cache. */
export function kubectl(sb: Sandbox, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(KUBECTL, ['--cache-dir', path.join(sb.dir, '.kube-cache'), ...args], {
      env: { ...process.env, KUBECONFIG: sb.kubeconfigPath, HOME: sb.dir },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** Poll `fn` until it returns a truthy value (through test/poll.ts, the one polling helper). */
export function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 30000): Promise<NonNullable<T>> {
  return untilTruthy(what, fn, timeoutMs);
}

/** Split kubectl's table output into rows of columns (two or more spaces separate columns). */
export function tableRows(out: string): Array<Record<string, string>> {
  const lines = out.split('\n').filter((l) => l.trim());
  const header = lines[0] ?? '';
  const starts: number[] = [];
  const names: string[] = [];
  const re = /\S+(?: \S+)*/g;
  for (let m = re.exec(header); m; m = re.exec(header)) {
    starts.push(m.index);
    names.push(m[0]);
  }
  return lines.slice(1).map((l) => {
    const row: Record<string, string> = {};
    names.forEach((n, i) => (row[n] = l.slice(starts[i], starts[i + 1] ?? l.length).trim()));
    return row;
  });
}
