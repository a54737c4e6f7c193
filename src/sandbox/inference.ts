/**
 * Inference endpoints and a Prometheus-compatible query API for the sandbox (issue 8), served
 * the same way by both backends (issue 14): the split follows the InferenceService's status as
 * `lookup` returns it — the embedded backend reads its own store, the kube-apiserver backend
 * its controllers' list+watch cache of the real server (an API client, like KServe itself).
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
 * - `POST /_sandbox/revisions/<ns>/<revision>/restart` (same rules): the revision's process
 *   restarts, so its counters start again from zero (a counter reset, see prometheus.ts).
 * - `GET|POST /prometheus/api/v1/query` and `/prometheus/api/v1/query_range`: the series of the
 *   requests served (src/sandbox/prometheus.ts, PromQL in promql.ts), served over https (the
 *   sandbox CA's certificate for 127.0.0.1, like the Thanos querier's route) and over plain http
 *   (a twin for tests proving that no credential goes over http). Like the Thanos querier behind
 *   its kube-rbac-proxy: no or a wrong bearer token → 401, a user without cluster-wide access
 *   → 403. Each query's scheme and whether it carried the right token are recorded
 *   (`authLog`, never the token itself). Unsupported PromQL or parameters → 400 bad_data.
 */
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { closeServer, listenOnLoopback } from './listen';
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { answer, BadParam, BadQuery, RequestMetrics } from './prometheus';

export interface RevisionBehavior {
  /** Share of requests (0..1) answered 500, deterministically every round(1/errorRate)-th. */
  errorRate?: number;
  /** Delay before each answer. */
  latencyMs?: number;
}

const AUTH_FAILS = { 401: 'Unauthorized\n', 403: 'Forbidden (user=sandbox, verb=get, resource=namespaces, subresource=)\n' };

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
  /** Scrape interval of the Prometheus series (default 1000 ms). */
  scrapeIntervalMs?: number;
  /** The clock of request times and queries (tests), default Date.now. */
  now?: () => number;
}

/** The InferenceService as the cluster says it is now (its status decides the split), or undefined. */
export type ServiceLookup = (namespace: string, name: string) => { status?: Record<string, unknown> } | undefined;

/** The ports a sandbox listens on again after a restart, so that status.url and prometheusUrl stay valid. */
export interface InferencePorts {
  inferencePort?: number;
  prometheusPort?: number;
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
  /** The time series of the requests served (the Prometheus side). */
  readonly metrics: RequestMetrics;
  private readonly pending = new Set<NodeJS.Timeout>();
  port = 0;

  constructor(
    private readonly lookup: ServiceLookup,
    private readonly token: () => string,
    private readonly opts: InferenceOptions = {},
  ) {
    this.metrics = new RequestMetrics(opts.scrapeIntervalMs, opts.now);
  }

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

  /** The ports in use (0 before the first listen), for `resume` after a restart. */
  get ports(): InferencePorts {
    return { inferencePort: this.port, prometheusPort: this.tlsPort };
  }

  /** Listens on the ports of before (this process's, else `saved`) when they are free, else on any. */
  async resume(saved: InferencePorts = {}): Promise<void> {
    const promPort = this.tlsPort || saved.prometheusPort || 0;
    await this.listen(this.port || saved.inferencePort || 0, promPort).catch(() => this.listen(0, promPort));
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
    if (url.pathname === '/prometheus/api/v1/query' || url.pathname === '/prometheus/api/v1/query_range') return this.serveQuery(req, res, url);
    if (url.pathname.startsWith('/_sandbox/')) return this.serveControl(req, res, url);
    const m = /^\/serving\/([^/]+)\/([^/]+)(\/.*)?$/.exec(url.pathname);
    if (!m) return this.json(res, 404, { error: 'not found' });
    const ns = decodeURIComponent(m[1]!);
    const name = decodeURIComponent(m[2]!);
    const rest = m[3] ?? '/';
    const isvc = this.lookup(ns, name);
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
    const clock = this.metrics.now;
    const started = clock();
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
    const t = clock();
    this.metrics.record({ t, namespace: ns, name, revision, code, latencyMs: Math.max(b.latencyMs ?? 0, t - started) });
    const headers = { 'x-kserve-revision': revision };
    if (fail) return this.json(res, 500, { error: `revision ${revision} failed (injected)` }, headers);
    return this.json(
      res,
      200,
      { model_name: name, model_version: revision, id, outputs: [{ name: 'output-0', shape: [1], datatype: 'FP32', data: [0.5] }] },
      headers,
    );
  }

  /** Revisions and their percents from the live status (duplicates merged), or the latest ready one. */
  private weights(isvc: { status?: Record<string, unknown> }, name?: string): Array<[string, number]> {
    const pred = (
      isvc.status?.components as { predictor?: { traffic?: Array<{ revisionName?: string; percent?: number }>; latestReadyRevision?: string } } | undefined
    )?.predictor;
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
    const m = /^\/_sandbox\/revisions\/([^/]+)\/([^/]+)\/(behavior|restart)$/.exec(url.pathname);
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
      return this.json(res, 200, { reset: true, forgotten: this.metrics.reset() });
    }
    if (m![3] === 'restart') {
      // The revision's process restarts: its counters start again from zero (a counter reset).
      const ns = decodeURIComponent(m![1]!);
      const revision = decodeURIComponent(m![2]!);
      this.metrics.restart(ns, revision);
      return this.json(res, 200, { namespace: ns, revision, restarted: true });
    }
    const body = await this.readJson(req, res, 64 * 1024, 'the body is not JSON');
    if (body === NO_BODY) return;
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      return this.json(res, 400, { error: 'the body must be an object {errorRate?, latencyMs?}' });
    const unknown = Object.keys(body).filter((k) => k !== 'errorRate' && k !== 'latencyMs');
    if (unknown.length) return this.json(res, 400, { error: `unknown field(s) ${unknown.join(', ')} (expected errorRate, latencyMs)` });
    const b = body as Record<string, unknown>;
    for (const k of ['errorRate', 'latencyMs'] as const) {
      if (b[k] !== undefined && typeof b[k] !== 'number') return this.json(res, 400, { error: `${k} must be a number` });
    }
    const ns = decodeURIComponent(m![1]!);
    const revision = decodeURIComponent(m![2]!);
    try {
      this.setRevisionBehavior(ns, revision, {
        ...(b.errorRate !== undefined ? { errorRate: b.errorRate as number } : {}),
        ...(b.latencyMs !== undefined ? { latencyMs: b.latencyMs as number } : {}),
      });
    } catch (e) {
      if (e instanceof RangeError) return this.json(res, 400, { error: e.message });
      throw e;
    }
    return this.json(res, 200, { namespace: ns, revision, behavior: this.behaviors.get(`${ns}/${revision}`) });
  }

  private async serveQuery(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const auth = this.credential(req);
    this.authLog.push({ scheme: (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http', auth });
    if (this.authLog.length > AUTH_LOG_MAX) this.authLog.splice(0, this.authLog.length - AUTH_LOG_MAX);
    // kube-rbac-proxy's answers: plain text, no hint of the token
    const refused = auth !== 'valid' ? 401 : this.opts.clusterWide && !this.opts.clusterWide() ? 403 : undefined;
    if (refused) {
      res
        .writeHead(refused, { 'Content-Type': 'text/plain; charset=utf-8', ...(refused === 401 ? { 'WWW-Authenticate': 'Bearer' } : {}) })
        .end(AUTH_FAILS[refused]);
      return;
    }
    const params = new URLSearchParams(url.searchParams);
    if (req.method === 'POST') {
      // Prometheus takes the same parameters as a form body (long queries)
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const c of req) {
        size += (c as Buffer).length;
        if (size > 1024 * 1024) return this.json(res, 413, { status: 'error', errorType: 'bad_data', error: 'request too large' });
        chunks.push(c as Buffer);
      }
      for (const [k, v] of new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) params.append(k, v);
    } else if (req.method !== 'GET')
      return this.json(res, 405, { status: 'error', errorType: 'bad_data', error: 'method not allowed' }, { Allow: 'GET, POST' });
    try {
      const data = answer(url.pathname.endsWith('_range') ? 'query_range' : 'query', params, this.metrics, this.metrics.now());
      this.json(res, 200, { status: 'success', data });
    } catch (e) {
      if (!(e instanceof BadQuery || e instanceof BadParam)) throw e;
      this.json(res, 400, { status: 'error', errorType: 'bad_data', error: e.message });
    }
  }
}
