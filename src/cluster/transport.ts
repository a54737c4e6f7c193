/**
 * HTTP to the API server with the credentials and TLS settings of a @kubernetes/client-node
 * KubeConfig (token, client certificate, exec plugins, CA). Lists, streaming watches with an
 * idle timeout, merge patches and access reviews; one keep-alive agent per connection.
 *
 * TLS is verified unless the kubeconfig's cluster says insecure-skip-tls-verify.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { RequestError } from './classify';
import { applyKubeCredentials } from './credentials';

export interface ResourceType {
  group: string;
  version: string;
  plural: string;
}

export const ISVC: ResourceType = { group: 'serving.kserve.io', version: 'v1beta1', plural: 'inferenceservices' };
export const APPLICATION: ResourceType = { group: 'argoproj.io', version: 'v1alpha1', plural: 'applications' };
export const ROUTE: ResourceType = { group: 'route.openshift.io', version: 'v1', plural: 'routes' };

/**
 * The API path of a resource type, in a namespace (undefined: cluster-wide), of one object.
 * A namespace or name that would be read as a path step (`.`, `..`) is refused: the
 * store checks the settings first, this is the second lock.
 */
export function resourcePath(r: ResourceType, namespace: string | undefined, name?: string): string {
  for (const [what, v] of [
    ['namespace', namespace],
    ['name', name],
  ] as const) {
    if (v === '.' || v === '..')
      throw new RequestError(`Refusing the ${what} ${JSON.stringify(v)}: it would change the request's path.`, undefined, 'INVALID_NAME');
  }
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  const ns = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${r.plural}${name ? `/${encodeURIComponent(name)}` : ''}`;
}

export interface ListResult {
  items: unknown[];
  resourceVersion: string;
}

export type WatchEnd = { kind: 'closed' } | { kind: 'idle' } | { kind: 'gone' } | { kind: 'aborted' } | { kind: 'error'; error: unknown };

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: Record<string, unknown>;
}

/** Longest line accepted in a watch stream or list body (a single object of several MB is fine). */
const MAX_BODY = 256 * 1024 * 1024;
const MAX_LINE = 32 * 1024 * 1024;

/**
 * Splits a byte stream into lines at `\n` with linear cost: each input byte is scanned for
 * the newline once (`scanned` counts them), the bytes of an unfinished line wait as a list
 * of chunks and are joined once, when the line ends. (Appending to one string and searching
 * it again from the start on every chunk is quadratic: seconds of blocked event loop for one
 * 32 MB object.) Works on bytes, so a UTF-8 character split between chunks is decoded whole.
 */
export class LineBuffer {
  private parts: Buffer[] = [];
  private pending = 0;
  /** Bytes examined for a newline so far: every byte once. */
  scanned = 0;

  constructor(private readonly maxLine: number) {}

  /** Bytes of the unfinished line held. */
  get held(): number {
    return this.pending;
  }

  /** The lines this chunk completes (without `\n`); `tooLong` when a line is over the limit (then stop reading). */
  push(chunk: Buffer): { lines: string[]; tooLong: boolean } {
    const lines: string[] = [];
    let tooLong = false;
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      this.scanned += (nl < 0 ? chunk.length : nl + 1) - start;
      if (nl < 0) break;
      const piece = chunk.subarray(start, nl);
      start = nl + 1;
      const size = this.pending + piece.length;
      if (size > this.maxLine) tooLong = true;
      if (tooLong) break;
      const line = this.parts.length ? Buffer.concat([...this.parts, piece], size) : piece;
      this.parts = [];
      this.pending = 0;
      lines.push(line.toString('utf8'));
    }
    if (!tooLong && start < chunk.length) {
      this.parts.push(chunk.subarray(start));
      this.pending += chunk.length - start;
      if (this.pending > this.maxLine) tooLong = true;
    }
    return { lines, tooLong };
  }
}

export class Transport {
  readonly server: string;
  readonly insecure: boolean;
  private agent: http.Agent | undefined;
  private readonly url: URL;

  constructor(
    private readonly kc: KubeConfig,
    private readonly requestTimeoutMs: number,
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new RequestError('The kubeconfig has no current cluster.', undefined, 'NO_CLUSTER');
    this.server = cluster.server.replace(/\/+$/, '');
    this.url = new URL(this.server);
    this.insecure = cluster.skipTLSVerify === true;
    if (this.url.protocol === 'http:' && !this.insecure) {
      throw new RequestError(`Refusing plain http to ${this.server}: the kubeconfig does not set insecure-skip-tls-verify.`, undefined, 'PLAIN_HTTP');
    }
  }

  /** Fresh auth headers (exec plugins and token files may rotate), a long-lived TLS agent. */
  private async options(): Promise<{ headers: Record<string, string>; agent: http.Agent }> {
    const o: https.RequestOptions = {};
    await applyKubeCredentials(this.kc, o);
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'kserve-canary' };
    for (const [k, v] of Object.entries(o.headers ?? {})) {
      if (typeof v === 'string' || typeof v === 'number') headers[k] = String(v);
    }
    if (o.auth) headers.Authorization = `Basic ${Buffer.from(o.auth).toString('base64')}`;
    if (!this.agent) {
      const cluster = this.kc.getCurrentCluster();
      if (cluster?.proxyUrl) {
        this.agent = o.agent as http.Agent;
      } else if (this.url.protocol === 'http:') {
        this.agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
      } else {
        this.agent = new https.Agent({
          keepAlive: true,
          maxSockets: 32,
          ca: o.ca,
          cert: o.cert,
          key: o.key,
          pfx: o.pfx,
          passphrase: o.passphrase,
          servername: cluster?.tlsServerName ?? o.servername,
          rejectUnauthorized: !this.insecure,
        });
      }
    }
    return { headers, agent: this.agent };
  }

  private async request(
    method: string,
    path: string,
    opts: { signal?: AbortSignal; body?: string; contentType?: string; namespace?: string; headerTimeoutMs?: number },
  ): Promise<http.IncomingMessage> {
    const { headers, agent } = await this.options();
    if (opts.body !== undefined) {
      headers['Content-Type'] = opts.contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(opts.body));
    }
    const target = new URL(this.url.pathname.replace(/\/+$/, '') + path, this.url);
    const mod = target.protocol === 'http:' ? http : https;
    return new Promise((resolve, reject) => {
      let settled = false;
      const timeoutMs = opts.headerTimeoutMs ?? this.requestTimeoutMs;
      const onAbort = () => fail(new RequestError('aborted', undefined, 'ABORTED', opts.namespace));
      const req = mod.request(target, { method, headers, agent }, (res) => {
        settled = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        resolve(res);
      });
      const fail = (e: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        req.destroy();
        reject(e);
      };
      const timer = setTimeout(
        () => fail(new RequestError(`No answer from ${this.server} within ${timeoutMs} ms.`, undefined, 'ETIMEDOUT', opts.namespace)),
        timeoutMs,
      );
      req.on('error', (e) => fail(e));
      if (opts.signal?.aborted) return onAbort();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      req.end(opts.body);
    });
  }

  /** Reads a whole body, within the request timeout measured from the headers. */
  private readBody(res: http.IncomingMessage, namespace: string | undefined, signal?: AbortSignal): Promise<string> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const timer = setTimeout(() => {
        res.destroy();
        reject(new RequestError(`The answer from ${this.server} did not complete within ${this.requestTimeoutMs} ms.`, undefined, 'ETIMEDOUT', namespace));
      }, this.requestTimeoutMs);
      const onAbort = () => res.destroy(new RequestError('aborted', undefined, 'ABORTED', namespace));
      signal?.addEventListener('abort', onAbort, { once: true });
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) res.destroy(new RequestError('The answer is too large.', undefined, 'ETOOBIG', namespace));
        else chunks.push(c);
      });
      res.on('end', () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(Buffer.concat(chunks).toString('utf8'));
      });
      res.on('error', (e) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        reject(e);
      });
      res.on('aborted', () => reject(new RequestError('The connection closed mid-answer.', undefined, 'ECONNRESET', namespace)));
    });
  }

  private async failure(res: http.IncomingMessage, namespace: string | undefined): Promise<RequestError> {
    let reason: string | undefined;
    let detail = '';
    try {
      const text = await this.readBody(res, namespace);
      const st = JSON.parse(text) as { reason?: unknown; message?: unknown };
      if (typeof st.reason === 'string') reason = st.reason;
      if (typeof st.message === 'string') detail = `: ${st.message.slice(0, 300)}`;
    } catch {
      // a body that is not a Status: the status code says enough
    }
    return new RequestError(`HTTP ${res.statusCode}${detail}`, res.statusCode, undefined, namespace, reason);
  }

  async list(r: ResourceType, namespace: string | undefined, signal?: AbortSignal): Promise<ListResult> {
    const items: unknown[] = [];
    let cont: string | undefined;
    let resourceVersion = '';
    do {
      const q = new URLSearchParams({ limit: '500' });
      if (cont) q.set('continue', cont);
      const res = await this.request('GET', `${resourcePath(r, namespace)}?${q}`, { signal, namespace });
      if (res.statusCode !== 200) throw await this.failure(res, namespace);
      const text = await this.readBody(res, namespace, signal);
      let body: { items?: unknown; metadata?: { resourceVersion?: unknown; continue?: unknown } };
      try {
        body = JSON.parse(text);
      } catch {
        throw new RequestError(`The list of ${r.plural} from ${this.server} is not valid JSON.`, undefined, 'EBADJSON', namespace);
      }
      if (Array.isArray(body.items)) for (const it of body.items) items.push(it);
      resourceVersion = typeof body.metadata?.resourceVersion === 'string' ? body.metadata.resourceVersion : resourceVersion;
      cont = typeof body.metadata?.continue === 'string' && body.metadata.continue ? body.metadata.continue : undefined;
    } while (cont);
    return { items, resourceVersion };
  }

  /**
   * Watches from resourceVersion until the stream ends; resolves with why. `idleMs`: with
   * nothing received for that long the watch is given up (stale). A malformed line ends the
   * watch with an error (the caller relists, so no event is silently lost).
   */
  async watch(
    r: ResourceType,
    namespace: string | undefined,
    resourceVersion: string,
    onEvent: (e: WatchEvent) => void,
    opts: { idleMs: number; timeoutSeconds: number; signal: AbortSignal },
  ): Promise<WatchEnd> {
    const q = new URLSearchParams({
      watch: 'true',
      resourceVersion,
      allowWatchBookmarks: 'true',
      timeoutSeconds: String(opts.timeoutSeconds),
    });
    let res: http.IncomingMessage;
    try {
      res = await this.request('GET', `${resourcePath(r, namespace)}?${q}`, { signal: opts.signal, namespace });
    } catch (e) {
      if (opts.signal.aborted) return { kind: 'aborted' };
      return { kind: 'error', error: e };
    }
    if (res.statusCode === 410) {
      res.resume();
      return { kind: 'gone' };
    }
    if (res.statusCode !== 200) return { kind: 'error', error: await this.failure(res, namespace) };
    return new Promise<WatchEnd>((resolve) => {
      let done = false;
      let idle: NodeJS.Timeout;
      const finish = (end: WatchEnd) => {
        if (done) return;
        done = true;
        clearTimeout(idle);
        opts.signal.removeEventListener('abort', onAbort);
        res.destroy();
        resolve(end);
      };
      const armIdle = () => {
        clearTimeout(idle);
        idle = setTimeout(() => finish({ kind: 'idle' }), opts.idleMs);
      };
      const onAbort = () => finish({ kind: 'aborted' });
      opts.signal.addEventListener('abort', onAbort, { once: true });
      armIdle();
      const lines = new LineBuffer(MAX_LINE);
      res.on('data', (chunk: Buffer) => {
        if (done) return;
        armIdle();
        const got = lines.push(chunk);
        for (const raw of got.lines) {
          if (done) return;
          const line = raw.trim();
          if (!line) continue;
          let ev: WatchEvent;
          try {
            ev = JSON.parse(line) as WatchEvent;
          } catch {
            finish({ kind: 'error', error: new RequestError('A watch event was not valid JSON.', undefined, 'EBADJSON', namespace) });
            return;
          }
          if (!ev || typeof ev !== 'object' || typeof ev.type !== 'string' || !ev.object || typeof ev.object !== 'object') {
            finish({ kind: 'error', error: new RequestError('A watch event had an unexpected shape.', undefined, 'EBADJSON', namespace) });
            return;
          }
          if (ev.type === 'ERROR') {
            const code = (ev.object as { code?: unknown }).code;
            if (code === 410) finish({ kind: 'gone' });
            else
              finish({
                kind: 'error',
                error: new RequestError(`The watch reported an error (${String(code)}).`, typeof code === 'number' ? code : undefined, undefined, namespace),
              });
            return;
          }
          onEvent(ev);
        }
        if (got.tooLong && !done) finish({ kind: 'error', error: new RequestError('A watch event is too large.', undefined, 'ETOOBIG', namespace) });
      });
      res.on('end', () => finish({ kind: 'closed' }));
      res.on('close', () => finish({ kind: 'closed' }));
      res.on('error', (e) => finish({ kind: 'error', error: e }));
    });
  }

  /** JSON merge patch of one object. */
  async mergePatch(r: ResourceType, namespace: string, name: string, patch: unknown): Promise<void> {
    const res = await this.request('PATCH', resourcePath(r, namespace, name), {
      body: JSON.stringify(patch),
      contentType: 'application/merge-patch+json',
      namespace,
    });
    if (res.statusCode !== 200 && res.statusCode !== 201) throw await this.failure(res, namespace);
    res.resume();
  }

  /**
   * Whether the current user may `verb` objects of `r` in `namespace`: a SelfSubjectAccessReview,
   * which every authenticated user may create. Throws when the server does not answer it.
   */
  async mayI(verb: string, r: ResourceType, namespace: string): Promise<boolean> {
    const review = {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { namespace, verb, group: r.group, version: r.version, resource: r.plural } },
    };
    const res = await this.request('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { body: JSON.stringify(review), namespace });
    if (res.statusCode !== 201 && res.statusCode !== 200) throw await this.failure(res, namespace);
    const text = await this.readBody(res, namespace);
    let body: { status?: { allowed?: unknown } };
    try {
      body = JSON.parse(text);
    } catch {
      throw new RequestError(`The access review from ${this.server} is not valid JSON.`, undefined, 'EBADJSON', namespace);
    }
    return body.status?.allowed === true;
  }

  dispose(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }
}
