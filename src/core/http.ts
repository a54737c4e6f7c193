/**
 * One small HTTP(S) request helper over node:http/node:https, shared by the test-traffic
 * sender (src/core/loadgen.ts) and the Prometheus client (src/cluster/metrics.ts).
 *
 * - Only `http:` and `https:` URLs; TLS is always verified (extra CAs may be given, on top
 *   of the system ones; `rejectUnauthorized` is never turned off).
 * - Redirects are never followed: a 3xx is an answer like any other, so headers (a bearer
 *   token) only ever go to the URL asked for.
 * - A whole-request timeout and an AbortSignal; both destroy the socket.
 * - The response body is read up to a size limit (default 4 MiB) so a misbehaving
 *   server cannot fill the memory.
 * - Nothing here logs: headers (bearer tokens) never leave this function.
 */
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';

export interface HttpRequest {
  url: URL;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Whole request (connect, send, receive) in ms. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Extra PEM CA certificate(s) trusted for https, besides the system ones. */
  ca?: string | Buffer | (string | Buffer)[];
  agent?: http.Agent;
  maxBodyBytes?: number;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Why a request got no HTTP answer: timeout, abort, refused/unreachable, TLS, too large. */
export class HttpFailure extends Error {
  constructor(
    readonly reason: 'timeout' | 'aborted' | 'network' | 'tls' | 'too-large',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HttpFailure';
  }
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|HOSTNAME|ALTNAME|SSL/i;

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

export function httpRequest(req: HttpRequest): Promise<HttpResponse> {
  const { url } = req;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return Promise.reject(new HttpFailure('network', `Only http and https URLs are supported, not ${url.protocol}`));
  }
  const limit = req.maxBodyBytes ?? 4 * 1024 * 1024;
  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | undefined, res?: HttpResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(res!);
    };
    const headers: Record<string, string> = { ...(req.headers ?? {}) };
    if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
    const options: https.RequestOptions = {
      method: req.method ?? 'GET',
      headers,
      ...(req.agent ? { agent: req.agent } : {}),
      // node's `ca` replaces the system roots: give both
      ...(url.protocol === 'https:' && req.ca ? { ca: [...tls.rootCertificates, ...(Array.isArray(req.ca) ? req.ca : [req.ca])] } : {}),
    };
    const mod = url.protocol === 'https:' ? https : http;
    const r = mod.request(url, options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > limit) {
          finish(new HttpFailure('too-large', `The answer of ${url.origin} is larger than ${limit} bytes.`));
          r.destroy();
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => finish(undefined, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (e) => finish(classify(e, url)));
    });
    const timer = setTimeout(() => {
      finish(new HttpFailure('timeout', `No answer from ${url.origin} within ${Math.round(req.timeoutMs)} ms.`));
      r.destroy();
    }, req.timeoutMs);
    const onAbort = () => {
      finish(new HttpFailure('aborted', `Request to ${url.origin} stopped.`));
      r.destroy();
    };
    if (req.signal?.aborted) {
      onAbort();
      return;
    }
    req.signal?.addEventListener('abort', onAbort, { once: true });
    r.on('error', (e) => finish(classify(e, url)));
    if (req.body !== undefined) r.end(req.body);
    else r.end();
  });
}

function classify(e: unknown, url: URL): HttpFailure {
  const code = (e as { code?: string }).code ?? '';
  const msg = e instanceof Error ? e.message : String(e);
  if (TLS_CODES.test(code) || /certificate|self[- ]signed|ssl|tls/i.test(msg)) {
    return new HttpFailure('tls', `The TLS certificate of ${url.origin} could not be verified (${code || msg}).`, { cause: e });
  }
  return new HttpFailure('network', `Could not reach ${url.origin} (${code || msg}).`, { cause: e });
}
