/**
 * `--wait` for set / promote / rollback: after the push, follow the change until the cluster
 * serves it (Argo CD synced at the pushed sha, KServe split equal to the new value), printing
 * each step. Registered as a change extension (src/cli/groups/git.ts). Its options (--timeout,
 * --kubeconfig, --context) are checked before anything is written; it hands the change use case
 * (src/app/change.ts) a cluster to follow on, which comes with the cluster commands
 * (src/cli/wait-follow.ts) and is loaded only with --wait.
 */
import type { ChangeExtension } from './change';
import type { Parsed } from './args';
import { checkClusterOptions, CLUSTER_OPTIONS, CLUSTER_USAGE } from './cluster-options';
import { durationOption } from './options';
import { usageError } from './output';

const DEFAULT_TIMEOUT_MS = 300_000;
const MAX_TIMEOUT_MS = 24 * 3_600_000;

function timeoutMs(command: string, values: Parsed['values']): number {
  return durationOption(command, values, 'timeout', DEFAULT_TIMEOUT_MS, { min: 1000, max: MAX_TIMEOUT_MS })!;
}

export const waitExtension: ChangeExtension = {
  options: { ...CLUSTER_OPTIONS, wait: { type: 'boolean', short: 'w' }, timeout: { type: 'string' } },
  usage: `  -w, --wait             after pushing, follow until the cluster serves the change
                         (pushed → Argo CD synced → KServe rolled out); with
                         --pull-request, first until the pull request is merged
      --timeout <d>      how long --wait waits: 90 (seconds), 30s, 5m, 1h (default 5m)
${CLUSTER_USAGE}`,
  check(command, values, io) {
    const wait = values.wait === true;
    timeoutMs(command, values);
    if (!wait && values.timeout !== undefined) throw usageError(`${command}: --timeout only applies with --wait.`, 'Add --wait, or leave --timeout out.');
    if (wait && values['no-push'] === true)
      throw usageError(`${command}: --wait and --no-push exclude each other: the cluster cannot see a commit that is not pushed.`, 'Leave one of them out.');
    checkClusterOptions(command, values, io, wait);
  },
  follow(ctx) {
    if (ctx.values.wait !== true) return undefined;
    let cluster: typeof import('./wait-follow') | undefined;
    return {
      timeoutMs: timeoutMs(ctx.command, ctx.values),
      whenUnchanged: true,
      untilMerged: true,
      open: async () => {
        cluster = await import('./groups/cluster');
        return cluster.followOn(ctx);
      },
      ...(ctx.document ? {} : { onStep: (s) => ctx.io.stdout(`  ${s.waiting ? '…' : '✓'} ${s.message}\n`) }),
      ...(ctx.document
        ? {}
        : {
            onMerged: (m) =>
              ctx.io.stdout(`  ✓ Merged into ${m.base} at ${m.upstreamSha.slice(0, 7)}${m.how === 'same-value' ? ' (squashed or rebased)' : ''}\n`),
          }),
      ...(ctx.document ? {} : { onLive: (final) => ctx.io.stdout(`${cluster!.liveLine(ctx, final)}\n`) }),
    };
  },
};
