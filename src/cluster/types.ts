/**
 * The live model the UI and the CLI consume. Derived from cluster objects (and the
 * desired state from git) by src/cluster; rendered by src/ui and src/cli without
 * further business rules.
 */

/** One Knative traffic target as KServe reports it in status.components.predictor.traffic[]. */
export interface TrafficTarget {
  revisionName: string | undefined;
  percent: number | undefined;
  tag: string | undefined;
  latestRevision: boolean;
  /** Tagged URL, present only with tag routing. Read, never built. */
  url: string | undefined;
}

/**
 * One word for "does the cluster serve what git says":
 * - live: git = cluster (Application synced at HEAD or absent, spec and traffic match);
 * - syncing: pushed, not applied yet (Argo CD OutOfSync/operation running, or KServe rolling out);
 * - drift: cluster differs from git and Argo CD says Synced or is absent;
 * - unsupported: Standard/RawDeployment or ModelMesh mode, canary is ignored;
 * - not-ready: Ready False, nothing serves, the newest revision or model failed, or stopped;
 * - unknown: not enough data yet (no status), or Argo CD cannot compare (sync missing/Unknown).
 * The rules, per KServe and Argo CD version: src/cluster/derive.ts.
 */
export type Verdict = 'live' | 'syncing' | 'drift' | 'unsupported' | 'not-ready' | 'unknown';

export interface ApplicationState {
  name: string;
  namespace: string;
  /** Synced | OutOfSync | Unknown */
  syncStatus: string | undefined;
  /**
   * The commit Argo CD compared for the gitops checkout: status.sync.revision (single source),
   * or revisions[i] of the source that is the checkout's remote (multi-source, once resolved).
   */
  revision: string | undefined;
  /** Multi-source Applications: each source (status.sync.comparedTo.sources / spec.sources) with its revision. */
  sources?: { repoURL: string; revision: string | undefined }[];
  /** Multi-source, resolved: index of the source that is the checkout's remote, -1 when none is. */
  trackedSource?: number;
  /** The first error condition (ComparisonError, InvalidSpecError, …) of status.conditions. */
  condition?: { type: string; message: string };
  /** Healthy | Progressing | Degraded | Suspended | Missing | Unknown */
  healthStatus: string | undefined;
  healthMessage: string | undefined;
  /** status.operationState.phase */
  operationPhase: string | undefined;
  operationMessage: string | undefined;
}

export interface DesiredState {
  /** The canaryTrafficPercent git asks for; undefined = none (100% latest). */
  percent: number | undefined;
  version: string | undefined;
  /** HEAD commit of the gitops checkout when read, if known. */
  commit: string | undefined;
  /** Upstream of HEAD's branch (last pushed/fetched), when known: HEAD != upstream means local commits not pushed. */
  upstream?: string;
  /** URL of the checkout's remote (picks the source of a multi-source Application), when known. */
  remote?: string;
}

export interface ServiceState {
  /** Stable identity: `<namespace>/<name>`. */
  key: string;
  env: string;
  namespace: string;
  name: string;
  creationTimestamp: string | undefined;
  url: string | undefined;
  /** Ready condition: true / false / undefined (unknown). */
  ready: boolean | undefined;
  /** Message of the failing condition when not ready. */
  readyMessage: string | undefined;
  /** Printer columns, exactly as `oc get isvc` computes them. */
  prevPercent: number | undefined;
  latestPercent: number | undefined;
  prevRevision: string | undefined;
  latestRevision: string | undefined;
  traffic: TrafficTarget[];
  latestCreatedRevision: string | undefined;
  latestReadyRevision: string | undefined;
  /** latestCreatedRevision != latestReadyRevision */
  newRevisionNotReady: boolean;
  /** As the cluster spells it: `Knative`/`Serverless`, `Standard`/`RawDeployment`, `ModelMesh`. */
  deploymentMode: string;
  canarySupported: boolean;
  /** spec.predictor.canaryTrafficPercent as applied to the cluster. */
  specPercent: number | undefined;
  generation: number | undefined;
  observedGeneration: number | undefined;
  /** KServe is rolling out (decided from the status, not from generation vs observedGeneration). */
  rollingOut: boolean;
  application: ApplicationState | undefined;
  desired: DesiredState | undefined;
  verdict: Verdict;
  /** One sentence explaining the verdict, for tooltips and `status`. */
  verdictReason: string;
  /** Model folder in the gitops checkout, when the service is in git (may differ from `name`). */
  model?: string;
  /** True when no InferenceService exists for it (known only from git). */
  missing?: boolean;
  /** status.components.predictor.latestRolledoutRevision / previousRolledoutRevision. */
  latestRolledoutRevision?: string;
  previousRolledoutRevision?: string;
}

export type ConnectionPhase = 'idle' | 'connecting' | 'connected' | 'disconnected';

/** Error classes, decided once per episode. */
export type ClusterErrorKind =
  | 'no-kubeconfig'
  | 'unauthorized'
  | 'forbidden'
  | 'unreachable'
  | 'tls'
  | 'timeout'
  | 'server-error'
  /** A setting (environments, user, namespace pattern, toolings namespace) gives no valid namespace. */
  | 'invalid-settings'
  | 'other';

export interface ClusterProblem {
  kind: ClusterErrorKind;
  /** What happened, for the user. Never holds a token. */
  message: string;
  /** What to do about it. */
  hint: string;
  /** Namespace concerned (forbidden), when known. */
  namespace?: string;
}

export interface ConnectionState {
  phase: ConnectionPhase;
  context: string | undefined;
  server: string | undefined;
  /** Since when the current phase holds (ISO string). */
  since: string;
  problem: ClusterProblem | undefined;
  /**
   * Increments when a new problem episode starts (a problem after a quiet period without
   * errors). Notify the user when it changes, not on every phase flip.
   */
  episode?: number;
  /** While disconnected: when the connection was last fine (ISO), for "disconnected since …". */
  disconnectedSince?: string;
}
