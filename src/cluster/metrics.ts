/**
 * Prometheus / Thanos client: the observed traffic split per revision and the rollout
 * gates (error rate, p95 latency) of one revision (domain.md §5).
 *
 * - `GET <base>/api/v1/query?query=…` (instant queries), answers
 *   `{"status":"success","data":{"resultType":"vector","result":[{"metric":{…},"value":[ts,"v"]}]}}`.
 * - Auth: a bearer token from the settings, else (optionally) the kubeconfig user's token
 *   (OpenShift's Thanos querier accepts it). The token is sent in the Authorization header
 *   only; it is never logged nor put in a message.
 * - TLS is verified (an extra CA may be configured); http is allowed for local setups.
 * - Split: `revision_request_count` (Knative queue-proxy, labels namespace_name,
 *   configuration_name, revision_name) rate by revision_name; when that has no series,
 *   per-pod `ovms_requests_success` with pods `<model>-predictor-000NN-deployment-…`
 *   mapped to revision `<model>-predictor-000NN`. Nothing found → absent with the reason.
 */
import { CanaryError } from '../core/errors';
import { HttpFailure, httpRequest } from '../core/http';
import { sharesOf, type AbsentReason, type ObservedSplit } from '../core/observed';
import { formatDuration, promRange } from '../core/plan';
import type { GateReading } from '../core/rollout';
import { findKubeconfig, loadKubeconfig } from './kubeconfig';

export interface PrometheusSettings {
  /** Base URL of Prometheus or the Thanos querier, e.g. `https://thanos-querier-openshift-monitoring.apps.example.com`. */
  url?: string;
  /** Bearer token; wins over the kubeconfig's. */
  token?: string;
  /** Use the kubeconfig user's token when no token is set (default true). */
  useKubeconfigToken?: boolean;
  /** Extra PEM CA certificate(s) to trust. */
  ca?: string;
  /** Per query, default 10000 ms. */
  timeoutMs?: number;
}

export interface PromSample {
  metric: Record<string, string>;
  value: number;
}

/** A Prometheus failure, with a message fit for the user (no token). */
export class MetricsError extends CanaryError {
  constructor(code: string, message: string, hint: string, options?: { cause?: unknown }) {
    super('cluster', code, message, hint, options);
  }
}

export interface MetricsClient {
  readonly baseUrl: string;
  /** Runs an instant query and returns the samples of a vector (or the one of a scalar). */
  query(promql: string, signal?: AbortSignal): Promise<PromSample[]>;
}

/** Escapes a value for a PromQL double-quoted label matcher. */
export function promString(v: string): string {
  return JSON.stringify(v);
}

/** Escapes a literal for use inside a PromQL regex matcher (RE2, fully anchored). */
export function promRegexLiteral(v: string): string {
  return v.replace(/[\\.^$|?*+()[\]{}]/g, '\\$&');
}

function checkBase(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new CanaryError('invalid-input', 'bad-prometheus-url', `The Prometheus URL ${JSON.stringify(url)} is not a URL.`, 'Give the base URL, e.g. https://thanos-querier-openshift-monitoring.apps.example.com.');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new CanaryError('invalid-input', 'bad-prometheus-url', `The Prometheus URL must be http or https, not ${u.protocol}.`, 'Give the base URL, e.g. https://prometheus.example.com.');
  }
  if (u.username || u.password) {
    throw new CanaryError('invalid-input', 'bad-prometheus-url', 'The Prometheus URL must not hold a user name or password.', 'Put the bearer token in the Prometheus token setting instead.');
  }
  u.search = '';
  u.hash = '';
  return u;
}

/**
 * A client for one Prometheus. `token` is used only in the Authorization header.
 */
export function createMetricsClient(opts: { url: string; token?: string; ca?: string; timeoutMs?: number }): MetricsClient {
  const base = checkBase(opts.url);
  const baseUrl = base.toString().replace(/\/+$/, '');
  const origin = `${base.protocol}//${base.host}`;
  const timeoutMs = opts.timeoutMs ?? 10000;
  const token = opts.token?.trim() || undefined;
  return {
    baseUrl,
    async query(promql: string, signal?: AbortSignal): Promise<PromSample[]> {
      const url = new URL(`${baseUrl}/api/v1/query`);
      url.searchParams.set('query', promql);
      const headers: Record<string, string> = { accept: 'application/json' };
      if (token) headers.authorization = `Bearer ${token}`;
      let res;
      try {
        res = await httpRequest({ url, headers, timeoutMs, ...(signal ? { signal } : {}), ...(opts.ca ? { ca: opts.ca } : {}) });
      } catch (e) {
        if (e instanceof HttpFailure) {
          const hint = e.reason === 'tls'
            ? 'Trust its CA (Prometheus CA setting) or use the URL of a route with a valid certificate.'
            : 'Check the Prometheus URL setting and that it can be reached from here.';
          throw new MetricsError(`prometheus-${e.reason}`, `Prometheus query failed: ${e.message}`, hint, { cause: e });
        }
        throw e;
      }
      if (res.status === 401 || res.status === 403) {
        throw new MetricsError('prometheus-unauthorized', `Prometheus at ${origin} refused the query (HTTP ${res.status}).`,
          token ? 'The bearer token is not valid for it (expired? not allowed to read metrics?). Log in again or set another token.' : 'It needs a bearer token: set the Prometheus token setting, or log in so the kubeconfig holds one.');
      }
      let body: unknown;
      try {
        body = JSON.parse(res.body);
      } catch {
        throw new MetricsError('prometheus-bad-answer', `Prometheus at ${origin} answered HTTP ${res.status} with something that is not JSON.`, 'Check that the URL points at Prometheus or Thanos (its /api/v1/query).');
      }
      const b = body as { status?: string; error?: string; errorType?: string; data?: { resultType?: string; result?: unknown } };
      if (b.status !== 'success') {
        const why = typeof b.error === 'string' ? b.error.slice(0, 300) : `HTTP ${res.status}`;
        throw new MetricsError('prometheus-error', `Prometheus at ${origin} answered an error${b.errorType ? ` (${b.errorType})` : ''}: ${why}`, 'Check the Prometheus URL; the query is in the log.');
      }
      return samplesOf(b.data, origin);
    },
  };
}

function num(v: unknown): number {
  const n = typeof v === 'string' ? Number(v) : Number.NaN; // "NaN", "+Inf" parse as such
  return n;
}

function samplesOf(data: { resultType?: string; result?: unknown } | undefined, origin: string): PromSample[] {
  const bad = () => new MetricsError('prometheus-bad-answer', `Prometheus at ${origin} answered a result of an unexpected shape.`, 'Check that the URL points at Prometheus or Thanos.');
  if (!data) throw bad();
  if (data.resultType === 'scalar') {
    const v = data.result as unknown[];
    if (!Array.isArray(v) || v.length < 2) throw bad();
    return [{ metric: {}, value: num(v[1]) }];
  }
  if (data.resultType !== 'vector' || !Array.isArray(data.result)) throw bad();
  return data.result.map((r) => {
    const x = r as { metric?: Record<string, string>; value?: unknown[] };
    if (!x || typeof x !== 'object' || !Array.isArray(x.value) || x.value.length < 2) throw bad();
    return { metric: x.metric ?? {}, value: num(x.value[1]) };
  });
}

/** The kubeconfig user's bearer token, when it has one (OpenShift `oc login`). */
export async function kubeconfigToken(opts: { kubeconfigPath?: string; context?: string; env?: NodeJS.ProcessEnv }): Promise<string | undefined> {
  const source = findKubeconfig(opts.kubeconfigPath, opts.env ?? process.env);
  if (!source) return undefined;
  try {
    const kc = await loadKubeconfig(source, opts.context);
    const user = kc.getCurrentUser();
    const t = user?.token?.trim();
    return t ? t : undefined;
  } catch {
    return undefined;
  }
}

/** A client from settings, or undefined when no URL is configured. */
export async function metricsFromSettings(s: PrometheusSettings, kube?: { kubeconfigPath?: string; context?: string; env?: NodeJS.ProcessEnv }): Promise<MetricsClient | undefined> {
  if (!s.url?.trim()) return undefined;
  let token = s.token?.trim() || undefined;
  if (!token && s.useKubeconfigToken !== false && kube) token = await kubeconfigToken(kube);
  return createMetricsClient({ url: s.url.trim(), ...(token ? { token } : {}), ...(s.ca ? { ca: s.ca } : {}), ...(s.timeoutMs ? { timeoutMs: s.timeoutMs } : {}) });
}

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
    return absent(window, 'no-traffic', `No requests reached ${svc.name} in ${svc.namespace} over the last ${window} (${source === 'knative' ? 'revision_request_count' : 'ovms_requests_success'} is 0).`, now);
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
export async function observedSplit(client: MetricsClient | undefined, svc: ServiceRef, opts: { windowMs?: number; signal?: AbortSignal; now?: () => Date } = {}): Promise<ObservedSplit> {
  const windowMs = opts.windowMs ?? 300000;
  const window = formatDuration(windowMs);
  const range = promRange(windowMs);
  const now = opts.now?.() ?? new Date();
  if (!client) return absent(window, 'not-configured', 'No Prometheus configured: set its URL (kserveCanary.prometheus.url, or --prometheus) to see the observed split.', now);
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
    const msg = e instanceof Error ? e.message : String(e);
    return absent(window, 'query-failed', msg, now);
  }
}

/** What the gates of one revision measured over a window (the engine's type, src/core/rollout.ts). */
export type { GateReading };

export function revisionSelector(namespace: string, revision: string): string {
  return `namespace_name=${promString(namespace)},revision_name=${promString(revision)}`;
}

export function gateQueries(namespace: string, revision: string, range: string): { total: string; errors: string; p95: string } {
  const sel = revisionSelector(namespace, revision);
  return {
    total: `sum(rate(revision_request_count{${sel}}[${range}]))`,
    errors: `sum(rate(revision_request_count{${sel},response_code_class="5xx"}[${range}]))`,
    p95: `histogram_quantile(0.95, sum by (le) (rate(revision_request_latencies_bucket{${sel}}[${range}])))`,
  };
}

/** Reads the error rate and p95 latency of a revision. Query failures land in `problem`. */
export async function readGates(client: MetricsClient, q: { namespace: string; revision: string; windowMs: number; signal?: AbortSignal }): Promise<GateReading> {
  const range = promRange(q.windowMs);
  const queries = gateQueries(q.namespace, q.revision, range);
  const reading: GateReading = { revision: q.revision, window: formatDuration(q.windowMs), rps: undefined, errorRate: undefined, p95Ms: undefined, problem: undefined };
  const one = (s: PromSample[]): number | undefined => {
    const v = s[0]?.value;
    return v !== undefined && Number.isFinite(v) ? v : undefined;
  };
  try {
    const [total, errors, p95] = await Promise.all([
      client.query(queries.total, q.signal),
      client.query(queries.errors, q.signal),
      client.query(queries.p95, q.signal),
    ]);
    reading.rps = one(total) ?? 0;
    if (reading.rps > 0) {
      reading.errorRate = Math.min(1, (one(errors) ?? 0) / reading.rps);
      reading.p95Ms = one(p95);
    }
  } catch (e) {
    reading.problem = e instanceof Error ? e.message : String(e);
  }
  return reading;
}
