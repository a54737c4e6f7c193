/**
 * Shared pieces of the security tests: running the built CLI as a real child process,
 * a minimal environment for it (a private HOME, no global git configuration), and the
 * secret scanner that greps everything the product printed for every secret and its
 * base64 forms.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/main';

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node <bin> ...args` with exactly `env` (nothing inherited), no shell. The child is
 * killed after `timeoutMs` so a hang fails the test instead of blocking it.
 */
export function runCli(bin: string, args: string[], opts: { env: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number }): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: opts.cwd ?? os.tmpdir(), env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 90_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** The environment a CLI child gets: PATH, a private HOME, git without global/system config or prompts. */
export function cliEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    LANG: 'C.UTF-8',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: os.devNull,
    GIT_TERMINAL_PROMPT: '0',
    ...extra,
  };
}

/** Every entry under `dir`, `.git` included: files by sha256, links by their target text. */
export function treeDigest(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = path.join(d, n);
      const st = lstatSync(p);
      const rel = path.relative(dir, p);
      if (st.isSymbolicLink()) out.set(rel, `link:${readlinkSync(p)}`);
      else if (st.isDirectory()) walk(p);
      else out.set(rel, createHash('sha256').update(readFileSync(p)).digest('hex'));
    }
  };
  walk(dir);
  return out;
}

/** The CLI's main() in this process (faster than a child), with cliEnv(home), output captured. */
export async function runMain(argv: string[], cwd: string, home: string): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    cwd,
    env: cliEnv(home),
    signal: new AbortController().signal,
    isTTY: false,
  });
  return { code, stdout, stderr };
}

/** A needle searched for in every output, with the secret it comes from. */
export interface Needle {
  secret: string;
  form: string;
  value: string;
}

/** Shortest needle searched for: shorter strings would match by chance. */
const MIN_NEEDLE = 12;

/** The body lines of a PEM block (base64 of the DER), without the BEGIN/END armour. */
export function pemBodyLines(pem: string): string[] {
  return pem
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('-----'));
}

/**
 * Every form a secret could leak in: as is, base64 and base64url of it, and for PEM keys each
 * body line (what a partial dump would show) and the whole body joined.
 */
export function needlesFor(secret: string, value: string, opts: { pem?: boolean } = {}): Needle[] {
  const forms: [string, string][] = [
    ['plain', value],
    ['base64', Buffer.from(value).toString('base64')],
    ['base64url', Buffer.from(value).toString('base64url')],
  ];
  if (opts.pem) {
    const lines = pemBodyLines(value);
    lines.forEach((l, i) => forms.push([`pem line ${i + 1}`, l]));
    forms.push(['pem body', lines.join('')]);
  }
  const seen = new Set<string>();
  const out: Needle[] = [];
  for (const [form, v] of forms) {
    if (v.length < MIN_NEEDLE || seen.has(v)) continue;
    seen.add(v);
    out.push({ secret, form, value: v });
  }
  return out;
}

export interface ScannedOutput {
  source: string;
  text: string;
}

export interface Finding {
  source: string;
  secret: string;
  form: string;
  /** A few characters around the hit, with the secret itself masked. */
  context: string;
}

/** Collects outputs and secrets, then reports which secret (in which form) shows up where. */
export class LeakScanner {
  readonly outputs: ScannedOutput[] = [];
  private readonly needles: Needle[] = [];
  private readonly secrets = new Set<string>();

  addSecret(name: string, value: string, opts: { pem?: boolean } = {}): void {
    if (!value) throw new Error(`secret ${name} is empty: the test setup is wrong`);
    this.secrets.add(name);
    this.needles.push(...needlesFor(name, value, opts));
  }

  add(source: string, text: string | undefined): void {
    if (text) this.outputs.push({ source, text });
  }

  get secretCount(): number {
    return this.secrets.size;
  }

  get bytes(): number {
    return this.outputs.reduce((n, o) => n + Buffer.byteLength(o.text), 0);
  }

  scan(): Finding[] {
    const found: Finding[] = [];
    for (const o of this.outputs) {
      for (const n of this.needles) {
        const at = o.text.indexOf(n.value);
        if (at < 0) continue;
        const context = `${o.text.slice(Math.max(0, at - 40), at)}<${n.secret}>${o.text.slice(at + n.value.length, at + n.value.length + 40)}`;
        found.push({ source: o.source, secret: n.secret, form: n.form, context });
      }
    }
    return found;
  }
}

/** A run for assertion messages: exit code, stdout, stderr. */
export const showRun = (r: CliRun): string => `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

/** Runs the CLI (runCli) and hands its stdout and stderr to the scanner, labelled. */
export async function runScanned(
  scan: LeakScanner,
  bin: string,
  label: string,
  args: string[],
  opts: { env: NodeJS.ProcessEnv; cwd: string },
): Promise<CliRun> {
  const r = await runCli(bin, args, opts);
  scan.add(`cli ${label}: stdout`, r.stdout);
  scan.add(`cli ${label}: stderr`, r.stderr);
  return r;
}

/** A fresh work directory under the system temp dir, with an empty `home` inside. */
export function securityWorkdir(prefix: string): { work: string; home: string } {
  const work = mkdtempSync(path.join(os.tmpdir(), prefix));
  const home = path.join(work, 'home');
  mkdirSync(home);
  return { work, home };
}
