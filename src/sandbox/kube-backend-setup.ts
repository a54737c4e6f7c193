/**
 * What the `kube-apiserver` sandbox backend creates on a fresh real API server: the CRDs
 * (InferenceService, Argo CD Application, OpenShift Route, their printer columns taken from
 * resources.ts, which copies KServe's and Argo CD's CRDs), the workshop user's rights
 * (ClusterRoles written out here, since a bare kube-apiserver runs no clusterrole-aggregation
 * controller and its bootstrap `edit`/`view` roles stay empty; RoleBindings per namespace), and
 * the seed objects, made by replaying the gitops history through the sandbox's own KServe and
 * Argo CD controllers on an in-memory store (seed.ts) and then written to the server: spec by
 * create, status through /status.
 */
import { ArgoController } from './argocd';
import { KServeController, type KServeDialect } from './kserve';
import { kubeCall, kubeRequest, type KubeClient } from './kube-backend-http';
import { APPLICATIONS, INFERENCE_SERVICES, NAMESPACES, ROUTES, apiVersionOf, type ResourceType } from './resources';
import { seedCluster, seedGitops, seedNamespaces } from './seed';
import { Store } from './store';
import type { KObject } from './types';

const CUSTOM_TYPES = [INFERENCE_SERVICES, APPLICATIONS, ROUTES];
const OPEN = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };

/** The CustomResourceDefinition of one of the sandbox's resource types. */
export function crdFor(t: ResourceType): KObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${t.plural}.${t.group}` },
    spec: {
      group: t.group,
      names: { kind: t.kind, listKind: `${t.kind}List`, plural: t.plural, singular: t.singular, ...(t.shortNames.length ? { shortNames: t.shortNames } : {}), ...(t.categories.length ? { categories: t.categories } : {}) },
      scope: t.namespaced ? 'Namespaced' : 'Cluster',
      versions: [
        {
          name: t.version,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', properties: { spec: OPEN, status: OPEN } } },
          ...(t.statusSubresource ? { subresources: { status: {} } } : {}),
          additionalPrinterColumns: t.printerColumns.map((c) => ({ name: c.name, type: c.type, jsonPath: c.jsonPath, ...(c.priority ? { priority: c.priority } : {}), ...(c.description ? { description: c.description } : {}) })),
        },
      ],
    },
  };
}

export const EDIT_ROLE = 'kserve-canary-workshop-edit';
export const VIEW_ROLE = 'kserve-canary-workshop-view';
const READ = ['get', 'list', 'watch'];
const WRITE = [...READ, 'create', 'update', 'patch', 'delete', 'deletecollection'];

function clusterRole(name: string, write: boolean): KObject {
  const verbs = write ? WRITE : READ;
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name },
    rules: [
      { apiGroups: ['serving.kserve.io'], resources: ['inferenceservices'], verbs },
      { apiGroups: ['serving.kserve.io'], resources: ['inferenceservices/status'], verbs: ['get'] },
      { apiGroups: ['argoproj.io'], resources: ['applications'], verbs },
      { apiGroups: ['route.openshift.io'], resources: ['routes'], verbs },
      { apiGroups: ['route.openshift.io'], resources: ['routes/status'], verbs: ['get'] },
      { apiGroups: [''], resources: ['configmaps', 'services', 'pods', 'persistentvolumeclaims', ...(write ? ['secrets'] : [])], verbs },
      { apiGroups: [''], resources: ['events', 'pods/log'], verbs: READ },
    ],
  };
}

/** `<user>-test`/`-prod`: edit; `<user>-toolings`: view; nothing cluster-wide. */
export function roleBindings(user: string): KObject[] {
  const bind = (env: string, role: string): KObject => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: `${user}-${role}`, namespace: `${user}-${env}` },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
  });
  return [bind('test', EDIT_ROLE), bind('prod', EDIT_ROLE), bind('toolings', VIEW_ROLE)];
}

export function collectionPath(t: ResourceType, namespace?: string): string {
  const base = t.group ? `/apis/${t.group}/${t.version}` : `/api/${t.version}`;
  return `${base}${t.namespaced && namespace ? `/namespaces/${namespace}` : ''}/${t.plural}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function createCrds(admin: KubeClient): Promise<void> {
  for (const t of CUSTOM_TYPES) await kubeCall(admin, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crdFor(t), [409]);
  // established, then served (discovery and the collection answer)
  for (const t of CUSTOM_TYPES) {
    const end = Date.now() + 60000;
    for (;;) {
      const a = await kubeRequest(admin, 'GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${t.plural}.${t.group}`);
      const conds = ((a.body as KObject | undefined)?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
      const established = conds.some((c) => c.type === 'Established' && c.status === 'True');
      if (established && (await kubeRequest(admin, 'GET', collectionPath(t))).status === 200) break;
      if (Date.now() > end) throw new Error(`CRD ${t.plural}.${t.group} not established after 60 s`);
      await sleep(100);
    }
  }
}

function forCreate(o: KObject, t: ResourceType): KObject {
  const { resourceVersion: _rv, uid: _uid, creationTimestamp: _ct, generation: _g, managedFields: _mf, selfLink: _sl, ...metadata } = o.metadata as Record<string, unknown>;
  return { ...o, apiVersion: apiVersionOf(t), kind: t.kind, metadata } as KObject;
}

/** Creates one seed object; with a status subresource, writes its status next (observedGeneration = the server's generation). */
async function put(admin: KubeClient, t: ResourceType, o: KObject): Promise<void> {
  const ns = o.metadata.namespace;
  const created = (await kubeCall(admin, 'POST', collectionPath(t, ns), forCreate(o, t))).body as KObject;
  if (!t.statusSubresource || !o.status || t === NAMESPACES) return;
  const status = { ...(o.status as Record<string, unknown>) };
  if ('observedGeneration' in status) status.observedGeneration = created.metadata.generation;
  await kubeCall(admin, 'PUT', `${collectionPath(t, ns)}/${o.metadata.name}/status`, { ...created, status });
}

export interface SetupOptions {
  dir: string;
  user: string;
  domain: string;
  gitopsRemote: string;
  gitopsClone: string;
  dialect: KServeDialect;
  seed: boolean;
}

/** CRDs, roles and bindings, namespaces, and (with seed) the gitops repo and the seed objects. */
export async function setUpCluster(admin: KubeClient, o: SetupOptions): Promise<void> {
  await createCrds(admin);
  for (const role of [clusterRole(EDIT_ROLE, true), clusterRole(VIEW_ROLE, false)]) {
    await kubeCall(admin, 'POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles', role, [409]);
  }
  // the seed, as the embedded sandbox makes it, on a throwaway in-memory store
  const mem = new Store(1000);
  seedNamespaces(mem, o.user, o.domain);
  if (o.seed) {
    await seedGitops(o.dir, o.user, o.gitopsRemote, o.gitopsClone);
    const kserve = new KServeController(mem, { rolloutDelayMs: 0, dialect: o.dialect, domain: o.domain });
    const argo = new ArgoController(mem, { bareRepo: o.gitopsRemote, branch: 'main', toolingsNamespace: `${o.user}-toolings`, user: o.user, pollMs: 1000, syncDelayMs: 0, selfHeal: true });
    await seedCluster(o.gitopsRemote, 'main', argo, kserve, mem);
  }
  for (const ns of mem.list(NAMESPACES)) await put(admin, NAMESPACES, ns);
  for (const b of roleBindings(o.user)) {
    await kubeCall(admin, 'POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${b.metadata.namespace}/rolebindings`, b, [409]);
  }
  for (const t of CUSTOM_TYPES) {
    if (!o.seed && t !== ROUTES) continue;
    for (const obj of mem.list(t)) await put(admin, t, obj);
  }
}
