/**
 * Whether this run may write the code cache of the CLI's bundles at exit (src/cli/bundle-cache.ts).
 * A run that only prints help does not: its cache would hold little of what a command runs.
 * A module of its own, without imports, so the dispatcher can say so without loading the loader.
 * The answer lives on globalThis: a bundle that loads another (cli-git.js loads cli-yaml.js)
 * holds its own copy of this module, and every copy must give the dispatcher's answer.
 */
const SKIP = Symbol.for('kserve-canary.skip-cache-writes');
const state = globalThis as unknown as Record<symbol, boolean | undefined>;

/** This run only prints help: the next run of a command writes the cache. */
export function skipCacheWrites(): void {
  state[SKIP] = true;
}

export function cacheWritesAllowed(): boolean {
  return state[SKIP] !== true;
}
