/**
 * The fuzz test's document generator (test/core/config.fuzz.test.ts): fast-check arbitraries
 * for config.yaml documents from a structured description (so the test knows which lines
 * form the canary block), and their rendering to text with the canary block's line span.
 *
 * Comments everywhere, shuffled key orders, plain/quoted/flow/block styles, anchors and
 * aliases elsewhere (and on, inside and to the canary), unicode, CRLF, odd indentation (1–4
 * spaces, indented top level), missing/extra keys, a BOM, `---`/`...` markers, no final
 * newline, and every canary shape (absent, block, flow, null and other falsy tokens,
 * scalar, list, anchored) with the percent spelled every way Helm reads (quoted numbers,
 * 30.0, exponents, hex, octal, signs, `_`, tags, null, empty) or cannot. A share of
 * documents is then damaged (one character inserted or deleted, a key or the whole canary
 * repeated, a second document appended). The description's types and the rendering are in
 * config-fuzz-render.ts.
 */
import fc from 'fast-check';
import type { CanaryShape, Doc, Scalar, Val } from './config-fuzz-render';

const letters = 'abcdefghijklmnopqrstuvwxyzABCXYZ0123456789_-.';
const unicode = ['é', 'ü', 'ß', 'ñ', 'ж', 'λ', '中', '文', 'ت', '🦜', '👈', '🔮', 'Ω'];
const wordChar = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...letters.split('')) }, { weight: 1, arbitrary: fc.constantFrom(...unicode) });
const word = fc
  .string({ unit: wordChar, minLength: 1, maxLength: 10 })
  .filter((w) => /^[A-Za-z0-9\u00c0-\uffff]/u.test(w) || /^\p{Extended_Pictographic}/u.test(w));
const commentText = fc.string({ unit: fc.oneof(wordChar, fc.constantFrom(' ', '#', ':', '"', "'", '{', '}', '-', '*', '&')), maxLength: 16 });
/** ' # text' or '' */
const eolComment = fc
  .option(
    commentText.map((t) => ` # ${t}`),
    { nil: '', freq: 2 },
  )
  .map((c) => c ?? '');
/** full comment or blank lines placed before an entry (indent decided at render time) */
const fillerLines = fc.array(
  fc.oneof(
    commentText.map((t) => `#${t}`),
    fc.constant(''),
  ),
  { maxLength: 2 },
);

const plainScalar: fc.Arbitrary<Scalar> = fc.oneof(
  word,
  fc.tuple(word, word).map(([a, b]) => `${a} ${b}`),
  fc.integer({ min: -5, max: 99999 }).map(String),
  fc.constantFrom(
    'true',
    'false',
    'null',
    '~',
    '1.5',
    '0x1F',
    '4562a17c17',
    '1e3',
    'image-registry.openshift-image-registry.svc:5000',
    'charts/model-deployment/music-transformer',
  ),
);
const quotedScalar: fc.Arbitrary<Scalar> = fc.oneof(
  fc.string({ unit: fc.oneof(wordChar, fc.constantFrom(' ', '#', ':', "''", '"', '{', ',')), maxLength: 12 }).map((s) => `'${s}'`),
  fc.string({ unit: fc.oneof(wordChar, fc.constantFrom(' ', '#', ':', "'", '\\"', '\\\\', '\\n', '\\u00e9', ',')), maxLength: 12 }).map((s) => `"${s}"`),
);
const scalar = fc.oneof({ weight: 3, arbitrary: plainScalar }, { weight: 1, arbitrary: quotedScalar });
const keyText = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.constantFrom(
      'chart_path',
      'name',
      'version',
      'image_repository',
      'image_namespace',
      'autoscaling',
      'keda',
      'repo_url',
      'target_revision',
      'resources',
      'env',
      'labels',
    ),
  },
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
  {
    weight: 2,
    arbitrary: fc
      .array(fc.tuple(word, scalar, eolComment), { minLength: 1, maxLength: 3 })
      .map((xs) => ({ inline: '', below: xs.map(([k, v, c]) => ({ level: 1, text: `${k}: ${v}${c}` })), flowOk: false })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(word, fc.array(fc.tuple(word, scalar), { minLength: 1, maxLength: 2 }))
      .map(([k, xs]) => ({ inline: '', below: [{ level: 1, text: `${k}:` }, ...xs.map(([kk, v]) => ({ level: 2, text: `${kk}: ${v}` }))], flowOk: false })),
  },
  {
    weight: 1,
    arbitrary: fc
      .array(scalar, { minLength: 1, maxLength: 3 })
      .map((xs) => ({ inline: '', below: xs.map((x) => ({ level: 1, text: `- ${x}` })), flowOk: false })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom('|', '>', '|-', '>+', '|+', '|2'),
        fc.array(fc.string({ unit: fc.oneof(wordChar, fc.constantFrom(' ', '#', ':')), maxLength: 12 }), { minLength: 1, maxLength: 3 }),
      )
      .map(([ind, ls]) => ({ inline: ` ${ind}`, below: ls.map((l) => ({ level: 1, text: l.trimEnd() === '' ? 'x' : l.trimEnd() })), flowOk: false })),
  },
);

/** `*ALIAS` becomes an alias of the last anchor defined before the canary (or 7 if none). */
const percentToken = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 100 }).map(String) },
  // Spellings Helm reads as a whole number 0..100.
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '020',
      '0x14',
      '+5',
      '!!int 30',
      '100',
      '30.0',
      '3e1',
      '0x1E',
      '0X1e',
      '+30',
      '036',
      '0o36',
      '3_0',
      '1e2',
      '100.0',
      '-0',
      '.5e2',
      '08',
      '0b11110',
      '!!float 30',
      '!!str 30',
      '"20"',
      "'5'",
      '"0x1E"',
      '"30.0"',
      "' 30 '",
      '"+30"',
      "'3_0'",
      '*ALIAS',
    ),
  },
  // Spellings that render no canaryTrafficPercent (null), like a missing key.
  { weight: 1, arbitrary: fc.constantFrom('null', '~', '""', "''", '"null"', '!!null', 'Null', '', '!!null ""') },
  // Spellings the chart does not render as a whole number 0..100.
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '150',
      '-1',
      '12.5',
      'abc',
      '1e6',
      '[20]',
      '{a: 1}',
      'true',
      'yes',
      'off',
      '"abc"',
      '30.5',
      '1:30',
      '.inf',
      '!!int 30.5',
      '"30%"',
      '101',
      '"1e3"',
    ),
  },
);
const percentKey = fc.constantFrom('trafficPercent', 'trafficPercent', 'trafficPercent', '"trafficPercent"', "'trafficPercent'");
const extraItem = fc.tuple(fc.constantFrom('note', 'owner', 'steps', 'comment'), scalar).map(([k, v]) => ({ key: k, value: ` ${v}` }));

const canaryArb: fc.Arbitrary<CanaryShape> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: 'absent' as const }) },
  {
    weight: 5,
    arbitrary: fc
      .record({
        keyComment: eolComment,
        anchor: fc.constantFrom(false, false, false, false, false, false, false, false, false, true),
        aliasUsed: fc.constantFrom(false, true),
        dupPercent: fc.constantFrom(false, false, false, false, false, false, false, true),
        percent: fc.option(fc.tuple(percentKey, percentToken), { freq: 6 }),
        extras: fc.array(extraItem, { maxLength: 2 }),
        comments: fc.array(eolComment, { minLength: 4, maxLength: 4 }),
        befores: fc.array(fillerLines, { minLength: 4, maxLength: 4 }),
        order: fc.integer({ min: 0, max: 3 }),
      })
      .map(({ keyComment, anchor, aliasUsed, dupPercent, percent, extras, comments, befores, order }) => {
        const items: { key: string; value: string }[] = extras.map((x) => ({ ...x }));
        if (percent) items.splice(Math.min(order, items.length), 0, { key: percent[0], value: percent[1] === '' ? '' : ` ${percent[1]}` });
        // A repeated key: the first copy does not count.
        if (dupPercent) items.unshift({ key: 'trafficPercent', value: ' 9' });
        if (items.length === 0) items.push({ key: 'note', value: ' x' });
        return {
          kind: 'block' as const,
          keyComment,
          anchor,
          aliasUsed: anchor && aliasUsed,
          items: items.map((it, i) => ({ ...it, comment: comments[i] ?? '', before: i === 0 ? [] : (befores[i] ?? []) })),
        };
      }),
  },
  {
    weight: 3,
    arbitrary: fc
      .record({
        percent: fc.option(
          percentToken.filter((t) => t !== '' && !t.startsWith('{') && !t.startsWith('[')),
          { freq: 4 },
        ),
        extras: fc.array(extraItem, { maxLength: 2 }),
        sp: fc.constantFrom('', ' '),
        trailingComma: fc.constantFrom(false, false, false, true),
        comment: eolComment,
        multiline: fc.constantFrom(false, false, false, true),
        innerComments: fc.array(eolComment, { minLength: 4, maxLength: 4 }),
      })
      .map(({ percent, extras, sp, trailingComma, comment, multiline, innerComments }) => {
        const parts = extras.map((x) => `${x.key}:${x.value}`);
        if (percent !== null) parts.push(`trafficPercent: ${percent}`);
        const body = parts.join(', ') + (trailingComma && parts.length ? ',' : '');
        return { kind: 'flow' as const, text: `{${sp}${body}${sp}}`, comment, parts, multiline, innerComments };
      }),
  },
  // Tokens the chart finds falsy: no canary rendered.
  {
    weight: 2,
    arbitrary: fc
      .record({
        token: fc.constantFrom('', '', '~', 'null', 'Null', '!!null', '0', 'false', 'off', '""', "''", '[]', '!!bool false', '!!int 0'),
        comment: eolComment,
      })
      .map((x) => ({ kind: 'null' as const, ...x })),
  },
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

export const docArb: fc.Arbitrary<Doc> = fc.record({
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
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('insert' as const),
        at: fc.nat(),
        ch: fc.constantFrom(' ', '\t', ':', '#', '{', '}', '[', ']', '"', "'", '&', '*', '-', '\n', '?', '|', '>', '!', '%', '@', ',', '\r', 'é'),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }) },
    { weight: 1, arbitrary: fc.constantFrom({ kind: 'dup' as const }, { kind: 'dupCanary' as const }, { kind: 'multi' as const }) },
  ),
});
