import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CanaryError } from '../../src/core/errors';
import { formatObserved, describeObserved, observedMatches, sharesOf } from '../../src/core/observed';
import {
  createMetricsClient,
  gateQueries,
  knativeSplitQuery,
  metricsFromSettings,
  observedSplit,
  ovmsSplitQuery,
  readGates,
  revisionOfPod,
  type ServiceRef,
} from '../../src/cluster/metrics';

type Answer = { status: number; body: unknown } | 'hang' | 'garbage';

/** A tiny Prometheus: answers /api/v1/query with whatever `route(query)` says, records requests. */
async function fakePrometheus(route: (query: string) => Answer) {
  const seen: { query: string; auth: string | undefined; path: string }[] = [];
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const query = u.searchParams.get('query') ?? '';
    seen.push({ query, auth: req.headers.authorization, path: u.pathname });
    if (u.pathname !== '/prom/api/v1/query') {
      res.writeHead(404).end('not found');
      return;
    }
    const a = route(query);
    if (a === 'hang') return;
    if (a === 'garbage') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>');
      return;
    }
    res.writeHead(a.status, { 'content-type': 'application/json' }).end(JSON.stringify(a.body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/prom`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const vector = (series: { metric: Record<string, string>; v: string }[]) => ({
  status: 200,
  body: { status: 'success', data: { resultType: 'vector', result: series.map((s) => ({ metric: s.metric, value: [1732600000.123, s.v] })) } },
});
const empty = vector([]);

const svc: ServiceRef = { namespace: 'user1-test', name: 'jukebox', prevRevision: 'jukebox-predictor-00001', latestRevision: 'jukebox-predictor-00002' };
const fixedNow = () => new Date('2026-11-26T10:00:00Z');

test('observed split from revision_request_count, mapped onto prev/latest', async (t) => {
  const prom = await fakePrometheus((q) =>
    q.includes('revision_request_count')
      ? vector([
          { metric: { revision_name: 'jukebox-predictor-00001' }, v: '7.9' },
          { metric: { revision_name: 'jukebox-predictor-00002' }, v: '2.1' },
        ])
      : empty,
  );
  t.after(prom.close);
  const client = createMetricsClient({ url: prom.url, token: 'sha256~secret-token' });
  const o = await observedSplit(client, svc, { now: fixedNow });
  assert.deepEqual(o, {
    kind: 'observed',
    window: '5m',
    source: 'knative',
    totalRps: 10,
    prevPercent: 79,
    latestPercent: 21,
    byRevision: { 'jukebox-predictor-00001': 7.9, 'jukebox-predictor-00002': 2.1 },
    at: '2026-11-26T10:00:00.000Z',
  });
  assert.equal(formatObserved(o), 'observed 79/21 over 5 min');
  assert.match(describeObserved(o), /79\/21 \(prev\/latest\), 10 req\/s in total; jukebox-predictor-00001 7\.9 req\/s/);
  assert.equal(prom.seen.length, 1);
  assert.equal(prom.seen[0]!.query, knativeSplitQuery(svc, '300s'));
  assert.equal(
    prom.seen[0]!.query,
    'sum by (revision_name) (rate(revision_request_count{namespace_name="user1-test",configuration_name=~"jukebox-predictor(-default)?"}[300s]))',
  );
  assert.equal(prom.seen[0]!.auth, 'Bearer sha256~secret-token');
});

test('falls back to per-pod ovms_requests_success, pods mapped to revisions', async (t) => {
  const prom = await fakePrometheus((q) =>
    q.includes('ovms_requests_success')
      ? vector([
          { metric: { pod: 'jukebox-predictor-00002-deployment-6d8f7c9b-x2x7q' }, v: '1' },
          { metric: { pod: 'jukebox-predictor-00002-deployment-6d8f7c9b-abcde' }, v: '1' },
          { metric: { pod: 'jukebox-predictor-00001-deployment-5c4b3a21-zzzzz' }, v: '2' },
          { metric: { pod: 'some-other-pod' }, v: '50' },
        ])
      : empty,
  );
  t.after(prom.close);
  const o = await observedSplit(createMetricsClient({ url: prom.url }), svc, { windowMs: 60000, now: fixedNow });
  assert.equal(o.kind, 'observed');
  if (o.kind !== 'observed') return;
  assert.equal(o.source, 'ovms');
  assert.equal(o.window, '1m');
  assert.deepEqual(o.byRevision, { 'jukebox-predictor-00002': 2, 'jukebox-predictor-00001': 2 });
  assert.equal(o.prevPercent, 50);
  assert.equal(o.latestPercent, 50);
  assert.equal(prom.seen[1]!.query, ovmsSplitQuery(svc, '60s'));
  assert.equal(prom.seen[1]!.query, 'sum by (pod) (rate(ovms_requests_success{namespace="user1-test",name="jukebox"}[60s]))');
  assert.equal(prom.seen[0]!.auth, undefined);
  assert.equal(formatObserved(o), 'observed 50/50 over 1 min');
});

test('absent, with the reason, when there is nothing to show: never a guessed split', async (t) => {
  const none = await observedSplit(undefined, svc, { now: fixedNow });
  assert.equal(none.kind, 'absent');
  assert.equal(none.kind === 'absent' && none.reason, 'not-configured');
  assert.equal(formatObserved(none), 'no metrics');

  const prom = await fakePrometheus(() => empty);
  t.after(prom.close);
  const noData = await observedSplit(createMetricsClient({ url: prom.url }), svc);
  assert.equal(noData.kind === 'absent' && noData.reason, 'no-data');
  assert.equal(formatObserved(noData), 'no traffic observed');
  assert.equal(prom.seen.length, 2, 'both queries were tried');

  const zero = await fakePrometheus((q) =>
    q.includes('revision_request_count') ? vector([{ metric: { revision_name: 'jukebox-predictor-00002' }, v: '0' }]) : empty,
  );
  t.after(zero.close);
  const noTraffic = await observedSplit(createMetricsClient({ url: zero.url }), svc);
  assert.equal(noTraffic.kind === 'absent' && noTraffic.reason, 'no-traffic');
  assert.equal(formatObserved(noTraffic), 'no traffic observed');
});

test('query failures come back as absent (query-failed) with a message, and never carry the token', async (t) => {
  const token = 'sha256~do-not-print-me';
  const answers: Answer[] = [
    { status: 400, body: { status: 'error', errorType: 'bad_data', error: 'parse error at char 5' } },
    { status: 503, body: { status: 'error', errorType: 'unavailable', error: 'store not ready' } },
    { status: 401, body: 'Unauthorized' },
    { status: 403, body: { status: 'error', error: 'forbidden' } },
    'garbage',
    { status: 200, body: { status: 'success', data: { resultType: 'matrix', result: [] } } },
  ];
  const wanted = [
    /bad_data.*parse error at char 5/,
    /unavailable.*store not ready/,
    /refused the query \(HTTP 401\)/,
    /HTTP 403/,
    /not JSON/,
    /unexpected shape/,
  ];
  for (let i = 0; i < answers.length; i++) {
    const prom = await fakePrometheus(() => answers[i]!);
    t.after(prom.close);
    const client = createMetricsClient({ url: prom.url, token });
    const o = await observedSplit(client, svc);
    assert.equal(o.kind, 'absent', String(i));
    if (o.kind !== 'absent') continue;
    assert.equal(o.reason, 'query-failed');
    assert.match(o.message, wanted[i]!);
    assert.ok(!o.message.includes(token));
    await assert.rejects(client.query('up'), (e: unknown) => e instanceof CanaryError && !e.message.includes(token) && !(e.hint ?? '').includes(token));
  }
});

test('an unreachable or hanging Prometheus times out cleanly', async (t) => {
  const prom = await fakePrometheus(() => 'hang');
  t.after(prom.close);
  const o = await observedSplit(createMetricsClient({ url: prom.url, timeoutMs: 200 }), svc);
  assert.equal(o.kind === 'absent' && o.reason, 'query-failed');
  assert.match(o.kind === 'absent' ? o.message : '', /No answer from http:\/\/127\.0\.0\.1:\d+ within 200 ms/);
  const closed = await fakePrometheus(() => empty);
  const url = closed.url;
  await closed.close();
  const refused = await observedSplit(createMetricsClient({ url }), svc);
  assert.equal(refused.kind === 'absent' && refused.reason, 'query-failed');
  assert.match(refused.kind === 'absent' ? refused.message : '', /Could not reach/);
});

test('https is verified: a self-signed Prometheus is refused as a TLS problem unless its CA is given', async (t) => {
  const { default: https } = await import('node:https');
  const { key, cert } = await selfSignedCert();
  const server = https.createServer({ key, cert }, (_req, res) => res.end(JSON.stringify(empty.body)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const o = await observedSplit(createMetricsClient({ url }), svc);
  assert.equal(o.kind === 'absent' && o.reason, 'query-failed');
  assert.match(o.kind === 'absent' ? o.message : '', /TLS certificate .* could not be verified/);
  // trusted once its certificate is given as the CA
  assert.deepEqual(await createMetricsClient({ url, ca: cert }).query('up'), []);
});

/** A self-signed certificate for 127.0.0.1 (no CA anyone trusts). */
async function selfSignedCert(): Promise<{ key: string; cert: string }> {
  const forge = (await import('node-forge')).default;
  const keys = forge.pki.rsa.generateKeyPair(1024);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date(Date.now() - 86400000);
  cert.validity.notAfter = new Date(Date.now() + 86400000);
  const attrs = [{ name: 'commonName', value: '127.0.0.1' }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { key: forge.pki.privateKeyToPem(keys.privateKey), cert: forge.pki.certificateToPem(cert) };
}

test('gates of one revision: error rate from the 5xx share, p95 from the latency histogram', async (t) => {
  const queries = gateQueries('user1-test', 'jukebox-predictor-00002', '60s');
  assert.equal(
    queries.errors,
    'sum(rate(revision_request_count{namespace_name="user1-test",revision_name="jukebox-predictor-00002",response_code_class="5xx"}[60s]))',
  );
  assert.equal(
    queries.p95,
    'histogram_quantile(0.95, sum by (le) (rate(revision_request_latencies_bucket{namespace_name="user1-test",revision_name="jukebox-predictor-00002"}[60s])))',
  );
  const prom = await fakePrometheus((q) => {
    if (q === queries.total) return vector([{ metric: {}, v: '10' }]);
    if (q === queries.errors) return vector([{ metric: {}, v: '2.3' }]);
    if (q === queries.p95) return vector([{ metric: {}, v: '412.5' }]);
    return { status: 400, body: { status: 'error', error: `unexpected ${q}` } };
  });
  t.after(prom.close);
  const client = createMetricsClient({ url: prom.url });
  const r = await readGates(client, { namespace: 'user1-test', revision: 'jukebox-predictor-00002', windowMs: 60000 });
  assert.ok(Math.abs(r.errorRate! - 0.23) < 1e-12, String(r.errorRate));
  assert.deepEqual({ ...r, errorRate: 0 }, { revision: 'jukebox-predictor-00002', window: '1m', rps: 10, errorRate: 0, p95Ms: 412.5, problem: undefined });
});

test('gates without traffic or with NaN quantiles are undefined, not zero', async (t) => {
  const prom = await fakePrometheus((q) => (q.startsWith('histogram_quantile') ? vector([{ metric: {}, v: 'NaN' }]) : empty));
  t.after(prom.close);
  const r = await readGates(createMetricsClient({ url: prom.url }), { namespace: 'n', revision: 'r', windowMs: 30000 });
  assert.deepEqual(r, { revision: 'r', window: '30s', rps: 0, errorRate: undefined, p95Ms: undefined, problem: undefined });
  const failing = await fakePrometheus(() => ({ status: 422, body: { status: 'error', errorType: 'execution', error: 'too many samples' } }));
  t.after(failing.close);
  const f = await readGates(createMetricsClient({ url: failing.url }), { namespace: 'n', revision: 'r', windowMs: 30000 });
  assert.equal(f.rps, undefined);
  assert.match(f.problem ?? '', /too many samples/);
});

test('label values are escaped in PromQL', () => {
  assert.equal(
    knativeSplitQuery({ namespace: 'a"b', name: 'm.x' }, '5s'),
    'sum by (revision_name) (rate(revision_request_count{namespace_name="a\\"b",configuration_name=~"m\\\\.x-predictor(-default)?"}[5s]))',
  );
});

test('bad Prometheus URLs are refused up front; no URL means no client', async () => {
  for (const url of ['not a url', 'ftp://prom', 'https://user:pw@prom.example.com']) {
    assert.throws(
      () => createMetricsClient({ url }),
      (e: unknown) => e instanceof CanaryError && e.kind === 'invalid-input' && !e.message.includes('pw'),
    );
  }
  assert.equal(await metricsFromSettings({}), undefined);
  assert.equal(await metricsFromSettings({ url: '  ' }), undefined);
  const c = await metricsFromSettings({ url: 'https://thanos.example.com/', token: 't' });
  assert.equal(c?.baseUrl, 'https://thanos.example.com');
});

test('prev and latest naming the same revision is one revision, the latest', async (t) => {
  const prom = await fakePrometheus((q) =>
    q.includes('revision_request_count') ? vector([{ metric: { revision_name: 'jukebox-predictor-00002' }, v: '4' }]) : empty,
  );
  t.after(prom.close);
  const o = await observedSplit(createMetricsClient({ url: prom.url }), { ...svc, prevRevision: 'jukebox-predictor-00002' });
  assert.equal(formatObserved(o), 'observed 100 over 5 min');
});

test('pods map to revisions; shares round to 100', () => {
  assert.equal(revisionOfPod('jukebox-predictor-00003-deployment-77f9-abcde'), 'jukebox-predictor-00003');
  assert.equal(revisionOfPod('my-model-v2-predictor-00012-deployment-x-y'), 'my-model-v2-predictor-00012');
  assert.equal(revisionOfPod('jukebox-predictor-default-abc'), undefined);
  assert.deepEqual(sharesOf(2, 1, 3), { prev: 67, latest: 33 });
  assert.deepEqual(sharesOf(1, 2, 3), { prev: 33, latest: 67 });
  assert.deepEqual(sharesOf(0, 5, 5), { prev: 0, latest: 100 });
  assert.deepEqual(sharesOf(undefined, 5, 5), { prev: undefined, latest: 100 });
  assert.deepEqual(sharesOf(1, 1, 0), { prev: undefined, latest: undefined });
  assert.equal(
    observedMatches({ kind: 'observed', window: '5m', byRevision: {}, prevPercent: 79, latestPercent: 21, totalRps: 1, source: 'knative', at: '' }, 20),
    true,
  );
  assert.equal(
    observedMatches({ kind: 'observed', window: '5m', byRevision: {}, prevPercent: 50, latestPercent: 50, totalRps: 1, source: 'knative', at: '' }, 20),
    false,
  );
  assert.equal(observedMatches(undefined, 20), undefined);
});
