/**
 * src/core/config-fast.ts against the full reader and editor (config-read.ts, config-edit.ts):
 * wherever the short way answers, its text, `changed`, and model configs before and after are
 * exactly the full path's, and the full path accepts the file. Checked on the fuzz test's
 * documents (config-fuzz-gen.ts: most are not simple, so mostly it must step aside) and on
 * simple documents made here (most are taken, some damaged on purpose). It must take the
 * workshop's file, and step aside for each kind of file its header lists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { applyCanaryAction, parseModelConfig } from '../../src/core/config';
import { fastCanaryEdit } from '../../src/core/config-fast';
import type { CanaryAction } from '../../src/core/types';
import { docArb } from './config-fuzz-gen';
import { renderDoc } from './config-fuzz-render';
import { WORKSHOP_CONFIG } from './git-helpers';

const FILE = '/g/model-deployments/test/m/config.yaml';

/** The full path's outcome, or the error it refuses with. */
function full(text: string, action: CanaryAction) {
  try {
    const r = applyCanaryAction(text, action, FILE);
    return { text: r.text, changed: r.changed, before: parseModelConfig(text, FILE, 'test', 'm'), after: parseModelConfig(r.text, FILE, 'test', 'm') };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

/** Fails unless the short way steps aside or agrees with the full path; true when it answered. */
function agrees(text: string, action: CanaryAction): boolean {
  const fast = fastCanaryEdit(text, action, FILE, 'test', 'm');
  if (!fast) return false;
  assert.deepEqual(fast, full(text, action), `${JSON.stringify(text)} ${JSON.stringify(action)}`);
  return true;
}

const actions = fc.oneof(
  fc.integer({ min: 0, max: 100 }).map((percent): CanaryAction => ({ kind: 'set', percent })),
  fc.constant<CanaryAction>({ kind: 'rollback' }),
  fc.constant<CanaryAction>({ kind: 'promote' }),
);

test('on the fuzz documents, the short way steps aside or gives the full path answer', () => {
  // Those documents are built to be hard: the short way takes almost none of them, and must
  // give the full path's answer for those it takes.
  fc.assert(
    fc.property(docArb, actions, (doc, action) => {
      agrees(renderDoc(doc).text, action);
    }),
    { seed: 20261202, numRuns: 3000 },
  );
});

// Simple documents: flat `key: value` lines, comments, blank lines, a canary block.
const values = fc.constantFrom(
  'jukebox',
  'true',
  'false',
  '4562a17c17',
  '1e3',
  '0x1F',
  '012',
  '1.5',
  '.inf',
  'image-registry.openshift-image-registry.svc:5000',
  'charts/model-deployment/music-transformer',
  'a:b',
  'a::b',
  'x-',
  'null',
  'Null',
  'user1-test',
  'v1.2.3+build',
  'k=v',
  '0',
);
const comment = fc.constantFrom('', '', ' # note', '  # set by the pipeline', ' #', '   ');
const filler = fc.array(fc.constantFrom('', '# a comment', '  # indented comment', '    '), { maxLength: 2 });
const simpleDoc = fc
  .record({
    start: fc.constantFrom('', '---\n', '# head\n---\n'),
    entries: fc.uniqueArray(
      fc.record({
        key: fc.constantFrom('name', 'version', 'chart_path', 'image_namespace', 'autoscaling', 'Canary', 'x-y'),
        value: values,
        comment,
        before: filler,
      }),
      {
        maxLength: 6,
        selector: (e) => e.key,
      },
    ),
    canaryAt: fc.nat({ max: 6 }),
    indent: fc.constantFrom(' ', '  ', '    '),
    keyComment: comment,
    inside: filler,
    percent: fc.integer({ min: 0, max: 100 }),
    percentComment: comment,
    finalNewline: fc.boolean(),
    damage: fc.oneof(
      { weight: 24, arbitrary: fc.constant('none') },
      { weight: 1, arbitrary: fc.constantFrom('tab', 'cr', 'quote', 'dup', 'indent', 'second-doc', 'percent-word', 'bom') },
    ),
  })
  .map((d) => {
    const lines = d.entries.flatMap((e) => [...e.before, `${e.key}: ${e.value}${e.comment}`]);
    const block = [`canary:${d.keyComment}`, ...d.inside, `${d.indent}trafficPercent: ${d.percent}${d.percentComment}`];
    lines.splice(Math.min(d.canaryAt, lines.length), 0, ...block);
    let text = `${d.start}${lines.join('\n')}${d.finalNewline ? '\n' : ''}`;
    if (d.damage === 'tab') text = text.replace(' ', '\t');
    if (d.damage === 'cr') text = text.replace('\n', '\r\n');
    if (d.damage === 'quote') text = text.replace(/: (\S+)/, ': "$1"');
    if (d.damage === 'dup') text = `${text}${d.finalNewline ? '' : '\n'}canary:\n  trafficPercent: 7\n`;
    if (d.damage === 'indent') text = text.replace(/\n([a-z])/i, '\n $1');
    if (d.damage === 'second-doc') text = `${text}${d.finalNewline ? '' : '\n'}---\nname: other\n`;
    if (d.damage === 'percent-word') text = text.replace(/trafficPercent: \d+/, 'trafficPercent: 30.0');
    if (d.damage === 'bom') text = `\uFEFF${text}`;
    return text;
  });

test('on simple documents, the short way answers most and always as the full path does', () => {
  let answered = 0;
  let runs = 0;
  fc.assert(
    fc.property(simpleDoc, actions, (text, action) => {
      runs++;
      if (agrees(text, action)) answered++;
    }),
    { seed: 20261203, numRuns: 4000 },
  );
  // promote (a third of the actions) always goes the full way; some documents are damaged or have a null name.
  assert.ok(answered > runs * 0.4, `answered ${answered} of ${runs}`);
});

test("takes the workshop's file, and steps aside for what its header lists", () => {
  assert.ok(agrees(WORKSHOP_CONFIG, { kind: 'set', percent: 35 }));
  assert.ok(agrees(WORKSHOP_CONFIG, { kind: 'rollback' }));
  assert.ok(agrees(WORKSHOP_CONFIG, { kind: 'set', percent: 10 }), 'unchanged');
  const aside = [
    'name: a\ncanary:\n\ttrafficPercent: 5\n',
    'name: a\r\ncanary:\r\n  trafficPercent: 5\r\n',
    '\uFEFFname: a\ncanary:\n  trafficPercent: 5\n',
    '%YAML 1.1\n---\nname: a\ncanary:\n  trafficPercent: 5\n',
    'name: a\ncanary:\n  trafficPercent: 5\n---\nname: b\n',
    'name: a\ncanary:\n  trafficPercent: 5\n...\n',
    '  name: a\n  canary:\n    trafficPercent: 5\n',
    'name: "a"\ncanary:\n  trafficPercent: 5\n',
    'tags: [a, b]\ncanary:\n  trafficPercent: 5\n',
    'base: &b x\nname: *b\ncanary:\n  trafficPercent: 5\n',
    'name: !!str a\ncanary:\n  trafficPercent: 5\n',
    'notes: |\n  text\ncanary:\n  trafficPercent: 5\n',
    '<<: {name: a}\ncanary:\n  trafficPercent: 5\n',
    'name: a\nname: b\ncanary:\n  trafficPercent: 5\n',
    'name:\ncanary:\n  trafficPercent: 5\n',
    'name: a b\ncanary:\n  trafficPercent: 5\n',
    'name: é\ncanary:\n  trafficPercent: 5\n',
    'name: a\ncanary:\n  trafficPercent: 5\n  note: x\n',
    'name: a\ncanary:\n  note: x\n',
    'name: a\ncanary:\n',
    'name: a\ncanary:\n  trafficPercent: 05\n',
    'name: a\ncanary:\n  trafficPercent: 101\n',
    'name: a\ncanary:\n  trafficPercent: "5"\n',
    'name: a\ncanary: {trafficPercent: 5}\n',
    'name: a\n',
    'name: null\ncanary:\n  trafficPercent: 5\n',
    'version: NULL\ncanary:\n  trafficPercent: 5\n',
    'name: a\n  b\ncanary:\n  trafficPercent: 5\n',
    'name: a\ncanary:\n  trafficPercent: 5\n    6\n',
  ];
  for (const text of aside) assert.equal(fastCanaryEdit(text, { kind: 'set', percent: 9 }, FILE, 'test', 'm'), undefined, JSON.stringify(text));
  assert.equal(fastCanaryEdit(WORKSHOP_CONFIG, { kind: 'promote' }, FILE, 'test', 'm'), undefined, 'promote goes the full way');
});
