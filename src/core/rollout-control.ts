/**
 * What lets a rollout run (rollout.ts) be steered while it waits: the queue of requests
 * (promote, abort, approve) that may arrive at any time from a button or a second command,
 * the interruptible wait that ends a port's wait when the run is stopped or a request
 * arrives, and the real clock the engine sleeps on (tests inject a fake one).
 */
import type { RolloutPorts } from './rollout-types';

export type RunRequest = 'promote' | 'abort' | 'approve';

/** Thrown out of a wait: the run was stopped (its signal) or a request arrived. */
export class Interrupted extends Error {
  constructor(readonly by: 'stop' | 'request') {
    super('interrupted');
  }
}

export class RunControl {
  private readonly requests: RunRequest[] = [];
  private readonly wakers = new Set<() => void>();

  constructor(private readonly signal: AbortSignal | undefined) {}

  private get stopped(): boolean {
    return this.signal?.aborted ?? false;
  }

  request(r: RunRequest): void {
    this.requests.push(r);
    for (const w of [...this.wakers]) w();
  }

  /** Takes the first pending request among `accept`, if any. */
  take(accept: RunRequest[]): RunRequest | undefined {
    const i = this.requests.findIndex((r) => accept.includes(r));
    if (i < 0) return undefined;
    const [r] = this.requests.splice(i, 1);
    return r;
  }

  /**
   * Runs one interruptible wait: settles with the port's value, or throws Interrupted when
   * the run is stopped or a request arrives (even if the port ignores its signal).
   */
  async wait<T>(fn: (signal: AbortSignal) => Promise<T>, interruptBy: RunRequest[]): Promise<T> {
    if (this.stopped) throw new Interrupted('stop');
    if (this.requests.some((r) => interruptBy.includes(r))) throw new Interrupted('request');
    const ctl = new AbortController();
    const onStop = () => ctl.abort();
    const onWake = () => {
      if (this.requests.some((r) => interruptBy.includes(r))) ctl.abort();
    };
    this.signal?.addEventListener('abort', onStop, { once: true });
    this.wakers.add(onWake);
    let rejectInterrupt!: (e: Error) => void;
    const interrupted = new Promise<never>((_, rej) => (rejectInterrupt = rej));
    ctl.signal.addEventListener('abort', () => rejectInterrupt(new Interrupted(this.stopped ? 'stop' : 'request')), { once: true });
    try {
      return await Promise.race([fn(ctl.signal), interrupted]);
    } catch (e) {
      if (ctl.signal.aborted) throw new Interrupted(this.stopped ? 'stop' : 'request');
      throw e;
    } finally {
      this.signal?.removeEventListener('abort', onStop);
      this.wakers.delete(onWake);
      interrupted.catch(() => undefined);
      ctl.abort();
    }
  }
}

/** The real clock for the engine (tests inject a fake one). */
export const systemClock: Pick<RolloutPorts, 'sleep' | 'now'> = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    }),
};
