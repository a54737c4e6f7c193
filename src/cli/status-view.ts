/**
 * What `kserve-canary status` prints: the table (the columns of `oc get isvc` plus ENV, DESIRED,
 * SYNC, STATE, and OBSERVED with Prometheus), the notes under it, and the --json document
 * (schemaVersion 1). Pure rendering of store snapshots; the command is src/cli/commands/status.ts.
 */
import type { ConnectionState, ServiceState } from '../cluster/types';
import type { ObservedSplit } from '../core/observed';
import { humanAge, shortSha } from '../core/format';
import { formatTable } from './output';

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
  const extra = s
    ? [s.missing ? '' : s.deploymentMode, s.application?.healthStatus ?? '', cell(s.latestCreatedRevision)]
    : ['MODE', 'HEALTH', 'LATESTCREATEDREVISION'];
  return [env!, s ? s.namespace : 'NAMESPACE', ...rest, ...extra];
}

export function renderTable(services: ServiceState[], conn: ConnectionState, now = Date.now(), observed?: ObservedOf, wide = false): string {
  const withObserved = <T>(row: T[], cell: (i: number) => T): T[] => (observed ? [...row.slice(0, OBSERVED_AT), cell(0), ...row.slice(OBSERVED_AT)] : row);
  const header = withObserved(HEADER, () => 'OBSERVED');
  const rows = services.map((s) => withObserved(statusRow(s, now), () => observedCell(s, observed?.(s))));
  let out = wide
    ? formatTable(
        widen(header, undefined),
        rows.map((r, i) => widen(r, services[i])),
      )
    : formatTable(header, rows);
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
      problem: conn.problem
        ? { kind: conn.problem.kind, message: conn.problem.message, hint: conn.problem.hint, namespace: nul(conn.problem.namespace) }
        : null,
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
      traffic: s.traffic.map((t) => ({
        revisionName: nul(t.revisionName),
        percent: nul(t.percent),
        tag: nul(t.tag),
        latestRevision: t.latestRevision,
        url: nul(t.url),
      })),
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
