/**
 * What the `kube-apiserver` sandbox backend creates on a fresh real API server: the CRDs
 * (InferenceService, Argo CD Application, OpenShift Route, their printer columns taken from
 * resources.ts, which copies KServe's and Argo CD's CRDs), the workshop user's rights
 * (ClusterRoles written out here, since a bare kube-apiserver runs no clusterrole-aggregation
 * controller and its bootstrap `edit`/`view` roles stay empty; RoleBindings per namespace) and
 * the namespaces. The seed objects come from the sandbox's own KServe and Argo CD controllers
 * (controllers.ts), run as API clients of the real server, replaying the gitops history.
 */
import { kubeCall, kubeRequest, type KubeClient } from './kube-backend-http';
import { APPLICATIONS, INFERENCE_SERVICES, ROUTES, type ResourceType } from './resources';
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
      names: {
        kind: t.kind,
        listKind: `${t.kind}List`,
        plural: t.plural,
        singular: t.singular,
        ...(t.shortNames.length ? { shortNames: t.shortNames } : {}),
        ...(t.categories.length ? { categories: t.categories } : {}),
      },
      scope: t.namespaced ? 'Namespaced' : 'Cluster',
      versions: [
        {
          name: t.version,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', properties: { spec: OPEN, status: OPEN } } },
          ...(t.statusSubresource ? { subresources: { status: {} } } : {}),
          additionalPrinterColumns: t.printerColumns.map((c) => ({
            name: c.name,
            type: c.type,
            jsonPath: c.jsonPath,
            ...(c.priority ? { priority: c.priority } : {}),
            ...(c.description ? { description: c.description } : {}),
          })),
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

/** CRDs, roles, the namespaces and the user's bindings in them (no objects: the controllers seed those). */
export async function setUpCluster(admin: KubeClient, user: string): Promise<void> {
  await createCrds(admin);
  for (const role of [clusterRole(EDIT_ROLE, true), clusterRole(VIEW_ROLE, false)]) {
    await kubeCall(admin, 'POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles', role, [409]);
  }
  for (const env of ['test', 'prod', 'toolings']) {
    const name = `${user}-${env}`;
    await kubeCall(
      admin,
      'POST',
      '/api/v1/namespaces',
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name, 'modelmesh-enabled': 'false' } } },
      [409],
    );
  }
  for (const b of roleBindings(user)) {
    await kubeCall(admin, 'POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${b.metadata.namespace}/rolebindings`, b, [409]);
  }
}
