/**
 * Shared pieces of the cluster tests that run against the sandbox through the real client:
 * a recording logger, a poller, and "is the store equal to the sandbox's truth".
 *
 * Where the truth comes from: the raw objects in the sandbox's store, read here by the
 * InferenceService CRD's printer-column JSONPaths (domain.md §3: URL, READY, PREV, LATEST,
 * PREVROLLEDOUTREVISION, LATESTREADYREVISION) plus the spec/metadata/status fields named there,
 * and the Argo CD Application status fields of domain.md §4. This reading is written
 * separately and shares no code with src/cluster/derive.ts (the code under test), so a bug in
 * the derivation cannot sit on both sides of the comparison; test/cluster/truth.test.ts checks
 * it against kubectl's own JSONPath evaluation of the same columns.
 */
import { createClusterStore, type ClusterStoreOptions } from '../../src/cluster/index';
import type { Store } from '../../src/cluster/store';
import type { Sandbox, SandboxOptions } from '../../src/sandbox/index';
import { openSandbox } from '../sandbox/helpers';
import { APPLICATIONS, INFERENCE_SERVICES } from '../../src/sandbox/resources';
import { until } from '../poll';

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

type Raw = Record<string, unknown>;
const field = (o: unknown, ...keys: string[]): unknown =>
  keys.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Raw)[k] : undefined), o);
const list = (v: unknown): Raw[] => (Array.isArray(v) ? v.filter((x): x is Raw => x !== null && typeof x === 'object') : []);
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const count = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/** `.path[?(@.k==v)].out`: the first element of the list that matches, its `out`. */
function filterFirst(items: Raw[], k: string, v: unknown, out: string): unknown {
  return items.find((t) => t[k] === v)?.[out];
}

/** The truth of one InferenceService: what `oc get isvc` and its status say (domain.md §3). */
export function isvcTruth(o: unknown) {
  const traffic = list(field(o, 'status', 'components', 'predictor', 'traffic'));
  const readyCol = filterFirst(list(field(o, 'status', 'conditions')), 'type', 'Ready', 'status');
  return {
    key: `${text(field(o, 'metadata', 'namespace'))}/${text(field(o, 'metadata', 'name'))}`,
    url: text(field(o, 'status', 'url')),
    ready: readyCol === 'True' ? true : readyCol === 'False' ? false : undefined,
    prevPercent: count(filterFirst(traffic, 'tag', 'prev', 'percent')),
    latestPercent: count(filterFirst(traffic, 'latestRevision', true, 'percent')),
    prevRevision: text(filterFirst(traffic, 'tag', 'prev', 'revisionName')),
    latestRevision: text(filterFirst(traffic, 'latestRevision', true, 'revisionName')),
    specPercent: count(field(o, 'spec', 'predictor', 'canaryTrafficPercent')),
    generation: count(field(o, 'metadata', 'generation')),
    observedGeneration: count(field(o, 'status', 'observedGeneration')),
    // status.deploymentMode, else the annotation, else KServe's default before 0.16
    deploymentMode: text(field(o, 'status', 'deploymentMode')) || text(field(o, 'metadata', 'annotations', 'serving.kserve.io/deploymentMode')) || 'Serverless',
    latestCreatedRevision: text(field(o, 'status', 'components', 'predictor', 'latestCreatedRevision')),
  };
}

/** The truth of one Argo CD Application (domain.md §4). */
export function applicationTruth(a: unknown) {
  return {
    name: text(field(a, 'metadata', 'name')) ?? '',
    namespace: text(field(a, 'metadata', 'namespace')) ?? '',
    syncStatus: text(field(a, 'status', 'sync', 'status')),
    // single source: sync.revision; multi-source: sync.revisions[]
    revision: text(field(a, 'status', 'sync', 'revision')) || text(([] as unknown[]).concat(field(a, 'status', 'sync', 'revisions') ?? [])[0]),
    healthStatus: text(field(a, 'status', 'health', 'status')),
    healthMessage: text(field(a, 'status', 'health', 'message')),
    operationPhase: text(field(a, 'status', 'operationState', 'phase')),
    operationMessage: text(field(a, 'status', 'operationState', 'message')),
  };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * First difference between what the store holds and what the sandbox holds right now
 * (every InferenceService of the watched namespaces, its printer columns and spec, and the
 * Applications), or undefined when they are equal.
 */
export function differenceFromTruth(sb: Sandbox, store: Store): string | undefined {
  const toolings = store.toolingsNamespace();
  return differenceFromObjects(
    store.environments().flatMap((e) => sb.controller.store.list(INFERENCE_SERVICES, e.namespace)),
    toolings ? sb.controller.store.list(APPLICATIONS, toolings) : [],
    store,
  );
}

/**
 * The same comparison against raw objects from anywhere (the embedded store, or a real API
 * server's list answers): `isvcs` of the store's watched namespaces, `apps` of its toolings one.
 */
export function differenceFromObjects(isvcs: readonly unknown[], apps: readonly unknown[], store: Store): string | undefined {
  const seen = new Set<string>();
  for (const o of isvcs) {
    const t = isvcTruth(o);
    seen.add(t.key);
    const s = store.get(t.key);
    if (!s || s.missing) return `${t.key}: missing in the store`;
    for (const [f, v] of Object.entries(t)) {
      if (!same(s[f as keyof typeof s], v)) return `${t.key}: ${f} is ${JSON.stringify(s[f as keyof typeof s])} in the store, ${JSON.stringify(v)} in the sandbox`;
    }
  }
  for (const s of store.services()) {
    if (!s.missing && !seen.has(s.key)) return `${s.key}: in the store, not in the sandbox`;
  }
  for (const a of apps) {
    const t = applicationTruth(a);
    const s = store.services().find((x) => x.application?.name === t.name);
    if (!s) continue;
    for (const [f, v] of Object.entries(t)) {
      const got = (s.application as Record<string, unknown> | undefined)?.[f];
      if (!same(got, v)) return `application ${t.name}: ${f} is ${JSON.stringify(got)} in the store, ${JSON.stringify(v)} in the sandbox`;
    }
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
