/**
 * Pure derivation of the live model from cluster objects: no I/O, no clock.
 *
 * observeInferenceService(): what one InferenceService says, exactly like the CRD printer
 *   columns of `oc get isvc` (domain.md §3) plus traffic targets, readiness, rollout state.
 * joinService(): adds the Argo CD Application and the desired state from git and decides
 *   one verdict with a reason sentence.
 */
import type { ApplicationState, DesiredState, ServiceState, TrafficTarget, Verdict } from './types';

type Json = Record<string, unknown>;

function obj(v: unknown): Json | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
}
function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  return undefined;
}
function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === '' ? undefined : s;
}

/** What `oc get isvc` prints, as typed values (undefined where the column is empty). */
export interface PrinterColumns {
  url: string | undefined;
  /** `True` / `False` / `Unknown` or undefined. */
  ready: string | undefined;
  prev: number | undefined;
  latest: number | undefined;
  prevRolledOutRevision: string | undefined;
  latestReadyRevision: string | undefined;
  creationTimestamp: string | undefined;
}

function conditions(status: Json | undefined): Json[] {
  return arr(status?.conditions).map(obj).filter((c): c is Json => c !== undefined);
}

function trafficOf(status: Json | undefined): TrafficTarget[] {
  const predictor = obj(obj(status?.components)?.predictor);
  return arr(predictor?.traffic)
    .map(obj)
    .filter((t): t is Json => t !== undefined)
    .map((t) => ({
      revisionName: str(t.revisionName),
      percent: num(t.percent),
      tag: str(t.tag),
      latestRevision: t.latestRevision === true,
      url: str(t.url),
    }));
}

/** The CRD printer columns, with the same JSONPath semantics (first match of each filter). */
export function printerColumns(isvc: unknown): PrinterColumns {
  const o = obj(isvc);
  const status = obj(o?.status);
  const traffic = trafficOf(status);
  const prev = traffic.find((t) => t.tag === 'prev');
  const latest = traffic.find((t) => t.latestRevision);
  const ready = conditions(status).find((c) => c.type === 'Ready');
  return {
    url: str(status?.url),
    ready: str(ready?.status),
    prev: prev?.percent,
    latest: latest?.percent,
    prevRolledOutRevision: prev?.revisionName,
    latestReadyRevision: latest?.revisionName,
    creationTimestamp: str(obj(o?.metadata)?.creationTimestamp),
  };
}

/** Everything one InferenceService says, before joining Argo CD and git. */
export type IsvcObservation = Omit<ServiceState, 'env' | 'application' | 'desired' | 'verdict' | 'verdictReason' | 'model' | 'missing'> & {
  /** False when the object has no status at all yet. */
  hasStatus: boolean;
  /** resourceVersion, to skip re-deriving identical objects. */
  resourceVersion: string | undefined;
};

const CONDITION_ORDER = [
  'Ready',
  'LatestDeploymentReady',
  'PredictorReady',
  'PredictorConfigurationReady',
  'PredictorRouteReady',
  'RoutesReady',
  'IngressReady',
];

function failingMessage(conds: Json[], onlyTypes?: string[]): string | undefined {
  const failing = conds.filter((c) => str(c.status) !== 'True' && (!onlyTypes || onlyTypes.includes(str(c.type) ?? '')));
  const rank = (c: Json) => {
    const i = CONDITION_ORDER.indexOf(str(c.type) ?? '');
    return i < 0 ? CONDITION_ORDER.length : i;
  };
  failing.sort((a, b) => rank(a) - rank(b));
  for (const c of failing) {
    const m = nonEmpty(str(c.message)) ?? nonEmpty(str(c.reason));
    if (m) return m;
  }
  return undefined;
}

export function observeInferenceService(isvc: unknown): IsvcObservation {
  const o = obj(isvc) ?? {};
  const meta = obj(o.metadata) ?? {};
  const spec = obj(o.spec);
  const status = obj(o.status);
  const predictor = obj(obj(status?.components)?.predictor);
  const cols = printerColumns(o);
  const conds = conditions(status);
  const name = str(meta.name) ?? '';
  const namespace = str(meta.namespace) ?? '';
  const annotations = obj(meta.annotations) ?? {};
  const deploymentMode =
    nonEmpty(str(status?.deploymentMode)) ?? nonEmpty(str(annotations['serving.kserve.io/deploymentMode'])) ?? 'Serverless';
  const latestCreatedRevision = str(predictor?.latestCreatedRevision);
  const latestReadyRevision = str(predictor?.latestReadyRevision);
  const newRevisionNotReady = latestCreatedRevision !== undefined && latestCreatedRevision !== latestReadyRevision;
  const ready = cols.ready === 'True' ? true : cols.ready === 'False' ? false : undefined;
  let readyMessage: string | undefined;
  if (ready !== true) readyMessage = failingMessage(conds);
  else if (newRevisionNotReady) readyMessage = failingMessage(conds, ['LatestDeploymentReady', 'PredictorConfigurationReady', 'PredictorReady']);
  const generation = num(meta.generation);
  const observedGeneration = num(status?.observedGeneration);
  const hasStatus = status !== undefined && Object.keys(status).length > 0;
  return {
    key: `${namespace}/${name}`,
    namespace,
    name,
    creationTimestamp: cols.creationTimestamp,
    url: cols.url,
    ready,
    readyMessage,
    prevPercent: cols.prev,
    latestPercent: cols.latest,
    prevRevision: cols.prevRolledOutRevision,
    latestRevision: cols.latestReadyRevision,
    traffic: trafficOf(status),
    latestCreatedRevision,
    latestReadyRevision,
    newRevisionNotReady,
    deploymentMode,
    canarySupported: deploymentMode.toLowerCase() === 'serverless',
    specPercent: num(obj(spec?.predictor)?.canaryTrafficPercent),
    generation,
    observedGeneration,
    rollingOut: generation !== undefined && hasStatus && (observedGeneration === undefined || generation > observedGeneration),
    hasStatus,
    previousRolledoutRevision: str(predictor?.previousRolledoutRevision),
    latestRolledoutRevision: str(predictor?.latestRolledoutRevision),
    resourceVersion: str(meta.resourceVersion),
  };
}

/** Argo CD Application → ApplicationState. */
export function observeApplication(app: unknown): ApplicationState {
  const o = obj(app) ?? {};
  const meta = obj(o.metadata) ?? {};
  const status = obj(o.status);
  const sync = obj(status?.sync);
  const health = obj(status?.health);
  const op = obj(status?.operationState);
  return {
    name: str(meta.name) ?? '',
    namespace: str(meta.namespace) ?? '',
    syncStatus: str(sync?.status),
    revision: nonEmpty(str(sync?.revision)) ?? str(arr(sync?.revisions)[0]),
    healthStatus: str(health?.status),
    healthMessage: str(health?.message),
    operationPhase: str(op?.phase),
    operationMessage: str(op?.message),
  };
}

/** `prev 50% · latest 50%` for a percent the chart renders (undefined = no canary). */
export function describeDesired(percent: number | undefined): string {
  if (percent === undefined) return 'latest 100% (no canary)';
  if (percent >= 100) return 'latest 100%';
  return `prev ${100 - percent}% · latest ${percent}%`;
}

/** What the cluster serves, e.g. `prev 50% · latest 50%`. */
export function describeLive(s: Pick<ServiceState, 'prevPercent' | 'latestPercent' | 'traffic'>): string {
  if (s.traffic.length === 0) return 'no traffic reported';
  const parts: string[] = [];
  if (s.prevPercent !== undefined) parts.push(`prev ${s.prevPercent}%`);
  if (s.latestPercent !== undefined) parts.push(`latest ${s.latestPercent}%`);
  if (parts.length === 0) return s.traffic.map((t) => `${t.revisionName ?? '?'} ${t.percent ?? 0}%`).join(' · ');
  return parts.join(' · ');
}

export function shortSha(sha: string | undefined): string {
  return sha ? sha.slice(0, 7) : '?';
}

/**
 * Does the cluster serve `percent` (the canaryTrafficPercent git renders; undefined = none)?
 * Checks the applied spec, that KServe caught up, and the traffic split (only in Serverless
 * mode; PREV empty or 0 are both accepted at 100).
 */
export function liveMatches(
  s: Pick<ServiceState, 'specPercent' | 'rollingOut' | 'canarySupported' | 'traffic' | 'prevPercent' | 'latestPercent' | 'latestRevision' | 'latestRolledoutRevision' | 'generation'>,
  percent: number | undefined,
): { ok: boolean; specOk: boolean; why: string } {
  if (s.specPercent !== percent) {
    const have = s.specPercent === undefined ? 'no canaryTrafficPercent' : `canaryTrafficPercent ${s.specPercent}`;
    const want = percent === undefined ? 'none' : String(percent);
    return { ok: false, specOk: false, why: `the cluster's spec has ${have}, git asks for ${want}` };
  }
  if (s.rollingOut) return { ok: false, specOk: true, why: `KServe has not processed generation ${s.generation} yet` };
  if (!s.canarySupported) return { ok: true, specOk: true, why: 'spec matches' };
  if (s.traffic.length === 0) return { ok: false, specOk: true, why: 'KServe reports no traffic yet' };
  const prev = s.prevPercent ?? 0;
  const latest = s.latestPercent ?? 0;
  // No earlier rolled-out revision (first deployment): KServe has nothing to split with.
  const noPrevious =
    s.prevPercent === undefined &&
    s.traffic.every((t) => t.latestRevision) &&
    (s.latestRolledoutRevision === undefined || s.latestRolledoutRevision === s.latestRevision);
  let ok: boolean;
  if (percent === undefined || percent >= 100) ok = latest === 100 && prev === 0;
  else if (noPrevious) ok = latest === 100; // nothing to split with yet: KServe serves the only revision
  else ok = latest === percent && prev === 100 - percent;
  return { ok, specOk: true, why: ok ? 'traffic matches' : `traffic is ${describeLive(s)}, git asks for ${describeDesired(percent)}` };
}

export interface JoinInput {
  env: string;
  namespace: string;
  /** InferenceService name. */
  name: string;
  /** Model folder in git, when known. */
  model?: string;
  application?: ApplicationState;
  desired?: DesiredState;
}

function appSummary(app: ApplicationState): string {
  const parts = [`Argo CD ${app.syncStatus ?? 'Unknown'}`];
  if (app.revision) parts.push(`at ${shortSha(app.revision)}`);
  return parts.join(' ');
}

/** Joins an observation (or its absence) with Argo CD and git into a ServiceState with its verdict. */
export function joinService(obs: IsvcObservation | undefined, input: JoinInput): ServiceState {
  const { env, application: app, desired } = input;
  const base: Omit<ServiceState, 'verdict' | 'verdictReason'> = obs
    ? {
        key: obs.key,
        env,
        namespace: obs.namespace,
        name: obs.name,
        creationTimestamp: obs.creationTimestamp,
        url: obs.url,
        ready: obs.ready,
        readyMessage: obs.readyMessage,
        prevPercent: obs.prevPercent,
        latestPercent: obs.latestPercent,
        prevRevision: obs.prevRevision,
        latestRevision: obs.latestRevision,
        traffic: obs.traffic,
        latestCreatedRevision: obs.latestCreatedRevision,
        latestReadyRevision: obs.latestReadyRevision,
        newRevisionNotReady: obs.newRevisionNotReady,
        deploymentMode: obs.deploymentMode,
        canarySupported: obs.canarySupported,
        specPercent: obs.specPercent,
        generation: obs.generation,
        observedGeneration: obs.observedGeneration,
        rollingOut: obs.rollingOut,
        application: app,
        desired,
      }
    : {
        key: `${input.namespace}/${input.name}`,
        env,
        namespace: input.namespace,
        name: input.name,
        creationTimestamp: undefined,
        url: undefined,
        ready: undefined,
        readyMessage: undefined,
        prevPercent: undefined,
        latestPercent: undefined,
        prevRevision: undefined,
        latestRevision: undefined,
        traffic: [],
        latestCreatedRevision: undefined,
        latestReadyRevision: undefined,
        newRevisionNotReady: false,
        deploymentMode: 'Unknown',
        canarySupported: true,
        specPercent: undefined,
        generation: undefined,
        observedGeneration: undefined,
        rollingOut: false,
        application: app,
        desired,
      };
  const extra: Pick<ServiceState, 'model' | 'missing' | 'latestRolledoutRevision' | 'previousRolledoutRevision'> = {};
  if (input.model !== undefined) extra.model = input.model;
  if (!obs) extra.missing = true;
  if (obs?.latestRolledoutRevision !== undefined) extra.latestRolledoutRevision = obs.latestRolledoutRevision;
  if (obs?.previousRolledoutRevision !== undefined) extra.previousRolledoutRevision = obs.previousRolledoutRevision;
  const { verdict, reason } = decide(obs, app, desired, input.namespace);
  return { ...base, ...extra, verdict, verdictReason: reason };
}

function appPending(app: ApplicationState | undefined): string | undefined {
  if (!app) return undefined;
  if (app.operationPhase === 'Running') return `Argo CD is syncing ${app.name}`;
  if (app.syncStatus === 'OutOfSync') return `Argo CD reports ${app.name} OutOfSync`;
  return undefined;
}

function decide(
  obs: IsvcObservation | undefined,
  app: ApplicationState | undefined,
  desired: DesiredState | undefined,
  namespace: string,
): { verdict: Verdict; reason: string } {
  if (!obs) {
    const pending = appPending(app);
    if (pending) return { verdict: 'syncing', reason: `In git but not in the cluster yet: ${pending}.` };
    if (app && desired?.commit && app.revision && app.revision !== desired.commit) {
      return { verdict: 'syncing', reason: `In git but not in the cluster yet: Argo CD is at ${shortSha(app.revision)}, git at ${shortSha(desired.commit)}.` };
    }
    return {
      verdict: 'drift',
      reason: `In git but there is no InferenceService in ${namespace}${app ? ` although ${appSummary(app)}` : ' and no Argo CD Application was found'}.`,
    };
  }
  if (!obs.hasStatus) return { verdict: 'unknown', reason: 'KServe has not reported a status yet.' };
  if (obs.ready === false) return { verdict: 'not-ready', reason: `Not ready${obs.readyMessage ? `: ${obs.readyMessage}` : '.'}` };
  if (obs.newRevisionNotReady) {
    return {
      verdict: 'not-ready',
      reason: `New revision ${obs.latestCreatedRevision} is not ready (traffic stays on ${obs.latestReadyRevision ?? 'the previous revision'})${obs.readyMessage ? `: ${obs.readyMessage}` : '.'}`,
    };
  }
  const wantsCanary = (p: number | undefined) => p !== undefined && p < 100;
  if (!obs.canarySupported && (wantsCanary(desired?.percent) || wantsCanary(obs.specPercent))) {
    return {
      verdict: 'unsupported',
      reason: `${obs.deploymentMode} mode ignores canaryTrafficPercent: all traffic goes to the latest deployment (canary needs Serverless mode).`,
    };
  }
  if (obs.rollingOut) return { verdict: 'syncing', reason: `KServe is rolling out generation ${obs.generation} (observed ${obs.observedGeneration ?? 'none'}).` };
  if (!desired) {
    return { verdict: 'unknown', reason: `Not in the gitops checkout; the cluster serves ${describeLive(obs)}.` };
  }
  const match = liveMatches(obs, desired.percent);
  const pending = appPending(app);
  if (match.ok) {
    if (pending) return { verdict: 'syncing', reason: `The split matches git (${describeDesired(desired.percent)}) but ${pending}.` };
    return {
      verdict: 'live',
      reason: `Serving ${obs.canarySupported ? describeLive(obs) : 'the latest deployment'} as git asks${app ? ` (${appSummary(app)})` : ''}.`,
    };
  }
  if (pending) return { verdict: 'syncing', reason: `Git asks for ${describeDesired(desired.percent)}; ${pending}.` };
  const unpushed = desired.upstream !== undefined && desired.commit !== undefined && desired.upstream !== desired.commit;
  if (unpushed && app?.revision === desired.upstream) {
    return {
      verdict: 'drift',
      reason: `Git asks for ${describeDesired(desired.percent)} but that commit is not pushed (HEAD ${shortSha(desired.commit)}, pushed ${shortSha(desired.upstream)}); the cluster serves ${describeLive(obs)}.`,
    };
  }
  if (app && desired.commit && app.revision && app.revision !== desired.commit) {
    return {
      verdict: 'syncing',
      reason: `Git asks for ${describeDesired(desired.percent)}; Argo CD is at ${shortSha(app.revision)}, git at ${shortSha(desired.commit)}.`,
    };
  }
  if (match.specOk) {
    return { verdict: 'syncing', reason: `KServe has the new spec but has not applied the split yet: ${match.why}.` };
  }
  return {
    verdict: 'drift',
    reason: `The cluster differs from git: ${match.why}, and ${app ? `${appSummary(app)}` : 'no Argo CD Application was found'}.`,
  };
}

/** observe + join in one call. */
export function deriveService(isvc: unknown, input: Omit<JoinInput, 'namespace' | 'name'> & { namespace?: string; name?: string }): ServiceState {
  const obs = observeInferenceService(isvc);
  return joinService(obs, { ...input, namespace: input.namespace ?? obs.namespace, name: input.name ?? obs.name });
}
