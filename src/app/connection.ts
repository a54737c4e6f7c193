/**
 * The connection use case: a cluster store over a kubeconfig (or the pod's service account),
 * a bounded first wait that turns a connection problem into an error, the Prometheus client
 * for gates and the observed split, and the observed-split tracker. The CLI maps its options
 * here (src/cli/cluster.ts); no vscode, no argv.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CanaryError } from '../core/errors';
import type { ClusterLogger, ClusterSettings, ClusterStore } from '../cluster/api';
import type { ConnectionState } from '../cluster/types';
import { createClusterStore } from '../cluster/index';
import { metricsFromSettings, type MetricsClient } from '../cluster/metrics';
import { createObservedTracker, type ObservedTracker } from '../cluster/observed';

/** The cluster settings (kubeconfig, context, namespaces) plus where the desired state comes from. */
export interface ConnectionOptions extends Omit<ClusterSettings, 'grafanaRouteName'> {
  /** The gitops checkout, for the desired state (DESIRED, verdicts); none: cluster only. */
  gitopsRoot?: string;
  deploymentsDir: string;
  processEnv: NodeJS.ProcessEnv;
  log: ClusterLogger;
  /** Re-read the checkout when it changes (a long-running watch). */
  watchGitops?: boolean;
  requestTimeoutMs?: number;
}

/** The store, not yet listed: call ready() before reading a snapshot. */
export function openClusterStore(o: ConnectionOptions): Promise<ClusterStore> {
  const { gitopsRoot, deploymentsDir, processEnv, log, watchGitops, requestTimeoutMs, ...cluster } = o;
  // only the settings given: an absent one keeps the store's default
  const settings: ClusterSettings = Object.fromEntries(Object.entries(cluster).filter(([, v]) => v !== undefined && v !== ''));
  return createClusterStore({
    settings,
    ...(gitopsRoot ? { gitops: { root: gitopsRoot, deploymentsDir } } : {}),
    log,
    env: processEnv,
    tuning: { watchKubeconfig: false, watchGitops: watchGitops ?? false, requestTimeoutMs: requestTimeoutMs ?? 15000 },
  });
}

/** The connection's problem as a CanaryError when it cuts everything off; undefined when connected. */
export function connectionError(c: ConnectionState): CanaryError | undefined {
  if (!c.problem || c.phase === 'connected') return undefined;
  return new CanaryError('cluster', c.problem.kind, c.problem.message, c.problem.hint);
}

/** Resolves after the first listing (or `waitMs`), whichever is first. */
export async function whenListed(store: ClusterStore, waitMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([store.ready(), new Promise<void>((r) => (timer = setTimeout(r, waitMs)))]);
  clearTimeout(timer);
}

/**
 * Connects and waits at most `waitMs` for the first listing; refuses with the connection
 * problem when there is one (said once, as the error: not also logged as a warning meanwhile).
 */
export async function connectCluster(o: ConnectionOptions, waitMs = 30000): Promise<ClusterStore> {
  let connecting = true;
  const store = await openClusterStore({
    ...o,
    log: {
      ...o.log,
      warn: (m) => {
        if (!connecting) o.log.warn(m);
      },
    },
  });
  await whenListed(store, waitMs);
  const err = connectionError(store.connection());
  if (err) {
    store.dispose();
    throw err;
  }
  connecting = false;
  return store;
}

export interface PrometheusOptions {
  url: string;
  token?: string;
  /** PEM file of the Prometheus CA, relative to `cwd`. */
  caFile?: string;
  /** Where the CA file is named from, for the error ("$KSERVE_CANARY_PROMETHEUS_CA"). */
  caSource?: string;
  cwd?: string;
  /** The kubeconfig whose token and CA Prometheus may use (an OpenShift Thanos querier). */
  kubeconfigPath?: string;
  context?: string;
  processEnv: NodeJS.ProcessEnv;
}

/** The Prometheus client (gates, observed split); undefined without a URL. */
export async function prometheusClient(o: PrometheusOptions): Promise<MetricsClient | undefined> {
  if (!o.url) return undefined;
  let ca: string | undefined;
  if (o.caFile) {
    ca = await readFile(path.resolve(o.cwd ?? '.', o.caFile), 'utf8').catch(() => {
      throw new CanaryError(
        'invalid-input',
        'bad-prometheus-ca',
        `Could not read the Prometheus CA file ${o.caFile}${o.caSource ? ` (${o.caSource})` : ''}.`,
        'Point it at a PEM file.',
      );
    });
  }
  return metricsFromSettings(
    { url: o.url, ...(o.token ? { token: o.token } : {}), ...(ca ? { ca } : {}) },
    { ...(o.kubeconfigPath ? { kubeconfigPath: o.kubeconfigPath } : {}), ...(o.context ? { context: o.context } : {}), env: o.processEnv },
  );
}

/** The split each revision really served, refreshed every `intervalMs` over `windowMs`. */
export function observeSplit(store: ClusterStore, metrics: MetricsClient | undefined, o: { windowMs?: number; intervalMs?: number } = {}): ObservedTracker {
  return createObservedTracker(store, metrics, o);
}
