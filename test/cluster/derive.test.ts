import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  deriveService,
  describeDesired,
  describeLive,
  liveMatches,
  observeApplication,
  observeInferenceService,
  printerColumns,
  joinService,
} from '../../src/cluster/derive';
import type { DesiredState } from '../../src/cluster/types';
import { application, isvc, newRevisionFailing, promoted, rawDeployment, rolledBack, SHA_A, SHA_B, split } from './builders';

const desired = (percent: number | undefined, commit: string | undefined = SHA_A): DesiredState => ({ percent, version: 'v1', commit });
const app = (o: Parameters<typeof application>[0] = {}) => observeApplication(application(o));

describe('printer columns (oc get isvc)', () => {
  it('split: PREV/LATEST percent and revisions', () => {
    const c = printerColumns(split(20));
    assert.deepEqual(c, {
      url: 'https://jukebox-user1-test.apps.example.com',
      ready: 'True',
      prev: 80,
      latest: 20,
      prevRolledOutRevision: 'jukebox-predictor-00001',
      latestReadyRevision: 'jukebox-predictor-00002',
      creationTimestamp: '2026-11-20T10:00:00Z',
    });
  });
  it('promoted: PREV empty, LATEST 100', () => {
    const c = printerColumns(promoted());
    assert.equal(c.prev, undefined);
    assert.equal(c.prevRolledOutRevision, undefined);
    assert.equal(c.latest, 100);
  });
  it('promoted with a prev target at 0 shows PREV 0', () => {
    assert.equal(printerColumns(promoted({ prevZero: true })).prev, 0);
  });
  it('rollback: PREV 100, LATEST 0', () => {
    const c = printerColumns(rolledBack());
    assert.equal(c.prev, 100);
    assert.equal(c.latest, 0);
  });
  it('no status: every column empty but AGE', () => {
    const c = printerColumns(isvc({ noStatus: true }));
    assert.equal(c.url, undefined);
    assert.equal(c.ready, undefined);
    assert.equal(c.prev, undefined);
    assert.equal(c.latest, undefined);
    assert.equal(c.creationTimestamp, '2026-11-20T10:00:00Z');
  });
  it('takes the first match of each filter, like JSONPath', () => {
    const c = printerColumns(
      isvc({
        traffic: [
          { revisionName: 'a', percent: 10, tag: 'prev' },
          { revisionName: 'b', percent: 20, tag: 'prev' },
          { revisionName: 'c', percent: 70, latestRevision: true },
        ],
      }),
    );
    assert.equal(c.prev, 10);
    assert.equal(c.prevRolledOutRevision, 'a');
    assert.equal(c.latestReadyRevision, 'c');
  });
  it('survives garbage without throwing', () => {
    for (const g of [
      null,
      undefined,
      42,
      'x',
      [],
      { status: 'nope' },
      { status: { components: { predictor: { traffic: 'x' } } } },
      { status: { conditions: [null, 1] } },
    ]) {
      const c = printerColumns(g);
      assert.equal(c.latest, undefined);
      assert.doesNotThrow(() => observeInferenceService(g));
    }
  });
});

describe('observation', () => {
  it('reads traffic targets with tags and tagged URLs', () => {
    const o = observeInferenceService(
      split(30, {
        traffic: [
          { revisionName: 'r2', percent: 30, latestRevision: true, tag: 'latest', url: 'https://latest-jukebox.example' },
          { revisionName: 'r1', percent: 70, tag: 'prev', url: 'https://prev-jukebox.example' },
        ],
      }),
    );
    assert.deepEqual(o.traffic, [
      { revisionName: 'r2', percent: 30, tag: 'latest', latestRevision: true, url: 'https://latest-jukebox.example' },
      { revisionName: 'r1', percent: 70, tag: 'prev', latestRevision: false, url: 'https://prev-jukebox.example' },
    ]);
    assert.equal(o.key, 'user1-test/jukebox');
    assert.equal(o.specPercent, 30);
  });
  it('deployment mode: status, else annotation, else the status shape (Knative traces: Serverless)', () => {
    assert.equal(observeInferenceService(rawDeployment()).deploymentMode, 'RawDeployment');
    assert.equal(observeInferenceService(rawDeployment()).canarySupported, false);
    assert.equal(observeInferenceService(isvc({ modeAnnotation: 'RawDeployment' })).deploymentMode, 'RawDeployment');
    assert.equal(observeInferenceService(isvc({ modeAnnotation: 'ModelMesh' })).canarySupported, false);
    const s = observeInferenceService(split(20));
    assert.equal(s.deploymentMode, 'Serverless');
    assert.equal(s.canarySupported, true);
    assert.equal(observeInferenceService(isvc({ noStatus: true })).canarySupported, true);
    const plain = observeInferenceService(isvc({ ready: 'True' }));
    assert.equal(plain.deploymentMode, 'RawDeployment', 'no mode written and no Knative trace: a raw Deployment');
  });
  it('rolling out is read from the status, not from generation vs observedGeneration', () => {
    assert.equal(observeInferenceService(split(20, { generation: 3, observedGeneration: 2 })).rollingOut, false);
    assert.equal(observeInferenceService(split(20, { spec: 50 })).rollingOut, true, 'applied spec not in the traffic yet');
  });
  it('new revision not ready, with the failing condition message', () => {
    const o = observeInferenceService(newRevisionFailing());
    assert.equal(o.newRevisionNotReady, true);
    assert.equal(o.latestCreatedRevision, 'jukebox-predictor-00003');
    assert.equal(o.latestReadyRevision, 'jukebox-predictor-00002');
    assert.match(o.readyMessage ?? '', /container crashed/);
  });
  it('ready message: the Ready condition first, else the most specific failing one', () => {
    assert.equal(observeInferenceService(isvc({ ready: 'False', readyMessage: 'boom' })).readyMessage, 'boom');
    const o = observeInferenceService(
      isvc({
        ready: 'False',
        extraConditions: [
          { type: 'IngressReady', status: 'False', message: 'no ingress' },
          { type: 'PredictorReady', status: 'False', message: 'predictor down' },
        ],
      }),
    );
    assert.equal(o.readyMessage, 'predictor down');
    assert.equal(o.ready, false);
    assert.equal(observeInferenceService(isvc({ ready: 'Unknown' })).ready, undefined);
    assert.equal(observeInferenceService(split(50)).readyMessage, undefined);
  });
  it('accepts percent as a numeric string', () => {
    const o = observeInferenceService(isvc({ traffic: [{ revisionName: 'r', percent: '100' as unknown as number, latestRevision: true }] }));
    assert.equal(o.latestPercent, 100);
  });
});

describe('application', () => {
  it('single source revision, multi-source left to resolve, health, operation', () => {
    assert.equal(app().revision, SHA_A);
    assert.equal(app({ revisions: [SHA_B, SHA_A] }).revision, undefined, 'never simply revisions[0]');
    assert.deepEqual(
      app({ revisions: [SHA_B, SHA_A] }).sources?.map((s) => s.revision),
      [SHA_B, SHA_A],
    );
    const a = app({ sync: 'OutOfSync', health: 'Progressing', phase: 'Running' });
    assert.equal(a.syncStatus, 'OutOfSync');
    assert.equal(a.healthStatus, 'Progressing');
    assert.equal(a.operationPhase, 'Running');
    assert.equal(a.name, 'jukebox-test');
    assert.equal(a.namespace, 'user1-toolings');
  });
});

describe('liveMatches', () => {
  const m = (o: Record<string, unknown>, p: number | undefined) => liveMatches(observeInferenceService(o), p).ok;
  it('split equals the desired percent', () => {
    assert.equal(m(split(50), 50), true);
    assert.equal(m(split(20), 50), false);
  });
  it('spec must match too (none vs 100 differ in spec)', () => {
    assert.equal(m(promoted(), undefined), true);
    assert.equal(m(promoted(), 100), false);
    assert.equal(m(promoted({ spec: 100 }), 100), true);
    assert.equal(m(promoted({ spec: 100, prevZero: true }), 100), true, 'PREV 0 is accepted at 100');
    assert.equal(m(promoted({ prevZero: true }), undefined), true);
  });
  it('rollback: prev 100, latest 0', () => {
    assert.equal(m(rolledBack(), 0), true);
    assert.equal(m(rolledBack(), 50), false);
  });
  it('a first deployment has nothing to split with', () => {
    const first = isvc({
      spec: 30,
      ready: 'True',
      traffic: [{ revisionName: 'r1', percent: 100, latestRevision: true }],
      latestCreated: 'r1',
      latestReady: 'r1',
    });
    assert.equal(m(first, 30), true);
    const notFirst = isvc({
      spec: 30,
      ready: 'True',
      traffic: [{ revisionName: 'r2', percent: 100, latestRevision: true }],
      latestCreated: 'r2',
      latestReady: 'r2',
      latestRolledout: 'r1',
    });
    assert.equal(m(notFirst, 30), false, 'a rolled-out revision exists: the split must appear');
  });
  it('rolling out never matches', () => {
    assert.equal(m(split(50, { latestCreated: 'jukebox-predictor-00003' }), 50), false);
  });
  it('RawDeployment: spec only', () => {
    assert.equal(m(rawDeployment(), undefined), true);
    assert.equal(m(rawDeployment({ spec: 20 }), 20), true);
  });
  it('no traffic reported yet', () => {
    assert.equal(m(isvc({ spec: 50, ready: 'True', traffic: [], mode: 'Serverless' }), 50), false);
  });
});

describe('verdicts', () => {
  const v = (o: Record<string, unknown>, d: DesiredState | undefined, a?: ReturnType<typeof app>) => {
    const s = deriveService(o, { env: 'test', ...(d ? { desired: d } : {}), ...(a ? { application: a } : {}) });
    return [s.verdict, s.verdictReason] as const;
  };
  it('live: split as git asks, Argo CD synced', () => {
    const [verdict, reason] = v(split(50), desired(50), app());
    assert.equal(verdict, 'live');
    assert.match(reason, /prev 50% · latest 50%/);
    assert.match(reason, /Argo CD Synced at aaaaaaa/);
  });
  it('live: 100 with PREV empty or 0, no canary, rollback', () => {
    assert.equal(v(promoted({ spec: 100 }), desired(100), app())[0], 'live');
    assert.equal(v(promoted({ spec: 100, prevZero: true }), desired(100), app())[0], 'live');
    assert.equal(v(promoted(), desired(undefined), app())[0], 'live');
    assert.equal(v(rolledBack(), desired(0), app())[0], 'live');
  });
  it('live without Argo CD when the cluster matches', () => {
    const [verdict, reason] = v(split(50), desired(50));
    assert.equal(verdict, 'live');
    assert.doesNotMatch(reason, /Argo/);
  });
  it('syncing: pushed, Argo CD OutOfSync', () => {
    const [verdict, reason] = v(split(20), desired(50, SHA_B), app({ sync: 'OutOfSync' }));
    assert.equal(verdict, 'syncing');
    assert.match(reason, /OutOfSync/);
  });
  it('syncing: Argo CD operation running', () => {
    assert.equal(v(split(20), desired(50, SHA_B), app({ phase: 'Running' }))[0], 'syncing');
  });
  it('syncing: Argo CD synced at an older revision than git', () => {
    const [verdict, reason] = v(split(20), desired(50, SHA_B), app({ revision: SHA_A }));
    assert.equal(verdict, 'syncing');
    assert.match(reason, /Argo CD is at aaaaaaa, git at bbbbbbb/);
  });
  it('syncing: the split matches but Argo CD is still OutOfSync', () => {
    assert.equal(v(split(50), desired(50), app({ sync: 'OutOfSync' }))[0], 'syncing');
  });
  it('syncing: KServe rolling out a new revision', () => {
    const [verdict, reason] = v(split(50, { generation: 5, latestCreated: 'jukebox-predictor-00003' }), desired(50), app());
    assert.equal(verdict, 'syncing');
    assert.match(reason, /rolling out generation 5: new revision jukebox-predictor-00003 is not ready yet, traffic stays on jukebox-predictor-00002/);
  });
  it('syncing: spec applied, traffic not yet', () => {
    const o = split(50, {
      traffic: [
        { revisionName: 'r2', percent: 20, latestRevision: true },
        { revisionName: 'r1', percent: 80, tag: 'prev' },
      ],
    });
    assert.equal(v(o, desired(50), app())[0], 'syncing');
  });
  it('drift: cluster differs and Argo CD says Synced at the same commit', () => {
    const [verdict, reason] = v(split(20), desired(50), app());
    assert.equal(verdict, 'drift');
    assert.match(reason, /canaryTrafficPercent 20, git asks for 50/);
  });
  it('drift: committed locally but not pushed (Argo CD at the upstream)', () => {
    const [verdict, reason] = v(split(20), { percent: 50, version: 'v1', commit: SHA_B, upstream: SHA_A }, app({ revision: SHA_A }));
    assert.equal(verdict, 'drift');
    assert.match(reason, /not pushed \(HEAD bbbbbbb, pushed aaaaaaa\)/);
    // pushed (HEAD = upstream) and Argo CD behind: syncing
    assert.equal(v(split(20), { percent: 50, version: 'v1', commit: SHA_B, upstream: SHA_B }, app({ revision: SHA_A }))[0], 'syncing');
  });
  it('drift: cluster differs and there is no Application', () => {
    const [verdict, reason] = v(split(20), desired(50));
    assert.equal(verdict, 'drift');
    assert.match(reason, /no Argo CD Application/);
  });
  it('not-ready: Ready False with its message', () => {
    const [verdict, reason] = v(split(50, { ready: 'False', readyMessage: 'predictor crashed' }), desired(50), app());
    assert.equal(verdict, 'not-ready');
    assert.match(reason, /predictor crashed/);
  });
  it('not-ready: new revision failing, traffic stays', () => {
    const [verdict, reason] = v(newRevisionFailing(), desired(20), app());
    assert.equal(verdict, 'not-ready');
    assert.match(reason, /jukebox-predictor-00003 is not ready/);
    assert.match(reason, /container crashed/);
  });
  it('unsupported: RawDeployment with a canary asked', () => {
    const [verdict, reason] = v(rawDeployment({ spec: 20 }), desired(20), app());
    assert.equal(verdict, 'unsupported');
    assert.match(reason, /RawDeployment/);
    assert.equal(v(rawDeployment(), desired(30), app())[0], 'unsupported');
  });
  it('RawDeployment without a canary is live', () => {
    assert.equal(v(rawDeployment(), desired(undefined), app())[0], 'live');
  });
  it('unknown: no status yet; not in git', () => {
    assert.equal(v(isvc({ noStatus: true }), desired(50), app())[0], 'unknown');
    const [verdict, reason] = v(split(50), undefined, app());
    assert.equal(verdict, 'unknown');
    assert.match(reason, /Not in the gitops checkout/);
  });
  it('removed from the cluster (in git only): drift, or syncing while Argo CD works', () => {
    const missing = (a?: ReturnType<typeof app>) =>
      joinService(undefined, {
        env: 'test',
        namespace: 'user1-test',
        name: 'jukebox',
        model: 'jukebox',
        desired: desired(50),
        ...(a ? { application: a } : {}),
      });
    const s = missing(app());
    assert.equal(s.missing, true);
    assert.equal(s.verdict, 'drift');
    assert.equal(s.key, 'user1-test/jukebox');
    assert.equal(missing(app({ sync: 'OutOfSync' })).verdict, 'syncing');
    assert.equal(missing(app({ revision: SHA_B })).verdict, 'syncing');
    assert.match(missing().verdictReason, /no Argo CD Application/);
  });
  it('not-ready wins over syncing and drift', () => {
    assert.equal(v(split(20, { ready: 'False' }), desired(50), app({ sync: 'OutOfSync' }))[0], 'not-ready');
  });
  it('every verdict has a one-sentence reason', () => {
    const cases = [
      split(50),
      promoted(),
      rolledBack(),
      newRevisionFailing(),
      rawDeployment({ spec: 10 }),
      isvc({ noStatus: true }),
      split(10, { generation: 9, observedGeneration: 1 }),
    ];
    for (const o of cases) {
      for (const d of [undefined, desired(50), desired(undefined), desired(0)]) {
        const [, reason] = v(o, d, app());
        assert.ok(reason.length > 10 && /[.)]$/.test(reason), reason);
      }
    }
  });
});

describe('descriptions', () => {
  it('desired and live', () => {
    assert.equal(describeDesired(undefined), 'latest 100% (no canary)');
    assert.equal(describeDesired(100), 'latest 100%');
    assert.equal(describeDesired(0), 'prev 100% · latest 0%');
    assert.equal(describeDesired(30), 'prev 70% · latest 30%');
    assert.equal(describeLive(observeInferenceService(split(30))), 'prev 70% · latest 30%');
    assert.equal(describeLive(observeInferenceService(promoted())), 'latest 100%');
    assert.equal(describeLive(observeInferenceService(rawDeployment())), 'no traffic reported');
  });
});
