/**
 * Cluster and Prometheus access for the CLI commands that need them (traffic, rollout):
 * options, connecting a ClusterStore with a bounded wait, and the Prometheus client from
 * --prometheus / environment variables. Tokens are read from the environment or the
 * kubeconfig, never from the command line (it would end up in shell history and `ps`).
 */
import { CanaryError } from '../core/errors';
import type { ClusterStore } from '../cluster/api';
import { metricsFromSettings, type MetricsClient } from '../cluster/metrics';
import type { Parsed } from './args';
import { cliLogger, connectionError, openStore } from './commands/status';
import { CLUSTER_OPTIONS, CLUSTER_USAGE, PROMETHEUS_ENV } from './cluster-options';
import type { CliIO } from './command';

export { CLUSTER_OPTIONS, CLUSTER_USAGE, PROMETHEUS_ENV };

function str(values: Parsed['values'], name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/**
 * Connects to the cluster (status's openStore: kubeconfig/context options) and waits at
 * most `waitMs` for the first listing. Refuses with the connection problem when there is one.
 */
export async function connectStore(values: Parsed['values'], io: CliIO, gitopsRoot: string | undefined, waitMs = 30000): Promise<ClusterStore> {
  // Problems while connecting are thrown once below, not also logged as warnings.
  const log = cliLogger(io);
  let connecting = true;
  const store = await openStore(values, io, gitopsRoot, {
    ...log,
    warn: (m) => {
      if (!connecting) log.warn(m);
    },
  });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([store.ready(), new Promise<void>((r) => (timer = setTimeout(r, waitMs)))]);
  clearTimeout(timer);
  const err = connectionError(store.connection());
  if (err) {
    store.dispose();
    throw err;
  }
  connecting = false;
  return store;
}

/** The Prometheus client from --prometheus or $KSERVE_CANARY_PROMETHEUS_URL; undefined when neither is set. */
export async function prometheusFrom(values: Parsed['values'], io: CliIO): Promise<MetricsClient | undefined> {
  const url = str(values, 'prometheus') ?? io.env[PROMETHEUS_ENV.url];
  if (!url) return undefined;
  const token = io.env[PROMETHEUS_ENV.token];
  const ca = io.env[PROMETHEUS_ENV.ca];
  let caText: string | undefined;
  if (ca) {
    const { readFile } = await import('node:fs/promises');
    caText = await readFile(ca, 'utf8').catch(() => {
      throw new CanaryError('invalid-input', 'bad-prometheus-ca', `Could not read the Prometheus CA file ${ca} ($${PROMETHEUS_ENV.ca}).`, 'Point it at a PEM file.');
    });
  }
  const kubeconfigPath = str(values, 'kubeconfig');
  const context = str(values, 'context');
  return metricsFromSettings(
    { url, ...(token ? { token } : {}), ...(caText ? { ca: caText } : {}) },
    { ...(kubeconfigPath ? { kubeconfigPath } : {}), ...(context ? { context } : {}), env: io.env },
  );
}
