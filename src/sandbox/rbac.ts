/**
 * The embedded API server's RBAC for its one user, as the workshop binds it (kube-backend-setup.ts
 * writes the same rights as real RoleBindings): forbidden namespaces (no binding: 403), view-only
 * namespaces (`view` in `<user>-toolings`: get, list, watch; every write 403), cluster-wide lists
 * (refused while any namespace is forbidden). Also the SelfSubjectAccessReview endpoint that
 * answers "may I?" by the same rules, as `kubectl auth can-i` and the product ask it.
 */
import { ApiError, badRequest, qualified } from './errors';
import type { AccessList } from './faults';
import { NAMESPACES, RESOURCE_TYPES, type ResourceType } from './resources';
import { isPlainObject } from './types';
import type { Identity } from './watch';

export const SELF_SUBJECT_ACCESS_REVIEWS = '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews';

const READ_VERBS: ReadonlySet<string> = new Set(['get', 'list', 'watch']);

/** Why `verb` on `t` (in `ns`, object `name`) is refused for the user, or undefined when allowed. */
export function denial(a: AccessList, user: string, verb: string, t: ResourceType, ns: string | undefined, name: string | undefined): ApiError | undefined {
  const scopeNs = t === NAMESPACES ? name : ns;
  const res = `resource "${t.plural}" in API group "${t.group}"`;
  const refusedIn =
    scopeNs !== undefined && (a.forbiddenNamespaces.has(scopeNs) || (!READ_VERBS.has(verb) && t !== NAMESPACES && a.viewOnlyNamespaces?.has(scopeNs)));
  if (refusedIn) {
    const what = name ? `${qualified(t)} "${name}"` : qualified(t);
    return new ApiError(403, 'Forbidden', `${what} is forbidden: User "${user}" cannot ${verb} ${res} in the namespace "${scopeNs}"`, {
      name,
      group: t.group,
      kind: t.plural,
    });
  }
  // RBAC cannot grant a cluster-wide list minus some namespaces: a forbidden namespace
  // means no cluster-wide access either.
  if (scopeNs === undefined && t.namespaced && (!a.clusterWide || a.forbiddenNamespaces.size > 0)) {
    return new ApiError(403, 'Forbidden', `${qualified(t)} is forbidden: User "${user}" cannot ${verb} ${res} at the cluster scope`, {
      group: t.group,
      kind: t.plural,
    });
  }
  return undefined;
}

/**
 * The answer to a POSTed SelfSubjectAccessReview: `status.allowed` by the rules above (the
 * controllers' admin may do everything; a resource this server does not serve is not allowed).
 * A review without resourceAttributes is refused as the real server refuses it (422).
 */
export function accessReview(body: unknown, a: AccessList, user: string, who: Identity): Record<string, unknown> {
  if (!isPlainObject(body)) throw badRequest('the body of the request must be an object');
  const spec = isPlainObject(body.spec) ? body.spec : {};
  const ra = spec.resourceAttributes;
  if (!isPlainObject(ra)) {
    throw new ApiError(
      422,
      'Invalid',
      'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified',
    );
  }
  const str = (k: string) => (typeof ra[k] === 'string' && ra[k] !== '' ? (ra[k] as string) : undefined);
  const verb = str('verb') ?? '';
  const t = RESOURCE_TYPES.find((x) => x.group === (str('group') ?? '') && x.plural === str('resource') && (!str('version') || x.version === str('version')));
  const allowed = who === 'admin' || (t !== undefined && verb !== '' && !denial(a, user, verb, t, t.namespaced ? str('namespace') : undefined, str('name')));
  return {
    kind: 'SelfSubjectAccessReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: { creationTimestamp: null },
    spec: { resourceAttributes: ra },
    status: allowed ? { allowed: true, reason: 'RBAC: allowed by the sandbox access list' } : { allowed: false },
  };
}

/** The fields (number → bytes) of one protobuf message; only length-delimited and varint fields occur here. */
function protoFields(buf: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let i = 0;
  const varint = (): number => {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      if (i >= buf.length) throw badRequest('the protobuf body of the request is truncated');
      const b = buf[i++]!;
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
    }
  };
  while (i < buf.length) {
    const key = varint();
    const wire = key & 7;
    if (wire === 0) varint();
    else if (wire === 2) {
      const len = varint();
      out.set(Math.floor(key / 8), buf.subarray(i, i + len));
      i += len;
    } else throw badRequest(`the protobuf body of the request has an unexpected wire type ${wire}`);
  }
  return out;
}

/**
 * A SelfSubjectAccessReview sent as Kubernetes protobuf (the `k8s\0` envelope, runtime.Unknown
 * with the object in field 2): its spec.resourceAttributes, as the JSON form's fields.
 */
export function reviewFromProtobuf(buf: Buffer): Record<string, unknown> {
  const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
  if (!buf.subarray(0, 4).equals(MAGIC)) throw badRequest('the body of the request is not a Kubernetes protobuf object');
  const raw = protoFields(buf.subarray(4)).get(2) ?? Buffer.alloc(0);
  const spec = protoFields(raw).get(2);
  const attrs = spec && protoFields(spec).get(1);
  if (!attrs) return { spec: {} };
  const f = protoFields(attrs);
  const names = ['namespace', 'verb', 'group', 'version', 'resource', 'subresource', 'name'];
  const resourceAttributes: Record<string, string> = {};
  names.forEach((n, k) => {
    const v = f.get(k + 1);
    if (v?.length) resourceAttributes[n] = v.toString('utf8');
  });
  return { spec: { resourceAttributes } };
}
