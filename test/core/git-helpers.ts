/**
 * Test builders for real git: a temporary bare "remote" seeded with a gitops layout,
 * clones of it, and snapshots to prove that nothing was lost. Everything lives under
 * os.tmpdir() and is removed by cleanup(). Git runs with an isolated configuration
 * (no global/system config), so the machine's settings cannot change the outcome.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The workshop's config.yaml (test/jukebox), with comments, as users have it. */
export const WORKSHOP_CONFIG = `---
# jukebox in the test environment
chart_path: charts/model-deployment/music-transformer
name: jukebox
version: 4562a17c17  # set by the pipeline
image_repository: image-registry.openshift-image-registry.svc:5000
image_namespace: user1-test

autoscaling: true
canary:  # canary rollout
  trafficPercent: 10 # share of the new revision
`;

export const PROD_CONFIG = `---
chart_path: charts/model-deployment/music-transformer
name: jukebox
version: 1111111111
image_repository: image-registry.openshift-image-registry.svc:5000
image_namespace: user1-prod
autoscaling: true
`;

/** Environment for git in tests: no global or system configuration, no prompts. */
export function testGitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (/^GIT_/i.test(k)) delete env[k];
  return {
    ...env,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: os.devNull,
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_NAME: 'Test User',
    GIT_AUTHOR_EMAIL: 'test@example.invalid',
    GIT_COMMITTER_NAME: 'Test User',
    GIT_COMMITTER_EMAIL: 'test@example.invalid',
    ...extra,
  };
}

export function git(cwd: string, args: string[], env: NodeJS.ProcessEnv = testGitEnv()): string {
  return execFileSync('git', args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * `git` without blocking the event loop, for the extension-host and browser suites (the host
 * must keep running while git does): resolves with the trimmed stdout, rejects with stderr.
 */
export function gitAsync(cwd: string | undefined, args: string[], env: NodeJS.ProcessEnv = testGitEnv()): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', args, { cwd, env, encoding: 'utf8' }, (err, stdout, stderr) =>
      err ? reject(new Error(`git ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout.trim()),
    );
  });
}

/** Runs git and returns its exit status and output instead of throwing. */
export function gitTry(cwd: string, args: string[], env: NodeJS.ProcessEnv = testGitEnv()): { status: number; out: string } {
  try {
    return { status: 0, out: git(cwd, args, env) };
  } catch (e) {
    const err = e as { status?: number; stdout?: string; stderr?: string };
    return { status: err.status ?? 1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

export interface Sandbox {
  dir: string;
  /** The bare repository acting as the remote. */
  remote: string;
  /** A fresh clone (branch main tracking origin/main). */
  clone(name: string): string;
  cleanup(): void;
}

export const TEST_CONFIG_REL = 'model-deployments/test/jukebox/config.yaml';

/** A bare remote with one commit holding a gitops layout (test/jukebox, prod/jukebox, README). */
export function makeSandbox(files: Record<string, string> = {}): Sandbox {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ksc-git-'));
  const remote = path.join(dir, 'remote.git');
  git(dir, ['init', '--quiet', '--bare', '--initial-branch=main', remote]);
  const seed = path.join(dir, 'seed');
  git(dir, ['clone', '--quiet', remote, seed]);
  const all: Record<string, string> = {
    'README.md': '# gitops\n',
    [TEST_CONFIG_REL]: WORKSHOP_CONFIG,
    'model-deployments/prod/jukebox/config.yaml': PROD_CONFIG,
    ...files,
  };
  for (const [rel, text] of Object.entries(all)) writeFile(seed, rel, text);
  git(seed, ['symbolic-ref', 'HEAD', 'refs/heads/main']);
  git(seed, ['add', '--', ...Object.keys(all)]);
  git(seed, ['commit', '--quiet', '-m', 'Initial gitops layout']);
  git(seed, ['push', '--quiet', '-u', 'origin', 'main']);
  return {
    dir,
    remote,
    clone(name: string) {
      const target = path.join(dir, name);
      git(dir, ['clone', '--quiet', remote, target]);
      return target;
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function writeFile(root: string, rel: string, text: string | Buffer): void {
  const p = path.join(root, rel);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, text);
}

export function readText(root: string, rel: string): string {
  return readFileSync(path.join(root, rel), 'utf8');
}

/** Every file of the working tree (not .git) with its bytes, for byte-identical checks. */
export function snapshot(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      if (name === '.git') continue;
      const p = path.join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(path.relative(root, p).split(path.sep).join('/'), readFileSync(p).toString('base64'));
    }
  };
  walk(root);
  return out;
}

/** Commit another clone makes and pushes (a colleague or a CI pipeline). */
export function pushFromOther(sb: Sandbox, name: string, rel: string, edit: (text: string) => string, message: string): string {
  const other = sb.clone(name);
  writeFile(other, rel, edit(safeRead(other, rel)));
  git(other, ['add', '--', rel]);
  git(other, ['commit', '--quiet', '-m', message, '--', rel]);
  git(other, ['push', '--quiet', 'origin', 'main']);
  const sha = git(other, ['rev-parse', 'HEAD']).trim();
  rmSync(other, { recursive: true, force: true });
  return sha;
}

function safeRead(root: string, rel: string): string {
  try {
    return readText(root, rel);
  } catch {
    return '';
  }
}

export function head(repo: string, rev = 'HEAD'): string {
  return git(repo, ['rev-parse', rev]).trim();
}

/** Files a commit touches. */
export function filesOf(repo: string, rev: string): string[] {
  return git(repo, ['show', '--format=', '--name-only', rev]).split('\n').filter(Boolean);
}

/** The diff of a commit, only the +/- lines (without file headers). */
export function changedLines(repo: string, rev: string): string[] {
  return git(repo, ['show', '--format=', '--unified=0', rev])
    .split('\n')
    .filter((l) => /^[+-]/.test(l) && !/^(\+\+\+|---) /.test(l));
}

/** `git status --porcelain` lines, sorted. */
export function porcelain(repo: string): string[] {
  return git(repo, ['status', '--porcelain', '--untracked-files=all']).split('\n').filter(Boolean).sort();
}

/**
 * Everything of a clone a user could notice: HEAD, the branch, `git status --porcelain=v2
 * --branch` (upstream and ahead/behind included), the stash, the index, the local branches
 * and every working-tree file's bytes.
 */
export function cloneState(repo: string) {
  return {
    head: head(repo),
    branch: gitTry(repo, ['symbolic-ref', '--short', 'HEAD']).out.trim(),
    status: git(repo, ['status', '--porcelain=v2', '--branch', '--untracked-files=all']),
    stash: git(repo, ['stash', 'list']),
    index: git(repo, ['ls-files', '--stage']),
    staged: git(repo, ['diff', '--cached']),
    branches: git(repo, ['for-each-ref', '--format=%(refname) %(objectname)', 'refs/heads']),
    files: snapshot(repo),
  };
}

/** The bare remote's branches, sorted (refs/heads/…). */
export function remoteBranches(remote: string): string[] {
  return git(remote, ['for-each-ref', '--format=%(refname)', 'refs/heads']).split('\n').filter(Boolean).sort();
}
