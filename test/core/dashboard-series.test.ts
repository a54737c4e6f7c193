/** Building the dashboard's series (src/core/dashboard-series.ts): steps, gaps, counter resets, shares, git and rollout markers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  alignRange,
  commitEvents,
  configuredSeries,
  counterIncreases,
  createDashboardEventLog,
  desiredSeries,
  onSteps,
  rateWindowMs,
  sharesPerStep,
  sumBy,
  type CanaryCommit,
} from '../../src/core/dashboard-series';
import { DASHBOARD_WINDOWS } from '../../src/core/dashboard-model';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const vals = (pts: { v: number | null }[]) => pts.map((p) => p.v);

test('steps: aligned to multiples of the step, from = to − window, both ends included, for every window', () => {
  const now = T0 + 17_345;
  const r = alignRange('15m', now);
  assert.equal(r.stepMs, 30_000);
  assert.equal(r.to, T0);
  assert.equal(r.from, T0 - 15 * 60_000);
  assert.equal(r.times.length, 31);
  assert.ok(r.times.every((t, i) => t === r.from + i * r.stepMs));
  for (const w of DASHBOARD_WINDOWS) {
    const x = alignRange(w, now);
    assert.equal(x.to % x.stepMs, 0, w);
    assert.ok(x.to <= now && now - x.to < x.stepMs, w);
    assert.ok(x.times.length >= 31 && x.times.length <= 73, `${w}: ${x.times.length} points`);
  }
  // the same instant in the next step moves the window by one step
  assert.equal(alignRange('1h', T0 + 60_000).to - alignRange('1h', T0 + 59_999).to, 60_000);
  assert.throws(() => alignRange('2h' as never, now), /unknown dashboard window/);
  assert.equal(rateWindowMs(30_000), 120_000);
  assert.equal(rateWindowMs(20 * 60_000), 20 * 60_000 + 30_000);
});

test('gaps: a step without a point, or with NaN / Inf, is null, never 0', () => {
  const times = [0, 10, 20, 30];
  assert.deepEqual(
    onSteps(
      [
        [0, 1],
        [20, 0],
        [30, Number.NaN],
      ],
      times,
    ),
    [
      { t: 0, v: 1 },
      { t: 10, v: null },
      { t: 20, v: 0 },
      { t: 30, v: null },
    ],
  );
  assert.deepEqual(vals(onSteps([[10, Number.POSITIVE_INFINITY]], times)), [null, null, null, null]);
});

test('counter increases: differences, a drop is a reset (counts from zero), a new series after a gap starts at zero', () => {
  const pts = (vs: (number | null)[]) => vs.map((v, i) => ({ t: i, v }));
  // 10 → 25 → 40, restart: 7 (7 requests since), then 12
  assert.deepEqual(vals(counterIncreases(pts([10, 25, 40, 7, 12]))), [null, 15, 15, 7, 5]);
  // absent, then appears at 4 (its first 4 requests), absent again, back at 3 after a restart
  assert.deepEqual(vals(counterIncreases(pts([null, 4, 9, null, 3]))), [null, 4, 5, null, 3]);
  // the window's first step has no step before it: unknown, not the whole counter
  assert.deepEqual(vals(counterIncreases(pts([1000]))), [null]);
  assert.deepEqual(vals(counterIncreases(pts([5, 5, 5]))), [null, 0, 0]);
});

test('sumBy adds series per key, keeps null where none of them has a value', () => {
  const s = sumBy(
    [
      { k: 'b', p: [1, null, 2] },
      { k: 'a', p: [null, null, 1] },
      { k: 'b', p: [3, null, null] },
      { k: undefined, p: [9, 9, 9] },
    ],
    (x) => x.k,
    (x) => x.p.map((v, t) => ({ t, v })),
  );
  assert.deepEqual(
    s.map((x) => [x.revision, vals(x.points)]),
    [
      ['a', [null, null, 1]],
      ['b', [4, null, 2]],
    ],
  );
});

test("shares per step: percent of the step's counts; nothing served is null for every revision", () => {
  const counts = [
    {
      revision: 'r1',
      points: [
        { t: 0, v: 80 },
        { t: 1, v: 0 },
        { t: 2, v: null },
        { t: 3, v: 3 },
      ],
    },
    {
      revision: 'r2',
      points: [
        { t: 0, v: 20 },
        { t: 1, v: 0 },
        { t: 2, v: null },
        { t: 3, v: null },
      ],
    },
  ];
  const s = sharesPerStep(counts);
  assert.deepEqual(vals(s[0]!.points), [80, null, null, 100]);
  assert.deepEqual(vals(s[1]!.points), [20, null, null, null]);
  assert.deepEqual(sharesPerStep([]), []);
});

const commit = (sha: string, min: number, percent: number | undefined, subject: string, extra: Partial<CanaryCommit> = {}): CanaryCommit => ({
  sha: sha.repeat(40).slice(0, 40),
  t: T0 + min * 60_000,
  author: 'Ada',
  subject,
  percent,
  ...extra,
});

test('desired split over time: the percent in force at each step (100 without a canary), null before the first commit', () => {
  const commits = [commit('a', -30, undefined, 'add jukebox'), commit('b', -10, 20, 'canary 20%'), commit('c', -5, undefined, 'promote')];
  const times = [-40, -30, -20, -10, -6, -5, 0].map((m) => T0 + m * 60_000);
  assert.deepEqual(vals(desiredSeries(commits, times)), [null, 100, 100, 20, 20, 100, 100]);
  // a commit whose file did not read is skipped: the value before it holds
  const bad = [...commits.slice(0, 2), commit('d', -6, undefined, 'broken', { invalid: 'config.yaml:3: bad' })];
  assert.equal(desiredSeries(bad, [T0]).at(-1)!.v, 20);
});

test('commit markers: only commits that changed the canary, inside the window, with sha, message, author and time', () => {
  const commits = [
    commit('a', -90, undefined, 'add jukebox'),
    commit('b', -50, 20, 'canary 20%'),
    commit('c', -40, 20, 'bump the image'),
    commit('d', -20, 50, 'canary 50%'),
    commit('e', -10, undefined, 'promote'),
  ];
  const ev = commitEvents(commits, T0 - 60 * 60_000, T0);
  assert.deepEqual(
    ev.map((e) => e.message),
    ['canary 20%', 'canary 50%', 'promote'],
  );
  assert.ok(ev.every((e) => e.kind === 'commit' && e.author === 'Ada' && e.sha!.length === 40));
  assert.equal(ev[1]!.t, T0 - 20 * 60_000);
  assert.match(ev[1]!.title, /^ddddddd canary 50% \(was 20%\): canary 50%$/);
  assert.match(ev[2]!.title, /no canary \(100% latest\) \(was 50%\)/);
  // a first commit that already has a canary is a change
  assert.equal(commitEvents([commit('f', -1, 10, 'new with canary')], T0 - 60_000, T0).length, 1);
});

test('configured split from traffic snapshots: step function per revision, 0% once configured out, null before any snapshot', () => {
  const snaps = [
    { t: T0 - 300_000, revisions: [{ name: 'r1', percent: 100 }] },
    {
      t: T0 - 120_000,
      revisions: [
        { name: 'r1', percent: 80 },
        { name: 'r2', percent: 20 },
      ],
    },
    { t: T0 - 60_000, revisions: [{ name: 'r2', percent: 100 }] },
  ];
  const times = [T0 - 400_000, T0 - 300_000, T0 - 120_000, T0];
  const c = configuredSeries(snaps, times);
  assert.deepEqual(
    c.map((x) => [x.revision, vals(x.points)]),
    [
      ['r1', [null, 100, 80, 0]],
      ['r2', [null, 0, 20, 100]],
    ],
  );
});

test('rollout hook: live steps, rollbacks and decided gates become markers, per service, newest kept', () => {
  let now = T0;
  const log = createDashboardEventLog(2, () => now);
  const reading = { revision: 'r2', window: '1m', rps: 1, errorRate: 0.5, p95Ms: 10, problem: undefined };
  log.record('test/jukebox', { kind: 'live', step: 1, message: 'Step 1/3 is live: latest 10%' });
  now += 1000;
  log.record('test/jukebox', { kind: 'follow', step: 1, message: 'Argo CD synced' });
  log.record('test/jukebox', { kind: 'gates', step: 1, message: 'Step 1/3: gates passed', reading, evaluation: { verdict: 'pass', summary: 'ok' } });
  log.record('test/jukebox', { kind: 'gates', step: 1, message: 'no traffic', reading, evaluation: { verdict: 'inconclusive', summary: '?' } });
  log.record('prod/jukebox', { kind: 'rollback', step: 2, message: 'Rolling back' });
  const ev = log.events('test/jukebox', T0 - 1, T0 + 5000);
  assert.deepEqual(
    ev.map((e) => [e.kind, e.passed]),
    [
      ['rollout-step', undefined],
      ['gate', true],
    ],
  );
  now += 1000;
  log.record('test/jukebox', { kind: 'gates', step: 2, message: 'Step 2/3: gate error-rate failed', reading, evaluation: { verdict: 'fail', summary: 'x' } });
  assert.deepEqual(
    log.events('test/jukebox', T0 - 1, T0 + 5000).map((e) => e.passed),
    [true, false],
    'only the newest 2 kept',
  );
  assert.equal(log.events('prod/jukebox', T0 - 1, T0 + 5000)[0]!.kind, 'rollout-step');
  assert.deepEqual(log.events('test/jukebox', T0 + 10_000, T0 + 20_000), []);
});
