/**
 * The canary dashboard's data: what the extension host computes and sends to the webview, which
 * only draws it (issue 16). Pure types, shared by the series builder (src/cluster + src/core), the
 * panel (src/ui) and the webview bundle (media/). Times are milliseconds since the epoch; a `null`
 * value is a gap (no sample at that step), never a zero.
 */

export type DashboardWindow = '15m' | '1h' | '6h' | '24h';

export const DASHBOARD_WINDOWS: readonly DashboardWindow[] = ['15m', '1h', '6h', '24h'];

export interface SeriesPoint {
  t: number;
  v: number | null;
}

/** One line of a chart: a revision's values over the window. */
export interface RevisionSeries {
  /** `jukebox-predictor-00002`, or a label such as `latest` for git's desired split. */
  revision: string;
  points: SeriesPoint[];
}

/**
 * A part of the panel that loads on its own: its data, or the error that stopped it. `note`: one
 * line about data that loaded but says little (no series for this service, OpenVINO's counter
 * has no status codes, …).
 */
export type Section<T> = { ok: true; data: T; note?: string } | { ok: false; error: string };

export type DashboardEventKind = 'commit' | 'rollout-step' | 'gate';

export interface DashboardEvent {
  kind: DashboardEventKind;
  t: number;
  /** One line for the marker's label. */
  title: string;
  /** Commits. */
  sha?: string;
  message?: string;
  author?: string;
  /** Gates: whether the step passed. */
  passed?: boolean;
}

export interface DashboardHeader {
  service: string;
  env: string;
  namespace: string;
  verdict: string;
  reason: string;
  /** Revisions as configured on the cluster now, with their share. */
  revisions: { name: string; percent: number; tag?: string; latest: boolean }[];
  /** The canary percent in git (config.yaml), or undefined when there is no canary. */
  desiredPercent?: number;
  argoSync?: string;
}

export interface DashboardModel {
  header: DashboardHeader;
  window: DashboardWindow;
  from: number;
  to: number;
  stepMs: number;
  /** Desired split over time from the git history of the service's config.yaml (percent to the latest revision). */
  desired: Section<SeriesPoint[]>;
  /** Configured split per revision as the store saw the cluster's traffic. */
  configured: RevisionSeries[];
  /** Observed share of requests per revision (percent), from Prometheus. */
  observed: Section<RevisionSeries[]>;
  /** Requests per second per revision. */
  requestRate: Section<RevisionSeries[]>;
  /** 5xx per second per revision. */
  errorRate: Section<RevisionSeries[]>;
  /** p95 latency per revision, seconds. */
  p95: Section<RevisionSeries[]>;
  events: DashboardEvent[];
  /** Set when Prometheus is not configured: one line saying how to set kserveCanary.prometheus.url. */
  prometheusHint?: string;
  /** Where the observed split came from: Knative's revision_request_count or OpenVINO's per-pod counter. */
  observedSource?: 'knative' | 'ovms';
  /** The PromQL sent, by section (for a tooltip or the log). */
  queries?: { counts?: string; p95?: string; ovms?: string };
  /** When the data was computed. */
  at: number;
}
