/**
 * The canary dashboard's Prometheus range queries for one service (issue 16), through the
 * MetricsClient (same auth and TLS paths as the observed split and the gates):
 *
 * - counts: the raw counters `revision_request_count{namespace_name, configuration_name=~…}`,
 *   one series per revision, status code and pod, on the window's steps. Per series the
 *   per-step increase is taken (a drop is a counter reset: the process restarted), then summed
 *   per revision: the observed split (percent of the step's requests), the request rate and
 *   the 5xx rate (increase / step) come from exact per-step counts, with no gap between steps.
 *   Without any Knative series: OpenVINO's per-pod `ovms_requests_success{namespace, name}`
 *   (pods `<revision>-deployment-…`), which counts successes only (no 5xx, no latency).
 * - p95: `histogram_quantile(0.95, sum by (revision_name, le) (rate(revision_request_latencies_bucket{…}[R])))`,
 *   R = max(step + 30 s, 2 min); Knative's buckets are ms, the series are seconds.
 * Both queries run together; each section carries its own error.
 */
import type { RevisionSeries, Section } from '../core/dashboard-model';
import { counterIncreases, onSteps, rateWindowMs, scaled, sharesPerStep, sumBy, type StepRange } from '../core/dashboard-series';
import { redact } from '../core/redact';
import { promRange } from '../core/plan';
import type { PromSeries } from './dashboard-matrix';
import { MetricsError, promRegexLiteral, promString, revisionOfPod, type MetricsClient } from './metrics';

export interface DashboardService {
  namespace: string;
  /** InferenceService name. */
  name: string;
}

export function knativeSelector(svc: DashboardService): string {
  return `namespace_name=${promString(svc.namespace)},configuration_name=~${promString(`${promRegexLiteral(svc.name)}-predictor(-default)?`)}`;
}

export function dashboardQueries(svc: DashboardService, stepMs: number): { counts: string; ovms: string; p95: string } {
  const sel = knativeSelector(svc);
  return {
    counts: `revision_request_count{${sel}}`,
    ovms: `ovms_requests_success{namespace=${promString(svc.namespace)},name=${promString(svc.name)}}`,
    p95: `histogram_quantile(0.95, sum by (revision_name, le) (rate(revision_request_latencies_bucket{${sel}}[${promRange(rateWindowMs(stepMs))}])))`,
  };
}

export interface DashboardMetrics {
  observed: Section<RevisionSeries[]>;
  requestRate: Section<RevisionSeries[]>;
  errorRate: Section<RevisionSeries[]>;
  p95: Section<RevisionSeries[]>;
  source?: 'knative' | 'ovms';
  queries: { counts: string; p95: string; ovms?: string };
}

/** A failure for the user: our MetricsErrors as they are, anything else redacted. */
export function failureText(e: unknown): string {
  if (e instanceof MetricsError) return e.message;
  return redact(e instanceof Error ? e.message : String(e)).slice(0, 300);
}

async function rangeOf(client: MetricsClient, q: string, r: StepRange, signal?: AbortSignal): Promise<PromSeries[]> {
  if (!client.queryRange)
    throw new MetricsError('prometheus-no-range', `The Prometheus client for ${client.baseUrl} cannot run range queries.`, 'Update the extension.');
  return client.queryRange(q, { startMs: r.from, endMs: r.to, stepMs: r.stepMs }, signal);
}

/** Per-step request counts per revision from raw counter series (resets handled per series). */
export function countsPerRevision(
  series: readonly PromSeries[],
  r: StepRange,
  revisionOf: (m: Record<string, string>) => string | undefined,
): RevisionSeries[] {
  return sumBy(
    series,
    (s) => revisionOf(s.metric),
    (s) => counterIncreases(onSteps(s.points, r.times)),
  );
}

const fail = (error: string): Section<never> => ({ ok: false, error });

/** The four metric sections of the dashboard for one service over the range. Never throws. */
export async function readDashboardMetrics(client: MetricsClient, svc: DashboardService, r: StepRange, signal?: AbortSignal): Promise<DashboardMetrics> {
  const q = dashboardQueries(svc, r.stepMs);
  const stepS = r.stepMs / 1000;
  const over = `${svc.name} in ${svc.namespace}`;
  const [counts, p95] = await Promise.allSettled([rangeOf(client, q.counts, r, signal), rangeOf(client, q.p95, r, signal)]);
  const p95Section: Section<RevisionSeries[]> =
    p95.status === 'rejected'
      ? fail(failureText(p95.reason))
      : (() => {
          const data = sumBy(
            p95.value,
            (s) => s.metric.revision_name,
            (s) =>
              onSteps(
                s.points.map(([t, v]) => [t, v / 1000] as [number, number]),
                r.times,
              ),
          );
          return data.length
            ? { ok: true, data }
            : { ok: true, data, note: `No latency histogram (revision_request_latencies_bucket) for ${over} in this window.` };
        })();
  if (counts.status === 'rejected') {
    const error = failureText(counts.reason);
    return { observed: fail(error), requestRate: fail(error), errorRate: fail(error), p95: p95Section, queries: { counts: q.counts, p95: q.p95 } };
  }
  if (counts.value.length) {
    const all = countsPerRevision(counts.value, r, (m) => m.revision_name);
    const errors = countsPerRevision(
      counts.value.filter((s) => s.metric.response_code_class === '5xx'),
      r,
      (m) => m.revision_name,
    );
    const errorCounts = all.map((a) => {
      const e = errors.find((x) => x.revision === a.revision);
      return { revision: a.revision, points: a.points.map((p, i) => ({ t: p.t, v: p.v === null ? null : (e?.points[i]?.v ?? 0) })) };
    });
    return {
      observed: { ok: true, data: sharesPerStep(all) },
      requestRate: { ok: true, data: scaled(all, stepS) },
      errorRate: { ok: true, data: scaled(errorCounts, stepS) },
      p95: p95Section,
      source: 'knative',
      queries: { counts: q.counts, p95: q.p95 },
    };
  }
  let ovms: PromSeries[];
  try {
    ovms = await rangeOf(client, q.ovms, r, signal);
  } catch (e) {
    const error = failureText(e);
    return { observed: fail(error), requestRate: fail(error), errorRate: fail(error), p95: p95Section, queries: q };
  }
  if (!ovms.length) {
    const note = `Prometheus has no revision_request_count nor ovms_requests_success series for ${over} in this window.`;
    return {
      observed: { ok: true, data: [], note },
      requestRate: { ok: true, data: [], note },
      errorRate: { ok: true, data: [], note },
      p95: p95Section,
      queries: q,
    };
  }
  const all = countsPerRevision(ovms, r, (m) => (m.pod ? revisionOfPod(m.pod) : undefined));
  return {
    observed: {
      ok: true,
      data: sharesPerStep(all),
      note: "From OpenVINO's per-pod ovms_requests_success (Knative's revision_request_count has no series): successful requests only.",
    },
    requestRate: { ok: true, data: scaled(all, stepS), note: 'Successful requests only (ovms_requests_success).' },
    errorRate: {
      ok: true,
      data: [],
      note: "OpenVINO's ovms_requests_success has no status codes, and Knative's revision_request_count has no series: no 5xx rate.",
    },
    p95: p95Section,
    source: 'ovms',
    queries: q,
  };
}
