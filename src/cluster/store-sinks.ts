/**
 * The store's three reflector sinks (InferenceServices, Argo CD Applications, Routes) and the
 * cluster objects they keep: each sink turns lists and watch events of its connection into
 * stored observations and the keys of the rows to recompute. A sink of an older connection
 * (another generation) ignores what it still receives.
 */
import type { ReflectorSink } from './reflector';
import { RequestError } from './classify';
import { observeApplication, observeInferenceService, type IsvcObservation } from './derive';
import type { DesiredSource } from './store-desired';
import type { ArgoApplications } from './store-argo';
import type { NamespaceMap } from './store-namespaces';
import type { Health } from './store-problems';
import { APPLICATION, ISVC, ROUTE } from './transport';
import type { ApplicationState } from './types';

function meta(o: Record<string, unknown>): { name: string; namespace: string; resourceVersion?: string } {
  const m = (o.metadata ?? {}) as { name?: unknown; namespace?: unknown; resourceVersion?: unknown };
  return {
    name: typeof m.name === 'string' ? m.name : '',
    namespace: typeof m.namespace === 'string' ? m.namespace : '',
    resourceVersion: typeof m.resourceVersion === 'string' ? m.resourceVersion : undefined,
  };
}

/** The InferenceServices and Routes as observed, and which namespaces were listed. */
export class ObservedObjects {
  private readonly isvcs = new Map<string, IsvcObservation>();
  private readonly routes = new Map<string, unknown>();
  private readonly listedNamespaces = new Set<string>();

  isvc(key: string): IsvcObservation | undefined {
    return this.isvcs.get(key);
  }

  isvcKeys(): string[] {
    return [...this.isvcs.keys()];
  }

  /** Stores an InferenceService unless its resourceVersion is the one stored; true when stored. */
  putIsvc(key: string, o: Record<string, unknown>, rv: string | undefined): boolean {
    const prev = this.isvcs.get(key);
    if (prev && rv !== undefined && prev.resourceVersion === rv) return false;
    this.isvcs.set(key, observeInferenceService(o));
    return true;
  }

  dropIsvc(key: string): boolean {
    return this.isvcs.delete(key);
  }

  route(name: string): unknown {
    return this.routes.get(name);
  }

  listed(namespace: string): boolean {
    return this.listedNamespaces.has(namespace);
  }

  /** Another cluster, user or namespaces: forgets everything; returns the InferenceService keys that were known. */
  forget(): string[] {
    this.listedNamespaces.clear();
    const keys = this.isvcKeys();
    this.isvcs.clear();
    this.routes.clear();
    return keys;
  }

  markListed(namespace: string): void {
    this.listedNamespaces.add(namespace);
  }

  replaceRoutes(items: unknown[]): void {
    this.routes.clear();
    for (const it of items) this.routes.set(meta(it as Record<string, unknown>).name, it);
  }

  putRoute(o: Record<string, unknown>): void {
    this.routes.set(meta(o).name, o);
  }

  dropRoute(o: Record<string, unknown>): void {
    this.routes.delete(meta(o).name);
  }
}

/** What the sinks read and whom they tell. */
export interface SinkHost {
  readonly objects: ObservedObjects;
  readonly argo: ArgoApplications;
  readonly namespaces: NamespaceMap;
  readonly desired: DesiredSource;
  /** The generation of the current connection. */
  generation(): number;
  recompute(key: string): void;
  /** The rows an Application `<model>-<env>` concerns. */
  recomputeApp(appName: string): void;
  recomputeAll(): void;
  health(id: string, h: Health): void;
  /** The Applications were read or could not be. */
  appsSettled(): void;
}

/**
 * InferenceServices of one namespace, or of every watched one (`namespace` undefined: one
 * cluster-wide watch, filtered). A 403 of the cluster-wide watch calls `onWideForbidden`.
 */
export function isvcSink(host: SinkHost, namespace: string | undefined, onWideForbidden: () => void): ReflectorSink {
  const gen = host.generation();
  const id = `${ISVC.plural}@${namespace ?? '*'}`;
  const inScope = (ns: string) => (namespace === undefined ? host.namespaces.watches(ns) : ns === namespace);
  const { objects } = host;
  const upsert = (key: string, o: Record<string, unknown>, rv: string | undefined) => {
    if (objects.putIsvc(key, o, rv)) host.recompute(key);
  };
  return {
    replace: (items) => {
      if (gen !== host.generation()) return;
      const seen = new Set<string>();
      for (const it of items) {
        const o = it as Record<string, unknown>;
        const m = meta(o);
        if (!inScope(m.namespace)) continue;
        const key = `${m.namespace}/${m.name}`;
        seen.add(key);
        upsert(key, o, m.resourceVersion);
      }
      const scopeNs = namespace === undefined ? host.namespaces.namespaces() : [namespace];
      for (const ns of scopeNs) objects.markListed(ns);
      for (const key of objects.isvcKeys()) {
        const ns = key.slice(0, key.indexOf('/'));
        if (inScope(ns) && !seen.has(key)) {
          objects.dropIsvc(key);
          host.recompute(key);
        }
      }
      // Services known only from git become "missing" now that their namespace is listed.
      for (const d of host.desired.entries()) {
        const ns = host.namespaces.namespaceOf(d.env);
        if (ns && scopeNs.includes(ns)) host.recompute(`${ns}/${d.name}`);
      }
    },
    upsert: (o) => {
      if (gen !== host.generation()) return;
      const m = meta(o);
      if (!inScope(m.namespace)) return;
      upsert(`${m.namespace}/${m.name}`, o, m.resourceVersion);
    },
    remove: (o) => {
      if (gen !== host.generation()) return;
      const m = meta(o);
      const key = `${m.namespace}/${m.name}`;
      if (objects.dropIsvc(key)) host.recompute(key);
    },
    health: (h) => {
      if (gen !== host.generation()) return;
      if (!h.ok && namespace === undefined && h.error instanceof RequestError && h.error.status === 403) {
        onWideForbidden();
        return;
      }
      host.health(id, h);
    },
  };
}

/** Argo CD Applications of the toolings namespace. */
export function appSink(host: SinkHost, toolings: string): ReflectorSink {
  const gen = host.generation();
  const id = `${APPLICATION.plural}@${toolings}`;
  const { argo } = host;
  return {
    replace: (items) => {
      if (gen !== host.generation()) return;
      const next = new Map<string, ApplicationState>();
      for (const it of items) {
        const a = observeApplication(it);
        if (a.name) next.set(a.name, a);
      }
      const { changed, firstList } = argo.replaceAll(next);
      for (const n of changed) host.recomputeApp(n);
      if (firstList) host.recomputeAll();
    },
    upsert: (o) => {
      if (gen !== host.generation()) return;
      const a = observeApplication(o);
      if (argo.put(a)) host.recomputeApp(a.name);
    },
    remove: (o) => {
      if (gen !== host.generation()) return;
      const name = meta(o).name;
      if (argo.drop(name)) host.recomputeApp(name);
    },
    health: (h) => {
      if (gen !== host.generation()) return;
      host.health(id, h);
      if (!h.ok) host.appsSettled();
    },
  };
}

/** Routes of the toolings namespace (the Grafana Route is one of them). */
export function routeSink(host: SinkHost, toolings: string): ReflectorSink {
  const gen = host.generation();
  const id = `${ROUTE.plural}@${toolings}`;
  const { objects } = host;
  return {
    replace: (items) => {
      if (gen === host.generation()) objects.replaceRoutes(items);
    },
    upsert: (o) => {
      if (gen === host.generation()) objects.putRoute(o);
    },
    remove: (o) => {
      if (gen === host.generation()) objects.dropRoute(o);
    },
    health: (h) => {
      if (gen === host.generation()) host.health(id, h);
    },
  };
}
