/**
 * Cluster and Prometheus access for the CLI commands that need them (status, traffic, rollout,
 * --wait): their options mapped onto the connection use case (src/app/connection.ts). Tokens
 * are read from the environment or the kubeconfig, never from the command line (it would end
 * up in shell history and `ps`).
 */
import path from 'node:path';
import type { ClusterLogger, ClusterStore } from '../cluster/api';
import type { MetricsClient } from '../cluster/metrics';
import { connectCluster, openClusterStore, prometheusClient, type ConnectionOptions } from '../app/connection';
import type { Parsed } from './args';
import { CLUSTER_OPTIONS, CLUSTER_USAGE, PROMETHEUS_ENV } from './cluster-options';
import type { CliIO } from './command';
import { readScope } from './options';

export { CLUSTER_OPTIONS, CLUSTER_USAGE, PROMETHEUS_ENV };

function str(values: Parsed['values'], name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** A CLI logger: warnings on stderr (one per problem episode), info only when asked. */
export function cliLogger(io: CliIO, verbose = false): ClusterLogger {
  return {
    info: (m) => {
      if (verbose) io.stderr(`${m}\n`);
    },
    warn: (m) => io.stderr(`warning: ${m}\n`),
    error: (m) => io.stderr(`error: ${m}\n`),
  };
}

/** --kubeconfig (resolved against the current folder), --context and the scope options, as connection options. */
export function connectionOptions(
  values: Parsed['values'],
  io: CliIO,
  gitopsRoot: string | undefined,
  log: ClusterLogger,
  watchGitops = false,
): ConnectionOptions {
  const scope = readScope('kserve-canary', values, io);
  const kubeconfig = str(values, 'kubeconfig');
  const context = str(values, 'context');
  return {
    ...(scope.namespacePattern !== undefined ? { namespacePattern: scope.namespacePattern } : {}),
    ...(scope.user !== undefined ? { user: scope.user } : {}),
    ...(scope.toolingsNamespace !== undefined ? { toolingsNamespace: scope.toolingsNamespace } : {}),
    ...(scope.environments !== undefined ? { environments: scope.environments } : {}),
    ...(kubeconfig
      ? {
          kubeconfigPath: kubeconfig
            .split(path.delimiter)
            .filter(Boolean)
            .map((f) => path.resolve(io.cwd, f))
            .join(path.delimiter),
        }
      : {}),
    ...(context ? { context } : {}),
    ...(gitopsRoot ? { gitopsRoot } : {}),
    deploymentsDir: scope.deploymentsDir,
    processEnv: io.env,
    log,
    watchGitops,
  };
}

/** A store that is not listed yet (status --watch renders while it connects). */
export function openStore(values: Parsed['values'], io: CliIO, gitopsRoot: string | undefined, log: ClusterLogger, watchGitops = false): Promise<ClusterStore> {
  return openClusterStore(connectionOptions(values, io, gitopsRoot, log, watchGitops));
}

/** Connects and waits at most `waitMs` for the first listing; refuses with the connection problem. */
export function connectStore(values: Parsed['values'], io: CliIO, gitopsRoot: string | undefined, waitMs = 30000): Promise<ClusterStore> {
  return connectCluster(connectionOptions(values, io, gitopsRoot, cliLogger(io)), waitMs);
}

/** The Prometheus client from --prometheus or $KSERVE_CANARY_PROMETHEUS_URL; undefined when neither is set. */
export function prometheusFrom(values: Parsed['values'], io: CliIO): Promise<MetricsClient | undefined> {
  const url = str(values, 'prometheus') ?? io.env[PROMETHEUS_ENV.url];
  const token = io.env[PROMETHEUS_ENV.token];
  const ca = io.env[PROMETHEUS_ENV.ca];
  const kubeconfigPath = str(values, 'kubeconfig');
  const context = str(values, 'context');
  return prometheusClient({
    url: url ?? '',
    ...(token ? { token } : {}),
    ...(ca ? { caFile: ca, caSource: `$${PROMETHEUS_ENV.ca}`, cwd: io.cwd } : {}),
    ...(kubeconfigPath ? { kubeconfigPath } : {}),
    ...(context ? { context } : {}),
    processEnv: io.env,
  });
}
