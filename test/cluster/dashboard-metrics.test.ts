/** The dashboard's range queries (src/cluster/dashboard-metrics.ts): the OpenVINO fallback, no series, failures per section, the PromQL sent. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dashboardQueries, readDashboardMetrics } from '../../src/cluster/dashboard-metrics';
import { MetricsError, type MetricsClient, type PromRange, type PromSeries } from '../../src/cluster/metrics';
import { alignRange } from '../../src/core/dashboard-series';

const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);
const svc = { namespace: 'user1-test', name: 'jukebox' };
const r = alignRange('15m', NOW);

function client(answer: (q: string, r: PromRange) => PromSeries[]): MetricsClient & { asked: string[] } {
  const asked: string[] = [];
  return {
    baseUrl: 'https://prom.example',
    asked,
    query: async () => [],
    queryRange: async (q, range) => {
      asked.push(q);
      return answer(q, range);
    },
  };
}

/** A counter rising by `per` on every step of the range. */
const rising = (range: PromRange, per: number): Array<[number, number]> => {
  const out: Array<[number, number]> = [];
  for (let t = range.startMs, k = 0; t <= range.endMs; t += range.stepMs, k++) out.push([t, per * k]);
  return out;
};

test('the PromQL sent: raw Knative counters, p95 by revision over max(step + 30 s, 2 min), the OpenVINO counter', () => {
  const q = dashboardQueries({ namespace: 'a"b', name: 'm.x' }, 30_000);
  assert.equal(q.counts, 'revision_request_count{namespace_name="a\\"b",configuration_name=~"m\\\\.x-predictor(-default)?"}');
  assert.equal(
    q.p95,
    'histogram_quantile(0.95, sum by (revision_name, le) (rate(revision_request_latencies_bucket{namespace_name="a\\"b",configuration_name=~"m\\\\.x-predictor(-default)?"}[120s])))',
  );
  assert.equal(q.ovms, 'ovms_requests_success{namespace="a\\"b",name="m.x"}');
});

test("without Knative series: OpenVINO's per-pod counter gives the split and the rate, with a note; no 5xx rate", async () => {
  const c = client((q, range) =>
    q.startsWith('ovms_')
      ? [
          { metric: { pod: 'jukebox-predictor-00001-deployment-6d8f4b9c7d-abcde' }, points: rising(range, 9) },
          { metric: { pod: 'jukebox-predictor-00002-deployment-1a2b3c4d5e-fghij' }, points: rising(range, 1) },
          { metric: { pod: 'not-a-predictor-pod' }, points: rising(range, 100) },
        ]
      : [],
  );
  const m = await readDashboardMetrics(c, svc, r);
  assert.equal(m.source, 'ovms');
  assert.equal(c.asked.length, 3);
  assert.ok(m.observed.ok && m.requestRate.ok && m.errorRate.ok && m.p95.ok);
  assert.deepEqual(
    m.observed.data.map((s) => [s.revision, s.points[0]!.v, s.points[1]!.v]),
    [
      ['jukebox-predictor-00001', null, 90],
      ['jukebox-predictor-00002', null, 10],
    ],
  );
  assert.equal(m.requestRate.data[0]!.points[1]!.v, 9 / 30);
  assert.deepEqual(m.errorRate.data, []);
  assert.match(m.errorRate.note!, /no status codes/);
  assert.match(m.observed.note!, /ovms_requests_success/);
  assert.match(m.p95.note!, /No latency histogram/);
});

test('no series at all: empty sections that say why, not zeros', async () => {
  const m = await readDashboardMetrics(
    client(() => []),
    svc,
    r,
  );
  assert.equal(m.source, undefined);
  for (const s of [m.observed, m.requestRate, m.errorRate]) {
    assert.ok(s.ok);
    assert.deepEqual(s.data, []);
    assert.match(s.note!, /no revision_request_count nor ovms_requests_success series for jukebox in user1-test/);
  }
});

test('the counts query failing fails the split and the rates; p95 loads on its own; a foreign error is redacted', async () => {
  const c = client((q, range) => {
    if (q.startsWith('revision_request_count')) throw new MetricsError('prometheus-timeout', 'Prometheus query failed: timed out after 10000 ms', 'x');
    return [
      { metric: { revision_name: 'jukebox-predictor-00002' }, points: rising(range, 0).map(([t]) => [t, 250] as [number, number]) },
      { metric: { revision_name: 'jukebox-predictor-00001' }, points: [[range.endMs, Number.NaN]] },
    ];
  });
  const m = await readDashboardMetrics(c, svc, r);
  for (const s of [m.observed, m.requestRate, m.errorRate]) assert.deepEqual(s, { ok: false, error: 'Prometheus query failed: timed out after 10000 ms' });
  assert.ok(m.p95.ok);
  assert.deepEqual(
    m.p95.data.map((s) => [s.revision, s.points.at(-1)!.v]),
    [
      ['jukebox-predictor-00001', null],
      ['jukebox-predictor-00002', 0.25],
    ],
    'ms → s; NaN is a gap',
  );
  const leaky = client(() => {
    throw new Error('connect failed Authorization: Bearer sha256~abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG');
  });
  const l = await readDashboardMetrics(leaky, svc, r);
  assert.ok(!l.p95.ok && !l.p95.error.includes('abcdefghijklmnopqrstuvwxyz'), !l.p95.ok ? l.p95.error : '');
  const noRange = await readDashboardMetrics({ baseUrl: 'https://old.example', query: async () => [] }, svc, r);
  assert.ok(!noRange.observed.ok && /cannot run range queries/.test(noRange.observed.error));
});
