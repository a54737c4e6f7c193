/**
 * The sandbox API server's discovery: /version, /api, /apis and the group-versions' resource
 * lists (status subresources included), and a minimal /openapi/v3.
 */
import { RESOURCE_TYPES } from './resources';

export const KUBE_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-sandbox',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.23.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};

function verbsOf(): string[] {
  return ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
}

/** The discovery document at `path` (undefined: not a discovery path); `port` goes into /api. */
export function discovery(path: string, port: number): unknown {
  if (path === '/version') return KUBE_VERSION;
  if (path === '/api') {
    return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${port}` }] };
  }
  const groups = [...new Set(RESOURCE_TYPES.filter((t) => t.group).map((t) => t.group))];
  const groupInfo = (g: string) => {
    const v = RESOURCE_TYPES.find((t) => t.group === g)!.version;
    const gv = { groupVersion: `${g}/${v}`, version: v };
    return { name: g, versions: [gv], preferredVersion: gv };
  };
  if (path === '/apis') return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map(groupInfo) };
  const resourceList = (g: string, v: string) => {
    const types = RESOURCE_TYPES.filter((t) => t.group === g && t.version === v);
    if (!types.length) return undefined;
    const resources: unknown[] = [];
    for (const t of types) {
      const r: Record<string, unknown> = { name: t.plural, singularName: t.singular, namespaced: t.namespaced, kind: t.kind, verbs: verbsOf() };
      if (t.shortNames.length) r.shortNames = t.shortNames;
      if (t.categories.length) r.categories = t.categories;
      resources.push(r);
      if (t.statusSubresource)
        resources.push({ name: `${t.plural}/status`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: ['get', 'patch', 'update'] });
    }
    return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: g ? `${g}/${v}` : v, resources };
  };
  if (path === '/api/v1') return resourceList('', 'v1');
  let m = /^\/apis\/([^/]+)$/.exec(path);
  if (m && groups.includes(m[1]!)) return { kind: 'APIGroup', apiVersion: 'v1', ...groupInfo(m[1]!) };
  m = /^\/apis\/([^/]+)\/([^/]+)$/.exec(path);
  if (m) return resourceList(m[1]!, m[2]!);
  if (path === '/openapi/v3') {
    const paths: Record<string, unknown> = {};
    for (const t of RESOURCE_TYPES) {
      const key = t.group ? `apis/${t.group}/${t.version}` : 'api/v1';
      paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=sandbox0` };
    }
    return { paths };
  }
  m = /^\/openapi\/v3\/(api\/v1|apis\/([^/]+)\/([^/]+))$/.exec(path);
  if (m) return openApiV3(m[2] ?? '', m[3] ?? 'v1');
  return undefined;
}

/**
 * A minimal OpenAPI v3 document per group-version: enough for kubectl to see that the
 * server does field validation (the PATCH operations declare `fieldValidation`).
 */
function openApiV3(group: string, version: string): unknown {
  const types = RESOURCE_TYPES.filter((t) => t.group === group && t.version === version);
  if (!types.length) return undefined;
  const paths: Record<string, unknown> = {};
  for (const t of types) {
    const base = t.group ? `/apis/${t.group}/${t.version}` : '/api/v1';
    const item = t.namespaced ? `${base}/namespaces/{namespace}/${t.plural}/{name}` : `${base}/${t.plural}/{name}`;
    const gvk = { group: t.group, version: t.version, kind: t.kind };
    const op = (id: string) => ({
      operationId: `${id}${t.kind}`,
      'x-kubernetes-group-version-kind': gvk,
      parameters: [
        { name: 'dryRun', in: 'query', schema: { type: 'string' } },
        { name: 'fieldManager', in: 'query', schema: { type: 'string' } },
        { name: 'fieldValidation', in: 'query', schema: { type: 'string' } },
      ],
      responses: { '200': { description: 'OK' } },
    });
    paths[item] = { get: op('read'), put: op('replace'), patch: op('patch'), delete: op('delete') };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: KUBE_VERSION.gitVersion }, paths, components: { schemas: {} } };
}
