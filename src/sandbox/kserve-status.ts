/**
 * What KServe writes into an InferenceService's status, as pure functions of the object and
 * the controller's memory of it (kserve.ts owns the memory and the API calls): revisions and
 * the traffic split of Knative (Serverless) services, modelmesh-serving's status for ModelMesh,
 * and the plain status of Standard (RawDeployment) ones; conditions keep their
 * lastTransitionTime while their status holds.
 */
import { createHash } from 'node:crypto';
import { isPlainObject, type KObject } from './types';

export const TAG_ROUTING_ANNOTATION = 'serving.kserve.io/enable-tag-routing';

export interface Revision {
  name: string;
  /** Fingerprint of the predictor template that produced it. */
  template: string;
  ready: boolean;
  failMessage?: string;
}

export interface ServiceMemory {
  uid: string;
  revisions: Revision[];
  latestRolledout?: string;
  previousRolledout?: string;
  /** Inputs of the last reconcile (generation, mode, tag routing, failure). */
  fingerprint?: string;
  /** ModelMesh: the predictor template whose model is loaded. */
  loadedTemplate?: string;
}

/** How status.deploymentMode is spelled: KServe 0.16+ (`current`) or before (`legacy`). */
export type KServeDialect = 'legacy' | 'current';

export type Mode = 'knative' | 'standard' | 'modelmesh';

export const MODE_NAMES: Record<KServeDialect, Record<Mode, string>> = {
  current: { knative: 'Knative', standard: 'Standard', modelmesh: 'ModelMesh' },
  legacy: { knative: 'Serverless', standard: 'RawDeployment', modelmesh: 'ModelMesh' },
};

const MODE_BY_NAME = new Map<string, Mode>(
  (Object.values(MODE_NAMES) as Array<Record<Mode, string>>).flatMap((names) =>
    (Object.entries(names) as Array<[Mode, string]>).map(([m, n]) => [n.toLowerCase(), m]),
  ),
);

/** The mode an annotation value selects, in either spelling and any case (unknown: the default). */
export function parseDeploymentMode(value: string | undefined): Mode {
  return MODE_BY_NAME.get(value?.trim().toLowerCase() ?? '') ?? 'knative';
}

/** Where the status's URLs point. */
export interface UrlOptions {
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

export function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

function urls(o: KObject, opts: UrlOptions) {
  const ns = o.metadata.namespace!;
  const name = o.metadata.name!;
  const d = opts.domain;
  return {
    url: opts.serviceUrl?.(ns, name) ?? `https://${name}-${ns}.${d}`,
    address: `http://${name}.${ns}.svc.cluster.local`,
    predictorUrl: `https://${name}-predictor-${ns}.${d}`,
    predictorAddress: `http://${name}-predictor.${ns}.svc.cluster.local`,
    tagged: (tag: string) => `https://${tag}-${name}-predictor-${ns}.${d}`,
  };
}

/** Knative (Serverless): revisions, the canary split and the conditions of the latest one. */
export function serverlessStatus(o: KObject, mem: ServiceMemory, failure: string | undefined, opts: UrlOptions): Record<string, unknown> {
  const predictor = (isPlainObject(o.spec) && isPlainObject(o.spec.predictor) ? o.spec.predictor : {}) as Record<string, unknown>;
  const { canaryTrafficPercent, ...template } = predictor;
  const fp = stable(template);
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
  const u = urls(o, opts);
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
  const bad = (type: string, reason: string): Condition => ({
    type,
    status: 'False',
    reason,
    message: failMsg,
    severity: type === 'Ready' ? undefined : 'Info',
  });
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
export function modelMeshStatus(o: KObject, mem: ServiceMemory, failure: string | undefined): Record<string, unknown> {
  const predictor = (isPlainObject(o.spec) && isPlainObject(o.spec.predictor) ? o.spec.predictor : {}) as Record<string, unknown>;
  const { canaryTrafficPercent: _ignored, ...template } = predictor;
  const fp = stable(template);
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
        ? {
            lastFailureInfo: {
              location: 'mm-7f9c4d-x2x9q',
              reason: 'ModelLoadFailed',
              message: failure,
              modelRevisionName: `${o.metadata.name}__isvc-${createHash('sha256').update(fp).digest('hex').slice(0, 10)}`,
              time: now(),
            },
          }
        : {}),
    },
  };
}

/** Standard (RawDeployment): no revisions, no traffic. */
export function rawStatus(o: KObject, opts: UrlOptions): Record<string, unknown> {
  const u = urls(o, opts);
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
    modelStatus: {
      transitionStatus: 'UpToDate',
      states: { activeModelState: 'Loaded', targetModelState: 'Loaded' },
      copies: { failedCopies: 0, totalCopies: 1 },
    },
  };
}

/** Keep lastTransitionTime of conditions whose status did not change; stamp the others. */
export function carryTransitionTimes(previous: unknown, next: Condition[]): void {
  const old = Array.isArray(previous) ? (previous as Condition[]) : [];
  const t = now();
  for (const c of next) {
    const p = old.find((x) => x.type === c.type);
    c.lastTransitionTime = p && p.status === c.status && p.lastTransitionTime ? p.lastTransitionTime : t;
  }
}
