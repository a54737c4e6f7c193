/**
 * The ClusterStore: connection, reflectors, the joined model and its change events.
 *
 * Data flow: reflectors (list+watch) → observations (isvc), ApplicationStates (toolings),
 * Route objects → joinService() per affected key → ServiceState map → coalesced
 * onDidChangeServices(keys). One update costs one derivation, whatever the number of services.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { isCanaryError } from '../core/errors';
import { isDnsLabel } from '../core/names';
import type {
  ClusterLogger,
  ClusterSettings,
  ClusterStore,
  ClusterStoreOptions,
  EnvironmentInfo,
  FollowRequest,
  GitopsSource,
  GrafanaRoute,
} from './api';
import { classifyError, isDisconnecting, problemKey, RequestError } from './classify';
import { observeApplication, observeInferenceService, joinService, type IsvcObservation } from './derive';
import { loadDesired, watchGitops, type DesiredEntry } from './desired';
import { followChange } from './follow';
import {
  checkNamespaceName,
  contextNamespace,
  contextUserName,
  findKubeconfig,
  loadKubeconfig,
  namespaceFor,
  parseNamespace,
  watchKubeconfigFiles,
} from './kubeconfig';
import { Reflector, type ReflectorSink } from './reflector';
import { grafanaRouteUrl } from './route';
import { APPLICATION, ISVC, ROUTE, Transport } from './transport';
import type { ApplicationState, ClusterProblem, ConnectionState, ServiceState } from './types';

const DEFAULT_PATTERN = '{user}-{env}';
const DEFAULT_ROUTE = 'jukebox-grafana-route';
const READING_APPS = 'Reading the Argo CD Applications before judging drift.';
const SEVERITY: ClusterProblem['kind'][] = ['no-kubeconfig', 'invalid-settings', 'unauthorized', 'tls', 'unreachable', 'timeout', 'server-error', 'forbidden', 'other'];

const silentLog: ClusterLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

type Tuning = Required<NonNullable<ClusterStoreOptions['tuning']>>;

function meta(o: Record<string, unknown>): { name: string; namespace: string; resourceVersion?: string } {
  const m = (o.metadata ?? {}) as { name?: unknown; namespace?: unknown; resourceVersion?: unknown };
  return {
    name: typeof m.name === 'string' ? m.name : '',
    namespace: typeof m.namespace === 'string' ? m.namespace : '',
    resourceVersion: typeof m.resourceVersion === 'string' ? m.resourceVersion : undefined,
  };
}

function sameState(a: ServiceState | undefined, b: ServiceState | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

export class Store implements ClusterStore {
  private settings: ClusterSettings;
  private readonly gitops: GitopsSource | undefined;
  private readonly log: ClusterLogger;
  private readonly env: NodeJS.ProcessEnv;
  private readonly tuning: Tuning;

  private generation = 0;
  private kc: KubeConfig | undefined;
  private transport: Transport | undefined;
  private reflectors: Reflector[] = [];
  private stopKubeconfigWatch: (() => void) | undefined;
  private stopGitopsWatch: (() => void) | undefined;
  private toolings: string | undefined;
  private envs: EnvironmentInfo[] = [];
  private nsToEnv = new Map<string, string>();
  private listedNamespaces = new Set<string>();
  private appsListed = false;

  private readonly isvcs = new Map<string, IsvcObservation>();
  private readonly apps = new Map<string, ApplicationState>();
  private readonly routes = new Map<string, unknown>();
  private desired = new Map<string, DesiredEntry>();
  private desiredByModel = new Map<string, DesiredEntry>();
  private desiredEnvs: string[] = [];
  private desiredCommit: string | undefined;
  private desiredUpstream: string | undefined;
  private desiredRemote: string | undefined;
  private desiredProblems = new Set<string>();
  /** `<env>\0<model folder>` → why its config.yaml could not be read. */
  private brokenConfigs = new Map<string, string>();

  private readonly states = new Map<string, ServiceState>();
  private sorted: ServiceState[] | undefined;
  private readonly pending = new Set<string>();
  private flushTimer: { cancel(): void } | undefined;
  private lastFlush = 0;
  private readonly serviceListeners = new Set<(keys: string[]) => void>();
  private readonly connectionListeners = new Set<(s: ConnectionState) => void>();

  private conn: ConnectionState = { phase: 'idle', context: undefined, server: undefined, since: new Date().toISOString(), problem: undefined, episode: 0 };
  private readonly problems = new Map<string, ClusterProblem>();
  private readonly healthy = new Set<string>();
  private episodeOpen = false;
  private episodeStart: string | undefined;
  private episodeLogged = new Set<string>();
  private quietTimer: NodeJS.Timeout | undefined;
  private disposed = false;

  constructor(opts: ClusterStoreOptions) {
    this.settings = { ...opts.settings };
    this.gitops = opts.gitops;
    this.log = opts.log ?? silentLog;
    this.env = opts.env ?? process.env;
    const t = opts.tuning ?? {};
    this.tuning = {
      coalesceMs: t.coalesceMs ?? 50,
      backoffInitialMs: t.backoffInitialMs ?? 1000,
      backoffMaxMs: t.backoffMaxMs ?? 30000,
      requestTimeoutMs: t.requestTimeoutMs ?? 30000,
      watchIdleMs: t.watchIdleMs ?? 90000,
      kubeconfigDebounceMs: t.kubeconfigDebounceMs ?? 300,
      episodeQuietMs: t.episodeQuietMs ?? 15000,
      clusterWideFrom: t.clusterWideFrom ?? 4,
      watchKubeconfig: t.watchKubeconfig ?? true,
      watchGitops: t.watchGitops ?? true,
    };
  }

  // ---- public API ----

  connection(): ConnectionState {
    return { ...this.conn };
  }

  services(): ServiceState[] {
    this.sorted ??= [...this.states.values()].sort((a, b) => a.env.localeCompare(b.env) || a.name.localeCompare(b.name));
    return this.sorted.slice();
  }

  get(key: string): ServiceState | undefined {
    return this.states.get(key);
  }

  find(env: string, model: string): ServiceState | undefined {
    const d = this.desiredByModel.get(`${env}\0${model}`);
    const ns = this.namespaceOf(env);
    if (!ns) return undefined;
    return this.states.get(`${ns}/${d ? d.name : model}`);
  }

  environments(): EnvironmentInfo[] {
    return this.envs.map((e) => ({ ...e }));
  }

  grafanaRoute(): GrafanaRoute | undefined {
    return grafanaRouteUrl(this.routes.get(this.settings.grafanaRouteName ?? DEFAULT_ROUTE));
  }

  /** Toolings namespace in use (after the `-toolings` / `-mlops` fallback). */
  toolingsNamespace(): string | undefined {
    return this.toolings;
  }

  onDidChangeServices(listener: (keys: string[]) => void): () => void {
    this.serviceListeners.add(listener);
    return () => this.serviceListeners.delete(listener);
  }

  onDidChangeConnection(listener: (s: ConnectionState) => void): () => void {
    this.connectionListeners.add(listener);
    return () => this.connectionListeners.delete(listener);
  }

  async ready(): Promise<void> {
    await this.connecting;
    await Promise.all(this.reflectors.map((r) => r.firstAttempt));
  }

  /** The running connection attempt (loading the kubeconfig and the client, starting the watches). */
  private connecting: Promise<void> = Promise.resolve();

  async refresh(): Promise<void> {
    const before = this.reflectors.map((r) => r.stats.lists);
    for (const r of this.reflectors) r.relist();
    const deadline = Date.now() + this.tuning.requestTimeoutMs;
    while (Date.now() < deadline && this.reflectors.some((r, i) => r.stats.lists <= (before[i] ?? 0))) {
      await new Promise((res) => setTimeout(res, 20));
    }
  }

  reloadDesired(): Promise<void> {
    // one at a time, in order: a slow read never overwrites a newer one
    const next = this.desiredChain.then(() => this.readDesired());
    this.desiredChain = next.catch(() => undefined);
    return next;
  }

  private desiredChain: Promise<void> = Promise.resolve();

  private async readDesired(): Promise<void> {
    if (!this.gitops || this.disposed) return;
    let snap;
    try {
      snap = await loadDesired(this.gitops);
    } catch (e) {
      this.log.warn(`Could not read the gitops checkout ${this.gitops.root}: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    // each unreadable config is reported once (the checkout is re-read on every change)
    const problems = new Set(snap.problems.map((p) => `Skipped ${p.env}/${p.model}: ${p.message}`));
    for (const line of problems) if (!this.desiredProblems.has(line)) this.log.warn(line);
    this.desiredProblems = problems;
    const brokenBefore = this.brokenConfigs;
    this.brokenConfigs = new Map(snap.problems.map((p) => [`${p.env}\0${p.model}`, p.message]));
    const before = new Set(this.desired.keys());
    const oldDesired = this.desired;
    this.desired = new Map(snap.entries.map((d) => [`${d.env}\0${d.name}`, d]));
    this.desiredByModel = new Map(snap.entries.map((d) => [`${d.env}\0${d.model}`, d]));
    const commitChanged = this.desiredCommit !== snap.commit || this.desiredUpstream !== snap.upstream || this.desiredRemote !== snap.remote;
    this.desiredCommit = snap.commit;
    this.desiredUpstream = snap.upstream;
    this.desiredRemote = snap.remote;
    const envsChanged = snap.environments.join('\0') !== this.desiredEnvs.join('\0');
    this.desiredEnvs = snap.environments;
    if (envsChanged && !this.settings.environments && this.kc) {
      // The set of namespaces to watch changed: reconnect with the new one.
      await this.reconnect();
      return;
    }
    const touched = new Set<string>();
    for (const k of new Set([...before, ...this.desired.keys(), ...brokenBefore.keys(), ...this.brokenConfigs.keys()])) {
      const a = oldDesired.get(k);
      const b = this.desired.get(k);
      if (commitChanged || JSON.stringify(a) !== JSON.stringify(b)) {
        const [env, name] = k.split('\0');
        const ns = this.namespaceOf(env);
        if (ns) touched.add(`${ns}/${name}`);
      }
    }
    for (const k of touched) this.recompute(k);
  }

  async reconnect(settings?: Partial<ClusterSettings>): Promise<void> {
    if (settings) this.settings = { ...this.settings, ...settings };
    await this.connect();
  }

  follow(req: FollowRequest): Promise<ServiceState> {
    return followChange(this, req, {
      requestRefresh: (appName) => this.requestArgoRefresh(appName),
      applicationsKnown: () => this.appsListed,
      // the Grafana Route is not needed to follow a change
      problems: () => [...this.problems].filter(([id]) => !id.startsWith(`${ROUTE.plural}@`)).map(([, p]) => p),
      toolingsNamespace: () => this.toolings,
    });
  }

  dispose(): void {
    this.disposed = true;
    this.teardown();
    this.stopGitopsWatch?.();
    this.flushTimer?.cancel();
    if (this.quietTimer) clearTimeout(this.quietTimer);
    this.serviceListeners.clear();
    this.connectionListeners.clear();
  }

  /** Reflector counters, for tests and benchmarks. */
  stats(): { id: string; lists: number; watches: number; relistsOnGone: number; failures: number; idleRestarts: number }[] {
    return this.reflectors.map((r) => ({ id: r.id, ...r.stats }));
  }

  // ---- connection ----

  async start(): Promise<void> {
    if (this.gitops) {
      await this.reloadDesired();
      if (this.tuning.watchGitops) {
        this.stopGitopsWatch = watchGitops(this.gitops, this.tuning.kubeconfigDebounceMs, () => {
          if (!this.disposed) void this.reloadDesired();
        });
      }
    }
    // Connecting (loading the client, the first lists) goes on in the background: ready() waits for it.
    if (!this.kc) void this.connect();
  }

  private teardown(): void {
    for (const r of this.reflectors) r.stop();
    this.reflectors = [];
    this.transport?.dispose();
    this.transport = undefined;
    this.stopKubeconfigWatch?.();
    this.stopKubeconfigWatch = undefined;
  }

  private connect(): Promise<void> {
    const p = this.doConnect();
    this.connecting = p.catch(() => undefined);
    return p;
  }

  private async doConnect(): Promise<void> {
    const gen = ++this.generation;
    this.teardown();
    this.problems.clear();
    this.healthy.clear();
    const source = findKubeconfig(this.settings.kubeconfigPath, this.env);
    if (this.tuning.watchKubeconfig && source && source.files.length > 0) {
      this.stopKubeconfigWatch = watchKubeconfigFiles(source.files, this.tuning.kubeconfigDebounceMs, () => {
        if (this.disposed) return;
        this.log.info('The kubeconfig changed: reconnecting.');
        void this.connect();
      });
    }
    if (!source) {
      this.kc = undefined;
      this.setProblemOnly({
        kind: 'no-kubeconfig',
        message: 'No kubeconfig found (KUBECONFIG, ~/.kube/config) and not running in a cluster.',
        hint: 'Log in with `oc login` (or set the kubeconfig setting / --kubeconfig).',
      });
      return;
    }
    let kc: KubeConfig;
    try {
      kc = await loadKubeconfig(source, this.settings.context);
    } catch (e) {
      if (gen !== this.generation) return;
      this.kc = undefined;
      this.setProblemOnly({
        kind: 'no-kubeconfig',
        message: isCanaryError(e) ? e.message : `Could not load the kubeconfig: ${e instanceof Error ? e.message : String(e)}`,
        hint: isCanaryError(e) && e.hint ? e.hint : 'Log in with `oc login`, or check the kubeconfig setting.',
      });
      return;
    }
    if (gen !== this.generation || this.disposed) return;
    this.kc = kc;
    try {
      this.mapNamespaces(kc);
    } catch (e) {
      this.envs = [];
      this.nsToEnv = new Map();
      this.toolings = undefined;
      this.setProblemOnly({
        kind: 'invalid-settings',
        message: e instanceof Error ? e.message : String(e),
        hint: isCanaryError(e) && e.hint ? e.hint : 'Check the environments, user, namespace pattern and toolings namespace settings.',
      });
      for (const k of [...this.states.keys()]) this.recompute(k);
      return;
    }
    let transport: Transport;
    try {
      transport = new Transport(kc, this.tuning.requestTimeoutMs);
    } catch (e) {
      this.setProblemOnly({ kind: 'tls', message: e instanceof Error ? e.message : String(e), hint: 'Use an https server URL in the kubeconfig.' });
      return;
    }
    this.transport = transport;
    if (transport.insecure) this.log.warn(`TLS verification is OFF for ${transport.server}: the kubeconfig sets insecure-skip-tls-verify.`);
    this.setConnection({ phase: 'connecting', context: kc.getCurrentContext(), server: transport.server, problem: undefined });
    this.log.info(`Connecting to ${transport.server} (context ${kc.getCurrentContext()}), watching ${this.envs.map((e) => e.namespace).join(', ') || 'no namespace'}.`);

    // Same cluster, user and namespaces (a token refresh, an unrelated kubeconfig edit): keep
    // what is known, the relists correct it without flicker. Otherwise it is stale: drop it.
    const identity = [transport.server, kc.getCurrentContext(), kc.getCurrentUser()?.name, ...this.envs.map((e) => e.namespace)].join('\n');
    if (identity !== this.identity) {
      this.identity = identity;
      this.listedNamespaces.clear();
      this.appsListed = false;
      const keys = new Set([...this.isvcs.keys(), ...this.states.keys()]);
      this.isvcs.clear();
      const appNames = [...this.apps.keys()];
      this.apps.clear();
      this.routes.clear();
      for (const k of keys) this.recompute(k);
      for (const a of appNames) this.recomputeApp(a);
      for (const e of this.envs) for (const d of this.desired.values()) if (d.env === e.env) this.recompute(`${e.namespace}/${d.name}`);
    }

    // InferenceServices first; the toolings namespace (Applications, Route) once it is known.
    this.appsPending = true;
    this.startIsvcReflectors(transport);
    this.toolings = this.toolingsChoice.length > 1 ? await this.pickToolings(transport, this.toolingsChoice) : this.toolingsChoice[0];
    if (gen !== this.generation || this.disposed) return;
    this.startToolingsReflectors(transport);
  }

  /** Until the Applications were read (or failed to be), "no Application" proves nothing. */
  private appsPending = false;

  /**
   * Environments → namespaces, and the toolings namespace candidates. Every name that becomes
   * a namespace (a path segment of the requests) is checked first: a setting giving `..` or
   * `kube:admin-test` is refused here (CanaryError) and never reaches a URL.
   */
  private mapNamespaces(kc: KubeConfig): void {
    const pattern = this.settings.namespacePattern ?? DEFAULT_PATTERN;
    const ctxNs = contextNamespace(kc);
    for (const env of this.settings.environments ?? []) {
      if (!isDnsLabel(env)) checkNamespaceName(env, 'an entry of the environments setting', 'Fix the environments setting: environment names are folder names under model-deployments/, e.g. "test".');
    }
    if (this.settings.user !== undefined && !isDnsLabel(this.settings.user)) {
      checkNamespaceName(this.settings.user, 'the user setting', 'Fix the user setting: it is the {user} part of namespaces like user1-test.');
    }
    const known = this.settings.environments ?? this.desiredEnvs;
    const parsed = ctxNs ? parseNamespace(pattern, ctxNs, known) : undefined;
    const user = this.settings.user ?? (parsed?.user || undefined) ?? contextUserName(kc) ?? '';
    const userFrom = this.settings.user !== undefined ? 'the user setting' : parsed?.user ? `the context namespace ${ctxNs}` : `the kubeconfig user ${JSON.stringify(user)}`;
    let envs = this.settings.environments ?? (this.desiredEnvs.length ? this.desiredEnvs : parsed?.env ? [parsed.env] : []);
    envs = [...new Set(envs)];
    const context = kc.getCurrentContext();
    const fixPattern = 'Check the namespace pattern and user settings (e.g. pattern {user}-{env}, user user1).';
    this.envs = envs.map((env) => ({
      env,
      namespace: checkNamespaceName(namespaceFor(pattern, user, env), `pattern ${pattern} with user from ${userFrom}, environment ${env}`, fixPattern),
      context,
    }));
    this.nsToEnv = new Map(this.envs.map((e) => [e.namespace, e.env]));
    if (this.settings.toolingsNamespace !== undefined) {
      this.toolingsChoice = [checkNamespaceName(this.settings.toolingsNamespace, 'the toolingsNamespace setting', 'Fix the toolings namespace setting (the namespace of the Argo CD Applications, e.g. user1-toolings), or clear it.')];
    } else if (user) {
      const fix = 'Set the toolings namespace setting (the namespace of the Argo CD Applications), or the user setting.';
      this.toolingsChoice = [checkNamespaceName(`${user}-toolings`, `the default {user}-toolings with user from ${userFrom}`, fix), `${user}-mlops`].filter(isDnsLabel);
    } else {
      this.toolingsChoice = [];
    }
  }

  /** The toolings namespace, or the candidates probed in order (`{user}-toolings`, `{user}-mlops`). */
  private toolingsChoice: string[] = [];
  /** server + context + user + namespaces of the current connection. */
  private identity = '';

  private async pickToolings(transport: Transport, [primary, legacy]: string[]): Promise<string> {
    const has = async (ns: string) => {
      try {
        return (await transport.list(APPLICATION, ns)).items.length > 0;
      } catch {
        return false;
      }
    };
    if (await has(primary)) return primary;
    if (await has(legacy)) {
      this.log.info(`Using ${legacy} as the toolings namespace (${primary} holds no Argo CD Application).`);
      return legacy;
    }
    return primary;
  }

  private reflectorOptions(optional: boolean) {
    return {
      backoffInitialMs: this.tuning.backoffInitialMs,
      backoffMaxMs: this.tuning.backoffMaxMs,
      watchIdleMs: this.tuning.watchIdleMs,
      optional,
      debug: (m: string) => this.log.debug?.(m),
    };
  }

  private startIsvcReflectors(transport: Transport): void {
    const namespaces = this.envs.map((e) => e.namespace);
    if (namespaces.length >= this.tuning.clusterWideFrom) {
      const wide = new Reflector(transport, ISVC, undefined, this.isvcSink(undefined, transport), this.reflectorOptions(false));
      this.addReflector(wide);
    } else {
      for (const ns of namespaces) this.addReflector(new Reflector(transport, ISVC, ns, this.isvcSink(ns, transport), this.reflectorOptions(false)));
    }
  }

  private startToolingsReflectors(transport: Transport): void {
    if (!this.toolings) return this.appsSettled();
    this.addReflector(new Reflector(transport, APPLICATION, this.toolings, this.appSink(), this.reflectorOptions(true)));
    this.addReflector(new Reflector(transport, ROUTE, this.toolings, this.routeSink(), this.reflectorOptions(true)));
  }

  private appsSettled(): void {
    if (!this.appsPending) return;
    this.appsPending = false;
    for (const [k, st] of this.states) if (st.verdict === 'unknown' && st.verdictReason === READING_APPS) this.recompute(k);
  }

  private addReflector(r: Reflector): void {
    this.reflectors.push(r);
    r.start();
  }

  /** Cluster-wide watching was refused: fall back to one watch per namespace. */
  private fallBackToNamespaces(wide: Reflector, transport: Transport): void {
    wide.stop();
    this.reflectors = this.reflectors.filter((r) => r !== wide);
    this.log.info('Cluster-wide watching is not allowed: watching each namespace instead.');
    for (const e of this.envs) this.addReflector(new Reflector(transport, ISVC, e.namespace, this.isvcSink(e.namespace, transport), this.reflectorOptions(false)));
  }

  // ---- sinks ----

  private isvcSink(namespace: string | undefined, transport: Transport): ReflectorSink {
    const gen = this.generation;
    const id = `${ISVC.plural}@${namespace ?? '*'}`;
    const inScope = (ns: string) => (namespace === undefined ? this.nsToEnv.has(ns) : ns === namespace);
    return {
      replace: (items) => {
        if (gen !== this.generation) return;
        const seen = new Set<string>();
        for (const it of items) {
          const o = it as Record<string, unknown>;
          const m = meta(o);
          if (!inScope(m.namespace)) continue;
          const key = `${m.namespace}/${m.name}`;
          seen.add(key);
          this.upsertIsvc(key, o, m.resourceVersion);
        }
        const scopeNs = namespace === undefined ? [...this.nsToEnv.keys()] : [namespace];
        for (const ns of scopeNs) this.listedNamespaces.add(ns);
        for (const key of [...this.isvcs.keys()]) {
          const ns = key.slice(0, key.indexOf('/'));
          if ((namespace === undefined ? this.nsToEnv.has(ns) : ns === namespace) && !seen.has(key)) {
            this.isvcs.delete(key);
            this.recompute(key);
          }
        }
        // Services known only from git become "missing" now that their namespace is listed.
        for (const d of this.desired.values()) {
          const ns = this.namespaceOf(d.env);
          if (ns && scopeNs.includes(ns)) this.recompute(`${ns}/${d.name}`);
        }
      },
      upsert: (o) => {
        if (gen !== this.generation) return;
        const m = meta(o);
        if (!inScope(m.namespace)) return;
        this.upsertIsvc(`${m.namespace}/${m.name}`, o, m.resourceVersion);
      },
      remove: (o) => {
        if (gen !== this.generation) return;
        const m = meta(o);
        const key = `${m.namespace}/${m.name}`;
        if (this.isvcs.delete(key)) this.recompute(key);
      },
      health: (h) => {
        if (gen !== this.generation) return;
        if (!h.ok && namespace === undefined && h.error instanceof RequestError && h.error.status === 403) {
          const wide = this.reflectors.find((r) => r.id === id);
          if (wide) this.fallBackToNamespaces(wide, transport);
          return;
        }
        this.health(id, h);
      },
    };
  }

  private upsertIsvc(key: string, o: Record<string, unknown>, rv: string | undefined): void {
    const prev = this.isvcs.get(key);
    if (prev && rv !== undefined && prev.resourceVersion === rv) return;
    this.isvcs.set(key, observeInferenceService(o));
    this.recompute(key);
  }

  private appSink(): ReflectorSink {
    const gen = this.generation;
    const id = `${APPLICATION.plural}@${this.toolings}`;
    return {
      replace: (items) => {
        if (gen !== this.generation) return;
        const next = new Map<string, ApplicationState>();
        for (const it of items) {
          const a = observeApplication(it);
          if (a.name) next.set(a.name, a);
        }
        const names = new Set([...this.apps.keys(), ...next.keys()]);
        const changed: string[] = [];
        for (const n of names) {
          if (JSON.stringify(this.apps.get(n)) !== JSON.stringify(next.get(n))) changed.push(n);
        }
        this.apps.clear();
        for (const [n, a] of next) this.apps.set(n, a);
        const firstList = !this.appsListed;
        this.appsListed = true;
        this.appsPending = false;
        for (const n of changed) this.recomputeApp(n);
        if (firstList) for (const k of [...this.states.keys()]) this.recompute(k);
      },
      upsert: (o) => {
        if (gen !== this.generation) return;
        const a = observeApplication(o);
        if (JSON.stringify(this.apps.get(a.name)) === JSON.stringify(a)) return;
        this.apps.set(a.name, a);
        this.recomputeApp(a.name);
      },
      remove: (o) => {
        if (gen !== this.generation) return;
        const name = meta(o).name;
        if (this.apps.delete(name)) this.recomputeApp(name);
      },
      health: (h) => {
        if (gen !== this.generation) return;
        this.health(id, h);
        if (!h.ok) this.appsSettled();
      },
    };
  }

  private routeSink(): ReflectorSink {
    const gen = this.generation;
    const id = `${ROUTE.plural}@${this.toolings}`;
    return {
      replace: (items) => {
        if (gen !== this.generation) return;
        this.routes.clear();
        for (const it of items) this.routes.set(meta(it as Record<string, unknown>).name, it);
      },
      upsert: (o) => {
        if (gen === this.generation) this.routes.set(meta(o).name, o);
      },
      remove: (o) => {
        if (gen === this.generation) this.routes.delete(meta(o).name);
      },
      health: (h) => {
        if (gen === this.generation) this.health(id, h);
      },
    };
  }

  // ---- the model ----

  private namespaceOf(env: string): string | undefined {
    return this.envs.find((e) => e.env === env)?.namespace;
  }

  /** Keys an Application `<model>-<env>` concerns. */
  private recomputeApp(appName: string): void {
    for (const e of this.envs) {
      const suffix = `-${e.env}`;
      if (!appName.endsWith(suffix)) continue;
      const model = appName.slice(0, -suffix.length);
      const d = this.desiredByModel.get(`${e.env}\0${model}`);
      this.recompute(`${e.namespace}/${d ? d.name : model}`);
    }
  }

  private recompute(key: string): void {
    const slash = key.indexOf('/');
    const ns = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const env = this.nsToEnv.get(ns);
    const obs = this.isvcs.get(key);
    const d = env !== undefined ? this.desired.get(`${env}\0${name}`) : undefined;
    let next: ServiceState | undefined;
    if (env !== undefined && (obs || d)) {
      const app = this.apps.get(`${d ? d.model : name}-${env}`);
      next = joinService(obs, {
        env,
        namespace: ns,
        name,
        ...(d ? { model: d.model } : {}),
        ...(app ? { application: app } : {}),
        ...(d ? { desired: { percent: d.percent, version: d.version, commit: this.desiredCommit, ...(this.desiredUpstream ? { upstream: this.desiredUpstream } : {}), ...(this.desiredRemote ? { remote: this.desiredRemote } : {}) } } : {}),
      });
      if (next.verdict === 'drift' && !app && this.appsPending) next = { ...next, verdict: 'unknown', verdictReason: READING_APPS };
      const broken = !d && this.brokenConfigs.get(`${env}\0${name}`);
      if (broken) next = { ...next, verdict: 'unknown', verdictReason: `Its config.yaml in git could not be read: ${broken}` };
      if (!obs && !this.listedNamespaces.has(ns)) {
        const forbidden = [...this.problems.values()].find((p) => p.kind === 'forbidden' && p.namespace === ns);
        const why = forbidden ? forbidden.message : `Not seen in the cluster yet (${this.conn.phase === 'disconnected' ? 'disconnected' : 'connecting'}).`;
        next = { ...next, verdict: 'unknown', verdictReason: why };
      }
    }
    const prev = this.states.get(key);
    if (sameState(prev, next)) return;
    if (next) this.states.set(key, next);
    else this.states.delete(key);
    this.sorted = undefined;
    this.pending.add(key);
    this.scheduleFlush();
  }

  /**
   * Leading edge: the first change after a quiet window goes out as soon as the current
   * batch of watch events is processed (a single change is not delayed); changes within the window after a flush
   * are collected and go out together at its end (a burst becomes a few events, not thousands).
   */
  private scheduleFlush(): void {
    if (this.flushTimer) return;
    const since = Date.now() - this.lastFlush;
    if (since >= this.tuning.coalesceMs) {
      // after the current batch of watch events (one network chunk) is processed
      let cancelled = false;
      queueMicrotask(() => {
        if (!cancelled) this.flush();
      });
      this.flushTimer = { cancel: () => (cancelled = true) };
    } else {
      const t = setTimeout(() => this.flush(), this.tuning.coalesceMs - since);
      this.flushTimer = { cancel: () => clearTimeout(t) };
    }
  }

  private flush(): void {
    this.flushTimer = undefined;
    this.lastFlush = Date.now();
    if (this.pending.size === 0) return;
    const keys = [...this.pending];
    this.pending.clear();
    for (const l of this.serviceListeners) {
      try {
        l(keys);
      } catch (e) {
        this.log.error(`A listener of service changes failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  // ---- connection state and episodes ----

  private setConnection(patch: Partial<ConnectionState>): void {
    const next: ConnectionState = { ...this.conn, ...patch };
    if (next.phase !== this.conn.phase) next.since = new Date().toISOString();
    if (next.phase === 'disconnected') next.disconnectedSince = this.episodeStart ?? next.since;
    else delete next.disconnectedSince;
    next.episode = this.conn.episode ?? 0;
    if (patch.episode !== undefined) next.episode = patch.episode;
    if (JSON.stringify(next) === JSON.stringify(this.conn)) return;
    this.conn = next;
    for (const l of this.connectionListeners) {
      try {
        l({ ...next });
      } catch (e) {
        this.log.error(`A listener of the connection failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  /** A problem that is not tied to a reflector (no kubeconfig): its own episode. */
  private setProblemOnly(p: ClusterProblem): void {
    this.problems.clear();
    this.problems.set('kubeconfig', p);
    this.updateEpisodes();
    this.setConnection({ phase: 'idle', context: undefined, server: undefined, problem: p });
  }

  private health(id: string, h: { ok: true } | { ok: false; error: unknown }): void {
    if (h.ok) {
      this.problems.delete(id);
      this.healthy.add(id);
    } else {
      this.problems.set(id, classifyError(h.error, this.transport?.server));
    }
    this.updateEpisodes();
    const active = [...this.problems.values()].sort((a, b) => SEVERITY.indexOf(a.kind) - SEVERITY.indexOf(b.kind));
    const disconnected = active.some((p) => isDisconnecting(p.kind));
    const phase = disconnected ? 'disconnected' : this.healthy.size > 0 ? 'connected' : 'connecting';
    const wasListedAll = this.conn.phase;
    this.setConnection({ phase, problem: active[0] });
    if (wasListedAll !== phase || !h.ok) {
      // "Not seen yet (connecting/disconnected/forbidden)" reasons depend on the phase and problems.
      for (const [k, s] of this.states) if (s.missing && !this.listedNamespaces.has(s.namespace)) this.recompute(k);
    }
  }

  private updateEpisodes(): void {
    const active = [...this.problems.values()];
    if (active.length > 0) {
      if (this.quietTimer) {
        clearTimeout(this.quietTimer);
        this.quietTimer = undefined;
      }
      if (!this.episodeOpen) {
        this.episodeOpen = true;
        this.episodeStart = new Date().toISOString();
        this.episodeLogged = new Set();
        this.conn = { ...this.conn, episode: (this.conn.episode ?? 0) + 1 };
      }
      for (const p of active) {
        const key = problemKey(p);
        if (this.episodeLogged.has(key)) continue;
        this.episodeLogged.add(key);
        this.log.warn(`${p.message} ${p.hint}`);
      }
    } else if (this.episodeOpen && !this.quietTimer) {
      this.quietTimer = setTimeout(() => {
        this.quietTimer = undefined;
        this.episodeOpen = false;
        this.episodeStart = undefined;
        this.log.info(`Connection to ${this.conn.server ?? 'the cluster'} is fine again.`);
      }, this.tuning.episodeQuietMs);
      this.quietTimer.unref?.();
    }
  }

  // ---- Argo CD ----

  private async requestArgoRefresh(appName: string): Promise<void> {
    await this.connecting; // right after creation the toolings namespace is not known yet
    if (!this.transport || !this.toolings) return;
    try {
      await this.transport.mergePatch(APPLICATION, this.toolings, appName, { metadata: { annotations: { 'argocd.argoproj.io/refresh': 'normal' } } });
    } catch (e) {
      this.log.info(`Could not ask Argo CD to refresh ${appName} (${e instanceof Error ? e.message.slice(0, 120) : String(e)}); it will notice the commit by itself.`);
    }
  }
}

export async function createClusterStore(opts: ClusterStoreOptions): Promise<Store> {
  const store = new Store(opts);
  await store.start();
  return store;
}
