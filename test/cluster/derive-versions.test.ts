/**
 * The verdict rules of src/cluster/derive.ts on real-shaped objects (test/cluster/fixtures), for
 * every KServe version and mode and both Argo CD source layouts: the pure derivation. The same
 * rules through the real client against the sandbox: sandbox-verdicts.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deriveService, normaliseRepoUrl, observeApplication, observeInferenceService, resolveApplication } from '../../src/cluster/derive';
import type { DesiredState } from '../../src/cluster/types';
import * as K from './fixtures/kserve-status';
import * as A from './fixtures/argo-application';
import { application, SHA_A, SHA_B } from './builders';

const isvc = (status: K.Status | undefined, o: { percent?: number; generation?: number; annotation?: string } = {}) => ({
  apiVersion: 'serving.kserve.io/v1beta1',
  kind: 'InferenceService',
  metadata: {
    name: 'jukebox',
    namespace: 'user1-test',
    generation: o.generation ?? 4,
    resourceVersion: '9',
    ...(o.annotation ? { annotations: { 'serving.kserve.io/deploymentMode': o.annotation } } : {}),
  },
  spec: { predictor: { model: { modelFormat: { name: 'onnx' } }, ...(o.percent !== undefined ? { canaryTrafficPercent: o.percent } : {}) } },
  ...(status ? { status } : {}),
});
const want = (percent: number | undefined, remote?: string): DesiredState => ({ percent, version: 'v1', commit: SHA_A, ...(remote ? { remote } : {}) });
const synced = observeApplication(application());
const verdict = (o: unknown, d: DesiredState | undefined = want(20), app = synced) =>
  deriveService(o, { env: 'test', application: app, ...(d ? { desired: d } : {}) });

for (const [dialect, knative, standard] of [
  ['legacy', 'Serverless', 'RawDeployment'],
  ['current', 'Knative', 'Standard'],
] as const) {
  describe(`modes, ${dialect} dialect (${knative} / ${standard})`, () => {
    it(`${knative} splits: live; spelled in any case, from status or annotation`, () => {
      for (const mode of [knative, knative.toLowerCase(), knative.toUpperCase()]) {
        const s = verdict(isvc(K.knativeSettled({ mode }, 20), { percent: 20 }));
        assert.equal(s.verdict, 'live', s.verdictReason);
        assert.equal(s.deploymentMode, mode);
        assert.equal(s.canarySupported, true);
      }
      assert.equal(verdict(isvc(K.knativeSettled({}, 20), { percent: 20, annotation: knative.toLowerCase() })).canarySupported, true);
    });
    it(`${standard} ignores the canary: unsupported, named as the cluster spells it`, () => {
      const s = verdict(isvc(K.standardReady({ mode: standard }), { percent: 20 }));
      assert.equal(s.verdict, 'unsupported');
      assert.equal(s.deploymentMode, standard);
      assert.equal(s.verdictReason, `${standard} mode ignores canaryTrafficPercent: all traffic goes to the latest deployment (canary needs ${knative} mode).`);
      const lower = verdict(isvc(K.standardReady({}), { percent: 20, annotation: standard.toLowerCase() }));
      assert.equal(lower.verdict, 'unsupported');
      assert.equal(verdict(isvc(K.standardReady({ mode: standard })), want(undefined)).verdict, 'live', 'no canary asked: nothing to ignore');
    });
  });
}

describe('modes: ModelMesh, and KServe that writes no mode', () => {
  it('ModelMesh never splits', () => {
    const s = verdict(isvc(K.modelMesh({ mode: 'ModelMesh' }, 'loaded'), { percent: 20 }));
    assert.equal(s.verdict, 'unsupported');
    assert.match(s.verdictReason, /^ModelMesh mode ignores canaryTrafficPercent/);
  });
  it('before 0.14 (no status.deploymentMode, no annotation): a Knative-shaped status is Serverless', () => {
    const s = verdict(isvc(K.knativeSettled({}, 20), { percent: 20 }));
    assert.equal(s.deploymentMode, 'Serverless');
    assert.equal(s.verdict, 'live');
  });
});

describe('Ready Unknown', () => {
  it('nothing serves (first revision pending): not ready with the condition reason and message', () => {
    const s = verdict(isvc(K.knativeFirstRevisionPending({ mode: 'Knative' }), { percent: 20 }));
    assert.equal(s.verdict, 'not-ready');
    assert.equal(
      s.verdictReason,
      'Not ready, nothing serves yet: RevisionMissing: Configuration "jukebox-predictor" is waiting for a Revision to become ready.',
    );
  });
  it('a rollout while the previous revision serves: syncing, no red flash', () => {
    const s = verdict(isvc(K.knativeRollingOut({ mode: 'Serverless', observedGeneration: 4 }, 20), { percent: 20 }));
    assert.equal(s.verdict, 'syncing', s.verdictReason);
    assert.equal(s.rollingOut, true);
    assert.match(
      s.verdictReason,
      /Ready is Unknown \(RevisionMissing: Revision "jukebox-predictor-00003" is not ready yet\.\) while jukebox-predictor-00002 still serves/,
    );
  });
});

describe('generations', () => {
  it('KServe before 0.10 writes no observedGeneration: a settled status is live, not rolling out', () => {
    const s = verdict(isvc(K.knativeSettled({}, 20), { percent: 20, generation: 7 }));
    assert.equal(s.observedGeneration, undefined);
    assert.equal(s.rollingOut, false);
    assert.equal(s.verdict, 'live');
  });
  it("observedGeneration is the Knative Service's (or the last component's): a gap means nothing by itself", () => {
    const s = verdict(isvc(K.knativeSettled({ mode: 'Knative', observedGeneration: 2 }, 20), { percent: 20, generation: 9 }));
    assert.equal(s.rollingOut, false);
    assert.equal(s.verdict, 'live');
  });
  it('with a transformer, observedGeneration is whichever component was written last: still not judged', () => {
    const st = K.knativeSettled({ mode: 'Knative', observedGeneration: 1 }, 20);
    (st.components as Record<string, unknown>).transformer = {
      latestCreatedRevision: 'jukebox-transformer-00001',
      latestReadyRevision: 'jukebox-transformer-00001',
      traffic: [{ revisionName: 'jukebox-transformer-00001', latestRevision: true, percent: 100 }],
    };
    (st.conditions as Record<string, unknown>[]).push({ type: 'TransformerReady', status: 'True' }, { type: 'TransformerRouteReady', status: 'True' });
    const s = verdict(isvc(st, { percent: 20, generation: 6 }));
    assert.equal(s.verdict, 'live', s.verdictReason);
    (st.conditions as Record<string, unknown>[]).push({
      type: 'TransformerConfigurationReady',
      status: 'False',
      reason: 'RevisionFailed',
      message: 'Revision "jukebox-transformer-00002" failed with message: OOMKilled.',
    });
    const f = verdict(isvc(st, { percent: 20, generation: 6 }));
    assert.equal(f.verdict, 'not-ready');
    assert.equal(f.verdictReason, 'A new revision failed (the previous one still serves): Revision "jukebox-transformer-00002" failed: OOMKilled.');
  });
  it('the status decides instead: the applied spec not yet in the traffic is rolling out', () => {
    const s = verdict(isvc(K.knativeSettled({ mode: 'Knative', observedGeneration: 9 }, 20), { percent: 50, generation: 9 }), want(50));
    assert.equal(s.verdict, 'syncing');
    assert.match(s.verdictReason, /rolling out generation 9: the applied spec asks for prev 50% · latest 50%, the traffic is prev 80% · latest 20%/);
  });
});

describe('failures explain themselves', () => {
  it('a new revision that failed: its own message, traffic stays', () => {
    const s = verdict(isvc(K.knativeNewRevisionFailed({ mode: 'Knative' }, 20, 'Back-off pulling image "quay.example/jukebox:bad"'), { percent: 20 }));
    assert.equal(s.verdict, 'not-ready');
    assert.equal(
      s.verdictReason,
      'New revision jukebox-predictor-00003 is not ready (traffic stays on jukebox-predictor-00002): Revision "jukebox-predictor-00003" failed: Back-off pulling image "quay.example/jukebox:bad".',
    );
  });
  it('an empty Knative message falls back to the model failure; Ready adds what it says', () => {
    const s = verdict(isvc(K.knativeOnlyRevisionFailed({}, 'container exited with code 137')));
    assert.equal(s.verdict, 'not-ready');
    assert.equal(
      s.verdictReason,
      'Not ready: Revision "jukebox-predictor-00002" failed: ModelLoadFailed: container exited with code 137 (Ready: RevisionMissing: Configuration "jukebox-predictor" does not have any ready Revision.)',
    );
    assert.match(verdict(isvc(K.knativeOnlyRevisionFailed({}, undefined))).verdictReason, /failed: no message \(Ready: RevisionMissing/);
  });
  it('ModelMesh BlockedByFailedLoad while the previous model serves (Ready True): not ready, lastFailureInfo says why', () => {
    const s = verdict(isvc(K.modelMesh({ mode: 'ModelMesh' }, 'blocked', 'Failed to load model: s3 object not found')), want(undefined));
    assert.equal(s.ready, true);
    assert.equal(s.verdict, 'not-ready');
    assert.equal(
      s.verdictReason,
      'The new model is not served (the previous one still is): the model failed to load (BlockedByFailedLoad): ModelLoadFailed: Failed to load model: s3 object not found.',
    );
  });
  it('ModelMesh InvalidSpec, and loading with nothing served yet', () => {
    const inv = verdict(isvc(K.modelMesh({ mode: 'ModelMesh' }, 'invalid', 'predictor type onnx is not supported')), want(undefined));
    assert.equal(inv.verdict, 'not-ready');
    assert.match(inv.verdictReason, /^Not ready: the predictor spec is invalid \(InvalidSpec\): InvalidPredictorSpec: predictor type onnx is not supported/);
    const loading = verdict(isvc(K.modelMesh({ mode: 'ModelMesh' }, 'loading')), want(undefined));
    assert.equal(loading.verdict, 'not-ready');
    assert.equal(loading.verdictReason, 'Not ready: the model is not loaded yet (InProgress, target Loading).');
  });
  it('a lastFailureInfo left over while UpToDate is history: live', () => {
    const st = K.standardReady({ mode: 'Standard' });
    (st.modelStatus as Record<string, unknown>).lastFailureInfo = { reason: 'ModelLoadFailed', exitCode: 137 };
    assert.equal(verdict(isvc(st), want(undefined)).verdict, 'live');
  });
  it('stopped (serving.kserve.io/stop): not ready', () => {
    const s = verdict(isvc(K.stopped({ mode: 'Standard' })), want(undefined));
    assert.equal(s.verdict, 'not-ready');
    assert.match(s.verdictReason, /^Stopped/);
  });
});

describe('Argo CD', () => {
  const repo = 'https://git.example.com/user1/mlops-gitops.git';
  it('sync Unknown after a ComparisonError: unknown with the condition, never drift', () => {
    const msg =
      'Failed to load target state: failed to generate manifest for source 1 of 1: rpc error: code = Unknown desc = dial tcp: lookup git.example.com: no such host';
    const app = observeApplication(A.comparisonError({}, repo, msg));
    assert.equal(app.syncStatus, 'Unknown');
    const s = verdict(isvc(K.knativeSettled({ mode: 'Knative' }, 70), { percent: 70 }), want(20), app);
    assert.equal(s.verdict, 'unknown');
    assert.equal(
      s.verdictReason,
      `Argo CD cannot compare jukebox-test with git (sync status Unknown; ComparisonError: ${msg}); the cluster serves prev 30% · latest 70%, git asks for prev 80% · latest 20%.`,
    );
    const missing = deriveService(undefined, { env: 'test', namespace: 'user1-test', name: 'jukebox', application: app, desired: want(20) });
    assert.equal(missing.verdict, 'unknown');
  });
  it('no status.sync yet: unknown', () => {
    const s = verdict(isvc(K.knativeSettled({}, 20), { percent: 20 }), want(20), observeApplication(A.notComparedYet({}, repo)));
    assert.equal(s.verdict, 'unknown');
    assert.match(s.verdictReason, /no sync status; it reports no condition/);
  });
  it('multi-source: the revision of the source that is the checkout remote, never revisions[0]', () => {
    const app = observeApplication(A.multiSource({}, 'git@git.example.com:user1/mlops-gitops.git', { chart: SHA_B, gitops: SHA_A }));
    const s = verdict(isvc(K.knativeSettled({}, 20), { percent: 20 }), want(20, repo), app);
    assert.equal(s.application?.revision, SHA_A);
    assert.equal(s.application?.trackedSource, 1);
    assert.equal(s.verdict, 'live');
    const behind = observeApplication(A.multiSource({}, 'ssh://git@git.example.com/user1/mlops-gitops', { chart: SHA_A, gitops: SHA_B }));
    const b = verdict(isvc(K.knativeSettled({}, 50), { percent: 50 }), want(20, repo), behind);
    assert.equal(b.verdict, 'syncing', 'gitops source behind git, whatever revisions[0] says');
    assert.match(b.verdictReason, /Argo CD is at bbbbbbb, git at aaaaaaa/);
    const none = resolveApplication(app, 'https://elsewhere.example/x.git');
    assert.equal(none.revision, undefined);
    assert.equal(none.trackedSource, -1);
  });
  it('repo URLs: https, ssh and scp forms, credentials, ports, .git and case of the host', () => {
    const same = [
      'https://GitHub.com/org/repo.git',
      'https://user:tok@github.com/org/repo',
      'git@github.com:org/repo.git',
      'ssh://git@github.com:22/org/repo.git',
      'http://github.com/org/repo/',
    ];
    for (const u of same) assert.equal(normaliseRepoUrl(u), 'github.com/org/repo', u);
    assert.notEqual(normaliseRepoUrl('https://github.com/org/Repo'), normaliseRepoUrl('https://github.com/org/repo'));
    assert.equal(normaliseRepoUrl('/tmp/x/gitops.git'), normaliseRepoUrl('file:///tmp/x/gitops.git'));
    assert.equal(normaliseRepoUrl('C:\\repos\\gitops'), 'C:\\repos\\gitops');
  });
});

describe('every fixture survives observation', () => {
  it('no throw, a reason ending a sentence', () => {
    const all = [
      K.knativeSettled({}, 20),
      K.knativeRollingOut({}, 20),
      K.knativeFirstRevisionPending({}),
      K.knativeNewRevisionFailed({}, 20, 'x'),
      K.knativeOnlyRevisionFailed({}, 'y'),
      K.standardReady({}),
      K.stopped({}),
      K.modelMesh({}, 'blocked', 'z'),
    ];
    for (const st of all) {
      assert.doesNotThrow(() => observeInferenceService(isvc(st)));
      assert.ok(verdict(isvc(st)).verdictReason.length > 10);
    }
  });
});
