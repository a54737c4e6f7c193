/**
 * Publishing one canary change as a pull request ('pull-request' mode of publishCanaryChange):
 * one commit changing only the model's config.yaml, made on the UPSTREAM head (not the user's
 * HEAD) and pushed as a new branch `canary/<env>-<model>-<percent|promote|rollback>` (then
 * `-2`, `-3`, … when the name is taken on the remote). The user's checkout is not touched:
 * the commit is built with a temporary index (`read-tree` + `update-index` + `write-tree` +
 * `commit-tree`), no local branch is made, HEAD, the index and the working tree stay as they
 * were; only remote-tracking refs move (the fetched upstream, the pushed branch).
 *
 * - One fetch brings the upstream head and this service's existing proposal branches.
 * - An open proposal branch that already holds exactly this change is reused (a re-run after
 *   an interruption pushes nothing new); the upstream already saying so gives changed:false.
 * - The push uses `--force-with-lease=<ref>:` (the branch must not exist), so a name taken
 *   meanwhile by someone else is never overwritten: the next free name is tried.
 * - The result names the branch and the forge's new-pull-request page (forge.ts), from the
 *   remote's configured URL (before insteadOf rewriting).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CanaryError } from './errors';
import { GitRunner } from './git';
import { showFile } from './gitstate';
import { applyCanaryAction, parseModelConfig } from './config';
import { proposalLink } from './forge';
import { checkCommittedSize, killSelf, openTarget, type Target } from './publish-target';
import { describeAction, renderCommitMessage } from './traffic';
import type { CanaryAction } from './types';
import type { PublishOptions, PublishResult } from './publish';

/** Where proposals go: the remote and the branch they are for. */
export interface ProposalBase {
  remote: string;
  /** Branch name on the remote, e.g. main. */
  base: string;
  /** Local remote-tracking ref of it, e.g. refs/remotes/origin/main. */
  trackingRef: string;
}

/** The branch-name stem of a change: canary/test-jukebox-35, canary/test-jukebox-promote. */
export function proposalStem(env: string, model: string, action: CanaryAction): string {
  const what = action.kind === 'set' ? String(action.percent) : action.kind;
  return `canary/${env}-${model}-${what}`;
}

/** The prefix every proposal branch of one service has on the remote (refs/heads/…). */
export function proposalPrefix(env: string, model: string): string {
  return `canary/${env}-${model}-`;
}

const SAFE_BRANCH = /^(?!-)(?!.*\.\.)(?!.*\/\/)(?!.*@\{)(?!.*\.lock$)(?!.*\/$)[A-Za-z0-9._/-]{1,200}$/;

function checkBranchName(what: string, name: string): string {
  if (!SAFE_BRANCH.test(name)) {
    throw new CanaryError(
      'invalid-input',
      'invalid-branch',
      `Invalid ${what} ${JSON.stringify(name).slice(0, 80)}: not a branch name git accepts here.`,
      'Use a plain branch name such as main.',
    );
  }
  return name;
}

/** The remote and base branch: options first, then the current branch's upstream, then origin (or the only remote) and its HEAD, else main. */
export async function resolveProposalBase(git: GitRunner, opts: Pick<PublishOptions, 'remote' | 'targetBranch'>): Promise<ProposalBase> {
  let remote = opts.remote;
  let base = opts.targetBranch;
  const current = (await git.probe(['symbolic-ref', '-q', '--short', 'HEAD']))?.trim();
  if (current && (!remote || !base)) {
    const out = await git.probe(['for-each-ref', '--format=%(upstream:remotename)%00%(upstream:remoteref)', `refs/heads/${current}`]);
    const [upRemote = '', upRef = ''] = (out ?? '').trim().split('\0');
    if (upRemote && upRemote !== '.' && upRef.startsWith('refs/heads/') && (!remote || remote === upRemote)) {
      remote ??= upRemote;
      base ??= upRef.slice('refs/heads/'.length);
    }
  }
  if (!remote) {
    const remotes = (await git.run(['remote']))
      .split('\n')
      .map((r) => r.trim())
      .filter(Boolean);
    remote = remotes.includes('origin') ? 'origin' : remotes.length === 1 ? remotes[0] : undefined;
    if (!remote) {
      throw new CanaryError(
        'git',
        remotes.length ? 'no-upstream' : 'no-remote',
        remotes.length
          ? `It is unclear which remote to propose the change on (${remotes.join(', ')}).`
          : 'This repository has no remote, so there is nowhere to push a pull-request branch.',
        remotes.length
          ? 'Set an upstream for your branch (`git branch --set-upstream-to <remote>/main`), then retry.'
          : 'Add the gitops remote (`git remote add origin <url>`), then retry.',
      );
    }
  }
  if (remote.startsWith('-') || /\s/.test(remote)) {
    throw new CanaryError(
      'git',
      'unsafe-remote',
      `The remote ${JSON.stringify(remote.slice(0, 80))} cannot be used as a git argument; refusing to run git with it.`,
      'Fix the remote name in .git/config, then retry.',
    );
  }
  if (!base) {
    const head = (await git.probe(['symbolic-ref', '-q', `refs/remotes/${remote}/HEAD`]))?.trim();
    const prefix = `refs/remotes/${remote}/`;
    base = head?.startsWith(prefix) ? head.slice(prefix.length) : 'main';
  }
  checkBranchName('target branch', base);
  return { remote, base, trackingRef: `refs/remotes/${remote}/${base}` };
}

/** One fetch: the base branch and this service's proposal branches (pruned: deleted ones disappear). */
export async function fetchProposals(git: GitRunner, where: ProposalBase, env: string, model: string): Promise<void> {
  const prefix = proposalPrefix(env, model);
  await git.run(
    [
      'fetch',
      '-v',
      '--no-tags',
      '--prune',
      where.remote,
      `+refs/heads/${where.base}:${where.trackingRef}`,
      `+refs/heads/${prefix}*:refs/remotes/${where.remote}/${prefix}*`,
    ],
    'fetch',
  );
}

/** This service's proposal branches as fetched: name (without refs/remotes/<remote>/) → commit. */
export async function fetchedProposalRefs(git: GitRunner, remote: string, env: string, model: string): Promise<Map<string, string>> {
  const base = `refs/remotes/${remote}/`;
  const out = await git.run(['for-each-ref', '--format=%(objectname) %(refname)', `${base}${proposalPrefix(env, model)}*`]);
  const refs = new Map<string, string>();
  for (const line of out.split('\n')) {
    const m = /^([0-9a-f]{40,64}) (.+)$/.exec(line.trim());
    if (m && m[2]!.startsWith(base)) refs.set(m[2]!.slice(base.length), m[1]!);
  }
  return refs;
}

/**
 * Whether `commit` is reachable from `tip`. (Not `merge-base --is-ancestor`: its answer is only
 * the exit status, which the runner does not report for a silent exit 1.)
 */
export async function isAncestor(git: GitRunner, commit: string, tip: string): Promise<boolean> {
  const out = await git.probe(['merge-base', commit, tip]);
  return out?.trim() === commit;
}

/** The first free name: stem, stem-2, stem-3, … */
export function freeName(stem: string, taken: ReadonlySet<string>): string {
  if (!taken.has(stem)) return stem;
  for (let n = 2; ; n++) if (!taken.has(`${stem}-${n}`)) return `${stem}-${n}`;
}

function isOurName(stem: string, name: string): boolean {
  return name === stem || new RegExp(`^${stem.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-\\d+$`).test(name);
}

/** Makes the commit (parent: the upstream head) with a temporary index; the user's index and worktree are not used. */
async function commitOnBase(t: Target, parent: string, text: string, message: string): Promise<string> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'ksc-proposal-'));
  try {
    const blobFile = path.join(tmp, 'config.yaml');
    await writeFile(blobFile, text);
    const idx = new GitRunner({ cwd: t.top, ...t.runnerOpts, indexFile: path.join(tmp, 'index') });
    const ls = await t.git.run(['ls-tree', '-z', parent, '--', t.rel]);
    const mode = /^(100644|100755) blob /.exec(ls)?.[1] ?? '100644';
    const blob = (await t.git.run(['hash-object', '-w', '--no-filters', '--', blobFile])).trim();
    await idx.run(['read-tree', parent]);
    await idx.run(['update-index', '--add', '--cacheinfo', `${mode},${blob},${t.rel}`]);
    const tree = (await idx.run(['write-tree'])).trim();
    return (await t.git.run(['commit-tree', tree, '-p', parent, '-m', message])).trim();
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

export async function proposeCanaryChange(opts: PublishOptions): Promise<PublishResult> {
  const t = await openTarget(opts);
  const { git, rel, env, model } = t;
  const steps: string[] = [];
  const step = (line: string) => {
    steps.push(line);
    t.log(line);
  };
  const current = (await git.probe(['symbolic-ref', '-q', '--short', 'HEAD']))?.trim() ?? '';
  const where = await resolveProposalBase(git, opts);
  const short = `${where.remote}/${where.base}`;
  await fetchProposals(git, where, env, model);
  const parent = (await git.probe(['rev-parse', '--verify', '-q', `${where.trackingRef}^{commit}`]))?.trim();
  if (!parent) {
    throw new CanaryError(
      'git',
      'no-upstream',
      `The remote ${where.remote} has no branch ${where.base} to propose the change into.`,
      'Pass the branch the environment deploys from (targetBranch), or push it first.',
    );
  }
  const upText = await showFile(git, parent, rel);
  if (upText === undefined) {
    throw new CanaryError(
      'not-found',
      'not-on-upstream',
      `${rel} does not exist on ${short}, so there is nothing to propose a change to.`,
      `Check that ${env}/${model} is on ${short} (\`git fetch\` and \`git log ${short} -- ${rel}\`).`,
    );
  }
  checkCommittedSize(upText, rel, short);
  const next = applyCanaryAction(upText, opts.action, t.file);
  const before = parseModelConfig(upText, t.file, env, model);
  const after = parseModelConfig(next.text, t.file, env, model);
  const message = opts.message?.trim() ? opts.message.trim() : renderCommitMessage(opts.messageTemplate, opts.action, { model, env });
  const base = { branch: current, remote: where.remote, file: t.file, message, before, after, steps, mode: 'pull-request' as const };
  if (!next.changed) {
    step(`${short} already says so (${describeAction(opts.action)}): nothing to propose`);
    return { ...base, changed: false, sha: parent, pushed: false };
  }
  const remoteUrl = (await git.probe(['config', '--get', `remote.${where.remote}.url`]))?.trim();
  const link = (branch: string) => ({ branch, base: where.base, ...proposalLink(remoteUrl, branch, where.base, opts.forgeHosts) });

  // Re-run: an open proposal of this service that already holds exactly this content.
  const stem = proposalStem(env, model, opts.action);
  const existing = await fetchedProposalRefs(git, where.remote, env, model);
  for (const [name, sha] of existing) {
    if (!isOurName(stem, name) || (await showFile(git, sha, rel)) !== next.text) continue;
    if (await isAncestor(git, sha, parent)) continue;
    step(`${name} on ${where.remote} already proposes this change: nothing new pushed`);
    return { ...base, changed: true, sha, pushed: false, proposal: link(name) };
  }

  if (opts.signal?.aborted) throw new CanaryError('git', 'aborted', 'Cancelled: nothing was changed.', 'Run the command again when you are ready.');
  const sha = await commitOnBase(t, parent, next.text, message);
  step(`committed ${rel} on top of ${short} (${sha.slice(0, 7)}): "${message}"`);
  if (t.fault === 'after-commit') killSelf();
  const taken = new Set(existing.keys());
  for (let attempt = 1; ; attempt++) {
    const name = freeName(stem, taken);
    await opts.beforePush?.(attempt);
    if (opts.signal?.aborted)
      throw new CanaryError(
        'git',
        'aborted',
        `Cancelled before pushing: commit ${sha.slice(0, 7)} was made but nothing was pushed; your branch and files are as they were.`,
        'Run the command again when you are ready.',
      );
    try {
      await git.run(['push', '--porcelain', `--force-with-lease=refs/heads/${name}:`, where.remote, `${sha}:refs/heads/${name}`], 'push');
    } catch (e) {
      if (!(e instanceof CanaryError) || e.code !== 'push-rejected' || attempt >= 5) {
        throw e instanceof CanaryError
          ? new CanaryError(e.kind, e.code, `${e.message} Nothing was pushed; your branch and files are as they were.`, e.hint, { cause: e })
          : e;
      }
      taken.add(name);
      step(`${name} was taken on ${where.remote} meanwhile: trying the next name`);
      continue;
    }
    // A clone with a narrow fetch refspec gets no tracking ref from the push: make it, for listProposals.
    await git.run(['update-ref', `refs/remotes/${where.remote}/${name}`, sha]);
    step(`pushed ${name} to ${where.remote} for a pull request into ${where.base}`);
    return { ...base, changed: true, sha, pushed: true, proposal: link(name) };
  }
}
