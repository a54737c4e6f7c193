/**
 * Cluster under faults (issue 7 §3), through the real client against the sandbox's switches:
 * down for a while, flapping, slowed answers, malformed JSON in a watch, a 1 MB object, a
 * silent watch. Each converges to the truth after recovery, shows "disconnected since …"
 * while down, and makes at most one notification (one episode, one log line per kind).
 *
 * Lengths (seconds) can be raised to the figures:
 *   KSC_FAULT_OUTAGE_SECONDS (default 10; issue: 60), KSC_FAULT_FLAP_SECONDS (default 20; issue: 60),
 *   KSC_FAULT_DELAY_MS (default 10000, as in the issue).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { INFERENCE_SERVICES } from '../../src/sandbox/resources';
import type { ConnectionState } from '../../src/cluster/types';
import { writeFigures } from '../figures';
import { converged, episodeOver, sandboxAndStore, until } from './sandbox-helpers';

const OUTAGE_S = Number(process.env.KSC_FAULT_OUTAGE_SECONDS ?? 10);
const FLAP_S = Number(process.env.KSC_FAULT_FLAP_SECONDS ?? 20);
const DELAY_MS = Number(process.env.KSC_FAULT_DELAY_MS ?? 10000);

/** What each scenario ran with and how it ended, written at its end to test-results/cluster-faults.json for RELIABILITY.md. */
const FIGURES = 'cluster-faults';

let n = 0;
function touch(ctx: Awaited<ReturnType<typeof sandboxAndStore>>, name = 'fault-probe'): void {
  const st = ctx.sb.controller.store;
  const o = st.get(INFERENCE_SERVICES, 'user1-test', name);
  const spec = { predictor: { canaryTrafficPercent: (n++ * 13) % 100, model: { modelFormat: { name: 'onnx' }, storageUri: `oci://example.invalid/p:${n}` } } };
  if (!o) st.create(INFERENCE_SERVICES, { metadata: { name, namespace: 'user1-test' }, spec });
  else {
    o.spec = spec;
    delete o.metadata.resourceVersion;
    st.update(INFERENCE_SERVICES, o, 'user1-test');
  }
}

describe('cluster store under faults (sandbox switches)', () => {
  let ctx: Awaited<ReturnType<typeof sandboxAndStore>>;
  before(async () => {
    ctx = await sandboxAndStore({}, { tuning: { requestTimeoutMs: Math.max(20000, DELAY_MS * 2) } });
    await ctx.store.ready();
    await converged(ctx.sb, ctx.store);
  });
  after(async () => {
    await ctx?.close();
  });

  /** Waits for the previous episode's quiet period to pass, then returns the marks to compare with. */
  async function quiet() {
    await until(() => episodeOver(ctx.log), 'the previous episode to end');
    return { episode: ctx.store.connection().episode ?? 0, warned: ctx.log.problems().length };
  }

  function noRepeatedProblems(from: number): string[] {
    const lines = ctx.log.problems().slice(from);
    assert.equal(new Set(lines).size, lines.length, `a problem logged twice in one episode:\n${lines.join('\n')}`);
    return lines;
  }

  it(`down for ${OUTAGE_S} s: disconnected since …, one problem, converges`, async (t) => {
    const mark = await quiet();
    const outage = ctx.sb.faults.outage(OUTAGE_S * 1000);
    const down = await until(() => (ctx.store.connection().phase === 'disconnected' ? ctx.store.connection() : undefined), 'disconnected');
    assert.equal(down.problem?.kind, 'unreachable');
    assert.ok(Date.parse(down.disconnectedSince ?? '') <= Date.now());
    await outage;
    touch(ctx);
    await converged(ctx.sb, ctx.store);
    await until(() => ctx.store.connection().phase === 'connected', 'connected');
    assert.equal(ctx.store.connection().episode, mark.episode + 1);
    const lines = noRepeatedProblems(mark.warned);
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0]!, /unreachable/);
    writeFigures(FIGURES, t, { outage_seconds: OUTAGE_S, outage_episodes: 1, outage_problems_logged: lines.length, outage_converged: 1 });
  });

  it(`flapping every 2 s for ${FLAP_S} s: one episode, "disconnected since" stays put, converges`, async (t) => {
    const mark = await quiet();
    const since = new Set<string>();
    const off = ctx.store.onDidChangeConnection((c: ConnectionState) => {
      if (c.phase === 'disconnected' && c.disconnectedSince) since.add(c.disconnectedSince);
    });
    let flaps = 0;
    try {
      const end = Date.now() + FLAP_S * 1000;
      while (Date.now() < end) {
        flaps++;
        await ctx.sb.faults.outage(2000);
        touch(ctx);
        // back up until the store has reconnected, then down again: the episode goes on
        await until(() => ctx.store.connection().phase === 'connected', 'reconnected between outages');
      }
      await converged(ctx.sb, ctx.store);
      await until(() => ctx.store.connection().phase === 'connected', 'connected');
    } finally {
      off();
    }
    assert.equal(ctx.store.connection().episode, mark.episode + 1, 'one episode for the whole flapping');
    assert.equal(since.size, 1, `disconnected since: ${[...since].join(', ')}`);
    const lines = noRepeatedProblems(mark.warned);
    writeFigures(FIGURES, t, {
      flapping_seconds: FLAP_S,
      flapping_outages: flaps,
      flapping_episodes: 1,
      flapping_problems_logged: lines.length,
      flapping_converged: 1,
    });
  });

  it(`answers slowed to ${DELAY_MS} ms: no timeout storm, converges`, async (t) => {
    const mark = await quiet();
    ctx.sb.faults.setDelay(DELAY_MS);
    try {
      ctx.sb.faults.dropWatches();
      touch(ctx);
      await converged(ctx.sb, ctx.store, DELAY_MS * 4 + 10000);
      assert.equal(ctx.log.problems().length, mark.warned, 'slow is not broken');
    } finally {
      ctx.sb.faults.setDelay(0);
    }
    writeFigures(FIGURES, t, { slowed_answer_ms: DELAY_MS, slowed_problems_logged: 0, slowed_converged: 1 });
  });

  it('malformed JSON in a watch: re-lists, converges, one problem at most', async (t) => {
    const mark = await quiet();
    const lists = ctx.store.stats().reduce((s, x) => s + x.lists, 0);
    ctx.sb.faults.injectMalformedWatchEvent();
    touch(ctx);
    await until(() => ctx.store.stats().reduce((s, x) => s + x.lists, 0) > lists, 'a relist');
    await converged(ctx.sb, ctx.store);
    const lines = noRepeatedProblems(mark.warned);
    assert.ok(lines.length <= 1);
    for (const l of lines) assert.match(l, /not valid JSON/);
    writeFigures(FIGURES, t, { malformed_json_problems_logged: lines.length, malformed_json_converged: 1 });
  });

  it('an object of 1 MB: read and shown like any other', async (t) => {
    ctx.sb.faults.addLargeObject('user1-test', 'huge', 1024 * 1024);
    await until(() => ctx.store.get('user1-test/huge') !== undefined, 'the 1 MB object');
    touch(ctx);
    await converged(ctx.sb, ctx.store);
    // and through a relist too
    await ctx.store.refresh();
    assert.ok(ctx.store.get('user1-test/huge'));
    writeFigures(FIGURES, t, { large_object_bytes: 1024 * 1024, large_object_converged: 1 });
  });

  it('a watch that goes silent: detected as stale, re-listed, converges', async (t) => {
    const idle = () => ctx.store.stats().reduce((s, x) => s + x.idleRestarts, 0);
    const before = idle();
    const watches = () => ctx.store.stats().map((x) => x.watches);
    ctx.sb.faults.silentWatches(true);
    let restarts: number;
    try {
      const opened = watches();
      ctx.sb.faults.dropWatches();
      // every watch opened again (now silent) before the change, so only a relist can see it
      await until(() => watches().every((w, i) => w > (opened[i] ?? 0)), 'every watch re-opened');
      touch(ctx);
      await converged(ctx.sb, ctx.store);
      restarts = idle() - before;
      assert.ok(restarts > 0, 'a stale watch was restarted');
    } finally {
      ctx.sb.faults.silentWatches(false);
    }
    touch(ctx);
    await converged(ctx.sb, ctx.store);
    writeFigures(FIGURES, t, { silent_watch_stale_restarts: restarts, silent_watch_converged: 1 });
  });
});
