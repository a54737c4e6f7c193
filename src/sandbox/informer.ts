/**
 * A list+watch cache of one resource type over kube-client.ts, as client-go's informers keep
 * one: list, then watch from the list's resourceVersion (bookmarks allowed); a watch that ends
 * is resumed from the last version seen; a broken one (connection, a line that is not JSON,
 * an HTTP error) after a growing pause; 410 Gone lists again and reports the difference as
 * events. Subscribers get ADDED / MODIFIED / DELETED with the cached object before the change.
 * The controllers' own writes are recorded at once (`record`), so that what they read next
 * includes them; an event older than what is cached is not applied (numeric resourceVersions,
 * as etcd's and the sandbox's are).
 */
import { KubeApiError, type ApiResource, type KubeClient, type WatchEnd } from './kube-client';
import { isPlainObject, type KObject } from './types';

export interface InformerEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KObject;
  /** The cached object before the event. */
  previous: KObject | undefined;
}

export interface InformerOptions {
  namespace?: string;
  /** First pause after a broken watch or a failed list; doubles up to maxBackoffMs. Default 50. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Watch requests ask the server to end after this long (then resume). Default 300. */
  watchTimeoutSeconds?: number;
}

const key = (o: KObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;

/** Is `a` at least as new as `b`? Numeric resourceVersions compare; anything else counts as newer. */
function notOlder(a: KObject, b: KObject): boolean {
  const x = a.metadata.resourceVersion ?? '';
  const y = b.metadata.resourceVersion ?? '';
  return !/^\d+$/.test(x) || !/^\d+$/.test(y) || BigInt(x) >= BigInt(y);
}

/** A delete that finished: deletionTimestamp set and no finalizer left. */
function finished(o: KObject): boolean {
  return !!o.metadata.deletionTimestamp && !(o.metadata.finalizers ?? []).length;
}

export class Informer {
  private readonly cache = new Map<string, KObject>();
  private readonly listeners = new Set<(e: InformerEvent) => void>();
  private rv = '';
  private stopped = true;
  private watch: { close(): void } | undefined;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** Lists done (the first one included), watches opened: tests read them. */
  readonly stats = { lists: 0, watches: 0, brokenWatches: 0 };

  constructor(
    private readonly client: KubeClient,
    readonly resource: ApiResource,
    private readonly o: InformerOptions = {},
  ) {}

  /** List (retrying until it works or stop()), then keep watching in the background. */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    let backoff = this.o.backoffMs ?? 50;
    for (;;) {
      try {
        await this.relist();
        break;
      } catch (e) {
        if (this.stopped) return;
        if (e instanceof KubeApiError && (e.code === 401 || e.code === 403)) throw e;
        await this.pause(backoff);
        backoff = Math.min(backoff * 2, this.o.maxBackoffMs ?? 2000);
      }
    }
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watch?.close();
    this.wake?.();
    await this.loop;
    this.loop = undefined;
  }

  subscribe(fn: (e: InformerEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  get(namespace: string | undefined, name: string): KObject | undefined {
    const o = this.cache.get(`${this.resource.namespaced ? (namespace ?? '') : ''}/${name}`);
    return o && structuredClone(o);
  }

  list(namespace?: string): KObject[] {
    const out: KObject[] = [];
    for (const o of this.cache.values()) if (namespace === undefined || o.metadata.namespace === namespace) out.push(structuredClone(o));
    return out.sort((a, b) => key(a).localeCompare(key(b)));
  }

  /** Record what one of our writes returned (newer than the cache); no event is emitted. */
  record(o: unknown): void {
    if (!isPlainObject(o) || !isPlainObject(o.metadata) || o.kind === 'Status') return;
    const obj = o as KObject;
    const old = this.cache.get(key(obj));
    if (finished(obj)) this.cache.delete(key(obj));
    else if (!old || notOlder(obj, old)) this.cache.set(key(obj), structuredClone(obj));
  }

  private emit(e: InformerEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch {
        // a subscriber's failure must not stop the cache
      }
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = undefined;
        resolve();
      };
    });
  }

  /** List and report the difference with the cache as events. */
  private async relist(): Promise<void> {
    const { items, resourceVersion } = await this.client.list(this.resource, { namespace: this.o.namespace });
    this.stats.lists++;
    if (this.stopped) return;
    const seen = new Set<string>();
    for (const o of items) {
      const k = key(o);
      seen.add(k);
      const old = this.cache.get(k);
      if (old && (old.metadata.resourceVersion === o.metadata.resourceVersion || !notOlder(o, old))) continue;
      this.cache.set(k, o);
      this.emit({ type: old ? 'MODIFIED' : 'ADDED', object: structuredClone(o), previous: old && structuredClone(old) });
    }
    for (const [k, old] of [...this.cache]) {
      if (seen.has(k)) continue;
      // written by us after the list was taken: its watch event is still to come
      if (/^\d+$/.test(resourceVersion) && /^\d+$/.test(old.metadata.resourceVersion ?? '') && BigInt(old.metadata.resourceVersion!) > BigInt(resourceVersion))
        continue;
      this.cache.delete(k);
      this.emit({ type: 'DELETED', object: structuredClone(old), previous: structuredClone(old) });
    }
    this.rv = resourceVersion;
  }

  private apply(type: string, o: KObject): void {
    const k = key(o);
    const old = this.cache.get(k);
    if (type === 'DELETED') {
      this.cache.delete(k);
      this.emit({ type: 'DELETED', object: o, previous: old && structuredClone(old) });
      return;
    }
    if (old && !notOlder(o, old)) return; // we already hold a newer version (our own write)
    this.cache.set(k, o);
    this.emit({ type: old ? 'MODIFIED' : 'ADDED', object: structuredClone(o), previous: old && structuredClone(old) });
  }

  private async run(): Promise<void> {
    let backoff = this.o.backoffMs ?? 50;
    const grow = () => {
      const b = backoff;
      backoff = Math.min(backoff * 2, this.o.maxBackoffMs ?? 2000);
      return b;
    };
    let relist = false;
    while (!this.stopped) {
      if (relist) {
        try {
          await this.relist();
          relist = false;
        } catch {
          await this.pause(grow());
          continue;
        }
      }
      let gone = false;
      const handle = this.client.watch(
        this.resource,
        { namespace: this.o.namespace, resourceVersion: this.rv, allowWatchBookmarks: true, timeoutSeconds: this.o.watchTimeoutSeconds ?? 300 },
        (e) => {
          const rv = e.object.metadata?.resourceVersion;
          if (e.type === 'ERROR') {
            const code = (e.object as { code?: number }).code;
            if (code === 410) gone = true;
            handle.close();
            return;
          }
          if (e.type !== 'BOOKMARK') this.apply(e.type, e.object);
          if (rv) this.rv = rv;
        },
      );
      this.watch = handle;
      this.stats.watches++;
      const end: WatchEnd = await handle.done;
      this.watch = undefined;
      if (this.stopped) break;
      if (gone || (end.error instanceof KubeApiError && end.error.code === 410)) {
        relist = true;
        continue;
      }
      if (end.reason === 'ended' && end.events > 0) {
        backoff = this.o.backoffMs ?? 50;
        continue;
      }
      if (end.reason === 'error') this.stats.brokenWatches++;
      if (end.events > 0) backoff = this.o.backoffMs ?? 50;
      await this.pause(grow());
    }
  }
}
