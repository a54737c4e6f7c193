/**
 * Golden-file tests of the canary edits. Each folder of fixtures/golden holds an
 * `input.yaml`; fixtures/golden/actions.json lists the actions to apply to it. For each
 * action `set N` / `promote` / `rollback` the expected output is `<folder>/set-N.yaml`,
 * `promote.yaml` or `rollback.yaml` (byte for byte: the folder's .gitattributes keeps git
 * from converting line endings), or, for a file that must be refused, `refused.json`
 * ({code, line}) and the text must come back untouched. refused.json may also give `read`:
 * the percent the file reads as (reading works, only editing is refused), and `only`: the
 * actions refused (the others have expected files).
 * The expected files were written by hand-reviewing every diff against input.yaml: when an
 * edit rule changes on purpose, regenerate and review them again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { applyCanaryAction, parseModelConfig } from '../../src/core/config';
import { CanaryError } from '../../src/core/errors';
import type { CanaryAction } from '../../src/core/types';

const dir = path.join(__dirname, 'fixtures', 'golden');
const table = JSON.parse(readFileSync(path.join(dir, 'actions.json'), 'utf8')) as Record<string, string[]>;

function toAction(spec: string): CanaryAction {
  const [kind, n] = spec.split(' ');
  if (kind === 'set') return { kind: 'set', percent: Number(n) };
  if (kind === 'promote' || kind === 'rollback') return { kind };
  throw new Error(`bad action ${spec}`);
}

const read = (f: string): string => readFileSync(f, 'utf8');

test('every golden folder is listed in actions.json and vice versa', () => {
  const folders = readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  assert.deepEqual(folders, Object.keys(table).sort());
});

for (const [name, actions] of Object.entries(table)) {
  const input = read(path.join(dir, name, 'input.yaml'));
  const refusedFile = path.join(dir, name, 'refused.json');
  for (const spec of actions) {
    const action = toAction(spec);
    test(`golden ${name}: ${spec}`, () => {
      const refusal = existsSync(refusedFile) ? (JSON.parse(read(refusedFile)) as { code: string; line: number; read?: number; only?: string[] }) : undefined;
      if (refusal && (!refusal.only || refusal.only.includes(spec))) {
        const want = refusal;
        assert.throws(
          () => applyCanaryAction(input, action, '/repo/model-deployments/test/jukebox/config.yaml'),
          (e: unknown) => {
            assert.ok(e instanceof CanaryError, String(e));
            assert.equal(e.kind, 'invalid-config');
            assert.equal(e.code, want.code);
            assert.ok(e.message.startsWith(`/repo/model-deployments/test/jukebox/config.yaml:${want.line}: `), e.message);
            assert.ok(e.hint && e.hint.length > 0);
            return true;
          },
        );
        if (want.read !== undefined) {
          // Reading works: the chart renders this file; only the edit cannot be made safely.
          assert.equal(parseModelConfig(input, 'config.yaml', 'test', 'jukebox').desiredPercent, want.read);
          return;
        }
        // Reading refuses the same way (what the tree shows for a broken file).
        assert.throws(
          () => parseModelConfig(input, 'config.yaml', 'test', 'jukebox'),
          (e: unknown) => e instanceof CanaryError && e.code === want.code,
        );
        return;
      }
      const expected = read(path.join(dir, name, `${spec.replace(' ', '-')}.yaml`));
      const out = applyCanaryAction(input, action, 'config.yaml');
      assert.equal(out.text, expected);
      assert.equal(out.changed, expected !== input);
      // The result reads back as intended...
      const after = parseModelConfig(out.text, 'config.yaml', 'test', 'jukebox');
      const want = action.kind === 'set' ? action.percent : action.kind === 'rollback' ? 0 : undefined;
      assert.equal(after.desiredPercent, want);
      if (action.kind === 'promote') assert.equal(after.canary.kind, 'absent');
      // ...and applying the same action again changes nothing.
      const again = applyCanaryAction(out.text, action, 'config.yaml');
      assert.equal(again.changed, false);
      assert.equal(again.text, out.text);
    });
  }
}
