/** Tiny git runner for the sandbox (argument arrays, no shell). */
import { execFile } from 'node:child_process';

export interface GitResult {
  stdout: string;
  stderr: string;
}

const GIT_ENV = {
  GIT_TERMINAL_PROMPT: '0',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'KServe Canary Sandbox',
  GIT_AUTHOR_EMAIL: 'sandbox@example.invalid',
  GIT_COMMITTER_NAME: 'KServe Canary Sandbox',
  GIT_COMMITTER_EMAIL: 'sandbox@example.invalid',
};

export function git(cwd: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      args,
      { cwd, env: { ...process.env, ...GIT_ENV }, timeout: opts.timeoutMs ?? 30000, maxBuffer: 32 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`git ${args.join(' ')} failed: ${String(stderr).trim() || err.message}`));
        else resolve({ stdout: String(stdout), stderr: String(stderr) });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}
