/**
 * Types of the cluster layer's public API. See src/cluster/index.ts for the overview.
 */
import type { ConnectionState, ServiceState } from './types';

/** Where the logs go (an output channel in the UI, stderr in the CLI). One line per call. */
export interface ClusterLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug?(message: string): void;
}

export interface ClusterSettings {
  /**
   * Explicit kubeconfig file(s) (several separated by the path delimiter, like KUBECONFIG).
   * Default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account.
   */
  kubeconfigPath?: string;
  /** Context to use instead of the kubeconfig's current-context. */
  context?: string;
  /** Namespace of an environment, default `{user}-{env}`. */
  namespacePattern?: string;
  /** `{user}`; default: derived from the current context's namespace (`user1-test` → `user1`). */
  user?: string;
  /** Toolings namespace (Argo CD Applications, Grafana Route); default `{user}-toolings`, falling back to `{user}-mlops`. */
  toolingsNamespace?: string;
  /** Environments to watch; default: the gitops checkout's folders, else the context namespace's environment. */
  environments?: string[];
  /** Name of the Grafana Route in the toolings namespace, default `jukebox-grafana-route`. */
  grafanaRouteName?: string;
}

/** The gitops checkout the desired state is read from. */
export interface GitopsSource {
  /** Absolute path of the checkout. */
  root: string;
  /** Folder holding the environments, default `model-deployments`. */
  deploymentsDir?: string;
}

export interface ClusterStoreOptions {
  settings: ClusterSettings;
  gitops?: GitopsSource;
  log?: ClusterLogger;
  /** Environment variables (KUBECONFIG, HOME); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Tuning, mostly for tests. */
  tuning?: {
    /** Change events are coalesced over this window (ms), default 50. */
    coalesceMs?: number;
    /** Backoff bounds (ms), default 1000 → 30000. */
    backoffInitialMs?: number;
    backoffMaxMs?: number;
    /** Timeout of one list request / of a watch's response headers (ms), default 30000. */
    requestTimeoutMs?: number;
    /** A watch that delivers nothing (not even a bookmark) for this long is restarted, default 90000. */
    watchIdleMs?: number;
    /** Debounce of kubeconfig file changes (ms), default 300. */
    kubeconfigDebounceMs?: number;
    /** An episode ends after this long without errors; a new error inside it is the same episode. Default 15000. */
    episodeQuietMs?: number;
    /** Use one cluster-wide watch (when allowed) from this many namespaces on, default 4. */
    clusterWideFrom?: number;
    /** Watch kubeconfig files for changes, default true. */
    watchKubeconfig?: boolean;
    /** Re-read the desired state when the gitops checkout changes (edits, commits, pulls), default true. */
    watchGitops?: boolean;
  };
}

export interface EnvironmentInfo {
  env: string;
  namespace: string;
  context?: string;
}

export interface GrafanaRoute {
  host: string;
  path?: string;
  tls: boolean;
  /** `https://host/path` or `http://…`, read from the Route, never guessed. */
  url: string;
}

/** `refresh`: whether Argo CD was asked to refresh, or the follow waits for its own poll of git. */
export type FollowStepName = 'pushed' | 'refresh' | 'synced' | 'rolled-out';

/** What became of the refresh request: sent, not allowed (view only), or failed otherwise. */
export type RefreshOutcome = 'asked' | 'not-allowed' | 'failed';

export interface FollowStep {
  step: FollowStepName;
  /** One line for the user, e.g. `Argo CD synced jukebox-test at 1a2b3c4`. */
  message: string;
  /** The line says what the follow waits for, not what happened (the CLI marks it `…`, not `✓`). */
  waiting?: boolean;
  /** The service as seen when the step was reached. */
  state: ServiceState | undefined;
}

export interface FollowRequest {
  env: string;
  /** Model folder name (also the InferenceService name unless git says otherwise). */
  model: string;
  /** Pushed commit sha. */
  sha: string;
  /** The new canaryTrafficPercent; undefined = promoted (100% latest). */
  percent: number | undefined;
  /** Default 300000 (5 min). */
  timeoutMs?: number;
  signal?: AbortSignal;
  onStep?: (s: FollowStep) => void;
  /** Ask Argo CD to refresh the Application once (annotation), default true. */
  requestRefresh?: boolean;
  /**
   * A connection problem that may be a blip (unreachable, timeout, server error) ends the
   * follow when it lasts this long (ms), default 10000. Problems that waiting does not cure
   * (unauthorized, forbidden, TLS, no kubeconfig, invalid settings) end it at once. Either
   * way the error says what happened, what to do, and that the commit is pushed.
   */
  problemGraceMs?: number;
}

export interface ClusterStore {
  connection(): ConnectionState;
  /** Every known service, sorted by env then name. */
  services(): ServiceState[];
  /** By key `<namespace>/<name>`. */
  get(key: string): ServiceState | undefined;
  /** By environment and model (folder or InferenceService name). */
  find(env: string, model: string): ServiceState | undefined;
  environments(): EnvironmentInfo[];
  grafanaRoute(): GrafanaRoute | undefined;
  /** Keys of the services that changed (added, updated or removed), coalesced. */
  onDidChangeServices(listener: (keys: string[]) => void): () => void;
  onDidChangeConnection(listener: (s: ConnectionState) => void): () => void;
  /**
   * Resolves once connected (kubeconfig and client loaded, watches started) and every watch has
   * listed once or failed once. createClusterStore() returns before that: call ready() before
   * reading a snapshot that must reflect the cluster (the CLI does); a UI can render at once and
   * follow the change events instead.
   */
  ready(): Promise<void>;
  /** Relist everything now. */
  refresh(): Promise<void>;
  /** Re-read the desired state from the gitops checkout (after a commit, pull or edit). */
  reloadDesired(): Promise<void>;
  /** Reconnect, optionally with changed settings (also happens by itself when the kubeconfig changes). */
  reconnect(settings?: Partial<ClusterSettings>): Promise<void>;
  follow(req: FollowRequest): Promise<ServiceState>;
  dispose(): void;
}
