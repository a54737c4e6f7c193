/**
 * "Start progressive rollout": the plan (src/app/rollout.ts loads it), one confirmation naming
 * it and its gates, then ONE call to the rollout use case under a cancellable progress
 * notification; approvals are asked with a notification. Cancel stops where it stands.
 */
import path from 'node:path';
import { CanaryError } from '../core/errors';
import type { ApprovalAnswer, ApprovalRequest, RolloutResult } from '../core/rollout';
import { requireCanary, type CommandContext } from './command-context';
import { askModal, showInfo, showWarning, withNotificationProgress } from './notify';

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
      if (!store) throw new CanaryError('cluster', 'not-connected', 'Not connected to a cluster: a rollout follows every step until it is live.', 'Check the connection (Show log), then try again.');
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
        `Plan from ${path.isAbsolute(plan.source) ? path.relative(root, plan.source) : plan.source}. Each step edits config.yaml and ${backend.describePolicy(policy)}, then follows it until live. ${gatesText} Cancel stops where it stands; the state stays in git and a new start resumes.`,
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
              root, env: target.env, model: target.model, deploymentsDir: s.deploymentsDir, plan, policy, store, metrics,
              ignoreGates: !metrics,
              signal: abort.signal,
              followTimeoutMs: s.followTimeoutSeconds * 1000,
              log: (line) => log.info(`git: ${line}`),
              approve: (req, signal) => askApproval(label, req, signal),
              onEvent: (e) => {
                ctx.deps.onRolloutEvent?.(`${target.env}/${target.model}`, e);
                log.info(`rollout ${target.model}/${target.env}: ${e.message}`);
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
