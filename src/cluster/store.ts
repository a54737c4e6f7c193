/**
 * The ClusterStore facade: the public API (`createClusterStore`, the `Store` class) over the
 * parts that hold the state, each in its own module:
 * - store-desired.ts: the desired state read from the gitops checkout;
 * - store-connection.ts: kubeconfig, transport, generation, identity and the reflectors;
 * - store-namespaces.ts: environments → namespaces, and the toolings namespace;
 * - store-sinks.ts: the three reflector sinks and the cluster objects they keep;
 * - store-argo.ts: the Argo CD Applications, and the refresh request of follow() (if allowed);
 * - store-join.ts: the joined rows and their coalesced change events;
 * - store-problems.ts: the connection state and its problem episodes.
 *
 * Data flow: reflectors (list+watch) → observations (isvc), ApplicationStates (toolings),
 * Route objects → joinRow() per affected key → ServiceState table → coalesced
 * onDidChangeServices(keys). One update costs one derivation, whatever the number of services.
 */
import type { ClusterLogger, ClusterSettings, ClusterStore, ClusterStoreOptions, EnvironmentInfo, FollowRequest, GrafanaRoute, RefreshOutcome } from './api';
import { followChange } from './follow';
import { grafanaRouteUrl } from './route';
import { ArgoApplications, READING_APPS } from './store-argo';
import { ClusterConnection, resolveTuning, type ConnectionHost, type ReflectorStats, type Tuning } from './store-connection';
import { DesiredSource } from './store-desired';
import { joinRow, ServiceTable, type JoinSources } from './store-join';
import { NamespaceMap } from './store-namespaces';
import { ConnectionTracker, type Health } from './store-problems';
import { ObservedObjects } from './store-sinks';
import { ROUTE } from './transport';
import type { ConnectionState, ServiceState } from './types';

const DEFAULT_ROUTE = 'jukebox-grafana-route';

const silentLog: ClusterLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export class Store implements ClusterStore {
  private settings: ClusterSettings;
  private readonly log: ClusterLogger;
  private readonly tuning: Tuning;
  private disposed = false;
  private stopGitopsWatch: (() => void) | undefined;
  /** Re-reads of the checkout, one at a time. */
  private desiredChain: Promise<void> = Promise.resolve();

  private readonly desired: DesiredSource;
  private readonly namespaces = new NamespaceMap();
  private readonly objects = new ObservedObjects();
  private readonly argo: ArgoApplications;
  private readonly table: ServiceTable;
  private readonly tracker: ConnectionTracker;
  private readonly link: ClusterConnection;
  private readonly sources: JoinSources;

  constructor(opts: ClusterStoreOptions) {
    this.settings = { ...opts.settings };
    this.log = opts.log ?? silentLog;
    this.tuning = resolveTuning(opts.tuning);
    this.desired = new DesiredSource(opts.gitops, this.log);
    this.argo = new ArgoApplications(this.log);
    this.table = new ServiceTable(this.log, this.tuning.coalesceMs);
    this.tracker = new ConnectionTracker(this.log, this.tuning.episodeQuietMs);
    const { namespaces, objects, desired, argo, tracker } = this;
    this.sources = { namespaces, desired, argo, tracker, isvc: (k) => objects.isvc(k), listed: (ns) => objects.listed(ns) };
    const host: ConnectionHost = {
      log: this.log,
      tuning: this.tuning,
      env: opts.env ?? process.env,
      tracker,
      namespaces,
      objects,
      argo,
      desired,
      settings: () => this.settings,
      isDisposed: () => this.disposed,
      recompute: (k) => this.recompute(k),
      recomputeApp: (a) => this.recomputeApp(a),
      recomputeAll: () => this.recomputeAll(),
      health: (id, h) => this.health(id, h),
      appsSettled: () => this.appsSettled(),
      forgetObserved: () => this.forgetObserved(),
    };
    this.link = new ClusterConnection(host);
  }

  // ---- public API ----

  connection(): ConnectionState {
    return this.tracker.state();
  }

  services(): ServiceState[] {
    return this.table.sorted();
  }

  get(key: string): ServiceState | undefined {
    return this.table.get(key);
  }

  find(env: string, model: string): ServiceState | undefined {
    const d = this.desired.entryOfModel(env, model);
    const ns = this.namespaces.namespaceOf(env);
    if (!ns) return undefined;
    return this.table.get(`${ns}/${d ? d.name : model}`);
  }

  environments(): EnvironmentInfo[] {
    return this.namespaces.environments().map((e) => ({ ...e }));
  }

  grafanaRoute(): GrafanaRoute | undefined {
    return grafanaRouteUrl(this.objects.route(this.settings.grafanaRouteName ?? DEFAULT_ROUTE));
  }

  /** Toolings namespace in use (after the `-toolings` / `-mlops` fallback). */
  toolingsNamespace(): string | undefined {
    return this.namespaces.toolingsNamespace;
  }

  onDidChangeServices(listener: (keys: string[]) => void): () => void {
    return this.table.onDidChange(listener);
  }

  onDidChangeConnection(listener: (s: ConnectionState) => void): () => void {
    return this.tracker.onDidChange(listener);
  }

  ready(): Promise<void> {
    return this.link.ready();
  }

  refresh(): Promise<void> {
    return this.link.refresh();
  }

  reloadDesired(): Promise<void> {
    // one at a time, in order: a slow read never overwrites a newer one
    const next = this.desiredChain.then(() => this.readDesired());
    this.desiredChain = next.catch(() => undefined);
    return next;
  }

  async reconnect(settings?: Partial<ClusterSettings>): Promise<void> {
    if (settings) this.settings = { ...this.settings, ...settings };
    await this.link.connect();
  }

  follow(req: FollowRequest): Promise<ServiceState> {
    return followChange(this, req, {
      requestRefresh: (appName) => this.requestArgoRefresh(appName),
      applicationsKnown: () => this.argo.known,
      // the Grafana Route is not needed to follow a change
      problems: () => this.tracker.activeProblems((id) => !id.startsWith(`${ROUTE.plural}@`)),
      toolingsNamespace: () => this.namespaces.toolingsNamespace,
    });
  }

  dispose(): void {
    this.disposed = true;
    this.link.teardown();
    this.stopGitopsWatch?.();
    this.table.dispose();
    this.tracker.dispose();
  }

  /** Reflector counters, for tests and benchmarks. */
  stats(): ReflectorStats[] {
    return this.link.stats();
  }

  async start(): Promise<void> {
    if (this.desired.configured) {
      await this.reloadDesired();
      if (this.tuning.watchGitops) {
        this.stopGitopsWatch = this.desired.watch(this.tuning.kubeconfigDebounceMs, () => {
          if (!this.disposed) void this.reloadDesired();
        });
      }
    }
    // Connecting (loading the client, the first lists) goes on in the background: ready() waits for it.
    if (!this.link.kubeconfig) void this.link.connect();
  }

  // ---- wiring ----

  private async readDesired(): Promise<void> {
    if (!this.desired.configured || this.disposed) return;
    const change = await this.desired.read();
    if (!change) return;
    if (change.envsChanged && !this.settings.environments && this.link.kubeconfig) {
      // The set of namespaces to watch changed: reconnect with the new one.
      await this.reconnect();
      return;
    }
    const touched = new Set<string>();
    for (const [env, name] of change.touched) {
      const ns = this.namespaces.namespaceOf(env);
      if (ns) touched.add(`${ns}/${name}`);
    }
    for (const k of touched) this.recompute(k);
  }

  private recompute(key: string): void {
    this.table.put(key, joinRow(key, this.sources));
  }

  private recomputeAll(): void {
    for (const k of this.table.keys()) this.recompute(k);
  }

  /** Keys an Application `<model>-<env>` concerns. */
  private recomputeApp(appName: string): void {
    for (const e of this.namespaces.environments()) {
      const suffix = `-${e.env}`;
      if (!appName.endsWith(suffix)) continue;
      const model = appName.slice(0, -suffix.length);
      const d = this.desired.entryOfModel(e.env, model);
      this.recompute(`${e.namespace}/${d ? d.name : model}`);
    }
  }

  private health(id: string, h: Health): void {
    if (!this.tracker.health(id, h, this.link.transport?.server)) return;
    // "Not seen yet (connecting/disconnected/forbidden)" reasons depend on the phase and problems.
    for (const [k, s] of this.table.entries()) if (s.missing && !this.objects.listed(s.namespace)) this.recompute(k);
  }

  private appsSettled(): void {
    if (!this.argo.settle()) return;
    for (const [k, st] of this.table.entries()) if (st.verdict === 'unknown' && st.verdictReason === READING_APPS) this.recompute(k);
  }

  /** Another cluster, user or namespaces: drop what was observed and recompute every row it touched. */
  private forgetObserved(): void {
    const keys = new Set([...this.objects.forget(), ...this.table.keys()]);
    const appNames = this.argo.forget();
    for (const k of keys) this.recompute(k);
    for (const a of appNames) this.recomputeApp(a);
    for (const e of this.namespaces.environments()) for (const d of this.desired.entries()) if (d.env === e.env) this.recompute(`${e.namespace}/${d.name}`);
  }

  private async requestArgoRefresh(appName: string): Promise<RefreshOutcome> {
    await this.link.settled(); // right after creation the toolings namespace is not known yet
    return this.argo.requestRefresh(this.link.transport, this.namespaces.toolingsNamespace, appName);
  }
}

export async function createClusterStore(opts: ClusterStoreOptions): Promise<Store> {
  const store = new Store(opts);
  await store.start();
  return store;
}
