/**
 * A small Kubernetes API client for the sandbox's own controllers (KServe, Argo CD): JSON over
 * HTTPS with the cluster's CA and a bearer token, so that the same controller code drives the
 * embedded server (server.ts) and a real kube-apiserver. Verbs: list, get, create, update
 * (PUT), merge and JSON patch, delete, the `/status` subresource, watch from a
 * resourceVersion (newline-delimited events, bookmarks allowed), and `modify` (read, change,
 * PUT with the read resourceVersion, read again and re-apply on 409 Conflict). The list+watch
 * cache the controllers read from is informer.ts. node:https only: no @kubernetes/client-node
 * in the sandbox bundle.
 */
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { isPlainObject, type KObject } from './types';

/** What the client needs to know of a resource type (resources.ts's ResourceType fits). */
export interface ApiResource {
  group: string;
  version: string;
  plural: string;
  namespaced: boolean;
}

export interface KubeClientOptions {
  /** `https://host:port` of the API server. */
  server: string;
  /** PEM of the CA that signs the server's certificate. */
  ca: string | Buffer;
  /** Bearer token, read on every request (a function lets it change). */
  token: string | (() => string);
  /** Timeout of one non-watch request. Default 30 s. */
  timeoutMs?: number;
}

/** An answer other than 2xx (code = HTTP status, reason = the Status reason), or no answer (code 0). */
export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly status?: unknown,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent {
  type: WatchEventType;
  object: KObject;
}

export interface WatchOptions {
  namespace?: string;
  resourceVersion?: string;
  labelSelector?: string;
  allowWatchBookmarks?: boolean;
  /** The server ends the stream after this long (then watch again from the last version). */
  timeoutSeconds?: number;
}

/** How a watch ended: `closed` by us, `ended` by the server, `error` (connection, HTTP status, bad line). */
export interface WatchEnd {
  reason: 'closed' | 'ended' | 'error';
  error?: Error;
  /** Events received (bookmarks included). */
  events: number;
}

export interface WatchHandle {
  close(): void;
  readonly done: Promise<WatchEnd>;
}

export type PatchType = 'merge' | 'json';

const PATCH_TYPES: Record<PatchType, string> = { merge: 'application/merge-patch+json', json: 'application/json-patch+json' };
const MAX_CONFLICT_RETRIES = 10;

function collectionPath(r: ApiResource, namespace: string | undefined): string {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  return r.namespaced && namespace !== undefined ? `${base}/namespaces/${encodeURIComponent(namespace)}/${r.plural}` : `${base}/${r.plural}`;
}

function objectPath(r: ApiResource, namespace: string | undefined, name: string, subresource?: 'status'): string {
  return `${collectionPath(r, r.namespaced ? namespace : undefined)}/${encodeURIComponent(name)}${subresource ? `/${subresource}` : ''}`;
}

function errorOf(code: number, text: string): KubeApiError {
  let status: unknown;
  try {
    status = JSON.parse(text);
  } catch {
    status = undefined;
  }
  if (isPlainObject(status) && status.kind === 'Status') {
    return new KubeApiError(code, String(status.reason ?? ''), String(status.message ?? `HTTP ${code}`), status);
  }
  return new KubeApiError(code, '', text.trim() || `HTTP ${code}`);
}

/** Is `e` an answer with this HTTP status? */
export function isStatus(e: unknown, code: number): e is KubeApiError {
  return e instanceof KubeApiError && e.code === code;
}

export class KubeClient {
  private readonly agent: https.Agent;
  private readonly url: URL;

  constructor(private readonly o: KubeClientOptions) {
    this.url = new URL(o.server);
    this.agent = new https.Agent({ ca: o.ca, keepAlive: true, maxSockets: 16 });
  }

  /** Close idle keep-alive connections (watches end by their own close()). */
  destroy(): void {
    this.agent.destroy();
  }

  private token(): string {
    return typeof this.o.token === 'function' ? this.o.token() : this.o.token;
  }

  private open(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: string | undefined,
    timeoutMs: number | undefined,
  ): Promise<{ res: IncomingMessage; abort: () => void }> {
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          protocol: 'https:',
          hostname: this.url.hostname,
          port: this.url.port,
          method,
          path,
          agent: this.agent,
          headers: { Accept: 'application/json', Authorization: `Bearer ${this.token()}`, 'User-Agent': 'kserve-canary-sandbox-controllers', ...headers },
        },
        (res) => resolve({ res, abort: () => req.destroy() }),
      );
      if (timeoutMs) req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
      req.on('error', (e) => reject(new KubeApiError(0, 'ConnectionFailed', `${method} ${path}: ${e.message}`)));
      req.end(body);
    });
  }

  /** One request; a connection reset before any answer (an idle keep-alive socket) is tried once more. */
  async request(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<unknown> {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = text === undefined ? {} : { 'Content-Type': contentType, 'Content-Length': String(Buffer.byteLength(text)) };
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.exchange(method, path, headers, text);
      } catch (e) {
        if (attempt === 0 && e instanceof KubeApiError && e.code === 0 && /ECONNRESET|EPIPE|socket hang up/.test(e.message)) continue;
        throw e;
      }
    }
  }

  private async exchange(method: string, path: string, headers: Record<string, string>, body: string | undefined): Promise<unknown> {
    const { res } = await this.open(method, path, headers, body, this.o.timeoutMs ?? 30_000);
    const chunks: Buffer[] = [];
    try {
      for await (const c of res) chunks.push(c as Buffer);
    } catch (e) {
      throw new KubeApiError(0, 'ConnectionFailed', `${method} ${path}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const out = Buffer.concat(chunks).toString('utf8');
    const code = res.statusCode ?? 0;
    if (code < 200 || code >= 300) throw errorOf(code, out);
    try {
      return out ? JSON.parse(out) : undefined;
    } catch {
      throw new KubeApiError(code, 'BadResponse', `${method} ${path}: the answer is not JSON`);
    }
  }

  async list(r: ApiResource, opts: { namespace?: string; labelSelector?: string } = {}): Promise<{ items: KObject[]; resourceVersion: string }> {
    const q = new URLSearchParams();
    if (opts.labelSelector) q.set('labelSelector', opts.labelSelector);
    const qs = q.toString();
    const body = (await this.request('GET', `${collectionPath(r, opts.namespace)}${qs ? `?${qs}` : ''}`)) as {
      items?: KObject[];
      metadata?: { resourceVersion?: string };
    };
    return { items: body.items ?? [], resourceVersion: body.metadata?.resourceVersion ?? '' };
  }

  /** The object, or undefined when it does not exist (404). */
  async get(r: ApiResource, namespace: string | undefined, name: string): Promise<KObject | undefined> {
    try {
      return (await this.request('GET', objectPath(r, namespace, name))) as KObject;
    } catch (e) {
      if (isStatus(e, 404)) return undefined;
      throw e;
    }
  }

  async create(r: ApiResource, o: KObject, namespace = o.metadata.namespace): Promise<KObject> {
    return (await this.request('POST', collectionPath(r, namespace), o)) as KObject;
  }

  /** PUT: conditional on `metadata.resourceVersion` (409 Conflict when it is stale). */
  async update(r: ApiResource, o: KObject): Promise<KObject> {
    return (await this.request('PUT', objectPath(r, o.metadata.namespace, o.metadata.name!), o)) as KObject;
  }

  /** PUT of the `/status` subresource (only status is taken from `o`). */
  async updateStatus(r: ApiResource, o: KObject): Promise<KObject> {
    return (await this.request('PUT', objectPath(r, o.metadata.namespace, o.metadata.name!, 'status'), o)) as KObject;
  }

  async patch(
    r: ApiResource,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    type: PatchType = 'merge',
    subresource?: 'status',
  ): Promise<KObject> {
    return (await this.request('PATCH', objectPath(r, namespace, name, subresource), patch, PATCH_TYPES[type])) as KObject;
  }

  /** Delete; the answer is the object (finalizers pending, built-in types) or a Status. Undefined when it was not there. */
  async delete(r: ApiResource, namespace: string | undefined, name: string): Promise<unknown> {
    try {
      return await this.request('DELETE', objectPath(r, namespace, name));
    } catch (e) {
      if (isStatus(e, 404)) return undefined;
      throw e;
    }
  }

  /**
   * Read-change-write with optimistic concurrency: `change` gets the object (`initial` first
   * when given, e.g. from a cache; a fresh GET after a conflict) and returns what to write, or
   * undefined for nothing to do. The PUT carries the read resourceVersion; on 409 the object
   * is read again and `change` runs again. Resolves with the written object, undefined when
   * nothing was written (no change, or the object is gone).
   */
  async modify(
    r: ApiResource,
    namespace: string | undefined,
    name: string,
    change: (o: KObject) => KObject | undefined,
    opts: { status?: boolean; initial?: KObject } = {},
  ): Promise<KObject | undefined> {
    let current = opts.initial ?? (await this.get(r, namespace, name));
    for (let attempt = 0; current; attempt++) {
      const next = change(structuredClone(current));
      if (!next) return undefined;
      next.metadata.resourceVersion = current.metadata.resourceVersion;
      try {
        return opts.status ? await this.updateStatus(r, next) : await this.update(r, next);
      } catch (e) {
        if (!isStatus(e, 409) || attempt >= MAX_CONFLICT_RETRIES) throw e;
      }
      current = await this.get(r, namespace, name);
    }
    return undefined;
  }

  /**
   * Watch a collection from `resourceVersion`: `onEvent` gets each event in order (ERROR events
   * too: a 410 Expired Status means list again). A line that is not JSON, a non-200 answer or a
   * broken connection end the watch with reason `error`.
   */
  watch(r: ApiResource, opts: WatchOptions, onEvent: (e: WatchEvent) => void): WatchHandle {
    const q = new URLSearchParams({ watch: '1' });
    if (opts.resourceVersion) q.set('resourceVersion', opts.resourceVersion);
    if (opts.labelSelector) q.set('labelSelector', opts.labelSelector);
    if (opts.allowWatchBookmarks) q.set('allowWatchBookmarks', 'true');
    if (opts.timeoutSeconds) q.set('timeoutSeconds', String(opts.timeoutSeconds));
    const path = `${collectionPath(r, opts.namespace)}?${q}`;
    let closed = false;
    let abort: (() => void) | undefined;
    let events = 0;
    const done = (async (): Promise<WatchEnd> => {
      let res: IncomingMessage;
      try {
        const opened = await this.open('GET', path, {}, undefined, undefined);
        res = opened.res;
        abort = opened.abort;
      } catch (e) {
        return { reason: closed ? 'closed' : 'error', error: e as Error, events };
      }
      if (closed) {
        abort();
        return { reason: 'closed', events };
      }
      if (res.statusCode !== 200) {
        const chunks: Buffer[] = [];
        try {
          for await (const c of res) chunks.push(c as Buffer);
        } catch {
          // the status code says enough
        }
        return { reason: 'error', error: errorOf(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')), events };
      }
      let buffered = '';
      try {
        for await (const chunk of res) {
          buffered += (chunk as Buffer).toString('utf8');
          let nl: number;
          while ((nl = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            if (!line) continue;
            let e: WatchEvent;
            try {
              e = JSON.parse(line) as WatchEvent;
            } catch {
              abort();
              return { reason: 'error', error: new KubeApiError(0, 'BadWatchEvent', `${path}: a watch line is not JSON`), events };
            }
            if (!isPlainObject(e) || typeof e.type !== 'string' || !isPlainObject(e.object)) {
              abort();
              return { reason: 'error', error: new KubeApiError(0, 'BadWatchEvent', `${path}: a watch event without type or object`), events };
            }
            events++;
            onEvent(e);
            if (closed) return { reason: 'closed', events };
          }
        }
      } catch (e) {
        return { reason: closed ? 'closed' : 'error', error: e as Error, events };
      }
      return { reason: closed ? 'closed' : res.complete ? 'ended' : 'error', events };
    })();
    return {
      close: () => {
        closed = true;
        abort?.();
      },
      done,
    };
  }
}
