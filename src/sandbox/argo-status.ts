/**
 * What the Argo CD controller (argocd.ts) writes into an Application's status at each step:
 * a comparison error, Synced, OutOfSync (with an automated operation Running), and the result
 * of a sync (operationState, the resource's sync result, history). Each mutates the status
 * object it is given; the controller writes it with a normal update (no status subresource).
 */
import { health, now, type Desired } from './argo-desired';
import { isPlainObject, type KObject } from './types';

type Status = Record<string, unknown>;
type Source = { repoURL: string; path: string; targetRevision: string };
type Destination = { server: string; namespace: string };

/** The Application's entry for its InferenceService. */
export function resourceEntry(d: Desired, live: KObject | undefined, syncStatus: string): Record<string, unknown> {
  return {
    group: 'serving.kserve.io',
    version: 'v1beta1',
    kind: 'InferenceService',
    namespace: d.namespace,
    name: d.model,
    status: syncStatus,
    health: health(live),
  };
}

export function markComparisonError(s: Status, sha: string, source: Source, destination: Destination, error: string): void {
  s.sync = { status: 'Unknown', revision: sha, comparedTo: { source, destination } };
  s.conditions = [{ type: 'ComparisonError', message: error, lastTransitionTime: now() }];
  s.reconciledAt = now();
}

export function markSynced(s: Status, sha: string, source: Source, destination: Destination, d: Desired, live: KObject | undefined): void {
  s.sync = { status: 'Synced', revision: sha, comparedTo: { source, destination } };
  s.resources = [resourceEntry(d, live, 'Synced')];
  s.health = health(live);
  s.sourceType = 'Helm';
  delete s.conditions;
  s.reconciledAt = now();
}

export function markOutOfSync(
  s: Status,
  sha: string,
  source: Source,
  destination: Destination,
  d: Desired,
  live: KObject | undefined,
  automated: boolean,
): void {
  s.sync = { status: 'OutOfSync', revision: sha, comparedTo: { source, destination } };
  s.resources = [resourceEntry(d, live, 'OutOfSync')];
  s.reconciledAt = now();
  delete s.conditions;
  if (automated) {
    s.operationState = {
      operation: { sync: { revision: sha }, initiatedBy: { automated: true }, retry: { limit: 5 } },
      phase: 'Running',
      message: 'one or more tasks are running',
      startedAt: now(),
      syncResult: { revision: sha, source, resources: [] },
    };
  }
}

/** The end of a sync: Succeeded (and a history entry) or Failed with the apply error. */
export function markApplied(
  s: Status,
  sha: string,
  source: Source,
  destination: Destination,
  d: Desired,
  live: KObject | undefined,
  error: string | undefined,
  finished: string,
): void {
  const op = isPlainObject(s.operationState) ? s.operationState : {};
  const started = typeof op.startedAt === 'string' ? op.startedAt : finished;
  const resource = {
    group: 'serving.kserve.io',
    version: 'v1beta1',
    kind: 'InferenceService',
    namespace: d.namespace,
    name: d.model,
    status: error ? 'SyncFailed' : 'Synced',
    message: error ?? `inferenceservice.serving.kserve.io/${d.model} configured`,
    hookPhase: error ? 'Failed' : 'Running',
    syncPhase: 'Sync',
  };
  s.operationState = {
    operation: { sync: { revision: sha }, initiatedBy: { automated: true }, retry: { limit: 5 } },
    phase: error ? 'Failed' : 'Succeeded',
    message: error ? `one or more objects failed to apply, reason: ${error}` : 'successfully synced (all tasks run)',
    startedAt: started,
    finishedAt: finished,
    syncResult: { revision: sha, source, resources: [resource] },
  };
  s.sync = { status: error ? 'OutOfSync' : 'Synced', revision: sha, comparedTo: { source, destination } };
  s.resources = [resourceEntry(d, live, error ? 'OutOfSync' : 'Synced')];
  s.health = health(live);
  s.sourceType = 'Helm';
  s.reconciledAt = finished;
  if (!error) {
    const history = Array.isArray(s.history) ? (s.history as Array<Record<string, unknown>>) : [];
    history.push({ id: history.length, revision: sha, deployedAt: finished, deployStartedAt: started, source });
    s.history = history.slice(-10);
  }
}
