/**
 * Publishing one canary change: pull (rebase), edit config.yaml, commit only that file,
 * push to the upstream. Safe by construction:
 *
 * - Names are validated before anything touches the disk.
 * - A busy repository (index.lock, rebase/merge in progress), a detached HEAD or a
 *   missing upstream are refused before anything changes.
 * - The user's other uncommitted work is never committed, stashed away or rewritten:
 *   incoming commits that touch a dirty (or untracked) file are refused up front with
 *   the list of files; otherwise the fast-forward (or rebase of earlier local commits)
 *   leaves those files alone, and after a rebase with --autostash the staged/unstaged
 *   split is restored from the index object names recorded before and the worktree
 *   bytes are verified.
 * - The target config.yaml dirty with anything but exactly this change is refused
 *   (a half-edit is never committed). Dirty with exactly this change (an interrupted
 *   earlier run) is finished.
 * - Only the one file is committed (`git commit --only -- <file>`), never `git add .`.
 * - Push rejected: fetch; when our commit is the only local one and the remote did not
 *   touch this model's canary, re-apply the edit semantically onto the new upstream
 *   (so a CI commit changing `version`, even on the adjacent line, and ours both land)
 *   and push once more; when the remote changed the same canary, take our commit back
 *   and say so.
 * - Re-running after an interruption finishes the job: already at the value and pushed
 *   gives changed:false; committed but not pushed gets pushed; edited but not committed
 *   gets committed and pushed.
 *
 * - Cancelling (opts.signal) stops at the next safe point and loses nothing: a network
 *   operation (fetch, push) is stopped at once, a local git command is never killed half-way.
 *   Before the commit the edit is undone; after it the commit is taken back (the file as it
 *   was, the user's other work untouched); while pushing the commit stays local and the
 *   message says the remote may have it (a re-run finishes or finds it there). The error is a
 *   CanaryError with code 'aborted' saying which of these happened.
 *
 * Test-only fault injection: KSC_FAULT_KILL_AT=after-edit|after-commit|during-push in
 * the environment makes the process SIGKILL itself at that point (used by
 * test/core/publish-faults.test.ts to prove a re-run recovers). Read only here.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CanaryError } from './errors';
import type { GitRunner } from './git';
import {
  aheadBehind, branchSha, checkNotBusy, fetchUpstream, incomingFiles, localCommits, readStatus, readUpstream, showFile,
  type RepoStatus, type StatusEntry, type Upstream,
} from './gitstate';
import { DEFAULT_DEPLOYMENTS_DIR, modelConfigPath } from './layout';
import { applyCanaryAction, editModelConfig, parseModelConfig } from './config';
import { describeAction, renderCommitMessage } from './traffic';
import { writeFileAtomic } from './fsutil';
import { checkCommittedSize, killSelf, openTarget, sameCanary, toPosix } from './publish-target';
import { proposeCanaryChange } from './proposal';
import type { CanaryAction, ModelConfig } from './types';

/**
 * How a change is published: 'push' commits on the current branch and pushes it to its
 * upstream; 'commit' commits only; 'pull-request' leaves the user's branch alone and pushes a
 * new branch made from the upstream head, for a pull request (see proposal.ts).
 */
export type PublishMode = 'push' | 'commit' | 'pull-request';

/** The branch a 'pull-request' publish pushed, and where to open the pull request for it. */
export interface ProposalInfo {
  /** e.g. canary/test-jukebox-35 (on the remote; no local branch is made). */
  branch: string;
  /** The branch it is for (the upstream it was made from), e.g. main. */
  base?: string;
  /** The forge's new-pull-request page; absent for an unknown forge. */
  url?: string;
  forge?: string;
  /** One line when there is no URL (unknown forge). */
  hint?: string;
}

export interface PublishOptions {
  root: string;
  env: string;
  model: string;
  action: CanaryAction;
  /** Default 'push' (or 'commit' when push is false). Wins over push. */
  mode?: PublishMode;
  /** Default true; false = commit only. Kept for callers that predate mode. */
  push?: boolean;
  /** pull-request: self-hosted forge hosts (host or host:port → 'github' | 'gitlab' | 'gitea' | 'forgejo' | 'bitbucket'). */
  forgeHosts?: Record<string, string>;
  /** pull-request: the branch to propose into (default: the current branch's upstream, else the remote's HEAD, else main). */
  targetBranch?: string;
  /** pull-request: the remote (default: the current branch's upstream remote, else origin or the only remote). */
  remote?: string;
  /** The whole commit message; wins over messageTemplate. */
  message?: string;
  messageTemplate?: string;
  deploymentsDir?: string;
  /** Per git network operation (fetch, push): stopped after this long without progress. Default 30000. */
  timeoutMs?: number;
  log?: (line: string) => void;
  signal?: AbortSignal;
  /** Environment for git (default process.env): GIT_ASKPASS etc. are taken from here. */
  processEnv?: NodeJS.ProcessEnv;
  /** Test hook: called right before each push attempt (1, 2). */
  beforePush?: (attempt: number) => Promise<void> | void;
}

export interface PublishResult {
  /** false: it already was so, nothing was committed. */
  changed: boolean;
  /** The commit that holds the change (HEAD after publishing). */
  sha: string;
  branch: string;
  remote: string | undefined;
  pushed: boolean;
  file: string;
  message: string;
  before: ModelConfig;
  after: ModelConfig;
  /** Human log of what happened ('rebased onto 3 new remote commits', 'push rejected, retried'). */
  steps: string[];
  /** The mode that was used. */
  mode: PublishMode;
  /**
   * pull-request mode: the pushed branch (also when an identical open proposal was found and
   * reused: then changed is true and pushed false). For pull-request, sha is the proposal's
   * commit and branch the user's branch (untouched), or '' on a detached HEAD.
   */
  proposal?: ProposalInfo;
}

/** The mode from the options (mode wins; push:false means commit). */
export function publishMode(opts: Pick<PublishOptions, 'mode' | 'push'>): PublishMode {
  if (opts.mode !== undefined) {
    if (opts.mode !== 'push' && opts.mode !== 'commit' && opts.mode !== 'pull-request') {
      throw new CanaryError('invalid-input', 'invalid-mode', `Unknown publish mode ${JSON.stringify(String(opts.mode)).slice(0, 40)}.`, "Use 'push', 'commit' or 'pull-request'.");
    }
    return opts.mode;
  }
  return opts.push === false ? 'commit' : 'push';
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** How far one publish got, for undoing it on cancellation. */
interface Progress {
  stage: 'start' | 'edited' | 'committed' | 'pushing';
  /** The edit was found already made by an earlier run: undoing keeps it in the worktree. */
  keepEdit: boolean;
  /** HEAD after our commit (stage committed/pushing). */
  sha?: string;
  ctx?: Ctx;
}

/** Context shared by the steps of one publish. */
interface Ctx {
  opts: PublishOptions;
  git: GitRunner;
  top: string;
  file: string;
  rel: string;
  /** Git directories a link must not lead into (checked again before each edit: a pull may bring a link). */
  gitDirs: string[];
  steps: string[];
  log: (line: string) => void;
  progress: Progress;
}

/** Thrown at a safe point once opts.signal is aborted; turned into the 'aborted' CanaryError. */
class Cancelled extends Error {}

function checkpoint(opts: PublishOptions): void {
  if (opts.signal?.aborted) throw new Cancelled('cancelled');
}

/** Undoes what this publish did so far (see the header) and returns the error to throw. */
async function cancelled(progress: Progress, cause: unknown): Promise<CanaryError> {
  const ctx = progress.ctx;
  const hint = 'Run the command again when you are ready.';
  if (!ctx || progress.stage === 'start') return new CanaryError('git', 'aborted', 'Cancelled: nothing was changed.', hint, { cause });
  const { git, rel } = ctx;
  try {
    if (progress.stage === 'edited') {
      if (progress.keepEdit) return new CanaryError('git', 'aborted', `Cancelled before committing: the edit of ${rel} found from an earlier run is left as it was, uncommitted; nothing was pushed.`, hint, { cause });
      await git.run(['checkout', '--', rel]);
      step(ctx, `cancelled: undid the edit of ${rel}`);
      return new CanaryError('git', 'aborted', `Cancelled before committing: the edit of ${rel} was undone; nothing was committed or pushed.`, hint, { cause });
    }
    if (progress.stage === 'committed') {
      await takeBack(ctx, progress);
      step(ctx, `cancelled: took back commit ${progress.sha?.slice(0, 7)}`);
      return new CanaryError('git', 'aborted', `Cancelled before pushing: the commit was taken back and ${rel} is as it was${progress.keepEdit ? ' (edited, uncommitted)' : ''}; nothing was pushed.`, hint, { cause });
    }
  } catch (e) {
    return new CanaryError('git', 'aborted',
      `Cancelled, but undoing what was done failed (${e instanceof Error ? e.message : String(e)}): ${progress.stage === 'committed' ? `commit ${progress.sha?.slice(0, 7)} is local, not pushed` : `${rel} is edited, not committed`}.`,
      'Running the same command again finishes it; `git status` shows the state.', { cause });
  }
  return new CanaryError('git', 'aborted',
    `Cancelled while pushing: ${progress.sha ? `commit ${progress.sha.slice(0, 7)} is` : 'your local commits are'} kept locally, and the remote may or may not have received ${progress.sha ? 'it' : 'them'}.`,
    'Run the same command again: it pushes the commit, or finds it already there.', { cause });
}

/** Takes our commit (HEAD) back: the branch as before, the file as before (or edited, uncommitted, when the edit was found made). */
async function takeBack(ctx: Ctx, progress: Progress): Promise<void> {
  const { git, rel } = ctx;
  const headNow = (await git.run(['rev-parse', 'HEAD'])).trim();
  if (headNow !== progress.sha) throw new Error(`HEAD moved to ${headNow.slice(0, 7)}`);
  await git.run(['reset', '--soft', 'HEAD~1']);
  await git.run(progress.keepEdit ? ['reset', '-q', 'HEAD', '--', rel] : ['checkout', 'HEAD', '--', rel]);
}

/**
 * The remote refused the push to a protected branch: our commit is taken back (the user's
 * branch and file as they were before the command; earlier unpushed commits stay), and the
 * error says so and names the pull-request path. Other errors pass through.
 */
async function protectedRefusal(ctx: Ctx, e: unknown, upstream: Upstream): Promise<unknown> {
  if (!(e instanceof CanaryError) || e.code !== 'protected-branch') return e;
  const { progress, rel } = ctx;
  let what = 'nothing was committed by this run';
  if (progress.sha) {
    try {
      await takeBack(ctx, progress);
      step(ctx, `push refused (protected branch): took back commit ${progress.sha.slice(0, 7)}`);
      what = `the commit was taken back and ${rel} is as it was${progress.keepEdit ? ' (edited, uncommitted)' : ''}`;
    } catch (undo) {
      what = `taking the commit back failed (${undo instanceof Error ? undo.message : String(undo)}): commit ${progress.sha.slice(0, 7)} is local, not pushed`;
    }
  }
  const cause = (e.cause instanceof CanaryError ? e.cause : e).message.replace(/ The change is committed locally but not pushed\.$/, '');
  return new CanaryError('git', 'protected-branch',
    `${upstream.short} is protected and takes changes only through pull requests. ${cause} Nothing was pushed; ${what}.`,
    'Publish this change as a pull request instead (pull-request mode: `--pull-request` on the command line): it pushes a new branch and gives the link to open the pull request.',
    { cause: e });
}

function step(ctx: Ctx, line: string): void {
  ctx.steps.push(line);
  ctx.log(line);
}

export async function publishCanaryChange(opts: PublishOptions): Promise<PublishResult> {
  const progress: Progress = { stage: 'start', keepEdit: false };
  try {
    checkpoint(opts);
    if (publishMode(opts) === 'pull-request') return await proposeCanaryChange(opts);
    return await publishSteps(opts, progress);
  } catch (e) {
    const cancel = e instanceof Cancelled || (opts.signal?.aborted && e instanceof CanaryError && e.code === 'aborted');
    if (!cancel) throw e;
    throw await cancelled(progress, e);
  }
}

async function publishSteps(opts: PublishOptions, progress: Progress): Promise<PublishResult> {
  const mode = publishMode(opts);
  const push = mode === 'push';
  const { env, model, deploymentsDir, fault, log, info, git, top, file, rel, gitDirs } = await openTarget(opts);
  checkNotBusy(info.gitDir);
  const ctx: Ctx = { opts, git, top, file, rel, gitDirs, steps: [], log, progress };
  progress.ctx = ctx;

  const status = await readStatus(git);
  if (!status.branch) {
    throw new CanaryError('git', 'detached-head', 'HEAD is detached (not on a branch), so there is no branch to commit to and push.',
      'Check out the branch you deploy from (e.g. `git switch main`), then run the command again.');
  }
  if (!status.oid) {
    throw new CanaryError('git', 'no-commits', `Branch ${status.branch} has no commits yet.`, 'Clone the gitops repository (or pull it) before changing a model.');
  }
  const unmerged = status.entries.filter((e) => e.kind === 'unmerged');
  if (unmerged.length) {
    throw new CanaryError('git', 'unmerged-files', `The repository has unresolved conflicts in ${unmerged.map((e) => e.path).join(', ')}.`,
      'Resolve them (`git status` lists them) and commit, then run the command again.');
  }
  const branch = status.branch;
  const upstream = push ? await readUpstream(git, branch) : undefined;

  // The target file: dirty with exactly this change (an interrupted run) or refused.
  let pending = await pendingEdit(ctx, status);

  let localAhead = 0;
  if (upstream) {
    const updated = await fetchUpstream(git, upstream, info.gitDir);
    const ab = !updated && status.ab ? status.ab : await aheadBehind(git, upstream.trackingRef);
    localAhead = ab.ahead;
    if (ab.ahead > 0) await checkLocalCommits(ctx, upstream, deploymentsDir);
    if (ab.behind > 0) {
      const restored = await integrate(ctx, status, upstream, ab, pending);
      if (restored) pending = undefined;
    }
  }

  // The edit itself.
  checkpoint(opts);
  let changed: boolean;
  let before: ModelConfig;
  let after: ModelConfig;
  if (pending) {
    changed = true;
    before = pending.before;
    after = pending.after;
    step(ctx, `found this change already made in ${rel} but not committed: finishing it`);
    Object.assign(progress, { stage: 'edited', keepEdit: true });
  } else {
    modelConfigPath(opts.root, env, model, deploymentsDir, { gitDirs: ctx.gitDirs });
    const edit = await editModelConfig(opts.root, env, model, opts.action, { deploymentsDir });
    changed = edit.changed;
    before = edit.before;
    after = edit.after;
    step(ctx, changed ? `edited ${rel}: ${describeAction(opts.action)}` : `${rel} already says so: nothing to change`);
    if (changed) progress.stage = 'edited';
  }
  if (fault === 'after-edit' && changed) killSelf();
  checkpoint(opts);

  const message = opts.message?.trim() ? opts.message.trim() : renderCommitMessage(opts.messageTemplate, opts.action, { model, env });
  if (changed) {
    await commitOnly(ctx, message);
    if (fault === 'after-commit') killSelf();
  }
  let sha = await branchSha(git, info.gitDir, branch);

  let pushed = false;
  if (upstream && (changed || localAhead > 0)) {
    if (!changed) step(ctx, `pushing ${plural(localAhead, 'earlier local commit')} not yet on ${upstream.short}`);
    const again = await pushWithRetry(ctx, upstream, message, localAhead, changed).catch(async (e: unknown) => {
      throw await protectedRefusal(ctx, e, upstream);
    });
    if (again) {
      changed = again.changed;
      after = again.after ?? after;
    }
    pushed = again ? again.pushed : true;
    sha = await branchSha(git, info.gitDir, branch);
  } else if (upstream) {
    step(ctx, `${upstream.short} already has it`);
  }

  return { changed, sha, branch, remote: upstream?.remote, pushed, file, message, before, after, steps: ctx.steps, mode };
}

interface Pending {
  before: ModelConfig;
  after: ModelConfig;
  headText: string;
}

/**
 * When the target file is dirty: if its content is exactly HEAD's content with this
 * action applied, it is ours (an interrupted run) and is finished; otherwise refuse.
 */
async function pendingEdit(ctx: Ctx, status: RepoStatus): Promise<Pending | undefined> {
  const entry = status.entries.find((e) => e.path === ctx.rel && e.kind !== 'ignored');
  if (!entry) return undefined;
  const { opts, rel } = ctx;
  const refuse = (why: string) => new CanaryError('git', 'target-dirty',
    `${rel} has uncommitted changes (${why}); they are left as they are and nothing was committed.`,
    `Commit or discard your edit of ${rel} first (\`git diff -- ${rel}\` shows it), then run the command again.`);
  if (entry.kind === 'untracked') throw refuse('the file is not committed yet');
  const headText = await showFile(ctx.git, 'HEAD', rel);
  if (headText === undefined) throw refuse('the file is new');
  checkCommittedSize(headText, rel, 'HEAD');
  const current = await readFile(ctx.file, 'utf8').catch(() => undefined);
  if (current === undefined) throw refuse('the file was deleted');
  let intended: string;
  try {
    intended = applyCanaryAction(headText, opts.action, ctx.file).text;
  } catch {
    throw refuse('and the committed version cannot be edited');
  }
  if (intended !== current) throw refuse('they are not this change');
  return {
    headText,
    before: parseModelConfig(headText, ctx.file, opts.env, opts.model),
    after: parseModelConfig(current, ctx.file, opts.env, opts.model),
  };
}

/**
 * Unpushed local commits get pushed with ours, so only commits that each change one
 * model config (earlier kserve-canary runs with --no-push, or an interrupted run) are
 * accepted; anything else is refused rather than published by surprise.
 */
async function checkLocalCommits(ctx: Ctx, upstream: Upstream, deploymentsDir: string): Promise<void> {
  const commits = await localCommits(ctx.git, upstream.trackingRef);
  const prefix = toPosix(path.relative(ctx.top, path.join(ctx.opts.root, deploymentsDir)));
  const isConfig = (f: string) => {
    const parts = f.split('/');
    const base = prefix === '' ? [] : prefix.split('/');
    return parts.length === base.length + 3 && base.every((b, i) => parts[i] === b) && parts[parts.length - 1] === 'config.yaml';
  };
  const foreign = commits.filter((c) => c.files.length !== 1 || !isConfig(c.files[0]!));
  if (foreign.length) {
    const list = foreign.slice(0, 3).map((c) => `${c.sha.slice(0, 7)} "${c.subject}"`).join(', ');
    throw new CanaryError('git', 'unpushed-commits',
      `Branch has ${plural(foreign.length, 'unpushed commit')} that ${foreign.length === 1 ? 'is' : 'are'} not a model config change (${list}${foreign.length > 3 ? ', ...' : ''}); pushing would publish ${foreign.length === 1 ? 'it' : 'them'} too, so nothing was changed.`,
      `Push or drop ${foreign.length === 1 ? 'that commit' : 'those commits'} first (\`git log ${upstream.short}..HEAD\`), or use --no-push to commit only.`);
  }
}

function dirtyPaths(status: RepoStatus, exclude: string | undefined): StatusEntry[] {
  return status.entries.filter((e) => e.kind !== 'ignored' && e.path !== exclude);
}

/**
 * Brings the branch up to date with the upstream without touching the user's other
 * uncommitted work. Returns true when a pending edit of the target was reverted (it is
 * re-applied on the new content afterwards).
 */
async function integrate(ctx: Ctx, status: RepoStatus, upstream: Upstream, ab: { ahead: number; behind: number }, pending: Pending | undefined): Promise<boolean> {
  const { git } = ctx;
  const incoming = new Set(await incomingFiles(git, upstream.trackingRef));
  const dirty = dirtyPaths(status, pending ? ctx.rel : undefined);
  const clash = dirty.filter((e) => incoming.has(e.path));
  if (clash.length) {
    const names = clash.map((e) => e.path);
    throw new CanaryError('git', 'dirty-overlap',
      `${upstream.short} has new commits that change ${names.join(', ')}, which you have uncommitted changes to; nothing was changed.`,
      `Commit or stash your changes to ${names.length === 1 ? 'that file' : 'those files'}, pull (\`git pull --rebase\`), then run the command again.`);
  }
  let reverted = false;
  if (pending && incoming.has(ctx.rel)) {
    // Our own unfinished edit: put the committed content back; the edit is re-applied after the pull.
    await writeFileAtomic(ctx.file, pending.headText);
    reverted = true;
    step(ctx, `set aside the unfinished edit of ${ctx.rel} to pull first`);
  }
  if (ab.ahead === 0) {
    await git.run(['merge', '--ff-only', '--no-edit', upstream.trackingRef]);
    step(ctx, `pulled ${plural(ab.behind, 'new commit')} from ${upstream.short}`);
  } else {
    await rebaseKeepingWork(ctx, status, upstream, reverted ? undefined : pending ? ctx.rel : undefined);
    step(ctx, `rebased ${plural(ab.ahead, 'local commit')} onto ${plural(ab.behind, 'new remote commit')} from ${upstream.short}`);
  }
  return reverted;
}

/**
 * `git rebase <upstream>` that leaves uncommitted work exactly as it was: with tracked
 * dirty files it uses --autostash (safe: no incoming commit touches them, checked by the
 * caller), then restores the index entries that were staged and verifies the bytes of
 * every dirty file. On a conflict the rebase is aborted and a 'conflict' error thrown.
 */
async function rebaseKeepingWork(ctx: Ctx, status: RepoStatus, upstream: Upstream, alsoDirty: string | undefined): Promise<void> {
  const { git } = ctx;
  const tracked = status.entries.filter((e) => (e.kind === 'changed' || e.kind === 'renamed') && (e.path !== ctx.rel || alsoDirty));
  const hashes = tracked.length ? await hashWorktree(ctx, tracked.map((e) => e.path)) : [];
  const staged = tracked.filter((e) => e.kind === 'changed' && e.xy[0] !== '.' && e.indexOid && e.indexMode && e.indexOid !== e.headOid);
  try {
    await git.run(['rebase', ...(tracked.length ? ['--autostash'] : []), upstream.trackingRef]);
  } catch (e) {
    const detail = await conflictFiles(ctx);
    await git.probe(['rebase', '--abort']);
    throw new CanaryError('git', 'conflict',
      `Your unpushed local commits conflict with new commits on ${upstream.short}${detail ? ` in ${detail}` : ''}; the rebase was aborted and the repository is as it was (your local commits are still there, not pushed).`,
      `Run \`git pull --rebase\`, resolve the conflict, then run the command again.`, { cause: e });
  }
  if (staged.length) {
    await git.run(['update-index', ...staged.flatMap((e) => ['--cacheinfo', `${e.indexMode},${e.indexOid},${e.path}`])]);
  }
  if (tracked.length) {
    const after = await hashWorktree(ctx, tracked.map((e) => e.path));
    const changedFiles = tracked.filter((_e, i) => hashes[i] !== after[i]).map((e) => e.path);
    if (changedFiles.length) {
      throw new CanaryError('git', 'worktree-changed',
        `After pulling, your uncommitted changes to ${changedFiles.join(', ')} are not byte-identical to before; stopped before committing anything.`,
        'Check `git stash list` (git keeps an autostash entry when it cannot re-apply it) and `git diff`, then run the command again.');
    }
  }
}

async function conflictFiles(ctx: Ctx): Promise<string> {
  const out = await ctx.git.probe(['diff', '--name-only', '--diff-filter=U', '-z']);
  return (out ?? '').split('\0').filter(Boolean).join(', ');
}

async function hashWorktree(ctx: Ctx, paths: string[]): Promise<string[]> {
  const present = await Promise.all(paths.map((p) => readFile(path.join(ctx.top, p)).then(() => true, () => false)));
  const out = await ctx.git.run(['hash-object', '--no-filters', '--', ...paths.filter((_p, i) => present[i])]);
  const list = out.split('\n').filter(Boolean);
  let j = 0;
  return present.map((ok) => (ok ? list[j++]! : 'missing'));
}

/** Commits the one file, whatever else is staged or dirty. */
async function commitOnly(ctx: Ctx, message: string): Promise<void> {
  // Not --quiet: the summary line also keeps simple-git from waiting on a silent process.
  await ctx.git.run(['commit', '--only', '-m', message, '--', ctx.rel]);
  Object.assign(ctx.progress, { stage: 'committed', sha: (await ctx.git.run(['rev-parse', 'HEAD'])).trim() });
  step(ctx, `committed ${ctx.rel}: "${message}"`);
}

interface RetryOutcome {
  changed: boolean;
  pushed: boolean;
  after?: ModelConfig;
}

/**
 * Pushes HEAD to the upstream. On a rejection (the remote moved): fetch, bring our commit
 * onto the new upstream (semantically when it is the only local commit), push once more.
 */
async function pushWithRetry(ctx: Ctx, upstream: Upstream, message: string, aheadBeforeCommit: number, committed: boolean): Promise<RetryOutcome | undefined> {
  const { git, opts } = ctx;
  const pushOnce = async (attempt: number) => {
    await opts.beforePush?.(attempt);
    checkpoint(opts);
    const stageBefore = ctx.progress.stage;
    ctx.progress.stage = 'pushing';
    try {
      await git.run(['push', '--porcelain', upstream.remote, `HEAD:${upstream.remoteRef}`], 'push');
    } catch (e) {
      // rejected: the remote does not have it
      if (e instanceof CanaryError && e.code === 'push-rejected') ctx.progress.stage = stageBefore;
      throw e;
    }
    step(ctx, `pushed to ${upstream.short}`);
  };
  try {
    await pushOnce(1);
    return undefined;
  } catch (e) {
    if (!(e instanceof CanaryError) || e.code !== 'push-rejected') throw notPushed(e, committed);
  }
  step(ctx, 'push rejected: the remote has new commits; fetching and retrying once');
  await fetchUpstream(git, upstream);
  checkpoint(opts);
  const status = await readStatus(git);
  let outcome: RetryOutcome = { changed: committed, pushed: true };
  if (committed && aheadBeforeCommit === 0) {
    outcome = await reapplyOnUpstream(ctx, status, upstream, message);
    if (!outcome.pushed) return outcome;
  } else {
    const ab = await aheadBehind(git, upstream.trackingRef);
    await refuseOverlapAfterCommit(ctx, status, upstream);
    await rebaseKeepingWork(ctx, status, upstream, undefined);
    step(ctx, `rebased ${plural(ab.ahead, 'local commit')} onto ${plural(ab.behind, 'new remote commit')}`);
  }
  try {
    await pushOnce(2);
  } catch (e) {
    throw notPushed(e, true);
  }
  return outcome;
}

/** After our commit: refuse when incoming commits touch files the user has uncommitted changes to. */
async function refuseOverlapAfterCommit(ctx: Ctx, status: RepoStatus, upstream: Upstream): Promise<Set<string>> {
  const incoming = new Set(await incomingFiles(ctx.git, upstream.trackingRef));
  const clash = dirtyPaths(status, undefined).filter((d) => incoming.has(d.path));
  if (clash.length) {
    throw new CanaryError('git', 'dirty-overlap',
      `The change is committed locally but not pushed: ${upstream.short} has new commits changing ${clash.map((c) => c.path).join(', ')}, which you have uncommitted changes to.`,
      'Commit or stash those changes, then run the command again: it pushes the commit.');
  }
  return incoming;
}

function notPushed(e: unknown, committed: boolean): unknown {
  if (!(e instanceof CanaryError) || !committed) return e;
  return new CanaryError(e.kind, e.code, `${e.message} The change is committed locally but not pushed.`,
    `${e.hint ?? 'Fix the cause'}; running the same command again pushes the local commit.`, { cause: e });
}

/**
 * Our commit is the only local one: take it back (`reset --keep`, which refuses to touch
 * dirty files), fast-forward to the upstream, and apply the same action to the new
 * content, unless the upstream changed this model's canary itself (then: conflict).
 */
async function reapplyOnUpstream(ctx: Ctx, status: RepoStatus, upstream: Upstream, message: string): Promise<RetryOutcome> {
  const { git, opts, rel } = ctx;
  const baseText = await showFile(git, 'HEAD~1', rel);
  const upText = await showFile(git, upstream.trackingRef, rel);
  if (upText === undefined) {
    await git.run(['reset', '--keep', 'HEAD~1']);
    throw new CanaryError('git', 'conflict', `${rel} was deleted on ${upstream.short} meanwhile; your change was taken back and nothing was pushed.`,
      'Pull (`git pull --rebase`) to see what happened, then run the command again if the model still exists.');
  }
  const base = parseModelConfig(baseText ?? '', ctx.file, opts.env, opts.model);
  let up: ModelConfig;
  try {
    checkCommittedSize(upText, rel, upstream.short);
    up = parseModelConfig(upText, ctx.file, opts.env, opts.model);
  } catch (e) {
    await git.run(['reset', '--keep', 'HEAD~1']);
    throw e;
  }
  if (!sameCanary(base.canary, up.canary)) {
    await git.run(['reset', '--keep', 'HEAD~1']);
    const now = up.desiredPercent === undefined ? 'no canary (100% to the latest revision)' : `${up.desiredPercent}%`;
    throw new CanaryError('git', 'conflict',
      `Someone else changed the canary of ${opts.model} in ${opts.env} on ${upstream.short} meanwhile (it is now ${now}); your change (${describeAction(opts.action)}) was taken back, nothing was pushed, and your working tree is as it was.`,
      `Pull (\`git pull --rebase\`) and look at the new value; run the command again if you still want ${describeAction(opts.action)}.`);
  }
  const incoming = await refuseOverlapAfterCommit(ctx, status, upstream);
  await git.run(['reset', '--keep', 'HEAD~1']);
  await git.run(['merge', '--ff-only', '--no-edit', upstream.trackingRef]);
  const deploymentsDir = opts.deploymentsDir ?? DEFAULT_DEPLOYMENTS_DIR;
  modelConfigPath(opts.root, opts.env, opts.model, deploymentsDir, { gitDirs: ctx.gitDirs });
  const edit = await editModelConfig(opts.root, opts.env, opts.model, opts.action, { deploymentsDir });
  step(ctx, incoming.has(rel)
    ? `re-applied the change on top of ${upstream.short}, which changed ${rel} elsewhere meanwhile`
    : `re-applied the change on top of ${upstream.short}`);
  if (!edit.changed) {
    step(ctx, `${upstream.short} already has it`);
    return { changed: false, pushed: false, after: edit.after };
  }
  ctx.progress.keepEdit = false;
  await commitOnly(ctx, message);
  return { changed: true, pushed: true, after: edit.after };
}
