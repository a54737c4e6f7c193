/**
 * "Set canary traffic", "Promote canary", "Roll back canary": prompts, then ONE call to the
 * change use case (src/app/change.ts, through the lazily loaded backend) under a cancellable
 * progress notification, then what happened. The publish policy of the environment comes from
 * src/app/policy.ts; a push refused by a protected branch offers "Propose a pull request", which
 * runs the same change as one. A pull request is waited for in the same notification ("Waiting
 * for the merge of canary/test-jukebox-35 into main…", its page one click away) until its change
 * reaches the upstream branch, then followed as a push; cancelling leaves it open. "Follow
 * proposal" on a proposal row of the tree (after a window reload, or a cancelled wait) runs that
 * second half alone (src/app/change.ts followProposal).
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
import vscode = require('vscode');
import { CanaryError } from '../core/errors';
import { checkExternalUrl, urlHost } from '../core/grafana';
import { describeAction, parsePercent, percentInputError } from '../core/traffic';
import type { CanaryAction } from '../core/types';
import type { ChangeOutcome, FollowOptions, ProposalFollowOutcome } from '../app/change';
import type { Proposal } from '../app/proposals';
import { requireCanary, type CommandContext, type Target } from './command-context';
import { askModal, pickOne, showInfo, withNotificationProgress, type ReportProgress } from './notify';
import { liveText, serviceLabel } from './present';
import type { Node } from './tree';

const PROPOSE = 'Propose a pull request';
const OPEN_PR = 'Open pull request';

type Handler = (arg: unknown) => Promise<void>;

export function setTraffic(ctx: CommandContext): Handler {
  return async (arg) => {
    if (!ctx.checkTrusted('Set canary traffic')) return;
    await ctx.guard('Set canary traffic', async () => {
      const target = await ctx.resolveTarget(arg, 'Set canary traffic', (s) => s.canarySupported);
      if (!target) return;
      requireCanary(target);
      const current = target.state?.desired ? (target.state.desired.percent ?? 100) : target.state?.latestPercent;
      const input = await vscode.window.showInputBox({
        title: `Set canary traffic · ${target.model} in ${target.env}`,
        prompt: 'Share of the traffic for the latest revision (0–100). The rest stays on the previous revision.',
        value: current === undefined ? '' : String(current),
        valueSelection: current === undefined ? undefined : [0, String(current).length],
        validateInput: percentInputError,
        ignoreFocusOut: true,
      });
      if (input === undefined) return;
      await publish(ctx, 'Set canary traffic', target, { kind: 'set', percent: parsePercent(input) });
    });
  };
}

export function changeCommand(ctx: CommandContext, action: CanaryAction): Handler {
  const what = action.kind === 'promote' ? 'Promote canary' : 'Roll back canary';
  return async (arg) => {
    if (!ctx.checkTrusted(what)) return;
    await ctx.guard(what, async () => {
      const target = await ctx.resolveTarget(arg, what, (s) => s.canarySupported);
      if (!target) return;
      await publish(ctx, what, target, action);
    });
  };
}

async function confirm(ctx: CommandContext, target: Target, action: CanaryAction, policyText: string, pullRequest: boolean): Promise<boolean> {
  // a pull request is confirmed by the user's click on "Propose a pull request"
  if (pullRequest || !ctx.settings.confirmEnvironments.includes(target.env)) return true;
  const go = action.kind === 'promote' ? 'Promote' : action.kind === 'rollback' ? 'Roll back' : 'Set traffic';
  const d = describeAction(action);
  const choice = await askModal(
    `${d[0]!.toUpperCase()}${d.slice(1)} for ${target.model} in ${target.env}?`,
    `${target.env} is listed in kserveCanary.confirmEnvironments. This edits config.yaml and ${policyText}.`,
    go,
  );
  return choice === go;
}

/** Publishes by the environment's policy and follows (a pull request: once merged); on a protected-branch refusal, offers the pull request. */
async function publish(ctx: CommandContext, what: string, target: Target, action: CanaryAction, pullRequest = false): Promise<void> {
  const { ctl, log } = ctx;
  const { backend, root } = ctx.need();
  const s = ctx.settings;
  const policy = backend.publishPolicy({ env: target.env, pushMode: s.pushMode, pullRequestEnvironments: s.pullRequestEnvironments, pullRequest });
  if (!(await confirm(ctx, target, action, backend.describePolicy(policy), pullRequest))) return;
  let outcome: ChangeOutcome;
  const abort = new AbortController();
  let proposed: Watched | undefined;
  try {
    outcome = await ctx.exclusive(() =>
      withNotificationProgress(`${target.model} · ${target.env}`, true, async (report, token) => {
        const sub = token.onCancellationRequested(() => abort.abort());
        try {
          report({ message: `${describeAction(action)}: editing config.yaml…` });
          log.info(`${target.model}/${target.env}: ${describeAction(action)} (${policy})`);
          const follow = proposalFollow(ctx, target, report, () => proposed);
          return await backend.changeCanary(
            {
              root,
              env: target.env,
              model: target.model,
              action,
              policy,
              messageTemplate: s.commitMessageTemplate || undefined,
              deploymentsDir: s.deploymentsDir,
              forgeHosts: s.forgeHosts,
              log: (line) => log.info(`git: ${line}`),
              signal: abort.signal,
            },
            {
              ...follow,
              untilMerged: true,
              onPublished: (r) => {
                if (!r.proposal) return;
                proposed = { ...r.proposal, percent: r.after.desiredPercent };
                announceProposal(ctx, target, proposed, r.branch);
                follow.onMergePoll();
              },
            },
          );
        } finally {
          sub.dispose();
        }
      }),
    );
  } catch (e) {
    if (proposed) return endOfWait(ctx, target, proposed, e, abort.signal);
    if (pullRequest || !backend.isProtectedBranchRefusal(e)) throw e;
    await ctl.store?.reloadDesired().catch(() => undefined);
    if ((await ctx.fail(what, e, PROPOSE)) === PROPOSE) await ctx.guard(what, () => publish(ctx, what, target, action, true));
    return;
  }
  if (proposed) ctx.deps.proposals?.unfollow(target.env, target.model, proposed.branch);
  await ctl.store?.reloadDesired().catch(() => undefined);
  present(target, action, outcome, proposed ? checkoutNote(ctx, target, proposed.percent, proposed.base) : '');
}

/** A proposal waited for: the publish result's, or a tree row's. */
interface Watched {
  branch: string;
  sha?: string;
  base?: string;
  percent: number | undefined;
  url?: string;
  hint?: string;
  forge?: string;
}

/** "Pushed the branch … for a pull request; waiting for its merge", with its page one click away. */
function announceProposal(ctx: CommandContext, target: Target, p: Watched, branch: string): void {
  const label = `${target.model} · ${target.env}`;
  ctx.log.info(`${label}: proposed ${p.branch}${p.url ? ` (${p.url})` : ''}; waiting for its merge`);
  const text = `${label}: pushed the branch ${p.branch} for a pull request${p.forge ? ` (${p.forge})` : ''}; ${branch} is untouched until it is merged. Waiting for the merge…`;
  if (!p.url) {
    void showInfo(`${text}${p.hint ? ` ${p.hint}` : ''}`);
    return;
  }
  void showInfo(text, OPEN_PR).then((choice) => (choice === OPEN_PR ? openPage(p.url!) : undefined));
}

/** The forge's page, built by core/forge.ts from the remote's URL: http(s) only, no credentials, on the forge's own host. */
async function openPage(page: string): Promise<void> {
  const url = checkExternalUrl(page, [urlHost(page)]);
  await vscode.env.openExternal(vscode.Uri.parse(url, true));
}

/**
 * The follow of a change (progress messages, the log) and of a proposal's wait: the merge is
 * waited for without a limit (the notification cancels it), each poll's fetch refreshes the
 * tree's rows (without fetching again), the row says `waiting for merge`, then the follow's step.
 */
function proposalFollow(ctx: CommandContext, target: Target, report: ReportProgress, watched: () => Watched | undefined) {
  const { ctl, log } = ctx;
  const cache = ctx.deps.proposals;
  const mark = (status: string, merged = false) => {
    const p = watched();
    if (p) cache?.follow(target.env, target.model, p, status, merged);
  };
  return {
    open: async () => (ctl.store ? { store: ctl.store } : undefined),
    timeoutMs: ctx.settings.followTimeoutSeconds * 1000,
    mergeTimeoutMs: 0,
    onMergePoll: () => {
      const p = watched();
      if (!p) return;
      ctx.noteBusy(`waiting for the merge of ${p.branch}`);
      report({ message: `Waiting for the merge of ${p.branch}${p.base ? ` into ${p.base}` : ''}…` });
      mark('waiting for merge');
      void cache?.refresh(target.env, target.model, { fetch: false });
    },
    onMerged: (m) => {
      const text = `Merged into ${m.base} at ${m.upstreamSha.slice(0, 7)}${m.how === 'same-value' ? ' (squashed or rebased)' : ''}`;
      log.info(`follow ${target.model}/${target.env}: ${text}`);
      report({ message: `${text}; following…` });
      mark('merged · following', true);
      void cache?.refresh(target.env, target.model, { fetch: false });
    },
    onStep: (st) => {
      log.info(`follow ${target.model}/${target.env}: ${st.message}`);
      report({ message: st.message });
      mark(st.message, true);
    },
  } satisfies FollowOptions;
}

/** The wait for a proposal's merge ended without the change live: cancelled (left open), closed, or failed. */
async function endOfWait(ctx: CommandContext, target: Target, p: Watched, e: unknown, signal: AbortSignal): Promise<void> {
  const cache = ctx.deps.proposals;
  cache?.unfollow(target.env, target.model, p.branch);
  await cache?.refresh(target.env, target.model, { fetch: false });
  await ctx.ctl.store?.reloadDesired().catch(() => undefined);
  // Cancelled: whatever git step it stopped in, the proposal is on the remote as it was.
  if (signal.aborted) {
    ctx.log.info(`${target.model}/${target.env}: stopped waiting for the merge of ${p.branch}; it stays open`);
    void showInfo(
      `${target.model} · ${target.env}: stopped waiting for the merge of ${p.branch}. The pull request stays open; "Follow proposal" on its row in the tree waits again.`,
    );
    return;
  }
  throw e;
}

/** "Follow proposal" on a proposal row (or picked): waits for its merge, then follows it until it is live. */
export function followProposal(ctx: CommandContext): Handler {
  return async (arg) => {
    if (!ctx.checkTrusted('Follow proposal')) return;
    await ctx.guard('Follow proposal', async () => {
      const picked = await resolveProposal(ctx, arg);
      if (!picked) return;
      const { target, proposal } = picked;
      const cache = ctx.deps.proposals;
      if (cache?.isFollowed(target.env, target.model, proposal.branch)) {
        void showInfo(`${proposal.branch} is being followed already: see its notification.`);
        return;
      }
      const { backend, root } = ctx.need();
      const s = ctx.settings;
      const watched: Watched = {
        branch: proposal.branch,
        sha: proposal.sha,
        base: proposal.base,
        percent: proposal.percent,
        ...(proposal.url ? { url: proposal.url } : {}),
      };
      const abort = new AbortController();
      let o: ProposalFollowOutcome;
      try {
        o = await ctx.exclusive(() =>
          withNotificationProgress(`${target.model} · ${target.env}`, true, async (report, token) => {
            const sub = token.onCancellationRequested(() => abort.abort());
            try {
              const follow = proposalFollow(ctx, target, report, () => watched);
              follow.onMergePoll();
              return await backend.followProposal(
                {
                  root,
                  env: target.env,
                  model: target.model,
                  proposal: watched,
                  deploymentsDir: s.deploymentsDir,
                  forgeHosts: s.forgeHosts,
                  signal: abort.signal,
                },
                follow,
              );
            } finally {
              sub.dispose();
            }
          }),
        );
      } catch (e) {
        return endOfWait(ctx, target, watched, e, abort.signal);
      }
      cache?.unfollow(target.env, target.model, watched.branch);
      await cache?.refresh(target.env, target.model, { fetch: false });
      await ctx.ctl.store?.reloadDesired().catch(() => undefined);
      presentFollowed(
        `${target.model} · ${target.env}`,
        o.status,
        o.final,
        `${watched.branch} is merged into ${o.merged.base}`,
        checkoutNote(ctx, target, watched.percent, o.merged.base),
      );
    });
  };
}

/** The proposal of a tree row (`{kind: 'proposal', key, branch}`), else one picked from those the tree lists. */
async function resolveProposal(ctx: CommandContext, arg: unknown): Promise<{ target: Target; proposal: Proposal } | undefined> {
  const cache = ctx.deps.proposals;
  const row = typeof arg === 'object' && arg !== null && (arg as Node).kind === 'proposal' ? (arg as Extract<Node, { kind: 'proposal' }>) : undefined;
  if (!row) {
    const all = cache?.all() ?? [];
    if (all.length === 0) {
      void showInfo('No open pull-request proposals are known: the tree shows them under their models once one is pushed.');
      return undefined;
    }
    const items = all.map((x) => ({ label: x.proposal.branch, description: `${x.model} · ${x.env} · ${x.proposal.label}`, x }));
    const chosen = await pickOne(items, { title: 'Follow proposal', placeHolder: 'Pick the pull request to wait for' });
    return chosen
      ? { target: { env: chosen.x.env, model: chosen.x.model, state: ctx.ctl.store?.find(chosen.x.env, chosen.x.model) }, proposal: chosen.x.proposal }
      : undefined;
  }
  const state = ctx.ctl.get(row.key);
  if (!state) throw new CanaryError('not-found', 'no-service', `No InferenceService ${row.key} is known.`, 'Refresh the view, then try again.');
  const target: Target = { env: state.env, model: serviceLabel(state), state };
  const find = () => cache?.get(target.env, target.model).find((p) => p.branch === row.branch);
  if (!find()) await cache?.refresh(target.env, target.model);
  const proposal = find();
  if (!proposal) {
    throw new CanaryError(
      'not-found',
      'proposal-not-open',
      `${row.branch} is no longer an open proposal of ${target.model} in ${target.env}: it was merged or closed.`,
      'The tree shows where the model stands now.',
    );
  }
  return { target, proposal };
}

/** One notification saying where the change went. */
function present(target: Target, action: CanaryAction, o: ChangeOutcome, note: string): void {
  const label = `${target.model} · ${target.env}`;
  const r = o.published;
  const sha = r.sha.slice(0, 7);
  switch (o.status) {
    case 'unchanged':
      void showInfo(`${label}: already so in git (${describeAction(action)}); nothing to commit.`);
      return;
    case 'not-pushed':
      void showInfo(`${label}: committed ${sha} (${r.message}). Not pushed: push mode is "commit".`);
      return;
    case 'proposed':
      // Not waited for (changeCanary waits whenever it can follow): where the change is.
      void showInfo(`${label}: pushed the branch ${r.proposal?.branch ?? ''} for a pull request; ${r.branch} is untouched.`);
      return;
    default:
      presentFollowed(label, o.status, o.final, r.proposal ? `${r.proposal.branch} is merged` : `${sha} is pushed`, note);
  }
}

/** A merged proposal leaves the checkout as it was: says so when its config.yaml does not have the value yet. */
function checkoutNote(ctx: CommandContext, target: Target, percent: number | undefined, base: string | undefined): string {
  const desired = ctx.ctl.store?.find(target.env, target.model)?.desired;
  if (!desired || desired.percent === percent) return '';
  return ` Your checkout's config.yaml still says ${desired.percent === undefined ? 'no canary' : `${desired.percent}%`}: pull ${base ?? 'the upstream branch'} to have the merged change.`;
}

/** How a follow ended: live, stopped (Argo CD still applies it) or not followed; `where` says where the change is. */
function presentFollowed(label: string, status: ChangeOutcome['status'], final: ChangeOutcome['final'], where: string, note: string): void {
  if (status === 'live') void showInfo(`${liveText(final!)}${note}`);
  else if (status === 'stopped') void showInfo(`Stopped following ${label}: ${where} and Argo CD will still apply it.`);
  else void showInfo(`${label}: ${where}. Not connected to a cluster, so it is not followed.`);
}
