/**
 * The refresh request of store-argo.ts against a scripted transport: the right to patch
 * Applications is learnt once per connection (a SelfSubjectAccessReview, or the first 403),
 * a refused patch is never sent again on that connection, a new connection asks again.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RequestError } from '../../src/cluster/classify';
import { ArgoApplications } from '../../src/cluster/store-argo';
import type { Transport } from '../../src/cluster/transport';

/** A transport answering the access review with `review` (or throwing it) and the patch with `patch`. */
function transport(review: boolean | Error, patch: 'ok' | number) {
  const calls: string[] = [];
  const t = {
    mayI: async (verb: string, r: { plural: string }, ns: string) => {
      calls.push(`review ${verb} ${r.plural} ${ns}`);
      if (review instanceof Error) throw review;
      return review;
    },
    mergePatch: async (_r: unknown, ns: string, name: string) => {
      calls.push(`patch ${ns}/${name}`);
      if (patch !== 'ok') throw new RequestError(`HTTP ${patch}`, patch);
    },
  };
  return { t: t as unknown as Transport, calls };
}

function argo() {
  const lines: string[] = [];
  const log = { info: (m: string) => void lines.push(m), warn: () => undefined, error: () => undefined };
  return { apps: new ArgoApplications(log), lines };
}

describe('Argo CD refresh under RBAC', () => {
  it('view only (the review says no): no patch is ever sent on this connection, one log line', async () => {
    const { apps, lines } = argo();
    const { t, calls } = transport(false, 403);
    assert.equal(await apps.requestRefresh(t, 'user1-toolings', 'jukebox-test'), 'not-allowed');
    assert.equal(await apps.requestRefresh(t, 'user1-toolings', 'jukebox-prod'), 'not-allowed');
    assert.deepEqual(calls, ['review patch applications user1-toolings']);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /Not allowed to patch Applications in user1-toolings \(view only\): follows wait for Argo CD's own poll/);
  });

  it('no review answered (an old server): the first 403 is remembered', async () => {
    const { apps } = argo();
    const { t, calls } = transport(new RequestError('HTTP 404', 404), 403);
    assert.equal(await apps.requestRefresh(t, 'user1-toolings', 'jukebox-test'), 'not-allowed');
    assert.equal(await apps.requestRefresh(t, 'user1-toolings', 'jukebox-test'), 'not-allowed');
    assert.deepEqual(calls, ['review patch applications user1-toolings', 'patch user1-toolings/jukebox-test']);
  });

  it('allowed: each follow sends its refresh, the review is asked once', async () => {
    const { apps } = argo();
    const { t, calls } = transport(true, 'ok');
    assert.equal(await apps.requestRefresh(t, 'user1-toolings', 'jukebox-test'), 'asked');
    assert.equal(await apps.requestRefresh(t, 'user1-toolings', 'jukebox-test'), 'asked');
    assert.deepEqual(calls, ['review patch applications user1-toolings', 'patch user1-toolings/jukebox-test', 'patch user1-toolings/jukebox-test']);
  });

  it('another failure is not taken for a refusal: the next follow tries again', async () => {
    const { apps, lines } = argo();
    const { t, calls } = transport(true, 500);
    assert.equal(await apps.requestRefresh(t, 'user1-toolings', 'jukebox-test'), 'failed');
    assert.equal(await apps.requestRefresh(t, 'user1-toolings', 'jukebox-test'), 'failed');
    assert.equal(calls.filter((c) => c.startsWith('patch')).length, 2);
    assert.match(lines[0]!, /Could not ask Argo CD to refresh jukebox-test \(HTTP 500\); it will notice the commit at its own poll of git/);
  });

  it('a new connection, another toolings namespace or forget() learns the right again', async () => {
    const { apps } = argo();
    const first = transport(false, 403);
    await apps.requestRefresh(first.t, 'user1-toolings', 'jukebox-test');
    const second = transport(true, 'ok');
    assert.equal(await apps.requestRefresh(second.t, 'user1-toolings', 'jukebox-test'), 'asked', 'a new transport is a new connection');
    assert.equal(await apps.requestRefresh(second.t, 'user1-mlops', 'jukebox-test'), 'asked');
    assert.equal(second.calls.filter((c) => c.startsWith('review')).length, 2);
    apps.forget();
    await apps.requestRefresh(second.t, 'user1-mlops', 'jukebox-test');
    assert.equal(second.calls.filter((c) => c.startsWith('review')).length, 3);
  });
});
