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
 *
 * This file owns the options, the result and the order of the steps; the steps live in
 * publish-target.ts (set-up), publish-pull.ts (before the edit), publish-context.ts (state,
 * cancellation, commit) and publish-push.ts (push and retry).
 */
import { CanaryError } from './errors';
import {
  aheadBehind,
  branchSha,
  checkNotBusy,
  fetchUpstream,
  headBranchFromFile,
  readStatus,
  readUpstream,
  upstreamQuery,
  type RepoStatus,
  type Upstream,
} from './gitstate';
import { upstreamFromConfig } from './gitconfig';
import { GitRunner } from './git';
import { draftModelEdit, editModelConfig, type EditDraft } from './config';
import { modelConfigPath } from './layout';
import { describeAction, renderCommitMessage } from './traffic';
import { killSelf, openTarget, type Target } from './publish-target';
import { proposeCanaryChange } from './proposal';
import { Cancelled, cancelled, checkpoint, commitOnly, plural, protectedRefusal, step, type Ctx, type Progress } from './publish-context';
import { checkLocalCommits, integrate, pendingEdit } from './publish-pull';
import { pushWithRetry } from './publish-push';
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
      throw new CanaryError(
        'invalid-input',
        'invalid-mode',
        `Unknown publish mode ${JSON.stringify(String(opts.mode)).slice(0, 40)}.`,
        "Use 'push', 'commit' or 'pull-request'.",
      );
    }
    return opts.mode;
  }
  return opts.push === false ? 'commit' : 'push';
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
  const target = await openTarget(opts);
  const { env, model, deploymentsDir, log, info, git, top, file, rel, gitDirs } = target;
  checkNotBusy(info.gitDir);
  const ctx: Ctx = { opts, git, top, file, rel, gitDirs, steps: [], log, progress };
  progress.ctx = ctx;

  // While git works, three things run at once: `git status`; the fetch of the upstream that
  // .git/config names (checked against the one status reports below), or else git's own answer
  // for the upstream (for-each-ref); and, in this process, the edit worked out in memory.
  const guess = push ? headBranchFromFile(info.gitDir) : undefined;
  const early = guess ? earlyUpstream(target, guess) : undefined;
  const statusRead = readStatus(git);
  statusRead.catch(() => undefined);
  const draft = tryDraft(() => draftModelEdit(opts.root, env, model, opts.action, { deploymentsDir }));
  try {
    return await afterStatus(ctx, target, await statusRead, early, draft);
  } catch (e) {
    await early?.stop();
    throw e;
  }
}

/** What publishSteps started beside `git status` to learn the upstream (see earlyUpstream). */
interface EarlyUpstream {
  /** The branch HEAD named when it started. */
  branch: string;
  /** The fetch of the upstream .git/config names, when it names one git would read the same. */
  fetch?: { upstream: Upstream; updated: Promise<boolean> };
  /** Else git's answer (for-each-ref). */
  query?: Promise<string>;
  /** Stops the early fetch (a network operation: stopped at once) and waits for it. */
  stop(): Promise<void>;
}

function earlyUpstream(target: Target, branch: string): EarlyUpstream {
  const guessed = upstreamFromConfig(target.info.gitDir, branch);
  if (!guessed) {
    const query = upstreamQuery(target.git, branch);
    query.catch(() => undefined);
    return { branch, query, stop: () => query.then(noop, noop) };
  }
  const abort = new AbortController();
  const signal = target.runnerOpts.signal ? AbortSignal.any([target.runnerOpts.signal, abort.signal]) : abort.signal;
  const runner = new GitRunner({ cwd: target.top, ...target.runnerOpts, signal });
  const updated = fetchUpstream(runner, guessed, target.info.gitDir);
  updated.catch(() => undefined);
  return {
    branch,
    fetch: { upstream: guessed, updated },
    stop: () => {
      abort.abort();
      return updated.then(noop, noop);
    },
  };
}

const noop = () => undefined;

/** The draft, or undefined when it fails: the edit itself then fails the same way, in its turn. */
function tryDraft(make: () => EditDraft): EditDraft | undefined {
  try {
    return make();
  } catch {
    return undefined;
  }
}

/** The rest of publishSteps, once `git status` answered. */
async function afterStatus(
  ctx: Ctx,
  target: Target,
  status: RepoStatus,
  early: EarlyUpstream | undefined,
  draft: EditDraft | undefined,
): Promise<PublishResult> {
  const { opts, progress } = ctx;
  const { env, model, deploymentsDir, fault, info, git, file, rel } = target;
  const mode = publishMode(opts);
  const push = mode === 'push';
  if (!status.branch) {
    throw new CanaryError(
      'git',
      'detached-head',
      'HEAD is detached (not on a branch), so there is no branch to commit to and push.',
      'Check out the branch you deploy from (e.g. `git switch main`), then run the command again.',
    );
  }
  if (!status.oid) {
    throw new CanaryError(
      'git',
      'no-commits',
      `Branch ${status.branch} has no commits yet.`,
      'Clone the gitops repository (or pull it) before changing a model.',
    );
  }
  const unmerged = status.entries.filter((e) => e.kind === 'unmerged');
  if (unmerged.length) {
    throw new CanaryError(
      'git',
      'unmerged-files',
      `The repository has unresolved conflicts in ${unmerged.map((e) => e.path).join(', ')}.`,
      'Resolve them (`git status` lists them) and commit, then run the command again.',
    );
  }
  const branch = status.branch;
  let upstream: Upstream | undefined;
  let fetched: Promise<boolean> | undefined;
  const guessed = early?.branch === branch ? early.fetch : undefined;
  if (push && guessed && status.upstream === guessed.upstream.short) {
    upstream = guessed.upstream;
    fetched = guessed.updated;
  } else if (push) {
    // .git/config and git disagree (or .git/config was not plain): git's answer, and a fetch of it.
    if (early?.fetch) await early.stop();
    upstream = await readUpstream(git, branch, early?.branch === branch ? early.query : undefined);
  }

  // The target file: dirty with exactly this change (an interrupted run) or refused.
  let pending = await pendingEdit(ctx, status);

  let localAhead = 0;
  if (upstream) {
    const updated = await (fetched ?? fetchUpstream(git, upstream, info.gitDir));
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
    const edit = await editModelConfig(opts.root, env, model, opts.action, { deploymentsDir, draft });
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
