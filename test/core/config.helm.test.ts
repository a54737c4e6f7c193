/**
 * The tool reads config.yaml as the chart renders it: every case of
 * fixtures/helm-render.json (each values document run through the real Helm engine and the
 * chart's canary template, see its `about`) is read by parseModelConfig with the same outcome,
 * and every document Helm renders fine can be set, rolled back and promoted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { applyCanaryAction, parseModelConfig } from '../../src/core/config';
import { CanaryError } from '../../src/core/errors';
import { PARSER_DIVERGENCES } from './helm-oracle';

interface HelmCase {
  values: string;
  renders: 'percent' | 'none' | 'invalid' | 'error';
  value?: number;
}
const helmCases = (JSON.parse(readFileSync(path.join(__dirname, 'fixtures', 'helm-render.json'), 'utf8')) as { cases: HelmCase[] }).cases;

/** Documents Helm renders fine that the tool still refuses to SET, with the reason (reading works). */
const SET_REFUSED: Record<string, string> = {
  'a: &x {trafficPercent: 20}\ncanary: *x\n': 'anchored-canary', // canary is an alias: a change would change `a` too
  'canary: &c\n  trafficPercent: 20\nother: *c\n': 'unsafe-edit', // the same block is `other`
  'base: &b {trafficPercent: 40}\ncanary:\n  <<: *b\n': 'merged-canary',
};

test('the fixture covers every outcome', () => {
  const kinds = new Set(helmCases.map((c) => c.renders));
  assert.deepEqual([...kinds].sort(), ['error', 'invalid', 'none', 'percent']);
});

for (const c of helmCases) {
  test(`reads as Helm renders: ${JSON.stringify(c.values)} → ${c.renders}${c.value === undefined ? '' : ` ${c.value}`}`, () => {
    if (PARSER_DIVERGENCES.has(c.values)) return;
    const read = (): ReturnType<typeof parseModelConfig> => parseModelConfig(c.values, 'config.yaml', 'test', 'm');
    if (c.renders === 'invalid' || c.renders === 'error') {
      if (SET_REFUSED[c.values] === 'merged-canary') return;
      assert.throws(read, (e: unknown) => e instanceof CanaryError && e.kind === 'invalid-config' && /^config\.yaml:\d+: /.test(e.message));
      return;
    }
    if (SET_REFUSED[c.values] === 'merged-canary') {
      assert.throws(read, (e: unknown) => e instanceof CanaryError && e.code === 'merged-canary');
      return;
    }
    const m = read();
    assert.equal(m.desiredPercent, c.renders === 'percent' ? c.value : undefined);
    assert.notEqual(m.canary.kind, c.renders === 'percent' ? 'empty' : 'percent');
    const set = (): { text: string } => applyCanaryAction(c.values, { kind: 'set', percent: 57 }, 'config.yaml');
    const refusal = SET_REFUSED[c.values];
    if (refusal) {
      assert.throws(set, (e: unknown) => e instanceof CanaryError && e.code === refusal);
      return;
    }
    assert.equal(parseModelConfig(set().text, 'config.yaml', 'test', 'm').desiredPercent, 57);
    const back = applyCanaryAction(c.values, { kind: 'rollback' }, 'config.yaml');
    assert.equal(parseModelConfig(back.text, 'config.yaml', 'test', 'm').desiredPercent, 0);
    // A document holding nothing but canary cannot lose it (it would be empty, or the next
    // document would take its place): that refusal is right.
    const first = parseAllDocuments(c.values, { uniqueKeys: false })[0]!.toJS() as Record<string, unknown>;
    const onlyCanary = Object.keys(first).every((k) => k === 'canary');
    if (onlyCanary) {
      assert.throws(
        () => applyCanaryAction(c.values, { kind: 'promote' }, 'config.yaml'),
        (e: unknown) => e instanceof CanaryError && e.code === 'unsafe-edit',
      );
    } else {
      const promoted = applyCanaryAction(c.values, { kind: 'promote' }, 'config.yaml');
      assert.equal(parseModelConfig(promoted.text, 'config.yaml', 'test', 'm').canary.kind, 'absent');
    }
  });
}
