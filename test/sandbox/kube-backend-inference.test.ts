/**
 * Inference and metrics on the kube-apiserver backend (issue 14), through the CLI as a user runs
 * it: `sandbox --backend kube-apiserver --inference --ready-file F` writes the embedded backend's
 * keys; status.url on the real server is the loopback inference endpoint; the split served is
 * what the InferenceService's status on the real server says (a status written there by hand
 * too, not what the sandbox's KServe remembers); the control routes and the Prometheus API need
 * the user's token; a new start on the same data dir keeps status.url and the Prometheus URL.
 */
// needs: kube-apiserver (scripts/test.mjs builds it with scripts/build-apiserver.mjs before the unit stage)
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { main } from '../../src/cli/main';
import { createMetricsClient } from '../../src/cluster/metrics';
import { kubeCall, type KubeClient } from '../../src/sandbox/kube-backend-http';
import { memoryIO } from '../cluster/cli-io';
import { waitFor } from './helpers';

interface ReadyFile {
  server: string;
  tokenFile: string;
  dir: string;
  prometheusUrl?: string;
}

const ISVC = '/apis/serving.kserve.io/v1beta1/namespaces/user1-test/inferenceservices/jukebox';
const PAYLOAD = JSON.stringify({ inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }] });
const REV1 = 'jukebox-predictor-00001';
const REV2 = 'jukebox-predictor-00002';

/** `kserve-canary sandbox …` in this process until stop(); resolves once its ready file is there. */
async function runSandbox(args: string[], ready: string) {
  const ac = new AbortController();
  const r = memoryIO();
  const running = main(['sandbox', ...args, '--ready-file', ready], { ...r.io, signal: ac.signal });
  const failed = running.then((code) => `sandbox exited ${code} before it was ready: ${r.err()}`);
  const info = await Promise.race([
    waitFor('the ready file', (): ReadyFile | undefined => (existsSync(ready) ? (JSON.parse(readFileSync(ready, 'utf8')) as ReadyFile) : undefined), 180_000),
    failed,
  ]);
  if (typeof info === 'string') throw new Error(info);
  return {
    info,
    stop: async () => {
      ac.abort();
      assert.equal(await running, 0, r.err());
    },
  };
}

/** Answers per revision of `n` requests, one after the other. */
async function served(url: string, n: number): Promise<Record<string, number>> {
  const by: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${url}/v2/models/jukebox/infer`, { method: 'POST', body: PAYLOAD, headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 200, await res.clone().text());
    const rev = res.headers.get('x-kserve-revision') ?? 'none';
    await res.arrayBuffer();
    by[rev] = (by[rev] ?? 0) + 1;
  }
  return by;
}

describe('sandbox --backend kube-apiserver --inference', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ksc-kube-inference-'));
  const stops: Array<() => Promise<void>> = [];
  after(async () => {
    for (const stop of stops.splice(0)) await stop().catch(() => undefined);
    rmSync(tmp, { recursive: true, force: true });
  });

  it('serves inference split as the real server says, the control routes and Prometheus with the token; a new start keeps the URLs', async () => {
    // the embedded backend's ready file, for its keys
    const embedded = await runSandbox(['--dir', path.join(tmp, 'embedded'), '--inference'], path.join(tmp, 'embedded.json'));
    const embeddedKeys = Object.keys(embedded.info).sort();
    await embedded.stop();
    assert.ok(embeddedKeys.includes('prometheusUrl'), embeddedKeys.join(', '));

    const args = [
      '--backend',
      'kube-apiserver',
      '--dir',
      path.join(tmp, 'kube'),
      '--inference',
      '--rollout-delay',
      '100ms',
      '--sync-delay',
      '200ms',
      '--poll',
      '100ms',
    ];
    const readyFile = path.join(tmp, 'kube.json');
    const kube = await runSandbox(args, readyFile);
    stops.push(kube.stop);
    const { info } = kube;
    assert.deepEqual(Object.keys(info).sort(), embeddedKeys);
    const ca = readFileSync(path.join(info.dir, 'tls', 'ca.crt'), 'utf8');
    const token = readFileSync(info.tokenFile, 'utf8').trim();
    const admin: KubeClient = { server: info.server, ca, token: readFileSync(path.join(info.dir, 'admin-token'), 'utf8').trim() };
    const user: KubeClient = { ...admin, token };

    // status.url as the workshop user reads it from the real server
    const isvc = (await kubeCall(user, 'GET', ISVC)).body as {
      status: { url: string; components: { predictor: { traffic: Array<{ revisionName: string; percent: number }> } } };
    };
    const url = isvc.status.url;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/serving\/user1-test\/jukebox$/);
    const origin = new URL(url).origin;
    // smooth weighted round robin repeats every 5 requests at 80/20, every 10 at 30/70: 100 in a row are exact
    assert.deepEqual(await served(url, 100), { [REV1]: 80, [REV2]: 20 });

    // a status written on the real server by hand (KServe's memory still says 80/20): the split follows the server
    const o = (await kubeCall(admin, 'GET', ISVC)).body as typeof isvc;
    for (const t of o.status.components.predictor.traffic) t.percent = t.revisionName === REV2 ? 70 : 30;
    await kubeCall(admin, 'PUT', `${ISVC}/status`, o);
    await waitFor('the 30/70 status to be served', async () => {
      const by = await served(url, 10);
      return by[REV1] === 3 && by[REV2] === 7;
    });

    // the control routes: the user's token only
    const post = (p: string, body?: unknown, auth = `Bearer ${token}`) =>
      fetch(`${origin}${p}`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    assert.equal((await post('/_sandbox/metrics/reset', undefined, 'Bearer not-the-token')).status, 401);
    assert.equal((await post('/_sandbox/metrics/reset')).status, 200);
    assert.equal((await post(`/_sandbox/revisions/user1-prod/${REV1}/behavior`, { errorRate: 1 })).status, 200);
    const prodUrl = url.replace('/user1-test/', '/user1-prod/');
    assert.equal((await fetch(`${prodUrl}/v2/models/jukebox/infer`, { method: 'POST', body: PAYLOAD })).status, 500);
    assert.equal((await post(`/_sandbox/revisions/user1-prod/${REV1}/behavior`, { errorRate: 0 })).status, 200);
    assert.deepEqual(await served(url, 100), { [REV1]: 30, [REV2]: 70 });

    // the Prometheus API over https (the sandbox CA), with the user's token: the counts per revision since the reset
    assert.match(info.prometheusUrl ?? '', /^https:\/\/127\.0\.0\.1:\d+\/prometheus$/);
    const query = 'sum by (revision_name) (revision_request_count{namespace_name="user1-test",configuration_name="jukebox-predictor"})';
    const prom = createMetricsClient({ url: info.prometheusUrl!, token, ca });
    assert.deepEqual(Object.fromEntries((await prom.query(query)).map((s) => [s.metric.revision_name, s.value])), { [REV1]: 30, [REV2]: 70 });
    await assert.rejects(createMetricsClient({ url: info.prometheusUrl!, token: 'sha256~wrong', ca }).query(query), /401|nauthori[sz]ed|token/i);

    // stop, start again on the same data dir: the same URLs, still served
    await kube.stop();
    stops.pop();
    const again = await runSandbox(args, readyFile);
    stops.push(again.stop);
    assert.equal(again.info.prometheusUrl, info.prometheusUrl);
    assert.equal(((await kubeCall(user, 'GET', ISVC)).body as typeof isvc).status.url, url);
    assert.equal(
      Object.values(await served(url, 10)).reduce((a, b) => a + b, 0),
      10,
    );
  });
});
