/** Fault injection, observed on the wire (raw HTTPS) and through the real client. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { INFERENCE_SERVICES } from '../../src/sandbox/resources';
import { openSandbox, waitFor, type TestSandbox } from './helpers';

interface RawWatch {
  lines: string[];
  raw: () => string;
  ended: () => boolean;
  status: () => number | undefined;
  close: () => void;
}

/** A watch read byte by byte, to see exactly what the server writes. */
function rawWatch(sb: TestSandbox, path: string): RawWatch {
  let buf = '';
  let ended = false;
  let status: number | undefined;
  const req = https.get(
    `${sb.server}${path}`,
    { ca: readFileSync(sb.caFile), headers: { Authorization: `Bearer ${readFileSync(sb.tokenFile, 'utf8').trim()}` } },
    (res) => {
      status = res.statusCode;
      res.setEncoding('utf8');
      res.on('data', (d: string) => (buf += d));
      res.on('end', () => (ended = true));
      res.on('close', () => (ended = true));
    },
  );
  req.on('error', () => (ended = true));
  return {
    get lines() {
      return buf.split('\n').filter(Boolean);
    },
    raw: () => buf,
    ended: () => ended,
    status: () => status,
    close: () => req.destroy(),
  };
}

function request(sb: TestSandbox, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(`${sb.server}${path}`, { ca: readFileSync(sb.caFile), headers: { Authorization: `Bearer ${readFileSync(sb.tokenFile, 'utf8').trim()}` } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

const ISVC = '/apis/serving.kserve.io/v1beta1/namespaces/user1-test/inferenceservices';

function bump(sb: TestSandbox, label: string): void {
  const store = sb.controller.store;
  const o = store.mustGet(INFERENCE_SERVICES, 'user1-test', 'jukebox');
  o.metadata.labels = { ...o.metadata.labels, bump: label };
  store.update(INFERENCE_SERVICES, o, 'user1-test');
}

describe('sandbox faults', () => {
  let sb: TestSandbox;
  before(async () => {
    sb = await openSandbox();
    sb.controller.pauseArgo(true);
  });
  after(async () => {
    await sb?.cleanup();
  });

  test('watch stream: one JSON event per line, chunked; dropWatches ends it', async () => {
    const w = rawWatch(sb, `${ISVC}?watch=true`);
    await waitFor('initial ADDED', () => w.lines.length === 1);
    assert.equal(JSON.parse(w.lines[0]!).type, 'ADDED');
    bump(sb, 'one');
    await waitFor('MODIFIED', () => w.lines.length === 2);
    const ev = JSON.parse(w.lines[1]!);
    assert.equal(ev.type, 'MODIFIED');
    assert.equal(ev.object.metadata.labels.bump, 'one');
    assert.equal(sb.faults.openWatches, 1);
    sb.faults.dropWatches();
    await waitFor('stream ended', () => w.ended());
    await waitFor('no open watches', () => sb.faults.openWatches === 0);
  });

  test('malformed JSON goes into open streams; later events still arrive', async () => {
    const w = rawWatch(sb, `${ISVC}?watch=true`);
    await waitFor('initial ADDED', () => w.lines.length === 1);
    sb.faults.injectMalformedWatchEvent();
    bump(sb, 'two');
    await waitFor('event after garbage', () => w.lines.length === 3);
    assert.throws(() => JSON.parse(w.lines[1]!));
    assert.equal(JSON.parse(w.lines[2]!).type, 'MODIFIED');
    w.close();
  });

  test('silent watches keep the connection and send nothing', async () => {
    sb.faults.silentWatches(true);
    try {
      const w = rawWatch(sb, `${ISVC}?watch=true`);
      await waitFor('watch open', () => w.status() === 200 && sb.faults.openWatches === 1);
      bump(sb, 'three'); // delivered synchronously to normal watches
      sb.faults.dropWatches();
      await waitFor('ended', () => w.ended());
      assert.equal(w.raw(), '');
    } finally {
      sb.faults.silentWatches(false);
    }
  });

  test('500 with a Status body for N seconds; reset clears it', async () => {
    sb.faults.failRequests(60);
    const r = await request(sb, ISVC);
    assert.equal(r.status, 500);
    const s = JSON.parse(r.body);
    assert.equal(s.kind, 'Status');
    assert.equal(s.reason, 'InternalError');
    sb.faults.reset();
    assert.equal((await request(sb, ISVC)).status, 200);
  });

  test('a 1 MB object is served whole, in lists and in watch events', async () => {
    const w = rawWatch(sb, `${ISVC}?watch=true&resourceVersion=${sb.controller.store.resourceVersion}`);
    await waitFor('watch open', () => w.status() === 200);
    sb.faults.addLargeObject('user1-test', 'huge');
    const r = await request(sb, `${ISVC}/huge`);
    assert.equal(r.status, 200);
    assert.ok(r.body.length > 1024 * 1024);
    await waitFor('big ADDED line', () => w.raw().includes('\n'));
    const first = JSON.parse(w.raw().slice(0, w.raw().indexOf('\n')));
    assert.equal(first.type, 'ADDED');
    assert.equal(first.object.metadata.name, 'huge');
    w.close();
    sb.controller.store.delete(INFERENCE_SERVICES, 'user1-test', 'huge');
    await waitFor('huge gone', () => !sb.controller.store.get(INFERENCE_SERVICES, 'user1-test', 'huge'));
  });

  test('outage: the port refuses connections, then the same data comes back on the same port', async () => {
    bump(sb, 'before-outage');
    const port = sb.port;
    const down = sb.faults.outage(300);
    await waitFor('connection refused', async () => {
      try {
        await request(sb, ISVC);
        return false;
      } catch (e) {
        return /ECONNREFUSED|ECONNRESET|socket hang up/.test(String(e));
      }
    });
    await down;
    assert.equal(sb.port, port);
    const r = await request(sb, `${ISVC}/jukebox`);
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).metadata.labels.bump, 'before-outage');
  });

  test('rotateToken: the old token gets 401; the rewritten kubeconfig and token file work', async () => {
    const old = readFileSync(sb.tokenFile, 'utf8').trim();
    assert.equal((await request(sb, ISVC)).status, 200);
    sb.faults.rotateToken({ rewriteKubeconfig: false });
    const fresh = readFileSync(sb.tokenFile, 'utf8').trim();
    assert.notEqual(fresh, old);
    assert.ok(readFileSync(sb.kubeconfigPath, 'utf8').includes(old), 'kubeconfig left stale');
    const denied = await new Promise<number>((resolve, reject) => {
      https
        .get(`${sb.server}${ISVC}`, { ca: readFileSync(sb.caFile), headers: { Authorization: `Bearer ${old}` } }, (r) => {
          r.resume();
          resolve(r.statusCode ?? 0);
        })
        .on('error', reject);
    });
    assert.equal(denied, 401);
    assert.equal((await request(sb, ISVC)).status, 200, 'the token file has the new token');
    sb.faults.refreshKubeconfig();
    assert.ok(readFileSync(sb.kubeconfigPath, 'utf8').includes(fresh));
  });

  test('deletecollection honours the label selector', async () => {
    const store = sb.controller.store;
    for (const name of ['dc1', 'dc2']) {
      store.create(INFERENCE_SERVICES, { metadata: { name, namespace: 'user1-test', labels: { batch: 'x' } }, spec: { predictor: {} } });
    }
    const res = await new Promise<number>((resolve, reject) => {
      const req = https.request(
        `${sb.server}${ISVC}?labelSelector=batch%3Dx`,
        { method: 'DELETE', ca: readFileSync(sb.caFile), headers: { Authorization: `Bearer ${readFileSync(sb.tokenFile, 'utf8').trim()}` } },
        (r) => {
          r.resume();
          r.on('end', () => resolve(r.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end();
    });
    assert.equal(res, 200);
    assert.deepEqual(
      store.list(INFERENCE_SERVICES, 'user1-test').map((o) => o.metadata.name),
      ['jukebox'],
    );
  });
});
