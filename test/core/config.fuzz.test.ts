/**
 * Property-based test of the canary edits (issue 7 §1).
 *
 * fast-check generates config.yaml documents from a structured description (so the test
 * knows which lines form the canary block) with comments everywhere, shuffled key orders,
 * plain/quoted/flow/block styles, anchors and aliases elsewhere, unicode, CRLF, odd
 * indentation (1–4 spaces, indented top level), missing/extra keys, a BOM, `---`/`...`
 * markers, no final newline, and every canary shape (absent, block, flow, null, scalar,
 * list, anchored, invalid percents). A share of documents is then damaged (one character
 * inserted or deleted, a key duplicated, a second document appended).
 *
 * Each document gets set N, promote and rollback. Every outcome must be one of:
 * - a CanaryError (any code): a refusal, and applyCanaryAction returned no text;
 * - unchanged (`changed: false`): the text is identical and already in the intended state;
 * - the intended change, checked independently of the implementation:
 *   1. the output parses (yaml, merge keys on) without error; its `canary` is
 *      `{...same other keys, trafficPercent: N}` for set/rollback, absent for promote;
 *      every other top-level value is deep-equal to the input's;
 *   2. line check (undamaged block-style documents): split input and output on the
 *      document's line ending; with [cs, ce) the input lines of the canary block (its key
 *      line through the line where its value ends; for an absent canary cs = ce = the
 *      insertion point, the end of the file or the `...` line), output[0, cs) must equal
 *      input[0, cs) and the output must end with input[ce, end) byte for byte; the new
 *      middle has no stray line break characters, is empty for promote, and for set holds
 *      at most 2 lines more than the old block; the presence of a final line break and of a
 *      BOM (set aside before splitting) is kept.
 * Reading (parseModelConfig) of every document must also give a CanaryError or the
 * reference parser's canary state. Anything else (another exception type, a wrong value,
 * a changed line) fails the test.
 * Fixed seed, 10,000 documents; counts go to test-results/fuzz.json.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { parseDocument } from 'yaml';
import { applyCanaryAction, parseModelConfig } from '../../src/core/config';
import { CanaryError } from '../../src/core/errors';
import type { CanaryAction } from '../../src/core/types';

const SEED = 20261126;
const DOCUMENTS = Number(process.env.KSC_FUZZ_DOCS ?? 10_000);

// ---- document description ------------------------------------------------------------------

type Scalar = string; // rendered scalar token, e.g. `abc`, `'it''s'`, `"\u00e9"`, `12`, `~`
interface Val {
  /** rendered after `key:` on the key line (with its leading space), may be '' */
  inline: string;
  /** extra lines below the key line, already relative-indented by `depth` units (0-based level) */
  below: { level: number; text: string }[];
  flowOk: boolean;
}
interface Entry { key: string; val: Val; comment: string; before: string[] }
type CanaryShape =
  | { kind: 'absent' }
  | { kind: 'block'; keyComment: string; items: { key: string; value: string; comment: string; before: string[] }[]; anchor: boolean }
  | { kind: 'flow'; text: string; comment: string; parts: string[]; multiline: boolean; innerComments: string[] }
  | { kind: 'null'; token: string; comment: string }
  | { kind: 'other'; inline: string; below: string[] };
interface Doc {
  eol: '\n' | '\r\n';
  bom: boolean;
  start: string | undefined; // '---' line
  end: boolean; // '...' line
  lead: string[];
  trail: string[];
  finalNewline: boolean;
  unit: number;
  topIndent: number;
  entries: Entry[];
  canary: CanaryShape;
  canaryAt: number;
  canaryKey: string;
  flowTop: boolean;
  damage: { kind: 'none' } | { kind: 'insert'; at: number; ch: string } | { kind: 'delete'; at: number } | { kind: 'dup' } | { kind: 'multi' };
}

const letters = 'abcdefghijklmnopqrstuvwxyzABCXYZ0123456789_-.';
const unicode = ['é', 'ü', 'ß', 'ñ', 'ж', 'λ', '中', '文', 'ت', '🦜', '👈', '🔮', 'Ω'];
const wordChar = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...letters.split('')) }, { weight: 1, arbitrary: fc.constantFrom(...unicode) });
const word = fc.string({ unit: wordChar, minLength: 1, maxLength: 10 }).filter((w) => /^[A-Za-z0-9\u00c0-\uffff]/u.test(w) || /^\p{Extended_Pictographic}/u.test(w));
const commentText = fc.string({ unit: fc.oneof(wordChar, fc.constantFrom(' ', '#', ':', '"', "'", '{', '}', '-', '*', '&')), maxLength: 16 });
/** ' # text' or '' */
const eolComment = fc.option(commentText.map((t) => ` # ${t}`), { nil: '', freq: 2 }).map((c) => c ?? '');
/** full comment or blank lines placed before an entry (indent decided at render time) */
const fillerLines = fc.array(fc.oneof(commentText.map((t) => `#${t}`), fc.constant('')), { maxLength: 2 });

const plainScalar: fc.Arbitrary<Scalar> = fc.oneof(
  word,
  fc.tuple(word, word).map(([a, b]) => `${a} ${b}`),
  fc.integer({ min: -5, max: 99999 }).map(String),
  fc.constantFrom('true', 'false', 'null', '~', '1.5', '0x1F', '4562a17c17', '1e3', 'image-registry.openshift-image-registry.svc:5000', 'charts/model-deployment/music-transformer'),
);
const quotedScalar: fc.Arbitrary<Scalar> = fc.oneof(
  fc.string({ unit: fc.oneof(wordChar, fc.constantFrom(' ', '#', ':', "''", '"', '{', ',')), maxLength: 12 }).map((s) => `'${s}'`),
  fc.string({ unit: fc.oneof(wordChar, fc.constantFrom(' ', '#', ':', "'", '\\"', '\\\\', '\\n', '\\u00e9', ',')), maxLength: 12 }).map((s) => `"${s}"`),
);
const scalar = fc.oneof({ weight: 3, arbitrary: plainScalar }, { weight: 1, arbitrary: quotedScalar });
const keyText = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom('chart_path', 'name', 'version', 'image_repository', 'image_namespace', 'autoscaling', 'keda', 'repo_url', 'target_revision', 'resources', 'env', 'labels') },
  { weight: 2, arbitrary: word },
  { weight: 1, arbitrary: word.map((w) => `"${w}"`) },
  { weight: 1, arbitrary: word.map((w) => `'${w}'`) },
);

const flowValue = fc.oneof(
  fc.array(scalar, { maxLength: 3 }).map((xs) => `[${xs.join(', ')}]`),
  fc.array(fc.tuple(word, scalar), { maxLength: 3 }).map((xs) => `{${xs.map(([k, v]) => `${k}: ${v}`).join(', ')}}`),
);

const valueArb: fc.Arbitrary<Val> = fc.oneof(
  { weight: 6, arbitrary: scalar.map((s) => ({ inline: ` ${s}`, below: [], flowOk: true })) },
  { weight: 2, arbitrary: flowValue.map((s) => ({ inline: ` ${s}`, below: [], flowOk: true })) },
  { weight: 2, arbitrary: fc.array(fc.tuple(word, scalar, eolComment), { minLength: 1, maxLength: 3 }).map((xs) => ({ inline: '', below: xs.map(([k, v, c]) => ({ level: 1, text: `${k}: ${v}${c}` })), flowOk: false })) },
  { weight: 1, arbitrary: fc.tuple(word, fc.array(fc.tuple(word, scalar), { minLength: 1, maxLength: 2 })).map(([k, xs]) => ({ inline: '', below: [{ level: 1, text: `${k}:` }, ...xs.map(([kk, v]) => ({ level: 2, text: `${kk}: ${v}` }))], flowOk: false })) },
  { weight: 1, arbitrary: fc.array(scalar, { minLength: 1, maxLength: 3 }).map((xs) => ({ inline: '', below: xs.map((x) => ({ level: 1, text: `- ${x}` })), flowOk: false })) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('|', '>', '|-', '>+', '|+', '|2'), fc.array(fc.string({ unit: fc.oneof(wordChar, fc.constantFrom(' ', '#', ':')), maxLength: 12 }), { minLength: 1, maxLength: 3 })).map(([ind, ls]) => ({ inline: ` ${ind}`, below: ls.map((l) => ({ level: 1, text: l.trimEnd() === '' ? 'x' : l.trimEnd() })), flowOk: false })) },
);

const percentToken = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 100 }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom('020', '0x14', '+5', '!!int 30', '100') },
  { weight: 1, arbitrary: fc.constantFrom('"20"', "'5'", '150', '-1', '12.5', '', 'abc', '1e2', '[20]', '{a: 1}', 'null', 'true') },
);
const percentKey = fc.constantFrom('trafficPercent', 'trafficPercent', 'trafficPercent', '"trafficPercent"', "'trafficPercent'");
const extraItem = fc.tuple(fc.constantFrom('note', 'owner', 'steps', 'comment'), scalar).map(([k, v]) => ({ key: k, value: ` ${v}` }));

const canaryArb: fc.Arbitrary<CanaryShape> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: 'absent' as const }) },
  {
    weight: 5,
    arbitrary: fc.record({
      keyComment: eolComment,
      anchor: fc.constantFrom(false, false, false, false, false, false, false, false, false, true),
      percent: fc.option(fc.tuple(percentKey, percentToken), { freq: 6 }),
      extras: fc.array(extraItem, { maxLength: 2 }),
      comments: fc.array(eolComment, { minLength: 4, maxLength: 4 }),
      befores: fc.array(fillerLines, { minLength: 4, maxLength: 4 }),
      order: fc.integer({ min: 0, max: 3 }),
    }).map(({ keyComment, anchor, percent, extras, comments, befores, order }) => {
      const items: { key: string; value: string }[] = extras.map((x) => ({ ...x }));
      if (percent) items.splice(Math.min(order, items.length), 0, { key: percent[0], value: percent[1] === '' ? '' : ` ${percent[1]}` });
      if (items.length === 0) items.push({ key: 'note', value: ' x' });
      return {
        kind: 'block' as const,
        keyComment,
        anchor,
        items: items.map((it, i) => ({ ...it, comment: comments[i] ?? '', before: i === 0 ? [] : befores[i] ?? [] })),
      };
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      percent: fc.option(percentToken.filter((t) => t !== '' && !t.startsWith('{') && !t.startsWith('[')), { freq: 4 }),
      extras: fc.array(extraItem, { maxLength: 2 }),
      sp: fc.constantFrom('', ' '),
      trailingComma: fc.constantFrom(false, false, false, true),
      comment: eolComment,
      multiline: fc.constantFrom(false, false, false, true),
      innerComments: fc.array(eolComment, { minLength: 4, maxLength: 4 }),
    }).map(({ percent, extras, sp, trailingComma, comment, multiline, innerComments }) => {
      const parts = extras.map((x) => `${x.key}:${x.value}`);
      if (percent !== null) parts.push(`trafficPercent: ${percent}`);
      const body = parts.join(', ') + (trailingComma && parts.length ? ',' : '');
      return { kind: 'flow' as const, text: `{${sp}${body}${sp}}`, comment, parts, multiline, innerComments };
    }),
  },
  { weight: 2, arbitrary: fc.record({ token: fc.constantFrom('', '', '~', 'null', 'Null', '!!null'), comment: eolComment }).map((x) => ({ kind: 'null' as const, ...x })) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<CanaryShape>(
      { kind: 'other', inline: ' 20', below: [] },
      { kind: 'other', inline: ' "20"', below: [] },
      { kind: 'other', inline: ' [20]', below: [] },
      { kind: 'other', inline: '', below: ['- trafficPercent: 20'] },
      { kind: 'other', inline: ' &c {trafficPercent: 5}', below: [] },
      { kind: 'other', inline: ' !!map {trafficPercent: 5}', below: [] },
      { kind: 'other', inline: ' |', below: ['trafficPercent: 5'] },
    ),
  },
);

const docArb: fc.Arbitrary<Doc> = fc.record({
  eol: fc.constantFrom<'\n' | '\r\n'>('\n', '\n', '\n', '\r\n'),
  bom: fc.constantFrom(false, false, false, false, false, false, false, false, false, true),
  start: fc.constantFrom(undefined, undefined, '---', '--- # values'),
  end: fc.constantFrom(false, false, false, false, false, false, false, false, false, true),
  lead: fillerLines,
  trail: fillerLines,
  finalNewline: fc.constantFrom(true, true, true, false),
  unit: fc.constantFrom(2, 2, 2, 4, 4, 1, 3),
  topIndent: fc.constantFrom(0, 0, 0, 0, 0, 0, 0, 0, 1, 2),
  entries: fc.uniqueArray(fc.record({ key: keyText, val: valueArb, comment: eolComment, before: fillerLines }), {
    minLength: 1,
    maxLength: 7,
    selector: (e) => e.key.replace(/^["']|["']$/g, ''),
  }),
  canary: canaryArb,
  canaryAt: fc.nat({ max: 7 }),
  canaryKey: fc.constantFrom('canary', 'canary', 'canary', 'canary', '"canary"', "'canary'", '? canary\n:'),
  flowTop: fc.constantFrom(false, false, false, false, false, false, false, false, false, true),
  damage: fc.oneof(
    { weight: 16, arbitrary: fc.constant({ kind: 'none' as const }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), ch: fc.constantFrom(' ', '\t', ':', '#', '{', '}', '[', ']', '"', "'", '&', '*', '-', '\n', '?', '|', '>', '!', '%', '@', ',', '\r', 'é') }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }) },
    { weight: 1, arbitrary: fc.constantFrom({ kind: 'dup' as const }, { kind: 'multi' as const }) },
  ),
});

// ---- rendering, with the canary block's line span --------------------------------------------

interface Rendered { text: string; eol: string; lineChecks: boolean; cs: number; ce: number; parsed?: Record<string, unknown> | undefined }

function renderDoc(d: Doc): Rendered {
  const lines: string[] = [];
  let cs = -1;
  let ce = -1;
  const top = ' '.repeat(d.topIndent);
  const ind = (level: number): string => top + ' '.repeat(d.unit * level);
  const anchorNames: string[] = [];
  if (d.start) lines.push(d.start);
  for (const l of d.lead) lines.push(l === '' ? '' : `${top}${l}`);

  const canaryKeyText = d.canaryKey;
  const canaryPos = Math.min(d.canaryAt, d.entries.length);
  let flowParts: string[] = [];

  const pushCanary = (): void => {
    const c = d.canary;
    if (c.kind === 'absent') return;
    if (d.flowTop) {
      if (c.kind === 'flow') flowParts.push(`canary: ${c.text}`);
      else if (c.kind === 'null' && c.token !== '' && c.token !== '!!null') flowParts.push(`canary: ${c.token}`);
      else if (c.kind === 'other' && c.below.length === 0) flowParts.push(`canary:${c.inline}`);
      return;
    }
    const keyLines = canaryKeyText.split('\n');
    const key = keyLines.pop()!;
    cs = lines.length;
    for (const k of keyLines) lines.push(`${top}${k}`);
    if (c.kind === 'block') {
      lines.push(`${top}${key}${key.endsWith(':') ? '' : ':'}${c.anchor ? ' &cn' : ''}${c.keyComment}`);
      c.items.forEach((it) => {
        for (const b of it.before) lines.push(b === '' ? '' : `${ind(1)}${b}`);
        lines.push(`${ind(1)}${it.key}:${it.value}${it.comment}`);
      });
    } else if (c.kind === 'flow' && c.multiline) {
      // canary: {            one item per line, comments after the commas, closing brace indented
      lines.push(`${top}${key}${key.endsWith(':') ? '' : ':'} {${c.innerComments[3]}`);
      c.parts.forEach((p, i) => lines.push(`${ind(1)}${p}${i < c.parts.length - 1 ? ',' : ''}${c.innerComments[i] ?? ''}`));
      lines.push(`${ind(1)}}${c.comment}`);
    } else if (c.kind === 'flow') {
      lines.push(`${top}${key}${key.endsWith(':') ? '' : ':'} ${c.text}${c.comment}`);
    } else if (c.kind === 'null') {
      lines.push(`${top}${key}${key.endsWith(':') ? '' : ':'}${c.token ? ` ${c.token}` : ''}${c.comment}`);
    } else {
      lines.push(`${top}${key}${key.endsWith(':') ? '' : ':'}${c.inline}`);
      for (const b of c.below) lines.push(`${ind(1)}${b}`);
    }
    ce = lines.length;
  };

  d.entries.forEach((e, i) => {
    if (i === canaryPos) pushCanary();
    let inline = e.val.inline;
    let below = e.val.below;
    // Anchors and aliases elsewhere: every third scalar/flow value gets an anchor; later keys may alias it.
    if (e.val.below.length === 0 && inline.startsWith(' ') && !inline.startsWith(' |') && !inline.startsWith(' >')) {
      if (i % 3 === 1) { const n = `a${i}`; anchorNames.push(n); inline = ` &${n}${inline}`; }
      else if (i % 3 === 2 && anchorNames.length) inline = ` *${anchorNames[anchorNames.length - 1]}`;
    }
    if (d.flowTop) {
      if (e.val.flowOk) flowParts.push(`${e.key}:${inline}`);
      return;
    }
    for (const b of e.before) lines.push(b === '' ? '' : `${top}${b}`);
    const isBlockScalar = inline.startsWith(' |') || inline.startsWith(' >');
    lines.push(`${top}${e.key}:${inline}${isBlockScalar ? '' : e.comment}`);
    if (isBlockScalar && inline.startsWith(' |2')) below = below.map((b) => ({ ...b, level: 0 }));
    for (const b of below) lines.push(inline.startsWith(' |2') ? `${top}  ${b.text}` : `${ind(b.level)}${b.text}`);
  });
  if (canaryPos >= d.entries.length) pushCanary();

  if (d.flowTop) {
    lines.push(`${top}{${flowParts.join(', ')}}`);
    flowParts = [];
  }
  for (const l of d.trail) lines.push(l === '' ? '' : `${top}${l}`);
  const endMarkerAt = lines.length;
  if (d.end) lines.push('...');

  let text = (d.bom ? '\ufeff' : '') + lines.join(d.eol) + (d.finalNewline ? d.eol : '');
  if (d.canary.kind === 'absent') {
    // A new block goes before the `...` line, else after the last line (a text ending in a
    // line break splits into a last empty element, which stays the last one).
    const n = text.split(d.eol).length;
    cs = ce = d.end ? endMarkerAt : text.endsWith(d.eol) ? n - 1 : n;
  }
  let lineChecks = !d.flowTop && cs >= 0;
  switch (d.damage.kind) {
    case 'insert': {
      const at = d.damage.at % (text.length + 1);
      text = text.slice(0, at) + d.damage.ch + text.slice(at);
      lineChecks = false;
      break;
    }
    case 'delete': {
      if (text.length) {
        const at = d.damage.at % text.length;
        text = text.slice(0, at) + text.slice(at + 1);
      }
      lineChecks = false;
      break;
    }
    case 'dup':
      text += `${d.finalNewline ? '' : d.eol}${top}${d.entries[0]!.key}: dup${d.eol}`;
      lineChecks = false;
      break;
    case 'multi':
      text += `${d.finalNewline ? '' : d.eol}---${d.eol}chart_path: other${d.eol}`;
      lineChecks = false;
      break;
    case 'none':
      break;
  }
  return { text, eol: d.eol, lineChecks, cs, ce };
}

// ---- the property ----------------------------------------------------------------------------

function plain(text: string): Record<string, unknown> | undefined {
  const doc = parseDocument(text, { merge: true, uniqueKeys: true, logLevel: 'error' });
  if (doc.errors.length) return undefined;
  const js = doc.toJS({ maxAliasCount: 1000 }) as unknown;
  return js !== null && typeof js === 'object' && !Array.isArray(js) ? (js as Record<string, unknown>) : undefined;
}

function without<T extends Record<string, unknown>>(o: T | undefined, key: string): Record<string, unknown> | undefined {
  if (o === undefined || o === null || typeof o !== 'object') return undefined;
  const c: Record<string, unknown> = { ...o };
  delete c[key];
  return c;
}

const counts = { documents: 0, reads: 0, actions: 0, changed: 0, unchanged: 0, refused: 0, lineChecked: 0, refusedByCode: {} as Record<string, number>, seed: SEED, durationMs: 0 };

function checkOne(r: Rendered, action: CanaryAction): void {
  counts.actions++;
  const input = r.text;
  let out: { text: string; changed: boolean };
  try {
    out = applyCanaryAction(input, action, 'model-deployments/test/m/config.yaml');
  } catch (e) {
    if (!(e instanceof CanaryError)) throw new Error(`not a CanaryError for ${JSON.stringify(input)} ${action.kind}`, { cause: e });
    const line = Number(/^model-deployments\/test\/m\/config\.yaml:(\d+): /.exec(e.message)?.[1]);
    assert.ok(line >= 1 && line <= input.split('\n').length, `refusal names file:line inside the file: ${e.message}`);
    counts.refused++;
    counts.refusedByCode[e.code] = (counts.refusedByCode[e.code] ?? 0) + 1;
    if (process.env.KSC_FUZZ_SHOW === e.code) console.log(JSON.stringify({ input, action, message: e.message, damaged: !r.lineChecks }));
    return;
  }
  const want = action.kind === 'set' ? action.percent : action.kind === 'rollback' ? 0 : undefined;
  const before = (r.parsed ??= plain(input));
  const after = plain(out.text);
  const ctx = (): string => `${action.kind} ${want}\n--- input\n${JSON.stringify(input)}\n--- output\n${JSON.stringify(out.text)}`;
  assert.ok(before !== undefined, `accepted a document the reference parser refuses: ${ctx()}`);
  assert.ok(after !== undefined, `output does not parse: ${ctx()}`);
  // 1. values
  assert.ok(isDeepStrictEqual(without(before, 'canary'), without(after, 'canary')), `another value changed: ${ctx()}`);
  if (want === undefined) {
    assert.equal(Object.prototype.hasOwnProperty.call(after, 'canary'), false, `canary still there: ${ctx()}`);
  } else {
    const c = after.canary as Record<string, unknown>;
    assert.equal(c?.trafficPercent, want, `wrong percent: ${ctx()}`);
    const prevC = before.canary;
    const prevOthers = prevC && typeof prevC === 'object' ? without(prevC as Record<string, unknown>, 'trafficPercent') : {};
    assert.ok(isDeepStrictEqual(without(c, 'trafficPercent'), prevOthers), `other canary keys changed: ${ctx()}`);
  }
  if (!out.changed) {
    counts.unchanged++;
    assert.equal(out.text, input, 'unchanged means identical');
    return;
  }
  counts.changed++;
  assert.notEqual(out.text, input);
  // 2. lines
  if (!r.lineChecks) return;
  counts.lineChecked++;
  // The BOM is not part of any line: it must stay in front, and is set aside for the line check.
  assert.equal(out.text.startsWith('\ufeff'), input.startsWith('\ufeff'), `BOM changed: ${ctx()}`);
  const inL = input.replace(/^\ufeff/, '').split(r.eol);
  const outL = out.text.replace(/^\ufeff/, '').split(r.eol);
  const pre = inL.slice(0, r.cs);
  const post = inL.slice(r.ce);
  assert.deepEqual(outL.slice(0, pre.length), pre, `a line before the canary block changed: ${ctx()}`);
  assert.deepEqual(outL.slice(outL.length - post.length), post, `a line after the canary block changed: ${ctx()}`);
  const middle = outL.slice(pre.length, outL.length - post.length);
  assert.ok(middle.every((l) => !l.includes('\n') && !l.includes('\r')), `stray line break: ${ctx()}`);
  if (action.kind === 'promote') assert.equal(middle.length, 0, `promote left lines: ${ctx()}`);
  else assert.ok(middle.length <= r.ce - r.cs + 2 && middle.some((l) => new RegExp(`trafficPercent['"]?: (!!int )?${want}(?![0-9])`).test(l)), `unexpected canary block: ${ctx()}`);
  assert.equal(out.text.endsWith(r.eol), input.endsWith(r.eol), `final newline changed: ${ctx()}`);
}

/** Reading never throws anything but a CanaryError, and agrees with the reference parser. */
function checkRead(r: Rendered): void {
  let m;
  try {
    m = parseModelConfig(r.text, 'config.yaml', 'test', 'm');
  } catch (e) {
    if (!(e instanceof CanaryError)) throw new Error(`read: not a CanaryError for ${JSON.stringify(r.text)}`, { cause: e });
    return;
  }
  counts.reads++;
  const js = (r.parsed ??= plain(r.text));
  assert.ok(js !== undefined, `read a document the reference parser refuses: ${JSON.stringify(r.text)}`);
  const c = js.canary as Record<string, unknown> | null | undefined;
  const want = c && typeof c === 'object' ? (c.trafficPercent as number | undefined) : undefined;
  assert.equal(m.desiredPercent, want, `desiredPercent of ${JSON.stringify(r.text)}`);
  assert.equal(m.canary.kind, !('canary' in js) ? 'absent' : want === undefined ? 'empty' : 'percent');
}

test(`canary edits under fuzz: ${DOCUMENTS} generated config.yaml documents × set/promote/rollback`, () => {
  const started = Date.now();
  fc.assert(
    fc.property(docArb, fc.integer({ min: 0, max: 100 }), (d, n) => {
      const r = renderDoc(d);
      counts.documents++;
      checkRead(r);
      checkOne(r, { kind: 'set', percent: n });
      checkOne(r, { kind: 'promote' });
      checkOne(r, { kind: 'rollback' });
    }),
    { seed: SEED, numRuns: DOCUMENTS, endOnFailure: true, includeErrorInReport: true },
  );
  counts.durationMs = Date.now() - started;
  const outDir = path.join(__dirname, '..', '..', 'test-results');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, 'fuzz.json'), `${JSON.stringify(counts, null, 2)}\n`);
  // The generator must mostly produce documents that get edited, or the test proves little.
  assert.ok(counts.changed > counts.actions / 3, `only ${counts.changed} of ${counts.actions} actions changed a document`);
  assert.ok(counts.lineChecked > counts.changed / 2, `line checks ran on only ${counts.lineChecked} changes`);
});
