/**
 * Owns what the views show: the gitops checkout found in the workspace, its layout, and the
 * cluster store (from the lazily loaded backend). Starts after activate() has returned,
 * restarts when a connection setting changes, turns connection states into the welcome
 * views' context keys, and notifies once per problem episode.
 */
// `import =` compiles to a plain require: `import * as` would make esbuild copy every property
// of the vscode API into a namespace object per module, which costs milliseconds at activation.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import vscode = require('vscode');
import path from 'node:path';
import type { ClusterStore, ConnectionState, EnvironmentInfo, ServiceState } from '../cluster';
import { discoverLayout, findGitopsRoot } from '../core/layout';
import type { Layout } from '../core/types';
import type { Backend } from './load';
import type { ObservedTracker } from '../cluster/observed';
import { loadBackend } from './load';
import type { Log } from './log';
import { askModal, showWarning } from './notify';
import { processAlive } from './pid';
import { connectionText, errorText, observedView, redact, welcomeState, type ObservedView, type WelcomeState } from './present';
import { modalAsk, PrometheusHostTrust } from './prometheus-trust';
import { CONNECTION_KEYS, METRICS_KEYS, readSettings, settingValue, type Settings } from './settings';

export type ViewState = WelcomeState | 'loading';

/** What changed: everything (`keys` undefined) or these services. */
export interface ChangeEvent {
  keys?: string[];
}

/** Overrides a started sandbox supplies while it is the workspace's cluster (see sandbox.ts). */
export interface ConnectionOverride {
  kubeconfig: string;
  context?: string;
  gitopsRoot?: string;
  /** The sandbox process: when it is gone, the override is dropped (back to the default kubeconfig). */
  pid?: number;
}

export class Controller implements vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<ChangeEvent>();
  /** Fires when rows or the view state change. */
  readonly onDidChange = this.changeEmitter.event;

  /** Whether the workspace is trusted (main.ts adds the test-only override). */
  trusted: () => boolean = () => vscode.workspace.isTrusted;
  settings: Settings = readSettings(this.trusted());
  root: string | undefined;
  layout: Layout | undefined;
  store: ClusterStore | undefined;
  backend: Backend | undefined;
  private viewState: ViewState = 'loading';
  private generation = 0;
  private starting: Promise<void> | undefined;
  private storeSubscriptions: (() => void)[] = [];
  private notifiedEpisode: number | undefined;
  private lastProblemKey: string | undefined;
  private lastPhase: ConnectionState['phase'] | undefined;
  private override: ConnectionOverride | undefined;
  private overrideWatch: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  /** Observed split per service; undefined when no Prometheus URL is configured. */
  private observed: ObservedTracker | undefined;
  private observedGeneration = 0;
  private readonly hostTrust: PrometheusHostTrust;

  /** `globalState` remembers the hosts a workspace's Prometheus URL may send the kubeconfig token to. */
  constructor(
    private readonly log: Log,
    globalState?: vscode.Memento,
  ) {
    this.hostTrust = new PrometheusHostTrust(globalState, modalAsk(askModal));
    this.disposables.push(
      this.changeEmitter,
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration('kserveCanary')) return;
        const before = this.settings;
        this.settings = readSettings(this.trusted());
        if (CONNECTION_KEYS.some((k) => e.affectsConfiguration(k))) {
          this.log.info('connection settings changed: reconnecting');
          void this.restart();
        } else if (before.statusBarVisible !== this.settings.statusBarVisible) {
          this.changeEmitter.fire({});
        }
        if (!CONNECTION_KEYS.some((k) => e.affectsConfiguration(k)) && METRICS_KEYS.some((k) => e.affectsConfiguration(k))) {
          this.log.info('Prometheus settings changed');
          void this.startObserved();
        }
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => void this.restart()),
    );
  }

  /** Re-reads the settings after trust changed: reconnects when a connection setting now reads differently. */
  reloadSettings(): void {
    const before = this.settings;
    this.settings = readSettings(this.trusted());
    const differs = (keys: readonly string[]) => keys.some((k) => JSON.stringify(settingValue(before, k)) !== JSON.stringify(settingValue(this.settings, k)));
    if (differs(CONNECTION_KEYS)) {
      this.log.info('workspace trust changed which connection settings apply: reconnecting');
      void this.restart();
    } else if (differs(METRICS_KEYS)) {
      void this.startObserved();
    }
  }

  state(): ViewState {
    return this.viewState;
  }

  /** Whether a start has been asked for already. */
  isStarting(): boolean {
    return this.starting !== undefined;
  }

  /** Resolves when the latest start attempt has finished (connected or not), starting if needed. */
  async whenStarted(): Promise<void> {
    if (!this.starting) void this.restart();
    let p: Promise<void> | undefined;
    do {
      p = this.starting;
      await p;
    } while (p !== this.starting);
  }

  connection(): ConnectionState | undefined {
    return this.store?.connection();
  }

  services(): ServiceState[] {
    return this.store?.services() ?? [];
  }

  get(key: string): ServiceState | undefined {
    return this.store?.get(key);
  }

  /** Environments to show: the cluster store's (with namespaces), else the checkout's folders. */
  environments(): EnvironmentInfo[] {
    const fromStore = this.store?.environments() ?? [];
    const seen = new Set(fromStore.map((e) => e.env));
    const wanted = this.settings.environments;
    const extra = (this.layout?.environments ?? [])
      .filter((e) => !seen.has(e.name) && (wanted.length === 0 || wanted.includes(e.name)))
      .map((e) => ({ env: e.name, namespace: '' }));
    return [...fromStore, ...extra];
  }

  /** Models in git, for picking a target while the cluster is not known. */
  gitModels(): { env: string; model: string; configPath: string }[] {
    return (this.layout?.environments ?? []).flatMap((e) => e.models.map((m) => ({ env: e.name, model: m.name, configPath: m.configPath })));
  }

  configPath(env: string, model: string): string | undefined {
    return this.gitModels().find((m) => m.env === env && m.model === model)?.configPath;
  }

  /** Uses a sandbox's kubeconfig (and its gitops clone when the workspace has none) until cleared. */
  setOverride(o: ConnectionOverride | undefined): Promise<void> {
    this.override = o;
    void vscode.commands.executeCommand('setContext', 'kserveCanary.sandboxRunning', o?.pid !== undefined);
    clearInterval(this.overrideWatch);
    this.overrideWatch = undefined;
    const pid = o?.pid;
    if (pid) {
      // When the sandbox process is gone, go back to the default kubeconfig.
      this.overrideWatch = setInterval(() => {
        if (processAlive(pid) || this.override !== o) return;
        this.log.info(`the sandbox (pid ${pid}) has stopped: back to the default kubeconfig`);
        void this.setOverride(undefined);
      }, 1000);
      this.overrideWatch.unref?.();
    }
    return this.restart();
  }

  restart(): Promise<void> {
    const gen = ++this.generation;
    this.starting = this.start(gen).catch((e: unknown) => {
      this.log.error(`start failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    });
    return this.starting;
  }

  private findRoot(): string | undefined {
    const s = this.settings;
    if (s.gitopsRoot) {
      const base = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd();
      return findGitopsRoot(path.resolve(base, s.gitopsRoot), s.deploymentsDir);
    }
    for (const f of vscode.workspace.workspaceFolders ?? []) {
      if (f.uri.scheme !== 'file') continue;
      const found = findGitopsRoot(f.uri.fsPath, s.deploymentsDir);
      if (found) return found;
    }
    return this.override?.gitopsRoot ? findGitopsRoot(this.override.gitopsRoot, s.deploymentsDir) : undefined;
  }

  /** The observed split of a service for the views; undefined when not configured or not measured yet. */
  observedView(key: string): ObservedView | undefined {
    return observedView(this.observed?.get(key), this.get(key), this.backend);
  }

  /**
   * The Prometheus client the settings describe (undefined: no URL), with the kubeconfig's
   * token when allowed: https only, and for a URL from the workspace settings only to a host
   * the user confirmed (asked once, modal).
   */
  async metricsClient(): Promise<Awaited<ReturnType<Backend['metricsFromSettings']>>> {
    const s = this.settings;
    if (!s.prometheusUrl) return undefined;
    const backend = (this.backend ??= await loadBackend());
    const useOverride = this.override && !s.kubeconfig;
    return backend.metricsFromSettings(
      { url: s.prometheusUrl, useKubeconfigToken: s.prometheusUseKubeconfigToken, urlSource: s.prometheusUrlSource },
      {
        kubeconfigPath: useOverride ? this.override!.kubeconfig : s.kubeconfig || undefined,
        context: s.context || (useOverride ? this.override!.context : undefined) || undefined,
        env: process.env,
        confirmHost: (origin) => this.hostTrust.confirm(origin),
      },
    );
  }

  private stopObserved(): void {
    this.observedGeneration++;
    this.observed?.dispose();
    this.observed = undefined;
  }

  /** (Re)creates the observed-split tracker for the current store when a Prometheus URL is set. */
  private async startObserved(): Promise<void> {
    const had = this.observed !== undefined;
    this.stopObserved();
    const gen = this.observedGeneration;
    const store = this.store;
    if (had) this.changeEmitter.fire({});
    if (!store || !this.backend || !this.settings.prometheusUrl) return;
    let client;
    try {
      client = await this.metricsClient();
    } catch (e) {
      this.log.warn(`observed split: ${errorText(e)}`);
      return;
    }
    if (gen !== this.observedGeneration || store !== this.store || !client) return;
    const tracker = this.backend.createObservedTracker(store, client);
    this.observed = tracker;
    tracker.onDidChange((keys) => this.changeEmitter.fire({ keys }));
    this.log.info(`observed split from ${this.settings.prometheusUrl}`);
  }

  private disposeStore(): void {
    this.stopObserved();
    for (const off of this.storeSubscriptions) off();
    this.storeSubscriptions = [];
    this.store?.dispose();
    this.store = undefined;
  }

  private async start(gen: number): Promise<void> {
    const t0 = Date.now();
    this.settings = readSettings(this.trusted());
    this.disposeStore();
    this.setViewState('loading');
    const root = this.findRoot();
    this.root = root;
    this.layout = undefined;
    void vscode.commands.executeCommand('setContext', 'kserveCanary.hasGitops', root !== undefined);
    if (!root) {
      this.log.info('no gitops checkout (a folder holding ' + this.settings.deploymentsDir + '/) in the workspace');
      this.setViewState('no-gitops');
      return;
    }
    try {
      this.layout = await discoverLayout(root, { deploymentsDir: this.settings.deploymentsDir });
      for (const i of this.layout.ignored) this.log.warn(`ignored ${i.path}: ${i.reason}`);
    } catch (e) {
      this.log.error(errorText(e));
      if (gen === this.generation) this.setViewState('no-gitops');
      return;
    }
    if (gen !== this.generation) return;
    this.log.info(`gitops checkout ${root}: ${this.layout.environments.map((e) => `${e.name} (${e.models.length})`).join(', ') || 'no environments'}`);
    const backend = (this.backend ??= await loadBackend());
    if (gen !== this.generation) return;
    const s = this.settings;
    const useOverride = this.override && !s.kubeconfig;
    const store = await backend.createClusterStore({
      settings: {
        kubeconfigPath: useOverride ? this.override!.kubeconfig : s.kubeconfig || undefined,
        context: s.context || (useOverride ? this.override!.context : undefined) || undefined,
        namespacePattern: s.namespacePattern,
        user: s.user || undefined,
        toolingsNamespace: s.toolingsNamespace || undefined,
        environments: s.environments.length ? s.environments : undefined,
      },
      gitops: { root, deploymentsDir: s.deploymentsDir },
      log: {
        info: (m) => this.log.info(m),
        warn: (m) => this.log.warn(m),
        error: (m) => this.log.error(m),
        debug: (m) => this.log.debug(m),
      },
    });
    if (gen !== this.generation) {
      store.dispose();
      return;
    }
    this.store = store;
    // Episodes are counted per store: a new store (new settings) may notify again.
    this.notifiedEpisode = undefined;
    this.lastProblemKey = undefined;
    this.lastPhase = undefined;
    this.storeSubscriptions.push(
      store.onDidChangeServices((keys) => {
        this.updateViewState();
        this.changeEmitter.fire({ keys });
      }),
      store.onDidChangeConnection((c) => this.onConnection(c)),
    );
    this.onConnection(store.connection());
    this.log.info(`backend loaded and store created in ${Date.now() - t0} ms`);
    void this.startObserved();
    await store.ready().catch(() => undefined);
    if (gen === this.generation) this.updateViewState();
  }

  private onConnection(c: ConnectionState): void {
    void vscode.commands.executeCommand('setContext', 'kserveCanary.connected', c.phase === 'connected');
    if (c.phase === 'disconnected' && c.problem) {
      const key = `${c.problem.kind}:${c.problem.message}`;
      if (key !== this.lastProblemKey) this.log.warn(`${connectionText(c)} ${c.problem.hint}`);
      this.lastProblemKey = key;
      const episode = c.episode ?? 0;
      if (this.notifiedEpisode !== episode) {
        this.notifiedEpisode = episode;
        void showWarning(redact(`KServe Canary: ${c.problem.message} ${c.problem.hint}`), 'Show log').then((choice) => {
          if (choice === 'Show log') this.log.show();
        });
      }
    } else if (c.phase === 'connected') {
      if (this.lastProblemKey) this.log.info(connectionText(c));
      this.lastProblemKey = undefined;
    }
    this.updateViewState();
    // Rows show the connection (view message, status bar): redraw when the phase changes only.
    if (c.phase !== this.lastPhase) {
      this.lastPhase = c.phase;
      this.changeEmitter.fire({});
    }
  }

  private updateViewState(): void {
    const c = this.store?.connection();
    if (!this.root) return this.setViewState('no-gitops');
    if (!c || (c.phase === 'idle' && !c.problem) || (c.phase === 'connecting' && this.services().length === 0)) return this.setViewState('loading');
    const hasLive = this.services().some((s) => !s.missing);
    this.setViewState(welcomeState(true, c, hasLive));
  }

  private setViewState(s: ViewState): void {
    if (s === this.viewState) return;
    this.viewState = s;
    void vscode.commands.executeCommand('setContext', 'kserveCanary.state', s);
    this.changeEmitter.fire({});
  }

  /** Re-reads git and relists the cluster. */
  async refresh(): Promise<void> {
    if (!this.store) return this.restart();
    if (this.root) {
      this.layout = await discoverLayout(this.root, { deploymentsDir: this.settings.deploymentsDir }).catch(() => this.layout);
    }
    await this.store.reloadDesired();
    await this.store.refresh();
    this.changeEmitter.fire({});
  }

  dispose(): void {
    clearInterval(this.overrideWatch);
    this.generation++;
    this.disposeStore();
    for (const d of this.disposables) d.dispose();
  }
}
