/**
 * The sandbox Prometheus' PromQL: a parser and evaluator for the subset the product sends
 * (src/cluster/metrics.ts, src/cluster/dashboard-metrics.ts), with Prometheus' semantics:
 *
 * - `m{…}`: instant vector selector; the latest sample in the lookback window (t − 5m, t]; a
 *   series gone stale (its process ended: Prometheus writes a staleness marker) has none.
 * - `rate(m{…}[r])`, `increase(m{…}[r])`: samples in (t − r, t] (left-open, as Prometheus 3),
 *   at least two or no result; counter resets corrected (a drop adds the value before it);
 *   extrapolated to the window's edges as Prometheus' extrapolatedRate does (to an edge when
 *   the nearest sample is within 1.1× the average interval, else half an interval; never below
 *   the counter's zero point).
 * - `sum [by|without (l,…)] (e)` and `sum (e) by (l,…)`.
 * - `histogram_quantile(φ, e)`: classic buckets grouped by every label but `le`; NaN without
 *   a `+Inf` bucket or with a zero count; the highest finite bound for the `+Inf` bucket; linear
 *   interpolation inside a bucket (from 0 in the first).
 * Anything else is BadQuery (the API answers 400 bad_data). Durations: `90s`, `5m`, `1h30m`, ….
 */

export class BadQuery extends Error {}

export interface Matcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

/** One stored series: samples sorted by time; `at(t)` is a scrape at t itself (undefined: none). */
export interface Series {
  labels: Record<string, string>;
  t: number[];
  v: number[];
  at?: (t: number) => number | undefined;
}

export interface SeriesSource {
  /** Series of `metric` matching `ms`, with their samples in (from, to]. */
  select(metric: string, ms: Matcher[], from: number, to: number): Series[];
}

export type Expr =
  | { type: 'selector'; metric: string; matchers: Matcher[] }
  | { type: 'range'; fn: 'rate' | 'increase'; metric: string; matchers: Matcher[]; rangeMs: number }
  | { type: 'sum'; by?: string[]; without?: string[]; arg: Expr }
  | { type: 'quantile'; q: number; arg: Expr };

export const LOOKBACK_MS = 5 * 60_000;

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };

/** A Prometheus duration (`1h30m`, `90s`, `250ms`) in ms, or undefined. */
export function durationMs(text: string): number | undefined {
  if (!/^(\d+(ms|s|m|h|d|w|y))+$/.test(text)) return undefined;
  let ms = 0;
  for (const m of text.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) ms += Number(m[1]) * UNITS[m[2]!]!;
  return ms > 0 ? ms : undefined;
}

export function parseMatchers(text: string): Matcher[] {
  const out: Matcher[] = [];
  const re = /\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*")\s*(,|$)/y;
  let pos = 0;
  while (pos < text.length && text.slice(pos).trim() !== '') {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) throw new BadQuery(`cannot parse label matchers at ${JSON.stringify(text.slice(pos, pos + 80))}`);
    out.push({ label: m[1]!, op: m[2] as Matcher['op'], value: JSON.parse(m[3]!) as string });
    pos = re.lastIndex;
  }
  return out;
}

export function matchesAll(labels: Record<string, string>, ms: Matcher[]): boolean {
  return ms.every((m) => {
    const v = labels[m.label] ?? '';
    if (m.op === '=') return v === m.value;
    if (m.op === '!=') return v !== m.value;
    const re = new RegExp(`^(?:${m.value})$`);
    return m.op === '=~' ? re.test(v) : !re.test(v);
  });
}

function labelList(text: string): string[] {
  const ls = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const l of ls) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(l)) throw new BadQuery(`bad label name ${JSON.stringify(l)} in grouping`);
  return ls;
}

const NAME = '([a-zA-Z_:][a-zA-Z0-9_:]*)';

export function parsePromQL(query: string): Expr {
  const q = query.trim();
  let m = /^histogram_quantile\s*\(\s*([0-9.eE+-]+)\s*,([\s\S]*)\)$/.exec(q);
  if (m) {
    const quantile = Number(m[1]);
    if (!Number.isFinite(quantile)) throw new BadQuery(`bad quantile ${m[1]}`);
    return { type: 'quantile', q: quantile, arg: parsePromQL(m[2]!) };
  }
  m = /^sum\s*\(([\s\S]*)\)\s*(by|without)\s*\(([^()]*)\)$/.exec(q);
  if (m) return { type: 'sum', [m[2] === 'by' ? 'by' : 'without']: labelList(m[3]!), arg: parsePromQL(m[1]!) };
  m = /^sum\s*(?:(by|without)\s*\(([^()]*)\)\s*)?\(([\s\S]*)\)$/.exec(q);
  if (m) return { type: 'sum', ...(m[1] ? { [m[1] === 'by' ? 'by' : 'without']: labelList(m[2]!) } : { by: [] }), arg: parsePromQL(m[3]!) };
  m = new RegExp(`^(rate|increase)\\s*\\(\\s*${NAME}\\s*(?:\\{([\\s\\S]*)\\})?\\s*\\[(\\w+)\\]\\s*\\)$`).exec(q);
  if (m) {
    const rangeMs = durationMs(m[4]!);
    if (rangeMs === undefined) throw new BadQuery(`bad range [${m[4]}]`);
    return { type: 'range', fn: m[1] as 'rate' | 'increase', metric: m[2]!, matchers: parseMatchers(m[3] ?? ''), rangeMs };
  }
  m = new RegExp(`^${NAME}\\s*(?:\\{([\\s\\S]*)\\})?$`).exec(q);
  if (m && !['sum', 'rate', 'increase', 'histogram_quantile'].includes(m[1]!)) return { type: 'selector', metric: m[1]!, matchers: parseMatchers(m[2] ?? '') };
  throw new BadQuery(`unsupported query (the sandbox answers selectors, rate, increase, sum [by|without], histogram_quantile): ${q.slice(0, 200)}`);
}

/** Samples of one series in (from, to], plus its scrape at `to` when the stored ones end earlier. */
function windowOf(s: Series, from: number, to: number): { t: number[]; v: number[] } {
  const lo = lowerBound(s.t, from, true);
  const hi = lowerBound(s.t, to, true);
  const t = s.t.slice(lo, hi);
  const v = s.v.slice(lo, hi);
  if ((t.length === 0 || t[t.length - 1]! < to) && s.at) {
    const x = s.at(to);
    if (x !== undefined) {
      t.push(to);
      v.push(x);
    }
  }
  return { t, v };
}

/** First index whose time is > x (strict) or ≥ x. */
function lowerBound(a: number[], x: number, strict: boolean): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (strict ? a[mid]! <= x : a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Prometheus' extrapolatedRate over the samples of (t − range, t]; undefined with fewer than 2. */
export function extrapolatedRate(ts: number[], vs: number[], t: number, rangeMs: number, isRate: boolean): number | undefined {
  const n = ts.length;
  if (n < 2) return undefined;
  let result = vs[n - 1]! - vs[0]!;
  for (let i = 1; i < n; i++) if (vs[i]! < vs[i - 1]!) result += vs[i - 1]!;
  let toStart = (ts[0]! - (t - rangeMs)) / 1000;
  let toEnd = (t - ts[n - 1]!) / 1000;
  const sampled = (ts[n - 1]! - ts[0]!) / 1000;
  const avg = sampled / (n - 1);
  const threshold = avg * 1.1;
  if (toStart >= threshold) toStart = avg / 2;
  if (result > 0 && vs[0]! >= 0) toStart = Math.min(toStart, sampled * (vs[0]! / result));
  if (toEnd >= threshold) toEnd = avg / 2;
  let factor = (sampled + toStart + toEnd) / sampled;
  if (isRate) factor /= rangeMs / 1000;
  return result * factor;
}

/** Prometheus' bucketQuantile over (upper bound, cumulative count) pairs of one histogram. */
export function bucketQuantile(q: number, buckets: Array<{ le: number; count: number }>): number {
  if (Number.isNaN(q)) return Number.NaN;
  if (q < 0) return Number.NEGATIVE_INFINITY;
  if (q > 1) return Number.POSITIVE_INFINITY;
  const b = [...buckets].sort((x, y) => x.le - y.le);
  if (b.length < 2 || b[b.length - 1]!.le !== Number.POSITIVE_INFINITY) return Number.NaN;
  // counts must not decrease (rates of buckets may jitter): Prometheus makes them monotonic
  for (let i = 1; i < b.length; i++) if (b[i]!.count < b[i - 1]!.count) b[i] = { le: b[i]!.le, count: b[i - 1]!.count };
  const total = b[b.length - 1]!.count;
  if (!(total > 0)) return Number.NaN;
  const rank = q * total;
  let i = b.findIndex((x) => x.count >= rank);
  if (i === b.length - 1) return b[b.length - 2]!.le;
  if (i === 0 && b[0]!.le <= 0) return b[0]!.le;
  if (i < 0) i = b.length - 1;
  const start = i === 0 ? 0 : b[i - 1]!.le;
  const below = i === 0 ? 0 : b[i - 1]!.count;
  const inBucket = b[i]!.count - below;
  return start + (b[i]!.le - start) * ((rank - below) / inBucket);
}

export interface OutSeries {
  metric: Record<string, string>;
  /** One value per evaluation time; undefined: no sample there. */
  values: Array<number | undefined>;
}

function keyOf(labels: Record<string, string>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
}

/** Evaluates `e` at every time in `times` (ascending, ms). Output series without any value are dropped. */
export function evaluate(e: Expr, src: SeriesSource, times: number[]): OutSeries[] {
  const out = evalAll(e, src, times);
  return out.filter((s) => s.values.some((v) => v !== undefined));
}

function evalAll(e: Expr, src: SeriesSource, times: number[]): OutSeries[] {
  const n = times.length;
  if (!n) return [];
  const first = times[0]!;
  const last = times[n - 1]!;
  if (e.type === 'selector' || e.type === 'range') {
    const back = e.type === 'range' ? e.rangeMs : LOOKBACK_MS;
    return src.select(e.metric, e.matchers, first - back, last).map((s) => {
      const values = times.map((t) => {
        // a series with scrapes on demand is stale where it has none at t (its process ended)
        if (e.type === 'selector' && s.at) return s.at(t);
        const w = windowOf(s, t - back, t);
        if (e.type === 'selector') return w.v.length ? w.v[w.v.length - 1] : undefined;
        return extrapolatedRate(w.t, w.v, t, e.rangeMs, e.fn === 'rate');
      });
      const metric = { ...s.labels };
      if (e.type === 'range') delete metric.__name__;
      return { metric, values };
    });
  }
  const input = evalAll(e.arg, src, times);
  const groups = new Map<string, OutSeries & { buckets?: Array<Array<{ le: number; count: number }>> }>();
  for (const s of input) {
    let metric: Record<string, string>;
    if (e.type === 'sum') {
      const entries = Object.entries(s.metric).filter(([k]) => (e.by ? e.by.includes(k) : k !== '__name__' && !(e.without ?? []).includes(k)));
      metric = Object.fromEntries(entries);
    } else {
      metric = Object.fromEntries(Object.entries(s.metric).filter(([k]) => k !== 'le' && k !== '__name__'));
    }
    const key = keyOf(metric);
    let g = groups.get(key);
    if (!g) {
      g = { metric, values: new Array<number | undefined>(n).fill(undefined), ...(e.type === 'quantile' ? { buckets: times.map(() => []) } : {}) };
      groups.set(key, g);
    }
    const le = e.type === 'quantile' ? parseLe(s.metric.le) : undefined;
    for (let i = 0; i < n; i++) {
      const v = s.values[i];
      if (v === undefined) continue;
      if (e.type === 'sum') g.values[i] = (g.values[i] ?? 0) + v;
      else if (le !== undefined) g.buckets![i]!.push({ le, count: v });
    }
  }
  if (e.type === 'quantile') {
    for (const g of groups.values()) g.values = g.buckets!.map((b) => (b.length ? bucketQuantile(e.q, b) : undefined));
  }
  return [...groups.values()].map((g) => ({ metric: g.metric, values: g.values }));
}

function parseLe(le: string | undefined): number | undefined {
  if (le === undefined) return undefined;
  if (le === '+Inf') return Number.POSITIVE_INFINITY;
  const n = Number(le);
  return Number.isFinite(n) ? n : undefined;
}
