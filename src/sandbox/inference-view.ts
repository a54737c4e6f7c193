/**
 * What a sandbox handle of either backend (index.ts, kube-backend.ts) shows of its inference
 * server (inference.ts): the Prometheus URLs, the record of Prometheus queries' auth, and the
 * per-revision behaviour switch, as live getters over the server.
 */
import type { InferenceServer, PrometheusAuthRecord, RevisionBehavior } from './inference';

/** What a sandbox handle of either backend shows of its inference server (none without `inference: true`). */
export interface InferenceView {
  readonly prometheusUrl: string | undefined;
  readonly prometheusHttpUrl: string | undefined;
  readonly prometheusAuthLog: readonly PrometheusAuthRecord[];
  setRevisionBehavior(namespace: string, revision: string, behavior: RevisionBehavior): void;
}

/**
 * `handle` with the InferenceView of `inference` as live getters (the ports may change at a
 * restart; Object.assign would read them once).
 */
export function withInferenceView<T extends object>(handle: T, inference: InferenceServer | undefined): T & InferenceView {
  const view: InferenceView = {
    get prometheusUrl() {
      return inference?.prometheusUrl;
    },
    get prometheusHttpUrl() {
      return inference?.prometheusHttpUrl;
    },
    get prometheusAuthLog() {
      return inference?.authLog ?? [];
    },
    setRevisionBehavior: (ns, revision, behavior) => {
      if (!inference) throw new Error('setRevisionBehavior needs a sandbox started with inference: true');
      inference.setRevisionBehavior(ns, revision, behavior);
    },
  };
  return Object.defineProperties(handle, Object.getOwnPropertyDescriptors(view)) as T & InferenceView;
}
