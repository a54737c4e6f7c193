/**
 * Shared pieces of the cluster tests that run against the sandbox through the real client:
 * a recording logger, a poller, a store on a sandbox, and (re-exported from converge.ts, the
 * one such check of both backends) "is the store equal to the server's truth".
 */
import { createClusterStore, type ClusterStoreOptions } from '../../src/cluster/index';
import type { Store } from '../../src/cluster/store';
import type { Sandbox, SandboxOptions } from '../../src/sandbox/index';
import { openSandbox } from '../sandbox/helpers';
import { INFERENCE_SERVICES } from '../../src/sandbox/resources';
import { until } from '../poll';

export { applicationTruth, converged, differences, isvcTruth } from './converge';

export interface RecordingLog {
  lines: { level: string; message: string }[];
  info(m: string): void;
  warn(m: string): void;
  error(m: string): void;
  debug(m: string): void;
  /** Warnings and errors (the classified problems), optionally only those matching. */
  problems(re?: RegExp): string[];
}

export function recordingLog(echo = !!process.env.KSC_TEST_VERBOSE): RecordingLog {
  const lines: RecordingLog['lines'] = [];
  const add = (level: string) => (message: string) => {
    lines.push({ level, message });
    if (echo) console.log(`[${level}] ${message}`);
  };
  return {
    lines,
    info: add('info'),
    warn: add('warn'),
    error: add('error'),
    debug: add('debug'),
    problems: (re) => lines.filter((l) => (l.level === 'warn' || l.level === 'error') && (!re || re.test(l.message))).map((l) => l.message),
  };
}

export { until };

/**
 * True once the last connection episode in the log has ended (a "fine again" line after the last
 * warning), or when there was none: a test starting a new episode waits for it, whatever ran before.
 */
export function episodeOver(log: RecordingLog): boolean {
  const lastWarn = log.lines.map((l) => l.level).lastIndexOf('warn');
  const lastFine = log.lines.map((l) => /fine again/.test(l.message)).lastIndexOf(true);
  return lastWarn < 0 || lastFine > lastWarn;
}

/** Fast-reacting tuning for tests (same code paths, shorter clocks). */
export const TEST_TUNING: NonNullable<ClusterStoreOptions['tuning']> = {
  coalesceMs: 20,
  backoffInitialMs: 100,
  backoffMaxMs: 1500,
  requestTimeoutMs: 5000,
  watchIdleMs: 4000,
  kubeconfigDebounceMs: 100,
  episodeQuietMs: 3000,
};

/** A cluster store on a sandbox of either backend, with the test tuning and a recording log. */
export async function storeOn(
  sb: Pick<Sandbox, 'kubeconfigPath' | 'gitopsClone'>,
  storeOpts: Partial<ClusterStoreOptions> = {},
): Promise<{ store: Store; log: RecordingLog }> {
  const log = recordingLog();
  const store = await createClusterStore({
    settings: { kubeconfigPath: sb.kubeconfigPath },
    gitops: { root: sb.gitopsClone },
    log,
    env: {},
    ...storeOpts,
    tuning: { ...TEST_TUNING, ...(storeOpts.tuning ?? {}) },
  });
  return { store, log };
}

export async function sandboxAndStore(
  sbOpts: SandboxOptions = {},
  storeOpts: Partial<ClusterStoreOptions> = {},
): Promise<{ sb: Sandbox; store: Store; log: RecordingLog; close: () => Promise<void> }> {
  const sb = await openSandbox({ syncDelayMs: 200, rolloutDelayMs: 100, pollMs: 100, bookmarkMs: 1000, ...sbOpts });
  const { store, log } = await storeOn(sb, storeOpts);
  const close = async () => {
    store.dispose();
    await sb.cleanup();
  };
  return { sb, store, log, close };
}

/** Changes the InferenceService's canaryTrafficPercent directly in the sandbox (as `oc patch` would). */
export function patchSpec(sb: Sandbox, namespace: string, name: string, percent: number | undefined): void {
  const o = sb.controller.store.mustGet(INFERENCE_SERVICES, namespace, name);
  const spec = { ...(o.spec ?? {}) } as Record<string, unknown>;
  const predictor = { ...((spec.predictor as Record<string, unknown>) ?? {}) };
  if (percent === undefined) delete predictor.canaryTrafficPercent;
  else predictor.canaryTrafficPercent = percent;
  spec.predictor = predictor;
  o.spec = spec;
  delete o.metadata.resourceVersion;
  sb.controller.store.update(INFERENCE_SERVICES, o, namespace);
}
