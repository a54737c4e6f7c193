/**
 * An Argo CD-like controller, a client of the Kubernetes API: one Application `<model>-<env>`
 * per `model-deployments/<env>/<model>/config.yaml` in the gitops bare repo (ApplicationSet
 * with a git files generator), automated sync with selfHeal. It reads InferenceServices and
 * Applications from informers (informer.ts) and writes through kube-client.ts; Applications
 * have no status subresource in Argo CD's CRD, so their status goes with a normal update.
 * Git reading, the chart and the health check are argo-desired.ts; the status it writes at
 * each step argo-status.ts.
 *
 * It polls `refs/heads/main` of the bare repo (a file read, no process) every `pollMs`;
 * on a new commit each Application whose rendered InferenceService differs from the live
 * one goes OutOfSync with an operation Running, and is applied and marked Synced at the new
 * revision `syncDelayMs` later (with selfHeal off too: that only stops re-syncing a revision
 * already synced to); unchanged ones just move to the new revision. The refresh
 * annotation triggers a comparison and is removed. A manual change to a managed
 * InferenceService's spec is reverted (self-heal) after `syncDelayMs`. All its work runs one
 * step at a time (a queue), as its writes did when they were synchronous.
 */
import type { Informer, InformerEvent } from './informer';
import { KubeApiError, isStatus, type KubeClient } from './kube-client';
import { applicationFor, destinationOf, differs, health, now, readBranchHead, readDesired, sourceOf, type ArgoOptions, type Desired } from './argo-desired';
import { markApplied, markComparisonError, markOutOfSync, markSynced, resourceEntry } from './argo-status';
import { APPLICATIONS, INFERENCE_SERVICES } from './resources';
import { clone, deepEqual, type KObject } from './types';

export { health, readBranchHead, type ArgoOptions } from './argo-desired';
export const REFRESH_ANNOTATION = 'argocd.argoproj.io/refresh';

export interface ArgoSnapshot {
  lastSha: string | undefined;
}

/** The API the controller works through: the client and the informers it reads. */
export interface ArgoApi {
  client: KubeClient;
  isvcs: Informer;
  apps: Informer;
}

export class ArgoController {
  private lastSha: string | undefined;
  private desired = new Map<string, Desired>();
  private poller: NodeJS.Timeout | undefined;
  private readonly syncTimers = new Map<string, NodeJS.Timeout>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly refreshing = new Set<string>();
  private unsubscribe: Array<() => void> = [];
  private chain: Promise<void> = Promise.resolve();
  private stopped = true;
  private polling = false;
  private pausedFlag = false;

  constructor(
    private readonly api: ArgoApi,
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
      else if (this.lastSha) for (const d of this.desired.values()) await this.compare(d, this.lastSha, false);
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
    if (!this.stopped) return;
    this.stopped = false;
    this.unsubscribe = [this.api.isvcs.subscribe((e) => this.onEvent(e, false)), this.api.apps.subscribe((e) => this.onEvent(e, true))];
    const tick = () => {
      this.poller = setTimeout(async () => {
        await this.poll().catch(() => undefined);
        if (!this.stopped) tick();
      }, this.options.pollMs);
    };
    void this.poll();
    tick();
  }

  /** Stop polling and syncing; waits for the work in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
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
  readDesired(sha: string): Promise<Map<string, Desired>> {
    return readDesired(this.options, sha);
  }

  private async processCommit(sha: string): Promise<void> {
    if (this.stopped) return;
    const desired = await this.readDesired(sha);
    if (this.stopped) return;
    this.lastSha = sha;
    const previous = this.desired;
    this.desired = desired;
    for (const d of desired.values()) await this.compare(d, sha, false);
    for (const [app, d] of previous) {
      if (desired.has(app)) continue;
      // config.yaml removed: the ApplicationSet drops the Application, which prunes its resources.
      await this.tryWrite(async () => this.api.isvcs.record(await this.api.client.delete(INFERENCE_SERVICES, d.namespace, d.model)));
      await this.tryWrite(async () => this.api.apps.record(await this.api.client.delete(APPLICATIONS, this.options.toolingsNamespace, app)));
    }
  }

  /** Seed helper: adopt `sha` as the synced revision and apply every app immediately. */
  async syncAllNow(sha: string): Promise<void> {
    this.desired = await this.readDesired(sha);
    this.lastSha = sha;
    for (const d of this.desired.values()) {
      await this.ensureApplication(d);
      await this.applyNow(d, sha);
    }
  }

  /** Recompute every Application's health from its InferenceService. */
  async recomputeHealth(): Promise<void> {
    for (const d of this.desired.values()) {
      await this.updateApp(d, (s) => {
        s.health = health(this.live(d));
        const sync = (s.sync as { status?: string } | undefined)?.status ?? 'Synced';
        s.resources = [resourceEntry(d, this.live(d), sync)];
      });
    }
  }

  /** Writes that fail (conflicts beyond retrying, the server gone) are left to the next comparison. */
  private async tryWrite<T>(fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof KubeApiError) return undefined;
      throw e;
    }
  }

  private live(d: Desired): KObject | undefined {
    return this.api.isvcs.get(d.namespace, d.model);
  }

  private async ensureApplication(d: Desired): Promise<KObject> {
    const { client, apps } = this.api;
    const existing = apps.get(this.options.toolingsNamespace, d.app);
    if (existing) return existing;
    try {
      const created = await client.create(APPLICATIONS, applicationFor(this.options, d));
      apps.record(created);
      return created;
    } catch (e) {
      if (!isStatus(e, 409)) throw e;
      const got = await client.get(APPLICATIONS, this.options.toolingsNamespace, d.app);
      if (!got) throw e;
      apps.record(got);
      return got;
    }
  }

  private async updateApp(d: Desired, mutate: (status: Record<string, unknown>, app: KObject) => void): Promise<void> {
    await this.tryWrite(async () => {
      const app = await this.ensureApplication(d);
      const written = await this.api.client.modify(
        APPLICATIONS,
        this.options.toolingsNamespace,
        d.app,
        (o) => {
          const status = clone((o.status ?? {}) as Record<string, unknown>);
          mutate(status, o);
          const { reconciledAt: _a, ...next } = status;
          const { reconciledAt: _b, ...prev } = (o.status ?? {}) as Record<string, unknown>;
          if (deepEqual(next, prev)) return undefined;
          o.status = status;
          return o;
        },
        { initial: app },
      );
      this.api.apps.record(written);
    });
  }

  /**
   * Compare one app at `sha`: in sync → Synced at sha; otherwise OutOfSync and, when
   * automated (or forced by a refresh), a sync `syncDelayMs` later.
   */
  private async compare(d: Desired, sha: string, forceSync: boolean): Promise<void> {
    if (this.pausedFlag) return;
    const source = sourceOf(this.options, d);
    const destination = destinationOf(d);
    if (d.error) {
      await this.updateApp(d, (s) => markComparisonError(s, sha, source, destination, d.error!));
      return;
    }
    if (!differs(d, this.live(d))) {
      if (this.syncTimers.has(d.app)) return;
      await this.updateApp(d, (s) => markSynced(s, sha, source, destination, d, this.live(d)));
      return;
    }
    // Automated sync, as Argo CD's autoSync decides it: a revision not synced to yet is synced
    // (with or without selfHeal); the one last synced to again only with selfHeal (a drift).
    const app = this.api.apps.get(this.options.toolingsNamespace, d.app);
    const lastSynced = (app?.status as { operationState?: { syncResult?: { revision?: string } } } | undefined)?.operationState?.syncResult?.revision;
    const automated = forceSync || this.options.selfHeal || !this.live(d) || lastSynced !== sha;
    const running = this.syncTimers.has(d.app);
    await this.updateApp(d, (s) => markOutOfSync(s, sha, source, destination, d, this.live(d), automated));
    if (!automated) return;
    if (running) clearTimeout(this.syncTimers.get(d.app));
    const t = setTimeout(() => {
      // a paused controller leaves the operation Running; resuming compares again
      if (this.stopped || this.pausedFlag) {
        this.syncTimers.delete(d.app);
        return;
      }
      void this.enqueue(async () => {
        if (this.syncTimers.get(d.app) === t) this.syncTimers.delete(d.app);
        if (this.stopped || this.pausedFlag) return;
        const current = this.desired.get(d.app);
        if (current) await this.applyNow(current, this.lastSha ?? sha);
      });
    }, this.options.syncDelayMs);
    this.syncTimers.set(d.app, t);
  }

  /** Write the rendered InferenceService (create, or spec + labels + annotations like kubectl apply). */
  private async applyIsvc(m: KObject, d: Desired): Promise<void> {
    const { client, isvcs } = this.api;
    const live = this.live(d);
    if (!live) {
      try {
        isvcs.record(await client.create(INFERENCE_SERVICES, clone(m), d.namespace));
        return;
      } catch (e) {
        if (!isStatus(e, 409)) throw e; // the cache is behind: it exists, update it below
      }
    } else if (live.metadata.deletionTimestamp) return;
    const written = await client.modify(
      INFERENCE_SERVICES,
      d.namespace,
      d.model,
      (o) => {
        if (o.metadata.deletionTimestamp) return undefined;
        o.spec = clone(m.spec);
        o.metadata.labels = { ...(o.metadata.labels ?? {}), ...(m.metadata.labels ?? {}) };
        o.metadata.annotations = { ...(o.metadata.annotations ?? {}), ...(m.metadata.annotations ?? {}) };
        return o;
      },
      live ? { initial: live } : {},
    );
    isvcs.record(written);
  }

  /** Apply the rendered InferenceService and record the sync. */
  private async applyNow(d: Desired, sha: string): Promise<void> {
    if (!d.manifest) return;
    let error: string | undefined;
    try {
      await this.applyIsvc(d.manifest, d);
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    const source = sourceOf(this.options, d);
    const destination = destinationOf(d);
    const finished = now();
    await this.updateApp(d, (s) => markApplied(s, sha, source, destination, d, this.live(d), error, finished));
  }

  private onEvent(e: InformerEvent, isApp: boolean): void {
    if (this.stopped) return;
    if (isApp) {
      // the annotation's presence asks for a refresh (the refresh removes it)
      const name = e.object.metadata.name!;
      if (e.type === 'DELETED' || e.object.metadata.annotations?.[REFRESH_ANNOTATION] === undefined || this.refreshing.has(name)) return;
      this.refreshing.add(name);
      this.later(() => void this.refresh(name).finally(() => this.refreshing.delete(name)));
      return;
    }
    const d = [...this.desired.values()].find((x) => x.namespace === e.object.metadata.namespace && x.model === e.object.metadata.name);
    if (!d) return;
    this.later(
      () =>
        void this.enqueue(async () => {
          if (this.stopped || this.paused || !this.lastSha) return;
          if (differs(d, this.live(d)) && e.type !== 'DELETED') {
            if (!this.syncTimers.has(d.app)) await this.compare(d, this.lastSha, false);
          } else if (e.type === 'DELETED' && this.options.selfHeal) {
            await this.compare(d, this.lastSha, false);
          } else {
            await this.recomputeHealth();
          }
        }),
    );
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
      if (d && this.lastSha && !this.paused) await this.compare(d, this.lastSha, true);
      await this.tryWrite(async () => {
        const written = await this.api.client.modify(APPLICATIONS, this.options.toolingsNamespace, app, (o) => {
          if (!o.metadata.annotations?.[REFRESH_ANNOTATION]) return undefined;
          delete o.metadata.annotations[REFRESH_ANNOTATION];
          return o;
        });
        this.api.apps.record(written);
      });
    });
  }
}
