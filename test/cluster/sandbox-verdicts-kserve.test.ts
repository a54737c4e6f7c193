/**
 * The KServe verdict rules of src/cluster/derive.ts through the real client against the
 * sandbox, on both KServe dialects: the sandbox's own KServe controller for the modes and
 * ModelMesh, then (controller stopped, Argo CD paused) real-shaped statuses
 * (fixtures/kserve-status.ts) written through the /status subresource.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ServiceState } from '../../src/cluster/types';
import { INFERENCE_SERVICES } from '../../src/sandbox/resources';
import * as K from './fixtures/kserve-status';
import { kubeWriter, recordVerdicts, waitForState, type KubeWriter } from './sandbox-kube-writer';
import { sandboxAndStore } from './sandbox-helpers';

const NS = 'user1-test';
const KEY = `${NS}/jukebox`;

for (const [dialect, knative, standard, other] of [
  ['legacy', 'Serverless', 'RawDeployment', 'standard'],
  ['current', 'Knative', 'Standard', 'rawdeployment'],
] as const) {
  describe(`KServe verdicts against the sandbox, ${dialect} dialect (${knative} / ${standard})`, () => {
    let ctx: Awaited<ReturnType<typeof sandboxAndStore>>;
    let kube: KubeWriter;
    const waitFor = (pred: (s: ServiceState) => boolean, what: string) => waitForState(ctx.store, KEY, pred, what);
    const wrote = async (status: K.Status, pred: (s: ServiceState) => boolean, what: string) => {
      await kube.isvcStatus(NS, 'jukebox', status);
      return waitFor(pred, what);
    };

    before(async () => {
      ctx = await sandboxAndStore({ kserveDialect: dialect });
      await ctx.store.ready();
      kube = await kubeWriter(ctx.sb);
    });
    after(async () => ctx?.close());

    it(`status.deploymentMode is ${knative}; the annotation in the other spelling, lower case, is understood`, async () => {
      const live = await waitFor((s) => s.verdict === 'live', 'live');
      assert.equal(live.deploymentMode, knative);
      assert.equal(ctx.sb.controller.store.mustGet(INFERENCE_SERVICES, NS, 'jukebox').status?.deploymentMode, knative);
      ctx.sb.controller.setDeploymentMode(NS, 'jukebox', other);
      const s = await waitFor((x) => x.verdict === 'unsupported', 'unsupported');
      assert.equal(s.deploymentMode, standard);
      assert.equal(s.verdictReason, `${standard} mode ignores canaryTrafficPercent: all traffic goes to the latest deployment (canary needs ${knative} mode).`);
      ctx.sb.controller.setDeploymentMode(NS, 'jukebox', knative.toUpperCase());
      assert.equal((await waitFor((x) => x.verdict === 'live', 'live again')).deploymentMode, knative);
    });

    it('ModelMesh: a new model that fails to load is not ready, explained by lastFailureInfo, while the old one serves', async () => {
      ctx.sb.controller.setDeploymentMode(NS, 'jukebox', 'ModelMesh');
      assert.match((await waitFor((x) => x.verdict === 'unsupported', 'unsupported')).verdictReason, /^ModelMesh mode ignores/);
      ctx.sb.controller.pauseArgo(true);
      ctx.sb.controller.failRevision(NS, 'jukebox', 'failed to fetch s3://models/jukebox/bad: NoSuchKey');
      await kube.patchIsvc(NS, 'jukebox', { spec: { predictor: { model: { storageUri: 'oci://example.invalid/jukebox:bad' } } } });
      const s = await waitFor((x) => x.verdict === 'not-ready', 'not ready');
      assert.equal(s.ready, true, 'the loaded model still serves');
      assert.equal(
        s.verdictReason,
        'The new model is not served (the previous one still is): the model failed to load (BlockedByFailedLoad): ModelLoadFailed: failed to fetch s3://models/jukebox/bad: NoSuchKey.',
      );
      ctx.sb.controller.healRevision(NS, 'jukebox');
      ctx.sb.controller.setDeploymentMode(NS, 'jukebox', undefined);
      ctx.sb.controller.pauseArgo(false);
      await ctx.sb.controller.argo.refresh('jukebox-test');
      await waitFor((x) => x.verdict === 'live' && x.deploymentMode === knative, 'live again');
    });

    describe('real-shaped statuses written through /status (KServe controller stopped)', () => {
      before(async () => {
        ctx.sb.controller.pauseArgo(true);
        ctx.sb.controller.kserve.stop();
        await wrote(K.knativeSettled({ mode: knative, observedGeneration: 1 }, 20), (s) => s.verdict === 'live', 'live on a written status');
      });

      it('Ready Unknown while nothing serves: not ready with the condition reason and message', async () => {
        const s = await wrote(K.knativeFirstRevisionPending({ mode: knative }), (x) => x.verdict === 'not-ready', 'not ready');
        assert.equal(
          s.verdictReason,
          'Not ready, nothing serves yet: RevisionMissing: Configuration "jukebox-predictor" is waiting for a Revision to become ready.',
        );
      });

      it('a rollout with Ready Unknown while the previous revision serves: syncing, never a red flash', async () => {
        await wrote(K.knativeSettled({ mode: knative }, 20), (s) => s.verdict === 'live', 'live');
        const rec = recordVerdicts(ctx.store, KEY);
        try {
          await kube.patchIsvc(NS, 'jukebox', { spec: { predictor: { model: { storageUri: 'oci://example.invalid/jukebox:v3' } } } });
          const s = await wrote(K.knativeRollingOut({ mode: knative }, 20), (x) => x.verdict === 'syncing', 'syncing');
          assert.match(
            s.verdictReason,
            /^KServe is rolling out generation \d+: Ready is Unknown \(RevisionMissing: .*\) while jukebox-predictor-00002 still serves\.$/,
          );
          await wrote(K.knativeSettled({ mode: knative }, 20), (x) => x.verdict === 'live', 'live after the rollout');
        } finally {
          rec.stop();
        }
        // the spec change alone says nothing yet (still live); then syncing, then live: no not-ready
        assert.deepEqual(
          rec.seen.filter((v, i) => i > 0 || v !== 'live'),
          ['syncing', 'live'],
          rec.seen.join(' → '),
        );
      });

      it("no observedGeneration (KServe before 0.10), or the Knative Service's: live, not rolling out forever", async () => {
        await kube.patchIsvc(NS, 'jukebox', { spec: { predictor: { minReplicas: 1 } } });
        const s = await wrote(K.knativeSettled({ mode: knative }, 20), (x) => x.verdict === 'live' && (x.generation ?? 0) > 1, 'live');
        assert.equal(s.observedGeneration, undefined);
        assert.equal(s.rollingOut, false);
        const t = await wrote(K.knativeSettled({ mode: knative, observedGeneration: 1 }, 20), (x) => x.observedGeneration === 1, 'observedGeneration 1');
        assert.ok((t.generation ?? 0) > 1);
        assert.equal(t.verdict, 'live', t.verdictReason);
      });

      it('the applied spec not yet in the traffic is rolling out (decided from the status)', async () => {
        await kube.patchIsvc(NS, 'jukebox', { spec: { predictor: { canaryTrafficPercent: 50 } } });
        const s = await waitFor((x) => x.specPercent === 50, 'spec 50');
        assert.equal(s.verdict, 'syncing');
        assert.match(s.verdictReason, /the applied spec asks for prev 50% · latest 50%, the traffic is prev 80% · latest 20%/);
        await kube.patchIsvc(NS, 'jukebox', { spec: { predictor: { canaryTrafficPercent: 20 } } });
        await waitFor((x) => x.verdict === 'live', 'live');
      });

      it("a failing revision: the revision's own message", async () => {
        const s = await wrote(
          K.knativeNewRevisionFailed({ mode: knative }, 20, 'Back-off pulling image "quay.example/jukebox:bad"'),
          (x) => x.verdict === 'not-ready',
          'not ready',
        );
        assert.equal(
          s.verdictReason,
          'New revision jukebox-predictor-00003 is not ready (traffic stays on jukebox-predictor-00002): Revision "jukebox-predictor-00003" failed: Back-off pulling image "quay.example/jukebox:bad".',
        );
        const only = await wrote(
          K.knativeOnlyRevisionFailed({ mode: knative }, 'container exited with code 137'),
          (x) => /code 137/.test(x.verdictReason),
          'only revision failed',
        );
        assert.equal(only.verdict, 'not-ready');
        assert.match(
          only.verdictReason,
          /^Not ready: Revision "jukebox-predictor-00002" failed: ModelLoadFailed: container exited with code 137 \(Ready: RevisionMissing: /,
        );
      });

      it('ModelMesh statuses: InvalidSpec and loading are not ready; Standard in this dialect is unsupported', async () => {
        const inv = await wrote(
          K.modelMesh({ mode: 'ModelMesh' }, 'invalid', 'predictor type onnx is not supported'),
          (x) => x.deploymentMode === 'ModelMesh' && x.verdict === 'not-ready',
          'invalid',
        );
        assert.match(inv.verdictReason, /the predictor spec is invalid \(InvalidSpec\): InvalidPredictorSpec: predictor type onnx is not supported/);
        const loading = await wrote(K.modelMesh({ mode: 'ModelMesh' }, 'loading'), (x) => /InProgress/.test(x.verdictReason), 'loading');
        assert.equal(loading.verdict, 'not-ready');
        const raw = await wrote(K.standardReady({ mode: standard }), (x) => x.verdict === 'unsupported', 'unsupported');
        assert.match(raw.verdictReason, new RegExp(`^${standard} mode ignores canaryTrafficPercent.*canary needs ${knative} mode`));
      });
    });
  });
}
