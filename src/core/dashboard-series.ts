/**
 * Building the canary dashboard's series (issue 16), pure: steps aligned to the window, values
 * put on those steps with gaps as null (never zeros), per-step increases of counters (resets
 * handled), percent shares per step from per-revision counts, the desired split over time from
 * git's canary commits, the configured split from snapshots of the cluster's traffic, and the
 * rollout engine's events as markers. src/cluster/dashboard.ts feeds it; the panel draws it.
 */
import type { DashboardEvent, DashboardWindow, RevisionSeries, SeriesPoint } from './dashboard-model';
import type { RolloutEvent } from './rollout';

export const WINDOW_MS: Record<DashboardWindow, number> = { '15m': 15 * 60_000, '1h': 3_600_000, '6h': 6 * 3_600_000, '24h': 24 * 3_600_000 };

/**
 * Step per window: 30 to 72 points, and never under 30 s, so that consecutive steps see
 * different scrapes of a counter scraped every 30 s (OpenShift's default).
 */
export const WINDOW_STEP_MS: Record<DashboardWindow, number> = { '15m': 30_000, '1h': 60_000, '6h': 5 * 60_000, '24h': 20 * 60_000 };

export interface StepRange {
  from: number;
  to: number;
  stepMs: number;
  /** from, from + step, …, to. */
  times: number[];
}

/** The window ending at the last step boundary at or before `now` (steps are multiples of stepMs since the epoch). */
export function alignRange(window: DashboardWindow, now: number): StepRange {
  const stepMs = WINDOW_STEP_MS[window];
  if (!stepMs) throw new RangeError(`unknown dashboard window ${String(window)} (expected 15m, 1h, 6h or 24h)`);
  const to = Math.floor(now / stepMs) * stepMs;
  const from = to - WINDOW_MS[window];
  const times: number[] = [];
  for (let t = from; t <= to; t += stepMs) times.push(t);
  return { from, to, stepMs, times };
}

/** The window of a rate (p95) at each step: Grafana's $__rate_interval for a 30 s scrape, max(step + 30 s, 2 min). */
export function rateWindowMs(stepMs: number): number {
  return Math.max(stepMs + 30_000, 120_000);
}

/** Points (time ms, value) put on the steps: a step without a point, or with a NaN/infinite value, is null. */
export function onSteps(points: ReadonlyArray<readonly [number, number]>, times: readonly number[]): SeriesPoint[] {
  const at = new Map<number, number>();
  for (const [t, v] of points) if (Number.isFinite(v)) at.set(t, v);
  return times.map((t) => ({ t, v: at.has(t) ? at.get(t)! : null }));
}

/**
 * Per-step increase of one counter series (its value on each step, null where it had none):
 * v[k] − v[k−1]; a drop is a reset (the process restarted and counts from zero again), so the
 * increase is v[k]. A series that appears after a gap is new (counters start at zero): its first
 * value is the increase, except on the window's first step, where nothing is known before it (null).
 */
export function counterIncreases(values: ReadonlyArray<SeriesPoint>): SeriesPoint[] {
  return values.map((p, k) => {
    if (p.v === null) return { t: p.t, v: null };
    const prev = k > 0 ? values[k - 1]!.v : undefined;
    if (prev === undefined) return { t: p.t, v: null };
    if (prev === null) return { t: p.t, v: p.v };
    return { t: p.t, v: p.v >= prev ? p.v - prev : p.v };
  });
}

/** Adds series point by point (null + null = null, null + x = x), keyed by `keyOf`, sorted by key. */
export function sumBy<T>(items: readonly T[], keyOf: (x: T) => string | undefined, pointsOf: (x: T) => SeriesPoint[]): RevisionSeries[] {
  const out = new Map<string, SeriesPoint[]>();
  for (const x of items) {
    const key = keyOf(x);
    if (key === undefined) continue;
    const pts = pointsOf(x);
    const acc = out.get(key);
    if (!acc)
      out.set(
        key,
        pts.map((p) => ({ ...p })),
      );
    else
      pts.forEach((p, i) => {
        if (p.v !== null) acc[i]!.v = (acc[i]!.v ?? 0) + p.v;
      });
  }
  return [...out.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([revision, points]) => ({ revision, points }));
}

/** Each point divided by `by` (counts per step → per second). */
export function scaled(series: readonly RevisionSeries[], by: number): RevisionSeries[] {
  return series.map((s) => ({ revision: s.revision, points: s.points.map((p) => ({ t: p.t, v: p.v === null ? null : p.v / by })) }));
}

/**
 * Percent of the step's requests per revision. A step where no revision has a count, or the
 * counts add up to 0 (nothing served), is null for all: a share of nothing is not 0%.
 */
export function sharesPerStep(counts: readonly RevisionSeries[]): RevisionSeries[] {
  const n = counts[0]?.points.length ?? 0;
  const totals = Array.from({ length: n }, (_, i) => counts.reduce((s, c) => s + (c.points[i]?.v ?? 0), 0));
  return counts.map((c) => ({
    revision: c.revision,
    points: c.points.map((p, i) => ({ t: p.t, v: p.v === null || !(totals[i]! > 0) ? null : (p.v / totals[i]!) * 100 })),
  }));
}

/** A value that holds from `t` until the next one (git's percent, a traffic snapshot). */
export interface Change<V> {
  t: number;
  value: V;
}

/** The value in force at each step (the last change at or before it), null before the first. */
export function stepFunction<V>(changes: ReadonlyArray<Change<V>>, times: readonly number[], pick: (v: V) => number | null): SeriesPoint[] {
  const sorted = [...changes].sort((a, b) => a.t - b.t);
  let i = -1;
  return times.map((t) => {
    while (i + 1 < sorted.length && sorted[i + 1]!.t <= t) i++;
    return { t, v: i < 0 ? null : pick(sorted[i]!.value) };
  });
}

/** One commit of the model's config.yaml, with the canary percent it asks for. */
export interface CanaryCommit {
  sha: string;
  /** Author time, ms. */
  t: number;
  author: string;
  subject: string;
  /** canaryTrafficPercent at this commit; undefined: no canary (100% latest). */
  percent: number | undefined;
  /** The file did not read at this commit (the message); its percent is unknown. */
  invalid?: string;
}

/** Desired percent to the latest revision over time: the canary percent, 100 without a canary. */
export function desiredSeries(commits: readonly CanaryCommit[], times: readonly number[]): SeriesPoint[] {
  const valid = commits.filter((c) => !c.invalid);
  return stepFunction(
    valid.map((c) => ({ t: c.t, value: c.percent })),
    times,
    (p) => p ?? 100,
  );
}

function describePercent(p: number | undefined): string {
  return p === undefined ? 'no canary (100% latest)' : `canary ${p}%`;
}

/** Commit markers in [from, to] (oldest first): commits whose canary percent differs from the commit before. */
export function commitEvents(commits: readonly CanaryCommit[], from: number, to: number): DashboardEvent[] {
  const sorted = [...commits].filter((c) => !c.invalid).sort((a, b) => a.t - b.t);
  const out: DashboardEvent[] = [];
  sorted.forEach((c, i) => {
    const before = i > 0 ? sorted[i - 1]!.percent : undefined;
    const changed = i === 0 ? c.percent !== undefined : c.percent !== before;
    if (!changed || c.t < from || c.t > to) return;
    out.push({
      kind: 'commit',
      t: c.t,
      sha: c.sha,
      message: c.subject,
      author: c.author,
      title: `${c.sha.slice(0, 7)} ${describePercent(c.percent)}${i > 0 ? ` (was ${before ?? 100}%)` : ''}: ${c.subject}`.slice(0, 200),
    });
  });
  return out;
}

/** One snapshot of the traffic the cluster is configured with (status.components.predictor.traffic). */
export interface TrafficSnapshot {
  t: number;
  revisions: { name: string; percent: number }[];
}

/** Configured percent per revision over time; a revision absent from a snapshot has 0% then (it is configured out). */
export function configuredSeries(snapshots: readonly TrafficSnapshot[], times: readonly number[]): RevisionSeries[] {
  const names = [...new Set(snapshots.flatMap((s) => s.revisions.map((r) => r.name)))].sort();
  const changes = snapshots.map((s) => ({ t: s.t, value: s }));
  return names.map((name) => ({
    revision: name,
    points: stepFunction(changes, times, (s) => s.revisions.filter((r) => r.name === name).reduce((a, r) => a + r.percent, 0)),
  }));
}

/** A rollout engine event as a marker: steps that went live, and gate verdicts. Others: undefined. */
export function rolloutMarker(e: RolloutEvent, t: number): DashboardEvent | undefined {
  if (e.kind === 'live' || e.kind === 'rollback' || e.kind === 'promote') return { kind: 'rollout-step', t, title: e.message.slice(0, 200) };
  if (e.kind === 'gates' && e.evaluation && e.evaluation.verdict !== 'inconclusive') {
    return { kind: 'gate', t, title: e.message.slice(0, 200), passed: e.evaluation.verdict === 'pass' };
  }
  return undefined;
}

/**
 * The hook for rollout markers: give `record` to RolloutOptions.onEvent (wrapped with the
 * service), and `events` to loadDashboard. Keeps the newest `max` markers per service.
 */
export interface DashboardEventLog {
  record(service: string, e: RolloutEvent, t?: number): void;
  events(service: string, from: number, to: number): DashboardEvent[];
}

export function createDashboardEventLog(max = 500, clock: () => number = Date.now): DashboardEventLog {
  const byService = new Map<string, DashboardEvent[]>();
  return {
    record(service, e, t = clock()) {
      const m = rolloutMarker(e, t);
      if (!m) return;
      const list = byService.get(service) ?? [];
      list.push(m);
      if (list.length > max) list.splice(0, list.length - max);
      byService.set(service, list);
    },
    events: (service, from, to) => (byService.get(service) ?? []).filter((e) => e.t >= from && e.t <= to),
  };
}
