/**
 * Where a dashboard panel's model comes from: the backend's loadDashboard (src/cluster/dashboard.ts)
 * with the cluster store, the Prometheus client the settings describe (undefined: none
 * configured, and the panel says how to set it), the gitops checkout, the configured-split
 * history the store has seen since the panel opened, and the rollout markers of this session.
 */
import type { DashboardModel, DashboardWindow } from '../core/dashboard-model';
import type { DashboardEventLog } from '../core/dashboard-series';
import type { ServiceState } from '../cluster';
import type { Controller } from './controller';
import type { DashboardSource } from './dashboard';
import { serviceLabel } from './present';

type Backend = NonNullable<Controller['backend']>;
type History = ReturnType<Backend['createTrafficHistory']>;
type Metrics = Awaited<ReturnType<Controller['metricsClient']>>;

export function controllerSource(ctl: Controller, events: DashboardEventLog | undefined): (id: string) => DashboardSource {
  return (id) => {
    let history: { store: unknown; h: History } | undefined;
    let metrics: { url: string; store: unknown; client: Promise<Metrics> } | undefined;
    const historyFor = (backend: Backend, s: ServiceState): History | undefined => {
      const store = ctl.store;
      if (!store) return undefined;
      // A new store (reconnect, other settings): the history starts again on it.
      if (history?.store !== store) {
        history?.h.dispose();
        history = { store, h: backend.createTrafficHistory(store, s.key) };
      }
      return history.h;
    };
    const metricsClient = (): Promise<Metrics> => {
      const url = ctl.settings.prometheusUrl;
      if (!metrics || metrics.url !== url || metrics.store !== ctl.store) {
        const client = ctl.metricsClient();
        metrics = { url, store: ctl.store, client };
        // A failure (e.g. declined token host) is asked again on the next load, not cached.
        client.catch(() => {
          if (metrics?.client === client) metrics = undefined;
        });
      }
      return metrics.client;
    };
    return {
      id,
      async load(s: ServiceState, window: DashboardWindow): Promise<DashboardModel> {
        const backend = ctl.backend;
        const store = ctl.store;
        if (!backend || !store) throw new Error('Not connected to a cluster yet.');
        const history = historyFor(backend, s);
        return backend.loadDashboard({
          store,
          metrics: await metricsClient(),
          root: ctl.root,
          env: s.env,
          model: serviceLabel(s),
          window,
          ...(history ? { history } : {}),
          ...(events ? { events } : {}),
          deploymentsDir: ctl.settings.deploymentsDir,
          processEnv: process.env,
        });
      },
      dispose() {
        history?.h.dispose();
        history = undefined;
        metrics = undefined;
      },
    };
  };
}
