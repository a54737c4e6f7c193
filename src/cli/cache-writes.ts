/**
 * Whether this run may write the code cache of the CLI's bundles at exit (src/cli/bundle-cache.ts).
 * A run that only prints help does not: its cache would hold little of what a command runs.
 * A module of its own, without imports, so the dispatcher can say so without loading the loader.
 */
let allowed = true;

/** This run only prints help: the next run of a command writes the cache. */
export function skipCacheWrites(): void {
  allowed = false;
}

export function cacheWritesAllowed(): boolean {
  return allowed;
}
