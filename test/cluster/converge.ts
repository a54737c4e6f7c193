/**
 * The tests' one "the product's store equals the server's truth" check, for both sandbox
 * backends: `converged(sb, store)` waits (test/poll.ts `until`) until every field the store
 * derives from an InferenceService or an Application equals what the server's plain list
 * answer says, and on timeout names every difference (key, field, store value, server value).
 *
 * Where the truth comes from: the raw objects of a list, read here by the InferenceService
 * CRD's printer-column JSONPaths (domain.md §3: URL, READY, PREV, LATEST, PREVROLLEDOUTREVISION,
 * LATESTREADYREVISION) plus the spec/metadata/status fields named there (the verdict's inputs:
 * spec percent, generations, traffic targets, revisions, mode), and the Argo CD Application
 * status fields of domain.md §4. This reading is written separately and shares no code with
 * src/cluster/derive.ts (the code under test), so a bug in the derivation cannot sit on both
 * sides of the comparison; test/cluster/truth.test.ts checks it against kubectl's own JSONPath
 * evaluation of the same columns.
 *
 * The list: a real kube-apiserver's answer as its admin (KubeSandbox.admin(), or a
 * BackendSandbox's admin token over HTTPS); the embedded server's answer is its object store's
 * list (what its list handler sends), read in the process, because its admin identity never
 * leaves the process and the user's token is what the fault and RBAC switches under test
 * refuse. `{ api: true }` reads an embedded BackendSandbox over HTTPS with its token as well.
 */
import type { Store } from '../../src/cluster/store';
import { kubeCall, type KubeClient } from '../../src/sandbox/kube-backend-http';
import { APPLICATIONS, INFERENCE_SERVICES } from '../../src/sandbox/resources';
import type { Sandbox } from '../../src/sandbox/index';
import { APP_PATH, ISVC_PATH, listItems } from '../sandbox/backend-api';
import type { BackendSandbox } from '../sandbox/helpers';
import { until } from '../poll';

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
  const predictor = field(o, 'status', 'components', 'predictor');
  const traffic = list(field(predictor, 'traffic'));
  const readyCol = filterFirst(list(field(o, 'status', 'conditions')), 'type', 'Ready', 'status');
  const latestCreatedRevision = text(field(predictor, 'latestCreatedRevision'));
  const latestReadyRevision = text(field(predictor, 'latestReadyRevision'));
  return {
    key: `${text(field(o, 'metadata', 'namespace'))}/${text(field(o, 'metadata', 'name'))}`,
    creationTimestamp: text(field(o, 'metadata', 'creationTimestamp')),
    url: text(field(o, 'status', 'url')),
    ready: readyCol === 'True' ? true : readyCol === 'False' ? false : undefined,
    prevPercent: count(filterFirst(traffic, 'tag', 'prev', 'percent')),
    latestPercent: count(filterFirst(traffic, 'latestRevision', true, 'percent')),
    prevRevision: text(filterFirst(traffic, 'tag', 'prev', 'revisionName')),
    latestRevision: text(filterFirst(traffic, 'latestRevision', true, 'revisionName')),
    traffic: traffic.map((t) => ({
      revisionName: text(t.revisionName),
      percent: count(t.percent),
      tag: text(t.tag),
      latestRevision: t.latestRevision === true,
      url: text(t.url),
    })),
    specPercent: count(field(o, 'spec', 'predictor', 'canaryTrafficPercent')),
    generation: count(field(o, 'metadata', 'generation')),
    observedGeneration: count(field(o, 'status', 'observedGeneration')),
    // status.deploymentMode, else the annotation, else KServe's default before 0.16
    deploymentMode: text(field(o, 'status', 'deploymentMode')) || text(field(o, 'metadata', 'annotations', 'serving.kserve.io/deploymentMode')) || 'Serverless',
    latestCreatedRevision,
    latestReadyRevision,
    // domain.md §3: a created revision that is not the ready one is "new revision not ready"
    newRevisionNotReady: latestCreatedRevision !== undefined && latestCreatedRevision !== latestReadyRevision,
    latestRolledoutRevision: text(field(predictor, 'latestRolledoutRevision')),
    previousRolledoutRevision: text(field(predictor, 'previousRolledoutRevision')),
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

const show = (v: unknown) => (v === undefined ? 'undefined' : JSON.stringify(v));

/**
 * Every difference between the store and raw objects of a list (`isvcs` of the store's watched
 * namespaces, `apps` of its toolings one), one line each; empty when they are equal.
 */
export function differences(isvcs: readonly unknown[], apps: readonly unknown[], store: Store): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const o of isvcs) {
    const t = isvcTruth(o);
    seen.add(t.key);
    const s = store.get(t.key);
    if (!s || s.missing) {
      out.push(`${t.key}: on the server, missing in the store`);
      continue;
    }
    for (const [f, v] of Object.entries(t)) {
      const got = s[f as keyof typeof s];
      if (show(got) !== show(v)) out.push(`${t.key}: ${f}: store ${show(got)}, server ${show(v)}`);
    }
  }
  for (const s of store.services()) if (!s.missing && !seen.has(s.key)) out.push(`${s.key}: in the store, not on the server`);
  for (const a of apps) {
    const t = applicationTruth(a);
    const s = store.services().find((x) => x.application?.name === t.name);
    if (!s) continue;
    for (const [f, v] of Object.entries(t)) {
      const got = (s.application as Record<string, unknown> | undefined)?.[f];
      if (show(got) !== show(v)) out.push(`application ${t.name}: ${f}: store ${show(got)}, server ${show(v)}`);
    }
  }
  return out;
}

/** A sandbox of either backend, as the suites hold it. */
export type TruthSource = Pick<Sandbox, 'server'> &
  Partial<Pick<Sandbox, 'controller'>> &
  Partial<Pick<BackendSandbox, 'backend' | 'adminToken' | 'caFile' | 'userToken'>> & { admin?: () => KubeClient };

/** The server's plain list answers: InferenceServices of `namespaces`, Applications of `toolings`. */
export async function listTruth(
  sb: TruthSource,
  namespaces: readonly string[],
  toolings: string | undefined,
  api = false,
): Promise<{ isvcs: unknown[]; apps: unknown[] }> {
  let items: (path: string) => Promise<unknown[]>;
  if (sb.admin) {
    const admin = sb.admin();
    items = async (path) => ((await kubeCall(admin, 'GET', path)).body as { items: unknown[] }).items;
  } else if (sb.controller && !api) {
    const objects = sb.controller.store;
    return { isvcs: namespaces.flatMap((ns) => objects.list(INFERENCE_SERVICES, ns)), apps: toolings ? objects.list(APPLICATIONS, toolings) : [] };
  } else {
    items = (path) => listItems(sb as BackendSandbox, path);
  }
  const isvcs = (await Promise.all(namespaces.map((ns) => items(ISVC_PATH(ns))))).flat();
  return { isvcs, apps: toolings ? await items(APP_PATH(toolings)) : [] };
}

/**
 * Waits until the store equals the server's truth (see the file comment); the timeout error
 * lists every field that still differs, or why the server could not be listed.
 */
export async function converged(sb: TruthSource, store: Store, opts: { ms?: number; api?: boolean } | number = {}): Promise<void> {
  const { ms = 60000, api = false } = typeof opts === 'number' ? { ms: opts } : opts;
  let last: string[] = [];
  await until(
    async () => {
      const truth = await listTruth(
        sb,
        store.environments().map((e) => e.namespace),
        store.toolingsNamespace(),
        api,
      );
      last = differences(truth.isvcs, truth.apps, store);
      return last.length === 0;
    },
    () =>
      `the store to equal the ${sb.backend ?? (sb.admin ? 'kube-apiserver' : 'embedded')} server's truth; still different:\n  ${last.join('\n  ') || '(the last list failed)'}`,
    ms,
  );
}
