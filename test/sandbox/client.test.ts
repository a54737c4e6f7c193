/** The real @kubernetes/client-node against the sandbox: CRUD, informers, 410, faults, restart. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openSandbox, waitFor, type TestSandbox } from './helpers';
import type { KObject } from '../../src/sandbox/index';

type K8s = typeof import('@kubernetes/client-node');
const G = 'serving.kserve.io';
const V = 'v1beta1';
const P = 'inferenceservices';

async function client(sb: TestSandbox): Promise<{ k8s: K8s; kc: InstanceType<K8s['KubeConfig']> }> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(sb.kubeconfigPath);
  return { k8s, kc };
}

function demo(name: string): KObject {
  return {
    apiVersion: `${G}/${V}`,
    kind: 'InferenceService',
    metadata: { name, labels: { team: 'a' } },
    spec: { predictor: { model: { modelFormat: { name: 'onnx' }, storageUri: `oci://example.invalid/${name}:1` } } },
  };
}

describe('@kubernetes/client-node against the sandbox', () => {
  let sb: TestSandbox;
  before(async () => {
    sb = await openSandbox();
  });
  after(async () => {
    await sb?.cleanup();
  });

  test('CustomObjectsApi list, get, merge patch, create, replace with a stale resourceVersion (409)', async () => {
    const { k8s, kc } = await client(sb);
    const api = kc.makeApiClient(k8s.CustomObjectsApi);
    const list = (await api.listNamespacedCustomObject({ group: G, version: V, namespace: 'user1-test', plural: P })) as { items: KObject[] };
    assert.deepEqual(
      list.items.map((i) => i.metadata.name),
      ['jukebox'],
    );
    const all = (await api.listClusterCustomObject({ group: G, version: V, plural: P })) as { items: KObject[] };
    assert.equal(all.items.length, 2);
    const got = (await api.getNamespacedCustomObject({ group: G, version: V, namespace: 'user1-test', plural: P, name: 'jukebox' })) as KObject;
    assert.equal((got.spec!.predictor as { canaryTrafficPercent: number }).canaryTrafficPercent, 20);

    const created = (await api.createNamespacedCustomObject({ group: G, version: V, namespace: 'user1-test', plural: P, body: demo('c1') })) as KObject;
    assert.equal(created.metadata.generation, 1);
    const patched = (await api.patchNamespacedCustomObject(
      { group: G, version: V, namespace: 'user1-test', plural: P, name: 'c1', body: { spec: { predictor: { canaryTrafficPercent: 40 } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    )) as KObject;
    assert.equal(patched.metadata.generation, 2);
    assert.ok(Number(patched.metadata.resourceVersion) > Number(created.metadata.resourceVersion));

    const stale = { ...created, spec: { predictor: { canaryTrafficPercent: 5 } } };
    await assert.rejects(
      api.replaceNamespacedCustomObject({ group: G, version: V, namespace: 'user1-test', plural: P, name: 'c1', body: stale }),
      (e: unknown) => (e as { code?: number }).code === 409 && /the object has been modified/.test(String((e as { body?: string }).body)),
    );
    await assert.rejects(
      api.getNamespacedCustomObject({ group: G, version: V, namespace: 'user1-test', plural: P, name: 'nope' }),
      (e: unknown) => (e as { code?: number }).code === 404,
    );
    await api.deleteNamespacedCustomObject({ group: G, version: V, namespace: 'user1-test', plural: P, name: 'c1' });

    const invalid = async (body: object, pattern: RegExp) =>
      assert.rejects(api.createNamespacedCustomObject({ group: G, version: V, namespace: 'user1-test', plural: P, body }), (e: unknown) => {
        const status = JSON.parse(String((e as { body?: string }).body));
        return (e as { code?: number }).code === 422 && status.reason === 'Invalid' && pattern.test(status.message);
      });
    await invalid({ ...demo('x'), metadata: {} }, /metadata.name: Required value/);
    await invalid({ ...demo('x'), kind: 'Pod' }, /kind: Invalid value: "Pod"/);
    await invalid({ ...demo('Bad_Name') }, /metadata.name: Invalid value: "Bad_Name"/);
    await invalid({ ...demo('x'), spec: { predictor: { canaryTrafficPercent: 101 } } }, /less than or equal to 100/);
    await invalid({ ...demo('x'), spec: { predictor: { canaryTrafficPercent: 'ten' } } }, /must be of type integer/);
  });

  test('401 without the token, 403 for a forbidden namespace', async () => {
    const { k8s, kc } = await client(sb);
    const bad = new k8s.KubeConfig();
    bad.loadFromString(
      JSON.stringify({
        apiVersion: 'v1',
        clusters: [{ name: 's', cluster: { server: sb.server, 'certificate-authority-data': (kc.getCurrentCluster() as { caData?: string }).caData } }],
        users: [{ name: 'u', user: { token: 'wrong' } }],
        contexts: [{ name: 's', context: { cluster: 's', user: 'u' } }],
        'current-context': 's',
      }),
    );
    await assert.rejects(
      bad.makeApiClient(k8s.CustomObjectsApi).listClusterCustomObject({ group: G, version: V, plural: P }),
      (e: unknown) => (e as { code?: number }).code === 401,
    );
    sb.controller.forbid('user1-prod');
    try {
      const api = kc.makeApiClient(k8s.CustomObjectsApi);
      await assert.rejects(api.listNamespacedCustomObject({ group: G, version: V, namespace: 'user1-prod', plural: P }), (e: unknown) => {
        const body = JSON.parse(String((e as { body?: string }).body));
        return (
          (e as { code?: number }).code === 403 && body.reason === 'Forbidden' && /cannot list resource "inferenceservices".*"user1-prod"/.test(body.message)
        );
      });
      await api.listNamespacedCustomObject({ group: G, version: V, namespace: 'user1-test', plural: P });
      // no cluster-wide list either: RBAC cannot grant "all namespaces but one"
      await assert.rejects(api.listClusterCustomObject({ group: G, version: V, plural: P }), (e: unknown) => {
        const body = JSON.parse(String((e as { body?: string }).body));
        return (e as { code?: number }).code === 403 && /at the cluster scope/.test(body.message);
      });
    } finally {
      sb.controller.forbid('user1-prod', false);
    }
  });

  test('an informer sees ADDED, MODIFIED, DELETED and relists after 410 Gone', async () => {
    const { k8s, kc } = await client(sb);
    const api = kc.makeApiClient(k8s.CustomObjectsApi);
    const path = `/apis/${G}/${V}/namespaces/user1-test/${P}`;
    let lists = 0;
    const informer = k8s.makeInformer(kc, path, () => {
      lists++;
      return api.listNamespacedCustomObject({ group: G, version: V, namespace: 'user1-test', plural: P }) as never;
    });
    const events: string[] = [];
    informer.on('add', (o) => events.push(`add ${o.metadata?.name}`));
    informer.on('update', (o) => events.push(`update ${o.metadata?.name} ${o.metadata?.resourceVersion}`));
    informer.on('delete', (o) => events.push(`delete ${o.metadata?.name}`));
    const errors: unknown[] = [];
    informer.on('error', (e: unknown) => errors.push(e));
    await informer.start();
    try {
      await waitFor('initial add', () => events.includes('add jukebox'));
      await api.createNamespacedCustomObject({ group: G, version: V, namespace: 'user1-test', plural: P, body: demo('inf1') });
      await waitFor('add inf1', () => events.includes('add inf1'));
      await waitFor('status update of inf1', () => events.some((e) => e.startsWith('update inf1')));
      await api.deleteNamespacedCustomObject({ group: G, version: V, namespace: 'user1-test', plural: P, name: 'inf1' });
      await waitFor('delete inf1', () => events.includes('delete inf1'));

      // Compact history and cut the watch: the re-watch from the old version gets 410, so the informer relists.
      const before = lists;
      sb.faults.expireResourceVersions({ dropWatches: false });
      sb.faults.dropWatches();
      await waitFor('relist', () => lists > before);
      await api.createNamespacedCustomObject({ group: G, version: V, namespace: 'user1-test', plural: P, body: demo('inf2') });
      await waitFor('add inf2 after relist', () => events.includes('add inf2'));
      assert.deepEqual(errors, []);
      assert.ok(informer.list('user1-test').some((o) => o.metadata?.name === 'inf2'));
    } finally {
      await informer.stop();
    }
  });

  test('watch semantics: expired version gives an ERROR 410 event; bookmarks when asked; timeoutSeconds ends the stream', async () => {
    const { k8s, kc } = await client(sb);
    const watch = new k8s.Watch(kc);
    const path = `/apis/${G}/${V}/${P}`;
    sb.faults.expireResourceVersions();
    const seen: Array<{ type: string; obj: Record<string, unknown> }> = [];
    let done: unknown = 'pending';
    await watch.watch(
      path,
      { resourceVersion: '1' },
      (type, obj) => seen.push({ type, obj }),
      (err) => (done = err),
    );
    await waitFor('410 event and end', () => done !== 'pending' && seen.length > 0);
    assert.equal(seen[0]!.type, 'ERROR');
    assert.equal(seen[0]!.obj.code, 410);
    assert.equal(seen[0]!.obj.reason, 'Expired');

    const rv = (await kc.makeApiClient(k8s.CustomObjectsApi).listClusterCustomObject({ group: G, version: V, plural: P })) as {
      metadata: { resourceVersion: string };
    };
    const sb2 = await openSandbox({ bookmarkMs: 50, seed: true });
    try {
      const kc2 = new k8s.KubeConfig();
      kc2.loadFromFile(sb2.kubeconfigPath);
      const types: string[] = [];
      let ended = false;
      await new k8s.Watch(kc2).watch(
        path,
        { allowWatchBookmarks: true, timeoutSeconds: 1 },
        (type) => types.push(type),
        () => (ended = true),
      );
      await waitFor('bookmark', () => types.includes('BOOKMARK'));
      assert.equal(types.filter((t) => t === 'ADDED').length, 2, 'synthetic ADDED for existing objects');
      await waitFor('stream ended by timeoutSeconds', () => ended);
    } finally {
      await sb2.cleanup();
    }
    assert.ok(Number(rv.metadata.resourceVersion) > 1);
  });

  test('faults: 500 for a while, slow answers, restart keeps state and port', async () => {
    const { k8s, kc } = await client(sb);
    const api = kc.makeApiClient(k8s.CustomObjectsApi);
    sb.faults.failRequests(60);
    await assert.rejects(api.listClusterCustomObject({ group: G, version: V, plural: P }), (e: unknown) => (e as { code?: number }).code === 500);
    sb.faults.reset();
    await api.listClusterCustomObject({ group: G, version: V, plural: P });

    // a delayed answer still arrives, whole (how long it took against the delay: `npm run bench -- bounds`)
    sb.faults.setDelay(300);
    const slow = (await api.listClusterCustomObject({ group: G, version: V, plural: P })) as { items: KObject[] };
    assert.ok(slow.items.some((o) => o.metadata.name === 'jukebox'));
    sb.faults.setDelay(0);

    await api.patchNamespacedCustomObject(
      { group: G, version: V, namespace: 'user1-test', plural: P, name: 'jukebox', body: { metadata: { labels: { marker: 'kept' } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    const port = sb.port;
    await sb.restart();
    assert.equal(sb.port, port);
    const after = (await api.getNamespacedCustomObject({ group: G, version: V, namespace: 'user1-test', plural: P, name: 'jukebox' })) as KObject;
    assert.equal(after.metadata.labels?.marker, 'kept');
    const comps = (after.status as { components: { predictor: { latestReadyRevision: string } } }).components;
    assert.equal(comps.predictor.latestReadyRevision, 'jukebox-predictor-00002');
  });
});
