/**
 * "Send test traffic": asks the rate and the duration, confirms the host (the service's
 * status.url, checked against the cluster's apps domain by src/app/traffic.ts), then ONE call
 * to send under a cancellable progress notification, and the answers by status code.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
import vscode = require('vscode');
import path from 'node:path';
import { CanaryError } from '../core/errors';
import type { TrafficResult } from '../core/loadgen';
import type { Controller } from './controller';
import type { CommandContext } from './command-context';
import { askModal, showInfo, withNotificationProgress } from './notify';

/** The request body from kserveCanary.traffic.payload: inline JSON, a file (relative to the checkout), or the default. */
async function payload(ctx: CommandContext, backend: NonNullable<Controller['backend']>, root: string): Promise<string | undefined> {
  const p = ctx.settings.trafficPayload;
  if (!p) return undefined;
  if (p.startsWith('{') || p.startsWith('[')) return backend.checkPayload(p, 'the setting kserveCanary.traffic.payload');
  return backend.readPayloadFile(path.resolve(root, p));
}

export function sendTraffic(ctx: CommandContext): (arg: unknown) => Promise<TrafficResult | undefined> {
  return async (arg) => {
    if (!ctx.checkTrusted('Send test traffic')) return undefined;
    return ctx.guard('Send test traffic', async () => {
      const target = await ctx.resolveTarget(arg, 'Send test traffic', (s) => !s.missing && !!s.url);
      if (!target) return undefined;
      const { backend, root } = ctx.need();
      const st = target.state;
      const store = ctx.ctl.store;
      if (!st?.url || !store) {
        throw new CanaryError(
          'not-found',
          'no-url',
          `${target.model} in ${target.env} has no URL on the cluster (status.url), so there is nowhere to send requests.`,
          'Wait until the InferenceService is ready, then try again.',
        );
      }
      const max = backend.TRAFFIC_LIMITS;
      const title = `Send test traffic · ${target.model} in ${target.env}`;
      const rpsText = await vscode.window.showInputBox({
        title,
        prompt: `Requests per second (up to ${max.maxRps})`,
        value: '10',
        validateInput: (v) => {
          const n = Number(v.trim());
          return v.trim() !== '' && Number.isFinite(n) && n > 0 && n <= max.maxRps
            ? undefined
            : `A number of requests per second, more than 0 and at most ${max.maxRps}.`;
        },
        ignoreFocusOut: true,
      });
      if (rpsText === undefined) return undefined;
      const durText = await vscode.window.showInputBox({
        title,
        prompt: 'For how long, e.g. 30s, 2m',
        value: '30s',
        validateInput: (v) => {
          const ms = backend.parseDuration(v.trim());
          return ms !== undefined && ms > 0 && ms <= max.maxDurationMs
            ? undefined
            : `A duration such as 30s or 2m, at most ${backend.formatDuration(max.maxDurationMs)}.`;
        },
        ignoreFocusOut: true,
      });
      if (durText === undefined) return undefined;
      const rps = Number(rpsText.trim());
      const durationMs = backend.parseDuration(durText.trim())!;
      const body = await payload(ctx, backend, root);
      const label = `${target.model} · ${target.env}`;
      // status.url is cluster data: checked against the cluster's apps domain, then confirmed naming host and rate.
      const plan = backend.serviceTrafficPlan(store, target.env, target.model, st.name, st.url);
      const go = await askModal(`Send test traffic to ${label}?`, `${backend.describeTarget(plan.checked, rps, durationMs)}.`, 'Send');
      if (go !== 'Send') return undefined;
      const result = await withNotificationProgress(`Test traffic to ${label}`, true, async (report, token) => {
        const abort = new AbortController();
        const sub = token.onCancellationRequested(() => abort.abort());
        let done = 0;
        try {
          return await backend.sendTestTraffic(plan, {
            rps,
            durationMs,
            ...(body ? { payload: body } : {}),
            signal: abort.signal,
            onProgress: (p) => {
              const pct = p.total ? Math.floor((p.completed / p.total) * 100) : 0;
              report({
                increment: Math.max(0, pct - done),
                message: `${p.completed}/${p.total} answered · ${p.errors} without answer${p.phase === 'draining' ? ' · waiting for the last answers' : ''}`,
              });
              done = Math.max(done, pct);
            },
          });
        } finally {
          sub.dispose();
        }
      });
      const lines = backend.describeTraffic(result);
      for (const l of lines) ctx.log.info(`traffic ${label}: ${l}`);
      void showInfo(`${label}: ${lines.join(' · ')}`);
      return result;
    });
  };
}
