/**
 * The canary's history in git (issue 16): the commits of one model's config.yaml with the
 * canary percent each one asks for, read as the chart renders it (parseModelConfig).
 *
 * `git log --format=%H%x00%at%x00%an%x00%s -n <max> -- <file>` (no --follow: the file's path is
 * the model's identity; a rename is another model), then `git cat-file blob <sha>:<file>` per
 * commit, only for the commits the window needs (those after `since`, and the last one before
 * it, which gives the value in force at the window's start). Commits never change, so a reader
 * caches each commit's reading, and the whole answer while HEAD (read from the git directory's
 * files, no process) stays at the same commit: a refresh every 5 s runs no git at all then.
 */
import { existsSync } from 'node:fs';
import { readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { parseModelConfig } from './config-read';
import { CanaryError } from './errors';
import type { CanaryCommit } from './dashboard-series';
import { GitRunner } from './git';
import { repoInfo, showFile } from './gitstate';
import { DEFAULT_DEPLOYMENTS_DIR, modelConfigPath } from './layout';

export interface CanaryHistoryQuery {
  root: string;
  env: string;
  model: string;
  deploymentsDir?: string;
  /** Environment for git, default process.env. */
  processEnv?: NodeJS.ProcessEnv;
  /** Only commits after this time (ms) are read, plus the last one before it. */
  since?: number;
  /** At most this many commits from the newest, default 500. */
  maxCommits?: number;
}

export interface CanaryHistoryReader {
  /** The file's commits, oldest first (each with the percent it asks for). */
  read(q: CanaryHistoryQuery): Promise<CanaryCommit[]>;
}

const CACHE_MAX = 5000;

/** HEAD's commit from the git directory's files (loose or packed ref), or undefined when that is not plain. */
export async function headCommit(gitDir: string): Promise<string | undefined> {
  try {
    const head = (await readFile(path.join(gitDir, 'HEAD'), 'utf8')).trim();
    if (/^[0-9a-f]{40,64}$/.test(head)) return head;
    const ref = /^ref: (refs\/[^\s]+)$/.exec(head)?.[1];
    if (!ref || ref.includes('..')) return undefined;
    const loose = await readFile(path.join(gitDir, ref), 'utf8').then(
      (t) => t.trim(),
      () => undefined,
    );
    if (loose !== undefined) return /^[0-9a-f]{40,64}$/.test(loose) ? loose : undefined;
    const packed = await readFile(path.join(gitDir, 'packed-refs'), 'utf8').catch(() => '');
    return packed
      .split('\n')
      .map((l) => l.split(' '))
      .find(([sha, name]) => name === ref && /^[0-9a-f]{40,64}$/.test(sha ?? ''))?.[0];
  } catch {
    return undefined;
  }
}

interface Listed {
  head: string | undefined;
  runner: GitRunner;
  rel: string;
  top: string;
  commits: Array<Omit<CanaryCommit, 'percent' | 'invalid'>>;
}

async function gitLog(q: CanaryHistoryQuery, head: string | undefined): Promise<Listed> {
  if (!existsSync(q.root))
    throw new CanaryError(
      'not-found',
      'no-gitops',
      `The gitops checkout ${q.root} does not exist.`,
      'Open your gitops clone (or set kserveCanary.gitopsRoot).',
    );
  const git = (cwd: string) => new GitRunner({ cwd, env: q.processEnv ?? process.env, timeoutMs: 30000 });
  const info = await repoInfo(git(q.root), q.root);
  const top = await realpath(info.topLevel);
  const runner = git(top);
  const file = modelConfigPath(q.root, q.env, q.model, q.deploymentsDir ?? DEFAULT_DEPLOYMENTS_DIR);
  const realFile = path.join(await realpath(path.dirname(file)).catch(() => path.dirname(file)), path.basename(file));
  const rel = path.relative(top, realFile).split(path.sep).join('/');
  const max = Math.max(1, Math.min(10000, q.maxCommits ?? 500));
  // an empty repository (no HEAD yet) has no history
  if (!head && (await runner.probe(['rev-parse', '--verify', '-q', 'HEAD^{commit}'])) === undefined) return { head, runner, rel, top, commits: [] };
  const out = await runner.run(['log', '--format=%H%x00%at%x00%an%x00%s', `-n${max}`, 'HEAD', '--', rel]);
  const commits = out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [sha = '', at = '0', author = '', ...subject] = line.split('\0');
      return { sha, t: Number(at) * 1000, author, subject: subject.join('\0') };
    })
    .filter((c) => /^[0-9a-f]{40,64}$/.test(c.sha))
    .reverse();
  return { head, runner, rel, top, commits };
}

export function createCanaryHistoryReader(): CanaryHistoryReader {
  const readings = new Map<string, Pick<CanaryCommit, 'percent' | 'invalid'>>();
  const logs = new Map<string, Listed>();
  return {
    async read(q) {
      const head = await headCommit(path.join(q.root, '.git'));
      const key = JSON.stringify([q.root, q.env, q.model, q.deploymentsDir ?? null, q.maxCommits ?? null]);
      let listed = head ? logs.get(key) : undefined;
      if (!listed || listed.head !== head) {
        listed = await gitLog(q, head);
        if (head) logs.set(key, listed);
        if (logs.size > 50) logs.delete(logs.keys().next().value!);
      }
      const since = q.since ?? Number.NEGATIVE_INFINITY;
      const firstIn = listed.commits.findIndex((c) => c.t > since);
      const from = firstIn < 0 ? Math.max(0, listed.commits.length - 1) : Math.max(0, firstIn - 1);
      const commits: CanaryCommit[] = [];
      for (const c of listed.commits.slice(from)) {
        const rkey = `${listed.top}\0${listed.rel}\0${c.sha}`;
        let reading = readings.get(rkey);
        if (!reading) {
          const text = await showFile(listed.runner, c.sha, listed.rel);
          if (text === undefined) reading = { percent: undefined, invalid: `${listed.rel} is not in ${c.sha.slice(0, 7)} (deleted)` };
          else {
            try {
              reading = { percent: parseModelConfig(text, listed.rel, q.env, q.model).desiredPercent };
            } catch (e) {
              reading = { percent: undefined, invalid: e instanceof Error ? e.message : String(e) };
            }
          }
          if (readings.size >= CACHE_MAX) readings.delete(readings.keys().next().value!);
          readings.set(rkey, reading);
        }
        commits.push({ ...c, percent: reading.percent, ...(reading.invalid ? { invalid: reading.invalid } : {}) });
      }
      return commits;
    },
  };
}
