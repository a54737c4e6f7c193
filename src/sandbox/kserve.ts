/**
 * A KServe-like controller for InferenceServices (domain.md §3).
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
import { createHash } from 'node:crypto';
import type { Store, StoreEvent } from './store';
import { INFERENCE_SERVICES } from './resources';
import { clone, deepEqual, isPlainObject, type KObject } from './types';

export const DEPLOYMENT_MODE_ANNOTATION = 'serving.kserve.io/deploymentMode';
export const TAG_ROUTING_ANNOTATION = 'serving.kserve.io/enable-tag-routing';
export const KSERVE_FINALIZER = 'inferenceservice.finalizers';

export interface Revision {
  name: string;
  /** Fingerprint of the predictor template that produced it. */
  template: string;
  ready: boolean;
  failMessage?: string;
}

interface ServiceMemory {
  uid: string;
  revisions: Revision[];
  latestRolledout?: string;
  previousRolledout?: string;
  /** Inputs of the last reconcile (generation, mode, tag routing, failure). */
  fingerprint?: string;
  /** ModelMesh: the predictor template whose model is loaded. */
  loadedTemplate?: string;
}

export interface KServeSnapshot {
  services: Record<string, ServiceMemory>;
  failing: Record<string, string>;
}

/** How status.deploymentMode is spelled: KServe 0.16+ (`current`) or before (`legacy`). */
export type KServeDialect = 'legacy' | 'current';

type Mode = 'knative' | 'standard' | 'modelmesh';

const MODE_NAMES: Record<KServeDialect, Record<Mode, string>> = {
  current: { knative: 'Knative', standard: 'Standard', modelmesh: 'ModelMesh' },
  legacy: { knative: 'Serverless', standard: 'RawDeployment', modelmesh: 'ModelMesh' },
};

const MODE_BY_NAME = new Map<string, Mode>(
  (Object.values(MODE_NAMES) as Array<Record<Mode, string>>).flatMap((names) => (Object.entries(names) as Array<[Mode, string]>).map(([m, n]) => [n.toLowerCase(), m])),
);

/** The mode an annotation value selects, in either spelling and any case (unknown: the default). */
export function parseDeploymentMode(value: string | undefined): Mode {
  return MODE_BY_NAME.get(value?.trim().toLowerCase() ?? '') ?? 'knative';
}

export interface KServeOptions {
  rolloutDelayMs: number;
  /** Spelling of status.deploymentMode. Default `legacy`. */
  dialect?: KServeDialect;
  /** Base domain for URLs; never resolves. */
  domain: string;
  /** `status.url` override (the sandbox's loopback inference endpoint), when serving inference. */
  serviceUrl?: (namespace: string, name: string) => string;
}

type Condition = { type: string; status: 'True' | 'False' | 'Unknown'; reason?: string; message?: string; lastTransitionTime?: string; severity?: string };

function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (isPlainObject(v)) {
    return `{${Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

export class KServeController {
  private readonly memory = new Map<string, ServiceMemory>();
  private readonly failing = new Map<string, string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly store: Store,
    readonly options: KServeOptions,
  ) {}

  start(): void {
    this.unsubscribe = this.store.subscribe((e) => this.onEvent(e));
    for (const o of this.store.list(INFERENCE_SERVICES)) this.consider(o);
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
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

  /** Reconciles scheduled and not run yet; 0 means KServe has settled (tests wait for it instead of sleeping). */
  get pending(): number {
    return this.timers.size;
  }

  private kick(namespace: string, name: string): void {
    const o = this.store.get(INFERENCE_SERVICES, namespace, name);
    if (o) this.schedule(o, 0);
  }

  private onEvent(e: StoreEvent): void {
    if (e.resource !== INFERENCE_SERVICES) return;
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
    const key = `${o.metadata.namespace}/${o.metadata.name}`;
    if (o.metadata.deletionTimestamp) {
      if ((o.metadata.finalizers ?? []).includes(KSERVE_FINALIZER)) this.schedule(o, 0);
      return;
    }
    const mem = this.memory.get(key);
    if (mem && mem.uid === o.metadata.uid && mem.fingerprint === this.fingerprint(o)) return;
    this.schedule(o, this.options.rolloutDelayMs);
  }

  private schedule(o: KObject, delay: number): void {
    const ns = o.metadata.namespace!;
    const name = o.metadata.name!;
    const key = `${ns}/${name}`;
    if (this.timers.has(key)) {
      if (delay > 0) return;
      clearTimeout(this.timers.get(key));
    }
    const t = setTimeout(() => {
      this.timers.delete(key);
      try {
        this.reconcile(ns, name);
      } catch {
        // conflicts with concurrent writers: the next event schedules another pass
      }
    }, delay);
    this.timers.set(key, t);
  }

  /** Reconcile one service now (tests and seeding use this directly). */
  reconcile(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    const o = this.store.get(INFERENCE_SERVICES, namespace, name);
    if (!o) return;
    if (o.metadata.deletionTimestamp) {
      o.metadata.finalizers = (o.metadata.finalizers ?? []).filter((f) => f !== KSERVE_FINALIZER);
      this.store.update(INFERENCE_SERVICES, o, namespace);
      return;
    }
    let mem = this.memory.get(key);
    if (!mem || mem.uid !== o.metadata.uid) {
      mem = { uid: o.metadata.uid!, revisions: [] };
      this.memory.set(key, mem);
    }
    const mode = parseDeploymentMode(o.metadata.annotations?.[DEPLOYMENT_MODE_ANNOTATION]);
    const status = mode === 'standard' ? this.rawStatus(o) : mode === 'modelmesh' ? this.modelMeshStatus(o, mem) : this.serverlessStatus(o, mem);
    status.deploymentMode = MODE_NAMES[this.options.dialect ?? 'legacy'][mode];
    if (mode !== 'modelmesh') status.observedGeneration = o.metadata.generation;
    mem.fingerprint = this.fingerprint(o);
    const previous = (o.status ?? {}) as Record<string, unknown>;
    carryTransitionTimes(previous.conditions, status.conditions as Condition[]);
    if (deepEqual(previous, status)) return;
    o.status = status;
    this.store.update(INFERENCE_SERVICES, o, namespace, 'status');
  }

  private urls(o: KObject) {
    const ns = o.metadata.namespace!;
    const name = o.metadata.name!;
    const d = this.options.domain;
    return {
      url: this.options.serviceUrl?.(ns, name) ?? `https://${name}-${ns}.${d}`,
      address: `http://${name}.${ns}.svc.cluster.local`,
      predictorUrl: `https://${name}-predictor-${ns}.${d}`,
      predictorAddress: `http://${name}-predictor.${ns}.svc.cluster.local`,
      tagged: (tag: string) => `https://${tag}-${name}-predictor-${ns}.${d}`,
    };
  }

  private serverlessStatus(o: KObject, mem: ServiceMemory): Record<string, unknown> {
    const key = `${o.metadata.namespace}/${o.metadata.name}`;
    const predictor = (isPlainObject(o.spec) && isPlainObject(o.spec.predictor) ? o.spec.predictor : {}) as Record<string, unknown>;
    const { canaryTrafficPercent, ...template } = predictor;
    const fp = stable(template);
    const failure = this.failing.get(key);
    let latest = mem.revisions[mem.revisions.length - 1];
    if (!latest || latest.template !== fp) {
      const n = mem.revisions.length + 1;
      latest = { name: `${o.metadata.name}-predictor-${String(n).padStart(5, '0')}`, template: fp, ready: failure === undefined };
      if (failure !== undefined) latest.failMessage = failure;
      mem.revisions.push(latest);
    } else if (failure === undefined) {
      for (const r of mem.revisions) {
        r.ready = true;
        delete r.failMessage;
      }
    } else if (latest.name !== mem.latestRolledout && latest.ready) {
      latest.ready = false;
      latest.failMessage = failure;
    }
    const ready = [...mem.revisions].reverse().find((r) => r.ready);
    const u = this.urls(o);
    const tagRouting = o.metadata.annotations?.[TAG_ROUTING_ANNOTATION] === 'true';
    const percent = typeof canaryTrafficPercent === 'number' ? canaryTrafficPercent : undefined;
    const traffic: Array<Record<string, unknown>> = [];
    const configurationName = `${o.metadata.name}-predictor`;
    if (ready) {
      // KServe's rule: split against the last rolled-out revision; when the latest ready one
      // already is that (rolled out with 100%, then a canary again: a rollback), against the
      // one rolled out before it.
      let stable = mem.latestRolledout;
      if (stable === ready.name && percent !== undefined && percent < 100) stable = mem.previousRolledout;
      const latestTarget: Record<string, unknown> = { revisionName: ready.name, configurationName, latestRevision: true };
      if (tagRouting) {
        latestTarget.tag = 'latest';
        latestTarget.url = u.tagged('latest');
      }
      if (percent !== undefined && stable) {
        latestTarget.percent = percent;
        traffic.push(latestTarget);
        if (percent < 100) {
          const prev: Record<string, unknown> = { tag: 'prev', revisionName: stable, latestRevision: false, percent: 100 - percent };
          if (tagRouting) prev.url = u.tagged('prev');
          traffic.push(prev);
        }
      } else {
        latestTarget.percent = 100;
        traffic.push(latestTarget);
      }
      // status propagation: a latest ready revision that takes 100% is rolled out
      const byRevision = new Map<string, number>();
      for (const t of traffic) byRevision.set(String(t.revisionName), (byRevision.get(String(t.revisionName)) ?? 0) + Number(t.percent));
      const latestPercent = Number(latestTarget.percent);
      if (mem.latestRolledout !== ready.name) {
        if (latestPercent === 100) {
          mem.previousRolledout = mem.latestRolledout;
          mem.latestRolledout = ready.name;
        }
      } else if (ready === latest && latestPercent < 100 && byRevision.get(ready.name) === 100 && mem.previousRolledout) {
        // traffic split over the same revision after a rollback: the rolled-out one is the previous
        mem.latestRolledout = mem.previousRolledout;
      }
    }
    const latestOk = latest.ready;
    const failMsg = `Revision "${latest.name}" failed with message: ${latest.failMessage ?? ''}.`;
    const bad = (type: string, reason: string): Condition => ({ type, status: 'False', reason, message: failMsg, severity: type === 'Ready' ? undefined : 'Info' });
    const good = (type: string, severity?: string): Condition => ({ type, status: 'True', ...(severity ? { severity } : {}) });
    const routed = !!ready;
    const conditions: Condition[] = [
      latestOk ? good('PredictorReady') : bad('PredictorReady', 'RevisionFailed'),
      routed ? good('PredictorRouteReady') : { type: 'PredictorRouteReady', status: 'Unknown', reason: 'RevisionMissing' },
      latestOk ? good('PredictorConfigurationReady') : bad('PredictorConfigurationReady', 'RevisionFailed'),
      routed ? good('IngressReady') : { type: 'IngressReady', status: 'Unknown', reason: 'RevisionMissing' },
      routed ? good('RoutesReady') : { type: 'RoutesReady', status: 'Unknown', reason: 'RevisionMissing' },
      latestOk ? good('LatestDeploymentReady') : bad('LatestDeploymentReady', 'RevisionFailed'),
      { type: 'Stopped', status: 'False' },
      latestOk && routed ? good('Ready') : bad('Ready', 'RevisionFailed'),
    ];
    for (const c of conditions) if (c.severity === undefined) delete c.severity;
    const components: Record<string, unknown> = {
      latestCreatedRevision: latest.name,
      url: u.predictorUrl,
      restUrl: u.predictorUrl,
      grpcUrl: `${u.predictorUrl.replace(/^https:/, 'grpc:')}:443`,
      address: { url: u.predictorAddress },
      traffic,
    };
    if (ready) components.latestReadyRevision = ready.name;
    if (mem.latestRolledout) components.latestRolledoutRevision = mem.latestRolledout;
    if (mem.previousRolledout) components.previousRolledoutRevision = mem.previousRolledout;
    return {
      url: u.url,
      address: { url: u.address },
      conditions,
      components: { predictor: components },
      modelStatus: {
        transitionStatus: latestOk ? 'UpToDate' : 'BlockedByFailedLoad',
        states: { activeModelState: ready ? 'Loaded' : 'Pending', targetModelState: latestOk ? 'Loaded' : 'FailedToLoad' },
        copies: { failedCopies: latestOk ? 0 : 1, totalCopies: 1 },
        ...(latestOk ? {} : { lastFailureInfo: { reason: 'ModelLoadFailed', message: latest.failMessage ?? '' } }),
      },
    };
  }

  /** modelmesh-serving's status: the loaded model serves until a new target loads; a failing target blocks. */
  private modelMeshStatus(o: KObject, mem: ServiceMemory): Record<string, unknown> {
    const key = `${o.metadata.namespace}/${o.metadata.name}`;
    const predictor = (isPlainObject(o.spec) && isPlainObject(o.spec.predictor) ? o.spec.predictor : {}) as Record<string, unknown>;
    const { canaryTrafficPercent: _ignored, ...template } = predictor;
    const fp = stable(template);
    const failure = this.failing.get(key);
    const blocked = failure !== undefined && mem.loadedTemplate !== fp;
    if (!blocked) mem.loadedTemplate = fp;
    const loaded = mem.loadedTemplate !== undefined;
    const ns = o.metadata.namespace!;
    const grpc = `grpc://modelmesh-serving.${ns}:8033`;
    const rest = `http://modelmesh-serving.${ns}:8008/v2/models/${o.metadata.name}`;
    const conditions: Condition[] = [
      loaded ? { type: 'PredictorReady', status: 'True' } : { type: 'PredictorReady', status: 'False', reason: 'ModelLoadFailed', message: failure },
      loaded ? { type: 'Ready', status: 'True' } : { type: 'Ready', status: 'False', reason: 'ModelLoadFailed', message: failure },
    ];
    return {
      url: grpc,
      address: { url: grpc },
      conditions,
      components: { predictor: { url: grpc, grpcUrl: grpc, restUrl: rest } },
      modelStatus: {
        transitionStatus: blocked ? 'BlockedByFailedLoad' : 'UpToDate',
        states: { activeModelState: loaded ? 'Loaded' : 'FailedToLoad', targetModelState: blocked ? 'FailedToLoad' : 'Loaded' },
        copies: { failedCopies: blocked ? 2 : 0, totalCopies: loaded ? 2 : 0 },
        ...(blocked
          ? { lastFailureInfo: { location: 'mm-7f9c4d-x2x9q', reason: 'ModelLoadFailed', message: failure, modelRevisionName: `${o.metadata.name}__isvc-${createHash('sha256').update(fp).digest('hex').slice(0, 10)}`, time: now() } }
          : {}),
      },
    };
  }

  private rawStatus(o: KObject): Record<string, unknown> {
    const u = this.urls(o);
    const conditions: Condition[] = [
      { type: 'IngressReady', status: 'True' },
      { type: 'PredictorReady', status: 'True' },
      { type: 'Stopped', status: 'False' },
      { type: 'Ready', status: 'True' },
    ];
    return {
      url: u.url,
      address: { url: u.address },
      conditions,
      components: { predictor: { url: u.predictorUrl, restUrl: u.predictorUrl, address: { url: u.predictorAddress } } },
      modelStatus: { transitionStatus: 'UpToDate', states: { activeModelState: 'Loaded', targetModelState: 'Loaded' }, copies: { failedCopies: 0, totalCopies: 1 } },
    };
  }
}

/** Keep lastTransitionTime of conditions whose status did not change; stamp the others. */
function carryTransitionTimes(previous: unknown, next: Condition[]): void {
  const old = Array.isArray(previous) ? (previous as Condition[]) : [];
  const t = now();
  for (const c of next) {
    const p = old.find((x) => x.type === c.type);
    c.lastTransitionTime = p && p.status === c.status && p.lastTransitionTime ? p.lastTransitionTime : t;
  }
}
