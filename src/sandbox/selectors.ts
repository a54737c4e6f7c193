/**
 * Label and field selectors as the API server parses them:
 * `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, comma-separated (AND).
 */
export type Requirement =
  { key: string; op: 'eq' | 'neq'; value: string } | { key: string; op: 'in' | 'notin'; values: string[] } | { key: string; op: 'exists' | 'notexists' };

export class SelectorError extends Error {}

function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of s) {
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

const KEY = /^[A-Za-z0-9]([A-Za-z0-9._/-]*[A-Za-z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function checkValue(v: string, whole: string): string {
  if (!VALUE.test(v)) throw new SelectorError(`unable to parse requirement: invalid value "${v}" in "${whole}"`);
  return v;
}

function checkKey(k: string, whole: string): string {
  if (!KEY.test(k)) throw new SelectorError(`unable to parse requirement: invalid label key "${k}" in "${whole}"`);
  return k;
}

export function parseSelector(text: string | undefined): Requirement[] {
  if (!text) return [];
  const out: Requirement[] = [];
  for (const part of splitTopLevel(text)) {
    let m = /^(\S+?)\s+(in|notin)\s*\(([^)]*)\)$/.exec(part);
    if (m) {
      const values = m[3]!
        .split(',')
        .map((v) => checkValue(v.trim(), text))
        .filter((v) => v.length > 0);
      out.push({ key: checkKey(m[1]!, text), op: m[2] as 'in' | 'notin', values });
      continue;
    }
    m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(part);
    if (m) {
      out.push({ key: checkKey(m[1]!, text), op: m[2] === '!=' ? 'neq' : 'eq', value: checkValue(m[3]!, text) });
      continue;
    }
    m = /^(!?)\s*([^=!\s()]+)$/.exec(part);
    if (m) {
      out.push({ key: checkKey(m[2]!, text), op: m[1] ? 'notexists' : 'exists' });
      continue;
    }
    throw new SelectorError(`unable to parse requirement: "${part}"`);
  }
  return out;
}

export function matches(reqs: Requirement[], lookup: (key: string) => string | undefined): boolean {
  return reqs.every((r) => {
    const v = lookup(r.key);
    switch (r.op) {
      case 'eq':
        return v === r.value;
      case 'neq':
        return v !== r.value;
      case 'in':
        return v !== undefined && r.values.includes(v);
      case 'notin':
        return v === undefined || !r.values.includes(v);
      case 'exists':
        return v !== undefined;
      case 'notexists':
        return v === undefined;
    }
    return false;
  });
}
