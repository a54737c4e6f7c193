/**
 * Property-based test of the canary edits (issue 7 §1), judged by an independent oracle
 * (issue 13 §5). Documents come from test/core/config-fuzz-gen.ts; helm-oracle.ts says, per
 * document, what the chart renders (a whole-number percent, no canary, invalid, or unknown
 * when the yaml parser refuses it).
 *
 * Each document gets set N, promote and rollback. Every outcome must be one of:
 * - a CanaryError (any code): a refusal, and applyCanaryAction returned no text. A refusal
 *   of a document the chart renders fine (percent or no canary) FAILS the test, printed with
 *   the document, unless the oracle finds the edit impossible without changing something
 *   else (promote of a document holding only canary; a canary block an alias elsewhere
 *   shares; set on a canary that is an alias): those are counted apart, by reason;
 * - unchanged (`changed: false`): the text is identical and already in the intended state;
 * - the intended change, checked independently of the implementation:
 *   1. the input renders fine; the output parses (yaml, YAML 1.1) without error; the
 *      oracle reads its percent as N for set/rollback, no canary key for promote; the other
 *      canary keys and every other top-level value are deep-equal to the input's;
 *   2. line check (undamaged block-style documents): split input and output on the
 *      document's line ending; with [cs, ce) the input lines of the canary block (its key
 *      line through the line where its value ends; for an absent canary cs = ce = the
 *      insertion point, the end of the file or the `...` line), output[0, cs) must equal
 *      input[0, cs) and the output must end with input[ce, end) byte for byte; the new
 *      middle has no stray line break characters, is empty for promote, and for set holds
 *      at most 2 lines more than the old block; the presence of a final line break and of a
 *      BOM (set aside before splitting) is kept.
 * Reading (parseModelConfig) of every document must agree with the oracle: the percent it
 * renders, no canary (`absent`/`empty`), or a CanaryError for what the chart cannot render.
 * Anything else (another exception type, a wrong value, a changed line) fails the test.
 * Fixed seed, 10,000 documents; counts go to test-results/fuzz.json (refusals by code, by
 * verdict, and `validRefused`, the refusals of documents the chart renders fine: goal 0).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { applyCanaryAction, parseModelConfig } from '../../src/core/config';
import { CanaryError } from '../../src/core/errors';
import type { CanaryAction } from '../../src/core/types';
import { docArb } from './config-fuzz-gen';
import { renderDoc, type Rendered } from './config-fuzz-render';
import { helmReading, rendersFine, unavoidableRefusal, type Verdict } from './helm-oracle';
import { writeFigures } from '../figures';

const SEED = 20261126;
const DOCUMENTS = Number(process.env.KSC_FUZZ_DOCS ?? 10_000);

// ---- the property ----------------------------------------------------------------------------

function without(o: unknown, key: string): Record<string, unknown> {
  const c: Record<string, unknown> = o !== null && typeof o === 'object' && !Array.isArray(o) ? { ...(o as Record<string, unknown>) } : {};
  delete c[key];
  return c;
}

const bump = (m: Record<string, number>, k: string): void => {
  m[k] = (m[k] ?? 0) + 1;
};

const counts = {
  documents: 0,
  reads: 0,
  actions: 0,
  changed: 0,
  unchanged: 0,
  refused: 0,
  lineChecked: 0,
  refusedByCode: {} as Record<string, number>,
  /** What the oracle says of each document: percent / none / invalid / unknown. */
  verdicts: {} as Record<string, number>,
  /** Refusals by the oracle's verdict on the refused document. */
  refusedByVerdict: {} as Record<string, number>,
  /** Refusals of documents the chart renders fine that the oracle finds avoidable (goal 0; any fails the test). */
  validRefused: 0,
  validRefusedByCode: {} as Record<string, number>,
  /** Reads refused although the chart renders the document fine (goal 0; any fails the test). */
  validReadRefused: 0,
  /** Refusals of documents the chart renders fine where the edit cannot be made alone, by reason. */
  validRefusedUnavoidable: {} as Record<string, number>,
  seed: SEED,
  durationMs: 0,
};

/** The first refusals of documents the chart renders fine, with the document (printed on failure). */
const validRefusals: string[] = [];

/** A rendered document with the oracle's reading of it (made once, on first use). */
interface Judged extends Rendered {
  reading?: ReturnType<typeof helmReading>;
}
const readingOf = (r: Judged): ReturnType<typeof helmReading> => (r.reading ??= helmReading(r.text));
const verdictOf = (r: Judged): Verdict => readingOf(r).verdict;

function checkOne(r: Judged, action: CanaryAction): void {
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
    bump(counts.refusedByCode, e.code);
    const v = verdictOf(r);
    bump(counts.refusedByVerdict, v.kind);
    if (process.env.KSC_FUZZ_SHOW === e.code) console.log(JSON.stringify({ input, action, message: e.message, verdict: v }));
    if (rendersFine(v)) {
      const why = unavoidableRefusal(input, action.kind);
      if (why !== undefined) bump(counts.validRefusedUnavoidable, why);
      else {
        counts.validRefused++;
        bump(counts.validRefusedByCode, e.code);
        if (validRefusals.length < 10)
          validRefusals.push(
            `${action.kind}${action.kind === 'set' ? ` ${action.percent}` : ''} refused (${e.code}: ${e.message}) though the chart renders ${JSON.stringify(v)}\n  ${JSON.stringify(input)}`,
          );
      }
    }
    return;
  }
  const want = action.kind === 'set' ? action.percent : action.kind === 'rollback' ? 0 : undefined;
  // The first document's values as Helm reads them (later documents do not count, a repeated key's last value wins).
  const before = readingOf(r).values;
  const outReading = out.text === input ? readingOf(r) : helmReading(out.text);
  const after = outReading.values;
  const ctx = (): string => `${action.kind} ${want}\n--- input\n${JSON.stringify(input)}\n--- output\n${JSON.stringify(out.text)}`;
  assert.ok(rendersFine(verdictOf(r)), `edited a document the chart does not render (${JSON.stringify(verdictOf(r))}): ${ctx()}`);
  assert.ok(before !== undefined, `accepted a document the reference parser refuses: ${ctx()}`);
  assert.ok(after !== undefined, `output does not parse: ${ctx()}`);
  // 1. values
  assert.ok(isDeepStrictEqual(without(before, 'canary'), without(after, 'canary')), `another value changed: ${ctx()}`);
  const rendered = outReading.verdict;
  if (want === undefined) {
    assert.equal(Object.prototype.hasOwnProperty.call(after, 'canary'), false, `canary still there: ${ctx()}`);
    assert.deepEqual(rendered, { kind: 'none', key: false }, `promoted document still renders a canary: ${ctx()}`);
  } else {
    assert.deepEqual(rendered, { kind: 'percent', value: want }, `wrong percent: ${ctx()}`);
    assert.ok(isDeepStrictEqual(without(after.canary, 'trafficPercent'), without(before.canary, 'trafficPercent')), `other canary keys changed: ${ctx()}`);
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
  assert.ok(
    middle.every((l) => !l.includes('\n') && !l.includes('\r')),
    `stray line break: ${ctx()}`,
  );
  if (action.kind === 'promote') assert.equal(middle.length, 0, `promote left lines: ${ctx()}`);
  else
    assert.ok(
      middle.length <= r.ce - r.cs + 2 && middle.some((l) => new RegExp(`trafficPercent['"]?: (!![a-z]+ )?['"]?${want}(?![0-9])`).test(l)),
      `unexpected canary block: ${ctx()}`,
    );
  assert.equal(out.text.endsWith(r.eol), input.endsWith(r.eol), `final newline changed: ${ctx()}`);
}

/** Reading never throws anything but a CanaryError, and agrees with the oracle. */
function checkRead(r: Judged): void {
  const v = verdictOf(r);
  bump(counts.verdicts, v.kind);
  let m;
  try {
    m = parseModelConfig(r.text, 'config.yaml', 'test', 'm');
  } catch (e) {
    if (!(e instanceof CanaryError)) throw new Error(`read: not a CanaryError for ${JSON.stringify(r.text)}`, { cause: e });
    if (rendersFine(v)) {
      counts.validReadRefused++;
      if (validRefusals.length < 10)
        validRefusals.push(`read refused (${e.code}: ${e.message}) though the chart renders ${JSON.stringify(v)}\n  ${JSON.stringify(r.text)}`);
    }
    return;
  }
  counts.reads++;
  const doc = `\n--- document\n${JSON.stringify(r.text)}`;
  assert.ok(rendersFine(v), `read a document the chart does not render (${JSON.stringify(v)}) as ${JSON.stringify(m.canary)}${doc}`);
  if (v.kind === 'percent') {
    assert.equal(m.desiredPercent, v.value, `desiredPercent${doc}`);
    assert.equal(m.canary.kind, 'percent');
  } else if (v.kind === 'none') {
    assert.equal(m.desiredPercent, undefined, `desiredPercent${doc}`);
    assert.equal(m.canary.kind, v.key ? 'empty' : 'absent', `canary kind${doc}`);
  }
}

test(`canary edits under fuzz: ${DOCUMENTS} generated config.yaml documents × set/promote/rollback`, (t) => {
  const started = Date.now();
  fc.assert(
    fc.property(docArb, fc.integer({ min: 0, max: 100 }), (d, n) => {
      const r: Judged = renderDoc(d);
      counts.documents++;
      checkRead(r);
      checkOne(r, { kind: 'set', percent: n });
      checkOne(r, { kind: 'promote' });
      checkOne(r, { kind: 'rollback' });
    }),
    { seed: SEED, numRuns: DOCUMENTS, endOnFailure: true, includeErrorInReport: true },
  );
  counts.durationMs = Date.now() - started;
  // The generator must mostly produce documents that get edited, or the test proves little;
  // and it must reach every verdict, or the oracle is not exercised.
  assert.ok(counts.changed > counts.actions / 3, `only ${counts.changed} of ${counts.actions} actions changed a document`);
  assert.ok(counts.lineChecked > counts.changed / 2, `line checks ran on only ${counts.lineChecked} changes`);
  for (const k of ['percent', 'none', 'invalid', 'unknown'])
    assert.ok((counts.verdicts[k] ?? 0) > DOCUMENTS / 100, `only ${counts.verdicts[k] ?? 0} documents judged ${k}`);
  assert.deepEqual(validRefusals, [], `${counts.validRefused} edits and ${counts.validReadRefused} reads refused documents the chart renders fine`);

  // Figures only once every assertion held (test/figures.ts binds them to this run).
  writeFigures('fuzz', t, counts);
});
