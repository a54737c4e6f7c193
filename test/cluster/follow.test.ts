/**
 * follow() driven by a fake store: steps in order, resolution only when synced at the sha and
 * rolled out, a timeout naming the stuck step, abort; and the status renderers.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClusterStore, FollowStep, RefreshOutcome } from '../../src/cluster/api';
import { deriveService, observeApplication } from '../../src/cluster/derive';
import { followChange, isRolledOut, isSynced, stuckAt } from '../../src/cluster/follow';
import type { ConnectionState, ServiceState } from '../../src/cluster/types';
import { renderTable, statusJson } from '../../src/cli/status-view';
import { application, split, SHA_A, SHA_B } from './builders';
import { until } from '../poll';

class FakeStore {
  state: ServiceState | undefined;
  listeners = new Set<(keys: string[]) => void>();
  connListeners = new Set<(c: ConnectionState) => void>();
  conn: ConnectionState = { phase: 'connected', context: 'c', server: 'https://x', since: new Date(0).toISOString(), problem: undefined };
  find(): ServiceState | undefined {
    return this.state;
  }
  connection(): ConnectionState {
    return this.conn;
  }
  environments() {
    return [
      { env: 'test', namespace: 'user1-test' },
      { env: 'prod', namespace: 'user1-prod' },
    ];
  }
  onDidChangeServices(l: (keys: string[]) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  onDidChangeConnection(l: (c: ConnectionState) => void): () => void {
    this.connListeners.add(l);
    return () => this.connListeners.delete(l);
  }
  setConnection(c: Partial<ConnectionState>): void {
    this.conn = { ...this.conn, ...c };
    for (const l of this.connListeners) l(this.conn);
  }
  set(s: ServiceState): void {
    this.state = s;
    for (const l of this.listeners) l([s.key]);
  }
}

const svc = (isvc: Record<string, unknown>, app?: Record<string, unknown>, desired = 50): ServiceState =>
  deriveService(isvc, {
    env: 'test',
    model: 'jukebox',
    desired: { percent: desired, version: 'v', commit: SHA_B },
    ...(app ? { application: observeApplication(app) } : {}),
  });

/** A follow of SHA_B at 50% from a store at `app` (SHA_A by default) whose refresh hook answers `outcome`. */
function followWithRefresh(outcome: () => Promise<RefreshOutcome>, at = svc(split(20), application({ revision: SHA_A }))) {
  const store = new FakeStore();
  store.set(at);
  const steps: FollowStep[] = [];
  const done = followChange(
    store as unknown as ClusterStore,
    { env: 'test', model: 'jukebox', sha: SHA_B, percent: 50, timeoutMs: 5000, onStep: (s) => steps.push(s) },
    { requestRefresh: outcome, applicationsKnown: () => true },
  );
  return { store, steps, done };
}

describe('follow', () => {
  it('sha comparison accepts a short sha, not a different one', () => {
    assert.equal(isSynced(svc(split(50), application({ revision: SHA_B })), SHA_B.slice(0, 7)), true);
    assert.equal(isSynced(svc(split(50), application({ revision: SHA_A })), SHA_B), false);
    assert.equal(isSynced(svc(split(50), application({ revision: SHA_B, sync: 'OutOfSync' })), SHA_B), false);
    assert.equal(isSynced(svc(split(50)), SHA_B), false);
  });

  it('rolled out means the split and spec equal the new value', () => {
    assert.equal(isRolledOut(svc(split(50)), 50), true);
    assert.equal(isRolledOut(svc(split(20)), 50), false);
    assert.equal(isRolledOut(svc(split(50, { latestCreated: 'jukebox-predictor-00003' })), 50), false);
  });

  it('steps pushed → synced → rolled-out, resolving with the live state; refresh asked once', async () => {
    const store = new FakeStore();
    store.set(svc(split(20), application({ revision: SHA_A })));
    const steps: FollowStep[] = [];
    const refreshed: string[] = [];
    const done = followChange(
      store as unknown as ClusterStore,
      { env: 'test', model: 'jukebox', sha: SHA_B, percent: 50, timeoutMs: 5000, onStep: (s) => steps.push(s) },
      { requestRefresh: async (a) => void refreshed.push(a), applicationsKnown: () => true },
    );
    assert.deepEqual(
      steps.map((s) => s.step),
      ['pushed'],
    );
    store.set(svc(split(20), application({ revision: SHA_B, sync: 'OutOfSync', phase: 'Running' })));
    assert.deepEqual(
      steps.map((s) => s.step),
      ['pushed'],
    );
    store.set(svc(split(20, { spec: 50, generation: 3, observedGeneration: 2 }), application({ revision: SHA_B })));
    assert.deepEqual(
      steps.map((s) => s.step),
      ['pushed', 'synced'],
    );
    store.set(svc(split(50, { generation: 3, observedGeneration: 3 }), application({ revision: SHA_B })));
    const final = await done;
    assert.deepEqual(
      steps.map((s) => s.step),
      ['pushed', 'synced', 'rolled-out'],
    );
    assert.equal(final.latestPercent, 50);
    assert.match(steps[1]!.message, /Argo CD synced jukebox-test at bbbbbbb/);
    assert.match(steps[2]!.message, /KServe serves prev 50% · latest 50%/);
    assert.deepEqual(refreshed, ['jukebox-test']);
    assert.equal(store.listeners.size, 0, 'unsubscribed');
  });

  it('a commit landing after the sync (Argo CD moves on to it) does not keep it waiting: resolves once rolled out', async () => {
    // What the browser suite does: a commit pushed right after a canary change. Argo CD then
    // reports Synced at that newer commit, never again at ours.
    const SHA_C = 'c'.repeat(40);
    const store = new FakeStore();
    store.set(svc(split(20), application({ revision: SHA_A })));
    const steps: FollowStep[] = [];
    const done = followChange(
      store as unknown as ClusterStore,
      { env: 'test', model: 'jukebox', sha: SHA_B, percent: 50, timeoutMs: 2000, onStep: (s) => steps.push(s) },
      { applicationsKnown: () => true },
    );
    store.set(svc(split(20, { spec: 50, generation: 3, observedGeneration: 2 }), application({ revision: SHA_B })));
    store.set(svc(split(20, { spec: 50, generation: 3, observedGeneration: 2 }), application({ revision: SHA_C })));
    store.set(svc(split(50, { generation: 3, observedGeneration: 3 }), application({ revision: SHA_C })));
    assert.equal((await done).latestPercent, 50);
    assert.deepEqual(
      steps.map((s) => s.step),
      ['pushed', 'synced', 'rolled-out'],
    );
  });

  it('resolves only once the refresh request to Argo CD is answered (nothing left in flight for a dispose to cut)', async () => {
    const store = new FakeStore();
    store.set(svc(split(20), application({ revision: SHA_A })));
    let answer: () => void = () => undefined;
    const refreshing = new Promise<void>((r) => (answer = r));
    let resolved = false;
    const done = followChange(
      store as unknown as ClusterStore,
      { env: 'test', model: 'jukebox', sha: SHA_B, percent: 50, timeoutMs: 5000 },
      { requestRefresh: () => refreshing, applicationsKnown: () => true },
    );
    void done.then(() => (resolved = true));
    // Argo CD synced by itself (its own poll) before the refresh request was answered
    store.set(svc(split(50), application({ revision: SHA_B })));
    await new Promise((r) => setImmediate(r));
    assert.equal(resolved, false, 'the follow waits for the refresh request');
    answer();
    assert.equal((await done).latestPercent, 50);
  });

  it("no right to refresh (view only): a waiting step says the follow waits for Argo CD's own poll, then synced and rolled out", async () => {
    const { store, steps, done } = followWithRefresh(async () => 'not-allowed');
    await until(() => steps.length === 2, 'the refresh step');
    assert.deepEqual(
      steps.map((s) => [s.step, s.waiting ?? false]),
      [
        ['pushed', false],
        ['refresh', true],
      ],
    );
    assert.equal(steps[1]!.message, "Waiting for Argo CD's own poll of git (up to 3 min by default): no right to refresh jukebox-test");
    store.set(svc(split(50), application({ revision: SHA_B })));
    await done;
    assert.deepEqual(
      steps.map((s) => s.step),
      ['pushed', 'refresh', 'synced', 'rolled-out'],
    );
  });

  it('a refresh sent says so; one answered after the sync adds no step', async () => {
    const asked = followWithRefresh(async () => 'asked', svc(split(50), application({ revision: SHA_A })));
    await until(() => asked.steps.length === 2, 'the refresh step');
    assert.deepEqual(asked.steps[1], { step: 'refresh', message: 'Asked Argo CD to refresh jukebox-test', state: asked.store.state });
    asked.store.set(svc(split(50), application({ revision: SHA_B })));
    await asked.done;
    let answer: (o: RefreshOutcome) => void = () => undefined;
    const late = followWithRefresh(() => new Promise((r) => (answer = r)), svc(split(50), application({ revision: SHA_B })));
    answer('not-allowed');
    await late.done;
    assert.deepEqual(
      late.steps.map((s) => s.step),
      ['pushed', 'synced', 'rolled-out'],
    );
  });

  it('a sync timeout without a refresh says how often Argo CD polls by default', async () => {
    const store = new FakeStore();
    store.set(svc(split(20), application({ revision: SHA_A })));
    const p = followChange(
      store as unknown as ClusterStore,
      { env: 'test', model: 'jukebox', sha: SHA_B, percent: 50, timeoutMs: 300 },
      { requestRefresh: async () => 'not-allowed', applicationsKnown: () => true },
    );
    await assert.rejects(p, (e: Error & { hint?: string }) => /without a refresh, Argo CD polls git every 2 to 3 min by default/.test(e.hint ?? ''));
  });

  it('a failed refresh request does not fail the follow', async () => {
    const store = new FakeStore();
    store.set(svc(split(50), application({ revision: SHA_B })));
    const final = await followChange(
      store as unknown as ClusterStore,
      { env: 'test', model: 'jukebox', sha: SHA_B, percent: 50, timeoutMs: 5000 },
      { requestRefresh: () => Promise.reject(new Error('boom')), applicationsKnown: () => true },
    );
    assert.equal(final.latestPercent, 50);
  });

  it('unauthorized: ends at once with the problem, its hint, and the pushed commit', async () => {
    const store = new FakeStore();
    store.set(svc(split(20), application({ revision: SHA_A })));
    const p = followChange(store as unknown as ClusterStore, { env: 'test', model: 'jukebox', sha: SHA_B, percent: 50, timeoutMs: 600000 });
    store.setConnection({
      phase: 'disconnected',
      problem: {
        kind: 'unauthorized',
        message: 'The cluster at https://x refused the credentials: not logged in, or the token expired.',
        hint: 'Log in again (oc login / kubectl config).',
      },
    });
    await assert.rejects(p, (e: Error & { code?: string; hint?: string }) => {
      assert.equal(e.code, 'unauthorized');
      assert.match(
        e.message,
        /^Cannot follow jukebox in test: The cluster at https:\/\/x refused the credentials.* The change itself is pushed \(commit bbbbbbb\): nothing is lost\.$/,
      );
      assert.match(e.hint ?? '', /^Log in again .*kserve-canary status jukebox --env test/);
      return true;
    });
    assert.equal(store.listeners.size + store.connListeners.size, 0, 'unsubscribed');
  });

  it('a problem already there when following starts (no kubeconfig) ends it at once', async () => {
    const store = new FakeStore();
    store.conn = { ...store.conn, phase: 'idle', problem: { kind: 'no-kubeconfig', message: 'No kubeconfig found.', hint: 'Log in with `oc login`.' } };
    await assert.rejects(
      followChange(store as unknown as ClusterStore, { env: 'test', model: 'jukebox', sha: SHA_B, percent: 50, timeoutMs: 600000 }),
      /No kubeconfig found\. The change itself is pushed \(commit bbbbbbb\)/,
    );
  });

  it('unreachable: ends after the grace unless the connection comes back within it', async () => {
    const unreachable = {
      phase: 'disconnected' as const,
      problem: { kind: 'unreachable' as const, message: 'The cluster at https://x is unreachable (ECONNREFUSED).', hint: 'Check the VPN.' },
    };
    // back within the grace: the follow goes on and resolves
    const store = new FakeStore();
    store.set(svc(split(20), application({ revision: SHA_A })));
    const ok = followChange(store as unknown as ClusterStore, {
      env: 'test',
      model: 'jukebox',
      sha: SHA_B,
      percent: 50,
      timeoutMs: 600000,
      problemGraceMs: 600000,
    });
    store.setConnection(unreachable);
    store.setConnection({ phase: 'connected', problem: undefined });
    store.set(svc(split(50), application({ revision: SHA_B })));
    assert.equal((await ok).latestPercent, 50);
    // lasting longer than the grace: fails with the problem, not a timeout
    const store2 = new FakeStore();
    store2.set(svc(split(20), application({ revision: SHA_A })));
    const p = followChange(store2 as unknown as ClusterStore, {
      env: 'test',
      model: 'jukebox',
      sha: SHA_B,
      percent: 50,
      timeoutMs: 600000,
      problemGraceMs: 30,
    });
    store2.setConnection(unreachable);
    await assert.rejects(
      p,
      (e: Error & { code?: string }) => e.code === 'unreachable' && /unreachable \(ECONNREFUSED\)\. The change itself is pushed/.test(e.message),
    );
  });

  it('forbidden: only a namespace the service or its Application lives in stops it', async () => {
    const forbidden = (namespace: string) => ({
      kind: 'forbidden' as const,
      message: `Forbidden: the current user may not watch this in namespace ${namespace}.`,
      hint: `Ask for view access to ${namespace}.`,
      namespace,
    });
    const store = new FakeStore();
    store.set(svc(split(20), application({ revision: SHA_A })));
    const hooks = (ps: ReturnType<typeof forbidden>[]) => ({ problems: () => ps, toolingsNamespace: () => 'user1-toolings' });
    const other = followChange(
      store as unknown as ClusterStore,
      { env: 'test', model: 'jukebox', sha: SHA_B, percent: 50, timeoutMs: 600000 },
      hooks([forbidden('user1-prod')]),
    );
    store.set(svc(split(50), application({ revision: SHA_B })));
    assert.equal((await other).latestPercent, 50);
    store.set(svc(split(20), application({ revision: SHA_A })));
    await assert.rejects(
      followChange(
        store as unknown as ClusterStore,
        { env: 'test', model: 'jukebox', sha: SHA_B, percent: 50, timeoutMs: 600000 },
        hooks([forbidden('user1-prod'), forbidden('user1-toolings')]),
      ),
      /namespace user1-toolings\. The change itself is pushed/,
    );
    await assert.rejects(
      followChange(
        store as unknown as ClusterStore,
        { env: 'test', model: 'jukebox', sha: SHA_B, percent: 50, timeoutMs: 600000 },
        hooks([forbidden('user1-test')]),
      ),
      /namespace user1-test\./,
    );
  });

  it('without Argo CD (Applications listed, none for it): waits for the cluster only', async () => {
    const store = new FakeStore();
    store.set(svc(split(20)));
    const steps: string[] = [];
    const done = followChange(
      store as unknown as ClusterStore,
      { env: 'test', model: 'jukebox', sha: SHA_B, percent: 50, timeoutMs: 5000, onStep: (s) => steps.push(s.message) },
      { applicationsKnown: () => true },
    );
    store.set(svc(split(50)));
    await done;
    assert.match(steps[1]!, /No Argo CD Application jukebox-test/);
  });

  it('times out naming the stuck step: sync, then rollout', async () => {
    const store = new FakeStore();
    store.set(svc(split(20), application({ revision: SHA_A })));
    await assert.rejects(
      followChange(store as unknown as ClusterStore, { env: 'test', model: 'jukebox', sha: SHA_B, percent: 50, timeoutMs: 50 }),
      (e: Error & { code?: string }) =>
        e.code === 'sync-timeout' && /Argo CD has not synced jukebox-test to bbbbbbb: it reports Synced at aaaaaaa/.test(e.message),
    );
    store.set(svc(split(20), application({ revision: SHA_B })));
    await assert.rejects(
      followChange(store as unknown as ClusterStore, { env: 'test', model: 'jukebox', sha: SHA_B, percent: 50, timeoutMs: 50 }),
      (e: Error & { code?: string }) =>
        e.code === 'rollout-timeout' && /KServe has not rolled out prev 50% · latest 50%: the cluster's spec has canaryTrafficPercent 20/.test(e.message),
    );
  });

  it('stops on abort', async () => {
    const store = new FakeStore();
    store.set(svc(split(20), application({ revision: SHA_A })));
    const ac = new AbortController();
    const p = followChange(store as unknown as ClusterStore, { env: 'test', model: 'jukebox', sha: SHA_B, percent: 50, signal: ac.signal });
    ac.abort();
    await assert.rejects(p, /Stopped waiting for jukebox in test/);
    assert.equal(store.listeners.size, 0);
  });

  it('stuckAt with no InferenceService', () => {
    assert.match(stuckAt(undefined, { env: 'test', model: 'jukebox', sha: SHA_B, percent: 50 }, false), /KServe has no InferenceService jukebox in test/);
  });
});

describe('status renderers', () => {
  const conn: ConnectionState = {
    phase: 'disconnected',
    context: 'c',
    server: 'https://x',
    since: '2026-01-01T00:00:05.000Z',
    disconnectedSince: '2026-01-01T00:00:00.000Z',
    problem: { kind: 'unreachable', message: 'The cluster at https://x is unreachable (ECONNREFUSED).', hint: 'Check the VPN.' },
    episode: 1,
  };
  it('table: notes for services that are not live, "disconnected since" under it', () => {
    const out = renderTable([svc(split(20), application({ revision: SHA_B }))], conn, Date.parse('2026-01-01T00:00:00Z'));
    assert.match(out, /^ENV +NAME +URL/);
    assert.match(out, /Synced@bbbbbbb +drift\n/);
    assert.match(out, /\n {2}test\/jukebox: /);
    assert.match(out, /disconnected since 2026-01-01T00:00:00.000Z: The cluster at https:\/\/x is unreachable/);
  });
  it('json: null for absent values, never undefined-dropped keys', () => {
    const doc = statusJson([svc(split(20))], conn) as { connection: { problem: { namespace: unknown } }; services: { application: unknown; model: unknown }[] };
    assert.equal(doc.connection.problem.namespace, null);
    assert.equal(doc.services[0]!.application, null);
    assert.equal(doc.services[0]!.model, 'jukebox');
    assert.ok(!JSON.stringify(doc).includes('undefined'));
  });
});
