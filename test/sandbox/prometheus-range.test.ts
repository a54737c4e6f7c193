/**
 * The sandbox Prometheus' range queries (src/sandbox/prometheus.ts, promql.ts): Prometheus'
 * semantics on a fake clock (steps, absent series, lookback and staleness, counter resets,
 * rate extrapolation, parameter errors), then `/api/v1/query_range` over https after real
 * inference traffic to both revisions, read through the product's client and dashboard queries.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createMetricsClient } from '../../src/cluster/metrics';
import { dashboardQueries, readDashboardMetrics } from '../../src/cluster/dashboard-metrics';
import { answer, BadParam, RequestMetrics } from '../../src/sandbox/prometheus';
import { BadQuery, extrapolatedRate } from '../../src/sandbox/promql';
import { INFERENCE_SERVICES } from '../../src/sandbox/resources';
import { openSandbox, type TestSandbox } from './helpers';
import { until } from '../poll';

const T0 = 1_800_000_000_000; // a multiple of the 5 s scrape interval
type Matrix = { resultType: string; result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> };

function fakeProm() {
  let now = T0;
  const m = new RequestMetrics(5000, () => now);
  return {
    m,
    at: (t: number) => (now = t),
    send: (n: number, revision: string, code = 200, latencyMs = 12) => {
      for (let i = 0; i < n; i++) m.record({ t: now, namespace: 'ns', name: 'jukebox', revision, code, latencyMs });
    },
    range: (query: string, start: number, end: number, step: string) =>
      answer('query_range', new URLSearchParams({ query, start: String(start / 1000), end: String(end / 1000), step }), m, now) as Matrix,
  };
}

test('points at start + k·step ≤ end; a series is absent before its first request; values are the counts served', () => {
  const p = fakeProm();
  p.at(T0 + 62_000);
  p.send(3, 'r1');
  p.at(T0 + 121_000);
  const r = p.range('revision_request_count', T0, T0 + 120_500, '30');
  assert.equal(r.resultType, 'matrix');
  assert.equal(r.result.length, 1);
  assert.deepEqual(
    r.result[0]!.values,
    [
      [(T0 + 60_000) / 1000, '0'],
      [(T0 + 90_000) / 1000, '3'],
      [(T0 + 120_000) / 1000, '3'],
    ],
    'appears at 0 on the scrape before its first request; no point after end',
  );
  assert.equal(r.result[0]!.metric.pod_name?.startsWith('r1-deployment-'), true);
  // nothing matches: an empty matrix, not zeros
  assert.deepEqual(p.range('revision_request_count{revision_name="r9"}', T0, T0 + 120_000, '30s').result, []);
});

test('a restart is a counter reset: the raw counter drops, rate and increase count across it, the series is stale until the next request', () => {
  const p = fakeProm();
  p.at(T0 + 6000);
  p.send(100, 'r1');
  p.at(T0 + 20_000);
  p.m.restart('ns', 'r1');
  p.at(T0 + 41_000);
  p.send(30, 'r1');
  p.at(T0 + 60_000);
  const raw = p.range('revision_request_count', T0, T0 + 60_000, '10s').result[0]!.values;
  assert.deepEqual(
    raw.map(([t, v]) => [(t * 1000 - T0) / 1000, Number(v)]),
    [
      [10, 100],
      [40, 0],
      [50, 30],
      [60, 30],
    ],
    'gone (stale) from the restart until the scrape before the next request, then back from zero',
  );
  // increase over the minute: 100 before the restart + 30 after (no extrapolation: the series
  // starts at 0 at T0 + 5 s, inside the left-open window, and its last sample is at the evaluation time)
  const inc = answer('query', new URLSearchParams({ query: 'sum(increase(revision_request_count[1m]))' }), p.m, T0 + 60_000) as {
    result: Array<{ value: [number, string] }>;
  };
  assert.equal(Number(inc.result[0]!.value[1]), 130);
  const rate = answer('query', new URLSearchParams({ query: 'sum by (revision_name) (rate(revision_request_count[1m]))' }), p.m, T0 + 60_000) as {
    result: Array<{ metric: Record<string, string>; value: [number, string] }>;
  };
  assert.deepEqual(rate.result[0]!.metric, { revision_name: 'r1' });
  assert.ok(Math.abs(Number(rate.result[0]!.value[1]) - 130 / 60) < 1e-9);
});

test('rate extrapolates like Prometheus: to the edge within 1.1 intervals, else half an interval, never below zero', () => {
  // samples every 10 s covering the window: extrapolated to both edges
  assert.equal(extrapolatedRate([5000, 15000, 25000, 35000, 45000, 55000], [10, 20, 30, 40, 50, 60], 60_000, 60_000, false), 60);
  // a series starting at 0 in the middle: no extrapolation towards the start (the zero point)
  assert.equal(extrapolatedRate([30000, 40000, 50000, 60000], [0, 10, 20, 30], 60_000, 60_000, false), 30);
  // one sample is no rate
  assert.equal(extrapolatedRate([60000], [5], 60_000, 60_000, true), undefined);
});

test('latency histogram per revision: buckets give the p95, NaN once nothing was served in the window', () => {
  const p = fakeProm();
  p.at(T0 + 1000);
  p.send(95, 'r1', 200, 30);
  p.send(5, 'r1', 200, 900);
  p.send(20, 'r2', 200, 120);
  p.at(T0 + 30_000);
  const q = 'histogram_quantile(0.95, sum by (revision_name, le) (rate(revision_request_latencies_bucket[1m])))';
  const r = p.range(q, T0 + 30_000, T0 + 30_000, '30s').result;
  const byRev = Object.fromEntries(r.map((s) => [s.metric.revision_name, Number(s.values[0]![1])]));
  assert.equal(byRev.r1, 40, '95 of 100 at or under the 40 ms bound');
  assert.equal(byRev.r2, 147.5, 'inside (100, 150]: 100 + 50·0.95');
  p.at(T0 + 200_000);
  const later = p.range(q, T0 + 200_000, T0 + 200_000, '30s').result;
  assert.ok(
    later.every((s) => s.values[0]![1] === 'NaN'),
    'series exist, rates are 0',
  );
});

test('query_range parameters are refused as Prometheus does', () => {
  const p = fakeProm();
  const bad = (params: Record<string, string>) => {
    try {
      answer('query_range', new URLSearchParams({ query: 'revision_request_count', ...params }), p.m, T0);
    } catch (e) {
      assert.ok(e instanceof BadParam || e instanceof BadQuery);
      return e.message;
    }
    assert.fail('accepted');
  };
  assert.match(bad({ start: '10', end: '5', step: '1' }), /end timestamp must not be before start time/);
  assert.match(bad({ start: '0', end: '10', step: '0' }), /zero or negative query resolution step/);
  assert.match(bad({ start: '0', end: '100000', step: '1' }), /exceeded maximum resolution of 11,000 points/);
  assert.match(bad({ end: '10', step: '1' }), /invalid parameter "start": cannot parse "" to a valid timestamp/);
  assert.match(bad({ start: '0', end: '10', step: 'abc' }), /invalid parameter "step": cannot parse "abc" to a valid duration/);
  assert.match(bad({ start: '0', end: '10', step: '1', query: 'up offset 5m' }), /unsupported query/);
  // RFC 3339 and durations are accepted
  const ok = answer(
    'query_range',
    new URLSearchParams({ query: 'revision_request_count', start: '2027-01-15T08:00:00Z', end: '2027-01-15T08:01:00.5Z', step: '1m' }),
    p.m,
    T0,
  ) as Matrix;
  assert.deepEqual(ok, { resultType: 'matrix', result: [] });
});

describe('query_range against the sandbox after inference traffic', () => {
  let sb: TestSandbox;
  let token: string;
  let origin: string;
  let serving: string;
  const payload = JSON.stringify({ inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }] });
  const control = (path: string, body = '{}') => fetch(`${origin}/_sandbox/${path}`, { method: 'POST', body, headers: { authorization: `Bearer ${token}` } });
  const send = async (n: number) => {
    for (let i = 0; i < n; i++) await (await fetch(`${serving}/v2/models/jukebox/infer`, { method: 'POST', body: payload })).arrayBuffer();
  };
  before(async () => {
    sb = await openSandbox({ inference: true });
    sb.controller.pauseArgo(true);
    token = readFileSync(sb.tokenFile, 'utf8').trim();
    serving = (sb.controller.store.mustGet(INFERENCE_SERVICES, 'user1-test', 'jukebox').status as { url: string }).url;
    origin = new URL(serving).origin;
  });
  after(async () => {
    await sb?.cleanup();
  });

  test("the dashboard's queries see the 80/20 split, the 5xx of a failing revision, the latency and a restart", async () => {
    assert.equal((await control('metrics/reset')).status, 200);
    // The steps' grid is fixed before the traffic: it starts 10 s before it, every 2 s. The
    // restart waits for a step after the first 200 requests (else, on a fast machine, all of them
    // and the restart fall between two steps and no drop can show), the query for the step after the last.
    const stepMs = 2000;
    const startMs = Date.now() - 10_000;
    const nextStep = (t: number) => startMs + stepMs * (Math.floor((t - startMs) / stepMs) + 1);
    const passed = async (t: number, what: string) => until(() => (Date.now() > t ? true : undefined), what, 10_000);
    await send(100);
    const fail = await control('revisions/user1-test/jukebox-predictor-00002/behavior', JSON.stringify({ errorRate: 0.25, latencyMs: 30 }));
    assert.equal(fail.status, 200);
    await send(100);
    await passed(nextStep(Date.now()), 'a step between the first 200 requests and the restart');
    assert.equal((await control('revisions/user1-test/jukebox-predictor-00001/restart')).status, 200);
    await send(50);
    const client = createMetricsClient({ url: sb.prometheusUrl!, token, ca: readFileSync(sb.caFile) });
    const svc = { namespace: 'user1-test', name: 'jukebox' };
    // the last step sees every request
    const endMs = nextStep(Date.now());
    await passed(endMs, 'the step after the last request');
    const times: number[] = [];
    for (let t = startMs; t <= endMs; t += stepMs) times.push(t);
    const range = { from: startMs, to: endMs, stepMs, times };

    // the raw counters of 00001: one series (code 200) that drops at the restart
    const raw = await client.queryRange!(dashboardQueries(svc, stepMs).counts, { startMs, endMs: range.to, stepMs });
    const r1 = raw.filter((s) => s.metric.revision_name === 'jukebox-predictor-00001');
    assert.equal(r1.length, 1);
    // a drop, or (when a step fell between the restart and the next request) a gap before a lower value
    const pts = r1[0]!.points;
    const reset = pts.findIndex(([t, v], i) => i > 0 && (v < pts[i - 1]![1] || t - pts[i - 1]![0] > stepMs));
    assert.ok(reset > 0 && pts[reset]![1] < pts[reset - 1]![1], `a reset in ${JSON.stringify(pts)}`);

    const m = await readDashboardMetrics(client, svc, range);
    assert.equal(m.source, 'knative');
    assert.ok(m.observed.ok && m.requestRate.ok && m.errorRate.ok && m.p95.ok);
    const total = (rev: string, s: typeof m.requestRate) =>
      s.ok ? s.data.find((x) => x.revision === rev)!.points.reduce((a, p) => a + (p.v ?? 0) * (stepMs / 1000), 0) : Number.NaN;
    // smooth weighted round robin is exact: 250 requests → 200 / 50; every 4th of 00002's
    // 30 requests after the behavior change (20 + 10) failed → 7 5xx
    // 00001 restarted: what it served between the last step before the restart and the restart
    // is not seen (as Prometheus loses what came between its last scrape and a reset), at most one step's worth
    const perStep1 = m.requestRate.data.find((x) => x.revision === 'jukebox-predictor-00001')!.points.map((p) => (p.v ?? 0) * (stepMs / 1000));
    const seen1 = total('jukebox-predictor-00001', m.requestRate);
    assert.ok(seen1 <= 200 + 1e-6 && seen1 >= 200 - Math.max(...perStep1) - 1e-6, `${seen1} of 200`);
    assert.ok(Math.abs(total('jukebox-predictor-00002', m.requestRate) - 50) < 1e-6);
    assert.ok(Math.abs(total('jukebox-predictor-00002', m.errorRate) - 7) < 1e-6);
    assert.equal(total('jukebox-predictor-00001', m.errorRate), 0);
    // per step the share of 00002 is 20% ± 100/n: any run of n consecutive requests of the
    // round robin (period 5: four 00001, one 00002) holds n/5 ± 1 requests of 00002
    const counts = m.requestRate.data.map((s) => s.points.map((p) => (p.v ?? 0) * (stepMs / 1000)));
    const share = m.observed.data.find((x) => x.revision === 'jukebox-predictor-00002')!;
    // (except on the step of the restart, whose lost requests of 00001 are missing from it)
    const resetAt = pts[reset]![0];
    share.points.forEach((p, i) => {
      if (p.t === resetAt) return;
      const n = counts.reduce((a, c) => a + c[i]!, 0);
      if (p.v === null) assert.equal(n, 0, 'a share is null only where nothing was served');
      else assert.ok(Math.abs(p.v - 20) <= 100 / n + 1e-9, `step ${i}: ${p.v}% of ${n}`);
    });
    // p95 per revision in seconds: 00002 answered in 30 ms or more after the change, so its p95
    // lies in the (20, 40] ms bucket or above (only a lower bound: a loaded machine answers later)
    const p95 = m.p95.data.find((x) => x.revision === 'jukebox-predictor-00002')!;
    const last = p95.points.filter((p) => p.v !== null).at(-1)!;
    assert.ok(last.v! > 0.02, String(last.v));
  });

  test('the HTTP API: the token is required, POST forms work like GET, bad parameters are 400 bad_data', async () => {
    const url = `${sb.prometheusHttpUrl}/api/v1/query_range`;
    const now = Date.now() / 1000;
    const form = new URLSearchParams({
      query: 'sum by (revision_name) (rate(revision_request_count[1m]))',
      start: String(now - 60),
      end: String(now),
      step: '15s',
    });
    assert.equal((await fetch(`${url}?${form}`)).status, 401);
    const auth = { authorization: `Bearer ${token}` };
    const get = await fetch(`${url}?${form}`, { headers: auth });
    const post = await fetch(url, { method: 'POST', body: form, headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(get.status, 200);
    const [a, b] = [(await get.json()) as { data: Matrix }, (await post.json()) as { data: Matrix }];
    assert.equal(a.data.resultType, 'matrix');
    assert.deepEqual(a.data.result.map((x) => x.metric.revision_name).sort(), ['jukebox-predictor-00001', 'jukebox-predictor-00002']);
    assert.deepEqual(
      b.data.result.map((x) => x.values.length),
      a.data.result.map((x) => x.values.length),
    );
    form.set('step', '-1');
    const bad = await fetch(`${url}?${form}`, { headers: auth });
    assert.equal(bad.status, 400);
    assert.deepEqual(await bad.json(), {
      status: 'error',
      errorType: 'bad_data',
      error: 'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer',
    });
  });
});
