/**
 * Before the edit: the target file found dirty (our own interrupted run, or refused), the
 * unpushed local commits that would go out with ours, and bringing the branch up to date
 * with its upstream (fast-forward or rebase) without touching the user's other work.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CanaryError } from './errors';
import { incomingFiles, localCommits, showFile, type RepoStatus, type StatusEntry, type Upstream } from './gitstate';
import { applyCanaryAction, parseModelConfig } from './config';
import { writeFileAtomic } from './fsutil';
import { checkCommittedSize, toPosix } from './publish-target';
import { plural, step, type Ctx } from './publish-context';
import type { ModelConfig } from './types';

export interface Pending {
  before: ModelConfig;
  after: ModelConfig;
  headText: string;
}

/**
 * When the target file is dirty: if its content is exactly HEAD's content with this
 * action applied, it is ours (an interrupted run) and is finished; otherwise refuse.
 */
export async function pendingEdit(ctx: Ctx, status: RepoStatus): Promise<Pending | undefined> {
  const entry = status.entries.find((e) => e.path === ctx.rel && e.kind !== 'ignored');
  if (!entry) return undefined;
  const { opts, rel } = ctx;
  const refuse = (why: string) =>
    new CanaryError(
      'git',
      'target-dirty',
      `${rel} has uncommitted changes (${why}); they are left as they are and nothing was committed.`,
      `Commit or discard your edit of ${rel} first (\`git diff -- ${rel}\` shows it), then run the command again.`,
    );
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
export async function checkLocalCommits(ctx: Ctx, upstream: Upstream, deploymentsDir: string): Promise<void> {
  const commits = await localCommits(ctx.git, upstream.trackingRef);
  const prefix = toPosix(path.relative(ctx.top, path.join(ctx.opts.root, deploymentsDir)));
  const isConfig = (f: string) => {
    const parts = f.split('/');
    const base = prefix === '' ? [] : prefix.split('/');
    return parts.length === base.length + 3 && base.every((b, i) => parts[i] === b) && parts[parts.length - 1] === 'config.yaml';
  };
  const foreign = commits.filter((c) => c.files.length !== 1 || !isConfig(c.files[0]!));
  if (foreign.length) {
    const list = foreign
      .slice(0, 3)
      .map((c) => `${c.sha.slice(0, 7)} "${c.subject}"`)
      .join(', ');
    throw new CanaryError(
      'git',
      'unpushed-commits',
      `Branch has ${plural(foreign.length, 'unpushed commit')} that ${foreign.length === 1 ? 'is' : 'are'} not a model config change (${list}${foreign.length > 3 ? ', ...' : ''}); pushing would publish ${foreign.length === 1 ? 'it' : 'them'} too, so nothing was changed.`,
      `Push or drop ${foreign.length === 1 ? 'that commit' : 'those commits'} first (\`git log ${upstream.short}..HEAD\`), or use --no-push to commit only.`,
    );
  }
}

export function dirtyPaths(status: RepoStatus, exclude: string | undefined): StatusEntry[] {
  return status.entries.filter((e) => e.kind !== 'ignored' && e.path !== exclude);
}

/**
 * Brings the branch up to date with the upstream without touching the user's other
 * uncommitted work. Returns true when a pending edit of the target was reverted (it is
 * re-applied on the new content afterwards).
 */
export async function integrate(
  ctx: Ctx,
  status: RepoStatus,
  upstream: Upstream,
  ab: { ahead: number; behind: number },
  pending: Pending | undefined,
): Promise<boolean> {
  const { git } = ctx;
  const incoming = new Set(await incomingFiles(git, upstream.trackingRef));
  const dirty = dirtyPaths(status, pending ? ctx.rel : undefined);
  const clash = dirty.filter((e) => incoming.has(e.path));
  if (clash.length) {
    const names = clash.map((e) => e.path);
    throw new CanaryError(
      'git',
      'dirty-overlap',
      `${upstream.short} has new commits that change ${names.join(', ')}, which you have uncommitted changes to; nothing was changed.`,
      `Commit or stash your changes to ${names.length === 1 ? 'that file' : 'those files'}, pull (\`git pull --rebase\`), then run the command again.`,
    );
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
export async function rebaseKeepingWork(ctx: Ctx, status: RepoStatus, upstream: Upstream, alsoDirty: string | undefined): Promise<void> {
  const { git } = ctx;
  const tracked = status.entries.filter((e) => (e.kind === 'changed' || e.kind === 'renamed') && (e.path !== ctx.rel || alsoDirty));
  const hashes = tracked.length
    ? await hashWorktree(
        ctx,
        tracked.map((e) => e.path),
      )
    : [];
  const staged = tracked.filter((e) => e.kind === 'changed' && e.xy[0] !== '.' && e.indexOid && e.indexMode && e.indexOid !== e.headOid);
  try {
    await git.run(['rebase', ...(tracked.length ? ['--autostash'] : []), upstream.trackingRef]);
  } catch (e) {
    const detail = await conflictFiles(ctx);
    await git.probe(['rebase', '--abort']);
    throw new CanaryError(
      'git',
      'conflict',
      `Your unpushed local commits conflict with new commits on ${upstream.short}${detail ? ` in ${detail}` : ''}; the rebase was aborted and the repository is as it was (your local commits are still there, not pushed).`,
      `Run \`git pull --rebase\`, resolve the conflict, then run the command again.`,
      { cause: e },
    );
  }
  if (staged.length) {
    await git.run(['update-index', ...staged.flatMap((e) => ['--cacheinfo', `${e.indexMode},${e.indexOid},${e.path}`])]);
  }
  if (tracked.length) {
    const after = await hashWorktree(
      ctx,
      tracked.map((e) => e.path),
    );
    const changedFiles = tracked.filter((_e, i) => hashes[i] !== after[i]).map((e) => e.path);
    if (changedFiles.length) {
      throw new CanaryError(
        'git',
        'worktree-changed',
        `After pulling, your uncommitted changes to ${changedFiles.join(', ')} are not byte-identical to before; stopped before committing anything.`,
        'Check `git stash list` (git keeps an autostash entry when it cannot re-apply it) and `git diff`, then run the command again.',
      );
    }
  }
}

async function conflictFiles(ctx: Ctx): Promise<string> {
  const out = await ctx.git.probe(['diff', '--name-only', '--diff-filter=U', '-z']);
  return (out ?? '').split('\0').filter(Boolean).join(', ');
}

async function hashWorktree(ctx: Ctx, paths: string[]): Promise<string[]> {
  const present = await Promise.all(
    paths.map((p) =>
      readFile(path.join(ctx.top, p)).then(
        () => true,
        () => false,
      ),
    ),
  );
  const out = await ctx.git.run(['hash-object', '--no-filters', '--', ...paths.filter((_p, i) => present[i])]);
  const list = out.split('\n').filter(Boolean);
  let j = 0;
  return present.map((ok) => (ok ? list[j++]! : 'missing'));
}
