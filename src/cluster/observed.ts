/**
 * Keeps the observed traffic split (src/cluster/metrics.ts) of every service of a
 * ClusterStore up to date, for the tree, the status bar and `status`: one Prometheus round
 * per interval (default 30 s) over all services, refreshed sooner for a service whose
 * revisions changed. Listeners get the keys whose observation changed.
 *
 * Without a Prometheus client every service reads `absent / not-configured` (said, never
 * guessed). Query failures come back as `absent / query-failed` per service.
 */
import type { ObservedSplit } from '../core/observed';
import type { ClusterStore } from './api';
import { observedSplit, type MetricsClient } from './metrics';
import type { ServiceState } from './types';

export interface ObservedTracker {
  /** The last observation of a service (by `<namespace>/<name>` key), if any yet. */
  get(key: string): ObservedSplit | undefined;
  onDidChange(listener: (keys: string[]) => void): () => void;
  /** Query now (all services, or the given keys). */
  refresh(keys?: string[]): Promise<void>;
  /** Swap the Prometheus client (settings changed); undefined = not configured. */
  setClient(client: MetricsClient | undefined): void;
  dispose(): void;
}

export interface ObservedTrackerOptions {
  intervalMs?: number;
  windowMs?: number;
  /** Most queries at once, default 4. */
  parallel?: number;
}

type StoreView = Pick<ClusterStore, 'services' | 'get' | 'onDidChangeServices'>;

function revisionsOf(s: ServiceState): string {
  return `${s.prevRevision ?? ''}|${s.latestRevision ?? ''}`;
}

function same(a: ObservedSplit | undefined, b: ObservedSplit): boolean {
  if (!a || a.kind !== b.kind) return false;
  const strip = (o: ObservedSplit) => JSON.stringify({ ...o, at: '' });
  return strip(a) === strip(b);
}

export function createObservedTracker(store: StoreView, client: MetricsClient | undefined, opts: ObservedTrackerOptions = {}): ObservedTracker {
  const intervalMs = opts.intervalMs ?? 30000;
  const windowMs = opts.windowMs ?? 300000;
  const parallel = Math.max(1, opts.parallel ?? 4);
  const data = new Map<string, ObservedSplit>();
  const seenRevisions = new Map<string, string>();
  const listeners = new Set<(keys: string[]) => void>();
  let current = client;
  let disposed = false;
  let running: Promise<void> | undefined;
  let queued: Set<string> | 'all' | undefined;

  const notify = (keys: string[]) => {
    if (!keys.length) return;
    for (const l of [...listeners]) {
      try {
        l(keys);
      } catch {
        // one listener's failure does not stop the others
      }
    }
  };

  const one = async (s: ServiceState): Promise<string | undefined> => {
    if (s.missing) return undefined;
    const o = await observedSplit(
      current,
      { namespace: s.namespace, name: s.name, prevRevision: s.prevRevision, latestRevision: s.latestRevision },
      { windowMs },
    );
    if (disposed) return undefined;
    if (same(data.get(s.key), o)) {
      data.set(s.key, o);
      return undefined;
    }
    data.set(s.key, o);
    return s.key;
  };

  const round = async (keys: Set<string> | 'all'): Promise<void> => {
    const services = store.services().filter((s) => keys === 'all' || keys.has(s.key));
    const changed: string[] = [];
    for (let i = 0; i < services.length; i += parallel) {
      const batch = await Promise.all(services.slice(i, i + parallel).map(one));
      for (const k of batch) if (k) changed.push(k);
      if (disposed) return;
    }
    const live = new Set(store.services().map((s) => s.key));
    for (const k of [...data.keys()]) {
      if (!live.has(k)) data.delete(k);
    }
    notify(changed);
  };

  const refresh = (keys?: string[]): Promise<void> => {
    const want: Set<string> | 'all' = keys ? new Set(keys) : 'all';
    if (running) {
      if (want === 'all' || queued === 'all') queued = 'all';
      else queued = new Set([...(queued ?? []), ...want]);
      return running;
    }
    running = (async () => {
      let next: Set<string> | 'all' | undefined = want;
      while (next && !disposed) {
        await round(next);
        next = queued;
        queued = undefined;
      }
    })().finally(() => {
      running = undefined;
    });
    return running;
  };

  const unsubscribe = store.onDidChangeServices((keys) => {
    const moved: string[] = [];
    for (const k of keys) {
      const s = store.get(k);
      if (!s) continue;
      const r = revisionsOf(s);
      if (seenRevisions.get(k) !== r) {
        seenRevisions.set(k, r);
        moved.push(k);
      }
    }
    if (moved.length) void refresh(moved);
  });
  const timer = setInterval(() => void refresh(), intervalMs);
  timer.unref?.();
  void refresh();

  return {
    get: (key) => data.get(key),
    onDidChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    refresh,
    setClient(c) {
      current = c;
      void refresh();
    },
    dispose() {
      disposed = true;
      clearInterval(timer);
      unsubscribe();
      listeners.clear();
    },
  };
}
