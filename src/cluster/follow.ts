/**
 * Following a pushed change until it is live (domain.md §4): the Application reports the
 * pushed sha and Synced, and the InferenceService serves the new split. Driven by the
 * store's change events (no polling); steps pushed → refresh (asked, or waiting for Argo CD's
 * own poll when the user may not ask) → synced → rolled-out; a timeout names the step that is
 * stuck and what the cluster says.
 */
import { CanaryError } from '../core/errors';
import type { ClusterStore, FollowRequest, FollowStep, FollowStepName, RefreshOutcome } from './api';
import { describeDesired, describeLive, liveMatches, shortSha } from './derive';
import type { ClusterErrorKind, ClusterProblem, ServiceState } from './types';

export interface FollowHooks {
  /** Asks Argo CD to refresh the Application (once); the outcome becomes the `refresh` step. */
  requestRefresh?: (appName: string) => Promise<RefreshOutcome | void>;
  /** True once the Applications were listed (an absent Application then means "no Argo CD"). */
  applicationsKnown?: () => boolean;
  /** Every active connection problem (default: the connection's one). */
  problems?: () => ClusterProblem[];
  /** The toolings namespace in use (a forbidden one hides the Application). */
  toolingsNamespace?: () => string | undefined;
}

/** Problems that will not go away by waiting: the follow ends at once. */
const DEFINITE: ReadonlySet<ClusterErrorKind> = new Set(['no-kubeconfig', 'unauthorized', 'tls', 'forbidden', 'invalid-settings']);
/** Problems that may be a blip: the follow ends when they last longer than the grace. */
const TRANSIENT: ReadonlySet<ClusterErrorKind> = new Set(['unreachable', 'timeout', 'server-error']);
const DEFAULT_PROBLEM_GRACE_MS = 10000;

/**
 * Without a refresh, Argo CD notices a commit at its own poll of git: real Argo CD's defaults are
 * 120 s (`timeout.reconciliation`) plus up to 60 s of jitter (`timeout.reconciliation.jitter`).
 */
export const ARGO_POLL_DEFAULT = 'up to 3 min by default';

/** The `refresh` step's line: short, for the CLI and the progress notification. */
export function refreshMessage(outcome: RefreshOutcome, appName: string): string {
  if (outcome === 'asked') return `Asked Argo CD to refresh ${appName}`;
  const why = outcome === 'not-allowed' ? `no right to refresh ${appName}` : 'the refresh request failed';
  return `Waiting for Argo CD's own poll of git (${ARGO_POLL_DEFAULT}): ${why}`;
}

/**
 * The connection problem that keeps a follow from ever seeing its change, if any: a problem
 * cutting off the cluster, or a namespace the service or its Application lives in being forbidden.
 */
export function blockingProblem(problems: ClusterProblem[], namespaces: (string | undefined)[]): ClusterProblem | undefined {
  const relevant = problems.filter((p) => {
    if (p.kind === 'forbidden') return !p.namespace || namespaces.includes(p.namespace);
    return DEFINITE.has(p.kind) || TRANSIENT.has(p.kind);
  });
  return relevant.find((p) => DEFINITE.has(p.kind)) ?? relevant[0];
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
    const step = (name: FollowStepName, message: string, state: ServiceState | undefined, waiting = false) => {
      if (reached.has(name)) return;
      reached.add(name);
      const s: FollowStep = { step: name, message, state, ...(waiting ? { waiting } : {}) };
      try {
        req.onStep?.(s);
      } catch {
        // a listener's failure does not stop the follow
      }
    };
    // The refresh request is awaited before resolving: nothing is left in flight (and cut off
    // by a dispose right after) once the follow is over.
    let refreshing: Promise<void> = Promise.resolve();
    let refreshOutcome: RefreshOutcome | undefined;
    let graceTimer: NodeJS.Timeout | undefined;
    let troubleSince: number | undefined;
    const cleanup = () => {
      finished = true;
      unsubscribe();
      unsubscribeConn();
      clearTimeout(timer);
      clearTimeout(graceTimer);
      req.signal?.removeEventListener('abort', onAbort);
    };
    const checkConnection = () => {
      if (finished) return;
      const conn = store.connection();
      const ns = store.environments().find((e) => e.env === req.env)?.namespace;
      const p = blockingProblem(hooks.problems?.() ?? (conn.problem ? [conn.problem] : []), [ns, hooks.toolingsNamespace?.()]);
      if (!p) {
        troubleSince = undefined;
        clearTimeout(graceTimer);
        graceTimer = undefined;
        return;
      }
      troubleSince ??= Date.now();
      const left = DEFINITE.has(p.kind) ? 0 : troubleSince + (req.problemGraceMs ?? DEFAULT_PROBLEM_GRACE_MS) - Date.now();
      if (left > 0) {
        graceTimer ??= setTimeout(() => {
          graceTimer = undefined;
          checkConnection();
        }, left);
        return;
      }
      cleanup();
      reject(
        new CanaryError(
          'cluster',
          p.kind,
          `Cannot follow ${req.model} in ${req.env}: ${p.message} The change itself is pushed (commit ${shortSha(req.sha)}): nothing is lost.`,
          `${p.hint} Then \`kserve-canary status ${req.model} --env ${req.env}\` shows whether it is live.`,
        ),
      );
    };
    const argoExpected = () => {
      const s = store.find(req.env, req.model);
      return !!s?.application || !(hooks.applicationsKnown?.() ?? false);
    };
    const evaluate = () => {
      if (finished) return;
      const s = store.find(req.env, req.model);
      const argo = argoExpected();
      // Synced at the sha is a milestone: Argo CD moving on to a later commit (pushed right after
      // ours) reports that one from then on, and must not keep the follow waiting for ours.
      if (argo && !reached.has('synced') && !isSynced(s, req.sha)) return;
      if (!reached.has('synced')) {
        step('synced', argo ? `Argo CD synced ${appName} at ${shortSha(req.sha)}` : `No Argo CD Application ${appName}: waiting for the cluster itself`, s);
      }
      if (!isRolledOut(s, req.percent) || !s) return;
      step('rolled-out', `KServe serves ${describeLive(s)}`, s);
      cleanup();
      void refreshing.then(() => resolve(s));
    };
    const onAbort = () => {
      if (finished) return;
      cleanup();
      reject(
        new CanaryError(
          'cluster',
          'follow-aborted',
          `Stopped waiting for ${req.model} in ${req.env}.`,
          'The change is pushed; `kserve-canary status` shows where it stands.',
        ),
      );
    };
    const unsubscribe = store.onDidChangeServices((keys) => {
      const s = store.find(req.env, req.model);
      if (!s || keys.includes(s.key)) evaluate();
      checkConnection();
    });
    const unsubscribeConn = store.onDidChangeConnection(() => checkConnection());
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
            : `Check the Application in Argo CD (sync errors, auto-sync off), or wait longer with --timeout${
                refreshOutcome && refreshOutcome !== 'asked' ? ' (without a refresh, Argo CD polls git every 2 to 3 min by default)' : ''
              }.`,
        ),
      );
    }, timeoutMs);
    if (req.signal?.aborted) {
      onAbort();
      return;
    }
    req.signal?.addEventListener('abort', onAbort, { once: true });
    step('pushed', `Pushed ${shortSha(req.sha)}: ${describeDesired(req.percent)}`, store.find(req.env, req.model));
    if (req.requestRefresh !== false && hooks.requestRefresh) {
      refreshing = hooks
        .requestRefresh(appName)
        .catch((): RefreshOutcome => 'failed')
        .then((outcome) => {
          if (!outcome) return;
          refreshOutcome = outcome;
          // once synced, how Argo CD came to notice the commit no longer matters
          if (!finished && !reached.has('synced')) step('refresh', refreshMessage(outcome, appName), store.find(req.env, req.model), outcome !== 'asked');
        });
    }
    evaluate();
    checkConnection();
  });
}
