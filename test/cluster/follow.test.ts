/**
 * follow() driven by a fake store: steps in order, resolution only when synced at the sha and
 * rolled out, a timeout naming the stuck step, abort; and the status renderers.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClusterStore, FollowStep } from '../../src/cluster/api';
import { deriveService, observeApplication } from '../../src/cluster/derive';
import { followChange, isRolledOut, isSynced, stuckAt } from '../../src/cluster/follow';
import type { ConnectionState, ServiceState } from '../../src/cluster/types';
import { renderTable, statusJson } from '../../src/cli/commands/status';
import { application, split, SHA_A, SHA_B } from './builders';

class FakeStore {
  state: ServiceState | undefined;
  listeners = new Set<(keys: string[]) => void>();
  conn: ConnectionState = { phase: 'connected', context: 'c', server: 'https://x', since: new Date(0).toISOString(), problem: undefined };
  find(): ServiceState | undefined {
    return this.state;
  }
  connection(): ConnectionState {
    return this.conn;
  }
  onDidChangeServices(l: (keys: string[]) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  set(s: ServiceState): void {
    this.state = s;
    for (const l of this.listeners) l([s.key]);
  }
}

const svc = (isvc: Record<string, unknown>, app?: Record<string, unknown>, desired = 50): ServiceState =>
  deriveService(isvc, { env: 'test', model: 'jukebox', desired: { percent: desired, version: 'v', commit: SHA_B }, ...(app ? { application: observeApplication(app) } : {}) });

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
    assert.equal(isRolledOut(svc(split(50, { generation: 3, observedGeneration: 2 })), 50), false);
  });

  it('steps pushed → synced → rolled-out, resolving with the live state; refresh asked once', async () => {
    const store = new FakeStore();
    store.set(svc(split(20), application({ revision: SHA_A })));
    const steps: FollowStep[] = [];
    const refreshed: string[] = [];
    const done = followChange(store as unknown as ClusterStore, { env: 'test', model: 'jukebox', sha: SHA_B, percent: 50, timeoutMs: 5000, onStep: (s) => steps.push(s) }, { requestRefresh: async (a) => void refreshed.push(a), applicationsKnown: () => true });
    assert.deepEqual(steps.map((s) => s.step), ['pushed']);
    store.set(svc(split(20), application({ revision: SHA_B, sync: 'OutOfSync', phase: 'Running' })));
    assert.deepEqual(steps.map((s) => s.step), ['pushed']);
    store.set(svc(split(20, { spec: 50, generation: 3, observedGeneration: 2 }), application({ revision: SHA_B })));
    assert.deepEqual(steps.map((s) => s.step), ['pushed', 'synced']);
    store.set(svc(split(50, { generation: 3, observedGeneration: 3 }), application({ revision: SHA_B })));
    const final = await done;
    assert.deepEqual(steps.map((s) => s.step), ['pushed', 'synced', 'rolled-out']);
    assert.equal(final.latestPercent, 50);
    assert.match(steps[1]!.message, /Argo CD synced jukebox-test at bbbbbbb/);
    assert.match(steps[2]!.message, /KServe serves prev 50% · latest 50%/);
    assert.deepEqual(refreshed, ['jukebox-test']);
    assert.equal(store.listeners.size, 0, 'unsubscribed');
  });

  it('without Argo CD (Applications listed, none for it): waits for the cluster only', async () => {
    const store = new FakeStore();
    store.set(svc(split(20)));
    const steps: string[] = [];
    const done = followChange(store as unknown as ClusterStore, { env: 'test', model: 'jukebox', sha: SHA_B, percent: 50, timeoutMs: 5000, onStep: (s) => steps.push(s.message) }, { applicationsKnown: () => true });
    store.set(svc(split(50)));
    await done;
    assert.match(steps[1]!, /No Argo CD Application jukebox-test/);
  });

  it('times out naming the stuck step: sync, then rollout', async () => {
    const store = new FakeStore();
    store.set(svc(split(20), application({ revision: SHA_A })));
    await assert.rejects(
      followChange(store as unknown as ClusterStore, { env: 'test', model: 'jukebox', sha: SHA_B, percent: 50, timeoutMs: 50 }),
      (e: Error & { code?: string }) => e.code === 'sync-timeout' && /Argo CD has not synced jukebox-test to bbbbbbb: it reports Synced at aaaaaaa/.test(e.message),
    );
    store.set(svc(split(20), application({ revision: SHA_B })));
    await assert.rejects(
      followChange(store as unknown as ClusterStore, { env: 'test', model: 'jukebox', sha: SHA_B, percent: 50, timeoutMs: 50 }),
      (e: Error & { code?: string }) => e.code === 'rollout-timeout' && /KServe has not rolled out prev 50% · latest 50%: the cluster's spec has canaryTrafficPercent 20/.test(e.message),
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
