/**
 * Shared pieces of the cluster tests that run against the sandbox through the real client:
 * a recording logger, a poller, and "is the store equal to the sandbox's truth".
 */
import { createClusterStore, type ClusterStoreOptions } from '../../src/cluster/index';
import { observeApplication, observeInferenceService, resolveApplication } from '../../src/cluster/derive';
import type { Store } from '../../src/cluster/store';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/index';
import { APPLICATIONS, INFERENCE_SERVICES } from '../../src/sandbox/resources';

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

export async function until<T>(fn: () => T | undefined | false, what: string | (() => string), ms = 30000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
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

export async function sandboxAndStore(
  sbOpts: SandboxOptions = {},
  storeOpts: Partial<ClusterStoreOptions> = {},
): Promise<{ sb: Sandbox; store: Store; log: RecordingLog; close: () => Promise<void> }> {
  const sb = await startSandbox({ syncDelayMs: 200, rolloutDelayMs: 100, pollMs: 100, bookmarkMs: 1000, ...sbOpts });
  const log = recordingLog();
  const store = await createClusterStore({
    settings: { kubeconfigPath: sb.kubeconfigPath },
    gitops: { root: sb.gitopsClone },
    log,
    env: {},
    ...storeOpts,
    tuning: { ...TEST_TUNING, ...(storeOpts.tuning ?? {}) },
  });
  const close = async () => {
    store.dispose();
    await sb.stop();
    const { rmSync } = await import('node:fs');
    rmSync(sb.dir, { recursive: true, force: true });
  };
  return { sb, store, log, close };
}

/**
 * First difference between what the store holds and what the sandbox holds right now
 * (every InferenceService of the watched namespaces, its printer columns and spec, and the
 * Applications), or undefined when they are equal.
 */
export function differenceFromTruth(sb: Sandbox, store: Store): string | undefined {
  const envs = store.environments();
  const seen = new Set<string>();
  for (const e of envs) {
    for (const o of sb.controller.store.list(INFERENCE_SERVICES, e.namespace)) {
      const t = observeInferenceService(o);
      seen.add(t.key);
      const s = store.get(t.key);
      if (!s || s.missing) return `${t.key}: missing in the store`;
      const fields = ['prevPercent', 'latestPercent', 'prevRevision', 'latestRevision', 'ready', 'specPercent', 'generation', 'observedGeneration', 'deploymentMode', 'latestCreatedRevision', 'url'] as const;
      for (const f of fields) {
        if (JSON.stringify(s[f]) !== JSON.stringify(t[f])) return `${t.key}: ${f} is ${JSON.stringify(s[f])} in the store, ${JSON.stringify(t[f])} in the sandbox`;
      }
    }
  }
  for (const s of store.services()) {
    if (!s.missing && !seen.has(s.key)) return `${s.key}: in the store, not in the sandbox`;
  }
  const toolings = store.toolingsNamespace();
  for (const a of toolings ? sb.controller.store.list(APPLICATIONS, toolings) : []) {
    const s = store.services().find((x) => x.application?.name === a.metadata.name);
    const t = resolveApplication(observeApplication(a), s?.desired?.remote);
    if (s && JSON.stringify(s.application) !== JSON.stringify(t)) return `application ${t.name}: ${JSON.stringify(s.application)} in the store, ${JSON.stringify(t)} in the sandbox`;
  }
  return undefined;
}

export async function converged(sb: Sandbox, store: Store, ms = 30000): Promise<void> {
  let last: string | undefined;
  await until(
    () => {
      last = differenceFromTruth(sb, store);
      return last === undefined;
    },
    () => `the store to equal the sandbox (${last})`,
    ms,
  );
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
