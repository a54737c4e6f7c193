/**
 * The sandbox's test-control routes (src/sandbox/inference.ts): `POST
 * /_sandbox/revisions/<ns>/<revision>/behavior` changes how a revision answers from another
 * process, `POST /_sandbox/metrics/reset` forgets the requests served; both only with the
 * sandbox's bearer token; bad bodies are refused before anything changes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { INFERENCE_SERVICES } from '../../src/sandbox/resources';
import { openSandbox, type TestSandbox } from './helpers';

describe('sandbox control route for revision behavior', () => {
  let sb: TestSandbox;
  let origin: string;
  let serving: string;
  let token: string;
  const payload = JSON.stringify({ inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }] });
  const route = (ns: string, rev: string) => `${origin}/_sandbox/revisions/${encodeURIComponent(ns)}/${encodeURIComponent(rev)}/behavior`;
  const post = (url: string, body: string, auth?: string) =>
    fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) } });
  /** Status codes of `n` requests to prod/jukebox, which serves one revision (00001) at 100%. */
  const codes = async (n: number) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const r = await fetch(`${serving}/v2/models/jukebox/infer`, { method: 'POST', body: payload });
      assert.equal(r.headers.get('x-kserve-revision'), 'jukebox-predictor-00001');
      await r.arrayBuffer();
      out.push(r.status);
    }
    return out;
  };

  before(async () => {
    sb = await openSandbox({ inference: true });
    sb.controller.pauseArgo(true);
    serving = (sb.controller.store.mustGet(INFERENCE_SERVICES, 'user1-prod', 'jukebox').status as { url: string }).url;
    origin = new URL(serving).origin;
    token = readFileSync(sb.tokenFile, 'utf8').trim();
  });
  after(async () => {
    await sb?.cleanup();
  });

  test('without the token, or with another one: 401 and the revision keeps answering 200', async () => {
    const url = route('user1-prod', 'jukebox-predictor-00001');
    const body = JSON.stringify({ errorRate: 1 });
    for (const auth of [undefined, 'Bearer wrong', `Basic ${token}`]) {
      const r = await post(url, body, auth);
      assert.equal(r.status, 401, String(auth));
      const text = await r.text();
      assert.ok(!text.includes(token), 'the answer does not echo the token');
    }
    assert.deepEqual(await codes(4), [200, 200, 200, 200]);
  });

  test('with the token: errorRate 0.5 makes every 2nd answer 500, errorRate 0 heals it', async () => {
    const url = route('user1-prod', 'jukebox-predictor-00001');
    const r = await post(url, JSON.stringify({ errorRate: 0.5 }), `Bearer ${token}`);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { namespace: 'user1-prod', revision: 'jukebox-predictor-00001', behavior: { errorRate: 0.5 } });
    assert.deepEqual(await codes(4), [200, 500, 200, 500]);
    const heal = await post(url, JSON.stringify({ errorRate: 0 }), `Bearer ${token}`);
    assert.equal(heal.status, 200);
    await heal.arrayBuffer();
    assert.deepEqual(await codes(3), [200, 200, 200]);
  });

  test('the https listener of the Prometheus API serves the same route (same token rule)', async () => {
    const url = `${new URL(sb.prometheusUrl!).origin}/_sandbox/revisions/user1-prod/jukebox-predictor-00001/behavior`;
    const ca = readFileSync(sb.caFile, 'utf8');
    const call = (auth?: string) =>
      new Promise<number>((resolve, reject) => {
        const req = https.request(
          url,
          { method: 'POST', ca, headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) } },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.end(JSON.stringify({ latencyMs: 0 }));
      });
    assert.equal(await call(), 401);
    assert.equal(await call(`Bearer ${token}`), 200);
  });

  test('bad bodies and paths are refused before anything changes', async () => {
    const url = route('user1-prod', 'jukebox-predictor-00001');
    const auth = `Bearer ${token}`;
    for (const [body, re] of [
      ['not json', /not JSON/],
      ['[1]', /must be an object/],
      ['{"errorRate":2}', /errorRate must be between 0 and 1/],
      ['{"errorRate":"0.5"}', /errorRate must be a number/],
      ['{"latencyMs":-1}', /latencyMs must be 0 or more/],
      ['{"errorRate":0.5,"colour":"red"}', /unknown field\(s\) colour/],
    ] as const) {
      const r = await post(url, body, auth);
      assert.equal(r.status, 400, body);
      assert.match(((await r.json()) as { error: string }).error, re, body);
    }
    assert.deepEqual(await codes(4), [200, 200, 200, 200], 'no refused body changed the behavior');
    const get = await fetch(url, { headers: { authorization: auth } });
    assert.equal(get.status, 405);
    await get.arrayBuffer();
    const other = await post(`${origin}/_sandbox/other`, '{}', auth);
    assert.equal(other.status, 404);
    await other.arrayBuffer();
  });

  test('metrics/reset forgets the requests served (token required): the observed rate starts from nothing', async () => {
    await codes(3);
    const query = async () => {
      const q = encodeURIComponent('sum by (revision_name)(rate(revision_request_count{namespace_name="user1-prod"}[5m]))');
      const r = await new Promise<string>((resolve, reject) => {
        https
          .get(`${sb.prometheusUrl}/api/v1/query?query=${q}`, { ca: readFileSync(sb.caFile, 'utf8'), headers: { authorization: `Bearer ${token}` } }, (res) => {
            let text = '';
            res.on('data', (c) => (text += c));
            res.on('end', () => resolve(text));
          })
          .on('error', reject);
      });
      return (JSON.parse(r) as { data: { result: unknown[] } }).data.result;
    };
    assert.ok((await query()).length > 0, 'the requests were recorded');
    const refused = await post(`${origin}/_sandbox/metrics/reset`, '{}');
    assert.equal(refused.status, 401);
    await refused.arrayBuffer();
    assert.ok((await query()).length > 0, 'a refused reset forgets nothing');
    const r = await post(`${origin}/_sandbox/metrics/reset`, '{}', `Bearer ${token}`);
    assert.equal(r.status, 200);
    assert.equal(((await r.json()) as { reset: boolean }).reset, true);
    assert.deepEqual(await query(), []);
  });
});
