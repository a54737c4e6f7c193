/**
 * Pure derivation of the live model from cluster objects: no I/O, no clock.
 *
 * observeInferenceService(): what one InferenceService says, exactly like the CRD printer
 *   columns of `oc get isvc` (domain.md §3) plus traffic targets, readiness, rollout state.
 * joinService(): adds the Argo CD Application and the desired state from git and decides
 *   one verdict with a reason sentence.
 *
 * The rules, chosen to hold on every version in use (KServe 0.10 → current in every mode,
 * Argo CD 2.x and 3.x; README "Supported versions"), read from what the controllers write
 * (KServe pkg/apis/serving/v1beta1 status, pkg/constants; Argo CD pkg/apis/application/v1alpha1):
 *
 * Modes (derive-modes.ts). status.deploymentMode, else the serving.kserve.io/deploymentMode
 *   annotation, else (KServe before 0.14 writes no status mode) the status shape. Names are
 *   compared case-insensitively: `Knative` = `Serverless` (before 0.16), `Standard` =
 *   `RawDeployment`, and `ModelMesh`. Only Knative/Serverless splits traffic; a canary asked
 *   elsewhere is "unsupported", the reason naming the mode as the cluster spells it and the
 *   canary mode in the same dialect.
 * Ready. False → "not ready". Unknown (or absent) while nothing serves (Knative: no ready
 *   revision holds traffic; other modes: no model copy loaded) → "not ready" with the Ready
 *   condition's reason and message (KServe copies Knative's, e.g. RevisionMissing). Unknown
 *   during a rollout while the previous revision or model still serves → "syncing".
 *   A `Stopped` condition True (serving.kserve.io/stop) → "not ready".
 * Rolling out is decided from the status, never from generations: metadata.generation vs
 *   status.observedGeneration do not compare like with like (KServe before 0.10 writes no
 *   observedGeneration; later ones copy the Knative Service's or Deployment's generation, and
 *   with a transformer whichever component was written last), so a gap or an absence means
 *   nothing by itself. Rolling out = Ready Unknown while the previous still serves, or
 *   latestCreatedRevision != latestReadyRevision with nothing failed, or (ModelMesh) the
 *   transition InProgress while a model is loaded, or (Knative) the traffic not yet what the
 *   applied spec's canaryTrafficPercent gives. Generations are shown, not judged.
 * Failures. A failing Knative revision explains itself: the reason quotes the revision's own
 *   message (`Revision "…" failed with message: …`, from the most specific condition carrying
 *   it), not only the top-level Ready. modelStatus.transitionStatus BlockedByFailedLoad or
 *   InvalidSpec → "not ready" explained by modelStatus.lastFailureInfo, also while Ready is
 *   True (ModelMesh keeps serving the previous model). lastFailureInfo alone (transition
 *   UpToDate) is history and ignored.
 * Argo CD (derive-argo.ts). status.sync missing or `Unknown` (ComparisonError, repository
 *   unreachable, …) → "unknown" with the Application's error condition, never "drift".
 *   Multi-source: status.sync.revisions[i] belongs to sources[i]; the revision compared with
 *   git is that of the source whose repoURL is the checkout's remote (https, ssh and scp
 *   forms normalised), never simply revisions[0].
 */
import type { ApplicationState, DesiredState, ServiceState, Verdict } from './types';
import {
  canaryModeName,
  conditions,
  conditionText,
  describeModelFailure,
  failingMessage,
  modelBlocked,
  modelStatus,
  num,
  obj,
  printerColumns,
  readMode,
  revisionFailure,
  servesSomething,
  str,
  trafficOf,
} from './derive-modes';
import { resolveApplication, syncUnknown, syncUnknownWhy } from './derive-argo';
import { shortSha } from '../core/format';

export { observeApplication, normaliseRepoUrl, resolveApplication } from './derive-argo';
export { printerColumns, type PrinterColumns } from './derive-modes';

/** Everything one InferenceService says, before joining Argo CD and git. */
export type IsvcObservation = Omit<ServiceState, 'env' | 'application' | 'desired' | 'verdict' | 'verdictReason' | 'model' | 'missing'> & {
  /** False when the object has no status at all yet. */
  hasStatus: boolean;
  /** resourceVersion, to skip re-deriving identical objects. */
  resourceVersion: string | undefined;
  /** A revision or the target model failed (its message is in readyMessage). */
  failed: 'revision' | 'model' | undefined;
  /** Something serves traffic (a ready revision with traffic, or a loaded model). */
  serving: boolean;
  /** Why KServe counts as rolling out, when it does. */
  rolloutWhy: string | undefined;
  /** The Stopped condition's text when it is True. */
  stopped: string | undefined;
};

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
  const { mode: deploymentMode, family } = readMode(status, obj(meta.annotations) ?? {}, conds);
  const traffic = trafficOf(status);
  const model = modelStatus(status);
  const latestCreatedRevision = str(predictor?.latestCreatedRevision);
  const latestReadyRevision = str(predictor?.latestReadyRevision);
  const newRevisionNotReady = latestCreatedRevision !== undefined && latestCreatedRevision !== latestReadyRevision;
  const ready = cols.ready === 'True' ? true : cols.ready === 'False' ? false : undefined;
  const readyCond = conds.find((c) => c.type === 'Ready');
  const revFail = revisionFailure(conds, model);
  const blocked = modelBlocked(model);
  const serving = servesSomething(family, latestReadyRevision, traffic, model);
  const hasStatus = status !== undefined && Object.keys(status).length > 0;
  const readyText = conditionText(readyCond);
  let readyMessage: string | undefined;
  if (revFail) {
    readyMessage = `Revision ${revFail.revision ? `"${revFail.revision}" ` : ''}failed: ${revFail.message}`;
    if (ready !== true && readyText && !readyText.includes(revFail.message)) readyMessage += ` (Ready: ${readyText})`;
  } else if (blocked) {
    readyMessage = describeModelFailure(model);
  } else if (ready !== true) {
    const transition =
      model.transition && model.transition !== 'UpToDate' ? `the model is not loaded yet (${model.transition}${model.targetState ? `, target ${model.targetState}` : ''})` : undefined;
    readyMessage = readyText ?? failingMessage(conds) ?? transition;
  } else if (newRevisionNotReady) {
    readyMessage = failingMessage(conds, ['LatestDeploymentReady', 'PredictorConfigurationReady', 'PredictorReady']);
  }
  const specPercent = num(obj(spec?.predictor)?.canaryTrafficPercent);
  const failed = revFail ? 'revision' : blocked ? 'model' : undefined;
  let rolloutWhy: string | undefined;
  if (hasStatus && !failed && ready !== false) {
    if (ready === undefined && serving) {
      rolloutWhy = `Ready is Unknown${readyText ? ` (${readyText})` : ''} while ${family === 'knative' ? latestReadyRevision : 'the loaded model'} still serves`;
    } else if (newRevisionNotReady && serving) {
      rolloutWhy = `new revision ${latestCreatedRevision} is not ready yet, traffic stays on ${latestReadyRevision}`;
    } else if (family === 'modelmesh' && model.transition === 'InProgress' && serving) {
      rolloutWhy = 'the new model is loading (InProgress) while the previous one still serves';
    } else if (family === 'knative' && traffic.length > 0) {
      const live = {
        traffic,
        prevPercent: cols.prev,
        latestPercent: cols.latest,
        latestRevision: cols.latestReadyRevision,
        latestRolledoutRevision: str(predictor?.latestRolledoutRevision),
        previousRolledoutRevision: str(predictor?.previousRolledoutRevision),
      };
      if (!splitMatches(live, specPercent)) rolloutWhy = `the applied spec asks for ${describeDesired(specPercent)}, the traffic is ${describeLive(live)}`;
    }
  }
  const stopped = conds.find((c) => c.type === 'Stopped' && str(c.status) === 'True');
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
    traffic,
    latestCreatedRevision,
    latestReadyRevision,
    newRevisionNotReady,
    deploymentMode,
    canarySupported: family === 'knative',
    specPercent,
    generation: num(meta.generation),
    observedGeneration: num(status?.observedGeneration),
    rollingOut: rolloutWhy !== undefined,
    hasStatus,
    previousRolledoutRevision: str(predictor?.previousRolledoutRevision),
    latestRolledoutRevision: str(predictor?.latestRolledoutRevision),
    resourceVersion: str(meta.resourceVersion),
    failed,
    serving,
    rolloutWhy,
    stopped: stopped ? (conditionText(stopped) ?? 'Stopped') : undefined,
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

export { shortSha };

type SplitInput = Pick<ServiceState, 'traffic' | 'prevPercent' | 'latestPercent' | 'latestRevision' | 'latestRolledoutRevision' | 'previousRolledoutRevision'>;

/** Is the Knative traffic what canaryTrafficPercent `percent` gives (PREV empty or 0 both accepted at 100)? */
function splitMatches(s: SplitInput, percent: number | undefined): boolean {
  const prev = s.prevPercent ?? 0;
  const latest = s.latestPercent ?? 0;
  // No earlier rolled-out revision (first deployment): KServe has nothing to split with.
  const noPrevious =
    s.prevPercent === undefined &&
    s.traffic.every((t) => t.latestRevision) &&
    (s.latestRolledoutRevision === undefined || (s.latestRolledoutRevision === s.latestRevision && s.previousRolledoutRevision === undefined));
  if (percent === undefined || percent >= 100) return latest === 100 && prev === 0;
  if (noPrevious) return latest === 100; // nothing to split with yet: KServe serves the only revision
  return latest === percent && prev === 100 - percent;
}

/**
 * Does the cluster serve `percent` (the canaryTrafficPercent git renders; undefined = none)?
 * Checks the applied spec, that KServe is not rolling out, and the traffic split (only in
 * Knative/Serverless mode).
 */
export function liveMatches(
  s: Pick<ServiceState, 'specPercent' | 'rollingOut' | 'canarySupported' | 'generation'> & SplitInput,
  percent: number | undefined,
): { ok: boolean; specOk: boolean; why: string } {
  if (s.specPercent !== percent) {
    const have = s.specPercent === undefined ? 'no canaryTrafficPercent' : `canaryTrafficPercent ${s.specPercent}`;
    const want = percent === undefined ? 'none' : String(percent);
    return { ok: false, specOk: false, why: `the cluster's spec has ${have}, git asks for ${want}` };
  }
  if (s.rollingOut) return { ok: false, specOk: true, why: `KServe is still rolling out${s.generation !== undefined ? ` generation ${s.generation}` : ''}` };
  if (!s.canarySupported) return { ok: true, specOk: true, why: 'spec matches' };
  if (s.traffic.length === 0) return { ok: false, specOk: true, why: 'KServe reports no traffic yet' };
  const ok = splitMatches(s, percent);
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
  if (app.sources && app.trackedSource === -1) parts.push(`(none of its ${app.sources.length} sources is the checkout's remote)`);
  return parts.join(' ');
}

/** Joins an observation (or its absence) with Argo CD and git into a ServiceState with its verdict. */
export function joinService(obs: IsvcObservation | undefined, input: JoinInput): ServiceState {
  const { env, desired } = input;
  const app = input.application && resolveApplication(input.application, desired?.remote);
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

/** `text` ending with one full stop (or its own closing punctuation). */
function sentence(text: string): string {
  return /(?:[.!?]|\.\))$/.test(text) ? text : `${text}.`;
}

function decide(
  obs: IsvcObservation | undefined,
  app: ApplicationState | undefined,
  desired: DesiredState | undefined,
  namespace: string,
): { verdict: Verdict; reason: string } {
  const pending = appPending(app);
  // Argo CD could not compare (and is not syncing): nothing to say about git vs cluster.
  const blind = app && !pending && syncUnknown(app) ? syncUnknownWhy(app) : undefined;
  if (!obs) {
    if (pending) return { verdict: 'syncing', reason: `In git but not in the cluster yet: ${pending}.` };
    if (blind) return { verdict: 'unknown', reason: `In git but not in the cluster; ${blind}.` };
    if (app && desired?.commit && app.revision && app.revision !== desired.commit) {
      return { verdict: 'syncing', reason: `In git but not in the cluster yet: Argo CD is at ${shortSha(app.revision)}, git at ${shortSha(desired.commit)}.` };
    }
    return {
      verdict: 'drift',
      reason: `In git but there is no InferenceService in ${namespace}${app ? ` although ${appSummary(app)}` : ' and no Argo CD Application was found'}.`,
    };
  }
  if (!obs.hasStatus) return { verdict: 'unknown', reason: 'KServe has not reported a status yet.' };
  const because = obs.readyMessage ? `: ${sentence(obs.readyMessage)}` : '.';
  if (obs.stopped) return { verdict: 'not-ready', reason: `Stopped (${obs.stopped}): the serving.kserve.io/stop annotation is set, nothing serves.` };
  if (obs.ready === false || obs.failed) {
    if (obs.newRevisionNotReady && obs.serving) {
      return { verdict: 'not-ready', reason: `New revision ${obs.latestCreatedRevision} is not ready (traffic stays on ${obs.latestReadyRevision ?? 'the previous revision'})${because}` };
    }
    if (obs.ready === true && obs.serving) {
      const what = obs.failed === 'model' ? 'The new model is not served (the previous one still is)' : 'A new revision failed (the previous one still serves)';
      return { verdict: 'not-ready', reason: `${what}${because}` };
    }
    return { verdict: 'not-ready', reason: `Not ready${because}` };
  }
  if (!obs.serving && (obs.ready === undefined || obs.newRevisionNotReady)) {
    return { verdict: 'not-ready', reason: `Not ready, nothing serves yet: ${sentence(obs.readyMessage ?? 'KServe reports no Ready condition')}` };
  }
  const wantsCanary = (p: number | undefined) => p !== undefined && p < 100;
  if (!obs.canarySupported && (wantsCanary(desired?.percent) || wantsCanary(obs.specPercent))) {
    return {
      verdict: 'unsupported',
      reason: `${obs.deploymentMode} mode ignores canaryTrafficPercent: all traffic goes to the latest deployment (canary needs ${canaryModeName(obs.deploymentMode)} mode).`,
    };
  }
  if (obs.rollingOut) return { verdict: 'syncing', reason: `KServe is rolling out${obs.generation !== undefined ? ` generation ${obs.generation}` : ''}: ${obs.rolloutWhy}.` };
  if (!desired) {
    return { verdict: 'unknown', reason: `Not in the gitops checkout; the cluster serves ${describeLive(obs)}.` };
  }
  const serves = obs.canarySupported ? describeLive(obs) : 'the latest deployment';
  if (blind) return { verdict: 'unknown', reason: `${blind}; the cluster serves ${serves}, git asks for ${describeDesired(desired.percent)}.` };
  const match = liveMatches(obs, desired.percent);
  const unpushed = desired.upstream !== undefined && desired.commit !== undefined && desired.upstream !== desired.commit;
  // Argo CD applied an older commit than the checkout's (one that is pushed, or could be)
  const behind = app?.revision !== undefined && desired.commit !== undefined && app.revision !== desired.commit && !(unpushed && app.revision === desired.upstream);
  if (match.ok) {
    if (pending) return { verdict: 'syncing', reason: `The split matches git (${describeDesired(desired.percent)}) but ${pending}.` };
    if (behind) return { verdict: 'syncing', reason: `The split matches git (${describeDesired(desired.percent)}) but Argo CD is at ${shortSha(app?.revision)}, git at ${shortSha(desired.commit)}.` };
    return { verdict: 'live', reason: `Serving ${serves} as git asks${app ? ` (${appSummary(app)})` : ''}.` };
  }
  if (pending) return { verdict: 'syncing', reason: `Git asks for ${describeDesired(desired.percent)}; ${pending}.` };
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
