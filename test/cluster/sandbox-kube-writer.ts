/**
 * Writes real-shaped objects into the sandbox through the real @kubernetes/client-node (GET,
 * then replace with the resourceVersion just read, read again on 409 Conflict; InferenceService
 * status through its /status subresource, Applications whole, as Argo CD's CRD has no status
 * subresource), and waits for / records the verdicts a store reports.
 */
import type { Store } from '../../src/cluster/store';
import type { ServiceState, Verdict } from '../../src/cluster/types';
import type { Sandbox } from '../../src/sandbox/index';
import { until } from './sandbox-helpers';

type Obj = Record<string, unknown> & { metadata: Record<string, unknown> };

const ISVC = { group: 'serving.kserve.io', version: 'v1beta1', plural: 'inferenceservices' };
const APP = { group: 'argoproj.io', version: 'v1alpha1', plural: 'applications' };

export interface KubeWriter {
  /** Replace the InferenceService's whole status (its /status subresource). */
  isvcStatus(namespace: string, name: string, status: Record<string, unknown>): Promise<void>;
  /** Merge-patch the InferenceService (metadata or spec). */
  patchIsvc(namespace: string, name: string, patch: Record<string, unknown>): Promise<void>;
  /** Replace an Application's spec and status (the whole object, as Argo CD writes it). */
  application(namespace: string, name: string, app: Record<string, unknown>): Promise<void>;
}

export async function kubeWriter(sb: Sandbox): Promise<KubeWriter> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(sb.kubeconfigPath);
  const api = kc.makeApiClient(k8s.CustomObjectsApi);
  const get = async (t: typeof ISVC, namespace: string, name: string) => (await api.getNamespacedCustomObject({ ...t, namespace, name })) as Obj;
  /** GET, then PUT what `write` makes of it (it keeps the read resourceVersion); a 409 reads again. */
  const replace = async (t: typeof ISVC, namespace: string, name: string, write: (o: Obj) => Promise<unknown>) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return void (await write(await get(t, namespace, name)));
      } catch (e) {
        if ((e as { code?: number }).code !== 409 || attempt >= 5) throw e;
      }
    }
  };
  return {
    async isvcStatus(namespace, name, status) {
      await replace(ISVC, namespace, name, (o) => api.replaceNamespacedCustomObjectStatus({ ...ISVC, namespace, name, body: { ...o, status } }));
    },
    async patchIsvc(namespace, name, patch) {
      await api.patchNamespacedCustomObject({ ...ISVC, namespace, name, body: patch }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    },
    async application(namespace, name, app) {
      await replace(APP, namespace, name, (o) =>
        api.replaceNamespacedCustomObject({ ...APP, namespace, name, body: { ...o, spec: app.spec, status: app.status } }),
      );
    },
  };
}

/** Every verdict the store reports for `key` from now on (one entry per change event). */
export function recordVerdicts(store: Store, key: string): { seen: Verdict[]; stop: () => void } {
  const seen: Verdict[] = [];
  const off = store.onDidChangeServices((keys) => {
    const s: ServiceState | undefined = keys.includes(key) ? store.get(key) : undefined;
    if (s && seen[seen.length - 1] !== s.verdict) seen.push(s.verdict);
  });
  return { seen, stop: off };
}

/** Waits until the store's state of `key` satisfies `pred`; the timeout names its verdict and reason. */
export function waitForState(store: Store, key: string, pred: (s: ServiceState) => boolean, what: string): Promise<ServiceState> {
  return until(
    () => {
      const s = store.get(key);
      return s && pred(s) ? s : undefined;
    },
    () => `${what} (now: ${store.get(key)?.verdict}: ${store.get(key)?.verdictReason})`,
  );
}
