/**
 * src/core/config.ts on disk: reading a model's config.yaml, editing it atomically (mode, links,
 * refusals that leave the file byte-identical), and the in-memory draft publishing makes while
 * git runs (used only when the file still reads as it did).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { applyCanaryAction, draftModelEdit, editModelConfig, parseModelConfig, readModelConfig } from '../../src/core/config';
import { CanaryError } from '../../src/core/errors';

const WORKSHOP = readFileSync(path.join(__dirname, 'fixtures', 'golden', 'workshop-canary', 'input.yaml'), 'utf8');

test('parseModelConfig reads name, version and the canary state', () => {
  const c = parseModelConfig(WORKSHOP, '/r/config.yaml', 'test', 'jukebox');
  assert.deepEqual(c, {
    env: 'test',
    model: 'jukebox',
    file: '/r/config.yaml',
    name: 'jukebox',
    version: '4562a17c17',
    canary: { kind: 'percent', trafficPercent: 20 },
    desiredPercent: 20,
    canaryLine: 8,
  });
  const cases: [string, unknown, number | undefined, number][] = [
    ['chart_path: x\n', { kind: 'absent' }, undefined, 1],
    ['chart_path: x\ncanary: {}\n', { kind: 'empty' }, undefined, 2],
    ['chart_path: x\ncanary:\n', { kind: 'empty' }, undefined, 2],
    ['chart_path: x\n\ncanary: ~\n', { kind: 'empty' }, undefined, 3],
    ['chart_path: x\ncanary: {note: x}\n', { kind: 'empty' }, undefined, 2],
    ['chart_path: x\ncanary: {trafficPercent: 0}\n', { kind: 'percent', trafficPercent: 0 }, 0, 2],
    ['chart_path: x\ncanary:\n  trafficPercent: 100\n', { kind: 'percent', trafficPercent: 100 }, 100, 2],
  ];
  for (const [text, canary, desired, line] of cases) {
    const m = parseModelConfig(text, 'f', 'test', 'fallback');
    assert.deepEqual(m.canary, canary, text);
    assert.equal(m.desiredPercent, desired, text);
    assert.equal(m.canaryLine, line, text);
    assert.equal(m.name, 'fallback', 'name falls back to the folder name');
    assert.equal(m.version, undefined);
  }
});

test('version is kept as written, even when YAML would read it as a number', () => {
  for (const v of ['4562171717', '1234e56789', '0x1f2e3d4c5b', '"0012345678"', "'abc'", '12.50']) {
    const m = parseModelConfig(`chart_path: x\nname: n\nversion: ${v}\n`, 'f', 'test', 'm');
    assert.equal(m.version, v.replace(/^["']|["']$/g, ''), v);
  }
});

test('a refused edit names file and line and gives a hint', () => {
  assert.throws(
    () => applyCanaryAction('chart_path: x\ncanary:\n  trafficPercent: 12.5\n', { kind: 'set', percent: 10 }, '/g/config.yaml'),
    (e: unknown) => {
      assert.ok(e instanceof CanaryError);
      assert.equal(e.kind, 'invalid-config');
      assert.equal(e.code, 'bad-percent');
      assert.equal(
        e.message,
        '/g/config.yaml:3: canary.trafficPercent "12.5" is not a whole number (Helm reads 12.5); it must be a whole number from 0 to 100.',
      );
      assert.match(e.hint ?? '', /by hand/);
      return true;
    },
  );
  for (const p of [-1, 101, 12.5, Number.NaN]) {
    assert.throws(
      () => applyCanaryAction('a: 1\n', { kind: 'set', percent: p }, 'f'),
      (e: unknown) => e instanceof CanaryError && e.kind === 'invalid-input',
      String(p),
    );
  }
  assert.throws(
    () => applyCanaryAction('a: 1\n', { kind: 'bogus' } as never, 'f'),
    (e: unknown) => e instanceof CanaryError && e.code === 'invalid-action',
  );
});

function gitops(t: { after: (fn: () => void) => void }, text: string): { root: string; file: string } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ksc-config-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const file = path.join(root, 'model-deployments', 'test', 'jukebox', 'config.yaml');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return { root, file };
}

test('editModelConfig writes the change atomically and reports before/after', async (t) => {
  const { root, file } = gitops(t, WORKSHOP);
  chmodSync(file, 0o600);
  const r = await editModelConfig(root, 'test', 'jukebox', { kind: 'set', percent: 35 });
  assert.equal(r.file, file);
  assert.equal(r.changed, true);
  assert.equal(r.before.desiredPercent, 20);
  assert.equal(r.after.desiredPercent, 35);
  assert.equal(readFileSync(file, 'utf8'), WORKSHOP.replace('trafficPercent: 20 #', 'trafficPercent: 35 #'));
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(path.dirname(file)), ['config.yaml']);
  assert.equal((await readModelConfig(root, 'test', 'jukebox')).desiredPercent, 35);
});

test('editModelConfig does not write when nothing changes', async (t) => {
  const { root, file } = gitops(t, WORKSHOP);
  const past = new Date('2020-01-01T00:00:00Z');
  const { utimesSync } = await import('node:fs');
  utimesSync(file, past, past);
  const r = await editModelConfig(root, 'test', 'jukebox', { kind: 'set', percent: 20 });
  assert.equal(r.changed, false);
  assert.deepEqual(r.after, r.before);
  assert.equal(statSync(file).mtimeMs, past.getTime());
});

test('editModelConfig leaves a refused file byte-identical', async (t) => {
  const bad = 'chart_path: x\r\ncanary: 20 # not a map\r\n';
  const { root, file } = gitops(t, bad);
  await assert.rejects(
    editModelConfig(root, 'test', 'jukebox', { kind: 'rollback' }),
    (e: unknown) => e instanceof CanaryError && e.code === 'bad-canary' && e.message.startsWith(`${file}:2:`),
  );
  assert.equal(readFileSync(file, 'utf8'), bad);
  assert.deepEqual(readdirSync(path.dirname(file)), ['config.yaml']);
});

test('editModelConfig refuses bad names and missing or non-UTF-8 files without touching anything', async (t) => {
  const { root, file } = gitops(t, 'chart_path: x\n');
  await assert.rejects(editModelConfig(root, '../test', 'jukebox', { kind: 'promote' }), (e: unknown) => e instanceof CanaryError && e.code === 'invalid-name');
  await assert.rejects(readModelConfig(root, 'test', 'nope'), (e: unknown) => e instanceof CanaryError && e.kind === 'not-found' && e.code === 'no-config');
  await assert.rejects(editModelConfig(root, 'prod', 'jukebox', { kind: 'promote' }), (e: unknown) => e instanceof CanaryError && e.code === 'no-config');
  const latin1 = Buffer.from('chart_path: x\nname: caf\xe9\n', 'latin1');
  writeFileSync(file, latin1);
  await assert.rejects(
    editModelConfig(root, 'test', 'jukebox', { kind: 'set', percent: 1 }),
    (e: unknown) => e instanceof CanaryError && e.code === 'not-utf8',
  );
  assert.deepEqual(readFileSync(file), latin1);
});

test('editModelConfig writes through a symlinked config.yaml inside the repository, keeping the link', async (t) => {
  const { root, file } = gitops(t, 'chart_path: x\n');
  const shared = path.join(root, 'shared.yaml');
  writeFileSync(shared, 'chart_path: shared\n');
  rmSync(file);
  symlinkSync(shared, file);
  const r = await editModelConfig(root, 'test', 'jukebox', { kind: 'set', percent: 5 });
  assert.equal(r.changed, true);
  assert.ok(statSync(file, { throwIfNoEntry: true }).isFile());
  assert.equal(readFileSync(shared, 'utf8'), 'chart_path: shared\ncanary:\n  trafficPercent: 5\n');
  const { lstatSync } = await import('node:fs');
  assert.ok(lstatSync(file).isSymbolicLink());
});

test('an edit that would change another value is refused (unsafe-edit), the rest still works', () => {
  // `|+` keeps trailing blank lines: removing the canary line would glue the blank line
  // below it to the block scalar above, changing its value.
  const text = 'notes: |+\n  keep\ncanary: {trafficPercent: 5}\n\nchart_path: x\n';
  assert.throws(
    () => applyCanaryAction(text, { kind: 'promote' }, 'c.yaml'),
    (e: unknown) => {
      assert.ok(e instanceof CanaryError);
      assert.equal(e.code, 'unsafe-edit');
      assert.match(e.message, /^c\.yaml:3: .*another value would have changed/);
      assert.match(e.hint ?? '', /by hand/);
      return true;
    },
  );
  assert.equal(applyCanaryAction(text, { kind: 'set', percent: 6 }, 'c.yaml').text, text.replace('5}', '6}'));
});

test('a draft is used only while the file reads as it did: a change made after it is kept, not overwritten', async (t) => {
  const { root, file } = gitops(t, WORKSHOP);
  const action = { kind: 'set', percent: 35 } as const;
  const draft = draftModelEdit(root, 'test', 'jukebox', action);
  assert.equal(readFileSync(file, 'utf8'), WORKSHOP, 'a draft writes nothing');
  assert.equal(draft.after.desiredPercent, 35);
  // Unchanged file: the draft's own results come back (nothing parsed again).
  const same = await editModelConfig(root, 'test', 'jukebox', action, { draft });
  assert.equal(same.before, draft.before);
  assert.equal(same.after, draft.after);
  assert.equal(readFileSync(file, 'utf8'), draft.result.text);

  // Changed after the draft (someone added a line): the edit is made on what the file says now.
  writeFileSync(file, WORKSHOP);
  const stale = draftModelEdit(root, 'test', 'jukebox', action);
  const edited = `${WORKSHOP}# owner: team-a\n`;
  writeFileSync(file, edited);
  const r = await editModelConfig(root, 'test', 'jukebox', action, { draft: stale });
  assert.notEqual(r.before, stale.before);
  assert.equal(readFileSync(file, 'utf8'), edited.replace('trafficPercent: 20 #', 'trafficPercent: 35 #'));

  // A draft of another action is not used either.
  writeFileSync(file, WORKSHOP);
  const other = draftModelEdit(root, 'test', 'jukebox', { kind: 'rollback' });
  const p = await editModelConfig(root, 'test', 'jukebox', { kind: 'promote' }, { draft: other });
  assert.equal(p.after.canary.kind, 'absent');
  assert.doesNotMatch(readFileSync(file, 'utf8'), /canary/);
});

test('draftModelEdit refuses what editModelConfig refuses, before anything is written', (t) => {
  const { root, file } = gitops(t, 'chart_path: x\ncanary: 20\n');
  assert.throws(
    () => draftModelEdit(root, 'test', 'jukebox', { kind: 'set', percent: 5 }),
    (e: unknown) => e instanceof CanaryError && e.code === 'bad-canary',
  );
  assert.throws(
    () => draftModelEdit(root, 'test', 'nope', { kind: 'set', percent: 5 }),
    (e: unknown) => e instanceof CanaryError && e.code === 'no-config',
  );
  assert.throws(
    () => draftModelEdit(root, '../x', 'jukebox', { kind: 'set', percent: 5 }),
    (e: unknown) => e instanceof CanaryError && e.code === 'invalid-name',
  );
  assert.equal(readFileSync(file, 'utf8'), 'chart_path: x\ncanary: 20\n');
});
