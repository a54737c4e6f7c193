import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CanaryError } from '../../src/core/errors';
import {
  describeGates,
  describePlan,
  formatDuration,
  parseDuration,
  parseInlineSteps,
  parsePlanFile,
  parseRate,
  planFilePath,
  planFromDefaults,
  planHash,
  promRange,
  resolvePlan,
} from '../../src/core/plan';

test('durations need a unit and add up', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('30s'), 30000);
  assert.equal(parseDuration('2m'), 120000);
  assert.equal(parseDuration('1h'), 3600000);
  assert.equal(parseDuration('1m30s'), 90000);
  assert.equal(parseDuration(' 1.5s '), 1500);
  for (const bad of ['30', '', 's', '-1s', '1d', '1 m', 'abc']) assert.equal(parseDuration(bad), undefined, bad);
  assert.equal(formatDuration(90000), '1m30s');
  assert.equal(formatDuration(300000), '5m');
  assert.equal(formatDuration(500), '500ms');
  assert.equal(formatDuration(3600000), '1h');
  assert.equal(promRange(300000), '300s');
  assert.equal(promRange(10), '1s');
});

test('rates read as shares or percentages', () => {
  assert.equal(parseRate('5%'), 0.05);
  assert.equal(parseRate('0.05'), 0.05);
  assert.equal(parseRate(0.2), 0.2);
  for (const bad of ['105%', '1.5', '-1', 'five', '5 %']) assert.equal(parseRate(bad), undefined, bad);
});

test('inline steps: percent[:pause|:manual], going up to 100; the last step has no pause', () => {
  assert.deepEqual(parseInlineSteps('10,25:2m,50:manual,100', 60000), [
    { percent: 10, pauseMs: 60000, manual: false },
    { percent: 25, pauseMs: 120000, manual: false },
    { percent: 50, pauseMs: 0, manual: true },
    { percent: 100, pauseMs: 0, manual: false },
  ]);
  const refuse = (text: string, why: RegExp) =>
    assert.throws(
      () => parseInlineSteps(text, 1000),
      (e: unknown) => {
        assert.ok(e instanceof CanaryError);
        assert.equal(e.code, 'invalid-plan');
        assert.match(e.message, why);
        return true;
      },
      text,
    );
  refuse('10,5,100', /step 2: percent 5 must be higher than the step before \(10\)/);
  refuse('10,50', /the last step is 50%, it must be 100/);
  refuse('0,100', /percent 0 must be a whole number from 1 to 100/);
  refuse('10,x,100', /step 2 "x" is not/);
  refuse('10:soon,100', /"soon" is neither a duration/);
  refuse('10,150', /150 must be a whole number/);
});

test('defaults: built-in 10,25,50,100 with 1m pauses and a 5% error gate; settings override', () => {
  const d = planFromDefaults({}, 'built-in');
  assert.equal(describePlan(d), '10% (1m) → 25% (1m) → 50% (1m) → 100%');
  assert.deepEqual(d.gates, { maxErrorRate: 0.05 });
  const s = planFromDefaults({ steps: '20,100', pause: '30s', maxErrorRate: '1%', maxP95: '300ms', window: '2m' });
  assert.equal(describePlan(s), '20% (30s) → 100%');
  assert.equal(describeGates(s.gates), 'error rate ≤ 1%, p95 ≤ 300ms over 2m');
  assert.throws(() => planFromDefaults({ pause: 'later' }), /pause "later" is not a duration/);
  assert.throws(() => planFromDefaults({ maxErrorRate: '200%' }), /max error rate "200%"/);
});

test('plan file: steps with pause and manual gate, gates, defaults filled in', () => {
  const text = `# per-model plan
steps:
  - percent: 10
    pause: 2m
  - percent: 50
    gate: manual
  - 75
  - percent: 100
pause: 45s
gates:
  maxErrorRate: 2%
  maxP95: 800ms
  window: 1m
`;
  const p = parsePlanFile(text, '/g/canary-plan.yaml');
  assert.deepEqual(p.steps, [
    { percent: 10, pauseMs: 120000, manual: false },
    { percent: 50, pauseMs: 0, manual: true },
    { percent: 75, pauseMs: 45000, manual: false },
    { percent: 100, pauseMs: 0, manual: false },
  ]);
  assert.deepEqual(p.gates, { maxErrorRate: 0.02, maxP95Ms: 800, windowMs: 60000 });
  assert.equal(p.source, '/g/canary-plan.yaml');
  // a gate switched off explicitly
  assert.deepEqual(parsePlanFile('steps: [10, 100]\ngates:\n  maxErrorRate: null\n', 'f').gates, {});
});

test('plan file mistakes are reported as file:line with what is wrong', () => {
  const cases: [string, RegExp][] = [
    ['steps:\n  - percent: 10\n  - percent: 5\n  - percent: 100\n', /^f\.yaml:3: step 2: percent 5 must be higher/],
    ['steps:\n  - percent: 10\n  - percent: 50\n', /^f\.yaml:3: the last step is 50%/],
    ['steps:\n  - percent: 10\n    pause: 30\n  - percent: 100\n', /^f\.yaml:3: step 1: pause "30" is not a duration \(write the unit/],
    ['steps:\n  - percent: 10\n    gate: auto\n  - percent: 100\n', /^f\.yaml:3: step 1: gate "auto" is unknown/],
    ['steps:\n  - percent: 10\n    wait: 1m\n  - percent: 100\n', /^f\.yaml:3: step 1: unknown key "wait"/],
    ['steps:\n  - pause: 1m\n  - percent: 100\n', /^f\.yaml:2: step 1 has no percent/],
    ['steps:\n  - percent: ten\n  - percent: 100\n', /^f\.yaml:2: step 1: percent must be a whole number/],
    ['steps: [10, 100]\ngates:\n  maxErrorRate: lots\n', /^f\.yaml:3: gates.maxErrorRate must be a share/],
    ['steps: [10, 100]\ngates:\n  minSuccess: 1\n', /^f\.yaml:3: unknown gate "minSuccess"/],
    ['steps: [10, 100]\ngates:\n  window: 10ms\n', /^f\.yaml:3: gates.window "10ms" is not a duration of at least 1s/],
    ['step: [10, 100]\n', /^f\.yaml:1: unknown key "step"/],
    ['pause: 1m\n', /^f\.yaml:1: the plan has no "steps" list/],
    ['steps: 10\n', /^f\.yaml:1: "steps" must be a list/],
    ['steps: []\n', /^f\.yaml:1: the plan has no steps/],
    ['steps:\n  - 10\n  - "50"\n  - 100\n', /^f\.yaml:3: step 2: "50" is not a percent/],
    ['- 10\n- 100\n', /^f\.yaml:1: the plan must be a mapping/],
    ['steps: [10, 100\n', /^f\.yaml:\d+: not valid YAML/],
    ['steps: [10, 100]\nsteps: [20, 100]\n', /^f\.yaml:\d+: not valid YAML/],
  ];
  for (const [text, why] of cases) {
    assert.throws(
      () => parsePlanFile(text, 'f.yaml'),
      (e: unknown) => {
        assert.ok(e instanceof CanaryError, String(e));
        assert.equal(e.kind, 'invalid-config');
        assert.equal(e.code, 'invalid-plan');
        assert.match(e.message, why);
        assert.ok(e.hint);
        return true;
      },
      text,
    );
  }
});

test('resolvePlan: --plan list, --plan file, the model file next to config.yaml, then defaults', async (t) => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ksc-plan-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const dir = path.join(root, 'model-deployments', 'test', 'jukebox');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'config.yaml'), 'chart_path: charts/x\nname: jukebox\n');
  const base = { root, env: 'test', model: 'jukebox' };
  assert.equal((await resolvePlan(base)).source, 'built-in');
  assert.equal((await resolvePlan({ ...base, defaults: { steps: '50,100' } })).source, 'settings');
  const file = planFilePath(root, 'test', 'jukebox');
  assert.equal(file, path.join(dir, 'canary-plan.yaml'));
  writeFileSync(file, 'steps: [5, 100]\n');
  const own = await resolvePlan({ ...base, defaults: { pause: '10s' } });
  assert.equal(own.source, file);
  assert.deepEqual(
    own.steps.map((s) => [s.percent, s.pauseMs]),
    [
      [5, 10000],
      [100, 0],
    ],
  );
  const inline = await resolvePlan({ ...base, explicit: '20:manual,100' });
  assert.equal(inline.source, '--plan');
  assert.deepEqual(
    inline.steps.map((s) => s.percent),
    [20, 100],
  );
  writeFileSync(path.join(root, 'other.yaml'), 'steps: [30, 100]\n');
  const other = await resolvePlan({ ...base, explicit: 'other.yaml', cwd: root });
  assert.deepEqual(
    other.steps.map((s) => s.percent),
    [30, 100],
  );
  await assert.rejects(resolvePlan({ ...base, explicit: 'missing.yaml', cwd: root }), (e: unknown) => e instanceof CanaryError && e.code === 'no-plan-file');
  writeFileSync(file, 'steps: [50, 10]\n');
  await assert.rejects(resolvePlan(base), (e: unknown) => e instanceof CanaryError && e.message.startsWith(`${file}:1:`));
});

test('the plan hash changes with what the plan does, not with where it came from', () => {
  const a = planFromDefaults({ steps: '10,50,100' }, 'x');
  const b = planFromDefaults({ steps: '10,50,100' }, 'y');
  assert.equal(planHash(a), planHash(b));
  assert.match(planHash(a), /^[0-9a-f]{8}$/);
  assert.notEqual(planHash(a), planHash(planFromDefaults({ steps: '10,60,100' })));
  assert.notEqual(planHash(a), planHash(planFromDefaults({ steps: '10,50,100', pause: '2m' })));
  assert.notEqual(planHash(a), planHash(planFromDefaults({ steps: '10,50,100', maxErrorRate: 0.01 })));
});
