/**
 * Per-service change events: one change → one event naming that key only; a burst → coalesced
 * events naming every changed key and nothing else; a relist of unchanged objects → no event.
 * "Nothing else came" is shown with a barrier, not a pause: a sentinel object is changed in the
 * same namespace (the same watch stream, delivered in order) and everything the store emitted
 * before the sentinel's event is what the change caused. How few events a burst makes (the
 * coalescing ratio) depends on timing and is measured by `npm run bench -- bounds`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { INFERENCE_SERVICES } from '../../src/sandbox/resources';
import { converged, patchSpec, sandboxAndStore, until } from './sandbox-helpers';

const NS = 'user1-test';
const SENTINEL = `${NS}/sentinel`;

describe('store change events', () => {
  let ctx: Awaited<ReturnType<typeof sandboxAndStore>>;
  let n = 0;
  before(async () => {
    ctx = await sandboxAndStore({}, { tuning: { coalesceMs: 50 } });
    await ctx.store.ready();
    await converged(ctx.sb, ctx.store);
    await ctx.sb.controller.argo.stop(); // no self-heal: the test changes the cluster by hand
  });
  after(async () => ctx?.close());

  /**
   * Changes the sentinel and resolves once the store reported it: every event the store had
   * to emit for earlier changes in this namespace has been emitted by then.
   */
  async function barrier(events: string[][]): Promise<number> {
    const from = events.length;
    const st = ctx.sb.controller.store;
    const spec = { predictor: { model: { modelFormat: { name: 'onnx' }, storageUri: `oci://example.invalid/sentinel:${n++}` } } };
    const o = st.get(INFERENCE_SERVICES, NS, 'sentinel');
    if (!o) st.create(INFERENCE_SERVICES, { metadata: { name: 'sentinel', namespace: NS }, spec });
    else {
      o.spec = spec;
      delete o.metadata.resourceVersion;
      st.update(INFERENCE_SERVICES, o, NS);
    }
    await until(() => events.slice(from).some((e) => e.includes(SENTINEL)), "the sentinel's event");
    return events.findIndex((e, i) => i >= from && e.includes(SENTINEL));
  }

  /** Subscribes after a barrier, so nothing left over from earlier tests is recorded. */
  async function listen(): Promise<{ events: string[][]; off: () => void }> {
    const all: string[][] = [];
    const offAll = ctx.store.onDidChangeServices((k) => all.push(k));
    await barrier(all);
    offAll();
    const events: string[][] = [];
    return { events, off: ctx.store.onDidChangeServices((k) => events.push(k)) };
  }

  it('one change: one event with exactly that key', async () => {
    ctx.sb.controller.kserve.stop();
    const { events, off } = await listen();
    try {
      patchSpec(ctx.sb, NS, 'jukebox', 35);
      await until(() => events.length > 0, "the change's event");
      const at = await barrier(events);
      assert.deepEqual(events.slice(0, at), [[`${NS}/jukebox`]]);
      assert.deepEqual(events[at], [SENTINEL], 'nothing else came with the sentinel');
      assert.equal(ctx.store.get(`${NS}/jukebox`)?.specPercent, 35);
    } finally {
      off();
      ctx.sb.controller.kserve.start();
    }
  });

  it('a burst of 300 creations: every key reported, nothing else', async () => {
    await converged(ctx.sb, ctx.store);
    ctx.sb.controller.kserve.stop();
    const { events, off } = await listen();
    try {
      const names: string[] = [];
      for (let i = 0; i < 300; i++) {
        const name = `burst-${i}`;
        names.push(`${NS}/${name}`);
        ctx.sb.controller.store.create(INFERENCE_SERVICES, {
          metadata: { name, namespace: NS },
          spec: { predictor: { model: { modelFormat: { name: 'onnx' } } } },
        });
      }
      await until(() => names.every((k) => ctx.store.get(k)), 'all 300 in the store');
      const at = await barrier(events);
      const reported = new Set(events.slice(0, at + 1).flat());
      for (const k of names) assert.ok(reported.has(k), k);
      assert.deepEqual(
        [...reported].filter((k) => !k.startsWith(`${NS}/burst-`) && k !== SENTINEL),
        [],
        'only changed keys',
      );
    } finally {
      off();
      ctx.sb.controller.kserve.start();
    }
  });

  it('a relist of unchanged objects emits nothing', async () => {
    // KServe writes the status of the burst; wait until it has nothing left to do
    await until(() => ctx.sb.controller.kserve.pending === 0, 'KServe to settle');
    await converged(ctx.sb, ctx.store);
    ctx.sb.controller.kserve.stop();
    const { events, off } = await listen();
    try {
      await ctx.store.refresh();
      const at = await barrier(events);
      // The sentinel is the one object that did change (listen() moved it just before): a late
      // event of its own is not the relist's doing. Every unchanged object must stay silent.
      assert.deepEqual(
        events
          .slice(0, at)
          .flat()
          .filter((k) => k !== SENTINEL),
        [],
      );
      assert.deepEqual(events[at], [SENTINEL]);
    } finally {
      off();
      ctx.sb.controller.kserve.start();
    }
  });
});
