/**
 * Where the dashboard's model comes from: the backend's loadDashboard (src/cluster/dashboard.ts),
 * given the store, the Prometheus client the settings describe, the gitops checkout and the
 * configured-split history the store has seen.
 */
import type { ServiceState } from '../cluster';
import { DASHBOARD_WINDOWS, type DashboardModel, type DashboardWindow } from '../core/dashboard-model';
import type { Controller } from './controller';
import type { DashboardLoader } from './dashboard';
import { serviceLabel } from './present';

const WINDOW_MS: Record<DashboardWindow, number> = { '15m': 15 * 60_000, '1h': 3600_000, '6h': 6 * 3600_000, '24h': 24 * 3600_000 };

/** TEMPORARY until src/cluster/dashboard.ts lands: the header and the current configured split only. */
function interimModel(s: ServiceState, window: DashboardWindow, now: number): DashboardModel {
  const from = now - WINDOW_MS[window];
  const flat = (v: number) => [{ t: from, v }, { t: now, v }];
  const none = { ok: false as const, error: 'Not computed yet.' };
  return {
    header: {
      service: serviceLabel(s),
      env: s.env,
      namespace: s.namespace,
      verdict: s.verdict,
      reason: s.verdictReason,
      revisions: s.traffic.filter((t) => t.revisionName).map((t) => ({ name: t.revisionName!, percent: t.percent ?? 0, ...(t.tag ? { tag: t.tag } : {}), latest: t.latestRevision === true })),
      ...(s.desired?.percent !== undefined ? { desiredPercent: s.desired.percent } : {}),
      ...(s.application?.syncStatus ? { argoSync: s.application.syncStatus } : {}),
    },
    window,
    from,
    to: now,
    stepMs: Math.max(15_000, WINDOW_MS[window] / 240),
    desired: none,
    configured: s.traffic.filter((t) => t.revisionName).map((t) => ({ revision: t.revisionName!, points: flat(t.percent ?? 0) })),
    observed: none,
    requestRate: none,
    errorRate: none,
    p95: none,
    events: [],
    at: now,
  };
}

export function controllerLoader(_ctl: Controller): DashboardLoader {
  return async (s, window) => {
    if (!DASHBOARD_WINDOWS.includes(window)) throw new Error(`Unknown window ${window}`);
    return interimModel(s, window, Date.now());
  };
}
