/**
 * Following a pushed change until it is live (domain.md §4): the Application reports the
 * pushed sha and Synced, and the InferenceService serves the new split. Driven by the
 * store's change events (no polling); steps pushed → synced → rolled-out; a timeout names
 * the step that is stuck and what the cluster says.
 */
import { CanaryError } from '../core/errors';
import type { ClusterStore, FollowRequest, FollowStep, FollowStepName } from './api';
import { describeDesired, describeLive, liveMatches, shortSha } from './derive';
import type { ServiceState } from './types';

export interface FollowHooks {
  /** Asks Argo CD to refresh the Application (once). */
  requestRefresh?: (appName: string) => Promise<void>;
  /** True once the Applications were listed (an absent Application then means "no Argo CD"). */
  applicationsKnown?: () => boolean;
}

function sameSha(a: string | undefined, b: string): boolean {
  if (!a) return false;
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x === y || (Math.min(x.length, y.length) >= 7 && (x.startsWith(y) || y.startsWith(x)));
}

export function isSynced(s: ServiceState | undefined, sha: string): boolean {
  const app = s?.application;
  return !!app && app.syncStatus === 'Synced' && sameSha(app.revision, sha);
}

export function isRolledOut(s: ServiceState | undefined, percent: number | undefined): boolean {
  if (!s || s.missing) return false;
  return liveMatches(s, percent).ok && !s.newRevisionNotReady;
}

/** One line saying where a follow stands, for the timeout message. */
export function stuckAt(s: ServiceState | undefined, req: Pick<FollowRequest, 'env' | 'model' | 'sha' | 'percent'>, argoExpected: boolean): string {
  const appName = `${req.model}-${req.env}`;
  if (argoExpected && !isSynced(s, req.sha)) {
    const app = s?.application;
    if (!app) return `Argo CD has no Application ${appName} (waited for it to sync ${shortSha(req.sha)})`;
    return `Argo CD has not synced ${appName} to ${shortSha(req.sha)}: it reports ${app.syncStatus ?? 'no sync status'} at ${shortSha(app.revision)}${
      app.operationPhase ? `, last operation ${app.operationPhase}${app.operationMessage ? ` (${app.operationMessage})` : ''}` : ''
    }`;
  }
  if (!s || s.missing) return `KServe has no InferenceService ${req.model} in ${req.env}`;
  return `KServe has not rolled out ${describeDesired(req.percent)}: ${liveMatches(s, req.percent).why}${s.newRevisionNotReady ? `; ${s.verdictReason}` : ''}`;
}

export function followChange(store: ClusterStore, req: FollowRequest, hooks: FollowHooks = {}): Promise<ServiceState> {
  const timeoutMs = req.timeoutMs ?? 300000;
  const appName = `${req.model}-${req.env}`;
  const reached = new Set<FollowStepName>();
  return new Promise<ServiceState>((resolve, reject) => {
    let finished = false;
    const step = (name: FollowStepName, message: string, state: ServiceState | undefined) => {
      if (reached.has(name)) return;
      reached.add(name);
      const s: FollowStep = { step: name, message, state };
      try {
        req.onStep?.(s);
      } catch {
        // a listener's failure does not stop the follow
      }
    };
    const cleanup = () => {
      finished = true;
      unsubscribe();
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
    };
    const argoExpected = () => {
      const s = store.find(req.env, req.model);
      return !!s?.application || !(hooks.applicationsKnown?.() ?? false);
    };
    const evaluate = () => {
      if (finished) return;
      const s = store.find(req.env, req.model);
      const argo = argoExpected();
      if (argo && !isSynced(s, req.sha)) return;
      if (!reached.has('synced')) {
        step('synced', argo ? `Argo CD synced ${appName} at ${shortSha(req.sha)}` : `No Argo CD Application ${appName}: waiting for the cluster itself`, s);
      }
      if (!isRolledOut(s, req.percent) || !s) return;
      step('rolled-out', `KServe serves ${describeLive(s)}`, s);
      cleanup();
      resolve(s);
    };
    const onAbort = () => {
      if (finished) return;
      cleanup();
      reject(new CanaryError('cluster', 'follow-aborted', `Stopped waiting for ${req.model} in ${req.env}.`, 'The change is pushed; `kserve-canary status` shows where it stands.'));
    };
    const unsubscribe = store.onDidChangeServices((keys) => {
      const s = store.find(req.env, req.model);
      if (!s || keys.includes(s.key)) evaluate();
    });
    const timer = setTimeout(() => {
      if (finished) return;
      const s = store.find(req.env, req.model);
      cleanup();
      const conn = store.connection();
      const disconnected = conn.phase === 'disconnected' && conn.problem ? ` (meanwhile: ${conn.problem.message})` : '';
      reject(
        new CanaryError(
          'timeout',
          reached.has('synced') ? 'rollout-timeout' : 'sync-timeout',
          `Timed out after ${Math.round(timeoutMs / 1000)} s: ${stuckAt(s, req, argoExpected())}${disconnected}.`,
          reached.has('synced')
            ? 'Look at the InferenceService (`oc describe isvc`) or run `kserve-canary status --watch`.'
            : 'Check the Application in Argo CD (sync errors, auto-sync off), or wait longer with --timeout.',
        ),
      );
    }, timeoutMs);
    if (req.signal?.aborted) {
      onAbort();
      return;
    }
    req.signal?.addEventListener('abort', onAbort, { once: true });
    step('pushed', `Pushed ${shortSha(req.sha)}: ${describeDesired(req.percent)}`, store.find(req.env, req.model));
    if (req.requestRefresh !== false && hooks.requestRefresh) void hooks.requestRefresh(appName);
    evaluate();
  });
}
