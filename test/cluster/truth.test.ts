/**
 * The cluster tests' truth (isvcTruth / applicationTruth in converge.ts) checked against
 * sources outside the product: literal expected values for hand-written objects of each
 * domain.md §3 case, and kubectl's own JSONPath evaluation of the CRD's printer columns on
 * every InferenceService of a sandbox.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { INFERENCE_SERVICES } from '../../src/sandbox/resources';
import { kubectl, openSandbox, type TestSandbox } from '../sandbox/helpers';
import { applicationTruth, isvcTruth } from './converge';

const isvc = (status: Record<string, unknown>, spec: Record<string, unknown> = {}, annotations: Record<string, string> = {}) => ({
  metadata: { name: 'm', namespace: 'ns', generation: 3, annotations },
  spec: { predictor: spec },
  status,
});
const traffic = (t: unknown[]) => ({ components: { predictor: { traffic: t, latestCreatedRevision: 'm-2' } } });

describe("the cluster tests' truth, read from the raw objects", () => {
  it('a split, 100 % latest, a rollback to 0 and no status, as domain.md §3 reads them', () => {
    const split = isvc(
      {
        url: 'https://m',
        observedGeneration: 3,
        conditions: [
          { type: 'PredictorReady', status: 'False' },
          { type: 'Ready', status: 'True' },
        ],
        ...traffic([
          { latestRevision: true, revisionName: 'm-2', percent: 20 },
          { tag: 'prev', revisionName: 'm-1', percent: 80, latestRevision: false },
        ]),
      },
      { canaryTrafficPercent: 20 },
    );
    assert.deepEqual(isvcTruth(split), {
      key: 'ns/m',
      creationTimestamp: undefined,
      url: 'https://m',
      ready: true,
      prevPercent: 80,
      latestPercent: 20,
      prevRevision: 'm-1',
      latestRevision: 'm-2',
      traffic: [
        { revisionName: 'm-2', percent: 20, tag: undefined, latestRevision: true, url: undefined },
        { revisionName: 'm-1', percent: 80, tag: 'prev', latestRevision: false, url: undefined },
      ],
      specPercent: 20,
      generation: 3,
      observedGeneration: 3,
      deploymentMode: 'Serverless',
      latestCreatedRevision: 'm-2',
      latestReadyRevision: undefined,
      newRevisionNotReady: true,
      latestRolledoutRevision: undefined,
      previousRolledoutRevision: undefined,
    });
    const full = isvcTruth(
      isvc({
        conditions: [{ type: 'Ready', status: 'False' }],
        deploymentMode: 'Knative',
        ...traffic([{ latestRevision: true, revisionName: 'm-2', percent: 100 }]),
      }),
    );
    assert.deepEqual(
      [full.ready, full.prevPercent, full.prevRevision, full.latestPercent, full.specPercent, full.deploymentMode],
      [false, undefined, undefined, 100, undefined, 'Knative'],
    );
    const back = isvcTruth(
      isvc(
        traffic([
          { latestRevision: true, revisionName: 'm-2', percent: 0 },
          { tag: 'prev', revisionName: 'm-1', percent: 100 },
        ]),
        { canaryTrafficPercent: 0 },
      ),
    );
    assert.deepEqual([back.prevPercent, back.latestPercent, back.specPercent, back.ready], [100, 0, 0, undefined]);
    const none = isvcTruth(isvc({}, {}, { 'serving.kserve.io/deploymentMode': 'RawDeployment' }));
    assert.deepEqual(
      [none.url, none.ready, none.latestPercent, none.observedGeneration, none.deploymentMode],
      [undefined, undefined, undefined, undefined, 'RawDeployment'],
    );
  });

  it('an Application: sync, health, operation; the first of revisions[] for a multi-source one', () => {
    const app = {
      metadata: { name: 'a', namespace: 't' },
      status: {
        sync: { status: 'OutOfSync', revisions: ['abc', 'def'] },
        health: { status: 'Degraded', message: 'boom' },
        operationState: { phase: 'Failed', message: 'no' },
      },
    };
    assert.deepEqual(applicationTruth(app), {
      name: 'a',
      namespace: 't',
      syncStatus: 'OutOfSync',
      revision: 'abc',
      healthStatus: 'Degraded',
      healthMessage: 'boom',
      operationPhase: 'Failed',
      operationMessage: 'no',
    });
    assert.equal(applicationTruth({ status: { sync: { revision: 'f00', revisions: ['abc'] } } }).revision, 'f00');
  });

  describe("agrees with kubectl's printer columns on a sandbox", () => {
    let sb: TestSandbox;
    before(async () => {
      sb = await openSandbox();
    });
    after(async () => sb?.cleanup());

    it('every InferenceService: URL, READY, PREV, LATEST, PREVROLLEDOUTREVISION, LATESTREADYREVISION', async () => {
      const cols = [
        'NS:.metadata.namespace',
        'NAME:.metadata.name',
        'URL:.status.url',
        "READY:.status.conditions[?(@.type=='Ready')].status",
        "PREV:.status.components.predictor.traffic[?(@.tag=='prev')].percent",
        'LATEST:.status.components.predictor.traffic[?(@.latestRevision==true)].percent',
        "PREVREV:.status.components.predictor.traffic[?(@.tag=='prev')].revisionName",
        'LATESTREV:.status.components.predictor.traffic[?(@.latestRevision==true)].revisionName',
      ];
      const r = await kubectl(sb, ['get', 'isvc', '-A', '--no-headers', '-o', `custom-columns=${cols.join(',')}`]);
      assert.equal(r.code, 0, r.stderr);
      const rows = r.stdout
        .trim()
        .split('\n')
        .map((l) =>
          l
            .trim()
            .split(/\s+/)
            .map((c) => (c === '<none>' ? undefined : c)),
        );
      assert.ok(rows.length >= 2, r.stdout);
      assert.ok(
        rows.some((c) => c[4] !== undefined),
        'at least one split (a PREV value) is compared',
      );
      for (const [ns, name, url, ready, prev, latest, prevRev, latestRev] of rows) {
        const t = isvcTruth(sb.controller.store.mustGet(INFERENCE_SERVICES, ns!, name!));
        const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
        assert.deepEqual(
          [t.url, t.ready === undefined ? undefined : t.ready ? 'True' : 'False', t.prevPercent, t.latestPercent, t.prevRevision, t.latestRevision],
          [url, ready, num(prev), num(latest), prevRev, latestRev],
          `${ns}/${name}`,
        );
      }
    });
  });
});
