/**
 * Running inside a pod: no kubeconfig anywhere, KUBERNETES_SERVICE_HOST/PORT pointing at the
 * sandbox and a service-account folder (token, ca.crt, namespace) — a fake one here, named by
 * KSC_SERVICE_ACCOUNT_DIR in the environment the store is given. The store connects with the
 * service account, takes user and environment from the pod's namespace, converges, and follows
 * a rotated token file (the store watches it like a kubeconfig).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createClusterStore } from '../../src/cluster/index';
import { findKubeconfig, loadKubeconfig } from '../../src/cluster/kubeconfig';
import { converged, recordingLog, sandboxAndStore, TEST_TUNING, until } from './sandbox-helpers';

describe('in-cluster service account', () => {
  let ctx: Awaited<ReturnType<typeof sandboxAndStore>>;
  let sa: string;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    ctx = await sandboxAndStore();
    await ctx.store.ready();
    sa = fs.mkdtempSync(path.join(ctx.sb.dir, 'serviceaccount-'));
    fs.copyFileSync(ctx.sb.tokenFile, path.join(sa, 'token'));
    fs.copyFileSync(ctx.sb.caFile, path.join(sa, 'ca.crt'));
    fs.writeFileSync(path.join(sa, 'namespace'), 'user1-test\n');
    const url = new URL(ctx.sb.server);
    // what a pod sees: no HOME with a kubeconfig, no KUBECONFIG
    env = { HOME: path.join(sa, 'no-home'), KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port, KSC_SERVICE_ACCOUNT_DIR: sa };
  });
  after(async () => ctx?.close());

  it('found and loaded from the service-account folder and KUBERNETES_SERVICE_HOST/PORT', async () => {
    const source = findKubeconfig(undefined, env);
    assert.deepEqual(source, { kind: 'in-cluster', files: [path.join(sa, 'token')], serviceAccountDir: sa, server: ctx.sb.server });
    const kc = await loadKubeconfig(source!, undefined);
    assert.equal(kc.getCurrentCluster()?.server, ctx.sb.server);
    assert.equal(kc.getContextObject(kc.getCurrentContext())?.namespace, 'user1-test');
  });

  it("the store connects with it, maps the pod's namespace to user1 / test, converges", async () => {
    const log = recordingLog();
    const store = await createClusterStore({ settings: {}, gitops: { root: ctx.sb.gitopsClone }, log, env, tuning: TEST_TUNING });
    try {
      await store.ready();
      assert.equal(store.connection().phase, 'connected', JSON.stringify(store.connection()));
      assert.deepEqual(
        store
          .environments()
          .map((e) => e.namespace)
          .sort(),
        ['user1-prod', 'user1-test'],
      );
      await converged(ctx.sb, store);
      assert.equal(store.get('user1-test/jukebox')?.verdict, 'live');
      assert.deepEqual(log.problems(), []);
    } finally {
      store.dispose();
    }
  });

  it('a rotated token (the kubelet rewrites the file) is picked up without a restart', async () => {
    const log = recordingLog();
    const store = await createClusterStore({ settings: {}, gitops: { root: ctx.sb.gitopsClone }, log, env, tuning: TEST_TUNING });
    try {
      await store.ready();
      await converged(ctx.sb, store);
      ctx.sb.faults.rotateToken({ rewriteKubeconfig: false });
      ctx.sb.faults.dropWatches();
      await until(() => store.connection().problem?.kind === 'unauthorized', 'the old token refused');
      fs.copyFileSync(ctx.sb.tokenFile, path.join(sa, 'token.new'));
      fs.renameSync(path.join(sa, 'token.new'), path.join(sa, 'token'));
      await until(() => store.connection().phase === 'connected' && store.connection().problem === undefined, 'connected with the new token', 60000);
      await converged(ctx.sb, store);
    } finally {
      store.dispose();
    }
  });
});
