/**
 * "Start progressive rollout": the plan (src/app/rollout.ts loads it), one confirmation naming
 * it and its gates, then ONE call to the rollout use case under a cancellable progress
 * notification; approvals are asked with a notification. In pull-request mode the progress
 * shows the step waiting for its merge and a notification offers "Open pull request" (the
 * forge's page, checked before it opens). Cancel stops where it stands.
 */
import path from 'node:path';
// eslint-disable-next-line @typescript-eslint/no-require-imports
import vscode = require('vscode');
import { CanaryError } from '../core/errors';
import { checkExternalUrl, urlHost } from '../core/grafana';
import type { ApprovalAnswer, ApprovalRequest, RolloutResult } from '../core/rollout';
import type { ProposalStep } from '../app/rollout-proposals';
import { requireCanary, type CommandContext } from './command-context';
import { askModal, showInfo, showWarning, withNotificationProgress } from './notify';

const OPEN_PR = 'Open pull request';

/** Asks for an approval with a notification (manual gate, or gates that could not be judged). */
function askApproval(label: string, req: ApprovalRequest, signal: AbortSignal): Promise<ApprovalAnswer> {
  return new Promise<ApprovalAnswer>((resolve) => {
    const onAbort = () => resolve('wait');
    signal.addEventListener('abort', onAbort, { once: true });
    void showInfo(`${label}: ${req.message}`, 'Approve', 'Roll back').then((choice) => {
      signal.removeEventListener('abort', onAbort);
      resolve(choice === 'Approve' ? 'approve' : choice === 'Roll back' ? 'rollback' : 'wait');
    });
  });
}

/** A step's pull request waits for its merge: one notification naming it, with its page when the forge is known. */
function offerProposal(ctx: CommandContext, label: string, p: ProposalStep): void {
  const what = p.action === 'rollback' ? 'The rollback' : `Step ${p.step}/${p.of}`;
  const text = `${label}: ${what} is proposed as ${p.branch} into ${p.base}; the rollout waits for its merge (Cancel on its progress stops waiting and leaves the pull request open).`;
  if (!p.url) {
    void showInfo(`${text}${p.hint ? ` ${p.hint}` : ''}`);
    return;
  }
  void showInfo(text, OPEN_PR).then(async (choice) => {
    if (choice !== OPEN_PR) return;
    try {
      // The forge's page, built by core/forge.ts from the remote's URL: http(s) only, no credentials, on the forge's own host.
      const url = checkExternalUrl(p.url!, [urlHost(p.url!)]);
      await vscode.env.openExternal(vscode.Uri.parse(url, true));
    } catch (e) {
      ctx.log.warn(`${label}: not opening ${p.branch}'s page: ${e instanceof Error ? e.message : String(e)}`);
    }
  });
}

export function startRollout(ctx: CommandContext): (arg: unknown) => Promise<RolloutResult | undefined> {
  return async (arg) => {
    if (!ctx.checkTrusted('Start progressive rollout')) return undefined;
    return ctx.guard('Start progressive rollout', async () => {
      const target = await ctx.resolveTarget(arg, 'Start progressive rollout', (s) => s.canarySupported);
      if (!target) return undefined;
      requireCanary(target);
      const { ctl, log } = ctx;
      const { backend, root } = ctx.need();
      const store = ctl.store;
      if (!store)
        throw new CanaryError(
          'cluster',
          'not-connected',
          'Not connected to a cluster: a rollout follows every step until it is live.',
          'Check the connection (Show log), then try again.',
        );
      const s = ctx.settings;
      const policy = backend.publishPolicy({ env: target.env, pushMode: s.pushMode, pullRequestEnvironments: s.pullRequestEnvironments });
      const defaults = {
        ...(s.rolloutSteps ? { steps: s.rolloutSteps } : {}),
        ...(s.rolloutPause ? { pause: s.rolloutPause } : {}),
        ...(s.rolloutMaxErrorRate ? { maxErrorRate: s.rolloutMaxErrorRate } : {}),
      };
      const plan = await backend.loadRolloutPlan({ root, env: target.env, model: target.model, deploymentsDir: s.deploymentsDir, defaults });
      const metrics = await ctl.metricsClient();
      const gatesText = metrics
        ? `Gates: ${backend.describeGates(plan.gates)}, measured from ${s.prometheusUrl}.`
        : 'No metric gates: no Prometheus URL is configured (kserveCanary.prometheus.url), so each step only waits for its pause (and manual gates).';
      const go = 'Start rollout';
      const choice = await askModal(
        `Start a progressive rollout of ${target.model} in ${target.env}: ${backend.describePlan(plan)}?`,
        `Plan from ${path.isAbsolute(plan.source) ? path.relative(root, plan.source) : plan.source}. ${
          policy === 'pull-request'
            ? 'Each step is a pull request (a branch made from the upstream head; your checkout stays as it is): the rollout waits for its merge, then follows it until live; a rollback is a pull request too.'
            : `Each step edits config.yaml and ${backend.describePolicy(policy)}, then follows it until live.`
        } ${gatesText} Cancel stops where it stands; the state stays in git and a new start resumes.`,
        go,
      );
      if (choice !== go) return undefined;
      const label = `${target.model} · ${target.env}`;
      const result = await ctx.exclusive(() =>
        withNotificationProgress(`Rollout ${label}`, true, async (report, token) => {
          const abort = new AbortController();
          const sub = token.onCancellationRequested(() => abort.abort());
          try {
            const { outcome } = backend.runRollout({
              root,
              env: target.env,
              model: target.model,
              deploymentsDir: s.deploymentsDir,
              plan,
              policy,
              store,
              metrics,
              forgeHosts: s.forgeHosts,
              ignoreGates: !metrics,
              signal: abort.signal,
              followTimeoutMs: s.followTimeoutSeconds * 1000,
              log: (line) => log.info(`git: ${line}`),
              approve: (req, signal) => askApproval(label, req, signal),
              onEvent: (e) => {
                ctx.deps.onRolloutEvent?.(`${target.env}/${target.model}`, e);
                log.info(`rollout ${target.model}/${target.env}: ${e.message}`);
                if (e.proposal?.state === 'open') {
                  report({ message: `step ${e.step}/${plan.steps.length}: waiting for the merge of ${e.proposal.branch} into ${e.proposal.base}` });
                  offerProposal(ctx, label, e.proposal);
                  return;
                }
                report({ message: e.step ? `step ${e.step}/${plan.steps.length}: ${e.message}` : e.message });
              },
            });
            return (await outcome).result;
          } finally {
            sub.dispose();
          }
        }),
      );
      await store.reloadDesired().catch(() => undefined);
      const text = `${label}: rollout ${result.outcome} at step ${result.step}/${result.of}. ${result.reason}`;
      log.info(text);
      if (result.outcome === 'rolled-back' || result.outcome === 'changed-outside') void showWarning(text);
      else void showInfo(text);
      return result;
    });
  };
}
