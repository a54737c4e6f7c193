/**
 * A small evaluator for the JSONPath subset used by printer columns:
 * `.a.b`, `['a']`, `[n]`, `[*]`, and filters `[?(@.x.y=='v')]`, `[?(@.x==true)]`,
 * `[?(@.x!=3)]`, `[?(@.x)]`. Optional surrounding `{ }` as kubectl writes them.
 * Returns every match, in document order (the table uses the first).
 */
type Step =
  | { kind: 'field'; name: string }
  | { kind: 'index'; index: number }
  | { kind: 'wildcard' }
  | { kind: 'filter'; path: string[]; op: '==' | '!=' | 'exists'; value: unknown };

export class JsonPathError extends Error {}

function parseLiteral(text: string): unknown {
  const t = text.trim();
  if ((t.startsWith("'") && t.endsWith("'")) || (t.startsWith('"') && t.endsWith('"'))) return t.slice(1, -1);
  if (t === 'true') return true;
  if (t === 'false') return false;
  if (t === 'null') return null;
  const n = Number(t);
  if (t !== '' && !Number.isNaN(n)) return n;
  throw new JsonPathError(`unsupported literal ${t}`);
}

function parseFilter(body: string): Step {
  // body is what sits between `?(` and `)`
  const m = /^@((?:\.[A-Za-z0-9_-]+)+)\s*(?:(==|!=)\s*(.+))?$/.exec(body.trim());
  if (!m) throw new JsonPathError(`unsupported filter ${body}`);
  const path = m[1]!.split('.').filter(Boolean);
  if (!m[2]) return { kind: 'filter', path, op: 'exists', value: undefined };
  return { kind: 'filter', path, op: m[2] as '==' | '!=', value: parseLiteral(m[3]!) };
}

const cache = new Map<string, Step[]>();

export function parseJsonPath(expr: string): Step[] {
  const hit = cache.get(expr);
  if (hit) return hit;
  let s = expr.trim();
  if (s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1).trim();
  if (s.startsWith('$')) s = s.slice(1);
  const steps: Step[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === '.') {
      i++;
      const m = /^[A-Za-z0-9_-]+/.exec(s.slice(i));
      if (!m) {
        if (s[i] === '[') continue;
        throw new JsonPathError(`bad path ${expr}`);
      }
      steps.push({ kind: 'field', name: m[0] });
      i += m[0].length;
    } else if (c === '[') {
      const end = findClose(s, i);
      const inner = s.slice(i + 1, end).trim();
      i = end + 1;
      if (inner === '*') steps.push({ kind: 'wildcard' });
      else if (/^-?\d+$/.test(inner)) steps.push({ kind: 'index', index: Number(inner) });
      else if (inner.startsWith('?(') && inner.endsWith(')')) steps.push(parseFilter(inner.slice(2, -1)));
      else if (/^'[^']*'$|^"[^"]*"$/.test(inner)) steps.push({ kind: 'field', name: inner.slice(1, -1) });
      else throw new JsonPathError(`unsupported subscript [${inner}] in ${expr}`);
    } else {
      throw new JsonPathError(`bad path ${expr} at ${i}`);
    }
  }
  cache.set(expr, steps);
  return steps;
}

function findClose(s: string, open: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '[') depth++;
    else if (c === ']' && --depth === 0) return i;
  }
  throw new JsonPathError(`unclosed [ in ${s}`);
}

function get(v: unknown, path: string[]): unknown {
  let cur = v;
  for (const p of path) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

function children(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (typeof v === 'object' && v !== null) return Object.values(v);
  return [];
}

export function evaluateJsonPath(expr: string, root: unknown): unknown[] {
  let current: unknown[] = [root];
  for (const step of parseJsonPath(expr)) {
    const next: unknown[] = [];
    for (const v of current) {
      switch (step.kind) {
        case 'field': {
          const x = get(v, [step.name]);
          if (x !== undefined) next.push(x);
          break;
        }
        case 'index':
          if (Array.isArray(v)) {
            const x = v[step.index < 0 ? v.length + step.index : step.index];
            if (x !== undefined) next.push(x);
          }
          break;
        case 'wildcard':
          next.push(...children(v));
          break;
        case 'filter':
          for (const item of children(v)) {
            const x = get(item, step.path);
            if (step.op === 'exists' ? x !== undefined : step.op === '==' ? x === step.value : x !== undefined && x !== step.value) {
              next.push(item);
            }
          }
          break;
      }
    }
    current = next;
  }
  return current;
}
