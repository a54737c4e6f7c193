/**
 * Reading and changing the `canary` block of a model's config.yaml.
 *
 * Edits never re-stringify the document: `yaml` parses it (keeping source ranges) only to
 * FIND the nodes, then the change is spliced into the ORIGINAL text, so every other byte
 * (comments, blank lines, key order, quoting, flow style, CRLF, a missing final newline, a
 * leading `---`, a BOM) stays as it was. Every edit is then re-parsed and checked: the
 * canary block must say what was asked and every other value must be unchanged, or the edit
 * is refused (`unsafe-edit`) and the caller keeps the original text.
 *
 * Decisions (golden-tested in test/core/config.golden.test.ts):
 * - set N on `canary: {trafficPercent: M}` (block or flow) replaces only the M token; a
 *   comment on that line stays. Same value → unchanged, text identical.
 * - set N on a canary map without trafficPercent: flow map → `, trafficPercent: N` is
 *   added after its last item (inside `{}` when empty); block map → a `trafficPercent: N`
 *   line is added before its first key, at that key's indentation.
 * - set N on `canary:` with nothing after it (null, maybe a comment) → a child line
 *   `trafficPercent: N` under it, indented by the document's indentation unit (detected
 *   from its nested block maps, default 2); on `canary: ~` / `canary: null` the null token
 *   is replaced by `{trafficPercent: N}`.
 * - set N with no canary key → `canary:` + `  trafficPercent: N` appended as the last
 *   top-level key at the end of the file (after any trailing comments; before a `...`
 *   document end marker); a file without a final newline still has none afterwards. In a
 *   flow top-level map, `, canary: {trafficPercent: N}` is added after its last item.
 * - promote removes the whole `canary` pair: from the start of its key line to the end of
 *   the line where its value ends (end-of-line comments on those lines included); comment
 *   or blank lines after it stay. Promote of `canary: {}` / `canary:` removes them too
 *   (same rendering, tidier file); promote with no canary → unchanged.
 * - rollback is set 0.
 * Refused with CanaryError kind `invalid-config` and the file:line in the message:
 * `parse-error` (yaml errors: syntax, tab indentation...), `duplicate-key`,
 * `multiple-documents`, `not-a-map` (empty document or top level not a mapping),
 * `bad-canary` (canary is a scalar or a list), `bad-percent` (trafficPercent not an
 * integer 0..100, on reading AND on editing: a file the chart would not render as intended
 * is for a human to fix), `anchored-canary` (an anchor or alias on or inside canary, or
 * the top-level map anchored), `merged-canary` (a `<<` merge key brings in a canary),
 * `unsafe-edit` (an empty `canary: !!null` or one in a flow top-level map, or the re-parse
 * check failed, e.g. a `|+` block scalar just above a removed canary would grow).
 * On disk also: `not-found`/`no-config`, `invalid-config`/`not-utf8`, `unreadable`,
 * `changed-on-disk`; names are checked first (`invalid-input`/`invalid-name`).
 */
import { promises as fs } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import {
  LineCounter,
  isAlias,
  isCollection,
  isMap,
  isScalar,
  isSeq,
  parseAllDocuments,
  visit,
  type Document,
  type Node as YamlNode,
  type Pair,
  type YAMLMap,
} from 'yaml';
import { CanaryError } from './errors';
import { writeFileAtomic } from './fsutil';
import { checkDeploymentsDir, modelConfigPath } from './layout';
import type { CanaryAction, CanaryBlock, ModelConfig } from './types';

const PARSE_OPTIONS = {
  keepSourceTokens: true,
  uniqueKeys: true,
  // Helm reads values with a YAML 1.1 parser that honours `<<` merge keys; so do we.
  merge: true,
  prettyErrors: true,
  strict: true,
  // Warnings (e.g. collection keys) are not ours to print; errors are reported as refusals.
  logLevel: 'error',
} as const;

const FIX_HINT = 'Fix the file by hand (or revert it with git), then try again.';

type Range = [number, number, number];

/** Everything an edit needs to know about one parsed config.yaml. */
interface Analysis {
  text: string;
  file: string;
  eol: string;
  lines: LineCounter;
  doc: Document.Parsed;
  top: YAMLMap<unknown, unknown>;
  canaryPair: Pair<unknown, unknown> | undefined;
  canary: CanaryBlock;
  /** The trafficPercent pair inside a canary map, when there is one. */
  percentPair: Pair<unknown, unknown> | undefined;
  /** The plain JS value of the document without its canary key (for the re-parse check). */
  rest: Record<string, unknown>;
  /** The plain JS value of the canary key (undefined when absent). */
  canaryJs: unknown;
}

function lineOf(lc: LineCounter, offset: number): number {
  return lc.linePos(offset).line;
}

function refuse(code: string, file: string, line: number, what: string, hint = FIX_HINT): CanaryError {
  return new CanaryError('invalid-config', code, `${file}:${line}: ${what}`, hint);
}

function rangeOf(node: unknown): Range | undefined {
  const r = (node as { range?: Range | null } | null | undefined)?.range;
  return Array.isArray(r) ? r : undefined;
}

/** The line ending the file uses (its first one); `\n` when it has none. */
function detectEol(text: string): string {
  const i = text.indexOf('\n');
  return i > 0 && text[i - 1] === '\r' ? '\r\n' : '\n';
}

function hasProps(node: unknown): boolean {
  const n = node as { anchor?: string } | null | undefined;
  return !!n && !!n.anchor;
}

/** True when the node or anything below it carries an anchor or is an alias. */
function hasAnchorsOrAliases(node: unknown): boolean {
  if (node === null || node === undefined) return false;
  if (isAlias(node) || hasProps(node)) return true;
  let found = false;
  if (isCollection(node)) {
    visit(node as YamlNode, {
      Alias: () => { found = true; return visit.BREAK; },
      Node: (_k, n) => { if (hasProps(n)) { found = true; return visit.BREAK; } return undefined; },
      Pair: (_k, p) => { if (hasProps(p.key) || isAlias(p.key)) { found = true; return visit.BREAK; } return undefined; },
    });
  }
  return found;
}

/** A `<<` merge key (the parser, with `merge: true`, gives it a symbol value; a quoted "<<" stays a string). */
function isMergeKey(key: unknown): boolean {
  return isScalar(key) && typeof key.value === 'symbol';
}

function analyze(text: string, file: string): Analysis {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { ...PARSE_OPTIONS, lineCounter: lines });
  if (!Array.isArray(docs) || docs.length === 0) {
    throw refuse('not-a-map', file, 1, 'the file holds no YAML document (expected a mapping with chart_path, name, version...).');
  }
  for (const d of docs) {
    const err = d.errors[0];
    if (err) {
      const line = err.linePos?.[0].line ?? lineOf(lines, err.pos[0]);
      const msg = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      const dup = err.code === 'DUPLICATE_KEY';
      throw refuse(dup ? 'duplicate-key' : 'parse-error', file, line, dup ? 'a key appears twice in the same mapping (map keys must be unique).' : `not valid YAML: ${msg}.`);
    }
  }
  if (docs.length > 1) {
    const second = docs[1]!;
    throw refuse('multiple-documents', file, lineOf(lines, second.range[0]), `${docs.length} YAML documents in one file; a config.yaml holds exactly one.`);
  }
  const doc = docs[0]!;
  const top = doc.contents;
  if (!isMap(top)) {
    const r = rangeOf(top);
    const what = top === null || (isScalar(top) && top.value === null) ? 'the document is empty' : 'the top level is not a mapping';
    throw refuse('not-a-map', file, r ? lineOf(lines, r[0]) : 1, `${what} (expected keys such as chart_path, name, version).`);
  }
  if (top.anchor) {
    throw refuse('anchored-canary', file, lineOf(lines, rangeOf(top)![0]), 'the top-level mapping carries an anchor; it is not edited automatically so that no alias changes meaning.');
  }

  let js: unknown;
  try {
    js = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    throw refuse('parse-error', file, 1, `the document cannot be resolved: ${(e as Error).message}.`);
  }
  const rest = { ...(js as Record<string, unknown>) };
  delete rest.canary;

  let canaryPair: Pair<unknown, unknown> | undefined;
  for (const pair of top.items) {
    if (isScalar(pair.key) && pair.key.value === 'canary') canaryPair = pair;
    if (isMergeKey(pair.key)) {
      const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
      for (const s of sources) {
        const target = isAlias(s) ? s.resolve(doc) : s;
        if (isMap(target) && target.has('canary')) {
          throw refuse('merged-canary', file, lineOf(lines, rangeOf(pair.key)![0]), 'a `<<` merge key brings in a canary block; it is not edited automatically.');
        }
      }
    }
  }
  const hasJsCanary = Object.prototype.hasOwnProperty.call(js, 'canary');
  if (hasJsCanary !== (canaryPair !== undefined)) {
    throw refuse('anchored-canary', file, 1, 'the canary key comes from an alias; it is not edited automatically.');
  }

  let canary: CanaryBlock = { kind: 'absent' };
  let percentPair: Pair<unknown, unknown> | undefined;
  if (canaryPair) {
    const keyLine = lineOf(lines, rangeOf(canaryPair.key)![0]);
    const v = canaryPair.value;
    if (hasAnchorsOrAliases(canaryPair.key) || hasAnchorsOrAliases(v)) {
      throw refuse('anchored-canary', file, keyLine, 'the canary block carries an anchor or alias; it is not edited automatically so that no alias changes meaning.');
    }
    if (v === null || v === undefined || (isScalar(v) && v.value === null)) {
      canary = { kind: 'empty' };
    } else if (isMap(v)) {
      for (const p of v.items) {
        if (isScalar(p.key) && p.key.value === 'trafficPercent') percentPair = p;
      }
      if (!percentPair) {
        canary = { kind: 'empty' };
      } else {
        const pv = percentPair.value;
        const n = isScalar(pv) ? pv.value : undefined;
        if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 100) {
          const r = rangeOf(pv) ?? rangeOf(percentPair.key)!;
          const shown = !isScalar(pv) ? 'a collection' : pv.value === null ? 'empty' : typeof pv.value === 'string' ? `the string ${JSON.stringify(pv.value)}` : String(pv.source ?? pv.value);
          throw refuse('bad-percent', file, lineOf(lines, r[0]), `canary.trafficPercent is ${shown}; it must be a whole number from 0 to 100.`);
        }
        canary = { kind: 'percent', trafficPercent: n };
      }
    } else {
      const what = isSeq(v) ? 'a list' : 'a scalar';
      throw refuse('bad-canary', file, keyLine, `canary is ${what}; it must be a mapping such as {trafficPercent: 20}, or absent.`);
    }
  }
  const canaryJs = (js as Record<string, unknown>).canary;
  return { text, file, eol: detectEol(text), lines, doc, top, canaryPair, canary, percentPair, rest, canaryJs };
}

function toModelConfig(a: Analysis, env: string, model: string): ModelConfig {
  const nameNode = a.top.get('name', true);
  const name = isScalar(nameNode) && nameNode.value !== null && nameNode.value !== '' ? scalarText(nameNode) : model;
  const versionNode = a.top.get('version', true);
  const version = isScalar(versionNode) && versionNode.value !== null ? scalarText(versionNode) : undefined;
  const canaryLine = a.canaryPair ? lineOf(a.lines, rangeOf(a.canaryPair.key)![0]) : 1;
  return {
    env,
    model,
    file: a.file,
    name,
    version,
    canary: a.canary,
    desiredPercent: a.canary.kind === 'percent' ? a.canary.trafficPercent : undefined,
    canaryLine,
  };
}

/** A scalar as the user wrote it: strings as they are, `4562171717` or `1e10` as written, not re-formatted numbers. */
function scalarText(node: { value: unknown; source?: string; type?: string }): string {
  if (typeof node.value === 'string') return node.value;
  if (node.type === 'PLAIN' && typeof node.source === 'string') return node.source;
  return String(node.value);
}

/**
 * Reads a config.yaml's desired state. Throws CanaryError `invalid-config` (codes above)
 * with `file:line` in the message for anything it would refuse to edit.
 */
export function parseModelConfig(text: string, file: string, env: string, model: string): ModelConfig {
  return toModelConfig(analyze(text, file), env, model);
}

function checkAction(action: CanaryAction): void {
  if (action.kind === 'set') {
    const p = action.percent;
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 100) {
      throw new CanaryError('invalid-input', 'invalid-percent', `Invalid traffic percent ${JSON.stringify(p)}: it must be a whole number from 0 to 100.`, 'Give a whole number from 0 to 100, e.g. 20.');
    }
  } else if (action.kind !== 'promote' && action.kind !== 'rollback') {
    throw new CanaryError('invalid-input', 'invalid-action', `Unknown canary action ${JSON.stringify((action as { kind: unknown }).kind)}.`, 'Use set, promote or rollback.');
  }
}

// ---- text helpers ------------------------------------------------------------------------

/** Offset of the first character of the line holding `pos`. */
function lineStart(text: string, pos: number): number {
  return text.lastIndexOf('\n', pos - 1) + 1;
}

/** Offset just after the line ending of the line holding `pos` (or the end of the text). */
function lineEnd(text: string, pos: number): number {
  const i = text.indexOf('\n', pos);
  return i < 0 ? text.length : i + 1;
}

/** Column of `pos` in its line (a BOM at the start of the file does not count). */
function column(text: string, pos: number): number {
  const ls = lineStart(text, pos);
  return pos - ls - (ls === 0 && text.startsWith('\ufeff') && pos > 0 ? 1 : 0);
}

/** The spaces a line starts with (after a BOM on the first line). */
function lineIndent(text: string, pos: number): string {
  let ls = lineStart(text, pos);
  if (ls === 0 && text.startsWith('\ufeff')) ls = 1;
  return /^[ ]*/.exec(text.slice(ls))![0];
}

/** Offset of the `:` of a block mapping pair (on its own line for an explicit `? key`). */
function valueIndicator(map: YAMLMap<unknown, unknown>, pair: Pair<unknown, unknown>): number | undefined {
  const keyStart = rangeOf(pair.key)?.[0];
  const token = map.srcToken;
  if (keyStart === undefined || !token || token.type !== 'block-map') return undefined;
  const item = token.items.find((i) => i.key && 'offset' in i.key && i.key.offset === keyStart);
  return item?.sep?.find((t) => t.type === 'map-value-ind')?.offset;
}

function splice(text: string, start: number, end: number, insert: string): string {
  return text.slice(0, start) + insert + text.slice(end);
}

/** The document's indentation step: from its first nested block mapping, else 2. */
function indentUnit(a: Analysis): number {
  let unit: number | undefined;
  const walk = (map: YAMLMap<unknown, unknown>): void => {
    for (const p of map.items) {
      if (unit !== undefined) return;
      const v = p.value;
      if (isMap(v) && !v.flow && v.items.length > 0 && rangeOf(p.key) && rangeOf(v.items[0]!.key)) {
        const d = column(a.text, rangeOf(v.items[0]!.key)![0]) - column(a.text, rangeOf(p.key)![0]);
        if (d > 0 && lineStart(a.text, rangeOf(v.items[0]!.key)![0]) !== lineStart(a.text, rangeOf(p.key)![0])) unit = d;
        else walk(v);
      } else if (isMap(v) && !v.flow) {
        walk(v);
      }
    }
  };
  walk(a.top);
  return unit ?? 2;
}

/**
 * Adds `entry` (e.g. `trafficPercent: 20`) to the flow mapping `map`: after its last item's
 * value (`{a: 1}` → `{a: 1, trafficPercent: 20}`), or inside an empty `{}` / `{ }`.
 */
function addToFlowMap(text: string, map: YAMLMap<unknown, unknown>, entry: string, file: string, lc: LineCounter): string {
  const r = rangeOf(map)!;
  const open = r[0];
  if (text[open] !== '{') throw refuse('unsafe-edit', file, lineOf(lc, open), 'unexpected flow mapping layout; not edited.', 'Edit the canary block by hand.');
  const after = open + 1;
  const last = map.items[map.items.length - 1];
  if (!last) {
    const close = text.indexOf('}', after);
    const inner = text.slice(after, close);
    if (close > 0 && /^[ \t]*$/.test(inner)) return splice(text, after, close, `${inner}${entry}${inner}`);
    const next = text[after];
    return splice(text, after, after, next === ' ' || next === '\t' || next === '\r' || next === '\n' ? entry : `${entry} `);
  }
  const end = (rangeOf(last.value) ?? rangeOf(last.key))?.[1];
  if (end === undefined) throw refuse('unsafe-edit', file, lineOf(lc, open), 'unexpected flow mapping layout; not edited.', 'Edit the canary block by hand.');
  return splice(text, end, end, `, ${entry}`);
}

// ---- the edits ---------------------------------------------------------------------------

function setPercent(a: Analysis, n: number): string {
  const { text, eol, file, lines } = a;
  const entry = `trafficPercent: ${n}`;
  const pair = a.canaryPair;
  if (!pair) {
    if (a.top.flow) return addToFlowMap(text, a.top, `canary: {${entry}}`, file, lines);
    const firstKey = rangeOf(a.top.items[0]?.key);
    const indent = firstKey ? lineIndent(text, firstKey[0]) : '';
    const unit = ' '.repeat(indentUnit(a));
    // Before a `...` document end marker if there is one, else at the very end.
    let at = text.length;
    const docEnd = a.doc.range[1];
    const marker = /^\.\.\.(?=[ \t\r\n]|$)/m.exec(text.slice(docEnd));
    if (marker) at = docEnd + marker.index;
    const before = text.slice(0, at);
    const needEolBefore = before.length > 0 && !before.endsWith('\n');
    const finalEol = at === text.length && needEolBefore ? '' : eol;
    const block = `${needEolBefore ? eol : ''}${indent}canary:${eol}${indent}${unit}${entry}${finalEol}`;
    return splice(text, at, at, block);
  }
  const v = pair.value;
  if (a.percentPair) {
    const r = rangeOf(a.percentPair.value)!;
    return splice(text, r[0], r[1], String(n));
  }
  if (isMap(v)) {
    if (v.flow) return addToFlowMap(text, v, entry, file, lines);
    const firstKey = rangeOf(v.items[0]?.key);
    if (!firstKey) throw refuse('unsafe-edit', file, lineOf(lines, rangeOf(pair.key)![0]), 'unexpected canary layout; not edited.', 'Edit the canary block by hand.');
    const ls = lineStart(text, firstKey[0]);
    return splice(text, ls, ls, `${lineIndent(text, firstKey[0])}${entry}${eol}`);
  }
  // canary is null: `canary:` (maybe with a comment) or an explicit `~` / `null`.
  const keyR = rangeOf(pair.key)!;
  const vr = rangeOf(v);
  if (isScalar(v) && vr && v.source !== undefined && v.source !== '' && !v.tag) {
    return splice(text, vr[0], vr[1], `{${entry}}`);
  }
  if (a.top.flow || (isScalar(v) && v.tag)) {
    throw refuse('unsafe-edit', file, lineOf(lines, keyR[0]), 'an empty canary in this layout is not edited automatically.', 'Write `canary: {trafficPercent: N}` by hand.');
  }
  const child = lineIndent(text, keyR[0]) + ' '.repeat(indentUnit(a)) + entry;
  const end = lineEnd(text, valueIndicator(a.top, pair) ?? keyR[1]);
  if (end === text.length && !text.endsWith('\n')) return `${text}${eol}${child}`;
  return splice(text, end, end, `${child}${eol}`);
}

function removeCanary(a: Analysis): string {
  const { text, file, lines } = a;
  const pair = a.canaryPair!;
  const keyR = rangeOf(pair.key)!;
  const vr = rangeOf(pair.value);
  const valueEnd = Math.max(vr ? vr[1] : keyR[1], keyR[1] + 1, (valueIndicator(a.top, pair) ?? 0) + 1);
  if (a.top.flow) {
    const items = a.top.items;
    const i = items.indexOf(pair);
    const next = items[i + 1];
    const prev = items[i - 1];
    if (next && rangeOf(next.key)) return splice(text, keyR[0], rangeOf(next.key)![0], '');
    if (prev) {
      const pr = rangeOf(prev.value) ?? rangeOf(prev.key)!;
      return splice(text, pr[1], valueEnd, '');
    }
    return splice(text, keyR[0], valueEnd, '');
  }
  let start = lineStart(text, keyR[0]);
  if (start === 0 && text.startsWith('\ufeff')) start = 1; // the BOM stays
  if (!/^[ \t]*(\?[ \t]+)?$/.test(text.slice(start, keyR[0]))) {
    throw refuse('unsafe-edit', file, lineOf(lines, keyR[0]), 'the canary key does not start its line; not edited.', 'Remove the canary block by hand.');
  }
  const end = lineEnd(text, valueEnd - 1);
  if (end === text.length && !text.endsWith('\n') && start > 0) {
    // Keep a missing final newline missing: drop the line break before the block instead.
    start -= text[start - 2] === '\r' ? 2 : 1;
  }
  return splice(text, start, end, '');
}

/** Re-parses an edit and checks it did exactly what was asked; refuses otherwise. */
function verify(a: Analysis, out: string, action: CanaryAction): void {
  const line = a.canaryPair ? lineOf(a.lines, rangeOf(a.canaryPair.key)![0]) : 1;
  const unsafe = (why: string): CanaryError =>
    refuse('unsafe-edit', a.file, line, `the canary change could not be made without touching anything else (${why}); the file was not changed.`, 'Edit the canary block by hand.');
  let b: Analysis;
  try {
    b = analyze(out, a.file);
  } catch (e) {
    throw unsafe(e instanceof Error ? e.message.replace(/^[^:]*:\d+: /, '') : String(e));
  }
  const want = action.kind === 'promote' ? undefined : action.kind === 'rollback' ? 0 : action.percent;
  const got = b.canary.kind === 'percent' ? b.canary.trafficPercent : undefined;
  if (got !== want || (action.kind === 'promote' && b.canary.kind !== 'absent')) throw unsafe('the canary block did not come out as intended');
  if (!isDeepStrictEqual(a.rest, b.rest)) throw unsafe('another value would have changed');
  if (action.kind !== 'promote') {
    const others = (c: unknown): unknown => { const o = { ...(c as Record<string, unknown>) }; delete o.trafficPercent; return o; };
    if (!isDeepStrictEqual(others(a.canaryJs), others(b.canaryJs))) throw unsafe('another canary key would have changed');
  }
}

/**
 * Applies a canary action to the text of a config.yaml, changing nothing else. Pure: returns
 * the new text and whether it differs; throws CanaryError (and returns nothing) when it
 * refuses.
 */
export function applyCanaryAction(text: string, action: CanaryAction, file: string): { text: string; changed: boolean } {
  checkAction(action);
  const a = analyze(text, file);
  let out: string;
  if (action.kind === 'promote') {
    if (!a.canaryPair) return { text, changed: false };
    out = removeCanary(a);
  } else {
    const n = action.kind === 'rollback' ? 0 : action.percent;
    if (a.canary.kind === 'percent' && a.canary.trafficPercent === n) return { text, changed: false };
    out = setPercent(a, n);
  }
  verify(a, out, action);
  return { text: out, changed: out !== text };
}

// ---- files ---------------------------------------------------------------------------------

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

async function readConfigText(file: string, env: string, model: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new CanaryError('not-found', 'no-config', `No config.yaml for model "${model}" in environment "${env}" (${file}).`, 'Check the model and environment names (`kserve-canary config` lists them).', { cause: e });
    }
    throw new CanaryError('invalid-config', 'unreadable', `Cannot read ${file}: ${code ?? (e as Error).message}.`, 'Check the file permissions.', { cause: e });
  }
  try {
    return decoder.decode(bytes);
  } catch (e) {
    throw new CanaryError('invalid-config', 'not-utf8', `${file}:1: the file is not valid UTF-8.`, FIX_HINT, { cause: e });
  }
}

/** Reads `<root>/<deploymentsDir>/<env>/<model>/config.yaml` (names validated first). */
export async function readModelConfig(root: string, env: string, model: string, opts?: { deploymentsDir?: string }): Promise<ModelConfig> {
  const file = modelConfigPath(root, env, model, checkDeploymentsDir(opts?.deploymentsDir));
  const text = await readConfigText(file, env, model);
  return parseModelConfig(text, file, env, model);
}

/**
 * Applies the action to the model's config.yaml on disk. Writes (atomically, keeping the
 * file mode, through a symlink to its target) only when the text changes; on refusal the
 * file is untouched. Refuses with `invalid-config`/`changed-on-disk` if the file changed while editing.
 */
export async function editModelConfig(
  root: string,
  env: string,
  model: string,
  action: CanaryAction,
  opts?: { deploymentsDir?: string },
): Promise<{ file: string; changed: boolean; before: ModelConfig; after: ModelConfig }> {
  checkAction(action);
  const file = modelConfigPath(root, env, model, checkDeploymentsDir(opts?.deploymentsDir));
  const text = await readConfigText(file, env, model);
  const before = parseModelConfig(text, file, env, model);
  const result = applyCanaryAction(text, action, file);
  if (!result.changed) return { file, changed: false, before, after: before };
  const after = parseModelConfig(result.text, file, env, model);
  const target = await fs.realpath(file);
  const now = await readConfigText(file, env, model);
  if (now !== text) {
    throw new CanaryError('invalid-config', 'changed-on-disk', `${file} changed on disk while it was being edited; nothing was written.`, 'Try again.');
  }
  await writeFileAtomic(target, result.text);
  return { file, changed: true, before, after };
}
