import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CanaryError } from '../../src/core/errors';
import { DEFAULT_PAYLOAD, checkPayload, describeTraffic, inferUrl, percentile, sendTraffic, type TrafficProgress } from '../../src/core/loadgen';

interface Seen {
  method: string;
  path: string;
  body: string;
  contentType: string | undefined;
  auth: string | undefined;
}

/** A loopback model server: `answer(i)` decides the i-th answer (0-based). */
async function fakeModel(answer: (i: number, res: http.ServerResponse) => void) {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const i = seen.length;
      seen.push({
        method: req.method ?? '',
        path: req.url ?? '',
        body: Buffer.concat(chunks).toString(),
        contentType: req.headers['content-type'],
        auth: req.headers.authorization,
      });
      answer(i, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const ok = (res: http.ServerResponse, extra: Record<string, string> = {}, body = '{"model_name":"jukebox","outputs":[]}') =>
  res.writeHead(200, { 'content-type': 'application/json', ...extra }).end(body);

test('sends round(rps × duration) V2 infer requests and counts the answers', async (t) => {
  const srv = await fakeModel((i, res) => (i % 5 === 4 ? res.writeHead(500).end('boom') : ok(res)));
  t.after(srv.close);
  const progress: TrafficProgress[] = [];
  const r = await sendTraffic({
    url: srv.url,
    model: 'jukebox',
    rps: 200,
    durationMs: 100,
    onProgress: (p) => progress.push(p),
    headers: { authorization: 'Bearer t' },
  });
  assert.equal(r.total, 20);
  assert.equal(r.sent, 20);
  assert.equal(r.skipped, 0);
  assert.deepEqual(r.byStatus, { 200: 16, 500: 4 });
  assert.equal(r.errors, 0);
  assert.equal(r.aborted, false);
  assert.equal(r.target, `${srv.url}/v2/models/jukebox/infer`);
  assert.ok(r.p50Ms !== undefined && r.p95Ms !== undefined && r.p50Ms <= r.p95Ms && r.p95Ms <= r.maxMs!);
  assert.equal(srv.seen.length, 20);
  for (const s of srv.seen) {
    assert.equal(s.method, 'POST');
    assert.equal(s.path, '/v2/models/jukebox/infer');
    assert.equal(s.contentType, 'application/json');
    assert.equal(s.auth, 'Bearer t');
    assert.deepEqual(JSON.parse(s.body), JSON.parse(DEFAULT_PAYLOAD));
  }
  assert.equal(progress.at(-1)!.phase, 'done');
  assert.equal(progress.at(-1)!.completed, 20);
  assert.ok(progress.some((p) => p.phase === 'draining'));
  assert.deepEqual(r.byRevision, {});
  const lines = describeTraffic(r);
  assert.match(lines[0]!, /^Sent 20 of 20 requests to http:\/\/127\.0\.0\.1:\d+\/v2\/models\/jukebox\/infer/);
  assert.equal(lines[1], 'answers: 200: 16, 500: 4');
});

test('the serving revision is read from the x-kserve-revision header, else model_version', async (t) => {
  const srv = await fakeModel((i, res) => {
    if (i % 4 === 0) ok(res, { 'x-kserve-revision': 'jukebox-predictor-00002' });
    else if (i % 4 === 1) ok(res, {}, '{"model_name":"jukebox","model_version":"jukebox-predictor-00001","outputs":[]}');
    else ok(res, { 'x-kserve-revision': 'jukebox-predictor-00001' });
  });
  t.after(srv.close);
  const r = await sendTraffic({
    url: `${srv.url}/`,
    model: 'jukebox',
    rps: 400,
    durationMs: 100,
    payload: '{"inputs":[{"name":"x","shape":[1],"datatype":"INT32","data":[7]}]}',
  });
  assert.deepEqual(r.byRevision, { 'jukebox-predictor-00002': 10, 'jukebox-predictor-00001': 30 });
  assert.equal(JSON.parse(srv.seen[0]!.body).inputs[0].data[0], 7);
  assert.match(describeTraffic(r).at(-1)!, /served by: jukebox-predictor-00001 30 \(75%\), jukebox-predictor-00002 10 \(25%\)/);
});

test('open loop with bounded concurrency: slots are skipped, not queued, while requests hang', async (t) => {
  const held: http.ServerResponse[] = [];
  let draining = false;
  // every slot was scheduled and the three requests arrived: now let them answer
  const release = () => {
    if (draining && held.length >= 3) held.splice(0).forEach((res) => ok(res));
  };
  const srv = await fakeModel((_i, res) => {
    held.push(res);
    release();
  });
  t.after(srv.close);
  const r = await sendTraffic({
    url: srv.url,
    model: 'm',
    rps: 500,
    durationMs: 40,
    concurrency: 3,
    onProgress: (p) => {
      if (p.phase === 'draining') {
        draining = true;
        release();
      }
    },
  });
  assert.equal(r.total, 20);
  assert.equal(r.sent, 3);
  assert.equal(r.skipped, 17);
  assert.deepEqual(r.byStatus, { 200: 3 });
  assert.match(describeTraffic(r)[1]!, /skipped \(too many in flight\): 17/);
});

test('stoppable at any time: in-flight requests are cancelled and the result says so', async (t) => {
  const srv = await fakeModel((i, res) => (i < 3 ? ok(res) : undefined));
  t.after(srv.close);
  const stop = new AbortController();
  const r = await sendTraffic({
    url: srv.url,
    model: 'm',
    rps: 100,
    durationMs: 600000,
    signal: stop.signal,
    progressEveryMs: 0,
    onProgress: (p) => {
      if (p.sent >= 5 && p.completed >= 3) stop.abort();
    },
  });
  assert.equal(r.aborted, true);
  assert.ok(r.sent >= 5 && r.sent < r.total, String(r.sent));
  assert.equal(r.byStatus[200], 3);
  assert.equal(r.errors, r.sent - 3);
  assert.equal(r.errorKinds.aborted, r.sent - 3);
  assert.match(describeTraffic(r)[0]!, /^Stopped after/);
});

test('requests without an answer are counted by kind (timeout, refused)', async (t) => {
  const srv = await fakeModel(() => undefined);
  t.after(srv.close);
  const r = await sendTraffic({ url: srv.url, model: 'm', rps: 100, durationMs: 30, timeoutMs: 100 });
  assert.equal(r.errors, 3);
  assert.deepEqual(r.errorKinds, { timeout: 3 });
  assert.equal(r.p50Ms, undefined);
  assert.match(describeTraffic(r)[2]!, /no answers/);
  const gone = await fakeModel(() => undefined);
  await gone.close();
  const refused = await sendTraffic({ url: gone.url, model: 'm', rps: 100, durationMs: 20 });
  assert.deepEqual(refused.errorKinds, { network: 2 });
});

test('traffic goes only to the service URL or loopback, over http(s)', () => {
  assert.equal(
    inferUrl('https://jukebox-user1-test.apps.example.com', 'jukebox', 'https://jukebox-user1-test.apps.example.com', {
      apiServer: 'https://api.example.com:6443',
    }).toString(),
    'https://jukebox-user1-test.apps.example.com/v2/models/jukebox/infer',
  );
  assert.equal(inferUrl('http://[::1]:8080/base/', 'a b').toString(), 'http://[::1]:8080/base/v2/models/a%20b/infer');
  assert.equal(inferUrl('http://localhost:1', 'm').hostname, 'localhost');
  const refused: [string, string | undefined, RegExp][] = [
    [
      'https://evil.example.com',
      'https://jukebox-user1-test.apps.example.com',
      /only go to the InferenceService's own URL \(https:\/\/jukebox-user1-test\.apps\.example\.com\)/,
    ],
    [
      'https://jukebox-user1-test.apps.example.com:8443',
      'https://jukebox-user1-test.apps.example.com',
      /not https:\/\/jukebox-user1-test\.apps\.example\.com:8443/,
    ],
    ['https://10.0.0.1', undefined, /loopback/],
    ['ftp://127.0.0.1/', undefined, /http or https only/],
    ['file:///etc/passwd', undefined, /http or https only/],
    ['http://u:p@127.0.0.1', undefined, /user name or password/],
    ['nonsense', undefined, /is not a URL/],
  ];
  for (const [url, svc, why] of refused) {
    assert.throws(
      () => inferUrl(url, 'm', svc),
      (e: unknown) => e instanceof CanaryError && e.kind === 'invalid-input' && why.test(e.message),
      url,
    );
  }
});

test('bad payloads and numbers are refused before anything is sent', async () => {
  assert.equal(checkPayload(' {"inputs": []} '), '{"inputs":[]}');
  assert.throws(() => checkPayload('{inputs'), /is not valid JSON/);
  assert.throws(() => checkPayload('[1,2]'), /must be a JSON object/);
  await assert.rejects(sendTraffic({ url: 'http://127.0.0.1:1', model: 'm', rps: 0, durationMs: 1000 }), /rps 0 is outside/);
  await assert.rejects(sendTraffic({ url: 'http://127.0.0.1:1', model: 'm', rps: 5000, durationMs: 1000 }), /rps 5000 is outside/);
  await assert.rejects(sendTraffic({ url: 'http://127.0.0.1:1', model: 'm', rps: 1, durationMs: 7200000 }), /duration 7200000 is outside/);
  await assert.rejects(
    sendTraffic({ url: 'http://127.0.0.1:1', model: 'm', rps: 1, durationMs: 1000, payload: 'nope' }),
    (e: unknown) => e instanceof CanaryError && e.code === 'bad-payload',
  );
});

test('nearest-rank percentiles', () => {
  const v = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(v, 50), 50);
  assert.equal(percentile(v, 95), 95);
  assert.equal(percentile([7], 95), 7);
  assert.equal(percentile([], 50), undefined);
  assert.equal(percentile([1, 2, 3], 0), 1);
});
