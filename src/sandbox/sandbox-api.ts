/**
 * The sandbox's public shape: the options startSandbox takes (SandboxOptions) and the handle
 * it returns (Sandbox), with its fault injection (SandboxFaults) and controls over the
 * controllers (SandboxControls). index.ts builds it; it re-exports these types.
 */
import type { ArgoController } from './argocd';
import type { KServeController, KServeDialect } from './kserve';
import type { PrometheusAuthRecord, RevisionBehavior } from './inference';
import type { PipelineChange } from './pipeline';
import type { ObjectStore } from './store';
import type { KObject } from './types';

export interface SandboxOptions {
  /** Data dir; default: a fresh temp dir (removed by nobody: pass your own to clean it). */
  dir?: string;
  /** 0 = ephemeral. */
  port?: number;
  /** Argo CD: delay between noticing a commit (OutOfSync, Running) and Synced. Default 1500. */
  syncDelayMs?: number;
  /** KServe: delay between a spec change and the status catching up. Default 1000. */
  rolloutDelayMs?: number;
  /** Argo CD: how often the branch head is read. Default 200. */
  pollMs?: number;
  /** Seed namespaces, repo and objects on a new dir. Default true. */
  seed?: boolean;
  /** User name (namespaces `<user>-test` etc.). Default `user1`. */
  user?: string;
  /** Namespaces answered with 403. */
  forbiddenNamespaces?: string[];
  /**
   * Namespaces the user may only read (get, list, watch; writes 403), as the `view` role.
   * Default `[<user>-toolings]`, the workshop's binding: no refresh annotation on Applications.
   */
  viewOnlyNamespaces?: string[];
  /** Watch window: events kept for watches from an older resourceVersion. Default 1000. */
  watchWindow?: number;
  /** BOOKMARK interval on watches that allow bookmarks. Default 5000. */
  bookmarkMs?: number;
  /** Argo CD selfHeal. Default true. */
  selfHeal?: boolean;
  /**
   * Serve inference (`POST <status.url>/v2/models/<name>/infer`, status.url then being a
   * loopback http URL) and a Prometheus query API over the requests served
   * (`prometheusUrl`). Default false: status.url is `https://<name>-<ns>.apps.sandbox.example`.
   */
  inference?: boolean;
  /**
   * How KServe spells status.deploymentMode: `current` (0.16 and later: Knative, Standard,
   * ModelMesh) or `legacy` (before 0.16: Serverless, RawDeployment, ModelMesh). The annotation
   * is accepted in both spellings, in any case. Default `legacy`.
   */
  kserveDialect?: KServeDialect;
}

export interface SandboxFaults {
  /** End every open watch (abrupt: reset the connection instead of ending the stream). */
  dropWatches(opts?: { abrupt?: boolean }): void;
  /** Answer every request with 500 for `seconds`. */
  failRequests(seconds: number): void;
  /** Delay every answer by `ms` (0 to stop). */
  setDelay(ms: number): void;
  /** Compact the watch history: watches from any version before now get 410 Gone. */
  expireResourceVersions(opts?: { dropWatches?: boolean }): void;
  /** New watches stay open but never send anything (on) or behave (off). */
  silentWatches(on: boolean): void;
  /** Write one line that is not JSON into every open watch stream. */
  injectMalformedWatchEvent(): void;
  /** Create an InferenceService of about `bytes` (big annotation), returns it. */
  addLargeObject(namespace: string, name: string, bytes?: number): KObject;
  /**
   * A new token (the old one gets 401, like an expired login). The token file is rewritten;
   * the kubeconfig too unless `rewriteKubeconfig: false` (then clients stay logged out until
   * `refreshKubeconfig()`, like `oc login`).
   */
  rotateToken(opts?: { rewriteKubeconfig?: boolean }): void;
  /** Write the kubeconfig again with the current token. */
  refreshKubeconfig(): void;
  /** Stop answering for `ms` (server down, port closed), then come back with the same data. */
  outage(ms: number): Promise<void>;
  readonly openWatches: number;
  /** Clear delay, failures and silent watches. */
  reset(): void;
}

export interface SandboxControls {
  kserve: KServeController;
  argo: ArgoController;
  store: ObjectStore;
  /** New revisions of this service fail readiness (the unrolled latest one too). */
  failRevision(namespace: string, name: string, message?: string): void;
  /** Undo failRevision: failed revisions become ready. */
  healRevision(namespace: string, name: string): void;
  /** Set or clear (undefined) annotation serving.kserve.io/deploymentMode. */
  setDeploymentMode(namespace: string, name: string, mode: string | undefined): void;
  /** Set or clear annotation serving.kserve.io/enable-tag-routing. */
  setTagRouting(namespace: string, name: string, on: boolean): void;
  /** 403 for this namespace (true) or not (false). */
  forbid(namespace: string, on?: boolean): void;
  /** Only read (true: writes 403) in this namespace, or edit (false). */
  viewOnly(namespace: string, on?: boolean): void;
  /** Allow or refuse cluster-wide lists. */
  allowClusterWide(on: boolean): void;
  /**
   * Inference only: how a revision answers (`errorRate` 0..1: every round(1/errorRate)-th
   * request is a 500; `latencyMs` before each answer).
   */
  setRevisionBehavior(namespace: string, revision: string, behavior: RevisionBehavior): void;
  /** Read the gitops head now instead of waiting for the next poll. */
  pollGit(): Promise<void>;
  /** Pause (or resume) the Argo CD controller entirely, like Argo CD being down. */
  pauseArgo(on: boolean): void;
  /**
   * The CI pipeline's commit from its own clone: set `version` (and/or image fields) of
   * `model-deployments/<env>/<model>/config.yaml` in place and push to main. Returns the sha.
   */
  pipelinePush(env: string, model: string, change: PipelineChange): Promise<string>;
}

export interface Sandbox {
  server: string;
  port: number;
  dir: string;
  kubeconfigPath: string;
  tokenFile: string;
  caFile: string;
  gitopsRemote: string;
  gitopsClone: string;
  user: string;
  context: string;
  /** How status.deploymentMode is spelled (SandboxOptions.kserveDialect). */
  kserveDialect: KServeDialect;
  faults: SandboxFaults;
  controller: SandboxControls;
  /** The object store (same as controller.store; replaced by restart()). */
  readonly store: ObjectStore;
  /**
   * With `inference: true`: base URL of the Prometheus query API over https (the sandbox CA,
   * caFile, signs its certificate; needs the sandbox token, 401 otherwise; 403 while
   * cluster-wide access is refused).
   */
  readonly prometheusUrl: string | undefined;
  /** The same API over plain http (for tests that prove no credential is sent over http). */
  readonly prometheusHttpUrl: string | undefined;
  /** The queries the Prometheus API received: scheme and kind of credential, oldest first. */
  readonly prometheusAuthLog: readonly PrometheusAuthRecord[];
  stop(): Promise<void>;
  restart(): Promise<void>;
}
