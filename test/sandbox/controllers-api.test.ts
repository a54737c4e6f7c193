/**
 * The controllers as clients of the sandbox's API: they get past the faults that reach them
 * (dropped and garbled watches, expired resourceVersions) and are not touched by those of the
 * product's connection (500s, a rotated token); the client's modify re-applies after a 409.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { INFERENCE_SERVICES } from '../../src/sandbox/resources';
import { kserveOverApi } from './api-harness';
import { openSandbox, waitFor, type TestSandbox } from './helpers';

const NS = 'user1-test';

/** Set canaryTrafficPercent by hand (Argo CD paused, so no self-heal) and wait for KServe's status. */
async function canaryReconciled(sb: TestSandbox, percent: number): Promise<void> {
  const store = sb.controller.store;
  const o = store.mustGet(INFERENCE_SERVICES, NS, 'jukebox');
  (o.spec!.predictor as Record<string, unknown>).canaryTrafficPercent = percent;
  const updated = store.update(INFERENCE_SERVICES, o, NS);
  await waitFor(`status for ${percent}%`, () => {
    const st = store.mustGet(INFERENCE_SERVICES, NS, 'jukebox').status as {
      observedGeneration?: number;
      components?: { predictor?: { traffic?: Array<{ percent: number }> } };
    };
    return st.observedGeneration === updated.metadata.generation && st.components?.predictor?.traffic?.[0]?.percent === percent;
  });
}

describe('controllers over the API', () => {
  test('after abrupt drops, a garbage line and expired versions, KServe still follows changes', async () => {
    const sb = await openSandbox();
    try {
      sb.controller.pauseArgo(true);
      sb.faults.injectMalformedWatchEvent();
      await canaryReconciled(sb, 30);
      sb.faults.dropWatches({ abrupt: true });
      await canaryReconciled(sb, 40);
      sb.faults.expireResourceVersions();
      await canaryReconciled(sb, 50);
    } finally {
      await sb.cleanup();
    }
  });

  test("the product's faults (500s, a rotated token) leave the controllers working", async () => {
    const sb = await openSandbox();
    try {
      sb.controller.pauseArgo(true);
      sb.faults.rotateToken();
      sb.faults.failRequests(60);
      await canaryReconciled(sb, 60);
      sb.faults.reset();
    } finally {
      await sb.cleanup();
    }
  });

  test('modify: a write from a stale read gets 409, is re-applied on a fresh read', async () => {
    const h = await kserveOverApi(NS);
    try {
      const created = h.store.create(INFERENCE_SERVICES, {
        metadata: { name: 'm', namespace: NS },
        spec: { predictor: { model: { modelFormat: { name: 'onnx' } } } },
      });
      h.store.update(INFERENCE_SERVICES, { ...created, metadata: { ...created.metadata, labels: { other: 'writer' } } }, NS);
      const seen: string[] = [];
      const written = await h.client.modify(
        INFERENCE_SERVICES,
        NS,
        'm',
        (o) => {
          seen.push(o.metadata.resourceVersion!);
          o.metadata.annotations = { mine: 'yes' };
          return o;
        },
        { initial: created },
      );
      assert.equal(seen.length, 2, 'changed twice: on the stale copy, then on the fresh one');
      assert.notEqual(seen[0], seen[1]);
      assert.deepEqual([written?.metadata.labels, written?.metadata.annotations], [{ other: 'writer' }, { mine: 'yes' }]);
    } finally {
      await h.close();
    }
  });
});
