/**
 * Wires the canary dashboard into the UI: the kserveCanary.openDashboard handler, the panels'
 * model loader and the commit documents. main.ts merges `handlers` with the other commands'.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
import vscode = require('vscode');
import type { DashboardEventLog } from '../core/dashboard-series';
import type { Commands } from './commands';
import type { Controller } from './controller';
import { Dashboards } from './dashboard';
import { registerCommitDocuments } from './dashboard-commit';
import { controllerSource } from './dashboard-source';
import type { Log } from './log';
import type { CanaryStatusBar } from './statusbar';

export interface DashboardCommandDeps {
  context: vscode.ExtensionContext;
  ctl: Controller;
  log: Log;
  commands: Commands;
  statusBar: CanaryStatusBar;
  trusted: () => boolean;
  /** Rollout steps and gate verdicts of this session, for the markers. */
  events?: DashboardEventLog;
}

export function dashboardCommands(
  d: DashboardCommandDeps,
): vscode.Disposable & { panels: Dashboards; handlers: { 'kserveCanary.openDashboard': (arg?: unknown) => Promise<void> } } {
  const panels = new Dashboards({
    ctl: d.ctl,
    log: d.log,
    extensionUri: d.context.extensionUri,
    trusted: d.trusted,
    resolveTarget: (arg, title) => d.commands.resolveTarget(arg, title),
    defaultKey: () => d.statusBar.key(),
    source: controllerSource(d.ctl, d.events),
  });
  const documents = registerCommitDocuments();
  return {
    panels,
    handlers: { 'kserveCanary.openDashboard': (arg?: unknown) => panels.open(arg) },
    dispose: () => {
      panels.dispose();
      documents.dispose();
    },
  };
}
