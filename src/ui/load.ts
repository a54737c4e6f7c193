/**
 * Loads dist/backend.js (see backend.ts) once, on first need, outside activate().
 * The bundle sits next to dist/extension.js; its types come from backend.ts.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as BackendModule from './backend';

export type Backend = typeof BackendModule;

let loading: Promise<Backend> | undefined;

export function loadBackend(): Promise<Backend> {
  loading ??= new Promise<Backend>((resolve, reject) => {
    // Yield first so a caller inside activate() never pays for the load.
    setImmediate(() => {
      try {
        const load = createRequire(__filename);
        resolve(load(path.join(__dirname, 'backend.js')) as Backend);
      } catch (e) {
        loading = undefined;
        reject(e);
      }
    });
  });
  return loading;
}
