/**
 * In-memory object store with the API server's bookkeeping: one global, monotonic
 * resourceVersion; uid, creationTimestamp, generation; optimistic concurrency; status
 * written only through the status subresource; finalizers; a bounded event log for
 * watches (older versions answer 410 Gone).
 */
import { randomUUID } from 'node:crypto';
import { ApiError, alreadyExists, badRequest, conflict, invalid, notFound, type StatusCause } from './errors';
import { NAMESPACES, RESOURCE_TYPES, apiVersionOf, typeKey, type ResourceType } from './resources';
import { clone, deepEqual, isPlainObject, type KObject } from './types';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  rv: number;
  type: EventType;
  resource: ResourceType;
  object: KObject;
  /** The object before the change (MODIFIED, DELETED). */
  previous: KObject | undefined;
}

export interface StoreSnapshot {
  rv: number;
  objects: Array<{ type: string; object: KObject }>;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function objKey(ns: string | undefined, name: string): string {
  return `${ns ?? ''}/${name}`;
}

function withoutMetaAndStatus(o: KObject, dropStatus: boolean): Record<string, unknown> {
  const { metadata: _m, status, ...rest } = o;
  return dropStatus ? rest : { ...rest, status };
}

export class ObjectStore {
  private rv = 0;
  private compactedRv = 0;
  private readonly log: StoreEvent[] = [];
  private readonly objects = new Map<string, Map<string, KObject>>();
  private readonly listeners = new Set<(e: StoreEvent) => void>();

  constructor(private readonly windowSize = 1000) {
    for (const t of RESOURCE_TYPES) this.objects.set(typeKey(t), new Map());
  }

  get resourceVersion(): number {
    return this.rv;
  }

  get oldestWatchableVersion(): number {
    return this.compactedRv;
  }

  private bucket(t: ResourceType): Map<string, KObject> {
    return this.objects.get(typeKey(t))!;
  }

  /**
   * Forget all events so far, as if unrelated writes had pushed them out of the window:
   * the version moves on by one and a watch from any version before it gets 410 Gone.
   */
  expire(): void {
    this.rv++;
    this.compactedRv = this.rv;
    this.log.length = 0;
  }

  /**
   * Jump the version counter forward (never back) and forget history: used when the state
   * was lost (crash) and rebuilt, so that versions clients still hold are all older.
   */
  advanceTo(rv: number): void {
    if (rv <= this.rv) return;
    this.rv = rv;
    this.compactedRv = rv;
    this.log.length = 0;
  }

  subscribe(fn: (e: StoreEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Events after `rv` (exclusive), or undefined when that version was compacted away. */
  eventsSince(rv: number): StoreEvent[] | undefined {
    if (rv < this.compactedRv) return undefined;
    return this.log.filter((e) => e.rv > rv);
  }

  private emit(type: EventType, resource: ResourceType, object: KObject, previous: KObject | undefined): void {
    const e: StoreEvent = { rv: this.rv, type, resource, object, previous };
    this.log.push(e);
    while (this.log.length > this.windowSize) this.compactedRv = this.log.shift()!.rv;
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch {
        // a listener's failure must not break the write path
      }
    }
  }

  get(t: ResourceType, ns: string | undefined, name: string): KObject | undefined {
    const o = this.bucket(t).get(objKey(t.namespaced ? ns : undefined, name));
    return o && clone(o);
  }

  mustGet(t: ResourceType, ns: string | undefined, name: string): KObject {
    const o = this.get(t, ns, name);
    if (!o) throw notFound(t, name);
    return o;
  }

  list(t: ResourceType, ns?: string): KObject[] {
    const out: KObject[] = [];
    for (const o of this.bucket(t).values()) {
      if (ns === undefined || o.metadata.namespace === ns) out.push(clone(o));
    }
    return out.sort((a, b) => objKey(a.metadata.namespace, a.metadata.name!).localeCompare(objKey(b.metadata.namespace, b.metadata.name!)));
  }

  private validate(t: ResourceType, o: KObject, expectNs: string | undefined): void {
    if (!isPlainObject(o) || !isPlainObject(o.metadata)) throw badRequest('Object has no metadata');
    const name = o.metadata.name ?? '';
    if (o.apiVersion !== undefined && o.apiVersion !== apiVersionOf(t)) {
      throw badRequest(`the API version in the data (${o.apiVersion}) does not match the expected API version (${apiVersionOf(t)})`);
    }
    const causes: StatusCause[] = [];
    if (o.kind !== undefined && o.kind !== t.kind) {
      causes.push({ field: 'kind', message: `Invalid value: "${String(o.kind)}": must be ${t.kind}`, reason: 'FieldValueInvalid' });
    }
    if (!name) causes.push({ field: 'metadata.name', message: 'Required value: name or generateName is required', reason: 'FieldValueRequired' });
    else if (!(t === NAMESPACES ? DNS_LABEL : DNS_SUBDOMAIN).test(name) || name.length > 253) {
      causes.push({
        field: 'metadata.name',
        message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
      });
    }
    if (t.namespaced && expectNs !== undefined && o.metadata.namespace !== undefined && o.metadata.namespace !== expectNs) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    if (t.kind === 'InferenceService') {
      const pred = isPlainObject(o.spec) ? o.spec.predictor : undefined;
      if (!isPlainObject(pred)) {
        causes.push({ field: 'spec.predictor', message: 'Required value', reason: 'FieldValueRequired' });
      } else if (pred.canaryTrafficPercent !== undefined) {
        const p = pred.canaryTrafficPercent;
        if (typeof p !== 'number' || !Number.isInteger(p)) {
          causes.push({
            field: 'spec.predictor.canaryTrafficPercent',
            message: `Invalid value: "${String(p)}": spec.predictor.canaryTrafficPercent in body must be of type integer`,
            reason: 'FieldValueTypeInvalid',
          });
        } else if (p < 0 || p > 100) {
          causes.push({
            field: 'spec.predictor.canaryTrafficPercent',
            message: `Invalid value: ${p}: spec.predictor.canaryTrafficPercent in body should be ${p < 0 ? 'greater than or equal to 0' : 'less than or equal to 100'}`,
          });
        }
      }
    }
    if (causes.length) throw invalid(t, name, causes);
  }

  private checkNamespace(t: ResourceType, ns: string | undefined): void {
    if (!t.namespaced) return;
    if (!ns) throw badRequest('the server could not find the requested resource: a namespace is required');
    if (!this.bucket(NAMESPACES).has(objKey(undefined, ns))) throw notFound(NAMESPACES, ns);
  }

  create(t: ResourceType, input: KObject, ns?: string): KObject {
    const o = clone(input);
    if (isPlainObject(o) && isPlainObject(o.metadata) && !o.metadata.name && o.metadata.generateName) {
      o.metadata.name = o.metadata.generateName + Math.random().toString(36).slice(2, 7);
    }
    this.validate(t, o, ns);
    const namespace = t.namespaced ? (ns ?? o.metadata.namespace) : undefined;
    this.checkNamespace(t, namespace);
    const name = o.metadata.name!;
    const bucket = this.bucket(t);
    if (bucket.has(objKey(namespace, name))) throw alreadyExists(t, name);
    this.rv++;
    o.apiVersion = apiVersionOf(t);
    o.kind = t.kind;
    const meta = o.metadata;
    delete meta.deletionTimestamp;
    if (namespace) meta.namespace = namespace;
    else delete meta.namespace;
    meta.uid = randomUUID();
    meta.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    meta.resourceVersion = String(this.rv);
    if (t.custom || t.kind === 'Route') meta.generation = 1;
    if (t.statusSubresource && t !== NAMESPACES) delete o.status;
    if (t === NAMESPACES) o.status = { phase: 'Active' };
    bucket.set(objKey(namespace, name), o);
    this.emit('ADDED', t, clone(o), undefined);
    return clone(o);
  }

  /**
   * Replace an object (PUT). `subresource: 'status'` changes only status; otherwise status
   * is kept as stored when the type has a status subresource. A resourceVersion in the
   * input must match (409 otherwise); none means unconditional (in-process callers only: the
   * HTTP server refuses a custom resource's PUT without one, 422, as kube-apiserver does).
   */
  update(t: ResourceType, input: KObject, ns?: string, subresource?: 'status'): KObject {
    const o = clone(input);
    if (!isPlainObject(o) || !isPlainObject(o.metadata)) throw badRequest('Object has no metadata');
    const namespace = t.namespaced ? (ns ?? o.metadata.namespace) : undefined;
    const name = o.metadata.name ?? '';
    const bucket = this.bucket(t);
    const existing = bucket.get(objKey(namespace, name));
    if (!existing) throw notFound(t, name);
    const rv = o.metadata.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== existing.metadata.resourceVersion) throw conflict(t, name);
    let next: KObject;
    if (subresource === 'status') {
      next = { ...clone(existing), status: o.status };
      if (o.status === undefined) delete next.status;
    } else {
      this.validate(t, o, namespace);
      next = o;
      next.apiVersion = apiVersionOf(t);
      next.kind = t.kind;
      const m = next.metadata;
      const em = existing.metadata;
      m.namespace = em.namespace;
      if (m.namespace === undefined) delete m.namespace;
      m.uid = em.uid;
      m.creationTimestamp = em.creationTimestamp;
      if (em.deletionTimestamp) m.deletionTimestamp = em.deletionTimestamp;
      else delete m.deletionTimestamp;
      if (t.statusSubresource) {
        if (existing.status === undefined) delete next.status;
        else next.status = clone(existing.status);
      }
      if (em.generation !== undefined) {
        const changed = !deepEqual(withoutMetaAndStatus(existing, t.statusSubresource), withoutMetaAndStatus(next, t.statusSubresource));
        m.generation = em.generation + (changed ? 1 : 0);
      }
    }
    next.metadata.resourceVersion = existing.metadata.resourceVersion;
    if (deepEqual(next, existing)) return clone(existing);
    if (next.metadata.deletionTimestamp && !(next.metadata.finalizers ?? []).length) {
      return this.remove(t, namespace, name, existing);
    }
    this.rv++;
    next.metadata.resourceVersion = String(this.rv);
    bucket.set(objKey(namespace, name), next);
    this.emit('MODIFIED', t, clone(next), clone(existing));
    return clone(next);
  }

  private remove(t: ResourceType, ns: string | undefined, name: string, existing: KObject): KObject {
    this.bucket(t).delete(objKey(ns, name));
    this.rv++;
    const gone = clone(existing);
    gone.metadata.resourceVersion = String(this.rv);
    this.emit('DELETED', t, gone, clone(existing));
    return clone(gone);
  }

  /**
   * Delete: with finalizers the object only gets a deletionTimestamp (and goes when the
   * last finalizer is removed); a namespace takes its objects with it.
   */
  delete(t: ResourceType, ns: string | undefined, name: string, preconditionRv?: string): { object: KObject; finished: boolean } {
    const namespace = t.namespaced ? ns : undefined;
    const existing = this.bucket(t).get(objKey(namespace, name));
    if (!existing) throw notFound(t, name);
    if (preconditionRv && preconditionRv !== existing.metadata.resourceVersion) throw conflict(t, name);
    if ((existing.metadata.finalizers ?? []).length) {
      if (existing.metadata.deletionTimestamp) return { object: clone(existing), finished: false };
      const next = clone(existing);
      next.metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      next.metadata.deletionGracePeriodSeconds = 0;
      this.rv++;
      next.metadata.resourceVersion = String(this.rv);
      this.bucket(t).set(objKey(namespace, name), next);
      this.emit('MODIFIED', t, clone(next), clone(existing));
      return { object: clone(next), finished: false };
    }
    if (t === NAMESPACES) {
      for (const other of RESOURCE_TYPES) {
        if (!other.namespaced) continue;
        for (const o of this.list(other, name)) this.remove(other, name, o.metadata.name!, o);
      }
    }
    return { object: this.remove(t, namespace, name, existing), finished: true };
  }

  snapshot(): StoreSnapshot {
    const objects: StoreSnapshot['objects'] = [];
    for (const t of RESOURCE_TYPES) for (const o of this.bucket(t).values()) objects.push({ type: typeKey(t), object: clone(o) });
    return { rv: this.rv, objects };
  }

  /** Replace the contents with a snapshot; watchers from before are expected to relist. */
  load(s: StoreSnapshot): void {
    for (const b of this.objects.values()) b.clear();
    for (const { type, object } of s.objects) {
      const t = RESOURCE_TYPES.find((x) => typeKey(x) === type);
      if (!t) continue;
      this.bucket(t).set(objKey(object.metadata.namespace, object.metadata.name!), object);
    }
    this.rv = s.rv;
    this.compactedRv = s.rv;
    this.log.length = 0;
  }
}

export { ApiError };
