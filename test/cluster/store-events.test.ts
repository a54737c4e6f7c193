/**
 * Per-service change events: one change → one event naming that key only; a burst → a few
 * coalesced events naming every changed key; a relist of unchanged objects → no event.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { INFERENCE_SERVICES } from '../../src/sandbox/resources';
import { converged, patchSpec, sandboxAndStore, until } from './sandbox-helpers';

describe('store change events', () => {
  let ctx: Awaited<ReturnType<typeof sandboxAndStore>>;
  before(async () => {
    ctx = await sandboxAndStore({}, { tuning: { coalesceMs: 50 } });
    await ctx.store.ready();
    await converged(ctx.sb, ctx.store);
    await ctx.sb.controller.argo.stop(); // no self-heal: the test changes the cluster by hand
  });
  after(async () => ctx?.close());

  it('one change: one event with exactly that key', async () => {
    await new Promise((r) => setTimeout(r, 200)); // let earlier events drain
    const events: string[][] = [];
    const off = ctx.store.onDidChangeServices((k) => events.push(k));
    ctx.sb.controller.kserve.stop();
    try {
      patchSpec(ctx.sb, 'user1-test', 'jukebox', 35);
      await until(() => ctx.store.get('user1-test/jukebox')?.specPercent === 35, 'the change');
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(events, [['user1-test/jukebox']]);
    } finally {
      off();
      ctx.sb.controller.kserve.start();
    }
  });

  it('a burst of 300 creations: few events, every key reported once or more, nothing else', async () => {
    await converged(ctx.sb, ctx.store);
    await new Promise((r) => setTimeout(r, 200));
    ctx.sb.controller.kserve.stop();
    const events: string[][] = [];
    const off = ctx.store.onDidChangeServices((k) => events.push(k));
    try {
      const names: string[] = [];
      for (let i = 0; i < 300; i++) {
        const name = `burst-${i}`;
        names.push(`user1-test/${name}`);
        ctx.sb.controller.store.create(INFERENCE_SERVICES, { metadata: { name, namespace: 'user1-test' }, spec: { predictor: { model: { modelFormat: { name: 'onnx' } } } } });
      }
      await until(() => names.every((k) => ctx.store.get(k)), 'all 300 in the store');
      await new Promise((r) => setTimeout(r, 200));
      const reported = new Set(events.flat());
      for (const k of names) assert.ok(reported.has(k), k);
      assert.ok([...reported].every((k) => k.startsWith('user1-test/burst-')), 'only changed keys');
      assert.ok(events.length <= 30, `${events.length} events for a burst of 300`);
    } finally {
      off();
      ctx.sb.controller.kserve.start();
    }
  });

  it('a relist of unchanged objects emits nothing', async () => {
    await converged(ctx.sb, ctx.store);
    await new Promise((r) => setTimeout(r, 1500)); // KServe status of the burst settles
    await converged(ctx.sb, ctx.store);
    const events: string[][] = [];
    const off = ctx.store.onDidChangeServices((k) => events.push(k));
    try {
      await ctx.store.refresh();
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(events, []);
    } finally {
      off();
    }
  });
});
