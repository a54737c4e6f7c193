/**
 * The canary dashboard panels (issue 16): one WebviewPanel per service (env/namespace/name),
 * revealed again when already open, restored after a window reload (the serializer in
 * extension.ts hands the panel to restore()), and refreshed about every 5 s while visible only.
 * The extension host computes the model (DashboardLoader); the webview (src/webview) draws it.
 * Its buttons run the same commands as the tree, with the service, so the same confirmations and
 * trust rules apply.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
import vscode = require('vscode');
import type { ServiceState } from '../cluster';
import { DASHBOARD_WINDOWS, type DashboardModel, type DashboardWindow } from '../core/dashboard-model';
import { CanaryError } from '../core/errors';
import { DASHBOARD_ACTIONS, type DashboardViewState, type FromWebview, type ToWebview } from '../webview/protocol';
import type { Controller } from './controller';
import { showCommit } from './dashboard-commit';
import { dashboardHtml } from './dashboard-html';
import { DASHBOARD_VIEW_TYPE } from './ids';
import type { Log } from './log';
import { showError } from './notify';
import { errorText, serviceLabel } from './present';

export const REFRESH_MS = 5000;

/** Computes one panel's models (production: the backend's loadDashboard, dashboard-source.ts); disposed with the panel. */
export interface DashboardSource {
  id: string;
  load(state: ServiceState, window: DashboardWindow): Promise<DashboardModel>;
  dispose(): void;
}

export interface DashboardDeps {
  ctl: Controller;
  log: Log;
  extensionUri: vscode.Uri;
  trusted: () => boolean;
  /** The service a command argument names, else a quick pick (Commands.resolveTarget). */
  resolveTarget: (arg: unknown, title: string) => Promise<{ env: string; model: string; state: ServiceState | undefined } | undefined>;
  /** The pinned, else selected, service. */
  defaultKey: () => string | undefined;
  source: (id: string) => DashboardSource;
}

/** Test-only view of an open panel (testapi.ts). */
export interface DashboardSnapshot {
  id: string;
  visible: boolean;
  window: DashboardWindow;
  /** Models computed for it (each one a set of Prometheus queries when configured). */
  loads: number;
  /** Whether a refresh is scheduled. */
  timer: boolean;
  model: DashboardModel | undefined;
  error: string | undefined;
}

/** Live resources of all panels, to prove that closing them leaks nothing. */
export interface DashboardResources {
  panels: number;
  timers: number;
  listeners: number;
}

/** `env/namespace/name`. */
export function dashboardId(s: Pick<ServiceState, 'env' | 'key'>): string {
  return `${s.env}/${s.key}`;
}

/** What the panel shows of a service changes when this does (the observed tracker's ticks do not count). */
function signature(s: ServiceState | undefined): string {
  return s ? JSON.stringify([s.traffic, s.verdict, s.verdictReason, s.desired?.percent, s.desired?.commit, s.application?.syncStatus, s.missing]) : '';
}

class DashboardPanel {
  loads = 0;
  model: DashboardModel | undefined;
  error: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private again = false;
  private disposed = false;
  private seen = '';
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly source: DashboardSource;

  constructor(
    readonly id: string,
    readonly panel: vscode.WebviewPanel,
    public window: DashboardWindow,
    private readonly d: DashboardDeps,
    private readonly res: DashboardResources,
    private readonly onDisposed: (p: DashboardPanel) => void,
  ) {
    res.panels++;
    this.source = d.source(id);
    this.listen(this.source);
    const dist = vscode.Uri.joinPath(d.extensionUri, 'dist', 'webview');
    panel.webview.options = { enableScripts: true, enableCommandUris: false, localResourceRoots: [dist] };
    panel.iconPath = vscode.Uri.joinPath(d.extensionUri, 'media', 'canary.svg');
    panel.webview.html = dashboardHtml({
      cspSource: panel.webview.cspSource,
      scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'dashboard.js')).toString(),
      styleUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'dashboard.css')).toString(),
      title: panel.title,
    });
    this.listen(panel.webview.onDidReceiveMessage((m: FromWebview) => void this.onMessage(m)));
    this.listen(panel.onDidChangeViewState(() => (panel.visible ? this.refresh() : this.stopTimer())));
    // A whole-view change (Refresh, connection, settings) reloads; a service change only when it shows here.
    this.listen(
      d.ctl.onDidChange((e) => {
        if (!e.keys || signature(this.state()) !== this.seen) this.refresh();
      }),
    );
    this.listen(panel.onDidDispose(() => this.dispose()));
  }

  private listen(d: vscode.Disposable): void {
    this.res.listeners++;
    this.subscriptions.push({
      dispose: () => {
        this.res.listeners--;
        d.dispose();
      },
    });
  }

  private state(): ServiceState | undefined {
    const key = this.id.slice(this.id.indexOf('/') + 1);
    const s = this.d.ctl.get(key);
    return s && dashboardId(s) === this.id ? s : undefined;
  }

  get scheduled(): boolean {
    return this.timer !== undefined;
  }

  private stopTimer(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.res.timers--;
  }

  private schedule(): void {
    this.stopTimer();
    if (this.disposed || !this.panel.visible) return;
    this.res.timers++;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.res.timers--;
      this.refresh();
    }, REFRESH_MS);
  }

  /** Loads and posts the model now, unless hidden; one load at a time (a request meanwhile runs once after it). */
  refresh(): void {
    if (this.disposed || !this.panel.visible) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.stopTimer();
    this.running = true;
    void this.loadOnce().finally(() => {
      this.running = false;
      if (this.again) {
        this.again = false;
        this.refresh();
      } else this.schedule();
    });
  }

  private async loadOnce(): Promise<void> {
    const s = this.state();
    this.seen = signature(s);
    const trusted = this.d.trusted();
    if (!s) {
      this.error =
        this.d.ctl.connection()?.phase === 'connected'
          ? `No InferenceService ${this.id} on the cluster: it may have been deleted, or its environment is no longer watched.`
          : 'Waiting for the cluster connection; the dashboard fills in when the service is known.';
      this.post({ type: 'failed', key: this.id, window: this.window, error: this.error, trusted });
      return;
    }
    this.loads++;
    try {
      const model = await this.source.load(s, this.window);
      if (this.disposed) return;
      this.model = model;
      this.error = undefined;
      this.post({ type: 'model', key: this.id, model, trusted });
    } catch (e) {
      this.error = errorText(e);
      this.d.log.warn(`dashboard ${this.id}: ${this.error}`);
      this.post({ type: 'failed', key: this.id, window: this.window, error: this.error, trusted });
    }
  }

  private post(m: ToWebview): void {
    if (!this.disposed) void this.panel.webview.postMessage(m);
  }

  private async onMessage(m: FromWebview): Promise<void> {
    try {
      if (m.type === 'ready') this.refresh();
      else if (m.type === 'window' && DASHBOARD_WINDOWS.includes(m.window)) {
        this.window = m.window;
        this.refresh();
      } else if (m.type === 'action' && DASHBOARD_ACTIONS.some((a) => a.command === m.command)) {
        const s = this.state();
        if (!s) return;
        // Open Grafana with {env, model} offers the editor tab; the others take the service key.
        await vscode.commands.executeCommand(m.command, m.command === 'kserveCanary.openGrafana' ? { env: s.env, model: serviceLabel(s) } : s.key);
        this.refresh();
      } else if (m.type === 'commit') {
        await this.showCommit(m.sha);
      }
    } catch (e) {
      void showError(`Canary dashboard: ${errorText(e)}`);
    }
  }

  /** Only a commit the panel was sent: the webview cannot name arbitrary refs. */
  private async showCommit(sha: string): Promise<void> {
    const e = this.model?.events.find((x) => x.kind === 'commit' && x.sha === sha);
    const s = this.state();
    const root = this.d.ctl.root;
    const file = s && root ? this.d.ctl.configPath(s.env, serviceLabel(s)) : undefined;
    if (!e || !root || !file)
      throw new CanaryError('not-found', 'no-commit', `Commit ${sha.slice(0, 7)} is not one of this dashboard's markers, or the gitops checkout is not open.`);
    await showCommit(root, file, sha, `config.yaml @ ${sha.slice(0, 7)}: ${e.message ?? e.title}`);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.stopTimer();
    for (const s of this.subscriptions.splice(0)) s.dispose();
    this.res.panels--;
    this.onDisposed(this);
    this.panel.dispose();
  }
}

export class Dashboards implements vscode.Disposable {
  private readonly panels = new Map<string, DashboardPanel>();
  readonly resources: DashboardResources = { panels: 0, timers: 0, listeners: 0 };

  constructor(private readonly d: DashboardDeps) {}

  /** kserveCanary.openDashboard: a row, a key, {env, model}; from the palette the pinned or selected service, else a pick. */
  async open(arg: unknown): Promise<void> {
    try {
      const target = await this.d.resolveTarget(arg ?? this.d.defaultKey(), 'Open canary dashboard');
      if (!target) return;
      const s = target.state;
      if (!s || s.missing) {
        throw new CanaryError(
          'not-found',
          'not-on-cluster',
          `${target.model} in ${target.env} is not on the cluster (or not connected yet), so it has no traffic to chart.`,
          'Check the connection (Show log), or sync the Argo CD Application.',
        );
      }
      const id = dashboardId(s);
      const open = this.panels.get(id);
      if (open) {
        open.panel.reveal();
        return;
      }
      const panel = vscode.window.createWebviewPanel(DASHBOARD_VIEW_TYPE, this.title(s), vscode.ViewColumn.Active, {
        enableScripts: true,
        retainContextWhenHidden: false,
      });
      this.add(id, panel, '1h');
    } catch (e) {
      this.d.log.error(`Open canary dashboard failed: ${errorText(e)}`);
      void showError(`Open canary dashboard: ${errorText(e)}`);
    }
  }

  /** A panel VS Code kept over a window reload, with the state its webview saved. */
  async restore(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const st = state as Partial<DashboardViewState> | undefined;
    const id = typeof st?.key === 'string' && /^[^/]+\/[^/]+\/[^/]+$/.test(st.key) ? st.key : undefined;
    if (!id || this.panels.has(id)) {
      panel.dispose();
      return;
    }
    const window = st?.window && DASHBOARD_WINDOWS.includes(st.window) ? st.window : '1h';
    await this.d.ctl.whenStarted();
    this.add(id, panel, window);
  }

  private title(s: ServiceState): string {
    return `Canary · ${serviceLabel(s)} · ${s.env}`;
  }

  private add(id: string, panel: vscode.WebviewPanel, window: DashboardWindow): void {
    const p = new DashboardPanel(id, panel, window, this.d, this.resources, (x) => {
      if (this.panels.get(x.id) === x) this.panels.delete(x.id);
    });
    this.panels.set(id, p);
  }

  snapshot(): DashboardSnapshot[] {
    return [...this.panels.values()].map((p) => ({
      id: p.id,
      visible: p.panel.visible,
      window: p.window,
      loads: p.loads,
      timer: p.scheduled,
      model: p.model,
      error: p.error,
    }));
  }

  dispose(): void {
    for (const p of [...this.panels.values()]) p.dispose();
  }
}
