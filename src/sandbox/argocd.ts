/**
 * An Argo CD-like controller: one Application `<model>-<env>` per
 * `model-deployments/<env>/<model>/config.yaml` in the gitops bare repo (ApplicationSet
 * with a git files generator), automated sync with selfHeal.
 *
 * It polls `refs/heads/main` of the bare repo (a file read, no process) every `pollMs`;
 * on a new commit each Application whose rendered InferenceService differs from the live
 * one goes OutOfSync with an operation Running, and is applied and marked Synced at the new
 * revision `syncDelayMs` later; unchanged ones just move to the new revision. The refresh
 * annotation triggers a comparison and is removed. A manual change to a managed
 * InferenceService's spec is reverted (self-heal) after `syncDelayMs`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ApiError } from './errors';
import { renderInferenceService, type ChartValues } from './chart';
import { git } from './git';
import { APPLICATIONS, INFERENCE_SERVICES } from './resources';
import type { Store, StoreEvent } from './store';
import { clone, deepEqual, isPlainObject, type KObject } from './types';

export const REFRESH_ANNOTATION = 'argocd.argoproj.io/refresh';

export interface ArgoOptions {
  bareRepo: string;
  branch: string;
  toolingsNamespace: string;
  /** `<user>-<env>` is the destination namespace. */
  user: string;
  pollMs: number;
  syncDelayMs: number;
  selfHeal: boolean;
}

interface Desired {
  app: string;
  env: string;
  model: string;
  namespace: string;
  configPath: string;
  manifest: KObject | undefined;
  error: string | undefined;
}

export interface ArgoSnapshot {
  lastSha: string | undefined;
}

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

/** Read a branch head from a bare repo without spawning git: loose ref, then packed-refs. */
export async function readBranchHead(bareRepo: string, branch: string): Promise<string | undefined> {
  const ref = `refs/heads/${branch}`;
  try {
    const loose = (await readFile(path.join(bareRepo, ref), 'utf8')).trim();
    if (/^[0-9a-f]{40}$/.test(loose)) return loose;
  } catch {
    // not a loose ref
  }
  try {
    const packed = await readFile(path.join(bareRepo, 'packed-refs'), 'utf8');
    for (const line of packed.split('\n')) {
      const [sha, name] = line.trim().split(' ');
      if (name === ref && sha && /^[0-9a-f]{40}$/.test(sha)) return sha;
    }
  } catch {
    // no packed refs
  }
  return undefined;
}

export class ArgoController {
  private lastSha: string | undefined;
  private desired = new Map<string, Desired>();
  private poller: NodeJS.Timeout | undefined;
  private readonly syncTimers = new Map<string, NodeJS.Timeout>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private unsubscribe: (() => void) | undefined;
  private chain: Promise<void> = Promise.resolve();
  private stopped = true;
  private polling = false;
  private pausedFlag = false;

  constructor(
    private readonly store: Store,
    readonly options: ArgoOptions,
  ) {}

  get revision(): string | undefined {
    return this.lastSha;
  }

  /** A paused controller neither polls git nor reacts to changes, like Argo CD being down. */
  get paused(): boolean {
    return this.pausedFlag;
  }

  set paused(on: boolean) {
    const resumed = this.pausedFlag && !on;
    this.pausedFlag = on;
    if (resumed && !this.stopped) void this.resync();
  }

  /** Catch up with everything: the branch head, then a comparison of every Application. */
  async resync(): Promise<void> {
    await this.enqueue(async () => {
      if (this.stopped || this.pausedFlag) return;
      const sha = await readBranchHead(this.options.bareRepo, this.options.branch);
      if (sha && sha !== this.lastSha) await this.processCommit(sha);
      else if (this.lastSha) for (const d of this.desired.values()) this.compare(d, this.lastSha, false);
    });
  }

  /** Take `sha` as the state already synced (after a restart): read it, apply nothing. */
  async adopt(sha: string): Promise<void> {
    this.desired = await this.readDesired(sha);
    this.lastSha = sha;
  }

  snapshot(): ArgoSnapshot {
    return { lastSha: this.lastSha };
  }

  load(s: ArgoSnapshot): void {
    this.lastSha = s.lastSha;
  }

  start(): void {
    this.stopped = false;
    this.unsubscribe = this.store.subscribe((e) => this.onEvent(e));
    const tick = () => {
      this.poller = setTimeout(async () => {
        await this.poll().catch(() => undefined);
        if (!this.stopped) tick();
      }, this.options.pollMs);
    };
    void this.poll();
    tick();
  }

  /** Stop polling and syncing; waits for a comparison in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.poller) clearTimeout(this.poller);
    this.poller = undefined;
    for (const t of this.syncTimers.values()) clearTimeout(t);
    this.syncTimers.clear();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.chain.catch(() => undefined);
  }

  private enqueue(fn: () => Promise<void>): Promise<void> {
    const next = this.chain.then(fn, fn).catch(() => undefined);
    this.chain = next;
    return next;
  }

  /** Check the branch head now; process it when it moved. */
  async poll(): Promise<void> {
    if (this.stopped || this.paused || this.polling) return;
    this.polling = true;
    try {
      // The head is read inside the queue, as refresh and resync do: read outside, an older
      // head could be processed after a refresh already processed a newer one (Argo CD never
      // goes back to an older commit of the branch it tracks).
      await this.enqueue(async () => {
        if (this.stopped || this.paused) return;
        const sha = await readBranchHead(this.options.bareRepo, this.options.branch);
        if (sha && sha !== this.lastSha) await this.processCommit(sha);
      });
    } finally {
      this.polling = false;
    }
  }

  /** Read the desired state at `sha` (seeding uses it too). */
  async readDesired(sha: string): Promise<Map<string, Desired>> {
    const repo = this.options.bareRepo;
    const { stdout } = await git(repo, ['ls-tree', '-r', '--name-only', sha, '--', 'model-deployments']);
    const out = new Map<string, Desired>();
    for (const file of stdout.split('\n')) {
      const m = /^model-deployments\/([^/]+)\/([^/]+)\/config\.yaml$/.exec(file.trim());
      if (!m) continue;
      const env = m[1]!;
      const model = m[2]!;
      const app = `${model}-${env}`;
      const namespace = `${this.options.user}-${env}`;
      const d: Desired = { app, env, model, namespace, configPath: file.trim(), manifest: undefined, error: undefined };
      try {
        const text = (await git(repo, ['show', `${sha}:${file.trim()}`])).stdout;
        const values = parseYaml(text) as unknown;
        if (!isPlainObject(values)) throw new Error('config.yaml is not a map');
        d.manifest = renderInferenceService(values as ChartValues, model, namespace, app);
      } catch (e) {
        d.error = `Failed to load target state: ${file.trim()}: ${e instanceof Error ? e.message : String(e)}`;
      }
      out.set(app, d);
    }
    return out;
  }

  private async processCommit(sha: string): Promise<void> {
    if (this.stopped) return;
    const desired = await this.readDesired(sha);
    if (this.stopped) return;
    this.lastSha = sha;
    const previous = this.desired;
    this.desired = desired;
    for (const d of desired.values()) this.compare(d, sha, false);
    for (const [app, d] of previous) {
      if (desired.has(app)) continue;
      // config.yaml removed: the ApplicationSet drops the Application, which prunes its resources.
      this.tryWrite(() => this.store.delete(INFERENCE_SERVICES, d.namespace, d.model));
      this.tryWrite(() => this.store.delete(APPLICATIONS, this.options.toolingsNamespace, app));
    }
  }

  /** Seed helper: adopt `sha` as the synced revision and apply every app immediately. */
  async syncAllNow(sha: string): Promise<void> {
    this.desired = await this.readDesired(sha);
    this.lastSha = sha;
    for (const d of this.desired.values()) {
      this.ensureApplication(d);
      this.applyNow(d, sha);
    }
  }

  /** Recompute every Application's health from its InferenceService. */
  recomputeHealth(): void {
    for (const d of this.desired.values()) {
      this.updateApp(d, (s) => {
        s.health = health(this.store.get(INFERENCE_SERVICES, d.namespace, d.model));
        const sync = (s.sync as { status?: string } | undefined)?.status ?? 'Synced';
        s.resources = [this.resourceEntry(d, sync)];
      });
    }
  }

  private tryWrite<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (e) {
      if (e instanceof ApiError) return undefined;
      throw e;
    }
  }

  private application(d: Desired): KObject {
    return {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: {
        name: d.app,
        namespace: this.options.toolingsNamespace,
        labels: { 'app.kubernetes.io/managed-by': 'applicationset', 'model-deployments/env': d.env },
      },
      spec: {
        project: 'default',
        source: { repoURL: this.options.bareRepo, targetRevision: this.options.branch, path: path.posix.dirname(d.configPath) },
        destination: { server: 'https://kubernetes.default.svc', namespace: d.namespace },
        syncPolicy: { automated: { prune: true, selfHeal: this.options.selfHeal }, syncOptions: ['CreateNamespace=false'] },
      },
    };
  }

  private ensureApplication(d: Desired): KObject {
    const existing = this.store.get(APPLICATIONS, this.options.toolingsNamespace, d.app);
    if (existing) return existing;
    return this.store.create(APPLICATIONS, this.application(d));
  }

  /** Does the live InferenceService differ from what git renders? */
  private differs(d: Desired): boolean {
    if (!d.manifest) return false;
    const live = this.store.get(INFERENCE_SERVICES, d.namespace, d.model);
    if (!live || live.metadata.deletionTimestamp) return true;
    if (!deepEqual(live.spec, d.manifest.spec)) return true;
    const has = (want: Record<string, string> | undefined, got: Record<string, string> | undefined) =>
      Object.entries(want ?? {}).every(([k, v]) => got?.[k] === v);
    return !has(d.manifest.metadata.labels, live.metadata.labels) || !has(d.manifest.metadata.annotations, live.metadata.annotations);
  }

  private resourceEntry(d: Desired, syncStatus: string): Record<string, unknown> {
    const live = this.store.get(INFERENCE_SERVICES, d.namespace, d.model);
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

  private updateApp(d: Desired, mutate: (status: Record<string, unknown>, app: KObject) => void): void {
    this.tryWrite(() => {
      const app = this.ensureApplication(d);
      const status = clone((app.status ?? {}) as Record<string, unknown>);
      mutate(status, app);
      const { reconciledAt: _a, ...next } = status;
      const { reconciledAt: _b, ...prev } = (app.status ?? {}) as Record<string, unknown>;
      if (deepEqual(next, prev)) return;
      app.status = status;
      delete app.metadata.resourceVersion;
      this.store.update(APPLICATIONS, app);
    });
  }

  /**
   * Compare one app at `sha`: in sync → Synced at sha; otherwise OutOfSync and, when
   * automated (or forced by a refresh), a sync `syncDelayMs` later.
   */
  private compare(d: Desired, sha: string, forceSync: boolean): void {
    if (this.pausedFlag) return;
    const source = { repoURL: this.options.bareRepo, path: path.posix.dirname(d.configPath), targetRevision: this.options.branch };
    const destination = { server: 'https://kubernetes.default.svc', namespace: d.namespace };
    if (d.error) {
      this.updateApp(d, (s) => {
        s.sync = { status: 'Unknown', revision: sha, comparedTo: { source, destination } };
        s.conditions = [{ type: 'ComparisonError', message: d.error, lastTransitionTime: now() }];
        s.reconciledAt = now();
      });
      return;
    }
    const differs = this.differs(d);
    if (!differs) {
      if (this.syncTimers.has(d.app)) return;
      this.updateApp(d, (s) => {
        s.sync = { status: 'Synced', revision: sha, comparedTo: { source, destination } };
        s.resources = [this.resourceEntry(d, 'Synced')];
        s.health = health(this.store.get(INFERENCE_SERVICES, d.namespace, d.model));
        s.sourceType = 'Helm';
        delete s.conditions;
        s.reconciledAt = now();
      });
      return;
    }
    const automated = forceSync || this.options.selfHeal || !this.store.get(INFERENCE_SERVICES, d.namespace, d.model);
    const running = this.syncTimers.has(d.app);
    this.updateApp(d, (s) => {
      s.sync = { status: 'OutOfSync', revision: sha, comparedTo: { source, destination } };
      s.resources = [this.resourceEntry(d, 'OutOfSync')];
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
    });
    if (!automated) return;
    if (running) clearTimeout(this.syncTimers.get(d.app));
    const t = setTimeout(() => {
      this.syncTimers.delete(d.app);
      // a paused controller leaves the operation Running; resuming compares again
      if (this.stopped || this.pausedFlag) return;
      const current = this.desired.get(d.app);
      if (current) this.applyNow(current, this.lastSha ?? sha);
    }, this.options.syncDelayMs);
    this.syncTimers.set(d.app, t);
  }

  /** Apply the rendered InferenceService (kubectl-apply-like) and record the sync. */
  private applyNow(d: Desired, sha: string): void {
    if (!d.manifest) return;
    const m = d.manifest;
    let error: string | undefined;
    try {
      const live = this.store.get(INFERENCE_SERVICES, d.namespace, d.model);
      if (!live || live.metadata.deletionTimestamp) {
        if (!live) this.store.create(INFERENCE_SERVICES, clone(m), d.namespace);
      } else {
        live.spec = clone(m.spec);
        live.metadata.labels = { ...(live.metadata.labels ?? {}), ...(m.metadata.labels ?? {}) };
        live.metadata.annotations = { ...(live.metadata.annotations ?? {}), ...(m.metadata.annotations ?? {}) };
        delete live.metadata.resourceVersion;
        this.store.update(INFERENCE_SERVICES, live, d.namespace);
      }
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    const source = { repoURL: this.options.bareRepo, path: path.posix.dirname(d.configPath), targetRevision: this.options.branch };
    const destination = { server: 'https://kubernetes.default.svc', namespace: d.namespace };
    const finished = now();
    this.updateApp(d, (s) => {
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
      s.resources = [this.resourceEntry(d, error ? 'OutOfSync' : 'Synced')];
      s.health = health(this.store.get(INFERENCE_SERVICES, d.namespace, d.model));
      s.sourceType = 'Helm';
      s.reconciledAt = finished;
      if (!error) {
        const history = Array.isArray(s.history) ? (s.history as Array<Record<string, unknown>>) : [];
        history.push({ id: history.length, revision: sha, deployedAt: finished, deployStartedAt: started, source });
        s.history = history.slice(-10);
      }
    });
  }

  private onEvent(e: StoreEvent): void {
    if (this.stopped) return;
    if (e.resource === APPLICATIONS && e.type !== 'DELETED') {
      const a = e.object.metadata.annotations?.[REFRESH_ANNOTATION];
      const before = e.previous?.metadata.annotations?.[REFRESH_ANNOTATION];
      if (a !== undefined && a !== before) this.later(() => void this.refresh(e.object.metadata.name!));
      return;
    }
    if (e.resource !== INFERENCE_SERVICES) return;
    const d = [...this.desired.values()].find((x) => x.namespace === e.object.metadata.namespace && x.model === e.object.metadata.name);
    if (!d) return;
    this.later(() => {
      if (this.stopped || this.paused || !this.lastSha) return;
      if (this.differs(d) && e.type !== 'DELETED') {
        if (!this.syncTimers.has(d.app)) this.compare(d, this.lastSha, false);
      } else if (e.type === 'DELETED' && this.options.selfHeal) {
        this.compare(d, this.lastSha, false);
      } else {
        this.recomputeHealth();
      }
    });
  }

  private later(fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, 0);
    this.timers.add(t);
  }

  /** What the refresh annotation does: re-read git, compare (sync if needed), drop the annotation. */
  async refresh(app: string): Promise<void> {
    await this.enqueue(async () => {
      if (this.stopped) return;
      const sha = await readBranchHead(this.options.bareRepo, this.options.branch);
      if (sha && sha !== this.lastSha) await this.processCommit(sha);
      if (this.stopped) return;
      const d = this.desired.get(app);
      if (d && this.lastSha && !this.paused) this.compare(d, this.lastSha, true);
      this.tryWrite(() => {
        const o = this.store.get(APPLICATIONS, this.options.toolingsNamespace, app);
        if (!o?.metadata.annotations?.[REFRESH_ANNOTATION]) return;
        delete o.metadata.annotations[REFRESH_ANNOTATION];
        delete o.metadata.resourceVersion;
        this.store.update(APPLICATIONS, o);
      });
    });
  }
}

/**
 * Argo CD's health check for InferenceServices (resource_customizations/serving.kserve.io/
 * InferenceService/health.lua), message included: Stopped True → Suspended; all conditions
 * True (Stopped aside) and the transition UpToDate → Healthy; a transition other than UpToDate
 * or InProgress → Degraded; anything else → Progressing (False conditions too). It never looks
 * at generations.
 */
export function health(isvc: KObject | undefined): { status: string; message?: string } {
  if (!isvc) return { status: 'Missing' };
  const st = isPlainObject(isvc.status) ? isvc.status : undefined;
  if (!st) return { status: 'Progressing', message: 'Waiting for InferenceService to report status...' };
  let degraded = false;
  let settled = true;
  let msg = '';
  const transition = isPlainObject(st.modelStatus) ? st.modelStatus.transitionStatus : undefined;
  if (isPlainObject(st.modelStatus) && transition !== 'UpToDate') {
    settled = false;
    degraded = transition !== 'InProgress';
    msg += `0: transitionStatus | ${String(transition ?? '')}`;
  }
  const conds = Array.isArray(st.conditions) ? (st.conditions as Array<Record<string, unknown>>) : [];
  for (const [i, c] of conds.entries()) {
    if (c.type === 'Stopped' && c.status === 'True') return { status: 'Suspended', message: 'InferenceService is Stopped' };
    if (c.status === 'True' || c.type === 'Stopped') continue;
    settled = false;
    msg += ` | ${i + 1}: ${String(c.type)} | ${String(c.status)}`;
    for (const part of [c.reason, c.message]) if (typeof part === 'string' && part !== '') msg += ` | ${part}`;
  }
  if (settled) return { status: 'Healthy', message: 'InferenceService is healthy.' };
  return { status: degraded ? 'Degraded' : 'Progressing', message: msg };
}
