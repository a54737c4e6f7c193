/**
 * Changing the `canary` block of a config.yaml's text (pure; the file side is config.ts).
 *
 * Edits never re-stringify the document: the change is spliced into the ORIGINAL text at the
 * source ranges config-read.ts found, so every other byte (comments, blank lines, key order,
 * quoting, flow style, CRLF, a missing final newline, `---`/`...`, a BOM) stays. Every edit is
 * re-parsed and checked (the canary must read as asked, every other value unchanged), else it
 * is refused (`unsafe-edit`) and the caller keeps the original text. The rules are listed in
 * config.ts and golden-tested in test/core/config.golden.test.ts.
 */
import { isDeepStrictEqual } from 'node:util';
import { isMap, isScalar, isSeq, type LineCounter, type Pair, type YAMLMap } from 'yaml';
import { CanaryError } from './errors';
import { analyze, lineOf, rangeOf, refuse, type Analysis } from './config-read';
import type { CanaryAction } from './types';

export function checkAction(action: CanaryAction): void {
  if (action.kind === 'set') {
    const p = action.percent;
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 100) {
      throw new CanaryError(
        'invalid-input',
        'invalid-percent',
        `Invalid traffic percent ${JSON.stringify(p)}: it must be a whole number from 0 to 100.`,
        'Give a whole number from 0 to 100, e.g. 20.',
      );
    }
  } else if (action.kind !== 'promote' && action.kind !== 'rollback') {
    throw new CanaryError(
      'invalid-input',
      'invalid-action',
      `Unknown canary action ${JSON.stringify((action as { kind: unknown }).kind)}.`,
      'Use set, promote or rollback.',
    );
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

/** The text between a colon and a tagged value: blanks, the tag, blanks. */
const TAG_BEFORE = /^[ \t]*![^ \t\r\n]*[ \t]+$/;

/** Length of the blanks and `!tag` between a colon and an empty value (0 when there is no tag). */
function emptyTagLength(text: string, from: number, to: number): number {
  const m = /^[ \t]*![^ \t\r\n]*/.exec(text.slice(from, to));
  return m ? m[0].length : 0;
}

/**
 * Replaces the trafficPercent value with N in the file's own style: a quoted value stays
 * quoted with the same quotes, a tag stays, a block scalar keeps its line break, an empty
 * `trafficPercent:` gets ` N` after its colon; anything else becomes plain `N`.
 */
function replacePercent(a: Analysis, pair: Pair<unknown, unknown>, n: number): string {
  const { text } = a;
  const v = pair.value;
  const r = rangeOf(v);
  if (!r)
    throw refuse(
      'unsafe-edit',
      a.file,
      lineOf(a.lines, rangeOf(pair.key)![0]),
      'unexpected trafficPercent layout; not edited.',
      'Edit the canary block by hand.',
    );
  if (r[1] === r[0]) {
    // `trafficPercent:` or `trafficPercent: !!null`: N goes after the colon, instead of the tag.
    const colon = text.indexOf(':', rangeOf(pair.key)![1]);
    return splice(text, colon + 1, colon + 1 + emptyTagLength(text, colon + 1, r[1]), ` ${n}`);
  }
  if (isScalar(v) && v.tag && !/(^!!|:)(int|float|str)$/.test(v.tag)) {
    // `!!null ""`, `!!bool no`: a tag that cannot hold a number goes with the old value.
    const colon = text.indexOf(':', rangeOf(pair.key)![1]);
    if (TAG_BEFORE.test(text.slice(colon + 1, r[0]))) return splice(text, colon + 1, r[1], ` ${n}`);
  }
  if (isScalar(v) && v.type === 'QUOTE_DOUBLE') return splice(text, r[0], r[1], `"${n}"`);
  if (isScalar(v) && v.type === 'QUOTE_SINGLE') return splice(text, r[0], r[1], `'${n}'`);
  if (isScalar(v) && (v.type === 'BLOCK_LITERAL' || v.type === 'BLOCK_FOLDED')) {
    const old = text.slice(r[0], r[1]);
    const tail = /(\r?\n)?$/.exec(old)![0];
    return splice(text, r[0], r[1], `${n}${tail}`);
  }
  // A lone CR after a plain value (a line break for Helm's reader) stays.
  const cr = /\r[ \t\r]*$/.exec(text.slice(r[0], r[1]));
  return splice(text, r[0], r[1] - (cr ? cr[0].length : 0), String(n));
}

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
    let at = a.docLimit;
    const docEnd = a.doc.range[1];
    const marker = /^\.\.\.(?=[ \t\r\n]|$)/m.exec(text.slice(docEnd, a.docLimit));
    if (marker) at = docEnd + marker.index;
    const before = text.slice(0, at);
    const needEolBefore = before.length > 0 && !before.endsWith('\n');
    const finalEol = at === text.length && needEolBefore ? '' : eol;
    const block = `${needEolBefore ? eol : ''}${indent}canary:${eol}${indent}${unit}${entry}${finalEol}`;
    return splice(text, at, at, block);
  }
  const v = pair.value;
  if (a.canaryAlias) {
    throw refuse(
      'anchored-canary',
      file,
      lineOf(lines, rangeOf(pair.key)![0]),
      'canary is an alias of a block elsewhere; changing it would change that block too.',
      'Edit the canary block by hand.',
    );
  }
  if (a.percentPair) return replacePercent(a, a.percentPair, n);
  if (isMap(v)) {
    if (v.flow) return addToFlowMap(text, v, entry, file, lines);
    const firstKey = rangeOf(v.items[0]?.key);
    if (!firstKey)
      throw refuse('unsafe-edit', file, lineOf(lines, rangeOf(pair.key)![0]), 'unexpected canary layout; not edited.', 'Edit the canary block by hand.');
    const ls = lineStart(text, firstKey[0]);
    return splice(text, ls, ls, `${lineIndent(text, firstKey[0])}${entry}${eol}`);
  }
  // canary renders nothing: `canary:` (maybe with a comment), or a falsy token.
  const keyR = rangeOf(pair.key)!;
  const vr = rangeOf(v);
  const tagged = (isScalar(v) || isSeq(v)) && !!v.tag;
  if (vr && vr[1] > vr[0] && !tagged && (isScalar(v) || (isSeq(v) && v.flow))) {
    // `canary: ~`, `null`, `0`, `false`, `""`, `[]`: all render no canary; the token becomes the map.
    return splice(text, vr[0], vr[1], `{${entry}}`);
  }
  const colon = !vr || !tagged ? undefined : a.top.flow ? text.indexOf(':', keyR[1]) : valueIndicator(a.top, pair);
  if (vr && colon !== undefined) {
    // `canary: !!null`, `!!bool false`, `!!seq []`: the tag goes with the token, the map takes their place.
    const tagLength = emptyTagLength(text, colon + 1, vr[1]);
    if (vr[1] === vr[0] && tagLength > 0) return splice(text, colon + 1, colon + 1 + tagLength, ` {${entry}}`);
    if (vr[1] > vr[0] && TAG_BEFORE.test(text.slice(colon + 1, vr[0]))) return splice(text, colon + 1, vr[1], ` {${entry}}`);
  }
  if (a.top.flow || tagged) {
    throw refuse(
      'unsafe-edit',
      file,
      lineOf(lines, keyR[0]),
      'an empty canary in this layout is not edited automatically.',
      'Write `canary: {trafficPercent: N}` by hand.',
    );
  }
  const child = lineIndent(text, keyR[0]) + ' '.repeat(indentUnit(a)) + entry;
  const end = lineEnd(text, valueIndicator(a.top, pair) ?? keyR[1]);
  if (end === text.length && !text.endsWith('\n')) return `${text}${eol}${child}`;
  return splice(text, end, end, `${child}${eol}`);
}

/**
 * Where a value's own text ends. The parser stretches an empty value's range (`key:` or
 * `key: !!null` as the last entry of a block map) over the comment lines after it; those
 * are not part of the value, so an empty scalar ends where it starts.
 */
function contentEnd(node: unknown): number | undefined {
  const r = rangeOf(node);
  if (!r) return undefined;
  if (isScalar(node)) return r[0] === r[1] ? r[0] : r[1];
  if ((isMap(node) || isSeq(node)) && !node.flow) {
    let end: number | undefined;
    for (const item of node.items as unknown[]) {
      const parts = isMap(node) ? [(item as Pair<unknown, unknown>).key, (item as Pair<unknown, unknown>).value] : [item];
      for (const part of parts) {
        const e = contentEnd(part);
        if (e !== undefined) end = Math.max(end ?? e, e);
      }
    }
    return end ?? r[1];
  }
  return r[1];
}

/** Removes one canary pair from `text` (a's text, or a's text with later parts already removed). */
function removeCanary(a: Analysis, pair: Pair<unknown, unknown>, text: string): string {
  const { file, lines } = a;
  const keyR = rangeOf(pair.key)!;
  const valueEnd = Math.max(contentEnd(pair.value) ?? keyR[1], keyR[1] + 1, (valueIndicator(a.top, pair) ?? 0) + 1);
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
  let end = lineEnd(text, valueEnd - 1);
  // Comment lines indented under the canary key right after its value belong to the block.
  const keyColumn = column(text, lineStart(text, keyR[0]) + lineIndent(text, keyR[0]).length);
  for (let m; (m = /^([ \t]*)#[^\n]*(\n|$)/.exec(text.slice(end))) && m[0] !== '' && m[1]!.length > keyColumn;) end += m[0].length;
  if (end === text.length && !text.endsWith('\n') && start > 0) {
    // Keep a missing final newline missing: drop the line break before the block instead.
    start -= text[start - 2] === '\r' ? 2 : 1;
  }
  return splice(text, start, end, '');
}

/** Re-parses an edit and checks it did exactly what was asked; refuses otherwise. Returns the new text's analysis. */
function verify(a: Analysis, out: string, action: CanaryAction): Analysis {
  const line = a.canaryPair ? lineOf(a.lines, rangeOf(a.canaryPair.key)![0]) : 1;
  const unsafe = (why: string): CanaryError =>
    refuse(
      'unsafe-edit',
      a.file,
      line,
      `the canary change could not be made without touching anything else (${why}); the file was not changed.`,
      'Edit the canary block by hand.',
    );
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
    const others = (c: unknown): unknown => {
      // A falsy non-map canary (`off`, `0`, `""`) has no other keys.
      const o: Record<string, unknown> = c !== null && typeof c === 'object' && !Array.isArray(c) ? { ...(c as Record<string, unknown>) } : {};
      delete o.trafficPercent;
      return o;
    };
    if (!isDeepStrictEqual(others(a.canaryJs), others(b.canaryJs))) throw unsafe('another canary key would have changed');
  }
  return b;
}

/**
 * Applies a canary action to the text of a config.yaml, changing nothing else. Pure: returns
 * the new text and whether it differs; throws CanaryError (and returns nothing) when it
 * refuses.
 */
export function applyCanaryAction(text: string, action: CanaryAction, file: string): { text: string; changed: boolean } {
  const { text: out, changed } = planCanaryAction(text, action, file);
  return { text: out, changed };
}

/** applyCanaryAction, with the analyses of the text before and after (the same one when unchanged), for callers that read both. */
export function planCanaryAction(text: string, action: CanaryAction, file: string): { text: string; changed: boolean; before: Analysis; after: Analysis } {
  checkAction(action);
  const a = analyze(text, file);
  let out: string;
  if (action.kind === 'promote') {
    if (!a.canaryPair) return { text, changed: false, before: a, after: a };
    // A repeated canary key: every copy goes, or an earlier one would start to count.
    out = text;
    for (const pair of [...a.canaryPairs].reverse()) out = removeCanary(a, pair, out);
  } else {
    const n = action.kind === 'rollback' ? 0 : action.percent;
    if (a.canary.kind === 'percent' && a.canary.trafficPercent === n) return { text, changed: false, before: a, after: a };
    out = setPercent(a, n);
  }
  const b = verify(a, out, action);
  return out === text ? { text, changed: false, before: a, after: a } : { text: out, changed: true, before: a, after: b };
}
