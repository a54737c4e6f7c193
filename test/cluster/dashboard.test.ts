/**
 * loadDashboard (src/cluster/dashboard.ts) and createTrafficHistory: git's canary commits as
 * the desired split and markers (a repository with 3 canary commits), sections that fail on
 * their own, the panel without Prometheus, the configured split from the store's traffic.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadDashboard, PROMETHEUS_HINT } from '../../src/cluster/dashboard';
import { createTrafficHistory } from '../../src/cluster/dashboard-history';
import type { MetricsClient, PromRange, PromSeries } from '../../src/cluster/metrics';
import { MetricsError } from '../../src/cluster/metrics';
import type { ServiceState } from '../../src/cluster/types';
import { createDashboardEventLog } from '../../src/core/dashboard-series';
import { createCanaryHistoryReader } from '../../src/core/canary-history';

const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);
const MIN = 60_000;
let root: string;

function config(percent: number | undefined, version = 'a1'): string {
  return ['---', 'name: jukebox', `version: ${version}`, ...(percent === undefined ? [] : ['canary:', `  trafficPercent: ${percent}`]), ''].join('\n');
}

before(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'ksc-dashboard-'));
  const file = path.join(root, 'model-deployments', 'test', 'jukebox', 'config.yaml');
  mkdirSync(path.dirname(file), { recursive: true });
  const git = (args: string[], at?: number) =>
    execFileSync('git', args, {
      cwd: root,
      env: {
        ...process.env,
        GIT_CONFIG_NOSYSTEM: '1',
        HOME: root,
        ...(at ? { GIT_AUTHOR_DATE: `@${at / 1000} +0000`, GIT_COMMITTER_DATE: `@${at / 1000} +0000` } : {}),
      },
    });
  git(['init', '-q', '-b', 'main']);
  git(['config', 'user.name', 'Ada Lovelace']);
  git(['config', 'user.email', 'ada@example.invalid']);
  const commit = (text: string, msg: string, at: number) => {
    writeFileSync(file, text);
    git(['add', '-A']);
    git(['commit', '-q', '-m', msg], at);
  };
  commit(config(undefined), 'add jukebox', NOW - 120 * MIN);
  commit(config(20), 'jukebox: canary 20%', NOW - 40 * MIN);
  commit(config(20, 'b2'), 'jukebox: new image', NOW - 30 * MIN);
  commit(config(50, 'b2'), 'jukebox: canary 50%', NOW - 20 * MIN);
  commit(config(undefined, 'b2'), 'jukebox: promote', NOW - 10 * MIN);
  // another model's commit is not part of this history
  mkdirSync(path.join(root, 'model-deployments', 'test', 'other'), { recursive: true });
  writeFileSync(path.join(root, 'model-deployments', 'test', 'other', 'config.yaml'), config(5));
  git(['add', '-A']);
  git(['commit', '-q', '-m', 'other: canary 5%'], NOW - 5 * MIN);
});
after(() => rmSync(root, { recursive: true, force: true }));

function service(traffic: Array<[string, number, boolean]>): ServiceState {
  return {
    key: 'user1-test/jukebox',
    env: 'test',
    namespace: 'user1-test',
    name: 'jukebox',
    model: 'jukebox',
    creationTimestamp: undefined,
    url: undefined,
    ready: true,
    readyMessage: undefined,
    prevPercent: 80,
    latestPercent: 20,
    prevRevision: 'jukebox-predictor-00001',
    latestRevision: 'jukebox-predictor-00002',
    traffic: traffic.map(([revisionName, percent, latestRevision]) => ({
      revisionName,
      percent,
      latestRevision,
      tag: latestRevision ? 'latest' : 'prev',
      url: undefined,
    })),
    latestCreatedRevision: 'jukebox-predictor-00002',
    latestReadyRevision: 'jukebox-predictor-00002',
    newRevisionNotReady: false,
    deploymentMode: 'Serverless',
    canarySupported: true,
    specPercent: 20,
    generation: 2,
    observedGeneration: 2,
    rollingOut: false,
    application: undefined,
    desired: { percent: 20, version: 'b2', commit: undefined },
    verdict: 'live',
    verdictReason: 'git = cluster',
  } as ServiceState;
}

function fakeStore(s: ServiceState) {
  let state = s;
  const listeners: Array<(keys: string[]) => void> = [];
  return {
    find: (env: string, model: string) => (env === state.env && model === state.model ? state : undefined),
    get: (key: string) => (key === state.key ? state : undefined),
    environments: () => [{ env: 'test', namespace: 'user1-test' }],
    onDidChangeServices: (l: (keys: string[]) => void) => {
      listeners.push(l);
      return () => listeners.splice(listeners.indexOf(l), 1);
    },
    set(next: ServiceState) {
      state = next;
      for (const l of [...listeners]) l([next.key]);
    },
    listeners,
  };
}

/** Answers the counts query with one counter per revision (rising 8 and 2 per step); p95 fails. */
function fakeMetrics(): MetricsClient & { asked: string[] } {
  const asked: string[] = [];
  return {
    baseUrl: 'https://prom.example',
    asked,
    query: async () => [],
    async queryRange(q: string, r: PromRange): Promise<PromSeries[]> {
      asked.push(q);
      if (q.startsWith('histogram_quantile'))
        throw new MetricsError('prometheus-error', 'Prometheus at https://prom.example answered an error (execution): query timed out', 'x');
      const pts = (per: number): Array<[number, number]> => {
        const out: Array<[number, number]> = [];
        for (let t = r.startMs, k = 0; t <= r.endMs; t += r.stepMs, k++) if (k >= 2) out.push([t, per * k]);
        return out;
      };
      return [
        { metric: { revision_name: 'jukebox-predictor-00001', response_code: '200', response_code_class: '2xx' }, points: pts(8) },
        { metric: { revision_name: 'jukebox-predictor-00002', response_code: '500', response_code_class: '5xx' }, points: pts(2) },
      ];
    },
  };
}

test('git history: the desired split over the window and one marker per commit that changed the canary', async () => {
  const store = fakeStore(
    service([
      ['jukebox-predictor-00001', 80, false],
      ['jukebox-predictor-00002', 20, true],
    ]),
  );
  const m = await loadDashboard({ store, metrics: undefined, root, env: 'test', model: 'jukebox', window: '1h', now: NOW + 1234 });
  assert.equal(m.from, NOW - 60 * MIN);
  assert.equal(m.to, NOW);
  assert.equal(m.stepMs, MIN);
  const commits = m.events.filter((e) => e.kind === 'commit');
  assert.deepEqual(
    commits.map((e) => e.message),
    ['jukebox: canary 20%', 'jukebox: canary 50%', 'jukebox: promote'],
  );
  assert.ok(commits.every((e) => e.author === 'Ada Lovelace' && /^[0-9a-f]{40}$/.test(e.sha!)));
  assert.deepEqual(
    commits.map((e) => (e.t - NOW) / MIN),
    [-40, -20, -10],
  );
  assert.ok(m.desired.ok);
  const at = (min: number) => m.desired.ok && m.desired.data.find((p) => p.t === NOW + min * MIN)!.v;
  assert.deepEqual([at(-60), at(-40), at(-25), at(-20), at(-10), at(0)], [100, 20, 20, 50, 100, 100]);
  // the header comes from the store's row
  assert.equal(m.header.verdict, 'live');
  assert.deepEqual(
    m.header.revisions.map((r) => [r.name, r.percent, r.latest]),
    [
      ['jukebox-predictor-00001', 80, false],
      ['jukebox-predictor-00002', 20, true],
    ],
  );
  assert.equal(m.header.desiredPercent, 20);
  // a 15 min window reads the commit before it for the value in force at its start
  const short = await loadDashboard({ store, metrics: undefined, root, env: 'test', model: 'jukebox', window: '15m', now: NOW });
  assert.equal(short.desired.ok && short.desired.data[0]!.v, 50);
  assert.deepEqual(
    short.events.map((e) => e.message),
    ['jukebox: promote'],
  );
});

test('without Prometheus: the hint in one line, the metric sections say so, git and the configured split still load', async () => {
  const store = fakeStore(
    service([
      ['jukebox-predictor-00001', 80, false],
      ['jukebox-predictor-00002', 20, true],
    ]),
  );
  const m = await loadDashboard({ store, metrics: undefined, root, env: 'test', model: 'jukebox', window: '15m', now: NOW });
  assert.equal(m.prometheusHint, PROMETHEUS_HINT);
  assert.match(m.prometheusHint!, /kserveCanary\.prometheus\.url/);
  assert.ok(!m.prometheusHint!.includes('\n'));
  for (const s of [m.observed, m.requestRate, m.errorRate, m.p95]) assert.deepEqual(s, { ok: false, error: 'Prometheus is not configured.' });
  assert.ok(m.desired.ok);
  // no traffic history kept: the configured split now, on the last step only
  assert.deepEqual(
    m.configured.map((c) => [c.revision, c.points.at(-1)!.v, c.points.filter((p) => p.v !== null).length]),
    [
      ['jukebox-predictor-00001', 80, 1],
      ['jukebox-predictor-00002', 20, 1],
    ],
  );
});

test('a failing query shows its error in its section; the others load from the counters; git failing is its own error', async () => {
  const store = fakeStore(
    service([
      ['jukebox-predictor-00001', 80, false],
      ['jukebox-predictor-00002', 20, true],
    ]),
  );
  const metrics = fakeMetrics();
  const log = createDashboardEventLog();
  log.record('test/jukebox', { kind: 'live', step: 1, message: 'Step 1/2 is live: latest 20%' }, NOW - 3 * MIN);
  const m = await loadDashboard({
    store,
    metrics,
    root: path.join(root, 'nowhere'),
    env: 'test',
    model: 'jukebox',
    window: '15m',
    now: NOW,
    events: log,
    git: createCanaryHistoryReader(),
  });
  assert.deepEqual(m.p95, { ok: false, error: 'Prometheus at https://prom.example answered an error (execution): query timed out' });
  assert.equal(m.prometheusHint, undefined);
  assert.equal(m.observedSource, 'knative');
  assert.ok(m.observed.ok && m.requestRate.ok && m.errorRate.ok);
  const share = Object.fromEntries(m.observed.data.map((s) => [s.revision, s.points.map((p) => p.v)]));
  // steps 0-1 have no sample (gap), step 2 is the first value of new series (counts 16 / 4), then +8 / +2 per step
  assert.deepEqual(share['jukebox-predictor-00001']!.slice(0, 4), [null, null, 80, 80]);
  assert.deepEqual(share['jukebox-predictor-00002']!.slice(0, 4), [null, null, 20, 20]);
  const errors = Object.fromEntries(m.errorRate.data.map((s) => [s.revision, s.points.map((p) => p.v)]));
  assert.deepEqual(errors['jukebox-predictor-00001']!.slice(0, 4), [null, null, 0, 0], '0 where it served without 5xx, null where nothing is known');
  assert.deepEqual(errors['jukebox-predictor-00002']!.slice(1, 4), [null, 4 / 30, 2 / 30]);
  assert.match(metrics.asked[0]!, /^revision_request_count\{namespace_name="user1-test",configuration_name=~"jukebox-predictor\(-default\)\?"\}$/);
  assert.equal(m.desired.ok, false);
  assert.ok(!m.desired.ok && /^The gitops checkout .*nowhere does not exist\.$/.test(m.desired.error), !m.desired.ok ? m.desired.error : '');
  assert.deepEqual(
    m.events.map((e) => e.kind),
    ['rollout-step'],
  );
});

test("traffic history: a snapshot at creation and on each change of the service's traffic, gone after dispose", async () => {
  const store = fakeStore(service([['jukebox-predictor-00001', 100, true]]));
  let now = NOW - 10 * MIN;
  const h = createTrafficHistory(store, 'user1-test/jukebox', { now: () => now });
  now = NOW - 5 * MIN;
  store.set(service([['jukebox-predictor-00001', 100, true]])); // same traffic: no snapshot
  store.set(
    service([
      ['jukebox-predictor-00001', 80, false],
      ['jukebox-predictor-00002', 20, true],
    ]),
  );
  assert.deepEqual(
    h.snapshots().map((s) => [(s.t - NOW) / MIN, s.revisions.map((r) => `${r.name.slice(-2)}:${r.percent}`).join(' ')]),
    [
      [-10, '01:100'],
      [-5, '01:80 02:20'],
    ],
  );
  const m = await loadDashboard({ store, metrics: undefined, root, env: 'test', model: 'jukebox', window: '15m', now: NOW, history: h });
  const c = Object.fromEntries(m.configured.map((s) => [s.revision, s.points.map((p) => p.v)]));
  assert.deepEqual([c['jukebox-predictor-00001']![0], c['jukebox-predictor-00001']![10], c['jukebox-predictor-00001']!.at(-1)], [null, 100, 80]);
  assert.deepEqual([c['jukebox-predictor-00002']![10], c['jukebox-predictor-00002']!.at(-1)], [0, 20]);
  h.dispose();
  assert.equal(store.listeners.length, 0);
});

test('git history reader: answers from its cache while HEAD stays, sees a new commit at once', async () => {
  const reader = createCanaryHistoryReader();
  const q = { root, env: 'test', model: 'jukebox', since: NOW - 15 * MIN, processEnv: { ...process.env, HOME: root } };
  const before = await reader.read(q);
  assert.deepEqual(
    before.map((c) => c.subject),
    ['jukebox: canary 50%', 'jukebox: promote'],
  );
  assert.deepEqual(await reader.read(q), before);
  const file = path.join(root, 'model-deployments', 'test', 'jukebox', 'config.yaml');
  writeFileSync(file, config(35, 'b2'));
  execFileSync('git', ['commit', '-q', '-am', 'jukebox: canary 35%'], {
    cwd: root,
    env: { ...process.env, HOME: root, GIT_AUTHOR_DATE: `@${(NOW - MIN) / 1000} +0000`, GIT_COMMITTER_DATE: `@${(NOW - MIN) / 1000} +0000` },
  });
  const after = await reader.read(q);
  assert.deepEqual(
    after.map((c) => [c.subject, c.percent]),
    [
      ['jukebox: canary 50%', 50],
      ['jukebox: promote', undefined],
      ['jukebox: canary 35%', 35],
    ],
  );
});
