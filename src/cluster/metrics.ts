/**
 * Prometheus / Thanos client: the observed traffic split per revision and the rollout
 * gates (error rate, p95 latency) of one revision (domain.md §5). The gates' queries are in
 * metrics-gates.ts, PromQL escaping and MetricsError in metrics-promql.ts, the observed split's
 * queries and reading in metrics-split.ts (all re-exported).
 *
 * - `GET <base>/api/v1/query?query=…` (instant queries), answers
 *   `{"status":"success","data":{"resultType":"vector","result":[{"metric":{…},"value":[ts,"v"]}]}}`.
 * - Auth: a bearer token given explicitly (CLI: $KSERVE_CANARY_PROMETHEUS_TOKEN), else the
 *   kubeconfig user's bearer token through client-node's own machinery (token, token file,
 *   exec plugin, OIDC: credentials.ts), fetched afresh for each query (OpenShift's Thanos
 *   querier accepts it). The kubeconfig token goes only over https, only to the configured
 *   host (redirects are never followed), and only when the URL is the user's own choice (user
 *   settings, CLI flag or environment) or the user confirmed that host. An explicit token over
 *   plain http is refused. Client certificates and passwords are never sent to Prometheus: they
 *   are an identity for the API server. Tokens are never logged nor put in a message; text
 *   the server answers is cleaned of the token sent and passed through redact().
 * - TLS is verified: the system CAs, plus the kubeconfig cluster's CA and an extra CA when
 *   given; the kubeconfig's insecure-skip-tls-verify is not carried over.
 * - Split: `revision_request_count` by revision, else `ovms_requests_success` by pod
 *   (metrics-split.ts).
 */
import * as fs from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import { CanaryError } from '../core/errors';
import { HttpFailure, httpRequest } from '../core/http';
import { redact } from '../core/redact';
import { CredentialError, kubeBearer } from './credentials';
import { matrixOf, rangeParams, trustingAgent, type PromData, type PromRange, type PromSeries } from './dashboard-matrix';
import { findKubeconfig, loadKubeconfig } from './kubeconfig';
import { MetricsError } from './metrics-promql';

// PromQL escaping, the query error, the rollout gates' queries and the observed split live beside this file; imported from here.
export { MetricsError, promRegexLiteral, promString } from './metrics-promql';
export { gateQueries, readGates, revisionSelector, type GateReading } from './metrics-gates';
export { knativeSplitQuery, observedSplit, ovmsSplitQuery, revisionOfPod, type ServiceRef } from './metrics-split';

export interface PrometheusSettings {
  /** Base URL of Prometheus or the Thanos querier, e.g. `https://thanos-querier-openshift-monitoring.apps.example.com`. */
  url?: string;
  /** Bearer token given explicitly; wins over the kubeconfig's. Refused with an http URL. */
  token?: string;
  /** Use the kubeconfig user's token when no token is set (default true). */
  useKubeconfigToken?: boolean;
  /**
   * Where the URL comes from: `user` (user settings, a CLI flag or environment variable: the
   * user's own choice; the default) or `workspace` (a repository's .vscode/settings.json, a
   * folder setting): then the kubeconfig token goes only to a host `confirmHost` accepts.
   */
  urlSource?: 'user' | 'workspace';
  /** Extra PEM CA certificate(s) to trust. */
  ca?: string;
  /** Per query, default 10000 ms. */
  timeoutMs?: number;
}

/** Which kubeconfig (as the cluster store finds it) and how to ask about a workspace's host. */
export interface MetricsKube {
  kubeconfigPath?: string;
  context?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * Asked (once per client) before the kubeconfig token goes to `origin` when the URL comes
   * from the workspace; true: send it. Absent: never sent for a workspace URL.
   */
  confirmHost?: (origin: string) => Promise<boolean>;
}

export type { PromRange, PromSeries } from './dashboard-matrix';

export interface PromSample {
  metric: Record<string, string>;
  value: number;
}

export interface MetricsClient {
  readonly baseUrl: string;
  /** Runs an instant query and returns the samples of a vector (or the one of a scalar). */
  query(promql: string, signal?: AbortSignal): Promise<PromSample[]>;
  /** Runs a range query (`/api/v1/query_range`, same auth and TLS) and returns the series of the matrix. */
  queryRange?(promql: string, range: PromRange, signal?: AbortSignal): Promise<PromSeries[]>;
}

function checkBase(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new CanaryError(
      'invalid-input',
      'bad-prometheus-url',
      `The Prometheus URL ${JSON.stringify(url)} is not a URL.`,
      'Give the base URL, e.g. https://thanos-querier-openshift-monitoring.apps.example.com.',
    );
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new CanaryError(
      'invalid-input',
      'bad-prometheus-url',
      `The Prometheus URL must be http or https, not ${u.protocol}.`,
      'Give the base URL, e.g. https://prometheus.example.com.',
    );
  }
  if (u.username || u.password) {
    throw new CanaryError(
      'invalid-input',
      'bad-prometheus-url',
      'The Prometheus URL must not hold a user name or password.',
      'Put the bearer token in the Prometheus token setting instead.',
    );
  }
  u.search = '';
  u.hash = '';
  return u;
}

/** Options of one client: the token is fixed (`token`) or fetched before each query (`bearer`). */
export interface MetricsClientOptions {
  url: string;
  token?: string;
  /** Called before each query: a rotating token (exec plugin, token file); undefined sends none. */
  bearer?: () => Promise<string | undefined>;
  ca?: string | Buffer | (string | Buffer)[];
  timeoutMs?: number;
  /** Why no token is sent although the kubeconfig may have one (shown with a 401/403). */
  noTokenReason?: string;
}

/** `text` from the server without the token we sent, through redact(). */
function scrub(text: string, token: string | undefined): string {
  return redact(token ? text.split(token).join('***') : text);
}

/** Where a redirect points, without its query (an OAuth redirect carries state there). */
function redirectTarget(location: string | string[] | undefined, base: URL): string {
  const l = Array.isArray(location) ? location[0] : location;
  if (!l) return '';
  try {
    const u = new URL(l, base);
    return ` to ${redact(`${u.protocol}//${u.host}${u.pathname}`).slice(0, 200)}`;
  } catch {
    return '';
  }
}

/**
 * A client for one Prometheus. The token is used only in the Authorization header of
 * requests to the base URL's host: redirects are reported, never followed.
 */
export function createMetricsClient(opts: MetricsClientOptions): MetricsClient {
  const base = checkBase(opts.url);
  const baseUrl = base.toString().replace(/\/+$/, '');
  const origin = `${base.protocol}//${base.host}`;
  const timeoutMs = opts.timeoutMs ?? 10000;
  const fixed = opts.token?.trim() || undefined;
  const bearer = opts.bearer ?? (async () => fixed);
  const agent = base.protocol === 'https:' && opts.ca ? trustingAgent(opts.ca) : undefined;
  return {
    baseUrl,
    query: async (promql, signal) => samplesOf(await call('query', { query: promql }, signal), origin),
    queryRange: async (promql, r, signal) => matrixOf(await call('query_range', { query: promql, ...rangeParams(r) }, signal)) ?? badAnswer(origin),
  };
  async function call(endpoint: 'query' | 'query_range', params: Record<string, string>, signal?: AbortSignal): Promise<PromData | undefined> {
    const url = new URL(`${baseUrl}/api/v1/${endpoint}`);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    const headers: Record<string, string> = { accept: 'application/json' };
    let token: string | undefined;
    try {
      token = (await bearer())?.trim() || undefined;
    } catch (e) {
      if (e instanceof CredentialError) throw new MetricsError('prometheus-credentials', `No token for Prometheus at ${origin}: ${e.message}`, e.hint);
      throw e;
    }
    if (token) headers.authorization = `Bearer ${token}`;
    let res;
    try {
      res = await httpRequest({ url, headers, timeoutMs, ...(signal ? { signal } : {}), ...(agent ? { agent } : {}) });
    } catch (e) {
      if (e instanceof HttpFailure) {
        const hint =
          e.reason === 'tls'
            ? 'Trust its CA (Prometheus CA setting) or use the URL of a route with a valid certificate.'
            : 'Check the Prometheus URL setting and that it can be reached from here.';
        throw new MetricsError(`prometheus-${e.reason}`, `Prometheus query failed: ${e.message}`, hint, { cause: e });
      }
      throw e;
    }
    if (res.status === 401 || res.status === 403) {
      const refused = `Prometheus at ${origin} refused the query (HTTP ${res.status})`;
      if (!token && opts.noTokenReason) {
        throw new MetricsError(
          'prometheus-unauthorized',
          `${refused}; no token was sent: ${opts.noTokenReason}.`,
          'Use the https URL of the Thanos querier or Prometheus route, set in your user settings (or --prometheus).',
        );
      }
      const hint = token
        ? 'The bearer token is not valid for it (expired? not allowed to read metrics?). Log in again or set another token.'
        : 'It needs a bearer token: log in so the kubeconfig holds one (oc login), or set $KSERVE_CANARY_PROMETHEUS_TOKEN for the CLI.';
      throw new MetricsError('prometheus-unauthorized', `${refused}.`, hint);
    }
    if (res.status >= 300 && res.status < 400) {
      throw new MetricsError(
        'prometheus-redirect',
        `Prometheus at ${origin} answered HTTP ${res.status}, a redirect${redirectTarget(res.headers.location, url)}; redirects are not followed, so that no token goes to another address.`,
        'Set the Prometheus URL to the final address if you trust it (a redirect to a login page means the URL wants a bearer token).',
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(res.body);
    } catch {
      throw new MetricsError(
        'prometheus-bad-answer',
        `Prometheus at ${origin} answered HTTP ${res.status} with something that is not JSON.`,
        'Check that the URL points at Prometheus or Thanos (its /api/v1/query).',
      );
    }
    const b = body as { status?: string; error?: string; errorType?: string; data?: { resultType?: string; result?: unknown } };
    if (b.status !== 'success') {
      const why = typeof b.error === 'string' ? scrub(b.error, token).slice(0, 300) : `HTTP ${res.status}`;
      const type = typeof b.errorType === 'string' && /^[a-z_]{1,40}$/.test(b.errorType) ? ` (${b.errorType})` : '';
      throw new MetricsError(
        'prometheus-error',
        `Prometheus at ${origin} answered an error${type}: ${why}`,
        'Check the Prometheus URL; the query is in the log.',
      );
    }
    return b.data;
  }
}

function num(v: unknown): number {
  const n = typeof v === 'string' ? Number(v) : Number.NaN; // "NaN", "+Inf" parse as such
  return n;
}

function badAnswer(origin: string): never {
  throw new MetricsError(
    'prometheus-bad-answer',
    `Prometheus at ${origin} answered a result of an unexpected shape.`,
    'Check that the URL points at Prometheus or Thanos.',
  );
}

function samplesOf(data: PromData | undefined, origin: string): PromSample[] {
  const bad = () => badAnswer(origin);
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

/** The CA of the kubeconfig's current cluster (certificate-authority(-data)), when it names one. */
function clusterCa(kc: KubeConfig): Buffer | undefined {
  const c = kc.getCurrentCluster();
  try {
    if (c?.caFile) return fs.readFileSync(c.caFile);
    if (c?.caData) return Buffer.from(c.caData, 'base64');
  } catch {
    // unreadable: the cluster store reports the kubeconfig's problems
  }
  return undefined;
}

async function kubeconfigOf(kube: MetricsKube): Promise<KubeConfig | undefined> {
  const source = findKubeconfig(kube.kubeconfigPath, kube.env ?? process.env);
  if (!source) return undefined;
  // A kubeconfig that does not load is the cluster store's problem to report: no token then.
  return loadKubeconfig(source, kube.context).catch(() => undefined);
}

/**
 * A client from settings, or undefined when no URL is configured. Decides which token goes
 * to Prometheus (see the file comment); refuses an explicit token with an http URL.
 */
export async function metricsFromSettings(s: PrometheusSettings, kube?: MetricsKube): Promise<MetricsClient | undefined> {
  const url = s.url?.trim();
  if (!url) return undefined;
  const base = checkBase(url);
  const origin = `${base.protocol}//${base.host}`;
  const secure = base.protocol === 'https:';
  const explicit = s.token?.trim() || undefined;
  if (explicit && !secure) {
    throw new CanaryError(
      'invalid-input',
      'prometheus-token-over-http',
      `Refusing to send the Prometheus token over plain http to ${origin}: anyone on the way could read it. Nothing was sent.`,
      'Use the https URL of Prometheus or the Thanos querier, or unset the token ($KSERVE_CANARY_PROMETHEUS_TOKEN) for a Prometheus that needs none (a port-forward).',
    );
  }
  const kc = kube ? await kubeconfigOf(kube) : undefined;
  const cas = [s.ca, kc ? clusterCa(kc) : undefined].filter((c): c is string | Buffer => c !== undefined && c.length > 0);
  const common = { url, ...(cas.length ? { ca: cas } : {}), ...(s.timeoutMs ? { timeoutMs: s.timeoutMs } : {}) };
  if (explicit) return createMetricsClient({ ...common, token: explicit });
  let noTokenReason: string | undefined;
  if (s.useKubeconfigToken === false) noTokenReason = 'sending the kubeconfig token is turned off (kserveCanary.prometheus.useKubeconfigToken)';
  else if (!kc) noTokenReason = 'no kubeconfig was found';
  else if (!secure) noTokenReason = 'the kubeconfig token is only sent over https, and this URL is plain http';
  else if (s.urlSource === 'workspace' && !(await kube?.confirmHost?.(origin))) {
    noTokenReason = `the URL comes from the workspace settings and sending your kubeconfig token to ${base.host} was not confirmed (set the URL in your user settings, or confirm when asked)`;
  }
  if (noTokenReason || !kc) return createMetricsClient({ ...common, ...(noTokenReason ? { noTokenReason } : {}) });
  // Queries asked together (the three gate queries) share one run of an exec plugin.
  let inflight: Promise<string | undefined> | undefined;
  const bearer = () =>
    (inflight ??= kubeBearer(kc)
      .then((b) => b.token)
      .finally(() => (inflight = undefined)));
  return createMetricsClient({ ...common, bearer });
}
