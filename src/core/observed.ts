/**
 * The observed traffic split (what the revisions really served, from Prometheus) next to
 * the configured one, and pure helpers to show it. The data comes from
 * src/cluster/metrics.ts; the tree, tooltip, status bar and `kserve-canary status` render
 * it with the functions below and decide nothing else.
 *
 * Absent metrics are said to be absent, with the reason; a split is never guessed.
 */
import { formatDuration } from './plan';

export type ObservedSource = 'knative' | 'ovms';

export type AbsentReason =
  /** No Prometheus / Thanos URL configured. */
  | 'not-configured'
  /** The query worked but no series exists for this service. */
  | 'no-data'
  /** Series exist but every rate is 0 over the window. */
  | 'no-traffic'
  /** Prometheus could not be reached, refused us, or answered an error. */
  | 'query-failed';

export type ObservedSplit =
  | {
      kind: 'observed';
      /** Prometheus range, e.g. `5m`. */
      window: string;
      /** Requests per second per revision over the window. */
      byRevision: Record<string, number>;
      /** Shares (0..100, rounded) of the service's previous and latest revisions; undefined when not known. */
      prevPercent: number | undefined;
      latestPercent: number | undefined;
      totalRps: number;
      source: ObservedSource;
      /** When it was measured (ISO). */
      at: string;
    }
  | {
      kind: 'absent';
      window: string;
      reason: AbsentReason;
      /** One sentence for the user (never holds a token). */
      message: string;
      at: string;
    };

/** `5m` → `5 min`, `30s` → `30 s`, `1h` → `1 h`; other texts as they are. */
export function humanWindow(window: string): string {
  const m = /^(\d+)(s|m|h)$/.exec(window);
  if (!m) return window;
  return `${m[1]} ${m[2] === 'm' ? 'min' : m[2]}`;
}

/**
 * Shares in percent of `part` over `total`, rounded so that prev + latest = 100 when the
 * two revisions carry all the traffic.
 */
export function sharesOf(
  prevRps: number | undefined,
  latestRps: number | undefined,
  totalRps: number,
): { prev: number | undefined; latest: number | undefined } {
  if (!(totalRps > 0)) return { prev: undefined, latest: undefined };
  const latest = latestRps === undefined ? undefined : Math.round((latestRps / totalRps) * 100);
  let prev = prevRps === undefined ? undefined : Math.round((prevRps / totalRps) * 100);
  if (prev !== undefined && latest !== undefined && Math.abs(prevRps! + latestRps! - totalRps) < 1e-9 * Math.max(1, totalRps)) prev = 100 - latest;
  return { prev, latest };
}

/**
 * For the tree description and the status bar: `observed 79/21 over 5 min` (prev/latest,
 * like the configured split), `observed 100 over 5 min` when only the latest revision
 * served, `no traffic observed` or `no metrics` when absent.
 */
export function formatObserved(o: ObservedSplit | undefined): string {
  if (!o) return 'no metrics';
  if (o.kind === 'absent') {
    if (o.reason === 'no-traffic' || o.reason === 'no-data') return 'no traffic observed';
    return 'no metrics';
  }
  const over = `over ${humanWindow(o.window)}`;
  if (o.prevPercent === undefined && o.latestPercent === undefined) return `observed other revisions only ${over}`;
  const prev = o.prevPercent ?? 0;
  const latest = o.latestPercent ?? 0;
  return `observed ${latest === 100 && prev === 0 ? '100' : `${prev}/${latest}`} ${over}`;
}

/** One or more lines for a tooltip or `status`: the split, rates per revision, and the source; or why it is absent. */
export function describeObserved(o: ObservedSplit | undefined): string {
  if (!o) return 'Observed split: no metrics (no Prometheus query made).';
  if (o.kind === 'absent') return `Observed split over ${humanWindow(o.window)}: none. ${o.message}`;
  const revs = Object.entries(o.byRevision)
    .sort((a, b) => b[1] - a[1])
    .map(([r, v]) => `${r} ${formatRps(v)}`)
    .join(', ');
  const src = o.source === 'knative' ? 'Knative revision_request_count' : 'OpenVINO ovms_requests_success per pod';
  return `Observed split over ${humanWindow(o.window)}: ${formatObserved(o)
    .replace(/^observed /, '')
    .replace(/ over .*$/, '')} (prev/latest), ${formatRps(o.totalRps)} in total; ${revs} (${src}).`;
}

export function formatRps(rps: number): string {
  if (rps === 0) return '0 req/s';
  if (rps >= 10) return `${Math.round(rps)} req/s`;
  if (rps >= 0.1) return `${Math.round(rps * 10) / 10} req/s`;
  return `${Math.round(rps * 1000) / 1000} req/s`;
}

/**
 * True when the observed split agrees with the configured one within `tolerance`
 * percentage points (for a warning such as "configured 80/20, observed 50/50").
 */
export function observedMatches(o: ObservedSplit | undefined, configuredLatest: number | undefined, tolerance = 10): boolean | undefined {
  if (!o || o.kind !== 'observed' || o.latestPercent === undefined) return undefined;
  const want = configuredLatest ?? 100;
  return Math.abs(o.latestPercent - want) <= tolerance;
}

/** `5m` for 300000 ms: the Prometheus window text the UI passes to the metrics client. */
export function windowText(ms: number): string {
  return formatDuration(ms);
}

/**
 * Configured and observed side by side, for `status` and tooltips:
 * `configured 80/20 · observed 79/21 over 5 min`, with ` (differs)` appended when they are
 * more than `tolerance` points apart.
 */
export function formatConfiguredVsObserved(
  configuredPrev: number | undefined,
  configuredLatest: number | undefined,
  o: ObservedSplit | undefined,
  tolerance = 10,
): string {
  const configured = configuredPrev !== undefined && configuredPrev > 0 ? `${configuredPrev}/${configuredLatest ?? 0}` : String(configuredLatest ?? 100);
  const differs = observedMatches(o, configuredLatest, tolerance) === false ? ' (differs)' : '';
  return `configured ${configured} · ${formatObserved(o)}${differs}`;
}
