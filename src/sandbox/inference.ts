/**
 * Inference endpoints and a Prometheus-compatible query API for the sandbox (issue 8).
 *
 * - `POST /serving/<ns>/<name>/v2/models/<name>/infer` (plain HTTP on 127.0.0.1): picks a
 *   revision from the service's `status.components.predictor.traffic[]` by smooth weighted
 *   round robin (the split is exact over many requests), answers the KServe V2 body
 *   `{model_name, model_version: <revision>, id, outputs}` with header `x-kserve-revision`;
 *   400 for a body that is not JSON, 404 for another model or an unknown service.
 *   `setRevisionBehavior(ns, revision, {errorRate, latencyMs})`: every round(1/errorRate)-th
 *   request of that revision answers 500; each answer waits latencyMs.
 * - `POST /_sandbox/revisions/<ns>/<revision>/behavior` with `{errorRate?, latencyMs?}`: the
 *   same from another process (the extension-host tests run the sandbox as a child process).
 *   Test control, not a KServe API: only from loopback peers, only with the sandbox's bearer
 *   token (401 otherwise, 403 from another address), 400 for a body that is not such an object;
 *   answers 200 with the revision's behavior now in force.
 * - `POST /_sandbox/metrics/reset` (same rules): forgets every request served so far, so that
 *   a test reading the observed split starts from nothing, whatever earlier suites sent.
 * - `GET /prometheus/api/v1/query?query=…`: instant queries, served over https (the sandbox
 *   CA's certificate for 127.0.0.1, like the Thanos querier's route) and over plain http (a
 *   twin for tests proving that no credential goes over http). Like the Thanos querier behind
 *   its kube-rbac-proxy: no or a wrong bearer token → 401, a user without cluster-wide access
 *   → 403. Each query's scheme and whether it carried the right token are recorded
 *   (`authLog`, never the token itself). The answers cover the requests served, as Knative's
 *   queue-proxy and OpenVINO report them:
 *   `revision_request_count` (namespace_name, configuration_name, revision_name,
 *   response_code, response_code_class), `revision_request_latencies_bucket` (ms, with le)
 *   and `ovms_requests_success` (namespace, name, pod `<revision>-deployment-<hash>-<id>`).
 *   Forms: `rate(m{…}[r])`, `sum [by (l,…)] (rate(m{…}[r]))`,
 *   `histogram_quantile(q, sum by (le) (rate(m_bucket{…}[r])))`; anything else is 400 bad_data.
 */
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { closeServer, listenOnLoopback } from './listen';
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { INFERENCE_SERVICES } from './resources';
import type { ObjectStore } from './store';

export interface RevisionBehavior {
  /** Share of requests (0..1) answered 500, deterministically every round(1/errorRate)-th. */
  errorRate?: number;
  /** Delay before each answer. */
  latencyMs?: number;
}

interface Sample {
  t: number;
  namespace: string;
  name: string;
  revision: string;
  code: number;
  latencyMs: number;
}

const RETENTION_MS = 60 * 60 * 1000;
const MAX_SAMPLES = 500_000;
/** Knative's request latency buckets (ms). */
const BUCKETS = [5, 10, 20, 40, 60, 80, 100, 150, 200, 250, 300, 350, 400, 450, 500, 600, 700, 800, 900, 1000, 2000, 5000, 10000, 20000, 50000, 100000];

class BadQuery extends Error {}

interface Matcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

function parseMatchers(text: string): Matcher[] {
  const out: Matcher[] = [];
  const re = /\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*")\s*(,|$)/gy;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) throw new BadQuery(`cannot parse label matchers at ${JSON.stringify(text.slice(pos))}`);
    out.push({ label: m[1]!, op: m[2] as Matcher['op'], value: JSON.parse(m[3]!) as string });
    pos = re.lastIndex;
  }
  return out;
}

function matchesAll(labels: Record<string, string>, ms: Matcher[]): boolean {
  return ms.every((m) => {
    const v = labels[m.label] ?? '';
    switch (m.op) {
      case '=':
        return v === m.value;
      case '!=':
        return v !== m.value;
      case '=~':
        return new RegExp(`^(?:${m.value})$`).test(v);
      case '!~':
        return !new RegExp(`^(?:${m.value})$`).test(v);
    }
    return false;
  });
}

function rangeMs(r: string): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(r);
  if (!m) throw new BadQuery(`bad range [${r}]`);
  const n = Number(m[1]);
  return n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

function podOf(revision: string): string {
  const h = createHash('sha1').update(revision).digest('hex');
  return `${revision}-deployment-${h.slice(0, 10)}-${h.slice(10, 15)}`;
}

/** The labels a sample carries in each metric (undefined: not part of that metric). */
function labelsOf(metric: string, s: Sample): Record<string, string> | undefined {
  const knative = {
    namespace_name: s.namespace,
    configuration_name: `${s.name}-predictor`,
    revision_name: s.revision,
    response_code: String(s.code),
    response_code_class: `${Math.floor(s.code / 100)}xx`,
  };
  if (metric === 'revision_request_count' || metric === 'revision_request_latencies_bucket') return knative;
  if (metric === 'ovms_requests_success') return s.code === 200 ? { namespace: s.namespace, name: s.name, pod: podOf(s.revision) } : undefined;
  return undefined;
}

type Vector = Array<{ metric: Record<string, string>; value: number }>;

/** One query the Prometheus API received: over which scheme, with which kind of credential. */
export interface PrometheusAuthRecord {
  scheme: 'http' | 'https';
  /** `none`: no Authorization header; `valid`: the sandbox token; `invalid`: anything else. */
  auth: 'none' | 'valid' | 'invalid';
}

export interface InferenceOptions {
  /** Certificate and key for the https listener of the Prometheus API. */
  tls?: { cert: string; key: string };
  /** Whether the user may read cluster-wide (the Thanos querier answers 403 otherwise). */
  clusterWide?: () => boolean;
}

const AUTH_LOG_MAX = 1000;
/** readJson's answer when it already answered the request. */
const NO_BODY = Symbol('no body');

export class InferenceServer {
  private server: http.Server | undefined;
  private tlsServer: https.Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** The last queries' scheme and kind of credential (oldest first). */
  readonly authLog: PrometheusAuthRecord[] = [];
  tlsPort = 0;
  private readonly behaviors = new Map<string, RevisionBehavior>();
  private readonly counters = new Map<string, number>();
  private readonly rr = new Map<string, { fingerprint: string; current: Map<string, number> }>();
  private samples: Sample[] = [];
  private readonly pending = new Set<NodeJS.Timeout>();
  port = 0;

  constructor(
    private readonly store: () => ObjectStore,
    private readonly token: () => string,
    private readonly opts: InferenceOptions = {},
  ) {}

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The Prometheus API over https when TLS material was given, else over http. */
  get prometheusUrl(): string {
    return this.opts.tls ? `https://127.0.0.1:${this.tlsPort}/prometheus` : this.prometheusHttpUrl;
  }

  /** The same API over plain http. */
  get prometheusHttpUrl(): string {
    return `${this.baseUrl}/prometheus`;
  }

  serviceUrl(namespace: string, name: string): string {
    return `${this.baseUrl}/serving/${namespace}/${name}`;
  }

  setRevisionBehavior(namespace: string, revision: string, b: RevisionBehavior): void {
    if (b.errorRate !== undefined && !(b.errorRate >= 0 && b.errorRate <= 1)) throw new RangeError('errorRate must be between 0 and 1');
    if (b.latencyMs !== undefined && !(b.latencyMs >= 0)) throw new RangeError('latencyMs must be 0 or more');
    const key = `${namespace}/${revision}`;
    this.behaviors.set(key, { ...this.behaviors.get(key), ...b });
    this.counters.delete(key);
  }

  /** Listens on `port` (http) and, with TLS material, `tlsPort` (https; 0: any). */
  async listen(port: number, tlsPort = 0): Promise<number> {
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((e: unknown) => this.json(res, 500, { error: e instanceof Error ? e.message : String(e) }));
    };
    const server = http.createServer(handler);
    this.port = await listenOnLoopback(server, port, this.sockets);
    this.server = server;
    if (this.opts.tls) {
      const tlsServer = https.createServer({ cert: this.opts.tls.cert, key: this.opts.tls.key }, handler);
      this.tlsPort = await listenOnLoopback(tlsServer, tlsPort, this.sockets).catch(() => listenOnLoopback(tlsServer, 0, this.sockets));
      this.tlsServer = tlsServer;
    }
    return this.port;
  }

  async close(): Promise<void> {
    const servers = [this.server, this.tlsServer].filter((s): s is http.Server => s !== undefined);
    this.server = undefined;
    this.tlsServer = undefined;
    for (const t of this.pending) clearTimeout(t);
    this.pending.clear();
    // one socket set for both servers: close them one after the other
    for (const s of servers) await closeServer(s, this.sockets);
  }

  private json(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
    if (res.headersSent) {
      res.end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/prometheus/api/v1/query') return this.serveQuery(req, res, url);
    if (url.pathname.startsWith('/_sandbox/')) return this.serveControl(req, res, url);
    const m = /^\/serving\/([^/]+)\/([^/]+)(\/.*)?$/.exec(url.pathname);
    if (!m) return this.json(res, 404, { error: 'not found' });
    const ns = decodeURIComponent(m[1]!);
    const name = decodeURIComponent(m[2]!);
    const rest = m[3] ?? '/';
    const isvc = this.store().get(INFERENCE_SERVICES, ns, name);
    if (!isvc) return this.json(res, 404, { error: `InferenceService ${name} in ${ns} not found` });
    if (req.method === 'GET' && rest === '/v2/health/ready') return this.json(res, 200, {});
    const mm = /^\/v2\/models\/([^/]+)(\/infer)?$/.exec(rest);
    if (!mm) return this.json(res, 404, { error: `no route ${rest}` });
    const model = decodeURIComponent(mm[1]!);
    if (model !== name) return this.json(res, 404, { error: `Model with name ${model} does not exist.` });
    if (!mm[2]) {
      if (req.method !== 'GET') return this.json(res, 405, { error: 'method not allowed' });
      return this.json(res, 200, { name, platform: 'onnx', versions: this.weights(isvc, name).map(([r]) => r), inputs: [], outputs: [] });
    }
    if (req.method !== 'POST') return this.json(res, 405, { error: 'method not allowed' });
    const body = await this.readJson(req, res, 16 * 1024 * 1024, 'Unrecognized request format: the body is not JSON');
    if (body === NO_BODY) return;
    const id = typeof (body as { id?: unknown })?.id === 'string' ? (body as { id: string }).id : randomUUID();
    const revision = this.pick(ns, name, isvc);
    if (!revision) return this.json(res, 503, { error: `InferenceService ${name} has no ready revision` });
    const key = `${ns}/${revision}`;
    const b = this.behaviors.get(key) ?? {};
    const n = (this.counters.get(key) ?? 0) + 1;
    this.counters.set(key, n);
    const every = b.errorRate && b.errorRate > 0 ? Math.max(1, Math.round(1 / b.errorRate)) : 0;
    const fail = every > 0 && n % every === 0;
    const started = Date.now();
    if (b.latencyMs && b.latencyMs > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.pending.delete(t);
          resolve();
        }, b.latencyMs);
        this.pending.add(t);
      });
    }
    const code = fail ? 500 : 200;
    this.record({ t: Date.now(), namespace: ns, name, revision, code, latencyMs: Math.max(b.latencyMs ?? 0, Date.now() - started) });
    const headers = { 'x-kserve-revision': revision };
    if (fail) return this.json(res, 500, { error: `revision ${revision} failed (injected)` }, headers);
    return this.json(res, 200, { model_name: name, model_version: revision, id, outputs: [{ name: 'output-0', shape: [1], datatype: 'FP32', data: [0.5] }] }, headers);
  }

  /** Revisions and their percents from the live status (duplicates merged), or the latest ready one. */
  private weights(isvc: { status?: Record<string, unknown> }, name?: string): Array<[string, number]> {
    const pred = (isvc.status?.components as { predictor?: { traffic?: Array<{ revisionName?: string; percent?: number }>; latestReadyRevision?: string } } | undefined)?.predictor;
    const w = new Map<string, number>();
    for (const t of pred?.traffic ?? []) {
      if (t.revisionName && typeof t.percent === 'number' && t.percent > 0) w.set(t.revisionName, (w.get(t.revisionName) ?? 0) + t.percent);
    }
    if (!w.size && pred?.latestReadyRevision) w.set(pred.latestReadyRevision, 100);
    // RawDeployment: one Deployment, no revisions
    if (!w.size && isvc.status?.deploymentMode === 'RawDeployment' && name) w.set(`${name}-predictor`, 100);
    return [...w.entries()].sort(([a], [b]) => a.localeCompare(b));
  }

  /** Smooth weighted round robin (as nginx does it): exact proportions, evenly spread. */
  private pick(ns: string, name: string, isvc: { status?: Record<string, unknown> }): string | undefined {
    const weights = this.weights(isvc, name);
    if (!weights.length) return undefined;
    const key = `${ns}/${name}`;
    const fingerprint = JSON.stringify(weights);
    let state = this.rr.get(key);
    if (!state || state.fingerprint !== fingerprint) {
      state = { fingerprint, current: new Map(weights.map(([r]) => [r, 0])) };
      this.rr.set(key, state);
    }
    const total = weights.reduce((s, [, w]) => s + w, 0);
    let best: string | undefined;
    for (const [r, w] of weights) {
      state.current.set(r, state.current.get(r)! + w);
      if (best === undefined || state.current.get(r)! > state.current.get(best)!) best = r;
    }
    state.current.set(best!, state.current.get(best!)! - total);
    return best;
  }

  private record(s: Sample): void {
    this.samples.push(s);
    if (this.samples.length > MAX_SAMPLES || (this.samples.length % 1000 === 0 && s.t - this.samples[0]!.t > RETENTION_MS)) {
      const cutoff = s.t - RETENTION_MS;
      this.samples = this.samples.filter((x) => x.t > cutoff).slice(-MAX_SAMPLES);
    }
  }

  private credential(req: IncomingMessage): PrometheusAuthRecord['auth'] {
    const h = req.headers.authorization;
    if (!h) return 'none';
    const m = /^Bearer\s+(.+)$/i.exec(h);
    if (!m) return 'invalid';
    const a = Buffer.from(m[1]!.trim());
    const b = Buffer.from(this.token());
    return a.length === b.length && timingSafeEqual(a, b) ? 'valid' : 'invalid';
  }

  /** The JSON body, or NO_BODY once it answered 413 (over `limit` bytes) or 400 (`notJson`). */
  private async readJson(req: IncomingMessage, res: ServerResponse, limit: number, notJson: string): Promise<unknown> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > limit) {
        this.json(res, 413, { error: 'request too large' });
        return NO_BODY;
      }
      chunks.push(c as Buffer);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    } catch {
      this.json(res, 400, { error: notJson });
      return NO_BODY;
    }
  }

  /** The test-control route (see the file comment): loopback peers with the sandbox token only. */
  private async serveControl(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const m = /^\/_sandbox\/revisions\/([^/]+)\/([^/]+)\/behavior$/.exec(url.pathname);
    const reset = url.pathname === '/_sandbox/metrics/reset';
    if (!m && !reset) return this.json(res, 404, { error: 'not found' });
    const peer = req.socket.remoteAddress ?? '';
    if (!/^(127\.|::1$|::ffff:127\.)/.test(peer)) return this.json(res, 403, { error: 'the sandbox control route answers loopback peers only' });
    if (this.credential(req) !== 'valid') {
      res.writeHead(401, { 'Content-Type': 'text/plain; charset=utf-8', 'WWW-Authenticate': 'Bearer' }).end('Unauthorized\n');
      return;
    }
    if (req.method !== 'POST') return this.json(res, 405, { error: 'method not allowed' }, { Allow: 'POST' });
    if (reset) {
      // Forget every request served so far: a test that reads the observed split starts from nothing.
      const forgotten = this.samples.length;
      this.samples = [];
      return this.json(res, 200, { reset: true, forgotten });
    }
    const body = await this.readJson(req, res, 64 * 1024, 'the body is not JSON');
    if (body === NO_BODY) return;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return this.json(res, 400, { error: 'the body must be an object {errorRate?, latencyMs?}' });
    const unknown = Object.keys(body).filter((k) => k !== 'errorRate' && k !== 'latencyMs');
    if (unknown.length) return this.json(res, 400, { error: `unknown field(s) ${unknown.join(', ')} (expected errorRate, latencyMs)` });
    const b = body as Record<string, unknown>;
    for (const k of ['errorRate', 'latencyMs'] as const) {
      if (b[k] !== undefined && typeof b[k] !== 'number') return this.json(res, 400, { error: `${k} must be a number` });
    }
    const ns = decodeURIComponent(m![1]!);
    const revision = decodeURIComponent(m![2]!);
    try {
      this.setRevisionBehavior(ns, revision, { ...(b.errorRate !== undefined ? { errorRate: b.errorRate as number } : {}), ...(b.latencyMs !== undefined ? { latencyMs: b.latencyMs as number } : {}) });
    } catch (e) {
      if (e instanceof RangeError) return this.json(res, 400, { error: e.message });
      throw e;
    }
    return this.json(res, 200, { namespace: ns, revision, behavior: this.behaviors.get(`${ns}/${revision}`) });
  }

  private serveQuery(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const auth = this.credential(req);
    this.authLog.push({ scheme: (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http', auth });
    if (this.authLog.length > AUTH_LOG_MAX) this.authLog.splice(0, this.authLog.length - AUTH_LOG_MAX);
    // kube-rbac-proxy's answers: plain text, no hint of the token
    if (auth !== 'valid') {
      res.writeHead(401, { 'Content-Type': 'text/plain; charset=utf-8', 'WWW-Authenticate': 'Bearer' }).end('Unauthorized\n');
      return;
    }
    if (this.opts.clusterWide && !this.opts.clusterWide()) {
      res.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Forbidden (user=sandbox, verb=get, resource=namespaces, subresource=)\n');
      return;
    }
    const q = url.searchParams.get('query') ?? '';
    const now = Date.now();
    try {
      const result = this.query(q, now);
      this.json(res, 200, {
        status: 'success',
        data: { resultType: 'vector', result: result.map((r) => ({ metric: r.metric, value: [now / 1000, Number.isNaN(r.value) ? 'NaN' : String(r.value)] })) },
      });
    } catch (e) {
      if (!(e instanceof BadQuery)) throw e;
      this.json(res, 400, { status: 'error', errorType: 'bad_data', error: e.message });
    }
  }

  /** Evaluate one of the supported instant queries at `now`. */
  query(promql: string, now: number): Vector {
    const q = promql.trim();
    let m = /^histogram_quantile\(\s*([0-9.]+)\s*,\s*sum\s+by\s*\(\s*le\s*\)\s*\(\s*rate\(\s*([a-z_]+)_bucket\{(.*)\}\[(\w+)\]\s*\)\s*\)\s*\)$/.exec(q);
    if (m) {
      const quantile = Number(m[1]);
      const metric = m[2]!;
      if (metric !== 'revision_request_latencies') throw new BadQuery(`unknown histogram ${metric}_bucket`);
      const lat = this.select('revision_request_latencies_bucket', parseMatchers(m[3]!), rangeMs(m[4]!), now)
        .filter((x) => x.inWindow)
        .map((x) => x.sample.latencyMs);
      return [{ metric: {}, value: histogramQuantile(quantile, lat) }];
    }
    m = /^sum(?:\s+by\s*\(([^)]*)\))?\s*\(\s*rate\(\s*([a-z_]+)\{(.*)\}\[(\w+)\]\s*\)\s*\)$/.exec(q);
    if (m) {
      const by = (m[1] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      return this.rate(m[2]!, parseMatchers(m[3]!), rangeMs(m[4]!), now, by);
    }
    m = /^rate\(\s*([a-z_]+)\{(.*)\}\[(\w+)\]\s*\)$/.exec(q);
    if (m) return this.rate(m[1]!, parseMatchers(m[2]!), rangeMs(m[3]!), now, undefined);
    throw new BadQuery(`unsupported query (the sandbox answers rate, sum [by] of rate, and histogram_quantile over revision_request_count, revision_request_latencies_bucket, ovms_requests_success): ${q.slice(0, 200)}`);
  }

  private select(metric: string, ms: Matcher[], windowMs: number, now: number): Array<{ labels: Record<string, string>; sample: Sample; inWindow: boolean }> {
    if (!['revision_request_count', 'revision_request_latencies_bucket', 'ovms_requests_success'].includes(metric)) return [];
    const out: Array<{ labels: Record<string, string>; sample: Sample; inWindow: boolean }> = [];
    for (const s of this.samples) {
      const labels = labelsOf(metric, s);
      if (!labels || !matchesAll(labels, ms)) continue;
      out.push({ labels, sample: s, inWindow: s.t > now - windowMs && s.t <= now });
    }
    return out;
  }

  /** Per-second rate of each series over the window, then summed by `by` (undefined: no sum). */
  private rate(metric: string, ms: Matcher[], windowMs: number, now: number, by: string[] | undefined): Vector {
    if (metric === 'revision_request_latencies_bucket') throw new BadQuery('rate of buckets only inside histogram_quantile');
    const series = new Map<string, { metric: Record<string, string>; value: number }>();
    for (const x of this.select(metric, ms, windowMs, now)) {
      const labels = by === undefined ? { __name__: metric, ...x.labels } : Object.fromEntries(by.map((l) => [l, x.labels[l] ?? '']).filter(([, v]) => v !== ''));
      const key = JSON.stringify(labels);
      const cur = series.get(key) ?? { metric: labels, value: 0 };
      if (x.inWindow) cur.value += 1000 / windowMs;
      series.set(key, cur);
    }
    if (by === undefined) for (const s of series.values()) delete s.metric.__name__;
    return [...series.values()];
  }
}

/** Prometheus-style histogram_quantile over Knative's buckets (linear inside a bucket). */
export function histogramQuantile(q: number, latencies: number[]): number {
  if (!latencies.length) return Number.NaN;
  const rank = q * latencies.length;
  let below = 0;
  for (let i = 0; i < BUCKETS.length; i++) {
    const upper = BUCKETS[i]!;
    const count = latencies.filter((l) => l <= upper).length;
    if (count >= rank) {
      const lower = i === 0 ? 0 : BUCKETS[i - 1]!;
      const inBucket = count - below;
      return inBucket > 0 ? lower + ((upper - lower) * (rank - below)) / inBucket : lower;
    }
    below = count;
  }
  // beyond the largest finite bucket (+Inf): Prometheus answers the largest finite bound
  return BUCKETS[BUCKETS.length - 1]!;
}
