/**
 * The sandbox's KServe dialects and modes (status.deploymentMode spelled as KServe 0.16+ or as
 * before, the annotation in both spellings and any case, ModelMesh's status) as a client of an
 * embedded API server, and its Argo CD health check against Argo CD's own expectations
 * (resource_customizations/serving.kserve.io/InferenceService/health_test.yaml).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDeploymentMode, type KServeDialect } from '../../src/sandbox/kserve';
import { health } from '../../src/sandbox/argocd';
import { INFERENCE_SERVICES } from '../../src/sandbox/resources';
import type { KObject } from '../../src/sandbox/types';
import { kserveOverApi, type KServeOverApi } from './api-harness';

const NS = 'user1-test';
type Status = {
  deploymentMode?: string;
  observedGeneration?: number;
  components: { predictor: Record<string, unknown> };
  conditions: Array<Record<string, unknown>>;
  modelStatus: Record<string, unknown>;
};

const open: KServeOverApi[] = [];
after(async () => {
  for (const h of open) await h.close();
});

async function harness(dialect?: KServeDialect): Promise<KServeOverApi> {
  const h = await kserveOverApi(NS, dialect ? { dialect } : {});
  open.push(h);
  return h;
}

async function service(dialect: KServeDialect | undefined, mode: string | undefined) {
  const { store, kserve } = await harness(dialect);
  store.create(INFERENCE_SERVICES, {
    metadata: { name: 'jukebox', namespace: NS, annotations: mode ? { 'serving.kserve.io/deploymentMode': mode } : {} },
    spec: { predictor: { model: { modelFormat: { name: 'onnx' }, storageUri: 'oci://r/ns/jukebox:v1' } } },
  });
  await kserve.reconcile(NS, 'jukebox');
  const get = () => store.mustGet(INFERENCE_SERVICES, NS, 'jukebox');
  return {
    kserve,
    status: () => get().status as unknown as Status,
    async newVersion(v: string) {
      const o = get();
      (o.spec!.predictor as { model: { storageUri: string } }).model.storageUri = `oci://r/ns/jukebox:${v}`;
      store.update(INFERENCE_SERVICES, o, NS);
      await kserve.reconcile(NS, 'jukebox');
    },
  };
}

describe('dialects', () => {
  const cases: Array<[KServeDialect | undefined, string | undefined, string]> = [
    [undefined, undefined, 'Serverless'],
    ['legacy', 'Knative', 'Serverless'],
    ['legacy', 'standard', 'RawDeployment'],
    ['current', undefined, 'Knative'],
    ['current', 'serverless', 'Knative'],
    ['current', 'RAWDEPLOYMENT', 'Standard'],
    ['current', ' Standard ', 'Standard'],
    ['current', 'modelmesh', 'ModelMesh'],
    ['legacy', 'ModelMesh', 'ModelMesh'],
    ['current', 'Bogus', 'Knative'],
  ];
  for (const [dialect, annotation, written] of cases) {
    test(`${dialect ?? 'default'} dialect, annotation ${JSON.stringify(annotation)} → status.deploymentMode ${written}`, async () => {
      const st = (await service(dialect, annotation)).status();
      assert.equal(st.deploymentMode, written);
      const knative = written === 'Serverless' || written === 'Knative';
      assert.equal(Array.isArray(st.components.predictor.traffic), knative, 'only Knative mode has traffic targets');
      assert.equal(st.observedGeneration === undefined, written === 'ModelMesh', 'modelmesh-serving writes no observedGeneration');
    });
  }
  test('parseDeploymentMode: both spellings, any case; unknown is the default', () => {
    assert.deepEqual(['Serverless', 'knative', 'RawDeployment', 'STANDARD', 'ModelMesh', '', undefined].map(parseDeploymentMode), [
      'knative',
      'knative',
      'standard',
      'standard',
      'modelmesh',
      'knative',
      'knative',
    ]);
  });
});

describe('ModelMesh', () => {
  test('a failing new model: BlockedByFailedLoad with lastFailureInfo, the loaded one keeps Ready True; healed: UpToDate', async () => {
    const s = await service('current', 'ModelMesh');
    assert.equal(s.status().modelStatus.transitionStatus, 'UpToDate');
    s.kserve.failRevisions(NS, 'jukebox', 'NoSuchKey: s3://models/jukebox/v2');
    await s.newVersion('v2');
    const st = s.status();
    assert.equal(st.modelStatus.transitionStatus, 'BlockedByFailedLoad');
    assert.deepEqual(st.modelStatus.states, { activeModelState: 'Loaded', targetModelState: 'FailedToLoad' });
    assert.equal((st.modelStatus.lastFailureInfo as { reason: string; message: string }).message, 'NoSuchKey: s3://models/jukebox/v2');
    assert.equal(st.conditions.find((c) => c.type === 'Ready')?.status, 'True');
    s.kserve.healRevisions(NS, 'jukebox');
    await s.kserve.reconcile(NS, 'jukebox');
    assert.equal(s.status().modelStatus.transitionStatus, 'UpToDate');
    assert.equal(s.status().modelStatus.lastFailureInfo, undefined);
  });
  test('a model that never loaded: Ready False with the failure', async () => {
    const { store, kserve } = await harness('legacy');
    kserve.failRevisions(NS, 'jukebox', 'runtime not found');
    store.create(INFERENCE_SERVICES, {
      metadata: { name: 'jukebox', namespace: NS, annotations: { 'serving.kserve.io/deploymentMode': 'ModelMesh' } },
      spec: { predictor: { model: { modelFormat: { name: 'onnx' } } } },
    });
    await kserve.reconcile(NS, 'jukebox');
    const st = store.mustGet(INFERENCE_SERVICES, NS, 'jukebox').status as unknown as Status;
    assert.equal(st.conditions.find((c) => c.type === 'Ready')?.status, 'False');
    assert.equal(st.modelStatus.transitionStatus, 'BlockedByFailedLoad');
  });
});

describe("health: Argo CD's InferenceService health check", () => {
  const isvc = (status: Record<string, unknown> | undefined): KObject =>
    ({ metadata: { name: 'helloworld', namespace: 'default', generation: 3 }, ...(status ? { status } : {}) }) as KObject;
  const c = (type: string, status: string, reason?: string, message?: string) => ({
    type,
    status,
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
  });
  test('the cases of its health_test.yaml', () => {
    assert.deepEqual(health(isvc({ conditions: [c('PredictorReady', 'False'), c('Ready', 'False')], modelStatus: { transitionStatus: 'InProgress' } })), {
      status: 'Progressing',
      message: '0: transitionStatus | InProgress | 1: PredictorReady | False | 2: Ready | False',
    });
    assert.deepEqual(
      health(isvc({ conditions: [c('PredictorReady', 'True'), c('Ready', 'True')], modelStatus: { transitionStatus: 'BlockedByFailedLoad' } })),
      {
        status: 'Degraded',
        message: '0: transitionStatus | BlockedByFailedLoad',
      },
    );
    const waiting = 'Configuration "hello-world-predictor-default" is waiting for a Revision to become ready.';
    assert.deepEqual(health(isvc({ conditions: [c('PredictorConfigurationReady', 'Unknown'), c('PredictorReady', 'Unknown', 'RevisionMissing', waiting)] })), {
      status: 'Progressing',
      message: ` | 1: PredictorConfigurationReady | Unknown | 2: PredictorReady | Unknown | RevisionMissing | ${waiting}`,
    });
    assert.deepEqual(health(isvc({ conditions: [c('PredictorReady', 'False', 'Stopped'), c('Stopped', 'True')] })), {
      status: 'Suspended',
      message: 'InferenceService is Stopped',
    });
    assert.deepEqual(
      health(isvc({ conditions: [c('Ready', 'True'), c('Stopped', 'False')], observedGeneration: 1 })),
      { status: 'Healthy', message: 'InferenceService is healthy.' },
      'generations are not looked at',
    );
    assert.equal(health(isvc(undefined)).status, 'Progressing');
    assert.equal(health(undefined).status, 'Missing');
  });
});
