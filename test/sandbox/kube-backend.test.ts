/**
 * The `kube-apiserver` backend against the real server it starts: the pinned version, the
 * workshop's `oc get isvc` columns at 80/20 from the CRD's printer columns, the workshop user's
 * RBAC (403 outside its RoleBindings and cluster-wide), the product's store equal to the server's
 * truth through a rollout driven by the controllers, a 403 episode, and the CLI's --backend.
 */
// needs: kube-apiserver (scripts/test.mjs builds it with scripts/build-apiserver.mjs before the unit stage)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../src/cli/main';
import type { FollowStep } from '../../src/cluster/api';
import { git } from '../core/git-helpers';
import { memoryIO } from '../cluster/cli-io';
import { kubeCall, kubeRequest } from '../../src/sandbox/kube-backend-http';
import { episodeOver } from '../cluster/sandbox-helpers';
import { converged, kubectlOn, openKube, patchPercent, storeOn, until, type TestKube } from './kube-backend-helpers';

const PIN = /k8s\.io\/kubernetes (v\d+\.\d+\.\d+)/.exec(readFileSync(path.join(__dirname, '..', '..', 'tools', 'kube-apiserver', 'go.mod'), 'utf8'))![1]!;

describe('sandbox --backend kube-apiserver (a real kube-apiserver + etcd)', () => {
  let sb: TestKube;
  before(async () => {
    sb = await openKube();
  });
  after(async () => {
    await sb?.cleanup();
  });

  it(`kubectl version reports the pinned server ${PIN}`, async () => {
    const r = await kubectlOn(sb, ['version', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const v = JSON.parse(r.stdout) as { serverVersion: { gitVersion: string; major: string; minor: string } };
    assert.equal(v.serverVersion.gitVersion, PIN);
    assert.equal(`v${v.serverVersion.major}.${v.serverVersion.minor}`, PIN.replace(/\.\d+$/, ''));
  });

  it('kubectl get isvc -n user1-test prints the workshop columns with prev 80 / latest 20', async () => {
    const r = await kubectlOn(sb, ['get', 'isvc', '-n', 'user1-test']);
    assert.equal(r.code, 0, r.stderr);
    const [header, row, ...rest] = r.stdout.trimEnd().split('\n');
    assert.deepEqual(header!.trim().split(/\s+/), ['NAME', 'URL', 'READY', 'PREV', 'LATEST', 'PREVROLLEDOUTREVISION', 'LATESTREADYREVISION', 'AGE']);
    assert.deepEqual(rest, []);
    const cols = row!.trim().split(/\s+/);
    assert.deepEqual(cols.slice(0, 7), [
      'jukebox',
      'https://jukebox-user1-test.apps.sandbox.example',
      'True',
      '80',
      '20',
      'jukebox-predictor-00001',
      'jukebox-predictor-00002',
    ]);
    // the same columns come from the server's own Table for the CRD
    const t = await kubeRequest(sb.asUser(), 'GET', '/apis/serving.kserve.io/v1beta1/namespaces/user1-test/inferenceservices', undefined, {
      accept: 'application/json;as=Table;v=v1;g=meta.k8s.io',
    });
    const body = t.body as { kind: string; columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] };
    assert.equal(body.kind, 'Table');
    assert.deepEqual(
      body.columnDefinitions.map((c) => c.name),
      ['Name', 'URL', 'Ready', 'Prev', 'Latest', 'PrevRolledoutRevision', 'LatestReadyRevision', 'Age'],
    );
    assert.deepEqual(body.rows[0]!.cells.slice(3, 5), [80, 20]);
  });

  it('user1 gets 403 in a namespace without a RoleBinding and on cluster-wide lists; the admin does not', async () => {
    await kubeCall(sb.admin(), 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other-team' } }, [409]);
    const inOther = await kubectlOn(sb, ['get', 'isvc', '-n', 'other-team']);
    assert.notEqual(inOther.code, 0);
    assert.match(inOther.stderr, /Forbidden.*User "user1" cannot list resource "inferenceservices".*namespace "other-team"/);
    const all = await kubectlOn(sb, ['get', 'isvc', '-A']);
    assert.match(all.stderr, /Forbidden.*at the cluster scope/);
    const raw = await kubeRequest(sb.asUser(), 'GET', '/apis/argoproj.io/v1alpha1/applications');
    assert.equal(raw.status, 403);
    assert.equal((raw.body as { reason?: string }).reason, 'Forbidden');
    // view only in toolings: reads yes, writes no
    assert.equal((await kubeRequest(sb.asUser(), 'GET', '/apis/argoproj.io/v1alpha1/namespaces/user1-toolings/applications')).status, 200);
    assert.equal((await kubeRequest(sb.asUser(), 'DELETE', '/apis/argoproj.io/v1alpha1/namespaces/user1-toolings/applications/jukebox-test')).status, 403);
    assert.equal((await kubeRequest(sb.admin(), 'GET', '/apis/argoproj.io/v1alpha1/applications')).status, 200);
  });

  it("the product's store equals the server through a rollout the controllers drive, then through a 403 episode", async () => {
    const { store, log } = await storeOn(sb);
    try {
      await store.ready();
      await converged(sb, store);
      assert.equal(store.get('user1-test/jukebox')?.prevPercent, 80);
      assert.equal(log.problems().length, 0, log.problems().join('\n'));

      await patchPercent(sb, 'user1-test', 'jukebox', 50);
      await until(async () => {
        const o = (await kubeCall(sb.admin(), 'GET', '/apis/serving.kserve.io/v1beta1/namespaces/user1-test/inferenceservices/jukebox')).body as {
          status?: { observedGeneration?: number };
          metadata: { generation: number };
        };
        return o.status?.observedGeneration === o.metadata.generation;
      }, 'KServe (the controller, an API client) to catch up');
      await converged(sb, store);
      assert.equal(store.get('user1-test/jukebox')?.latestPercent, 50);

      // the binding in prod goes away: one forbidden problem naming the namespace, then back
      const episode = store.connection().episode ?? 0;
      const binding = '/apis/rbac.authorization.k8s.io/v1/namespaces/user1-prod/rolebindings/user1-kserve-canary-workshop-edit';
      const saved = (await kubeCall(sb.admin(), 'GET', binding)).body as Record<string, unknown> & { metadata: Record<string, unknown> };
      await kubeCall(sb.admin(), 'DELETE', binding);
      await store.refresh();
      const down = await until(() => (store.connection().problem?.kind === 'forbidden' ? store.connection().problem : undefined), 'a forbidden problem');
      assert.equal(down!.namespace, 'user1-prod');
      await kubeCall(sb.admin(), 'POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/user1-prod/rolebindings', {
        ...saved,
        metadata: { name: saved.metadata.name, namespace: 'user1-prod' },
      });
      await store.refresh();
      await until(() => store.connection().problem === undefined && episodeOver(log), 'the forbidden episode to end');
      await converged(sb, store);
      assert.equal(store.connection().episode, episode + 1);
      const lines = log.problems();
      assert.equal(lines.length, 1, lines.join('\n'));
      assert.match(lines[0]!, /user1-prod/);
    } finally {
      store.dispose();
    }
  });

  it("a follow as user1 (view in user1-toolings): the refresh is refused (403) once, then never sent; it waits for Argo CD's poll and goes live, no problem", async () => {
    const app = '/apis/argoproj.io/v1alpha1/namespaces/user1-toolings/applications/jukebox-test';
    const direct = await kubeRequest(
      sb.asUser(),
      'PATCH',
      app,
      { metadata: { annotations: { 'argocd.argoproj.io/refresh': 'normal' } } },
      { contentType: 'application/merge-patch+json' },
    );
    assert.equal(direct.status, 403);
    const { store, log } = await storeOn(sb);
    try {
      await store.ready();
      for (const percent of [60, 65]) {
        const r = memoryIO();
        sb.controllers.argo.paused = true;
        assert.equal(await main(['set', 'jukebox', String(percent), '--env', 'test', '--gitops', sb.gitopsClone], r.io), 0, r.err());
        await store.reloadDesired();
        const steps: FollowStep[] = [];
        const sha = git(sb.gitopsClone, ['rev-parse', 'HEAD']).trim();
        // Argo CD waits until the follow has said how it learns of the commit (else it may sync first)
        sb.controllers.argo.paused = true;
        const following = store.follow({ env: 'test', model: 'jukebox', sha, percent, timeoutMs: 60000, onStep: (st) => steps.push(st) });
        try {
          await until(() => steps.some((st) => st.step === 'refresh'), 'the refresh step');
        } finally {
          sb.controllers.argo.paused = false;
        }
        const live = await following;
        assert.equal(live.latestPercent, percent);
        assert.deepEqual(
          steps.map((st) => st.step),
          ['pushed', 'refresh', 'synced', 'rolled-out'],
        );
        assert.deepEqual(
          [steps[1]!.message, steps[1]!.waiting],
          ["Waiting for Argo CD's own poll of git (up to 3 min by default): no right to refresh jukebox-test", true],
        );
      }
      const refused = log.lines.filter((l) => /Not allowed to patch Applications in user1-toolings/.test(l.message));
      assert.equal(refused.length, 1, 'the right is learnt once per connection');
      assert.deepEqual(log.problems(), []);
      const annotations = ((await kubeCall(sb.admin(), 'GET', app)).body as { metadata: { annotations?: Record<string, string> } }).metadata.annotations ?? {};
      assert.equal(annotations['argocd.argoproj.io/refresh'], undefined);
    } finally {
      sb.controllers.argo.paused = false;
      store.dispose();
    }
  });

  it('sandbox --help names both backends; an unknown --backend is refused before anything starts', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = {
      stdout: (t: string) => void out.push(t),
      stderr: (t: string) => void err.push(t),
      cwd: sb.dir,
      env: {},
      signal: new AbortController().signal,
      isTTY: false,
    };
    assert.equal(await main(['sandbox', '--help'], io), 0);
    assert.match(out.join(''), /--backend B\s+embedded \(default\)[\s\S]*kube-apiserver: a real Kubernetes API server/);
    const code = await main(['sandbox', '--backend', 'kind'], io);
    assert.notEqual(code, 0);
    assert.match(err.join(''), /--backend must be embedded or kube-apiserver, got "kind"/);
  });
});
