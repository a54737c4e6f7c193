/**
 * The store's connection lifecycle: the tuning, the kubeconfig (found, loaded, watched for
 * changes), the transport, the generation that retires an older attempt's sinks, the cluster
 * identity that decides whether what is known is kept, and the reflectors (one cluster-wide
 * InferenceService watch or one per namespace, then the toolings namespace's Applications and
 * Routes). What it finds goes to the host: problems to the tracker, namespaces to the map.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { isCanaryError } from '../core/errors';
import type { ClusterLogger, ClusterSettings, ClusterStoreOptions } from './api';
import { currentTokenFile, findKubeconfig, loadKubeconfig, watchKubeconfigFiles } from './kubeconfig';
import { Reflector } from './reflector';
import { pickToolings } from './store-namespaces';
import type { ConnectionTracker } from './store-problems';
import { appSink, isvcSink, routeSink, type SinkHost } from './store-sinks';
import { APPLICATION, ISVC, ROUTE, Transport } from './transport';

export type Tuning = Required<NonNullable<ClusterStoreOptions['tuning']>>;

export function resolveTuning(t: ClusterStoreOptions['tuning'] = {}): Tuning {
  return {
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

export type ReflectorStats = { id: string; lists: number; watches: number; relistsOnGone: number; failures: number; idleRestarts: number };

/** What a connection attempt reads and whom it tells, beyond the sinks' needs. */
export interface ConnectionHost extends Omit<SinkHost, 'generation'> {
  readonly log: ClusterLogger;
  readonly tuning: Tuning;
  readonly env: NodeJS.ProcessEnv;
  readonly tracker: ConnectionTracker;
  settings(): ClusterSettings;
  isDisposed(): boolean;
  /** Another cluster, user or namespaces than the last attempt's: what was observed is stale. */
  forgetObserved(): void;
}

export class ClusterConnection {
  private gen = 0;
  private kc: KubeConfig | undefined;
  private client: Transport | undefined;
  private reflectors: Reflector[] = [];
  private stopKubeconfigWatch: (() => void) | undefined;
  /** server + context + user + namespaces of the current connection. */
  private identity = '';
  /** The running connection attempt (loading the kubeconfig and the client, starting the watches). */
  private connecting: Promise<void> = Promise.resolve();
  private readonly sinkHost: SinkHost;

  constructor(private readonly host: ConnectionHost) {
    this.sinkHost = { ...host, generation: () => this.gen };
  }

  /** The generation of the current attempt: sinks of older ones ignore what they receive. */
  get generation(): number {
    return this.gen;
  }

  get kubeconfig(): KubeConfig | undefined {
    return this.kc;
  }

  get transport(): Transport | undefined {
    return this.client;
  }

  /** Resolves when the running attempt is over, whatever its outcome. */
  settled(): Promise<void> {
    return this.connecting;
  }

  /** The running attempt is over and every watch has listed once or failed once. */
  async ready(): Promise<void> {
    await this.connecting;
    await Promise.all(this.reflectors.map((r) => r.firstAttempt));
  }

  /** Relists every watch and waits until each has listed again (or the request timeout passed). */
  async refresh(): Promise<void> {
    const before = this.reflectors.map((r) => r.stats.lists);
    for (const r of this.reflectors) r.relist();
    const deadline = Date.now() + this.host.tuning.requestTimeoutMs;
    while (Date.now() < deadline && this.reflectors.some((r, i) => r.stats.lists <= (before[i] ?? 0))) {
      await new Promise((res) => setTimeout(res, 20));
    }
  }

  stats(): ReflectorStats[] {
    return this.reflectors.map((r) => ({ id: r.id, ...r.stats }));
  }

  connect(): Promise<void> {
    const p = this.doConnect();
    this.connecting = p.catch(() => undefined);
    return p;
  }

  teardown(): void {
    for (const r of this.reflectors) r.stop();
    this.reflectors = [];
    this.client?.dispose();
    this.client = undefined;
    this.stopKubeconfigWatch?.();
    this.stopKubeconfigWatch = undefined;
  }

  private async doConnect(): Promise<void> {
    const { host } = this;
    const { log, tuning, tracker } = host;
    const gen = ++this.gen;
    this.teardown();
    tracker.reset();
    const source = findKubeconfig(host.settings().kubeconfigPath, host.env);
    const watch = (files: string[]) => {
      this.stopKubeconfigWatch?.();
      this.stopKubeconfigWatch = watchKubeconfigFiles(files, tuning.kubeconfigDebounceMs, () => {
        if (host.isDisposed()) return;
        log.info('The kubeconfig changed: reconnecting.');
        void this.connect();
      });
    };
    if (tuning.watchKubeconfig && source && source.files.length > 0) watch(source.files);
    if (!source) {
      this.kc = undefined;
      tracker.problemOnly({
        kind: 'no-kubeconfig',
        message: 'No kubeconfig found (KUBECONFIG, ~/.kube/config) and not running in a cluster.',
        hint: 'Log in with `oc login` (or set the kubeconfig setting / --kubeconfig).',
      });
      return;
    }
    let kc: KubeConfig;
    try {
      kc = await loadKubeconfig(source, host.settings().context);
    } catch (e) {
      if (gen !== this.gen) return;
      this.kc = undefined;
      tracker.problemOnly({
        kind: 'no-kubeconfig',
        message: isCanaryError(e) ? e.message : `Could not load the kubeconfig: ${e instanceof Error ? e.message : String(e)}`,
        hint: isCanaryError(e) && e.hint ? e.hint : 'Log in with `oc login`, or check the kubeconfig setting.',
      });
      return;
    }
    if (gen !== this.gen || host.isDisposed()) return;
    // a token file the user entry names is read once per connection: its rewrite (a new login) reconnects
    const tokenFile = currentTokenFile(kc);
    if (tuning.watchKubeconfig && tokenFile && !source.files.includes(tokenFile)) watch([...source.files, tokenFile]);
    this.kc = kc;
    const { namespaces } = host;
    try {
      namespaces.map(host.settings(), kc, host.desired.environments());
    } catch (e) {
      namespaces.clear();
      tracker.problemOnly({
        kind: 'invalid-settings',
        message: e instanceof Error ? e.message : String(e),
        hint: isCanaryError(e) && e.hint ? e.hint : 'Check the environments, user, namespace pattern and toolings namespace settings.',
      });
      host.recomputeAll();
      return;
    }
    let transport: Transport;
    try {
      transport = new Transport(kc, tuning.requestTimeoutMs);
    } catch (e) {
      tracker.problemOnly({ kind: 'tls', message: e instanceof Error ? e.message : String(e), hint: 'Use an https server URL in the kubeconfig.' });
      return;
    }
    this.client = transport;
    if (transport.insecure) log.warn(`TLS verification is OFF for ${transport.server}: the kubeconfig sets insecure-skip-tls-verify.`);
    tracker.set({ phase: 'connecting', context: kc.getCurrentContext(), server: transport.server, problem: undefined });
    const envs = namespaces.environments();
    log.info(`Connecting to ${transport.server} (context ${kc.getCurrentContext()}), watching ${envs.map((e) => e.namespace).join(', ') || 'no namespace'}.`);

    // Same cluster, user and namespaces (a token refresh, an unrelated kubeconfig edit): keep
    // what is known, the relists correct it without flicker. Otherwise it is stale: drop it.
    const identity = [transport.server, kc.getCurrentContext(), kc.getCurrentUser()?.name, ...envs.map((e) => e.namespace)].join('\n');
    if (identity !== this.identity) {
      this.identity = identity;
      host.forgetObserved();
    }

    // InferenceServices first; the toolings namespace (Applications, Route) once it is known.
    host.argo.startReading();
    this.startIsvcReflectors(transport);
    const choice = namespaces.toolingsChoice();
    namespaces.useToolings(choice.length > 1 ? await pickToolings(transport, choice, log) : choice[0]);
    if (gen !== this.gen || host.isDisposed()) return;
    this.startToolingsReflectors(transport);
  }

  private reflectorOptions(optional: boolean) {
    return {
      backoffInitialMs: this.host.tuning.backoffInitialMs,
      backoffMaxMs: this.host.tuning.backoffMaxMs,
      watchIdleMs: this.host.tuning.watchIdleMs,
      optional,
      debug: (m: string) => this.host.log.debug?.(m),
    };
  }

  private namespaceReflector(transport: Transport, ns: string): Reflector {
    return new Reflector(
      transport,
      ISVC,
      ns,
      isvcSink(this.sinkHost, ns, () => undefined),
      this.reflectorOptions(false),
    );
  }

  private startIsvcReflectors(transport: Transport): void {
    const namespaces = this.host.namespaces.environments().map((e) => e.namespace);
    if (namespaces.length >= this.host.tuning.clusterWideFrom) {
      const sink = isvcSink(this.sinkHost, undefined, () => {
        const wide = this.reflectors.find((r) => r.id === `${ISVC.plural}@*`);
        if (wide) this.fallBackToNamespaces(wide, transport);
      });
      this.addReflector(new Reflector(transport, ISVC, undefined, sink, this.reflectorOptions(false)));
    } else {
      for (const ns of namespaces) this.addReflector(this.namespaceReflector(transport, ns));
    }
  }

  private startToolingsReflectors(transport: Transport): void {
    const toolings = this.host.namespaces.toolingsNamespace;
    if (!toolings) return this.host.appsSettled();
    this.addReflector(new Reflector(transport, APPLICATION, toolings, appSink(this.sinkHost, toolings), this.reflectorOptions(true)));
    this.addReflector(new Reflector(transport, ROUTE, toolings, routeSink(this.sinkHost, toolings), this.reflectorOptions(true)));
  }

  private addReflector(r: Reflector): void {
    this.reflectors.push(r);
    r.start();
  }

  /** Cluster-wide watching was refused: fall back to one watch per namespace. */
  private fallBackToNamespaces(wide: Reflector, transport: Transport): void {
    wide.stop();
    this.reflectors = this.reflectors.filter((r) => r !== wide);
    this.host.log.info('Cluster-wide watching is not allowed: watching each namespace instead.');
    for (const e of this.host.namespaces.environments()) this.addReflector(this.namespaceReflector(transport, e.namespace));
  }
}
