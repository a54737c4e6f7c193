/**
 * `kserve-canary status`: what each model serves, in each environment, and whether the
 * cluster agrees with git. Columns of `oc get isvc` plus ENV, DESIRED, SYNC and STATE.
 */
import path from 'node:path';
import { CanaryError } from '../../core/errors';
import { findGitopsRoot } from '../../core/layout';
import { validateName } from '../../core/names';
import { createClusterStore } from '../../cluster/index';
import { shortSha } from '../../cluster/derive';
import type { ClusterLogger, ClusterSettings } from '../../cluster/api';
import type { Store } from '../../cluster/store';
import type { ConnectionState, ServiceState } from '../../cluster/types';
import { createObservedTracker, type ObservedTracker } from '../../cluster/observed';
import type { ObservedSplit } from '../../core/observed';
import { prometheusFrom } from '../cluster';
import { durationOption, environmentOption, formatDocument, outputOption, OUTPUT_OPTIONS, OUTPUT_USAGE, readScope, SCOPE_OPTIONS, SCOPE_USAGE } from '../options';
import { COMMON_OPTIONS, parse, type Parsed } from '../args';
import type { CliCommand, CliIO } from '../command';
import { CLEAR_SCREEN, formatTable, writeControl } from '../output';
import { checkClusterOptions, checkPrometheusOptions, CLUSTER_OPTIONS, CLUSTER_USAGE } from '../cluster-options';
import { SUMMARIES } from './summaries';

export { CLUSTER_OPTIONS, CLUSTER_USAGE };

const USAGE = `Usage: kserve-canary status [<model>] [--env <env> | -n <namespace>] [-o json|yaml|wide] [--watch]
                             [--prometheus <url>] [--window <d>]
                             [--kubeconfig <f>] [--context <c>] [--gitops <dir>]

Shows every InferenceService of every environment (namespace {user}-{env}) with the columns
of \`oc get isvc\`, plus:
  ENV       the environment
  DESIRED   the canaryTrafficPercent git asks for (none = no canary, 100% latest)
  SYNC      the Argo CD Application's sync status and revision
  STATE     live | syncing | drift | unsupported | not-ready | unknown
and, under the table, why each service that is not live is so. With Prometheus configured,
an OBSERVED column beside PREV/LATEST: the split the revisions really served over the window
(\`79/21 5m\` prev/latest, \`100 5m\` latest only), \`no traffic\` when no request was
counted, \`no metrics\` when the query failed (why, under the table); never guessed.

Options:
  -e, --env <env>        only this environment
      --json             print JSON (shape below) instead of the table
${OUTPUT_USAGE}
                         (wide: NAMESPACE, MODE, HEALTH, LATESTCREATEDREVISION; yaml: the
                         JSON document as YAML)
  -w, --watch            redraw on every change until Ctrl-C
      --gitops <dir>     gitops checkout for DESIRED (default: this folder or the nearest
                         parent holding model-deployments/; without one DESIRED is empty)
      --prometheus <url> Prometheus / Thanos base URL for OBSERVED (or
                         $KSERVE_CANARY_PROMETHEUS_URL); token from
                         $KSERVE_CANARY_PROMETHEUS_TOKEN, else the kubeconfig's
                         (https only; an explicit token with http is refused)
      --window <d>       range of the observed split: 90 (seconds), 30s, 5m, 1h (default 5m)
${CLUSTER_USAGE}
${SCOPE_USAGE}
  -h, --help             show this help

JSON (schemaVersion 1; absent values are null, never omitted; no credentials, ever):
  { "schemaVersion": 1,
    "connection": { "phase", "context", "server", "since", "problem": null | { "kind", "message", "hint", "namespace" } },
    "services": [ { "env", "namespace", "name", "model", "url", "ready", "readyMessage",
                    "prev", "latest", "prevRevision", "latestRevision", "creationTimestamp",
                    "traffic": [ { "revisionName", "percent", "tag", "latestRevision", "url" } ],
                    "latestCreatedRevision", "latestReadyRevision", "newRevisionNotReady",
                    "deploymentMode", "canarySupported", "specPercent", "rollingOut",
                    "desired": null | { "percent", "version", "commit" },
                    "application": null | { "name", "syncStatus", "revision", "healthStatus", "healthMessage", "operationPhase" },
                    "state", "reason",
                    "observed": null | { "kind": "observed" | "absent", "window", "prev", "latest",
                                         "totalRps", "byRevision", "source",
                                         "reason": null | "no-data" | "no-traffic" | "query-failed",
                                         "message", "at" } } ] }
  "observed" is null without Prometheus (and for a service with no InferenceService).
  With --watch --json: one such document per line, on every change (-o yaml: one YAML
  document per change, each starting with ---).

Exit codes: 0 shown, 1 not connected / not found, 2 bad input.

Examples:
  kserve-canary status
  kserve-canary status jukebox --env test --watch
`;

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

/** Opens a store for a CLI command (kubeconfig/context options, gitops root if any). */
export async function openStore(values: Parsed['values'], io: CliIO, gitopsRoot: string | undefined, log: ClusterLogger, watchGitops = false): Promise<Store> {
  const scope = readScope('kserve-canary', values, io);
  const settings: ClusterSettings = {
    ...(scope.namespacePattern !== undefined ? { namespacePattern: scope.namespacePattern } : {}),
    ...(scope.user !== undefined ? { user: scope.user } : {}),
    ...(scope.toolingsNamespace !== undefined ? { toolingsNamespace: scope.toolingsNamespace } : {}),
    ...(scope.environments !== undefined ? { environments: scope.environments } : {}),
  };
  if (typeof values.kubeconfig === 'string' && values.kubeconfig) {
    settings.kubeconfigPath = values.kubeconfig.split(path.delimiter).filter(Boolean).map((f) => path.resolve(io.cwd, f)).join(path.delimiter);
  }
  if (typeof values.context === 'string' && values.context) settings.context = values.context;
  return createClusterStore({
    settings,
    ...(gitopsRoot ? { gitops: { root: gitopsRoot, deploymentsDir: scope.deploymentsDir } } : {}),
    log,
    env: io.env,
    tuning: { watchKubeconfig: false, watchGitops, requestTimeoutMs: 15000 },
  });
}

/** Throws the connection's problem as a CanaryError when there is one that cuts everything off. */
export function connectionError(c: ConnectionState): CanaryError | undefined {
  if (!c.problem || c.phase === 'connected') return undefined;
  return new CanaryError('cluster', c.problem.kind, c.problem.message, c.problem.hint);
}

/** kubectl's short ages: 45s, 3m20s, 17m, 5h3m, 20h, 3d4h, 30d, 2y. */
export function humanAge(from: string | undefined, now = Date.now()): string {
  if (!from) return '<unknown>';
  const t = Date.parse(from);
  if (Number.isNaN(t)) return '<unknown>';
  const s = Math.max(0, Math.floor((now - t) / 1000));
  const m = Math.floor(s / 60);
  const h = Math.floor(m / 60);
  const d = Math.floor(h / 24);
  if (s < 120) return `${s}s`;
  if (m < 10) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  if (h < 3) return `${m}m`;
  if (h < 8) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  if (h < 48) return `${h}h`;
  if (d < 8) return h % 24 ? `${d}d${h % 24}h` : `${d}d`;
  if (d < 365 * 2) return `${d}d`;
  return `${Math.floor(d / 365)}y`;
}

const HEADER = ['ENV', 'NAME', 'URL', 'READY', 'PREV', 'LATEST', 'PREVROLLEDOUTREVISION', 'LATESTREADYREVISION', 'AGE', 'DESIRED', 'SYNC', 'STATE'];
const OBSERVED_AT = HEADER.indexOf('LATEST') + 1;

/** The observation of a service, when Prometheus is configured; undefined otherwise. */
export type ObservedOf = (s: ServiceState) => ObservedSplit | undefined;

/** The OBSERVED cell: `79/21 5m`, `100 5m`, `no traffic`, `no metrics`, `-` (no InferenceService / not measured yet). */
export function observedCell(s: ServiceState, o: ObservedSplit | undefined): string {
  if (s.missing || !o) return '-';
  if (o.kind === 'absent') return o.reason === 'no-data' || o.reason === 'no-traffic' ? 'no traffic' : 'no metrics';
  if (o.prevPercent === undefined && o.latestPercent === undefined) return `other ${o.window}`;
  const prev = o.prevPercent ?? 0;
  const latest = o.latestPercent ?? 0;
  return `${prev === 0 && latest === 100 ? '100' : `${prev}/${latest}`} ${o.window}`;
}

function cell(v: string | number | boolean | undefined): string {
  if (v === undefined) return '';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return String(v);
}

export function statusRow(s: ServiceState, now = Date.now()): string[] {
  const d = s.desired;
  const desired = d ? (d.percent === undefined ? 'none' : String(d.percent)) : '';
  const app = s.application;
  const sync = app ? `${app.syncStatus ?? 'Unknown'}${app.revision ? `@${shortSha(app.revision)}` : ''}` : '';
  return [
    s.env,
    s.name,
    cell(s.url),
    cell(s.ready),
    cell(s.prevPercent),
    cell(s.latestPercent),
    cell(s.prevRevision),
    cell(s.latestRevision),
    s.missing ? '' : humanAge(s.creationTimestamp, now),
    desired,
    sync,
    s.verdict,
  ];
}

/** -o wide: NAMESPACE after ENV; MODE, HEALTH (Argo CD) and LATESTCREATEDREVISION at the end. */
function widen(row: string[], s: ServiceState | undefined): string[] {
  const [env, ...rest] = row;
  const extra = s ? [s.missing ? '' : s.deploymentMode, s.application?.healthStatus ?? '', cell(s.latestCreatedRevision)] : ['MODE', 'HEALTH', 'LATESTCREATEDREVISION'];
  return [env!, s ? s.namespace : 'NAMESPACE', ...rest, ...extra];
}

export function renderTable(services: ServiceState[], conn: ConnectionState, now = Date.now(), observed?: ObservedOf, wide = false): string {
  const withObserved = <T>(row: T[], cell: (i: number) => T): T[] => (observed ? [...row.slice(0, OBSERVED_AT), cell(0), ...row.slice(OBSERVED_AT)] : row);
  const header = withObserved(HEADER, () => 'OBSERVED');
  const rows = services.map((s) => withObserved(statusRow(s, now), () => observedCell(s, observed?.(s))));
  let out = wide ? formatTable(widen(header, undefined), rows.map((r, i) => widen(r, services[i]))) : formatTable(header, rows);
  const notes = services.filter((s) => s.verdict !== 'live').map((s) => `  ${s.env}/${s.name}: ${s.verdictReason}`);
  // why metrics are missing, once per distinct reason
  const failures = new Set(services.map((s) => observed?.(s)).flatMap((o) => (o?.kind === 'absent' && o.reason === 'query-failed' ? [o.message] : [])));
  for (const m of failures) notes.push(`  observed: ${m}`);
  if (notes.length) out += `\n${notes.join('\n')}\n`;
  if (conn.problem) {
    out += `\n${conn.phase === 'disconnected' ? `disconnected since ${conn.disconnectedSince ?? conn.since}: ` : ''}${conn.problem.message}\n`;
  }
  return out;
}

const nul = <T>(v: T | undefined): T | null => (v === undefined ? null : v);

/** The stable --json shape (see the usage text). Built field by field: nothing else leaks in. */
function observedJson(o: ObservedSplit | undefined): unknown {
  if (!o) return null;
  const observed = o.kind === 'observed' ? o : undefined;
  const absent = o.kind === 'absent' ? o : undefined;
  return {
    kind: o.kind,
    window: o.window,
    prev: nul(observed?.prevPercent),
    latest: nul(observed?.latestPercent),
    totalRps: nul(observed?.totalRps),
    byRevision: observed ? { ...observed.byRevision } : null,
    source: nul(observed?.source),
    reason: nul(absent?.reason),
    message: nul(absent?.message),
    at: o.at,
  };
}

export function statusJson(services: ServiceState[], conn: ConnectionState, observed?: ObservedOf): unknown {
  return {
    schemaVersion: 1,
    connection: {
      phase: conn.phase,
      context: nul(conn.context),
      server: nul(conn.server),
      since: conn.since,
      problem: conn.problem ? { kind: conn.problem.kind, message: conn.problem.message, hint: conn.problem.hint, namespace: nul(conn.problem.namespace) } : null,
    },
    services: services.map((s) => ({
      env: s.env,
      namespace: s.namespace,
      name: s.name,
      model: nul(s.model),
      url: nul(s.url),
      ready: nul(s.ready),
      readyMessage: nul(s.readyMessage),
      prev: nul(s.prevPercent),
      latest: nul(s.latestPercent),
      prevRevision: nul(s.prevRevision),
      latestRevision: nul(s.latestRevision),
      creationTimestamp: nul(s.creationTimestamp),
      traffic: s.traffic.map((t) => ({ revisionName: nul(t.revisionName), percent: nul(t.percent), tag: nul(t.tag), latestRevision: t.latestRevision, url: nul(t.url) })),
      latestCreatedRevision: nul(s.latestCreatedRevision),
      latestReadyRevision: nul(s.latestReadyRevision),
      newRevisionNotReady: s.newRevisionNotReady,
      deploymentMode: s.deploymentMode,
      canarySupported: s.canarySupported,
      specPercent: nul(s.specPercent),
      rollingOut: s.rollingOut,
      desired: s.desired ? { percent: nul(s.desired.percent), version: nul(s.desired.version), commit: nul(s.desired.commit) } : null,
      application: s.application
        ? {
            name: s.application.name,
            syncStatus: nul(s.application.syncStatus),
            revision: nul(s.application.revision),
            healthStatus: nul(s.application.healthStatus),
            healthMessage: nul(s.application.healthMessage),
            operationPhase: nul(s.application.operationPhase),
          }
        : null,
      state: s.verdict,
      reason: s.verdictReason,
      observed: s.missing ? null : observedJson(observed?.(s)),
    })),
  };
}

export const statusCommand: CliCommand = {
  name: 'status',
  summary: SUMMARIES.status,
  usage: USAGE,
  options: {
    ...COMMON_OPTIONS, ...CLUSTER_OPTIONS, ...SCOPE_OPTIONS, ...OUTPUT_OPTIONS,
    env: { type: 'string', short: 'e' }, watch: { type: 'boolean', short: 'w' },
    prometheus: { type: 'string' }, window: { type: 'string' },
  },
  async run(argv: string[], io: CliIO): Promise<number> {
    const p = parse('status', argv, this.options, 1);
    if (p.values.help) {
      io.stdout(USAGE);
      return 0;
    }
    const model = p.positionals[0] !== undefined ? validateName('model', p.positionals[0]) : undefined;
    const scope = readScope('status', p.values, io);
    const format = outputOption('status', p.values);
    const watch = p.values.watch === true;
    const windowMs = durationOption('status', p.values, 'window', 300000, { min: 1000, max: 7 * 24 * 3_600_000 })!;
    checkClusterOptions('status', p.values, io);
    checkPrometheusOptions('status', p.values, io);
    const gitops = typeof p.values.gitops === 'string' && p.values.gitops ? path.resolve(io.cwd, p.values.gitops) : findGitopsRoot(io.cwd, scope.deploymentsDir);
    const env = await environmentOption('status', p.values, scope, gitops);
    const doc = format === 'json' || format === 'yaml' ? format : undefined;
    const metrics = await prometheusFrom(p.values, io);
    // Without --watch a connection problem ends the command as an error: not also a warning.
    const log = cliLogger(io);
    const store = await openStore(p.values, io, gitops, watch ? log : { ...log, warn: () => undefined }, watch);
    let tracker: ObservedTracker | undefined;
    try {
      let readyTimer: NodeJS.Timeout | undefined;
      await Promise.race([store.ready(), new Promise((r) => (readyTimer = setTimeout(r, 20000)))]);
      clearTimeout(readyTimer);
      const pick = () => store.services().filter((s) => (!env || s.env === env) && (!model || s.name === model || s.model === model));
      let observed: ObservedOf | undefined;
      if (metrics) {
        const t = createObservedTracker(store, metrics, { windowMs, intervalMs: watch ? 30000 : 3600000 });
        tracker = t;
        await t.refresh(pick().map((s) => s.key));
        observed = (s) => t.get(s.key);
      }
      const draw = (): void => {
        const services = pick();
        if (doc) io.stdout(formatDocument(doc, statusJson(services, store.connection(), observed), watch));
        else io.stdout(renderTable(services, store.connection(), Date.now(), observed, format === 'wide'));
      };
      if (!watch) {
        const err = connectionError(store.connection());
        if (err && !doc) throw err;
        const services = pick();
        if (!doc && services.length === 0) {
          const where = env ? ` in environment ${env}` : '';
          throw new CanaryError(
            'not-found',
            'no-service',
            model ? `No InferenceService or model named ${model}${where}.` : `No InferenceService found${where}.`,
            `Watched namespaces: ${store.environments().map((e) => e.namespace).join(', ') || 'none'}. Check --env, --context, or the gitops checkout.`,
          );
        }
        draw();
        return err ? 1 : 0;
      }
      // --watch: redraw on changes (coalesced) until Ctrl-C.
      const clear = () => {
        if (io.isTTY && !doc) writeControl(io, CLEAR_SCREEN);
      };
      let scheduled: NodeJS.Timeout | undefined;
      const redraw = () => {
        scheduled ??= setTimeout(() => {
          scheduled = undefined;
          clear();
          draw();
        }, 100);
      };
      clear();
      draw();
      const offS = store.onDidChangeServices(redraw);
      const offC = store.onDidChangeConnection(redraw);
      const offO = tracker?.onDidChange(redraw);
      await new Promise<void>((resolve) => {
        if (io.signal.aborted) return resolve();
        io.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      offS();
      offC();
      offO?.();
      if (scheduled) clearTimeout(scheduled);
      return 0;
    } finally {
      tracker?.dispose();
      store.dispose();
    }
  },
};
