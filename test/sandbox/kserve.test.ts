/** The KServe-like controller, rule by rule (domain.md §3), as a client of an embedded API server. */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KServeController } from '../../src/sandbox/kserve';
import { INFERENCE_SERVICES } from '../../src/sandbox/resources';
import type { ObjectStore } from '../../src/sandbox/store';
import { toTable } from '../../src/sandbox/table';
import type { KObject } from '../../src/sandbox/types';
import { kserveOverApi, type KServeOverApi } from './api-harness';
import { openSandbox, waitFor } from './helpers';

const NS = 'user1-test';

interface Fixture {
  store: ObjectStore;
  kserve: KServeController;
  /** Apply a spec change to the predictor (null removes a key), then reconcile. */
  set(predictor: Record<string, unknown>): Promise<KObject>;
  get(): KObject;
  /** The printer columns as `oc get isvc` shows them. */
  columns(): { ready: unknown; prev: unknown; latest: unknown; prevRev: unknown; latestRev: unknown };
  predictorStatus(): Record<string, unknown>;
}

const open: KServeOverApi[] = [];
after(async () => {
  for (const h of open) await h.close();
});

async function fixture(annotations: Record<string, string> = {}): Promise<Fixture> {
  const h = await kserveOverApi(NS);
  open.push(h);
  const { store, kserve } = h;
  store.create(INFERENCE_SERVICES, {
    metadata: { name: 'jukebox', namespace: NS, annotations },
    spec: { predictor: { model: { modelFormat: { name: 'onnx' }, storageUri: 'oci://r/ns/jukebox:v1' } } },
  });
  await kserve.reconcile(NS, 'jukebox');
  const get = () => store.mustGet(INFERENCE_SERVICES, NS, 'jukebox');
  return {
    store,
    kserve,
    get,
    async set(change) {
      const o = get();
      const pred = o.spec!.predictor as Record<string, unknown>;
      for (const [k, v] of Object.entries(change)) {
        if (v === null) delete pred[k];
        else pred[k] = v;
      }
      store.update(INFERENCE_SERVICES, o, NS);
      await kserve.reconcile(NS, 'jukebox');
      return get();
    },
    columns() {
      const t = toTable(INFERENCE_SERVICES, [get()], '1', { version: 'v1', includeObject: 'None' }) as { rows: Array<{ cells: unknown[] }> };
      const c = t.rows[0]!.cells;
      return { ready: c[2], prev: c[3], latest: c[4], prevRev: c[5], latestRev: c[6] };
    },
    predictorStatus() {
      return (get().status as { components: { predictor: Record<string, unknown> } }).components.predictor;
    },
  };
}

const version = (v: string) => ({ model: { modelFormat: { name: 'onnx' }, storageUri: `oci://r/ns/jukebox:${v}` } });
const rev = (n: number) => `jukebox-predictor-${String(n).padStart(5, '0')}`;

describe('KServe controller rules', () => {
  test('first revision takes 100%; all condition types are reported, Ready last', async () => {
    const f = await fixture();
    assert.deepEqual(f.columns(), { ready: 'True', prev: null, latest: 100, prevRev: null, latestRev: rev(1) });
    const st = f.get().status as Record<string, unknown>;
    const types = (st.conditions as Array<{ type: string; status: string }>).map((c) => c.type);
    assert.deepEqual(types, [
      'PredictorReady',
      'PredictorRouteReady',
      'PredictorConfigurationReady',
      'IngressReady',
      'RoutesReady',
      'LatestDeploymentReady',
      'Stopped',
      'Ready',
    ]);
    assert.equal(st.url, 'https://jukebox-user1-test.apps.sandbox.example');
    assert.equal(st.deploymentMode, 'Serverless');
    assert.equal(st.observedGeneration, 1);
    const p = f.predictorStatus();
    assert.equal(p.latestCreatedRevision, rev(1));
    assert.equal(p.latestReadyRevision, rev(1));
    assert.equal(p.latestRolledoutRevision, rev(1));
    assert.equal(p.url, 'https://jukebox-predictor-user1-test.apps.sandbox.example');
    assert.deepEqual(p.address, { url: 'http://jukebox-predictor.user1-test.svc.cluster.local' });
  });

  test('a version change without canary creates a new revision at 100% (blue-green)', async () => {
    const f = await fixture();
    await f.set(version('v2'));
    assert.deepEqual(f.columns(), { ready: 'True', prev: null, latest: 100, prevRev: null, latestRev: rev(2) });
    assert.equal(f.predictorStatus().previousRolledoutRevision, rev(1));
    assert.equal(f.predictorStatus().latestRolledoutRevision, rev(2));
  });

  test('canaryTrafficPercent with a new version splits latest P / prev 100-P to the rolled-out revision', async () => {
    const f = await fixture();
    await f.set({ ...version('v2'), canaryTrafficPercent: 20 });
    assert.deepEqual(f.columns(), { ready: 'True', prev: 80, latest: 20, prevRev: rev(1), latestRev: rev(2) });
    const traffic = f.predictorStatus().traffic as Array<Record<string, unknown>>;
    assert.deepEqual(traffic, [
      { revisionName: rev(2), configurationName: 'jukebox-predictor', latestRevision: true, percent: 20 },
      { tag: 'prev', revisionName: rev(1), latestRevision: false, percent: 80 },
    ]);
    assert.equal(f.predictorStatus().latestRolledoutRevision, rev(1));
  });

  test('changing only the percentage creates no new revision', async () => {
    const f = await fixture();
    await f.set({ ...version('v2'), canaryTrafficPercent: 20 });
    await f.set({ canaryTrafficPercent: 50 });
    assert.deepEqual(f.columns(), { ready: 'True', prev: 50, latest: 50, prevRev: rev(1), latestRev: rev(2) });
    assert.equal(f.kserve.revisions(NS, 'jukebox').length, 2);
  });

  test('0 pins all traffic to the previous rolled-out revision (PREV 100, LATEST 0)', async () => {
    const f = await fixture();
    await f.set({ ...version('v2'), canaryTrafficPercent: 20 });
    await f.set({ canaryTrafficPercent: 0 });
    assert.deepEqual(f.columns(), { ready: 'True', prev: 100, latest: 0, prevRev: rev(1), latestRev: rev(2) });
  });

  test('100 leaves no prev target; the latest becomes the rolled-out revision', async () => {
    const f = await fixture();
    await f.set({ ...version('v2'), canaryTrafficPercent: 20 });
    await f.set({ canaryTrafficPercent: 100 });
    assert.deepEqual(f.columns(), { ready: 'True', prev: null, latest: 100, prevRev: null, latestRev: rev(2) });
    assert.equal(f.predictorStatus().latestRolledoutRevision, rev(2));
    assert.equal(f.predictorStatus().previousRolledoutRevision, rev(1));
  });

  test('removing the field promotes: 100% to the latest ready revision', async () => {
    const f = await fixture();
    await f.set({ ...version('v2'), canaryTrafficPercent: 20 });
    await f.set({ canaryTrafficPercent: null });
    assert.deepEqual(f.columns(), { ready: 'True', prev: null, latest: 100, prevRev: null, latestRev: rev(2) });
    // a later canary splits against the newly rolled-out revision
    await f.set({ ...version('v3'), canaryTrafficPercent: 10 });
    assert.deepEqual(f.columns(), { ready: 'True', prev: 90, latest: 10, prevRev: rev(2), latestRev: rev(3) });
  });

  test('after a promotion, a canary or a rollback splits against the revision rolled out before', async () => {
    const f = await fixture();
    await f.set({ ...version('v2'), canaryTrafficPercent: 20 });
    await f.set({ canaryTrafficPercent: 100 });
    assert.equal(f.predictorStatus().latestRolledoutRevision, rev(2));
    await f.set({ canaryTrafficPercent: 30 });
    assert.deepEqual(f.columns(), { ready: 'True', prev: 70, latest: 30, prevRev: rev(1), latestRev: rev(2) });
    await f.set({ canaryTrafficPercent: 0 });
    assert.deepEqual(f.columns(), { ready: 'True', prev: 100, latest: 0, prevRev: rev(1), latestRev: rev(2) });
    assert.equal(f.predictorStatus().latestRolledoutRevision, rev(2), 'a rollback does not move the rolled-out revision');
    await f.set({ canaryTrafficPercent: null });
    assert.deepEqual(f.columns(), { ready: 'True', prev: null, latest: 100, prevRev: null, latestRev: rev(2) });
  });

  test('a canary with a single rolled-out revision has nothing to split against: 100% latest', async () => {
    const f = await fixture();
    await f.set({ canaryTrafficPercent: 20 });
    assert.deepEqual(f.columns(), { ready: 'True', prev: null, latest: 100, prevRev: null, latestRev: rev(1) });
    const traffic = f.predictorStatus().traffic as Array<{ percent: number }>;
    assert.deepEqual(
      traffic.map((t) => t.percent),
      [100],
    );
  });

  test('a failing revision gets no traffic, Ready is False with a message, created != ready', async () => {
    const f = await fixture();
    f.kserve.failRevisions(NS, 'jukebox', 'image pull back-off');
    await f.set({ ...version('v2'), canaryTrafficPercent: 20 });
    const p = f.predictorStatus();
    assert.equal(p.latestCreatedRevision, rev(2));
    assert.equal(p.latestReadyRevision, rev(1));
    const traffic = p.traffic as Array<{ revisionName: string; percent: number }>;
    assert.ok(
      traffic.every((t) => t.revisionName === rev(1)),
      'no traffic to the failed revision',
    );
    assert.equal(
      traffic.reduce((s, t) => s + t.percent, 0),
      100,
    );
    const ready = (f.get().status as { conditions: Array<Record<string, string>> }).conditions.find((c) => c.type === 'Ready')!;
    assert.equal(ready.status, 'False');
    assert.match(ready.message!, /Revision "jukebox-predictor-00002" failed with message: image pull back-off/);
    assert.equal(f.columns().ready, 'False');

    f.kserve.healRevisions(NS, 'jukebox');
    await f.kserve.reconcile(NS, 'jukebox');
    assert.deepEqual(f.columns(), { ready: 'True', prev: 80, latest: 20, prevRev: rev(1), latestRev: rev(2) });
  });

  test('RawDeployment: deploymentMode reported, canary ignored, no revisions and no traffic', async () => {
    const f = await fixture({ 'serving.kserve.io/deploymentMode': 'RawDeployment' });
    await f.set({ ...version('v2'), canaryTrafficPercent: 20 });
    const st = f.get().status as Record<string, unknown>;
    assert.equal(st.deploymentMode, 'RawDeployment');
    assert.equal((f.predictorStatus() as { traffic?: unknown }).traffic, undefined);
    assert.deepEqual(f.columns(), { ready: 'True', prev: null, latest: null, prevRev: null, latestRev: null });
    assert.equal(f.kserve.revisions(NS, 'jukebox').length, 0);
  });

  test('tag routing adds tagged URLs to the traffic targets', async () => {
    const f = await fixture({ 'serving.kserve.io/enable-tag-routing': 'true' });
    await f.set({ ...version('v2'), canaryTrafficPercent: 30 });
    const traffic = f.predictorStatus().traffic as Array<Record<string, unknown>>;
    assert.deepEqual(
      traffic.map((t) => [t.tag, t.url, t.percent]),
      [
        ['latest', 'https://latest-jukebox-predictor-user1-test.apps.sandbox.example', 30],
        ['prev', 'https://prev-jukebox-predictor-user1-test.apps.sandbox.example', 70],
      ],
    );
  });

  test('rolling out: generation runs ahead of observedGeneration until the rollout delay has passed', async () => {
    const sb = await openSandbox({ rolloutDelayMs: 400 });
    try {
      sb.controller.pauseArgo(true);
      const store = sb.controller.store;
      const o = store.mustGet(INFERENCE_SERVICES, NS, 'jukebox');
      (o.spec!.predictor as Record<string, unknown>).canaryTrafficPercent = 60;
      const updated = store.update(INFERENCE_SERVICES, o, NS);
      const st = () =>
        store.mustGet(INFERENCE_SERVICES, NS, 'jukebox').status as {
          observedGeneration: number;
          components: { predictor: { traffic: Array<{ percent: number }> } };
        };
      assert.ok(st().observedGeneration < updated.metadata.generation!, 'rolling out right after the change');
      assert.equal(st().components.predictor.traffic[0]!.percent, 20, 'old traffic shown while rolling out');
      await waitFor('caught up', () => st().observedGeneration === updated.metadata.generation);
      assert.equal(st().components.predictor.traffic[0]!.percent, 60);
    } finally {
      await sb.cleanup();
    }
  });

  test('deleting removes the KServe finalizer, then the object goes', async () => {
    const sb = await openSandbox();
    try {
      sb.controller.pauseArgo(true);
      const store = sb.controller.store;
      const r = store.delete(INFERENCE_SERVICES, 'user1-prod', 'jukebox');
      assert.equal(r.finished, false);
      assert.ok(store.get(INFERENCE_SERVICES, 'user1-prod', 'jukebox')?.metadata.deletionTimestamp);
      await waitFor('gone', () => !store.get(INFERENCE_SERVICES, 'user1-prod', 'jukebox'));
    } finally {
      await sb.cleanup();
    }
  });
});
