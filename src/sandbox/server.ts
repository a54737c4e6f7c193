/**
 * The sandbox's Kubernetes API server: HTTPS on 127.0.0.1, bearer-token auth, discovery,
 * CRUD + patch + status subresource, server-side tables and Status errors, RBAC as the access
 * list says for the user (rules and SelfSubjectAccessReview: rbac.ts; the controllers' admin
 * token is exempt). Discovery is discovery.ts, watch streams and selectors watch.ts.
 */
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { closeServer, listenOnLoopback } from './listen';
import { timingSafeEqual } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { discovery } from './discovery';
import { ApiError, badRequest, gone, resourceVersionRequired } from './errors';
import type { AccessList, FaultState } from './faults';
import { PatchError, jsonPatch, mergePatch } from './patch';
import { apiVersionOf, findType, type ResourceType } from './resources';
import { accessReview, denial, reviewFromProtobuf, SELF_SUBJECT_ACCESS_REVIEWS } from './rbac';
import { matches } from './selectors';
import type { ObjectStore } from './store';
import { toTable } from './table';
import type { TlsMaterial } from './tls';
import { isPlainObject, type KObject } from './types';
import { fieldLookup, fieldSelector, labelSelector, serveWatch, tableOptions, type Identity, type WatchConn, type WatchHost } from './watch';

export interface ApiServerOptions {
  tls: TlsMaterial;
  /** Read on every request, so that the token can be rotated while running. */
  token: () => string;
  user: string;
  /**
   * The token of the cluster's own controllers (KServe, Argo CD: controllers.ts), a cluster
   * admin. Not rotated with the user's token, not subject to `access`; see `handle` for the
   * faults it is exempt from.
   */
  adminToken?: () => string;
  store: ObjectStore;
  faults: FaultState;
  access: AccessList;
  /** Interval of BOOKMARK events on watches that allow them. */
  bookmarkMs: number;
}

const MAX_BODY = 3 * 1024 * 1024;

interface Route {
  resource: ResourceType;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
}

export class ApiServer {
  private server: https.Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly watches = new Set<WatchConn>();
  private readonly timers = new Set<NodeJS.Timeout>();
  port = 0;

  constructor(private readonly o: ApiServerOptions) {}

  async listen(port: number): Promise<number> {
    const server = https.createServer({ key: this.o.tls.key, cert: this.o.tls.cert, keepAliveTimeout: 5000 }, (req, res) => {
      this.handle(req, res).catch((e: unknown) => this.fail(res, e));
    });
    server.on('tlsClientError', () => undefined);
    this.port = await listenOnLoopback(server, port, this.sockets);
    this.server = server;
    return this.port;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.dropWatches(true);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (!server) return;
    await closeServer(server, this.sockets);
  }

  /** Watches open by the user (the product's clients); the controllers' own are not counted. */
  get openWatches(): number {
    return [...this.watches].filter((w) => w.who === 'user').length;
  }

  /** End every open watch: cleanly (end of stream) or abruptly (socket reset). */
  dropWatches(abrupt = false): void {
    for (const w of [...this.watches]) w.close(abrupt);
  }

  /** Write a line that is not JSON into every open watch stream. */
  injectWatchGarbage(): void {
    for (const w of this.watches) w.res.write('{"type":"MODIFIED","object":{"kind":"InferenceService","metadata":\n');
  }

  private watchHost(): WatchHost {
    return {
      store: this.o.store,
      faults: this.o.faults,
      bookmarkMs: this.o.bookmarkMs,
      watches: this.watches,
      timers: this.timers,
      later: (ms, fn) => this.later(ms, fn),
    };
  }

  private later(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
    return t;
  }

  private send(res: ServerResponse, code: number, body: unknown): void {
    if (res.headersSent) {
      res.end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
    res.end(text);
  }

  private fail(res: ServerResponse, e: unknown): void {
    if (e instanceof ApiError) this.send(res, e.code, e.toStatus());
    else this.send(res, 500, new ApiError(500, 'InternalError', `Internal error occurred: ${e instanceof Error ? e.message : String(e)}`).toStatus());
  }

  private identify(req: IncomingMessage): Identity | undefined {
    const h = req.headers.authorization ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(h);
    if (!m) return undefined;
    const a = Buffer.from(m[1]!.trim());
    const same = (token: string) => {
      const b = Buffer.from(token);
      return a.length === b.length && timingSafeEqual(a, b);
    };
    if (same(this.o.token())) return 'user';
    const admin = this.o.adminToken?.();
    return admin && same(admin) ? 'admin' : undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://sandbox.invalid');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (path === '/healthz' || path === '/readyz' || path === '/livez') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok');
      return;
    }
    const who = this.identify(req);
    if (!who) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
    const f = this.o.faults;
    // Delays, 500s and silent watches are faults of the product's connection to the cluster:
    // they are not applied to the controllers' identity, which stands for KServe and Argo CD
    // running inside the cluster. Dropped watches, garbage lines, expired resourceVersions and
    // outages do reach the controllers: they resume, relist and reconnect (informer.ts).
    if (who === 'user' && f.delayMs > 0) await new Promise<void>((r) => this.later(f.delayMs, r));
    if (who === 'user' && Date.now() < f.failUntil) {
      throw new ApiError(500, 'InternalError', 'Internal error occurred: the sandbox was told to fail (fault injection)');
    }
    const method = req.method ?? 'GET';
    if (path === SELF_SUBJECT_ACCESS_REVIEWS) {
      if (method !== 'POST') throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
      const b = await this.readBody(req);
      // kubectl auth can-i sends it as protobuf (a built-in type), clients like ours as JSON
      const review = b.type === 'application/vnd.kubernetes.protobuf' ? reviewFromProtobuf(b.raw) : this.parseBody(b.text, b.type);
      this.send(res, 201, accessReview(review, this.o.access, this.o.user, who));
      return;
    }
    const found = discovery(path, this.port);
    if (found !== undefined) {
      if (method !== 'GET') throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
      this.send(res, 200, found);
      return;
    }
    const route = this.route(path);
    if (!route) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    await this.serveResource(req, res, route, url.searchParams, method, who);
  }

  // ---------------------------------------------------------------- resources

  private route(path: string): Route | undefined {
    const seg = path.split('/').filter(Boolean);
    let group: string;
    let version: string;
    let rest: string[];
    if (seg[0] === 'api' && seg[1] === 'v1') {
      group = '';
      version = 'v1';
      rest = seg.slice(2);
    } else if (seg[0] === 'apis' && seg.length >= 4) {
      group = seg[1]!;
      version = seg[2]!;
      rest = seg.slice(3);
    } else return undefined;
    const decode = (s: string | undefined) => (s === undefined ? undefined : decodeURIComponent(s));
    // namespaces/{ns}/{plural}[/{name}[/{sub}]]  — unless it is the namespaces resource itself
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      const t = findType(group, version, rest[2]!);
      if (!t || !t.namespaced || rest.length > 5) return undefined;
      return { resource: t, namespace: decode(rest[1]), name: decode(rest[3]), subresource: rest[4] };
    }
    const t = findType(group, version, rest[0] ?? '');
    if (!t || rest.length > 3) return undefined;
    if (t.namespaced && rest.length > 1) return undefined;
    return { resource: t, namespace: undefined, name: decode(rest[1]), subresource: rest[2] };
  }

  private authorize(verb: string, t: ResourceType, ns: string | undefined, name: string | undefined, who: Identity): void {
    if (who === 'admin') return; // a cluster admin: RBAC lets it do everything
    const refused = denial(this.o.access, this.o.user, verb, t, ns, name);
    if (refused) throw refused;
  }

  private async readBody(req: IncomingMessage): Promise<{ text: string; type: string; raw: Buffer }> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > MAX_BODY) throw new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
      chunks.push(c as Buffer);
    }
    const raw = Buffer.concat(chunks);
    return { text: raw.toString('utf8'), type: (req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim(), raw };
  }

  private parseBody(text: string, type: string): unknown {
    try {
      return type.includes('yaml') ? parseYaml(text) : JSON.parse(text);
    } catch (e) {
      throw badRequest(`the body of the request could not be decoded: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private async serveResource(req: IncomingMessage, res: ServerResponse, r: Route, q: URLSearchParams, method: string, who: Identity): Promise<void> {
    const t = r.resource;
    const store = this.o.store;
    if (r.subresource !== undefined && (r.subresource !== 'status' || !t.statusSubresource || !r.name)) {
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    }
    const sub = r.subresource as 'status' | undefined;
    const watch = q.get('watch') === '1' || q.get('watch') === 'true';
    const table = tableOptions(req.headers.accept, q);
    if (!r.name) {
      if (method === 'GET') {
        this.authorize(watch ? 'watch' : 'list', t, r.namespace, undefined, who);
        if (watch) return serveWatch(this.watchHost(), req, res, t, r.namespace, q, table, who);
        const rvMatch = q.get('resourceVersionMatch');
        if (rvMatch) {
          const rv = q.get('resourceVersion');
          if (!rv) throw new ApiError(422, 'Invalid', `resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided`);
          if (rvMatch !== 'Exact' && rvMatch !== 'NotOlderThan') throw new ApiError(422, 'Invalid', `resourceVersionMatch: Unsupported value: "${rvMatch}"`);
          if (rvMatch === 'Exact' && /^\d+$/.test(rv) && Number(rv) < store.oldestWatchableVersion) {
            throw gone(`The resourceVersion for the provided list is too old.`);
          }
        }
        const labels = labelSelector(q.get('labelSelector'));
        const fields = fieldSelector(q.get('fieldSelector'));
        const items = store.list(t, r.namespace).filter((o) => matches(labels, (k) => o.metadata.labels?.[k]) && matches(fields, fieldLookup(o)));
        const rv = String(store.resourceVersion);
        if (table) return this.send(res, 200, toTable(t, items, rv, table));
        return this.send(res, 200, { apiVersion: apiVersionOf(t), kind: `${t.kind}List`, metadata: { resourceVersion: rv }, items });
      }
      if (method === 'POST') {
        if (t.namespaced && r.namespace === undefined)
          throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
        this.authorize('create', t, r.namespace, undefined, who);
        const b = await this.readBody(req);
        const body = this.parseBody(b.text, b.type);
        if (!isPlainObject(body)) throw badRequest('the body of the request must be an object');
        if (!isPlainObject(body.metadata)) body.metadata = {};
        const created = store.create(t, body as KObject, r.namespace);
        return this.send(res, 201, table ? toTable(t, [created], String(store.resourceVersion), table) : created);
      }
      if (method === 'DELETE') {
        this.authorize('deletecollection', t, r.namespace, undefined, who);
        const labels = labelSelector(q.get('labelSelector'));
        const fields = fieldSelector(q.get('fieldSelector'));
        const items = store
          .list(t, r.namespace)
          .filter((o) => matches(labels, (k) => o.metadata.labels?.[k]) && matches(fields, fieldLookup(o)))
          .map((o) => store.delete(t, o.metadata.namespace, o.metadata.name!).object);
        return this.send(res, 200, { apiVersion: apiVersionOf(t), kind: `${t.kind}List`, metadata: { resourceVersion: String(store.resourceVersion) }, items });
      }
      throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    }
    const name = r.name;
    switch (method) {
      case 'GET': {
        this.authorize(watch ? 'watch' : 'get', t, r.namespace, name, who);
        if (watch) {
          q.set('fieldSelector', `metadata.name=${name}`);
          return serveWatch(this.watchHost(), req, res, t, r.namespace, q, table, who);
        }
        const o = store.mustGet(t, r.namespace, name);
        return this.send(res, 200, table ? toTable(t, [o], o.metadata.resourceVersion ?? '', table) : o);
      }
      case 'PUT': {
        this.authorize('update', t, r.namespace, name, who);
        const b = await this.readBody(req);
        const body = this.parseBody(b.text, b.type);
        if (!isPlainObject(body) || !isPlainObject(body.metadata)) throw badRequest('the body of the request must be an object with metadata');
        if (body.metadata.name !== name) throw badRequest('the name of the object does not match the name on the URL');
        // every type here but Namespace is a custom resource on a real cluster: no unconditional update
        if (t.group !== '' && (typeof body.metadata.resourceVersion !== 'string' || body.metadata.resourceVersion === ''))
          throw resourceVersionRequired(t, name);
        return this.send(res, 200, store.update(t, body as KObject, r.namespace, sub));
      }
      case 'PATCH': {
        this.authorize('patch', t, r.namespace, name, who);
        const b = await this.readBody(req);
        if (b.type === 'application/apply-patch+yaml') {
          if (!q.get('fieldManager')) throw badRequest('PATCH requests using apply-patch must include fieldManager');
          if (!sub && !store.get(t, r.namespace, name)) {
            // server-side apply creates what does not exist yet
            const body = this.parseBody(b.text, 'application/yaml');
            if (!isPlainObject(body) || !isPlainObject(body.metadata) || body.metadata.name !== name) {
              throw badRequest('the applied object must name the object of the URL');
            }
            return this.send(res, 201, store.create(t, body as KObject, r.namespace));
          }
        }
        const existing = store.mustGet(t, r.namespace, name);
        let patched: unknown;
        try {
          patched = this.applyPatch(t, existing, b.type, b.text);
        } catch (e) {
          if (e instanceof PatchError) throw new ApiError(422, 'Invalid', e.message);
          throw e;
        }
        if (!isPlainObject(patched) || !isPlainObject(patched.metadata)) throw badRequest('the patch removed the object metadata');
        if (patched.metadata.name !== name) throw badRequest('the patch changed the object name');
        return this.send(res, 200, store.update(t, patched as KObject, r.namespace, sub));
      }
      case 'DELETE': {
        if (sub) throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
        this.authorize('delete', t, r.namespace, name, who);
        const b = await this.readBody(req);
        let precondition: string | undefined;
        if (b.text.trim()) {
          const opts = this.parseBody(b.text, b.type);
          if (isPlainObject(opts) && isPlainObject(opts.preconditions) && typeof opts.preconditions.resourceVersion === 'string') {
            precondition = opts.preconditions.resourceVersion;
          }
        }
        const { object, finished } = store.delete(t, r.namespace, name, precondition);
        if (!finished || !t.custom) return this.send(res, 200, object);
        return this.send(res, 200, {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Success',
          details: { name, group: t.group, kind: t.plural, uid: object.metadata.uid },
        });
      }
      default:
        throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    }
  }

  private applyPatch(t: ResourceType, existing: KObject, type: string, text: string): unknown {
    switch (type) {
      case 'application/merge-patch+json':
        return mergePatch(existing, this.parseBody(text, 'application/json'));
      case 'application/json-patch+json':
        return jsonPatch(existing, this.parseBody(text, 'application/json'));
      case 'application/strategic-merge-patch+json':
        if (!t.custom) return mergePatch(existing, this.parseBody(text, 'application/json'));
        break;
      case 'application/apply-patch+yaml': {
        const body = this.parseBody(text, 'application/yaml');
        return mergePatch(existing, body);
      }
    }
    throw new ApiError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`,
    );
  }
}
