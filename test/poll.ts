/**
 * The one polling helper of the tests: waits for a condition, never for a fixed time. Every
 * other wait in test/ (sandbox-helpers' until, test/sandbox/helpers' waitFor) goes through it.
 */

/**
 * Calls `fn` until it returns something other than undefined, null or false, and returns that.
 * A throw counts as "not yet" (its message is kept for the timeout error). `what` (or a
 * function giving it, evaluated at the timeout) names what was awaited.
 */
export async function until<T>(fn: () => T | undefined | null | false | Promise<T | undefined | null | false>, what: string | (() => string), ms = 30000): Promise<T> {
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
    await new Promise((r) => setTimeout(r, 25));
  }
}
