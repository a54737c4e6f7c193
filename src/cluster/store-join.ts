/**
 * The store's joined model: one row per `<namespace>/<name>` made from the InferenceService,
 * the desired state from git and the Argo CD Application (joinRow), the table of rows, and
 * the coalesced change events (a single change goes out at once, a burst becomes a few events).
 */
import type { ClusterLogger } from './api';
import { joinService, type IsvcObservation } from './derive';
import type { DesiredSource } from './store-desired';
import { READING_APPS, type ArgoApplications } from './store-argo';
import type { ConnectionTracker } from './store-problems';
import type { NamespaceMap } from './store-namespaces';
import type { ServiceState } from './types';

/** What a row is joined from. */
export interface JoinSources {
  readonly namespaces: NamespaceMap;
  readonly desired: DesiredSource;
  readonly argo: ArgoApplications;
  readonly tracker: ConnectionTracker;
  isvc(key: string): IsvcObservation | undefined;
  /** The namespace was listed on this connection (a service missing from it is really missing). */
  listed(namespace: string): boolean;
}

/** The row of `key` (`<namespace>/<name>`) as its sources give it now; undefined when there is none. */
export function joinRow(key: string, src: JoinSources): ServiceState | undefined {
  const slash = key.indexOf('/');
  const ns = key.slice(0, slash);
  const name = key.slice(slash + 1);
  const env = src.namespaces.envOf(ns);
  const obs = src.isvc(key);
  const d = env !== undefined ? src.desired.entry(env, name) : undefined;
  if (env === undefined || (!obs && !d)) return undefined;
  const app = src.argo.get(`${d ? d.model : name}-${env}`);
  let next = joinService(obs, {
    env,
    namespace: ns,
    name,
    ...(d ? { model: d.model } : {}),
    ...(app ? { application: app } : {}),
    ...(d ? { desired: src.desired.stateOf(d) } : {}),
  });
  if (next.verdict === 'drift' && !app && src.argo.reading) next = { ...next, verdict: 'unknown', verdictReason: READING_APPS };
  const broken = !d && src.desired.brokenReason(env, name);
  if (broken) next = { ...next, verdict: 'unknown', verdictReason: `Its config.yaml in git could not be read: ${broken}` };
  if (!obs && !src.listed(ns)) {
    const forbidden = src.tracker.forbidden(ns);
    const why = forbidden ? forbidden.message : `Not seen in the cluster yet (${src.tracker.phase === 'disconnected' ? 'disconnected' : 'connecting'}).`;
    next = { ...next, verdict: 'unknown', verdictReason: why };
  }
  return next;
}

function sameState(a: ServiceState | undefined, b: ServiceState | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The rows, and the coalesced `onDidChangeServices(keys)` events of their changes. */
export class ServiceTable {
  private readonly states = new Map<string, ServiceState>();
  private sortedRows: ServiceState[] | undefined;
  private readonly pending = new Set<string>();
  private flushTimer: { cancel(): void } | undefined;
  private lastFlush = 0;
  private readonly listeners = new Set<(keys: string[]) => void>();

  constructor(
    private readonly log: ClusterLogger,
    private readonly coalesceMs: number,
  ) {}

  get(key: string): ServiceState | undefined {
    return this.states.get(key);
  }

  /** Every row, sorted by env then name (a copy). */
  sorted(): ServiceState[] {
    this.sortedRows ??= [...this.states.values()].sort((a, b) => a.env.localeCompare(b.env) || a.name.localeCompare(b.name));
    return this.sortedRows.slice();
  }

  /** The keys (a copy: safe to recompute while going through them). */
  keys(): string[] {
    return [...this.states.keys()];
  }

  /** The live entries (a Map iterator: a row set while iterating is visited as a Map's would be). */
  entries(): IterableIterator<[string, ServiceState]> {
    return this.states.entries();
  }

  onDidChange(listener: (keys: string[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Sets (or removes, with undefined) a row; a real change is announced, coalesced. */
  put(key: string, next: ServiceState | undefined): void {
    if (sameState(this.states.get(key), next)) return;
    if (next) this.states.set(key, next);
    else this.states.delete(key);
    this.sortedRows = undefined;
    this.pending.add(key);
    this.scheduleFlush();
  }

  dispose(): void {
    this.flushTimer?.cancel();
    this.listeners.clear();
  }

  /**
   * Leading edge: the first change after a quiet window goes out as soon as the current
   * batch of watch events is processed (a single change is not delayed); changes within the window after a flush
   * are collected and go out together at its end (a burst becomes a few events, not thousands).
   */
  private scheduleFlush(): void {
    if (this.flushTimer) return;
    const since = Date.now() - this.lastFlush;
    if (since >= this.coalesceMs) {
      // after the current batch of watch events (one network chunk) is processed
      let cancelled = false;
      queueMicrotask(() => {
        if (!cancelled) this.flush();
      });
      this.flushTimer = { cancel: () => (cancelled = true) };
    } else {
      const t = setTimeout(() => this.flush(), this.coalesceMs - since);
      this.flushTimer = { cancel: () => clearTimeout(t) };
    }
  }

  private flush(): void {
    this.flushTimer = undefined;
    this.lastFlush = Date.now();
    if (this.pending.size === 0) return;
    const keys = [...this.pending];
    this.pending.clear();
    for (const l of this.listeners) {
      try {
        l(keys);
      } catch (e) {
        this.log.error(`A listener of service changes failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }
}
