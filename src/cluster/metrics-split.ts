/**
 * The observed traffic split of one InferenceService from Prometheus (domain.md §5): the
 * request rate per revision, from Knative's `revision_request_count` (rate by revision_name)
 * or, when that has no series, OpenVINO's per-pod `ovms_requests_success` with pods
 * `<model>-predictor-000NN-deployment-…` mapped to revision `<model>-predictor-000NN`.
 * Nothing found → absent with the reason. Re-exported by metrics.ts, which owns the client.
 */
import { sharesOf, type AbsentReason, type ObservedSplit } from '../core/observed';
import { formatDuration, promRange } from '../core/plan';
import type { MetricsClient } from './metrics';
import { failureText, promRegexLiteral, promString } from './metrics-promql';

/** Revision of a predictor pod: `jukebox-predictor-00002-deployment-6d8f-abcde` → `jukebox-predictor-00002`. */
export function revisionOfPod(pod: string): string | undefined {
  const m = /^(.+-\d{5})-deployment-/.exec(pod);
  return m ? m[1] : undefined;
}

export interface ServiceRef {
  namespace: string;
  /** InferenceService name. */
  name: string;
  prevRevision: string | undefined;
  latestRevision: string | undefined;
}

/** The Knative query: request rate per revision of the service's predictor over the window. */
export function knativeSplitQuery(svc: Pick<ServiceRef, 'namespace' | 'name'>, range: string): string {
  const conf = `${promRegexLiteral(svc.name)}-predictor(-default)?`;
  return `sum by (revision_name) (rate(revision_request_count{namespace_name=${promString(svc.namespace)},configuration_name=~${promString(conf)}}[${range}]))`;
}

/** The OpenVINO fallback: request rate per predictor pod over the window. */
export function ovmsSplitQuery(svc: Pick<ServiceRef, 'namespace' | 'name'>, range: string): string {
  return `sum by (pod) (rate(ovms_requests_success{namespace=${promString(svc.namespace)},name=${promString(svc.name)}}[${range}]))`;
}

function absent(window: string, reason: AbsentReason, message: string, now: Date): ObservedSplit {
  return { kind: 'absent', window, reason, message, at: now.toISOString() };
}

function observedFrom(byRevision: Record<string, number>, svc: ServiceRef, window: string, source: 'knative' | 'ovms', now: Date): ObservedSplit {
  const totalRps = Object.values(byRevision).reduce((a, b) => a + b, 0);
  if (!(totalRps > 0)) {
    return absent(
      window,
      'no-traffic',
      `No requests reached ${svc.name} in ${svc.namespace} over the last ${window} (${source === 'knative' ? 'revision_request_count' : 'ovms_requests_success'} is 0).`,
      now,
    );
  }
  // KServe may point `prev` at the latest revision itself (a canary percent without a new
  // revision): then there is one revision, and it is the latest.
  const prevRps = svc.prevRevision !== undefined && svc.prevRevision !== svc.latestRevision ? (byRevision[svc.prevRevision] ?? 0) : undefined;
  const latestRps = svc.latestRevision !== undefined ? (byRevision[svc.latestRevision] ?? 0) : undefined;
  const s = sharesOf(prevRps, latestRps, totalRps);
  return { kind: 'observed', window, byRevision, prevPercent: s.prev, latestPercent: s.latest, totalRps, source, at: now.toISOString() };
}

/**
 * The observed split of one service over `windowMs` (default 5 min). Never throws for
 * metric problems: they come back as `absent` with the reason. `client` undefined means
 * no Prometheus is configured.
 */
export async function observedSplit(
  client: MetricsClient | undefined,
  svc: ServiceRef,
  opts: { windowMs?: number; signal?: AbortSignal; now?: () => Date } = {},
): Promise<ObservedSplit> {
  const windowMs = opts.windowMs ?? 300000;
  const window = formatDuration(windowMs);
  const range = promRange(windowMs);
  const now = opts.now?.() ?? new Date();
  if (!client)
    return absent(
      window,
      'not-configured',
      'No Prometheus configured: set its URL (kserveCanary.prometheus.url, or --prometheus) to see the observed split.',
      now,
    );
  try {
    const kn = await client.query(knativeSplitQuery(svc, range), opts.signal);
    const byRev: Record<string, number> = {};
    for (const s of kn) {
      const rev = s.metric.revision_name;
      if (rev && Number.isFinite(s.value)) byRev[rev] = (byRev[rev] ?? 0) + s.value;
    }
    if (Object.keys(byRev).length) return observedFrom(byRev, svc, window, 'knative', now);
    const ov = await client.query(ovmsSplitQuery(svc, range), opts.signal);
    const byPodRev: Record<string, number> = {};
    for (const s of ov) {
      const rev = s.metric.pod ? revisionOfPod(s.metric.pod) : undefined;
      if (rev && Number.isFinite(s.value)) byPodRev[rev] = (byPodRev[rev] ?? 0) + s.value;
    }
    if (Object.keys(byPodRev).length) return observedFrom(byPodRev, svc, window, 'ovms', now);
    return absent(window, 'no-data', `Prometheus has no revision_request_count nor ovms_requests_success series for ${svc.name} in ${svc.namespace}.`, now);
  } catch (e) {
    return absent(window, 'query-failed', failureText(e), now);
  }
}
