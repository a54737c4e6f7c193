/**
 * The cluster side of the rollout engine's ports (src/core/rollout.ts): following a pushed
 * step with the ClusterStore until the InferenceService serves it, and reading the gates
 * of the canary revision from Prometheus. Used by the CLI and the extension alike.
 */
import type { RolloutPorts } from '../core/rollout';
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
      return { namespace: s.namespace, ...(s.latestRevision ?? s.latestReadyRevision ? { latestRevision: (s.latestRevision ?? s.latestReadyRevision)! } : {}) };
    },
  };
  if (metrics) ports.gates = (q, signal) => readGates(metrics, { ...q, signal });
  return ports;
}

