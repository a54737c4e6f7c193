/**
 * Server-side printing (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`), the way
 * the CRD table convertor does it: a Name column, then the printer columns; a missing
 * value is a null cell; `date` columns become a human duration like `2d2h`.
 */
import { humanDuration } from '../core/format';
import { evaluateJsonPath } from './jsonpath';
import type { ResourceType } from './resources';
import type { KObject } from './types';

export interface TableOptions {
  version: 'v1' | 'v1beta1';
  includeObject: 'None' | 'Object' | 'Metadata';
}

// Same buckets as Kubernetes' HumanDuration: the one copy lives in src/core/format.ts.
export { humanDuration };

function cell(type: string, value: unknown, now: number): unknown {
  if (value === undefined || value === null) return null;
  switch (type) {
    case 'string':
      return typeof value === 'object' ? JSON.stringify(value) : String(value);
    case 'date': {
      const t = typeof value === 'string' ? Date.parse(value) : NaN;
      return Number.isNaN(t) ? null : humanDuration(now - t);
    }
    case 'integer':
      return typeof value === 'number' ? Math.trunc(value) : null;
    case 'number':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    default:
      return null;
  }
}

export function columnDefinitions(t: ResourceType): Array<Record<string, unknown>> {
  return [
    { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0 },
    ...t.printerColumns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.description ?? '', priority: c.priority ?? 0 })),
  ];
}

export function row(t: ResourceType, o: KObject, opts: TableOptions, now = Date.now()): Record<string, unknown> {
  const cells: unknown[] = [o.metadata.name];
  for (const c of t.printerColumns) {
    let first: unknown;
    try {
      first = evaluateJsonPath(c.jsonPath, o)[0];
    } catch {
      first = undefined;
    }
    cells.push(cell(c.type, first, now));
  }
  const r: Record<string, unknown> = { cells };
  if (opts.includeObject === 'Object') r.object = o;
  else if (opts.includeObject === 'Metadata') {
    r.object = { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${opts.version}`, metadata: o.metadata };
  }
  return r;
}

export function toTable(t: ResourceType, objects: KObject[], resourceVersion: string, opts: TableOptions): Record<string, unknown> {
  const now = Date.now();
  const table: Record<string, unknown> = {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${opts.version}`,
    metadata: { resourceVersion },
    columnDefinitions: columnDefinitions(t),
    rows: objects.map((o) => row(t, o, opts, now)),
  };
  return table;
}
