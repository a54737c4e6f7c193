/**
 * The state one publish carries between its steps (Ctx, Progress), the step log, and what
 * is undone when it stops early: cancellation at a safe point (opts.signal) and a push
 * refused by a protected branch take our commit or edit back. Also the one-file commit.
 */
import type { GitRunner } from './git';
import { CanaryError } from './errors';
import { branchSha, headBranchFromFile, type Upstream } from './gitstate';
import type { PublishOptions } from './publish';

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** How far one publish got, for undoing it on cancellation. */
export interface Progress {
  stage: 'start' | 'edited' | 'committed' | 'pushing';
  /** The edit was found already made by an earlier run: undoing keeps it in the worktree. */
  keepEdit: boolean;
  /** HEAD after our commit (stage committed/pushing). */
  sha?: string;
  ctx?: Ctx;
}

/** Context shared by the steps of one publish. */
export interface Ctx {
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
export class Cancelled extends Error {}

export function checkpoint(opts: PublishOptions): void {
  if (opts.signal?.aborted) throw new Cancelled('cancelled');
}

/** Undoes what this publish did so far (see the header) and returns the error to throw. */
export async function cancelled(progress: Progress, cause: unknown): Promise<CanaryError> {
  const ctx = progress.ctx;
  const hint = 'Run the command again when you are ready.';
  if (!ctx || progress.stage === 'start') return new CanaryError('git', 'aborted', 'Cancelled: nothing was changed.', hint, { cause });
  const { git, rel } = ctx;
  try {
    if (progress.stage === 'edited') {
      if (progress.keepEdit)
        return new CanaryError(
          'git',
          'aborted',
          `Cancelled before committing: the edit of ${rel} found from an earlier run is left as it was, uncommitted; nothing was pushed.`,
          hint,
          { cause },
        );
      await git.run(['checkout', '--', rel]);
      step(ctx, `cancelled: undid the edit of ${rel}`);
      return new CanaryError('git', 'aborted', `Cancelled before committing: the edit of ${rel} was undone; nothing was committed or pushed.`, hint, { cause });
    }
    if (progress.stage === 'committed') {
      await takeBack(ctx, progress);
      step(ctx, `cancelled: took back commit ${progress.sha?.slice(0, 7)}`);
      return new CanaryError(
        'git',
        'aborted',
        `Cancelled before pushing: the commit was taken back and ${rel} is as it was${progress.keepEdit ? ' (edited, uncommitted)' : ''}; nothing was pushed.`,
        hint,
        { cause },
      );
    }
  } catch (e) {
    return new CanaryError(
      'git',
      'aborted',
      `Cancelled, but undoing what was done failed (${e instanceof Error ? e.message : String(e)}): ${progress.stage === 'committed' ? `commit ${progress.sha?.slice(0, 7)} is local, not pushed` : `${rel} is edited, not committed`}.`,
      'Running the same command again finishes it; `git status` shows the state.',
      { cause },
    );
  }
  return new CanaryError(
    'git',
    'aborted',
    `Cancelled while pushing: ${progress.sha ? `commit ${progress.sha.slice(0, 7)} is` : 'your local commits are'} kept locally, and the remote may or may not have received ${progress.sha ? 'it' : 'them'}.`,
    'Run the same command again: it pushes the commit, or finds it already there.',
    { cause },
  );
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
export async function protectedRefusal(ctx: Ctx, e: unknown, upstream: Upstream): Promise<unknown> {
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
  return new CanaryError(
    'git',
    'protected-branch',
    `${upstream.short} is protected and takes changes only through pull requests. ${cause} Nothing was pushed; ${what}.`,
    'Publish this change as a pull request instead (pull-request mode: `--pull-request` on the command line): it pushes a new branch and gives the link to open the pull request.',
    { cause: e },
  );
}

export function step(ctx: Ctx, line: string): void {
  ctx.steps.push(line);
  ctx.log(line);
}

/** HEAD's commit: from the loose ref of the branch when there is one (no git process), else git. */
async function headSha(ctx: Ctx): Promise<string> {
  const branch = headBranchFromFile(ctx.gitDirs[0]!);
  return branch ? branchSha(ctx.git, ctx.gitDirs[0]!, branch) : (await ctx.git.run(['rev-parse', 'HEAD'])).trim();
}

/** Commits the one file, whatever else is staged or dirty. */
export async function commitOnly(ctx: Ctx, message: string): Promise<void> {
  // The message on stdin (-F -), no `maintenance --auto` after it (the user's next git command runs it).
  await ctx.git.run(['-c', 'maintenance.auto=false', 'commit', '--quiet', '--only', '-F', '-', '--', ctx.rel], 'local', `${message}\n`);
  Object.assign(ctx.progress, { stage: 'committed', sha: await headSha(ctx) });
  step(ctx, `committed ${ctx.rel}: "${message}"`);
}
