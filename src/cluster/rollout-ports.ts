/**
 * The cluster side of the rollout engine's ports (src/core/rollout.ts): following a pushed
 * step with the ClusterStore until the InferenceService serves it, and reading the gates
 * of the canary revision from Prometheus. Used by the CLI and the extension alike.
 */
import { systemClock, type ApprovalAnswer, type ApprovalRequest, type RolloutPorts } from '../core/rollout';
import { gitRolloutPorts, type GitPortOptions } from '../core/rollout-git';
import type { ClusterStore } from './api';
import { readGates, type MetricsClient } from './metrics';

export interface ClusterPortOptions {
  env: string;
  model: string;
  /** How long one step may take to go live, default 300000 ms. */
  followTimeoutMs?: number;
}

export function clusterRolloutPorts(store: ClusterStore, o: ClusterPortOptions, metrics: MetricsClient | undefined): Pick<RolloutPorts, 'follow' | 'gates'> {
  const ports: Pick<RolloutPorts, 'follow' | 'gates'> = {
    follow: async (req, signal) => {
      await store.reloadDesired().catch(() => undefined);
      const s = await store.follow({
        env: o.env,
        model: o.model,
        sha: req.sha,
        percent: req.percent,
        signal,
        ...(o.followTimeoutMs ? { timeoutMs: o.followTimeoutMs } : {}),
        onStep: (step) => req.onProgress?.(step.message),
      });
      return {
        namespace: s.namespace,
        ...((s.latestRevision ?? s.latestReadyRevision) ? { latestRevision: (s.latestRevision ?? s.latestReadyRevision)! } : {}),
      };
    },
  };
  if (metrics) ports.gates = (q, signal) => readGates(metrics, { ...q, signal });
  return ports;
}

/**
 * Every port the engine needs, for the CLI and the workbench alike: git (read state, publish
 * steps), the cluster (follow until live), Prometheus (gates; undefined = none), the real
 * clock, and how to ask for an approval (absent: only RolloutRun.approve() approves).
 */
export function rolloutPorts(
  o: GitPortOptions & {
    store: ClusterStore;
    metrics: MetricsClient | undefined;
    followTimeoutMs?: number;
    approve?: (req: ApprovalRequest, signal: AbortSignal) => Promise<ApprovalAnswer>;
  },
): RolloutPorts {
  return {
    ...gitRolloutPorts(o),
    ...clusterRolloutPorts(o.store, { env: o.env, model: o.model, ...(o.followTimeoutMs ? { followTimeoutMs: o.followTimeoutMs } : {}) }, o.metrics),
    ...systemClock,
    ...(o.approve ? { approve: o.approve } : {}),
  };
}
