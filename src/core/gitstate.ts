/**
 * Reading the state of a checkout before publishing: where the repository is, which
 * branch and upstream, what is dirty, and whether git is in the middle of something.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { CanaryError } from './errors';
import type { GitRunner } from './git';

export interface StatusEntry {
  /** Path relative to the repository's top level, '/'-separated. */
  path: string;
  /** Two-letter XY code ('.M', 'M.', '??', ...). */
  xy: string;
  kind: 'changed' | 'renamed' | 'unmerged' | 'untracked' | 'ignored';
  /** Object names in HEAD and in the index (changed entries only). */
  headOid?: string;
  indexOid?: string;
  indexMode?: string;
}

export interface RepoStatus {
  oid: string | undefined;
  /** Branch name, or undefined when HEAD is detached. */
  branch: string | undefined;
  upstream: string | undefined;
  /** Commits ahead of / behind the upstream as of the last fetch (when there is an upstream). */
  ab: { ahead: number; behind: number } | undefined;
  entries: StatusEntry[];
}

/** Parses `git status --porcelain=v2 --branch -z`. */
export function parseStatusV2(out: string): RepoStatus {
  const status: RepoStatus = { oid: undefined, branch: undefined, upstream: undefined, ab: undefined, entries: [] };
  const fields = out.split('\0');
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    if (f === '') continue;
    if (f.startsWith('# ')) {
      const [, key, ...rest] = f.split(' ');
      const value = rest.join(' ');
      if (key === 'branch.oid') status.oid = value === '(initial)' ? undefined : value;
      else if (key === 'branch.head') status.branch = value === '(detached)' ? undefined : value;
      else if (key === 'branch.upstream') status.upstream = value;
      else if (key === 'branch.ab') {
        const m = /^\+(\d+) -(\d+)$/.exec(value);
        if (m) status.ab = { ahead: Number(m[1]), behind: Number(m[2]) };
      }
      continue;
    }
    const type = f[0];
    if (type === '1') {
      // 1 XY sub mH mI mW hH hI path
      const parts = f.split(' ');
      status.entries.push({ kind: 'changed', xy: parts[1]!, indexMode: parts[4], headOid: parts[6], indexOid: parts[7], path: parts.slice(8).join(' ') });
    } else if (type === '2') {
      // 2 XY sub mH mI mW hH hI Xscore path \0 origPath
      const parts = f.split(' ');
      status.entries.push({ kind: 'renamed', xy: parts[1]!, indexMode: parts[4], headOid: parts[6], indexOid: parts[7], path: parts.slice(9).join(' ') });
      const orig = fields[++i];
      if (orig) status.entries.push({ kind: 'renamed', xy: parts[1]!, path: orig });
    } else if (type === 'u') {
      const parts = f.split(' ');
      status.entries.push({ kind: 'unmerged', xy: parts[1]!, path: parts.slice(10).join(' ') });
    } else if (type === '?') {
      status.entries.push({ kind: 'untracked', xy: '??', path: f.slice(2) });
    } else if (type === '!') {
      status.entries.push({ kind: 'ignored', xy: '!!', path: f.slice(2) });
    }
  }
  return status;
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export interface RepoInfo {
  gitDir: string;
  topLevel: string;
}

export async function repoInfo(git: GitRunner, root: string): Promise<RepoInfo> {
  // Fast path: the gitops root is the top of a normal clone (saves one git process).
  const dotGit = path.join(root, '.git');
  if (isDirectory(dotGit) && existsSync(path.join(dotGit, 'HEAD'))) return { gitDir: dotGit, topLevel: root };
  const out = await git.probe(['rev-parse', '--absolute-git-dir', '--show-toplevel']);
  const lines =
    out
      ?.split('\n')
      .map((l) => l.trim())
      .filter(Boolean) ?? [];
  if (lines.length < 2) {
    throw new CanaryError(
      'git',
      'not-a-repository',
      `${root} is not inside a git repository (or it has no working tree).`,
      'Point --gitops (or the kserveCanary.gitopsPath setting) at a clone of your gitops repository.',
    );
  }
  return { gitDir: lines[0]!, topLevel: lines[1]! };
}

/**
 * Refuses to work in a repository that git itself considers busy: an index lock, a rebase,
 * merge, cherry-pick or revert in progress. Nothing is touched.
 */
export function checkNotBusy(gitDir: string): void {
  const lock = path.join(gitDir, 'index.lock');
  if (existsSync(lock)) {
    throw new CanaryError(
      'git',
      'index-locked',
      `The git index is locked: ${lock} exists. Another git command is running, or one crashed and left the lock behind.`,
      `If no git command is running in this repository, delete ${lock} and run the command again.`,
    );
  }
  const busy: [string, string, string][] = [
    ['rebase-merge', 'rebase-in-progress', 'a rebase'],
    ['rebase-apply', 'rebase-in-progress', 'a rebase (or git am)'],
    ['MERGE_HEAD', 'merge-in-progress', 'a merge'],
    ['CHERRY_PICK_HEAD', 'operation-in-progress', 'a cherry-pick'],
    ['REVERT_HEAD', 'operation-in-progress', 'a revert'],
  ];
  for (const [file, code, what] of busy) {
    if (existsSync(path.join(gitDir, file))) {
      throw new CanaryError(
        'git',
        code,
        `The repository is in the middle of ${what}; nothing was changed.`,
        `Finish it (\`git ${what.includes('merge') ? 'merge' : what.includes('rebase') ? 'rebase' : what.split(' ')[1]} --continue\`) or abort it (\`--abort\`), then run the command again.`,
      );
    }
  }
}

export async function readStatus(git: GitRunner): Promise<RepoStatus> {
  return parseStatusV2(await git.run(['status', '--porcelain=v2', '--branch', '-z', '--untracked-files=all']));
}

export interface Upstream {
  remote: string;
  /** Full ref on the remote, e.g. refs/heads/main. */
  remoteRef: string;
  /** Local remote-tracking ref, e.g. refs/remotes/origin/main. */
  trackingRef: string;
  /** Short name for messages, e.g. origin/main. */
  short: string;
}

/** The raw upstream of a branch (for readUpstream); started early, beside `git status`, by publish. */
export function upstreamQuery(git: GitRunner, branch: string): Promise<string> {
  return git.run(['for-each-ref', '--format=%(upstream:remotename)%00%(upstream:remoteref)%00%(upstream)%00%(upstream:short)', `refs/heads/${branch}`]);
}

/** The branch HEAD names, read from the HEAD file of a plain clone; undefined when detached or unusual. */
export function headBranchFromFile(gitDir: string): string | undefined {
  try {
    return /^ref: refs\/heads\/(.+)\n?$/.exec(readFileSync(path.join(gitDir, 'HEAD'), 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/** The branch's upstream, or a clear error saying there is no remote / no upstream. */
export async function readUpstream(git: GitRunner, branch: string, early?: Promise<string>): Promise<Upstream> {
  const out = (await early) ?? (await upstreamQuery(git, branch));
  const [remote = '', remoteRef = '', trackingRef = '', short = ''] = out.trim().split('\0');
  if (remote && remoteRef && trackingRef && remote !== '.') {
    // The remote name becomes a git argument (fetch/push <remote>): one that git would read as an option is refused.
    if (remote.startsWith('-')) {
      throw new CanaryError(
        'git',
        'unsafe-remote',
        `The upstream remote of ${branch} is named ${JSON.stringify(remote.slice(0, 80))}, which git would read as an option; refusing to run git with it.`,
        `Fix the remote's name in .git/config (branch.${branch}.remote and its [remote "…"] section), then retry.`,
      );
    }
    return { remote, remoteRef, trackingRef, short };
  }
  const remotes = (await git.run(['remote']))
    .split('\n')
    .map((r) => r.trim())
    .filter(Boolean);
  if (remotes.length === 0) {
    throw new CanaryError(
      'git',
      'no-remote',
      'This repository has no remote, so there is nowhere to push the change.',
      'Add the gitops remote (`git remote add origin <url>` then `git push -u origin ' + branch + '`), or use --no-push to commit only.',
    );
  }
  throw new CanaryError(
    'git',
    'no-upstream',
    `Branch ${branch} has no upstream branch, so it is unclear where to push.`,
    `Run \`git push -u ${remotes[0]} ${branch}\` once (or \`git branch --set-upstream-to ${remotes[0]}/${branch}\`), or use --no-push to commit only.`,
  );
}

/**
 * Fetches the upstream branch into its remote-tracking ref. Returns false only when the
 * tracking ref provably did not move (so ahead/behind read before still hold): git said
 * it was up to date, or, with `gitDir`, the ref is a loose file holding the same commit
 * before and after. true otherwise (moved, or cannot tell).
 */
export async function fetchUpstream(git: GitRunner, upstream: Upstream, gitDir?: string): Promise<boolean> {
  const before = gitDir ? looseRef(gitDir, upstream.trackingRef) : undefined;
  // No `maintenance --auto` after it (git's housekeeping check, tens of ms): the user's own next git command runs it.
  await git.run(['-c', 'maintenance.auto=false', 'fetch', '--no-tags', upstream.remote, `+${upstream.remoteRef}:${upstream.trackingRef}`], 'fetch');
  // git reports "[up to date]" on stderr: compare the ref itself.
  return before === undefined || gitDir === undefined || looseRef(gitDir, upstream.trackingRef) !== before;
}

/**
 * The commit a ref points at, read from its loose ref file; undefined when there is none
 * (a packed ref, a linked worktree whose refs live in the common folder, anything unusual).
 */
function looseRef(gitDir: string, ref: string): string | undefined {
  try {
    const sha = readFileSync(path.join(gitDir, ...ref.split('/')), 'utf8').trim();
    return /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(sha) ? sha : undefined;
  } catch {
    return undefined;
  }
}

/** The commit a branch points at, read from its loose ref when there is one (else git). */
export async function branchSha(git: GitRunner, gitDir: string, branch: string): Promise<string> {
  const sha = looseRef(gitDir, `refs/heads/${branch}`);
  if (sha) return sha;
  // packed or unusual ref: ask git
  return (await git.run(['rev-parse', `refs/heads/${branch}`])).trim();
}

export async function aheadBehind(git: GitRunner, trackingRef: string): Promise<{ ahead: number; behind: number }> {
  const out = await git.run(['rev-list', '--left-right', '--count', `HEAD...${trackingRef}`]);
  const [a, b] = out.trim().split(/\s+/).map(Number);
  return { ahead: a ?? 0, behind: b ?? 0 };
}

/** Files changed on the upstream since the merge base with HEAD. */
export async function incomingFiles(git: GitRunner, trackingRef: string): Promise<string[]> {
  const out = await git.run(['diff', '--name-only', '--no-renames', '-z', `HEAD...${trackingRef}`]);
  return out.split('\0').filter(Boolean);
}

export interface LocalCommit {
  sha: string;
  subject: string;
  files: string[];
}

/** Commits on HEAD not on the upstream, oldest first, with the files each touches. */
export async function localCommits(git: GitRunner, trackingRef: string): Promise<LocalCommit[]> {
  const out = await git.run(['log', '--reverse', '--no-renames', '--format=%x01%H%x00%s', '--name-only', '-z', `${trackingRef}..HEAD`]);
  const commits: LocalCommit[] = [];
  for (const chunk of out.split('\x01').filter(Boolean)) {
    const tokens = chunk.split(/[\0\n]/);
    const head = tokens[0] ?? '';
    const subject = tokens[1] ?? '';
    const files = tokens
      .slice(2)
      .map((t) => t.trim())
      .filter(Boolean);
    commits.push({ sha: head.trim(), subject, files });
  }
  return commits;
}

/** The content of `rev:path`, or undefined when the path does not exist there. */
export async function showFile(git: GitRunner, rev: string, relPath: string): Promise<string | undefined> {
  return git.probe(['cat-file', 'blob', `${rev}:${relPath}`]);
}
