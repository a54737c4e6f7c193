/** Inference endpoints per revision and the Prometheus query API over the requests served. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createMetricsClient, gateQueries, knativeSplitQuery, observedSplit, ovmsSplitQuery, readGates } from '../../src/cluster/metrics';
import { histogramQuantile } from '../../src/sandbox/prometheus';
import { INFERENCE_SERVICES } from '../../src/sandbox/resources';
import { openSandbox, waitFor, type TestSandbox } from './helpers';

async function infer(url: string, body: string): Promise<{ status: number; revision: string | null; json: Record<string, unknown> }> {
  const r = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  return { status: r.status, revision: r.headers.get('x-kserve-revision'), json: (await r.json()) as Record<string, unknown> };
}

describe('sandbox inference and Prometheus API', () => {
  let sb: TestSandbox;
  let base: string;
  const payload = JSON.stringify({ inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }] });
  before(async () => {
    sb = await openSandbox({ inference: true });
    sb.controller.pauseArgo(true);
    const o = sb.controller.store.mustGet(INFERENCE_SERVICES, 'user1-test', 'jukebox');
    base = (o.status as { url: string }).url;
  });
  after(async () => {
    await sb?.cleanup();
  });

  test('status.url is a loopback endpoint; requests follow the 80/20 split exactly; V2 answers and errors', async () => {
    assert.match(base, /^http:\/\/127\.0\.0\.1:\d+\/serving\/user1-test\/jukebox$/);
    const counts: Record<string, number> = {};
    for (let i = 0; i < 100; i++) {
      const r = await infer(`${base}/v2/models/jukebox/infer`, payload);
      assert.equal(r.status, 200);
      assert.equal(r.json.model_name, 'jukebox');
      assert.equal(r.json.model_version, r.revision);
      counts[r.revision!] = (counts[r.revision!] ?? 0) + 1;
    }
    assert.deepEqual(counts, { 'jukebox-predictor-00001': 80, 'jukebox-predictor-00002': 20 });
    assert.equal((await infer(`${base}/v2/models/jukebox/infer`, 'not json')).status, 400);
    assert.equal((await infer(`${base}/v2/models/other/infer`, payload)).status, 404);
    const prod = (sb.controller.store.mustGet(INFERENCE_SERVICES, 'user1-prod', 'jukebox').status as { url: string }).url;
    assert.equal((await infer(`${prod}/v2/models/jukebox/infer`, payload)).revision, 'jukebox-predictor-00001');
  });

  test('the Prometheus API (https, the sandbox CA) needs the token and answers the split, the gates and the OVMS fallback', async () => {
    const url = sb.prometheusUrl!;
    assert.match(url, /^https:\/\/127\.0\.0\.1:\d+\/prometheus$/);
    assert.equal((await fetch(`${sb.prometheusHttpUrl}/api/v1/query?query=up`)).status, 401);
    const token = readFileSync(sb.tokenFile, 'utf8').trim();
    const client = createMetricsClient({ url, token, ca: readFileSync(sb.caFile) });

    const split = await observedSplit(
      client,
      { namespace: 'user1-test', name: 'jukebox', prevRevision: 'jukebox-predictor-00001', latestRevision: 'jukebox-predictor-00002' },
      { windowMs: 60_000 },
    );
    assert.equal(split.kind, 'observed');
    if (split.kind === 'observed') {
      assert.equal(split.source, 'knative');
      assert.equal(split.prevPercent, 80);
      assert.equal(split.latestPercent, 20);
    }
    const byRev = await client.query(knativeSplitQuery({ namespace: 'user1-test', name: 'jukebox' }, '60s'));
    assert.deepEqual(byRev.map((s) => s.metric.revision_name).sort(), ['jukebox-predictor-00001', 'jukebox-predictor-00002']);
    const pods = await client.query(ovmsSplitQuery({ namespace: 'user1-test', name: 'jukebox' }, '60s'));
    assert.ok(pods.every((s) => /^jukebox-predictor-0000[12]-deployment-[0-9a-f]{10}-[0-9a-f]{5}$/.test(s.metric.pod!)));
    assert.equal(pods.length, 2);

    // a revision that fails 20% of its requests and answers in 120 ms
    sb.controller.setRevisionBehavior('user1-test', 'jukebox-predictor-00002', { errorRate: 0.2, latencyMs: 120 });
    let errors = 0;
    for (let i = 0; i < 100; i++) {
      const r = await infer(`${base}/v2/models/jukebox/infer`, payload);
      if (r.status === 500) {
        assert.equal(r.revision, 'jukebox-predictor-00002');
        errors++;
      }
    }
    assert.equal(errors, 4, 'every 5th of the 20 requests of the canary');
    const g = await readGates(client, { namespace: 'user1-test', revision: 'jukebox-predictor-00002', windowMs: 60_000 });
    assert.equal(g.problem, undefined);
    assert.ok(g.rps! > 0);
    // 40 requests to 00002 in the window, 4 of them 5xx
    assert.ok(Math.abs(g.errorRate! - 0.1) < 1e-9, String(g.errorRate));
    // the p95 gate is read from the latency histogram (a number, not NaN, with requests in the
    // window); how it compares with the latency the revision was given is a ratio in
    // `npm run bench -- bounds`, not a bound here
    assert.ok(Number.isFinite(g.p95Ms), String(g.p95Ms));
    const none = await client.query(gateQueries('user1-test', 'jukebox-predictor-00009', '60s').p95);
    // no series of that revision: the sum is empty, and so is the quantile (as in Prometheus)
    assert.deepEqual(none, []);
    assert.deepEqual(await client.query(gateQueries('user1-test', 'jukebox-predictor-00009', '60s').total), []);
  });

  test('unsupported PromQL is a 400 bad_data', async () => {
    const token = readFileSync(sb.tokenFile, 'utf8').trim();
    const r = await fetch(`${sb.prometheusHttpUrl}/api/v1/query?query=${encodeURIComponent('up{job="x"} offset 5m')}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(r.status, 400);
    const b = (await r.json()) as { status: string; errorType: string };
    assert.equal(b.status, 'error');
    assert.equal(b.errorType, 'bad_data');
  });

  test('RawDeployment serves from the one predictor deployment', async () => {
    sb.controller.setDeploymentMode('user1-prod', 'jukebox', 'RawDeployment');
    const url = (sb.controller.store.mustGet(INFERENCE_SERVICES, 'user1-prod', 'jukebox').status as { url: string }).url;
    await waitFor(
      'raw mode',
      () => (sb.controller.store.mustGet(INFERENCE_SERVICES, 'user1-prod', 'jukebox').status as { deploymentMode: string }).deploymentMode === 'RawDeployment',
    );
    const r = await infer(`${url}/v2/models/jukebox/infer`, payload);
    assert.equal(r.status, 200);
    assert.equal(r.revision, 'jukebox-predictor');
    sb.controller.setDeploymentMode('user1-prod', 'jukebox', undefined);
  });

  test('restart keeps the inference port, so status.url stays valid', async () => {
    const before = base;
    await sb.restart();
    const o = sb.controller.store.mustGet(INFERENCE_SERVICES, 'user1-test', 'jukebox');
    assert.equal((o.status as { url: string }).url, before);
    assert.equal((await infer(`${before}/v2/models/jukebox/infer`, payload)).status, 200);
  });
});

test('histogram_quantile interpolates inside Knative buckets; NaN without data', () => {
  assert.ok(Number.isNaN(histogramQuantile(0.95, [])));
  // 100 requests of 120 ms: all in the (100, 150] bucket → 95th percentile at 100 + 50 * 0.95
  assert.equal(histogramQuantile(0.95, Array(100).fill(120)), 147.5);
  assert.equal(histogramQuantile(0.5, [1, 2, 3, 4]), 2.5);
});
