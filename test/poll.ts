/**
 * The one polling helper of the tests and benches: waits for a condition, never for a fixed
 * time. Every other wait in test/ and bench/ goes through it: sandbox-helpers' until,
 * test/sandbox/helpers' waitFor, the extension-host suites' until (canary-helpers, bundled into
 * the host), the browser workbench's poll (test/e2e/workbench) and bench/cluster.bench.
 * It imports nothing, so it bundles into the extension host as it is.
 */

/**
 * Calls `fn` until it returns something other than undefined, null or false, and returns that.
 * A throw counts as "not yet" (its message is kept for the timeout error). `what` (or a
 * function giving it, evaluated at the timeout) names what was awaited. `intervalMs` is the
 * pause between two calls (25 ms; a bench measuring a latency polls faster).
 */
export async function until<T>(
  fn: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  what: string | (() => string),
  ms = 30000,
  intervalMs = 25,
): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== null && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) {
      const reason = last === undefined ? '' : `: ${last instanceof Error ? last.message : String(last)}`;
      throw new Error(`timed out after ${ms} ms waiting for ${typeof what === 'string' ? what : what()}${reason}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * `until` for conditions whose "not yet" is any falsy value (0, '' included), the calling
 * order of the host and browser suites: the timeout message adds the last value seen.
 */
export function untilTruthy<T>(what: string, fn: () => T | Promise<T>, ms = 30000, intervalMs = 25): Promise<NonNullable<T>> {
  let last: unknown;
  return until(
    async () => {
      last = await fn();
      return (last || undefined) as NonNullable<T> | undefined;
    },
    () => `${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`,
    ms,
    intervalMs,
  );
}
