/**
 * The verdict of a joined row (pure): from the observation (or its absence), the resolved
 * Argo CD Application and the desired state, one of live / syncing / drift / unsupported /
 * not-ready / unknown with one sentence saying why. See derive.ts for the rules.
 */
import type { IsvcObservation } from './derive';
import { syncUnknown, syncUnknownWhy } from './derive-argo';
import { canaryModeName } from './derive-modes';
import { describeDesired, describeLive, liveMatches, shortSha } from './derive-split';
import type { ApplicationState, DesiredState, Verdict } from './types';

function appSummary(app: ApplicationState): string {
  const parts = [`Argo CD ${app.syncStatus ?? 'Unknown'}`];
  if (app.revision) parts.push(`at ${shortSha(app.revision)}`);
  if (app.sources && app.trackedSource === -1) parts.push(`(none of its ${app.sources.length} sources is the checkout's remote)`);
  return parts.join(' ');
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

/** The verdict of one row and the sentence saying why (`namespace` names where a missing service was looked for). */
export function decide(
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
      return {
        verdict: 'not-ready',
        reason: `New revision ${obs.latestCreatedRevision} is not ready (traffic stays on ${obs.latestReadyRevision ?? 'the previous revision'})${because}`,
      };
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
  if (obs.rollingOut)
    return { verdict: 'syncing', reason: `KServe is rolling out${obs.generation !== undefined ? ` generation ${obs.generation}` : ''}: ${obs.rolloutWhy}.` };
  if (!desired) {
    return { verdict: 'unknown', reason: `Not in the gitops checkout; the cluster serves ${describeLive(obs)}.` };
  }
  const serves = obs.canarySupported ? describeLive(obs) : 'the latest deployment';
  if (blind) return { verdict: 'unknown', reason: `${blind}; the cluster serves ${serves}, git asks for ${describeDesired(desired.percent)}.` };
  const match = liveMatches(obs, desired.percent);
  const unpushed = desired.upstream !== undefined && desired.commit !== undefined && desired.upstream !== desired.commit;
  // Argo CD applied an older commit than the checkout's (one that is pushed, or could be)
  const behind =
    app?.revision !== undefined && desired.commit !== undefined && app.revision !== desired.commit && !(unpushed && app.revision === desired.upstream);
  if (match.ok) {
    if (pending) return { verdict: 'syncing', reason: `The split matches git (${describeDesired(desired.percent)}) but ${pending}.` };
    if (behind)
      return {
        verdict: 'syncing',
        reason: `The split matches git (${describeDesired(desired.percent)}) but Argo CD is at ${shortSha(app?.revision)}, git at ${shortSha(desired.commit)}.`,
      };
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
