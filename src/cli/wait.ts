/**
 * `--wait` for set / promote / rollback: after the push, follow the change until the cluster
 * serves it (Argo CD synced at the pushed sha, KServe split equal to the new value), printing
 * each step. Registered as a change extension (src/cli/groups/git.ts). The following itself
 * (src/cli/wait-follow.ts) comes with the cluster commands and is loaded only with --wait.
 */
import { CanaryError } from '../core/errors';
import type { ChangeExtension } from './change';
import { CLUSTER_OPTIONS, CLUSTER_USAGE } from './cluster-options';

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
    const { followChange } = await import('./groups/cluster');
    return followChange(result, ctx, timeoutS);
  },
};
