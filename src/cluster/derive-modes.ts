/**
 * KServe's InferenceService status read alike on every KServe version in use (0.10 → current)
 * and in every deployment mode: the printer columns, which mode and how the cluster spells it,
 * whether anything serves, what failed and why. Pure; derive.ts states the rules and decides
 * the verdict.
 */
import type { TrafficTarget } from './types';

export type Json = Record<string, unknown>;

export function obj(v: unknown): Json | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
}
export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
export function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s.trim() === '' ? undefined : s;
}
export function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  return undefined;
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

export function conditions(status: Json | undefined): Json[] {
  return arr(status?.conditions)
    .map(obj)
    .filter((c): c is Json => c !== undefined);
}

export function trafficOf(status: Json | undefined): TrafficTarget[] {
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

const CONDITION_ORDER = [
  'Ready',
  'LatestDeploymentReady',
  'PredictorReady',
  'PredictorConfigurationReady',
  'PredictorRouteReady',
  'RoutesReady',
  'IngressReady',
];

export function failingMessage(conds: Json[], onlyTypes?: string[]): string | undefined {
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

/** The three modes whatever their spelling: `knative` (Serverless), `standard` (RawDeployment), `modelmesh`. */
export type ModeFamily = 'knative' | 'standard' | 'modelmesh' | 'other';

/** KServe's names, old (before 0.16) and new, compared case-insensitively. */
export function modeFamily(mode: string): ModeFamily {
  switch (mode.trim().toLowerCase()) {
    case 'serverless':
    case 'knative':
      return 'knative';
    case 'rawdeployment':
    case 'standard':
      return 'standard';
    case 'modelmesh':
      return 'modelmesh';
    default:
      return 'other';
  }
}

export interface ModeReading {
  /** As the cluster spells it (`Knative`, `Serverless`, `Standard`, `RawDeployment`, `ModelMesh`, …). */
  mode: string;
  family: ModeFamily;
}

/** Knative-only traces in a status: revisions, traffic, route and configuration conditions. */
function knativeShaped(status: Json | undefined, conds: Json[]): boolean {
  const predictor = obj(obj(status?.components)?.predictor);
  if (arr(predictor?.traffic).length > 0 || str(predictor?.latestCreatedRevision) !== undefined) return true;
  return conds.some((c) => ['PredictorRouteReady', 'PredictorConfigurationReady', 'RoutesReady', 'LatestDeploymentReady'].includes(str(c.type) ?? ''));
}

/**
 * status.deploymentMode, else the annotation (as KServe itself ranks them), else what the status
 * shape says: KServe before 0.14 writes no status.deploymentMode and defaulted to Serverless, so
 * a Knative-shaped status (or none yet) reads `Serverless`, any other status `RawDeployment`.
 */
export function readMode(status: Json | undefined, annotations: Json, conds: Json[]): ModeReading {
  const given = nonEmpty(str(status?.deploymentMode)) ?? nonEmpty(str(annotations['serving.kserve.io/deploymentMode']));
  if (given !== undefined) return { mode: given, family: modeFamily(given) };
  const hasStatus = status !== undefined && Object.keys(status).length > 0;
  if (!hasStatus || knativeShaped(status, conds)) return { mode: 'Serverless', family: 'knative' };
  return { mode: 'RawDeployment', family: 'standard' };
}

/** The canary-capable mode's name in the cluster's own dialect. */
export function canaryModeName(mode: string): string {
  const m = mode.trim().toLowerCase();
  if (m === 'standard' || m === 'knative') return 'Knative';
  if (m === 'rawdeployment' || m === 'serverless') return 'Serverless';
  return 'Knative (Serverless)';
}

/** `reason: message`, either alone, or undefined. */
export function conditionText(c: Json | undefined): string | undefined {
  if (!c) return undefined;
  const reason = nonEmpty(str(c.reason));
  const message = nonEmpty(str(c.message));
  if (reason && message) return message.includes(reason) ? message : `${reason}: ${message}`;
  return message ?? reason;
}

const REVISION_FAILED = /Revision "([^"]+)" failed with message:\s*([\s\S]*)$/;
/** Where KServe copies a failing Knative revision's message, most specific first. */
const REVISION_CONDITIONS = [
  'PredictorConfigurationReady',
  'LatestDeploymentReady',
  'PredictorReady',
  'TransformerConfigurationReady',
  'TransformerReady',
  'ExplainerConfigurationReady',
  'ExplainerReady',
  'Ready',
];

export interface RevisionFailure {
  /** The failing revision, when the message names it. */
  revision: string | undefined;
  /** The revision's own message (Knative's, or the model's last failure when Knative's is empty). */
  message: string;
}

/** A failing revision, from the condition that carries its own message. */
export function revisionFailure(conds: Json[], model: ModelStatus): RevisionFailure | undefined {
  const failed = conds.filter((c) => str(c.status) === 'False');
  for (const type of REVISION_CONDITIONS) {
    const c = failed.find((x) => x.type === type);
    if (!c) continue;
    const message = str(c.message) ?? '';
    const m = REVISION_FAILED.exec(message);
    if (!m && str(c.reason) !== 'RevisionFailed') continue;
    const own = m ? nonEmpty(m[2]!.replace(/^\.$/, '')) : nonEmpty(message);
    return { revision: m?.[1], message: own ?? model.failureMessage ?? 'no message' };
  }
  return undefined;
}

export interface ModelStatus {
  /** `UpToDate` | `InProgress` | `BlockedByFailedLoad` | `InvalidSpec` (or undefined). */
  transition: string | undefined;
  activeState: string | undefined;
  targetState: string | undefined;
  /** lastFailureInfo: `reason: message` (stale once the transition is UpToDate again). */
  failureMessage: string | undefined;
}

export function modelStatus(status: Json | undefined): ModelStatus {
  const m = obj(status?.modelStatus);
  const states = obj(m?.states);
  const info = obj(m?.lastFailureInfo);
  const reason = nonEmpty(str(info?.reason));
  const message = nonEmpty(str(info?.message));
  return {
    transition: nonEmpty(str(m?.transitionStatus)),
    activeState: nonEmpty(str(states?.activeModelState)),
    targetState: nonEmpty(str(states?.targetModelState)),
    failureMessage: reason && message ? `${reason}: ${message}` : (message ?? reason),
  };
}

/** BlockedByFailedLoad / InvalidSpec: the target model cannot be served. */
export function modelBlocked(m: ModelStatus): boolean {
  return m.transition === 'BlockedByFailedLoad' || m.transition === 'InvalidSpec';
}

export function describeModelFailure(m: ModelStatus): string {
  const what = m.transition === 'InvalidSpec' ? 'the predictor spec is invalid' : 'the model failed to load';
  return `${what} (${m.transition})${m.failureMessage ? `: ${m.failureMessage}` : ''}`;
}

/**
 * Does anything serve right now? Knative: a ready revision holds traffic. Other modes: a model
 * copy is loaded (`activeModelState: Loaded`, which stays while a new target loads).
 */
export function servesSomething(family: ModeFamily, latestReady: string | undefined, traffic: { percent: number | undefined }[], m: ModelStatus): boolean {
  if (family === 'knative') return latestReady !== undefined && traffic.some((t) => (t.percent ?? 0) > 0);
  return m.activeState === 'Loaded';
}
