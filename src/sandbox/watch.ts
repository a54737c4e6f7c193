/**
 * The sandbox API server's watch streams (newline-delimited JSON events) and the request
 * parameters they share with lists: label and field selectors, the Table Accept header.
 * Who watches is kept (the user, or the controllers' admin identity) for the faults and counts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { badRequest, gone } from './errors';
import type { FaultState } from './faults';
import { apiVersionOf, type ResourceType } from './resources';
import { SelectorError, matches, parseSelector, type Requirement } from './selectors';
import type { ObjectStore, StoreEvent } from './store';
import type { TableOptions } from './table';
import { toTable } from './table';
import type { KObject } from './types';

export type Identity = 'user' | 'admin';

export interface WatchConn {
  res: ServerResponse;
  who: Identity;
  close(abrupt: boolean): void;
}

/** What a watch needs of the server. */
export interface WatchHost {
  store: ObjectStore;
  faults: FaultState;
  bookmarkMs: number;
  watches: Set<WatchConn>;
  timers: Set<NodeJS.Timeout>;
  later(ms: number, fn: () => void): NodeJS.Timeout;
}

export function tableOptions(accept: string | undefined, query: URLSearchParams): TableOptions | undefined {
  if (!accept) return undefined;
  for (const part of accept.split(',')) {
    const params = new Map(
      part
        .split(';')
        .slice(1)
        .map((p) => p.trim().split('=') as [string, string]),
    );
    if (params.get('as') === 'Table' && params.get('g') === 'meta.k8s.io') {
      const v = params.get('v') === 'v1beta1' ? 'v1beta1' : 'v1';
      const inc = query.get('includeObject');
      return { version: v, includeObject: inc === 'Object' ? 'Object' : inc === 'None' ? 'None' : 'Metadata' };
    }
  }
  return undefined;
}

export function fieldLookup(o: KObject): (k: string) => string | undefined {
  return (k) => (k === 'metadata.name' ? o.metadata.name : k === 'metadata.namespace' ? (o.metadata.namespace ?? '') : undefined);
}

/** A label selector parameter; 400 when it does not parse. */
export function labelSelector(text: string | null): Requirement[] {
  try {
    return parseSelector(text ?? undefined);
  } catch (e) {
    throw badRequest(e instanceof SelectorError ? e.message : String(e));
  }
}

/** A field selector parameter: metadata.name and metadata.namespace only. */
export function fieldSelector(text: string | null): Requirement[] {
  const reqs = labelSelector(text);
  for (const r of reqs) {
    if (r.key !== 'metadata.name' && r.key !== 'metadata.namespace') throw badRequest(`field label not supported: ${r.key}`);
  }
  return reqs;
}
/** Serve `?watch=1` on a collection of `t`: backlog or initial events, then live events until closed. */
export function serveWatch(
  host: WatchHost,
  req: IncomingMessage,
  res: ServerResponse,
  t: ResourceType,
  ns: string | undefined,
  q: URLSearchParams,
  table: TableOptions | undefined,
  who: Identity,
): void {
  const store = host.store;
  const labels = labelSelector(q.get('labelSelector'));
  const fields = fieldSelector(q.get('fieldSelector'));
  const rvParam = q.get('resourceVersion') ?? '';
  if (rvParam !== '' && !/^\d+$/.test(rvParam)) throw badRequest(`invalid resource version "${rvParam}"`);
  const timeoutS = Number(q.get('timeoutSeconds') ?? '0');
  const bookmarks = q.get('allowWatchBookmarks') === 'true' || q.get('allowWatchBookmarks') === '1';
  const initialEvents = q.get('sendInitialEvents');
  const want = (o: KObject | undefined) =>
    !!o && (ns === undefined || o.metadata.namespace === ns) && matches(labels, (k) => o.metadata.labels?.[k]) && matches(fields, fieldLookup(o));

  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();
  const render = (o: KObject): unknown => (table ? toTable(t, [o], o.metadata.resourceVersion ?? '', table) : o);
  const write = (type: string, object: unknown) => {
    if (!res.writableEnded && !res.destroyed) res.write(JSON.stringify({ type, object }) + '\n');
  };
  let unsubscribe = () => undefined as unknown;
  let bookmarkTimer: NodeJS.Timeout | undefined;
  let timeoutTimer: NodeJS.Timeout | undefined;
  const conn: WatchConn = {
    res,
    who,
    close: (abrupt) => {
      cleanup();
      if (abrupt) res.destroy();
      else res.end();
    },
  };
  const cleanup = () => {
    host.watches.delete(conn);
    unsubscribe();
    if (bookmarkTimer) clearInterval(bookmarkTimer);
    if (timeoutTimer) {
      clearTimeout(timeoutTimer);
      host.timers.delete(timeoutTimer);
    }
  };
  host.watches.add(conn);
  req.on('close', cleanup);
  res.on('close', cleanup);
  if (timeoutS > 0) timeoutTimer = host.later(timeoutS * 1000, () => conn.close(false));
  if (host.faults.silentWatches && who === 'user') return;

  const deliver = (e: StoreEvent) => {
    if (e.resource !== t) return;
    const now = want(e.object);
    const before = want(e.previous);
    if (e.type === 'ADDED' && now) write('ADDED', render(e.object));
    else if (e.type === 'DELETED' && (now || before)) write('DELETED', render(e.object));
    else if (e.type === 'MODIFIED') {
      if (now && before) write('MODIFIED', render(e.object));
      else if (now) write('ADDED', render(e.object));
      else if (before) write('DELETED', render(e.object));
    }
  };
  const bookmark = () => {
    write('BOOKMARK', { kind: t.kind, apiVersion: apiVersionOf(t), metadata: { resourceVersion: String(store.resourceVersion) } });
  };

  if (rvParam === '' || rvParam === '0' || initialEvents === 'true') {
    if (initialEvents !== 'false') {
      for (const o of store.list(t, ns)) if (want(o)) write('ADDED', render(o));
    }
    if (initialEvents === 'true') {
      write('BOOKMARK', {
        kind: t.kind,
        apiVersion: apiVersionOf(t),
        metadata: { resourceVersion: String(store.resourceVersion), annotations: { 'k8s.io/initial-events-end': 'true' } },
      });
    }
  } else {
    const from = Number(rvParam);
    const backlog = store.eventsSince(from);
    if (!backlog) {
      const err = gone(`too old resource version: ${from} (${store.oldestWatchableVersion + 1})`);
      write('ERROR', err.toStatus());
      conn.close(false);
      return;
    }
    for (const e of backlog) deliver(e);
  }
  unsubscribe = store.subscribe(deliver);
  if (bookmarks) {
    bookmarkTimer = setInterval(bookmark, host.bookmarkMs);
    bookmarkTimer.unref();
  }
}
