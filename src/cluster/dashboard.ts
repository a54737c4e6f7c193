/**
 * What the canary dashboard panel shows, as data (issue 16): `loadDashboard()` computes one
 * DashboardModel for a service and a window; the panel (src/ui) calls it about every 5 s while
 * visible and only draws the result.
 *
 * - header: from the store's row (verdict, configured revisions, git's percent, Argo CD sync);
 * - desired split over time: git history of the model's config.yaml (core/canary-history.ts);
 * - configured split over time: the TrafficHistory the extension keeps while the panel is open
 *   (without one: only the current traffic, on the last step);
 * - observed split, request rate, 5xx rate and p95: Prometheus range queries (dashboard-metrics.ts);
 * - markers: commits that changed the canary, and rollout steps / gate verdicts recorded in a
 *   DashboardEventLog (key `<env>/<model>`).
 * Each section loads on its own: a failing query or git read shows its error there, the rest is
 * shown. Without Prometheus, `prometheusHint` says in one line how to set it. Never throws for
 * a data problem (only for a bad window).
 */
import { createCanaryHistoryReader, type CanaryHistoryReader } from '../core/canary-history';
import type { DashboardHeader, DashboardModel, DashboardWindow, RevisionSeries, Section, SeriesPoint } from '../core/dashboard-model';
import { alignRange, commitEvents, configuredSeries, desiredSeries, type DashboardEventLog, type StepRange } from '../core/dashboard-series';
import type { ClusterStore } from './api';
import { readDashboardMetrics, failureText, type DashboardMetrics } from './dashboard-metrics';
import { trafficOf, type TrafficHistory } from './dashboard-history';
import type { MetricsClient } from './metrics';
import type { ServiceState } from './types';

export const PROMETHEUS_HINT =
  'No Prometheus configured: set kserveCanary.prometheus.url (e.g. https://thanos-querier-openshift-monitoring.apps.<cluster>) to see the observed split, request and 5xx rates and p95 latency.';

export interface LoadDashboardOptions {
  store: Pick<ClusterStore, 'find' | 'environments'>;
  /** Undefined: no Prometheus configured. */
  metrics: MetricsClient | undefined;
  /** The gitops checkout; undefined: none open. */
  root: string | undefined;
  env: string;
  model: string;
  window: DashboardWindow;
  /** Default Date.now(). */
  now?: number;
  history?: TrafficHistory;
  events?: DashboardEventLog;
  deploymentsDir?: string;
  processEnv?: NodeJS.ProcessEnv;
  /** Reads git's canary history (cached per commit); default one shared reader. */
  git?: CanaryHistoryReader;
  signal?: AbortSignal;
}

const sharedGit = createCanaryHistoryReader();

function headerOf(o: LoadDashboardOptions, s: ServiceState | undefined, namespace: string): DashboardHeader {
  return {
    service: s?.name ?? o.model,
    env: o.env,
    namespace,
    verdict: s?.verdict ?? 'unknown',
    reason: s?.verdictReason ?? `The cluster store knows no InferenceService for ${o.model} in ${o.env} (yet).`,
    revisions: (s?.traffic ?? [])
      .filter((t) => t.revisionName)
      .map((t) => ({
        name: t.revisionName!,
        percent: t.percent ?? 0,
        latest: t.latestRevision,
        ...(t.tag ? { tag: t.tag } : {}),
      })),
    ...(s?.desired?.percent !== undefined ? { desiredPercent: s.desired.percent } : {}),
    ...(s?.application?.syncStatus ? { argoSync: s.application.syncStatus } : {}),
  };
}

function configured(o: LoadDashboardOptions, s: ServiceState | undefined, r: StepRange, now: number): RevisionSeries[] {
  const snaps = o.history?.snapshots() ?? [];
  if (snaps.length) return configuredSeries(snaps, r.times);
  // no history kept: the traffic now, shown on the last step only
  const cur = trafficOf(s, r.to);
  if (!cur) return [];
  return configuredSeries([cur], r.times).map((x) => ({
    revision: x.revision,
    points: x.points.map((p) => (p.t === r.to && now >= r.to ? p : { t: p.t, v: null })),
  }));
}

export async function loadDashboard(o: LoadDashboardOptions): Promise<DashboardModel> {
  const now = o.now ?? Date.now();
  const r = alignRange(o.window, now);
  const s = o.store.find(o.env, o.model);
  const namespace = s?.namespace ?? o.store.environments().find((e) => e.env === o.env)?.namespace ?? '';
  const git = o.git ?? sharedGit;

  const commitsP = o.root
    ? git.read({
        root: o.root,
        env: o.env,
        model: s?.model ?? o.model,
        since: r.from,
        ...(o.deploymentsDir ? { deploymentsDir: o.deploymentsDir } : {}),
        ...(o.processEnv ? { processEnv: o.processEnv } : {}),
      })
    : Promise.reject(new Error("No gitops checkout is open, so git's canary history cannot be read."));
  const noMetrics = (error: string): DashboardMetrics => ({
    observed: { ok: false, error },
    requestRate: { ok: false, error },
    errorRate: { ok: false, error },
    p95: { ok: false, error },
    queries: { counts: '', p95: '' },
  });
  const metricsP: Promise<DashboardMetrics> = !o.metrics
    ? Promise.resolve(noMetrics('Prometheus is not configured.'))
    : !namespace
      ? Promise.resolve(noMetrics(`The namespace of environment ${o.env} is not known, so Prometheus cannot be asked.`))
      : readDashboardMetrics(o.metrics, { namespace, name: s?.name ?? o.model }, r, o.signal);
  const [commits, m] = await Promise.all([
    commitsP.then(
      (c) => ({ ok: true as const, c }),
      (e: unknown) => ({ ok: false as const, error: failureText(e) }),
    ),
    metricsP,
  ]);

  const desired: Section<SeriesPoint[]> = commits.ok
    ? commits.c.length
      ? { ok: true, data: desiredSeries(commits.c, r.times) }
      : { ok: true, data: desiredSeries([], r.times), note: "The model's config.yaml has no commits yet." }
    : { ok: false, error: commits.error };
  const events = [...(commits.ok ? commitEvents(commits.c, r.from, now) : []), ...(o.events?.events(`${o.env}/${o.model}`, r.from, now) ?? [])].sort(
    (a, b) => a.t - b.t,
  );
  return {
    header: headerOf(o, s, namespace),
    window: o.window,
    from: r.from,
    to: r.to,
    stepMs: r.stepMs,
    desired,
    configured: configured(o, s, r, now),
    observed: m.observed,
    requestRate: m.requestRate,
    errorRate: m.errorRate,
    p95: m.p95,
    events,
    ...(o.metrics ? {} : { prometheusHint: PROMETHEUS_HINT }),
    ...(m.source ? { observedSource: m.source } : {}),
    ...(m.queries.counts ? { queries: m.queries } : {}),
    at: now,
  };
}
