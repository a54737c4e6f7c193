/**
 * Public API of the cluster layer (consumed by src/ui and src/cli).
 *
 * - `createClusterStore()` connects with the user's kubeconfig (loaded lazily), watches
 *   InferenceServices in every environment's namespace, the Argo CD Applications and the
 *   Grafana Route in the toolings namespace, joins them with the desired state read from the
 *   gitops checkout, and keeps a snapshot of `ServiceState` rows (src/cluster/types.ts).
 * - Changes are announced per service (`onDidChangeServices(keys)`), coalesced over a short
 *   window, so a UI refreshes the rows that changed and nothing else.
 * - Connection problems are classified once per episode (`ConnectionState.problem`,
 *   `ConnectionState.episode`) and recovery is automatic (backoff 1 s → 30 s with jitter).
 * - `follow()` waits for a pushed commit to be live (Argo CD synced at the sha, KServe split
 *   equal to the new value) with progress steps and a timeout naming the stuck step.
 *
 * - `createClusterStore()` resolves once git is read; connecting goes on in the background
 *   (`connection().phase` 'connecting' → 'connected'); `ready()` waits for the first lists.
 *
 * Nothing here imports `vscode`; `@kubernetes/client-node` is loaded with a dynamic import on
 * first connection only.
 */
export type {
  ApplicationState,
  ClusterErrorKind,
  ClusterProblem,
  ConnectionPhase,
  ConnectionState,
  DesiredState,
  ServiceState,
  TrafficTarget,
  Verdict,
} from './types';
export type {
  ClusterLogger,
  ClusterSettings,
  ClusterStore,
  ClusterStoreOptions,
  EnvironmentInfo,
  FollowRequest,
  FollowStep,
  GitopsSource,
  GrafanaRoute,
} from './api';
export { createClusterStore } from './store';
export { deriveService, observeInferenceService, joinService, liveMatches, printerColumns } from './derive';
export { grafanaRouteUrl } from './route';
// Observed split, rollout gates and rollout ports (Prometheus / Thanos): see metrics.ts, observed.ts, rollout-ports.ts.
export { createMetricsClient, metricsFromSettings, observedSplit, readGates } from './metrics';
export type { MetricsClient, MetricsKube, PrometheusSettings, ServiceRef } from './metrics';
export { createObservedTracker } from './observed';
export type { ObservedTracker, ObservedTrackerOptions } from './observed';
export { clusterRolloutPorts, rolloutPorts } from './rollout-ports';
