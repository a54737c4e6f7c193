/** JSON merge patch (RFC 7386) and JSON patch (RFC 6902), as the API server applies them. */
import { clone, deepEqual, isPlainObject } from './types';

export class PatchError extends Error {}

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return clone(patch);
  const out: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function unescape(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new PatchError(`invalid JSON pointer "${path}"`);
  return path.slice(1).split('/').map(unescape);
}

interface Slot {
  parent: Record<string, unknown> | unknown[];
  key: string;
}

function locate(doc: unknown, tokens: string[], op: string): Slot {
  let cur = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isPlainObject(cur)) cur = cur[t];
    else cur = undefined;
    if (cur === undefined) throw new PatchError(`${op} operation does not apply: doc is missing path: /${tokens.join('/')}`);
  }
  if (!Array.isArray(cur) && !isPlainObject(cur)) {
    throw new PatchError(`${op} operation does not apply: doc is missing path: /${tokens.join('/')}`);
  }
  return { parent: cur, key: tokens[tokens.length - 1]! };
}

function read(slot: Slot): unknown {
  if (Array.isArray(slot.parent)) return slot.parent[Number(slot.key)];
  return slot.parent[slot.key];
}

function remove(slot: Slot, op: string, path: string): unknown {
  const v = read(slot);
  if (v === undefined) throw new PatchError(`${op} operation does not apply: doc is missing path: ${path}`);
  if (Array.isArray(slot.parent)) slot.parent.splice(Number(slot.key), 1);
  else delete slot.parent[slot.key];
  return v;
}

function add(slot: Slot, value: unknown, path: string): void {
  if (Array.isArray(slot.parent)) {
    const i = slot.key === '-' ? slot.parent.length : Number(slot.key);
    if (!Number.isInteger(i) || i < 0 || i > slot.parent.length) throw new PatchError(`add operation does not apply: index out of range in ${path}`);
    slot.parent.splice(i, 0, value);
  } else slot.parent[slot.key] = value;
}

export function jsonPatch(doc: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw new PatchError('a JSON patch must be an array of operations');
  let root = clone(doc);
  for (const raw of ops) {
    if (!isPlainObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') {
      throw new PatchError('each JSON patch operation needs "op" and "path"');
    }
    const op = raw.op;
    const tokens = pointer(raw.path);
    if (tokens.length === 0) {
      if (op === 'replace' || op === 'add') root = clone(raw.value);
      else if (op === 'test') {
        if (!deepEqual(root, raw.value)) throw new PatchError('test operation failed');
      } else throw new PatchError(`${op} on the whole document is not supported`);
      continue;
    }
    const slot = () => locate(root, tokens, op);
    switch (op) {
      case 'add':
        add(slot(), clone(raw.value), raw.path);
        break;
      case 'remove':
        remove(slot(), op, raw.path);
        break;
      case 'replace': {
        const s = slot();
        if (read(s) === undefined) throw new PatchError(`replace operation does not apply: doc is missing key: ${raw.path}`);
        if (Array.isArray(s.parent)) s.parent[Number(s.key)] = clone(raw.value);
        else s.parent[s.key] = clone(raw.value);
        break;
      }
      case 'move':
      case 'copy': {
        if (typeof raw.from !== 'string') throw new PatchError(`${op} needs "from"`);
        const fromSlot = locate(root, pointer(raw.from), op);
        const v = op === 'move' ? remove(fromSlot, op, raw.from) : clone(read(fromSlot));
        if (v === undefined) throw new PatchError(`${op} operation does not apply: missing ${raw.from}`);
        add(slot(), v, raw.path);
        break;
      }
      case 'test':
        if (!deepEqual(read(slot()), raw.value)) throw new PatchError(`testing value ${raw.path} failed`);
        break;
      default:
        throw new PatchError(`unknown JSON patch operation "${op}"`);
    }
  }
  return root;
}
