/**
 * Test traffic: POST `<service url>/v2/models/<model>/infer` (KServe V2 / Open Inference
 * Protocol) at a fixed rate for a fixed time, like the workshop's locust run.
 *
 * - Open loop: request i leaves at start + i/rps whatever the answers do, so a slow model
 *   does not slow the offered load down. Concurrency is bounded: when that many requests
 *   are already in flight, the slot is counted as `skipped` instead of queueing.
 * - Stoppable at any time (AbortSignal): in-flight requests are cancelled.
 * - Counts answers by status code, network errors by kind, latency percentiles (p50/p95 of
 *   the answers), and which revision served each answer when the answer says so: the
 *   `x-kserve-revision` header, else `model_version` in the JSON body.
 * - Targets: http or https only, and only the service's own URL on the cluster's apps
 *   domain or a loopback port-forward (src/core/traffic-target.ts); names are resolved
 *   through guardedLookup, so none can lead to a metadata or link-local address. TLS is verified.
 */
import http from 'node:http';
import https from 'node:https';
import { setMaxListeners } from 'node:events';
import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import { readFile } from 'node:fs/promises';
import { CanaryError } from './errors';
import { HttpFailure, httpRequest } from './http';
import { checkAddress, checkTrafficTarget, classifyHost, clusterIsLoopback, type TrafficCluster } from './traffic-target';

/** A V2 payload every OpenVINO / KServe V2 model accepts the shape of, one FP32 value. */
export const DEFAULT_PAYLOAD = '{"inputs":[{"name":"input-0","shape":[1,1],"datatype":"FP32","data":[0.0]}]}';

/** Response header that names the revision that answered (set by the sandbox; a proxy may add it). */
export const REVISION_HEADER = 'x-kserve-revision';

export const LIMITS = { maxRps: 1000, maxDurationMs: 3600000, maxConcurrency: 1000 };

export interface TrafficOptions {
  /** Base URL to send to: the InferenceService's status.url, or a loopback address. */
  url: string;
  /** The service's status.url; a non-loopback `url` must have its origin. */
  serviceUrl?: string;
  /** The cluster's API server and toolings Route host: the status.url must be on its apps domain (checkTrafficTarget). */
  cluster?: TrafficCluster;
  model: string;
  rps: number;
  durationMs: number;
  /** JSON text of the request body; default DEFAULT_PAYLOAD. */
  payload?: string;
  /** Most requests in flight at once, default max(8, 2 × rps) capped at LIMITS.maxConcurrency. */
  concurrency?: number;
  /** Per request, default 10000 ms. */
  timeoutMs?: number;
  /** Extra headers (an Authorization header for a protected route); never logged. */
  headers?: Record<string, string>;
  /** Extra PEM CA to trust for https. */
  ca?: string;
  signal?: AbortSignal;
  /** Called at most every `progressEveryMs` (default 250) while running, and once at the end. */
  onProgress?: (p: TrafficProgress) => void;
  progressEveryMs?: number;
}

export interface TrafficProgress {
  /** `sending` while requests are being scheduled, `draining` once all are sent, `done` at the end. */
  phase: 'sending' | 'draining' | 'done';
  /** Requests planned: round(rps × duration). */
  total: number;
  sent: number;
  skipped: number;
  completed: number;
  errors: number;
  inFlight: number;
  byStatus: Record<string, number>;
  elapsedMs: number;
}

export interface TrafficResult {
  /** The infer URL the requests went to. */
  target: string;
  total: number;
  sent: number;
  /** Slots not sent because `concurrency` requests were still in flight. */
  skipped: number;
  /** Answers by HTTP status code. */
  byStatus: Record<string, number>;
  /** Requests without an answer (timeout, refused, TLS, stopped). */
  errors: number;
  errorKinds: Record<string, number>;
  /** Latency of the answered requests; undefined without answers. */
  p50Ms: number | undefined;
  p95Ms: number | undefined;
  maxMs: number | undefined;
  /** Answers per revision, when the answers said which revision served them. */
  byRevision: Record<string, number>;
  elapsedMs: number;
  /** From the start to the moment the last request left (the offered rate is (sent - 1) / sendMs). */
  sendMs: number;
  /** Stopped by the signal before the end. */
  aborted: boolean;
}

/**
 * Checks where traffic may go (checkTrafficTarget: the service's URL on the cluster's apps
 * domain, or a loopback port-forward) and returns the infer URL.
 */
export function inferUrl(base: string, model: string, serviceUrl?: string, cluster?: TrafficCluster): URL {
  const u = new URL(checkTrafficTarget({ url: base, ...(serviceUrl !== undefined ? { serviceUrl } : {}), ...(cluster ? { cluster } : {}) }).base);
  const path = u.pathname.replace(/\/+$/, '');
  u.pathname = `${path}/v2/models/${encodeURIComponent(model)}/infer`;
  u.search = '';
  u.hash = '';
  return u;
}

/**
 * A dns lookup for the traffic agents that refuses, at connect time, names resolving to a
 * metadata, link-local or unspecified address (or loopback when the target is not local):
 * a host on the apps domain cannot be rebound to 169.254.169.254. IP literals are not
 * looked up; checkTrafficTarget judged them already.
 */
export function guardedLookup(allowLoopback: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const bad = addresses.map((a) => checkAddress(a.address, allowLoopback)).find(Boolean);
      if (bad || addresses.length === 0) {
        const e: NodeJS.ErrnoException = new Error(`Refusing to connect to ${hostname}: ${bad ?? 'no address'}.`);
        e.code = 'EREFUSEDADDR';
        return callback(e, '', 0);
      }
      if (options.all) (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, addresses);
      else callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

/** Validates a payload (JSON object) and returns it compacted. */
export function checkPayload(text: string, origin = 'the payload'): string {
  let v: unknown;
  try {
    v = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new CanaryError(
      'invalid-input',
      'bad-payload',
      `${origin} is not valid JSON: ${e instanceof Error ? e.message : String(e)}.`,
      `Give a V2 inference request, for example ${DEFAULT_PAYLOAD}`,
    );
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) {
    throw new CanaryError(
      'invalid-input',
      'bad-payload',
      `${origin} must be a JSON object (a V2 inference request with "inputs").`,
      `For example ${DEFAULT_PAYLOAD}`,
    );
  }
  return JSON.stringify(v);
}

export async function readPayloadFile(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new CanaryError(
      'not-found',
      'no-payload-file',
      `Could not read the payload file ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'}).`,
      'Check the path.',
      { cause: e },
    );
  }
  return checkPayload(text, file);
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

function revisionOf(headers: http.IncomingHttpHeaders, body: string): string | undefined {
  const h = headers[REVISION_HEADER];
  const v = Array.isArray(h) ? h[0] : h;
  if (v && v.trim()) return v.trim();
  if (!body.includes('model_version')) return undefined;
  try {
    const b = JSON.parse(body) as { model_version?: unknown };
    if (typeof b.model_version === 'string' && b.model_version) return b.model_version;
    if (typeof b.model_version === 'number') return String(b.model_version);
  } catch {
    // not JSON: no revision
  }
  return undefined;
}

function checkNumber(name: string, v: number, min: number, max: number, hint: string): void {
  if (!Number.isFinite(v) || v < min || v > max) {
    throw new CanaryError('invalid-input', `bad-${name}`, `${name} ${v} is outside ${min}..${max}.`, hint);
  }
}

/** Sends the traffic and resolves with the counts once every request has answered or failed. */
export async function sendTraffic(o: TrafficOptions): Promise<TrafficResult> {
  checkNumber('rps', o.rps, 0.01, LIMITS.maxRps, 'For example --rps 10.');
  checkNumber('duration', o.durationMs, 1, LIMITS.maxDurationMs, 'For example --duration 1m.');
  const target = inferUrl(o.url, o.model, o.serviceUrl, o.cluster);
  const body = checkPayload(o.payload ?? DEFAULT_PAYLOAD);
  const total = Math.max(1, Math.round((o.rps * o.durationMs) / 1000));
  const concurrency = Math.min(LIMITS.maxConcurrency, Math.max(1, Math.floor(o.concurrency ?? Math.max(8, Math.ceil(o.rps * 2)))));
  const timeoutMs = o.timeoutMs ?? 10000;
  const lookup = guardedLookup(classifyHost(target.hostname) === 'loopback' || clusterIsLoopback(o.cluster));
  const agent =
    target.protocol === 'https:'
      ? new https.Agent({ keepAlive: true, maxSockets: concurrency, lookup, ...(o.ca ? { ca: o.ca } : {}) })
      : new http.Agent({ keepAlive: true, maxSockets: concurrency, lookup });
  const headers = { 'content-type': 'application/json', accept: 'application/json', ...(o.headers ?? {}) };
  const stop = new AbortController();
  // every in-flight request listens to it
  setMaxListeners(concurrency + 16, stop.signal);
  const onAbort = () => stop.abort();
  o.signal?.addEventListener('abort', onAbort, { once: true });

  const started = Date.now();
  const latencies: number[] = [];
  const byStatus: Record<string, number> = {};
  const byRevision: Record<string, number> = {};
  const errorKinds: Record<string, number> = {};
  let sent = 0;
  let skipped = 0;
  let completed = 0;
  let errors = 0;
  let inFlight = 0;
  let phase: TrafficProgress['phase'] = 'sending';
  let lastProgress = 0;
  let lastSend = started;
  const every = o.progressEveryMs ?? 250;
  const progress = (force: boolean) => {
    if (!o.onProgress) return;
    const now = Date.now();
    if (!force && now - lastProgress < every) return;
    lastProgress = now;
    try {
      o.onProgress({ phase, total, sent, skipped, completed, errors, inFlight, byStatus: { ...byStatus }, elapsedMs: now - started });
    } catch {
      // a listener's failure does not stop the traffic
    }
  };
  const pending = new Set<Promise<void>>();
  const fire = () => {
    sent++;
    lastSend = Date.now();
    inFlight++;
    const t0 = performance.now();
    const p = httpRequest({ url: target, method: 'POST', headers, body, timeoutMs, signal: stop.signal, agent, maxBodyBytes: 1024 * 1024 })
      .then((res) => {
        latencies.push(performance.now() - t0);
        byStatus[res.status] = (byStatus[res.status] ?? 0) + 1;
        const rev = revisionOf(res.headers, res.body);
        if (rev) byRevision[rev] = (byRevision[rev] ?? 0) + 1;
      })
      .catch((e: unknown) => {
        errors++;
        const kind = e instanceof HttpFailure ? e.reason : 'network';
        errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
      })
      .finally(() => {
        inFlight--;
        completed++;
        pending.delete(p);
        progress(false);
      });
    pending.add(p);
  };

  try {
    for (let i = 0; i < total; i++) {
      if (stop.signal.aborted) break;
      const due = started + (i * 1000) / o.rps;
      const wait = due - Date.now();
      if (wait > 0) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(done, wait);
          function done() {
            clearTimeout(t);
            stop.signal.removeEventListener('abort', done);
            resolve();
          }
          stop.signal.addEventListener('abort', done, { once: true });
        });
        if (stop.signal.aborted) break;
      }
      if (inFlight >= concurrency) skipped++;
      else fire();
      progress(false);
    }
    phase = 'draining';
    progress(true);
    while (pending.size) await Promise.race(pending);
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    agent.destroy();
  }
  phase = 'done';
  progress(true);
  const sorted = [...latencies].sort((a, b) => a - b);
  const round = (v: number | undefined) => (v === undefined ? undefined : Math.round(v * 10) / 10);
  return {
    target: target.toString(),
    total,
    sent,
    skipped,
    byStatus,
    errors,
    errorKinds,
    p50Ms: round(percentile(sorted, 50)),
    p95Ms: round(percentile(sorted, 95)),
    maxMs: round(sorted[sorted.length - 1]),
    byRevision,
    elapsedMs: Date.now() - started,
    sendMs: lastSend - started,
    aborted: o.signal?.aborted ?? false,
  };
}

/** `200: 95, 500: 5` sorted by code. */
export function formatStatusCounts(byStatus: Record<string, number>): string {
  const e = Object.entries(byStatus).sort((a, b) => Number(a[0]) - Number(b[0]));
  return e.length ? e.map(([k, v]) => `${k}: ${v}`).join(', ') : 'no answers';
}

/** Summary lines for a terminal or a notification. */
export function describeTraffic(r: TrafficResult): string[] {
  const lines = [
    `${r.aborted ? 'Stopped after' : 'Sent'} ${r.sent} of ${r.total} requests to ${r.target} in ${(r.elapsedMs / 1000).toFixed(1)} s`,
    `answers: ${formatStatusCounts(r.byStatus)}${
      r.errors
        ? `; no answer: ${r.errors} (${Object.entries(r.errorKinds)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')})`
        : ''
    }${r.skipped ? `; skipped (too many in flight): ${r.skipped}` : ''}`,
    r.p50Ms !== undefined ? `latency: p50 ${r.p50Ms} ms, p95 ${r.p95Ms} ms, max ${r.maxMs} ms` : 'latency: no answers',
  ];
  const revs = Object.entries(r.byRevision).sort((a, b) => b[1] - a[1]);
  if (revs.length) {
    const answered = revs.reduce((a, [, v]) => a + v, 0);
    lines.push(`served by: ${revs.map(([k, v]) => `${k} ${v} (${Math.round((v / answered) * 100)}%)`).join(', ')}`);
  }
  return lines;
}
