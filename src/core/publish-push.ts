/**
 * Pushing our commit: one push, and on a rejection (the remote moved) fetch, bring the
 * commit onto the new upstream (re-applying the edit semantically when it is the only local
 * commit, or a rebase otherwise) and push once more; errors say what is left local.
 */
import { CanaryError } from './errors';
import { aheadBehind, fetchUpstream, incomingFiles, readStatus, showFile, type RepoStatus, type Upstream } from './gitstate';
import { DEFAULT_DEPLOYMENTS_DIR, modelConfigPath } from './layout';
import { editModelConfig, parseModelConfig } from './config';
import { describeAction } from './traffic';
import { checkCommittedSize, sameCanary } from './publish-target';
import { checkpoint, commitOnly, plural, step, type Ctx } from './publish-context';
import { dirtyPaths, rebaseKeepingWork } from './publish-pull';
import type { ModelConfig } from './types';

export interface RetryOutcome {
  changed: boolean;
  pushed: boolean;
  after?: ModelConfig;
}

/**
 * Pushes HEAD to the upstream. On a rejection (the remote moved): fetch, bring our commit
 * onto the new upstream (semantically when it is the only local commit), push once more.
 */
export async function pushWithRetry(
  ctx: Ctx,
  upstream: Upstream,
  message: string,
  aheadBeforeCommit: number,
  committed: boolean,
): Promise<RetryOutcome | undefined> {
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
    throw new CanaryError(
      'git',
      'dirty-overlap',
      `The change is committed locally but not pushed: ${upstream.short} has new commits changing ${clash.map((c) => c.path).join(', ')}, which you have uncommitted changes to.`,
      'Commit or stash those changes, then run the command again: it pushes the commit.',
    );
  }
  return incoming;
}

function notPushed(e: unknown, committed: boolean): unknown {
  if (!(e instanceof CanaryError) || !committed) return e;
  return new CanaryError(
    e.kind,
    e.code,
    `${e.message} The change is committed locally but not pushed.`,
    `${e.hint ?? 'Fix the cause'}; running the same command again pushes the local commit.`,
    { cause: e },
  );
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
    throw new CanaryError(
      'git',
      'conflict',
      `${rel} was deleted on ${upstream.short} meanwhile; your change was taken back and nothing was pushed.`,
      'Pull (`git pull --rebase`) to see what happened, then run the command again if the model still exists.',
    );
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
    throw new CanaryError(
      'git',
      'conflict',
      `Someone else changed the canary of ${opts.model} in ${opts.env} on ${upstream.short} meanwhile (it is now ${now}); your change (${describeAction(opts.action)}) was taken back, nothing was pushed, and your working tree is as it was.`,
      `Pull (\`git pull --rebase\`) and look at the new value; run the command again if you still want ${describeAction(opts.action)}.`,
    );
  }
  const incoming = await refuseOverlapAfterCommit(ctx, status, upstream);
  await git.run(['reset', '--keep', 'HEAD~1']);
  await git.run(['merge', '--ff-only', '--no-edit', upstream.trackingRef]);
  const deploymentsDir = opts.deploymentsDir ?? DEFAULT_DEPLOYMENTS_DIR;
  modelConfigPath(opts.root, opts.env, opts.model, deploymentsDir, { gitDirs: ctx.gitDirs });
  const edit = await editModelConfig(opts.root, opts.env, opts.model, opts.action, { deploymentsDir });
  step(
    ctx,
    incoming.has(rel)
      ? `re-applied the change on top of ${upstream.short}, which changed ${rel} elsewhere meanwhile`
      : `re-applied the change on top of ${upstream.short}`,
  );
  if (!edit.changed) {
    step(ctx, `${upstream.short} already has it`);
    return { changed: false, pushed: false, after: edit.after };
  }
  ctx.progress.keepEdit = false;
  await commitOnly(ctx, message);
  return { changed: true, pushed: true, after: edit.after };
}
