/**
 * Pure derivation of the live model from cluster objects: no I/O, no clock.
 *
 * observeInferenceService(): what one InferenceService says, exactly like the CRD printer
 *   columns of `oc get isvc` (domain.md §3) plus traffic targets, readiness, rollout state.
 * joinService(): adds the Argo CD Application and the desired state from git and decides
 *   one verdict with a reason sentence (derive-verdict.ts; the split comparisons and their
 *   wording, liveMatches() and describe*(), are in derive-split.ts).
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
import type { ApplicationState, DesiredState, ServiceState } from './types';
import {
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
import { resolveApplication } from './derive-argo';
import { describeDesired, describeLive, splitMatches } from './derive-split';
import { decide } from './derive-verdict';

export { observeApplication, normaliseRepoUrl, resolveApplication } from './derive-argo';
export { printerColumns, type PrinterColumns } from './derive-modes';
export { describeDesired, describeLive, liveMatches, shortSha } from './derive-split';

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
      model.transition && model.transition !== 'UpToDate'
        ? `the model is not loaded yet (${model.transition}${model.targetState ? `, target ${model.targetState}` : ''})`
        : undefined;
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

/** observe + join in one call. */
export function deriveService(isvc: unknown, input: Omit<JoinInput, 'namespace' | 'name'> & { namespace?: string; name?: string }): ServiceState {
  const obs = observeInferenceService(isvc);
  return joinService(obs, { ...input, namespace: input.namespace ?? obs.namespace, name: input.name ?? obs.name });
}
