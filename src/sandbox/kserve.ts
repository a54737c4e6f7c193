/**
 * A KServe-like controller for InferenceServices (domain.md §3), a client of the Kubernetes
 * API: it reacts to the InferenceService informer's events (informer.ts) and writes status
 * through `/status` (kube-client.ts), so it runs unchanged against the embedded server and a
 * real kube-apiserver. What the status says is kserve-status.ts.
 *
 * Revisions: every change of `spec.predictor` other than `canaryTrafficPercent` (in the
 * sandbox the chart's `version` lands in `spec.predictor.model.storageUri` as the image
 * tag) creates a revision `<name>-predictor-000NN`. Traffic follows KServe's rule:
 * with `canaryTrafficPercent` P set and a rolled-out revision R, `{latestRevision: true, P}`
 * plus (P < 100) `{tag: prev, revisionName: R, 100-P}`; otherwise 100% to the latest ready
 * revision. R is the latest rolled-out revision, or the one rolled out before it when the
 * latest ready revision is already rolled out (a canary or a rollback after a promotion).
 * A latest revision that takes 100% becomes the latest rolled-out one. Revisions can be made to
 * fail readiness; Standard (RawDeployment) services get no revisions and no split.
 * Status lags spec by `rolloutDelayMs` (generation > observedGeneration meanwhile).
 *
 * Deployment modes: the annotation is read case-insensitively in both spellings (`Knative` or
 * `Serverless`, `Standard` or `RawDeployment`, `ModelMesh`); absent or unknown, the install's
 * default (Knative: the sandbox stands for an install with Knative configured).
 * `status.deploymentMode` is spelled in the dialect: `current` (KServe 0.16 and later:
 * Knative / Standard / ModelMesh) or `legacy` (before 0.16: Serverless / RawDeployment /
 * ModelMesh). ModelMesh services get modelmesh-serving's status: no revisions, the model's
 * transition (BlockedByFailedLoad with lastFailureInfo while a failing model is the target; the
 * previously loaded one keeps Ready True) and copies.
 */
import type { Informer, InformerEvent } from './informer';
import type { KubeClient } from './kube-client';
import {
  MODE_NAMES,
  TAG_ROUTING_ANNOTATION,
  carryTransitionTimes,
  modelMeshStatus,
  parseDeploymentMode,
  rawStatus,
  serverlessStatus,
  type KServeDialect,
  type Revision,
  type ServiceMemory,
  type UrlOptions,
} from './kserve-status';
import { INFERENCE_SERVICES } from './resources';
import { clone, deepEqual, type KObject } from './types';

export { TAG_ROUTING_ANNOTATION, parseDeploymentMode, type KServeDialect, type Revision } from './kserve-status';
export const DEPLOYMENT_MODE_ANNOTATION = 'serving.kserve.io/deploymentMode';
export const KSERVE_FINALIZER = 'inferenceservice.finalizers';

export interface KServeSnapshot {
  services: Record<string, ServiceMemory>;
  failing: Record<string, string>;
}

export interface KServeOptions extends UrlOptions {
  rolloutDelayMs: number;
  /** Spelling of status.deploymentMode. Default `legacy`. */
  dialect?: KServeDialect;
}

/** The API the controller works through: the client, and the InferenceService informer it reads. */
export interface KServeApi {
  client: KubeClient;
  isvcs: Informer;
}

export class KServeController {
  private readonly memory = new Map<string, ServiceMemory>();
  private readonly failing = new Map<string, string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Reconciles in flight, per service (one at a time each). */
  private readonly running = new Map<string, Promise<void>>();
  private unsubscribe: (() => void) | undefined;
  /** Set by stop(): a reconcile in flight writes nothing more (its last read may be stale by then). */
  private stopped = false;

  constructor(
    private readonly api: KServeApi,
    readonly options: KServeOptions,
  ) {}

  /** React to the informer's events; every cached service is considered once. */
  start(): void {
    if (this.unsubscribe) return;
    this.stopped = false;
    this.unsubscribe = this.api.isvcs.subscribe((e) => this.onEvent(e));
    for (const o of this.api.isvcs.list()) this.consider(o);
  }

  /** Stop reacting; resolves when the reconciles in flight have written. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.all([...this.running.values()]);
  }

  snapshot(): KServeSnapshot {
    return { services: Object.fromEntries(clone([...this.memory])), failing: Object.fromEntries(this.failing) };
  }

  load(s: KServeSnapshot): void {
    this.memory.clear();
    for (const [k, v] of Object.entries(s.services ?? {})) this.memory.set(k, v);
    this.failing.clear();
    for (const [k, v] of Object.entries(s.failing ?? {})) this.failing.set(k, v);
  }

  /** Revisions the controller created for a service (oldest first). */
  revisions(namespace: string, name: string): Revision[] {
    return clone(this.memory.get(`${namespace}/${name}`)?.revisions ?? []);
  }

  /**
   * From now on, new revisions of this service fail readiness with `message`; the current
   * latest revision fails too when it is not rolled out yet. `healRevisions` undoes it.
   */
  failRevisions(namespace: string, name: string, message = 'Container failed with: back-off pulling image'): void {
    this.failing.set(`${namespace}/${name}`, message);
    this.kick(namespace, name);
  }

  /** Stop failing: failed revisions of this service become ready at the next reconcile. */
  healRevisions(namespace: string, name: string): void {
    this.failing.delete(`${namespace}/${name}`);
    this.kick(namespace, name);
  }

  /**
   * Reconciles scheduled or in flight; 0 means KServe has settled on what it has seen (tests
   * wait for it instead of sleeping).
   */
  get pending(): number {
    return this.timers.size + this.running.size;
  }

  private kick(namespace: string, name: string): void {
    if (this.api.isvcs.get(namespace, name)) this.schedule(namespace, name, 0);
  }

  private onEvent(e: InformerEvent): void {
    const key = `${e.object.metadata.namespace}/${e.object.metadata.name}`;
    if (e.type === 'DELETED') {
      this.memory.delete(key);
      const t = this.timers.get(key);
      if (t) clearTimeout(t);
      this.timers.delete(key);
      return;
    }
    this.consider(e.object);
  }

  private fingerprint(o: KObject): string {
    const a = o.metadata.annotations ?? {};
    const key = `${o.metadata.namespace}/${o.metadata.name}`;
    const url = this.options.serviceUrl?.(o.metadata.namespace!, o.metadata.name!) ?? '';
    return [o.metadata.generation, a[DEPLOYMENT_MODE_ANNOTATION] ?? '', a[TAG_ROUTING_ANNOTATION] ?? '', this.failing.get(key) ?? '', url].join('|');
  }

  private consider(o: KObject): void {
    const ns = o.metadata.namespace!;
    const name = o.metadata.name!;
    if (o.metadata.deletionTimestamp) {
      if ((o.metadata.finalizers ?? []).includes(KSERVE_FINALIZER)) this.schedule(ns, name, 0);
      return;
    }
    const mem = this.memory.get(`${ns}/${name}`);
    if (mem && mem.uid === o.metadata.uid && mem.fingerprint === this.fingerprint(o)) return;
    this.schedule(ns, name, this.options.rolloutDelayMs);
  }

  private schedule(ns: string, name: string, delay: number): void {
    const key = `${ns}/${name}`;
    if (this.timers.has(key)) {
      if (delay > 0) return;
      clearTimeout(this.timers.get(key));
    }
    const t = setTimeout(() => {
      this.timers.delete(key);
      // conflicts and connection errors: the next event (or relist) schedules another pass
      this.reconcile(ns, name, true).catch(() => undefined);
    }, delay);
    this.timers.set(key, t);
  }

  /**
   * Reconcile one service now, from a fresh read (seeding and tests call it directly) or, for
   * the scheduled passes, from the informer's copy (a stale one costs a 409 and a fresh read).
   */
  reconcile(namespace: string, name: string, fromCache = false): Promise<void> {
    const key = `${namespace}/${name}`;
    const previous = this.running.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.reconcileNow(namespace, name, fromCache));
    const tracked = next
      .catch(() => undefined)
      .finally(() => {
        if (this.running.get(key) === tracked) this.running.delete(key);
      });
    this.running.set(key, tracked);
    return next;
  }

  private async reconcileNow(namespace: string, name: string, fromCache: boolean): Promise<void> {
    const { client, isvcs } = this.api;
    const fresh = (fromCache ? isvcs.get(namespace, name) : undefined) ?? (await client.get(INFERENCE_SERVICES, namespace, name));
    if (!fresh) return;
    if (fresh.metadata.deletionTimestamp) {
      const written = await client.modify(
        INFERENCE_SERVICES,
        namespace,
        name,
        (o) => {
          if (this.stopped || !(o.metadata.finalizers ?? []).includes(KSERVE_FINALIZER)) return undefined;
          o.metadata.finalizers = (o.metadata.finalizers ?? []).filter((f) => f !== KSERVE_FINALIZER);
          return o;
        },
        { initial: fresh },
      );
      isvcs.record(written);
      return;
    }
    const written = await client.modify(INFERENCE_SERVICES, namespace, name, (o) => this.withStatus(o), { status: true, initial: fresh });
    isvcs.record(written);
  }

  /** The object with the status KServe gives it now, or undefined when the status stays as it is. */
  private withStatus(o: KObject): KObject | undefined {
    if (this.stopped || o.metadata.deletionTimestamp) return undefined;
    const key = `${o.metadata.namespace}/${o.metadata.name}`;
    let mem = this.memory.get(key);
    if (!mem || mem.uid !== o.metadata.uid) {
      mem = { uid: o.metadata.uid!, revisions: [] };
      this.memory.set(key, mem);
    }
    const failure = this.failing.get(key);
    const mode = parseDeploymentMode(o.metadata.annotations?.[DEPLOYMENT_MODE_ANNOTATION]);
    const status =
      mode === 'standard'
        ? rawStatus(o, this.options)
        : mode === 'modelmesh'
          ? modelMeshStatus(o, mem, failure)
          : serverlessStatus(o, mem, failure, this.options);
    status.deploymentMode = MODE_NAMES[this.options.dialect ?? 'legacy'][mode];
    if (mode !== 'modelmesh') status.observedGeneration = o.metadata.generation;
    mem.fingerprint = this.fingerprint(o);
    const previous = (o.status ?? {}) as Record<string, unknown>;
    carryTransitionTimes(previous.conditions, status.conditions as Parameters<typeof carryTransitionTimes>[1]);
    if (deepEqual(previous, status)) return undefined;
    o.status = status;
    return o;
  }
}
