/**
 * List-then-watch of one resource type in one namespace (or cluster-wide), like client-go's
 * reflector: relist on 410 Gone, re-watch from the last resourceVersion when a watch ends
 * normally or goes silent, and back off (1 s → 30 s with jitter) after any failure. Every
 * loop passes through a delay when things go wrong, so there is never a request storm.
 */
import { Backoff, sleep } from './backoff';
import { RequestError } from './classify';
import type { ResourceType, Transport, WatchEvent } from './transport';

export interface ReflectorSink {
  /** A full list: everything in scope is exactly `items`. */
  replace(items: unknown[]): void;
  upsert(obj: Record<string, unknown>): void;
  remove(obj: Record<string, unknown>): void;
  /** ok after every successful list or watch start; error after a failure. */
  health(h: { ok: true } | { ok: false; error: unknown }): void;
}

export interface ReflectorOptions {
  backoffInitialMs: number;
  backoffMaxMs: number;
  watchIdleMs: number;
  /** The type may not exist (no OpenShift, no Argo CD): 404 counts as an empty list. */
  optional?: boolean;
  debug?: (m: string) => void;
}

export class Reflector {
  private readonly abort = new AbortController();
  private readonly backoff: Backoff;
  private wake: AbortController | undefined;
  private firstDone!: () => void;
  /** Resolves after the first list succeeded or failed once. */
  readonly firstAttempt = new Promise<void>((r) => (this.firstDone = r));
  /** Counts, for tests and benchmarks. */
  readonly stats = { lists: 0, watches: 0, relistsOnGone: 0, failures: 0, idleRestarts: 0 };

  constructor(
    private readonly transport: Transport,
    readonly type: ResourceType,
    readonly namespace: string | undefined,
    private readonly sink: ReflectorSink,
    private readonly opts: ReflectorOptions,
  ) {
    this.backoff = new Backoff(opts.backoffInitialMs, opts.backoffMaxMs);
  }

  get id(): string {
    return `${this.type.plural}@${this.namespace ?? '*'}`;
  }

  start(): void {
    void this.run();
  }

  stop(): void {
    this.abort.abort();
    this.wake?.abort();
  }

  /** Cut the current wait or watch short and list again now. */
  relist(): void {
    this.relistRequested = true;
    this.wake?.abort();
  }

  private relistRequested = false;

  /** A wait that stop() and relist() cut short (one short-lived controller, no listener left on long-lived signals). */
  private async pause(ms: number): Promise<void> {
    this.wake = new AbortController();
    if (this.abort.signal.aborted) return;
    await sleep(ms, this.wake.signal);
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let lastGone = 0;
    while (!signal.aborted) {
      let rv: string;
      try {
        this.stats.lists++;
        const list = await this.transport.list(this.type, this.namespace, signal);
        if (signal.aborted) break;
        rv = list.resourceVersion;
        this.sink.replace(list.items);
        this.sink.health({ ok: true });
        this.firstDone();
      } catch (e) {
        if (signal.aborted) break;
        if (this.opts.optional && e instanceof RequestError && e.status === 404) {
          this.sink.replace([]);
          this.sink.health({ ok: true });
          this.firstDone();
          await this.pause(this.opts.backoffMaxMs * 4);
          continue;
        }
        this.stats.failures++;
        this.sink.health({ ok: false, error: e });
        this.firstDone();
        await this.pause(this.backoff.next());
        continue;
      }
      // Watch until something forces a relist.
      this.relistRequested = false;
      while (!signal.aborted && !this.relistRequested) {
        this.wake = new AbortController();
        const watchSignal = this.wake.signal; // stop() and relist() abort it
        const started = Date.now();
        let sawEvent = false;
        this.stats.watches++;
        const end = await this.transport.watch(
          this.type,
          this.namespace,
          rv,
          (ev: WatchEvent) => {
            sawEvent = true;
            const meta = ev.object.metadata as { resourceVersion?: unknown } | undefined;
            if (typeof meta?.resourceVersion === 'string') rv = meta.resourceVersion;
            if (ev.type === 'ADDED' || ev.type === 'MODIFIED') this.sink.upsert(ev.object);
            else if (ev.type === 'DELETED') this.sink.remove(ev.object);
          },
          { idleMs: this.opts.watchIdleMs, timeoutSeconds: 240 + Math.floor(Math.random() * 60), signal: watchSignal },
        );
        const lived = Date.now() - started;
        if (end.kind === 'aborted') break; // stop() or relist()
        if (end.kind === 'gone') {
          this.stats.relistsOnGone++;
          // Two 410s in a row within a second: slow down instead of hammering the server.
          if (Date.now() - lastGone < 1000) await this.pause(this.backoff.next());
          lastGone = Date.now();
          break;
        }
        if (end.kind === 'error') {
          this.stats.failures++;
          this.sink.health({ ok: false, error: end.error });
          this.opts.debug?.(`${this.id}: watch failed, relisting after backoff`);
          await this.pause(this.backoff.next());
          break;
        }
        if (end.kind === 'idle') {
          this.stats.idleRestarts++;
          this.opts.debug?.(`${this.id}: watch silent for ${this.opts.watchIdleMs} ms, restarting it`);
          // A silent watch may have lost events: relist to be sure.
          break;
        }
        // closed normally: a healthy, long-lived watch resets the backoff; a quick close waits.
        if (lived >= 5000 || sawEvent) this.backoff.reset();
        if (lived < 1000 && !sawEvent) await this.pause(this.backoff.next());
      }
    }
  }
}
