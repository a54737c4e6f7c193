/**
 * Exponential backoff with jitter: initial → max, doubling, each delay drawn in
 * [delay/2, delay] ("equal jitter") so many watchers failing together spread out instead
 * of retrying in lock-step. reset() after a success.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly initialMs = 1000,
    private readonly maxMs = 30000,
    private readonly random: () => number = Math.random,
  ) {}

  /** The next delay (ms), and counts one more failure. */
  next(): number {
    const ceiling = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    const half = ceiling / 2;
    return Math.round(half + this.random() * half);
  }

  get failures(): number {
    return this.attempt;
  }

  reset(): void {
    this.attempt = 0;
  }
}

/** Resolves after ms, or early (without throwing) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
