/**
 * The messages between the dashboard panel (src/ui/dashboard.ts, extension host) and its webview
 * (src/webview/dashboard.ts). Types only: the host computes every series, the webview draws.
 */
import type { DashboardModel, DashboardWindow } from '../core/dashboard-model';

/** The commands the panel's buttons run (the same commands as the tree's, with the service). */
export const DASHBOARD_ACTIONS = [
  { command: 'kserveCanary.setTraffic', label: 'Set canary traffic', writes: true },
  { command: 'kserveCanary.promote', label: 'Promote', writes: true },
  { command: 'kserveCanary.rollback', label: 'Roll back', writes: true },
  { command: 'kserveCanary.sendTraffic', label: 'Send test traffic', writes: true },
  { command: 'kserveCanary.openGrafana', label: 'Open Grafana', writes: false },
] as const;

export type DashboardAction = (typeof DASHBOARD_ACTIONS)[number]['command'];

/** Host → webview. */
export type ToWebview =
  | { type: 'model'; key: string; model: DashboardModel; trusted: boolean }
  /** The whole load failed (e.g. the service is gone): shown in place of the panel's data. */
  | { type: 'failed'; key: string; window: DashboardWindow; error: string; trusted: boolean };

/** Webview → host. */
export type FromWebview =
  { type: 'ready' } | { type: 'window'; window: DashboardWindow } | { type: 'action'; command: DashboardAction } | { type: 'commit'; sha: string };

/** What the webview keeps across a window reload (vscode.setState; the serializer reads it). */
export interface DashboardViewState {
  key: string;
  window: DashboardWindow;
}
