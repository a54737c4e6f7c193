/**
 * The sandbox Prometheus (issues 8, 16): the time series the requests served make, and the
 * query API over them (`/api/v1/query`, `/api/v1/query_range`, GET or POST form).
 *
 * Series, as Knative's queue-proxy and OpenVINO export them, one per label set:
 * `revision_request_count` (namespace_name, configuration_name, revision_name, pod_name,
 * response_code, response_code_class), `revision_request_latencies_bucket` (the same + le, ms;
 * also `_sum`, `_count`) and `ovms_requests_success` (namespace, name, pod; 200s only).
 * Scraping: every target every `scrapeIntervalMs` (default 1 s, on the epoch's grid; a query over
 * a long range reads every k-th scrape, at most 20,000 per series), plus a scrape at each
 * evaluation time (a query sees what was served up to that instant). A series
 * appears at 0 at the scrape before its first request (the exporter's counter starts at zero)
 * and lasts while its process does: `restart(ns, revision)` ends the process, the next request
 * starts a new one whose counters start from zero again (a counter reset for rate/increase).
 * Before the first request, after a restart until the next request, and before the retention
 * horizon (25 h, at most 500,000 requests kept) a series has no samples: it is absent.
 *
 * query_range: `start`, `end` (RFC 3339 or Unix seconds), `step` (seconds or a duration);
 * evaluated at start + k·step ≤ end (not aligned: the client aligns), at most 11,000 points;
 * the errors Prometheus answers (400 bad_data) for a bad, missing or inverted parameter. A series
 * with no value at some step has no point there (never a zero). PromQL: see promql.ts.
 */
import { createHash } from 'node:crypto';
import {
  BadQuery,
  bucketQuantile,
  durationMs,
  evaluate,
  matchesAll,
  parsePromQL,
  type Matcher,
  type OutSeries,
  type Series,
  type SeriesSource,
} from './promql';

/** Knative's request latency buckets (ms). */
export const BUCKETS = [5, 10, 20, 40, 60, 80, 100, 150, 200, 250, 300, 350, 400, 450, 500, 600, 700, 800, 900, 1000, 2000, 5000, 10000, 20000, 50000, 100000];
const RETENTION_MS = 25 * 60 * 60 * 1000;
const MAX_REQUESTS = 500_000;
export const MAX_POINTS = 11_000;
const MAX_SCRAPES = 20_000;

export interface ServedRequest {
  t: number;
  namespace: string;
  name: string;
  revision: string;
  code: number;
  latencyMs: number;
}

/** The requests of one label set in one process of a revision. */
interface Group {
  key: string;
  r: Omit<ServedRequest, 't' | 'latencyMs'>;
  existFrom: number;
  procEnd: number;
  times: number[];
  /** Cumulative latency sum after each request (absolute, survives pruning). */
  cumLat: number[];
  /** Request times per bucket index (BUCKETS.length = +Inf). */
  byBucket: number[][];
  base: { n: number; perBucket: number[]; sum: number };
}

export function podOf(revision: string): string {
  const h = createHash('sha1').update(revision).digest('hex');
  return `${revision}-deployment-${h.slice(0, 10)}-${h.slice(10, 15)}`;
}

function upper(a: number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const METRICS = [
  'revision_request_count',
  'revision_request_latencies_bucket',
  'revision_request_latencies_sum',
  'revision_request_latencies_count',
  'ovms_requests_success',
];

export class RequestMetrics implements SeriesSource {
  private groups = new Map<string, Group>();
  /** Per `<ns>/<revision>`: process number and when it started. */
  private readonly procs = new Map<string, { epoch: number; start: number }>();
  private horizon = Number.NEGATIVE_INFINITY;
  private lastT = Number.NEGATIVE_INFINITY;
  private total = 0;

  constructor(
    readonly scrapeIntervalMs = 1000,
    readonly now: () => number = Date.now,
  ) {
    if (!(scrapeIntervalMs >= 1)) throw new RangeError('scrapeIntervalMs must be 1 or more');
  }

  get requestCount(): number {
    return this.total;
  }

  record(req: ServedRequest): void {
    const t = Math.max(req.t, this.lastT);
    this.lastT = t;
    const proc = this.procs.get(`${req.namespace}/${req.revision}`) ?? { epoch: 0, start: Number.NEGATIVE_INFINITY };
    const key = `${req.namespace}/${req.name}/${req.revision}/${req.code}/${proc.epoch}`;
    let g = this.groups.get(key);
    if (!g) {
      const S = this.scrapeIntervalMs;
      const before = Math.floor((t - 1) / S) * S;
      g = {
        key,
        r: { namespace: req.namespace, name: req.name, revision: req.revision, code: req.code },
        existFrom: before >= proc.start ? before : t,
        procEnd: Number.POSITIVE_INFINITY,
        times: [],
        cumLat: [],
        byBucket: [],
        base: { n: 0, perBucket: [], sum: 0 },
      };
      this.groups.set(key, g);
    }
    g.times.push(t);
    g.cumLat.push((g.cumLat[g.cumLat.length - 1] ?? g.base.sum) + req.latencyMs);
    let b = BUCKETS.findIndex((le) => req.latencyMs <= le);
    if (b < 0) b = BUCKETS.length;
    (g.byBucket[b] ??= []).push(t);
    this.total++;
    if (this.total > MAX_REQUESTS || (this.total % 1000 === 0 && t - RETENTION_MS > this.horizon)) this.prune(t);
  }

  /** The revision's process restarts at `at`: its series end; the next request starts them again from zero. */
  restart(namespace: string, revision: string, at = this.now()): void {
    const id = `${namespace}/${revision}`;
    const p = this.procs.get(id) ?? { epoch: 0, start: Number.NEGATIVE_INFINITY };
    for (const g of this.groups.values()) {
      if (g.r.namespace === namespace && g.r.revision === revision && g.key.endsWith(`/${p.epoch}`)) g.procEnd = Math.min(g.procEnd, at);
    }
    this.procs.set(id, { epoch: p.epoch + 1, start: at });
  }

  /** Forgets every request (and series) so far. */
  reset(): number {
    const n = this.total;
    this.groups.clear();
    this.total = 0;
    return n;
  }

  private prune(t: number): void {
    let cutoff = t - RETENTION_MS;
    if (this.total > MAX_REQUESTS) {
      const all = [...this.groups.values()].flatMap((g) => g.times).sort((a, b) => a - b);
      cutoff = Math.max(cutoff, all[all.length - Math.floor(MAX_REQUESTS * 0.9)]!);
    }
    this.horizon = Math.max(this.horizon, cutoff);
    for (const [key, g] of this.groups) {
      const k = upper(g.times, cutoff);
      if (!k) continue;
      g.base.n += k;
      g.base.sum = g.cumLat[k - 1]!;
      g.times = g.times.slice(k);
      g.cumLat = g.cumLat.slice(k);
      g.byBucket = g.byBucket.map((ts, b) => {
        const j = upper(ts, cutoff);
        g.base.perBucket[b] = (g.base.perBucket[b] ?? 0) + j;
        return ts.slice(j);
      });
      this.total -= k;
      if (!g.times.length && g.procEnd <= cutoff) this.groups.delete(key);
    }
  }

  /** Value of one series kind of a group at t (requests with time ≤ t), or undefined outside its life. */
  private valueAt(g: Group, kind: string, le: number, t: number): number | undefined {
    if (t < g.existFrom || t >= g.procEnd || t <= this.horizon || t > this.now()) return undefined;
    const n = upper(g.times, t);
    if (kind === 'sum') return n ? g.cumLat[n - 1]! : g.base.sum;
    if (kind !== 'bucket') return g.base.n + n;
    let c = 0;
    for (let b = 0; b <= le; b++) c += (g.base.perBucket[b] ?? 0) + (g.byBucket[b] ? upper(g.byBucket[b]!, t) : 0);
    return c;
  }

  select(metric: string, ms: Matcher[], from: number, to: number): Series[] {
    if (!METRICS.includes(metric)) return [];
    const kind = metric.endsWith('_bucket') ? 'bucket' : metric.endsWith('_sum') ? 'sum' : 'count';
    const merged = new Map<string, { labels: Record<string, string>; parts: Array<{ g: Group; le: number }> }>();
    for (const g of this.groups.values()) {
      const { namespace, name, revision, code } = g.r;
      let base: Record<string, string>;
      if (metric === 'ovms_requests_success') {
        if (code !== 200) continue;
        base = { __name__: metric, namespace, name, pod: podOf(revision) };
      } else {
        base = {
          __name__: metric,
          namespace_name: namespace,
          configuration_name: `${name}-predictor`,
          revision_name: revision,
          pod_name: podOf(revision),
          response_code: String(code),
          response_code_class: `${Math.floor(code / 100)}xx`,
        };
      }
      const les = kind === 'bucket' ? BUCKETS.length + 1 : 1;
      for (let i = 0; i < les; i++) {
        const labels = kind === 'bucket' ? { ...base, le: i === BUCKETS.length ? '+Inf' : String(BUCKETS[i]) } : base;
        if (!matchesAll(labels, ms)) continue;
        const k = JSON.stringify(labels);
        const m = merged.get(k) ?? { labels, parts: [] };
        m.parts.push({ g, le: i });
        merged.set(k, m);
      }
    }
    // a long range reads every k-th scrape (at most MAX_SCRAPES per series and query)
    const S = this.scrapeIntervalMs * Math.max(1, Math.ceil((to - from) / this.scrapeIntervalMs / MAX_SCRAPES));
    const now = this.now();
    // the buckets of one group at one time, computed once for all its le series
    const memo = new Map<Group, Map<number, number[]>>();
    const bucketsAt = (g: Group, time: number): number[] => {
      const m = memo.get(g) ?? new Map<number, number[]>();
      memo.set(g, m);
      let cum = m.get(time);
      if (!cum) {
        cum = [];
        let c = 0;
        for (let b = 0; b <= BUCKETS.length; b++) cum.push((c += (g.base.perBucket[b] ?? 0) + (g.byBucket[b] ? upper(g.byBucket[b]!, time) : 0)));
        m.set(time, cum);
      }
      return cum;
    };
    return [...merged.values()].map(({ labels, parts }) => {
      parts.sort((a, b) => a.g.existFrom - b.g.existFrom);
      const t: number[] = [];
      const v: number[] = [];
      for (const { g, le } of parts) {
        const lo = Math.max(from + 1, g.existFrom, this.horizon + 1);
        const hi = Math.min(to, g.procEnd - 1, now);
        for (let k = Math.ceil(lo / S); k * S <= hi; k++) {
          const x =
            kind === 'bucket' ? (this.valueAt(g, 'count', 0, k * S) === undefined ? undefined : bucketsAt(g, k * S)[le]) : this.valueAt(g, kind, le, k * S);
          if (x !== undefined) {
            t.push(k * S);
            v.push(x);
          }
        }
      }
      const at = (time: number) => {
        for (const { g, le } of parts) {
          const x = this.valueAt(g, kind, le, time);
          if (x !== undefined) return x;
        }
        return undefined;
      };
      return { labels, t, v, at };
    });
  }
}

/** A query API request that Prometheus refuses with 400 bad_data. */
export class BadParam extends Error {}

/** RFC 3339 or Unix seconds → ms. */
export function parseTime(name: string, text: string | null): number {
  const s = (text ?? '').trim();
  let ms = Number.NaN;
  if (/^-?\d+(\.\d+)?$/.test(s)) ms = Math.round(Number(s) * 1000);
  else if (/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i.test(s)) ms = Date.parse(s);
  if (!Number.isFinite(ms)) throw new BadParam(`invalid parameter "${name}": cannot parse "${s}" to a valid timestamp`);
  return ms;
}

/** Seconds (`15`, `0.5`) or a duration (`15s`, `1m30s`) → ms. */
export function parseStep(text: string | null): number {
  const s = (text ?? '').trim();
  const ms = /^-?\d+(\.\d+)?$/.test(s) ? Math.round(Number(s) * 1000) : durationMs(s);
  if (ms === undefined || !Number.isFinite(ms)) throw new BadParam(`invalid parameter "step": cannot parse "${s}" to a valid duration`);
  if (ms <= 0) throw new BadParam('invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer');
  return ms;
}

function num(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

function sorted(out: OutSeries[]): OutSeries[] {
  return out.sort((a, b) => JSON.stringify(Object.entries(a.metric).sort()).localeCompare(JSON.stringify(Object.entries(b.metric).sort())));
}

/** The `data` of a successful answer, or throws BadParam / BadQuery. */
export function answer(kind: 'query' | 'query_range', params: URLSearchParams, src: SeriesSource, now: number): unknown {
  const query = params.get('query');
  if (!query) throw new BadParam('invalid parameter "query": unknown position: parse error: no expression found in input');
  if (kind === 'query') {
    const t = params.has('time') ? parseTime('time', params.get('time')) : now;
    const out = sorted(evaluate(parsePromQL(query), src, [t]));
    return { resultType: 'vector', result: out.map((s) => ({ metric: s.metric, value: [t / 1000, num(s.values[0]!)] })) };
  }
  const start = parseTime('start', params.get('start'));
  const end = parseTime('end', params.get('end'));
  if (end < start) throw new BadParam('invalid parameter "end": end timestamp must not be before start time');
  const step = parseStep(params.get('step'));
  if ((end - start) / step > MAX_POINTS)
    throw new BadParam('exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)');
  const times: number[] = [];
  for (let t = start; t <= end; t += step) times.push(t);
  const out = sorted(evaluate(parsePromQL(query), src, times));
  return {
    resultType: 'matrix',
    result: out.map((s) => ({ metric: s.metric, values: s.values.flatMap((v, i) => (v === undefined ? [] : [[times[i]! / 1000, num(v)]])) })),
  };
}

export { BadQuery };

/** histogram_quantile over Knative's buckets of these latencies (ms); NaN without any. */
export function histogramQuantile(q: number, latencies: number[]): number {
  const les = [...BUCKETS, Number.POSITIVE_INFINITY];
  return bucketQuantile(
    q,
    les.map((le) => ({ le, count: latencies.filter((l) => l <= le).length })),
  );
}
