/**
 * The configured split over time as the cluster store sees it (issue 16): a small ring buffer
 * of the service's traffic (status.components.predictor.traffic) that the extension keeps while
 * a dashboard panel is open. A snapshot is taken at creation and on every change event of the
 * service whose traffic differs from the last one; dispose() stops listening.
 */
import type { TrafficSnapshot } from '../core/dashboard-series';
import type { ClusterStore } from './api';
import type { ServiceState } from './types';

export interface TrafficHistory {
  /** Oldest first. */
  snapshots(): TrafficSnapshot[];
  dispose(): void;
}

/** The service's configured traffic now, duplicates of a revision merged; undefined while unknown. */
export function trafficOf(s: ServiceState | undefined, t: number): TrafficSnapshot | undefined {
  if (!s || s.missing || !s.traffic.length) return undefined;
  const byRev = new Map<string, number>();
  for (const x of s.traffic) if (x.revisionName && typeof x.percent === 'number') byRev.set(x.revisionName, (byRev.get(x.revisionName) ?? 0) + x.percent);
  if (!byRev.size) return undefined;
  return { t, revisions: [...byRev.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, percent]) => ({ name, percent })) };
}

/** `service`: the row's key `<namespace>/<name>`. Keeps the newest `max` snapshots (default 1000). */
export function createTrafficHistory(
  store: Pick<ClusterStore, 'get' | 'onDidChangeServices'>,
  service: string,
  opts: { max?: number; now?: () => number } = {},
): TrafficHistory {
  const max = Math.max(2, opts.max ?? 1000);
  const now = opts.now ?? Date.now;
  const list: TrafficSnapshot[] = [];
  const take = () => {
    const snap = trafficOf(store.get(service), now());
    if (!snap) return;
    const last = list[list.length - 1];
    if (last && JSON.stringify(last.revisions) === JSON.stringify(snap.revisions)) return;
    list.push(snap);
    if (list.length > max) list.splice(0, list.length - max);
  };
  take();
  const off = store.onDidChangeServices((keys) => {
    if (keys.includes(service)) take();
  });
  return {
    snapshots: () => list.map((s) => ({ t: s.t, revisions: s.revisions.map((r) => ({ ...r })) })),
    dispose: off,
  };
}
