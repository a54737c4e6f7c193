/**
 * Builders of InferenceService and Application objects as KServe / Argo CD report them,
 * for the derivation tests. Each state of domain.md §3 has a builder.
 */
export interface IsvcOpts {
  name?: string;
  namespace?: string;
  /** spec.predictor.canaryTrafficPercent; undefined = absent. */
  spec?: number;
  traffic?: { revisionName?: string; percent?: number; tag?: string; latestRevision?: boolean; url?: string }[];
  ready?: 'True' | 'False' | 'Unknown' | undefined;
  readyMessage?: string;
  extraConditions?: { type: string; status: string; message?: string; reason?: string }[];
  latestCreated?: string;
  latestReady?: string;
  latestRolledout?: string;
  previousRolledout?: string;
  mode?: string;
  modeAnnotation?: string;
  generation?: number;
  observedGeneration?: number;
  url?: string;
  noStatus?: boolean;
  resourceVersion?: string;
}

export function isvc(o: IsvcOpts = {}): Record<string, unknown> {
  const name = o.name ?? 'jukebox';
  const namespace = o.namespace ?? 'user1-test';
  const predictorSpec: Record<string, unknown> = { model: { modelFormat: { name: 'onnx' } } };
  if (o.spec !== undefined) predictorSpec.canaryTrafficPercent = o.spec;
  const annotations: Record<string, string> = {};
  if (o.modeAnnotation) annotations['serving.kserve.io/deploymentMode'] = o.modeAnnotation;
  const meta: Record<string, unknown> = {
    name,
    namespace,
    generation: o.generation ?? 2,
    creationTimestamp: '2026-11-20T10:00:00Z',
    resourceVersion: o.resourceVersion ?? '100',
    annotations,
  };
  const out: Record<string, unknown> = {
    apiVersion: 'serving.kserve.io/v1beta1',
    kind: 'InferenceService',
    metadata: meta,
    spec: { predictor: predictorSpec },
  };
  if (o.noStatus) return out;
  const conditions: Record<string, unknown>[] = [];
  if (o.ready !== undefined) {
    const c: Record<string, unknown> = { type: 'Ready', status: o.ready };
    if (o.readyMessage) c.message = o.readyMessage;
    conditions.push(c);
  }
  for (const c of o.extraConditions ?? []) conditions.push({ ...c });
  const predictor: Record<string, unknown> = { traffic: o.traffic ?? [], url: `http://${name}-predictor.${namespace}.svc` };
  if (o.latestCreated) predictor.latestCreatedRevision = o.latestCreated;
  if (o.latestReady) predictor.latestReadyRevision = o.latestReady;
  if (o.latestRolledout) predictor.latestRolledoutRevision = o.latestRolledout;
  if (o.previousRolledout) predictor.previousRolledoutRevision = o.previousRolledout;
  const status: Record<string, unknown> = {
    url: o.url ?? `https://${name}-${namespace}.apps.example.com`,
    conditions,
    components: { predictor },
    observedGeneration: o.observedGeneration ?? o.generation ?? 2,
  };
  if (o.mode) status.deploymentMode = o.mode;
  out.status = status;
  return out;
}

const R1 = 'jukebox-predictor-00001';
const R2 = 'jukebox-predictor-00002';
const R3 = 'jukebox-predictor-00003';

/** Canary split: prev (R1) 100-P, latest (R2) P. */
export function split(p: number, o: IsvcOpts = {}): Record<string, unknown> {
  return isvc({
    spec: p,
    ready: 'True',
    traffic: [
      { revisionName: R2, percent: p, latestRevision: true, tag: 'latest' },
      { revisionName: R1, percent: 100 - p, latestRevision: false, tag: 'prev' },
    ],
    latestCreated: R2,
    latestReady: R2,
    latestRolledout: R1,
    previousRolledout: R1,
    ...o,
  });
}

/** No canary (promoted): latest R2 100%. `prevZero` adds the `prev` target at 0 some clusters show. */
export function promoted(o: IsvcOpts & { prevZero?: boolean } = {}): Record<string, unknown> {
  const traffic: IsvcOpts['traffic'] = [{ revisionName: R2, percent: 100, latestRevision: true }];
  if (o.prevZero) traffic.push({ revisionName: R1, percent: 0, tag: 'prev', latestRevision: false });
  return isvc({ ready: 'True', traffic, latestCreated: R2, latestReady: R2, latestRolledout: R2, previousRolledout: R1, ...o });
}

/** canaryTrafficPercent 0: prev R1 100, latest R2 0. */
export function rolledBack(o: IsvcOpts = {}): Record<string, unknown> {
  return split(0, o);
}

/** A new revision R3 that never became ready: traffic stays on R2/R1. */
export function newRevisionFailing(o: IsvcOpts = {}): Record<string, unknown> {
  return split(20, {
    latestCreated: R3,
    latestReady: R2,
    ready: 'True',
    extraConditions: [
      { type: 'LatestDeploymentReady', status: 'False', message: 'Revision "jukebox-predictor-00003" failed with message: container crashed.' },
    ],
    ...o,
  });
}

/** RawDeployment: no Knative traffic at all. */
export function rawDeployment(o: IsvcOpts = {}): Record<string, unknown> {
  return isvc({ ready: 'True', mode: 'RawDeployment', traffic: [], ...o });
}

export interface AppOpts {
  name?: string;
  namespace?: string;
  sync?: 'Synced' | 'OutOfSync' | 'Unknown';
  revision?: string;
  revisions?: string[];
  health?: string;
  phase?: string;
}

export function application(o: AppOpts = {}): Record<string, unknown> {
  const sync: Record<string, unknown> = { status: o.sync ?? 'Synced' };
  if (o.revisions) sync.revisions = o.revisions;
  else sync.revision = o.revision ?? SHA_A;
  const status: Record<string, unknown> = { sync, health: { status: o.health ?? 'Healthy' } };
  if (o.phase) status.operationState = { phase: o.phase, message: `operation ${o.phase}` };
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: o.name ?? 'jukebox-test', namespace: o.namespace ?? 'user1-toolings' },
    status,
  };
}

export const SHA_A = 'a'.repeat(40);
export const SHA_B = 'b'.repeat(40);
