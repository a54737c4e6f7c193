/** Shared helpers for the sandbox suites: start/stop, kubectl runner, polling. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/index';
import { untilTruthy } from '../poll';

export const KUBECTL = process.env.KUBECTL ?? '/usr/bin/kubectl';

export interface TestSandbox extends Sandbox {
  cleanup(): Promise<void>;
}

/** A seeded sandbox in its own temp dir; `cleanup()` stops it and removes the dir. */
export async function openSandbox(opts: SandboxOptions = {}): Promise<TestSandbox> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ksc-sandbox-test-'));
  const sb = await startSandbox({ dir, syncDelayMs: 150, rolloutDelayMs: 100, pollMs: 50, ...opts });
  return Object.assign(sb, {
    cleanup: async () => {
      await sb.stop();
      rmSync(dir, { recursive: true, force: true });
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
