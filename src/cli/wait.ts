/**
 * `--wait` for set / promote / rollback: after the push, follow the change until the cluster
 * serves it (Argo CD synced at the pushed sha, KServe split equal to the new value), printing
 * each step. Registered as a change extension (src/cli/change.ts).
 */
import { CanaryError } from '../core/errors';
import { describeLive, shortSha } from '../cluster/derive';
import type { ChangeExtension } from './change';
import { cliLogger, CLUSTER_OPTIONS, CLUSTER_USAGE, openStore } from './commands/status';

const DEFAULT_TIMEOUT_S = 300;

export const waitExtension: ChangeExtension = {
  options: { ...CLUSTER_OPTIONS, wait: { type: 'boolean', short: 'w' }, timeout: { type: 'string' } },
  usage: `  -w, --wait             after pushing, follow until the cluster serves the change
                         (pushed → Argo CD synced → KServe rolled out)
      --timeout <s>      how long --wait waits, in seconds (default ${DEFAULT_TIMEOUT_S})
${CLUSTER_USAGE}`,
  async afterPublish(result, ctx) {
    const { values, io } = ctx;
    if (values.wait !== true) return undefined;
    let timeoutS = DEFAULT_TIMEOUT_S;
    if (values.timeout !== undefined) {
      timeoutS = Number(values.timeout);
      if (!/^\d+$/.test(String(values.timeout)) || timeoutS <= 0) {
        throw new CanaryError('invalid-input', 'usage', `${ctx.command}: --timeout must be a whole number of seconds, got ${JSON.stringify(values.timeout)}.`, 'For example: --timeout 600');
      }
    }
    if (!result.pushed && result.changed) {
      io.stderr('warning: --wait: the change was committed but not pushed; the cluster cannot see it.\n');
      return 1;
    }
    const store = await openStore(values, io, ctx.root, cliLogger(io));
    try {
      const final = await store.follow({
        env: ctx.env,
        model: ctx.model,
        sha: result.sha,
        percent: result.after.desiredPercent,
        timeoutMs: timeoutS * 1000,
        signal: io.signal,
        onStep: (s) => io.stdout(`  ✓ ${s.message}\n`),
      });
      const app = final.application;
      const sync = app ? `, ${app.syncStatus} at ${shortSha(app.revision)}` : '';
      io.stdout(`${ctx.model} in ${ctx.env}: ${describeLive(final)}${sync}\n`);
      return 0;
    } finally {
      store.dispose();
    }
  },
};
