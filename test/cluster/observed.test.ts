/**
 * The observed split end to end over loopback: test traffic (src/core/loadgen.ts) goes to a
 * stand-in of the sandbox's inference endpoint that splits requests between two revisions
 * like Knative does, a stand-in Prometheus serves revision_request_count over what was
 * served, and the metrics client turns it into the observed split. Then the tracker that
 * keeps it fresh for the UI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sendTraffic } from '../../src/core/loadgen';
import { formatObserved, observedMatches, type ObservedSplit } from '../../src/core/observed';
import { createMetricsClient, observedSplit } from '../../src/cluster/metrics';
import { createObservedTracker } from '../../src/cluster/observed';
import type { ServiceState } from '../../src/cluster/types';
import { until } from '../poll';

/** Seeded PRNG (mulberry32) so the split of a run is the same every time. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function close(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
}

test('the observed split of sent traffic matches the configured split within statistical tolerance', async (t) => {
  const configuredLatest = 20;
  const random = rng(42);
  const served: Record<string, number> = {};
  const model = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const rev = random() * 100 < configuredLatest ? 'jukebox-predictor-00002' : 'jukebox-predictor-00001';
      served[rev] = (served[rev] ?? 0) + 1;
      res.writeHead(200, { 'content-type': 'application/json', 'x-kserve-revision': rev }).end('{"outputs":[]}');
    });
  });
  const windowS = 300;
  const prom = http.createServer((req, res) => {
    const q = new URL(req.url ?? '/', 'http://x').searchParams.get('query') ?? '';
    const result = q.includes('revision_request_count')
      ? Object.entries(served).map(([rev, n]) => ({ metric: { revision_name: rev }, value: [Date.now() / 1000, String(n / windowS)] }))
      : [];
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
  });
  const modelUrl = await listen(model);
  const promUrl = await listen(prom);
  t.after(() => Promise.all([close(model), close(prom)]));

  const sent = await sendTraffic({ url: modelUrl, model: 'jukebox', rps: 400, durationMs: 1000 });
  assert.equal(sent.sent, 400);
  assert.deepEqual(sent.byStatus, { 200: 400 });
  // what the sender saw per revision is what the server served
  assert.deepEqual(sent.byRevision, served);

  const o = await observedSplit(createMetricsClient({ url: promUrl }), {
    namespace: 'user1-test',
    name: 'jukebox',
    prevRevision: 'jukebox-predictor-00001',
    latestRevision: 'jukebox-predictor-00002',
  });
  assert.equal(o.kind, 'observed');
  if (o.kind !== 'observed') return;
  assert.equal(o.prevPercent! + o.latestPercent!, 100);
  // 400 requests at p = 0.2: one standard deviation is 2 points; 10 points is 5 of them
  assert.equal(observedMatches(o, configuredLatest, 10), true, formatObserved(o));
  assert.equal(observedMatches(o, 50, 10), false);
  assert.match(formatObserved(o), /^observed \d+\/\d+ over 5 min$/);
});

function service(name: string, prev: string, latest: string): ServiceState {
  return {
    key: `user1-test/${name}`,
    env: 'test',
    namespace: 'user1-test',
    name,
    creationTimestamp: undefined,
    url: undefined,
    ready: true,
    readyMessage: undefined,
    prevPercent: 80,
    latestPercent: 20,
    prevRevision: prev,
    latestRevision: latest,
    traffic: [],
    latestCreatedRevision: latest,
    latestReadyRevision: latest,
    newRevisionNotReady: false,
    deploymentMode: 'Serverless',
    canarySupported: true,
    specPercent: 20,
    generation: 1,
    observedGeneration: 1,
    rollingOut: false,
    application: undefined,
    desired: undefined,
    verdict: 'live',
    verdictReason: '',
  };
}

test('the tracker observes every service, notifies changed keys, and re-queries when revisions move', async (t) => {
  let rates: Record<string, number> = { 'a-predictor-00001': 8, 'a-predictor-00002': 2 };
  let queries = 0;
  const prom = http.createServer((req, res) => {
    queries++;
    const q = new URL(req.url ?? '/', 'http://x').searchParams.get('query') ?? '';
    const name = /configuration_name=~"([a-z]+)-predictor/.exec(q)?.[1];
    const result =
      q.includes('revision_request_count') && name === 'a'
        ? Object.entries(rates).map(([rev, v]) => ({ metric: { revision_name: rev }, value: [0, String(v)] }))
        : [];
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
  });
  const url = await listen(prom);
  t.after(() => close(prom));

  let services = [service('a', 'a-predictor-00001', 'a-predictor-00002'), service('b', 'b-predictor-00001', 'b-predictor-00002')];
  const storeListeners = new Set<(keys: string[]) => void>();
  const store = {
    services: () => services,
    get: (k: string) => services.find((s) => s.key === k),
    onDidChangeServices: (l: (keys: string[]) => void) => {
      storeListeners.add(l);
      return () => storeListeners.delete(l);
    },
  };
  const changes: string[][] = [];
  const tracker = createObservedTracker(store, createMetricsClient({ url }), { intervalMs: 3600000 });
  t.after(() => tracker.dispose());
  tracker.onDidChange((keys) => changes.push(keys));
  await tracker.refresh();
  const a = services[0]!.key;
  const b = services[1]!.key;
  assert.equal(formatObserved(tracker.get(a)), 'observed 80/20 over 5 min');
  assert.equal(formatObserved(tracker.get(b)), 'no traffic observed');
  assert.ok(changes.flat().includes(a) && changes.flat().includes(b));

  // nothing changed: no notification
  changes.length = 0;
  await tracker.refresh();
  assert.deepEqual(changes, []);

  // a new revision of a: the tracker queries it again by itself
  rates = { 'a-predictor-00002': 5, 'a-predictor-00003': 5 };
  services = [service('a', 'a-predictor-00002', 'a-predictor-00003'), services[1]!];
  const before = queries;
  for (const l of storeListeners) l([a]);
  await until(
    () => formatObserved(tracker.get(a)) === 'observed 50/50 over 5 min',
    () => `the tracker to re-query a (now ${formatObserved(tracker.get(a))})`,
  );
  assert.equal(formatObserved(tracker.get(a)), 'observed 50/50 over 5 min');
  assert.ok(queries > before);

  // no Prometheus: said so, for every service
  tracker.setClient(undefined);
  await tracker.refresh();
  const absent = tracker.get(b) as Extract<ObservedSplit, { kind: 'absent' }>;
  assert.equal(absent.reason, 'not-configured');
  assert.equal(formatObserved(absent), 'no metrics');
});
