/**
 * "Set canary traffic", "Promote canary", "Roll back canary": prompts, then ONE call to the
 * change use case (src/app/change.ts, through the lazily loaded backend) under a cancellable
 * progress notification, then what happened. The publish policy of the environment comes from
 * src/app/policy.ts; a pull request's page opens once the user asks; a push refused by a
 * protected branch offers "Propose a pull request", which runs the same change as one.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
import vscode = require('vscode');
import { checkExternalUrl, urlHost } from '../core/grafana';
import { describeAction, parsePercent, percentInputError } from '../core/traffic';
import type { CanaryAction } from '../core/types';
import type { ChangeOutcome } from '../app/change';
import { requireCanary, type CommandContext, type Target } from './command-context';
import { askModal, showInfo, withNotificationProgress } from './notify';
import { liveText } from './present';

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
  const choice = await askModal(`${d[0]!.toUpperCase()}${d.slice(1)} for ${target.model} in ${target.env}?`, `${target.env} is listed in kserveCanary.confirmEnvironments. This edits config.yaml and ${policyText}.`, go);
  return choice === go;
}

/** Publishes by the environment's policy and follows; on a protected-branch refusal, offers the pull request. */
async function publish(ctx: CommandContext, what: string, target: Target, action: CanaryAction, pullRequest = false): Promise<void> {
  const { ctl, log } = ctx;
  const { backend, root } = ctx.need();
  const s = ctx.settings;
  const policy = backend.publishPolicy({ env: target.env, pushMode: s.pushMode, pullRequestEnvironments: s.pullRequestEnvironments, pullRequest });
  if (!(await confirm(ctx, target, action, backend.describePolicy(policy), pullRequest))) return;
  let outcome: ChangeOutcome;
  try {
    outcome = await ctx.exclusive(() =>
      withNotificationProgress(`${target.model} · ${target.env}`, true, async (report, token) => {
        const abort = new AbortController();
        const sub = token.onCancellationRequested(() => abort.abort());
        try {
          report({ message: `${describeAction(action)}: editing config.yaml…` });
          log.info(`${target.model}/${target.env}: ${describeAction(action)} (${policy})`);
          return await backend.changeCanary(
            { root, env: target.env, model: target.model, action, policy, messageTemplate: s.commitMessageTemplate || undefined, deploymentsDir: s.deploymentsDir, forgeHosts: s.forgeHosts, log: (line) => log.info(`git: ${line}`), signal: abort.signal },
            {
              open: async () => (ctl.store ? { store: ctl.store } : undefined),
              timeoutMs: s.followTimeoutSeconds * 1000,
              onStep: (st) => {
                log.info(`follow ${target.model}/${target.env}: ${st.message}`);
                report({ message: st.message });
              },
            },
          );
        } finally {
          sub.dispose();
        }
      }),
    );
  } catch (e) {
    if (pullRequest || !backend.isProtectedBranchRefusal(e)) throw e;
    await ctl.store?.reloadDesired().catch(() => undefined);
    if ((await ctx.fail(what, e, PROPOSE)) === PROPOSE) await ctx.guard(what, () => publish(ctx, what, target, action, true));
    return;
  }
  await ctl.store?.reloadDesired().catch(() => undefined);
  await present(ctx, target, action, outcome);
}

/** One notification saying where the change went. */
async function present(ctx: CommandContext, target: Target, action: CanaryAction, o: ChangeOutcome): Promise<void> {
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
    case 'proposed': {
      const p = r.proposal!;
      void ctx.deps.proposals?.refresh(target.env, target.model);
      ctx.log.info(`${label}: proposed ${p.branch}${p.url ? ` (${p.url})` : ''}`);
      if (!p.url) {
        void showInfo(`${label}: pushed the branch ${p.branch} for a pull request; ${r.branch} is untouched.${p.hint ? ` ${p.hint}` : ''}`);
        return;
      }
      const choice = await showInfo(`${label}: pushed the branch ${p.branch} for a pull request (${p.forge ?? 'forge'}); ${r.branch} is untouched.`, OPEN_PR);
      if (choice !== OPEN_PR) return;
      // The forge's page, built by core/forge.ts from the remote's URL: http(s) only, no credentials, on the forge's own host.
      const url = checkExternalUrl(p.url, [urlHost(p.url)]);
      await vscode.env.openExternal(vscode.Uri.parse(url, true));
      return;
    }
    case 'no-cluster':
    case 'not-requested':
      void showInfo(`${label}: pushed ${sha}. Not connected to a cluster, so it is not followed.`);
      return;
    case 'stopped':
      void showInfo(`Stopped following ${label}: ${sha} is pushed and Argo CD will still apply it.`);
      return;
    case 'live':
      void showInfo(liveText(o.final!));
      return;
  }
}
