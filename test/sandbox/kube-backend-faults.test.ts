/**
 * Faults only a real kube-apiserver gives, each an episode the product's store lives through:
 * 429 with Retry-After from API Priority and Fairness (small --max-requests-inflight and a
 * FlowSchema that rejects instead of queueing for user1), 410 Gone after etcd compaction (short
 * --etcd-compaction-interval) and a restart that breaks every watch, a token revoked while
 * watching (token file edited, server restarted), and watch bookmarks. Each ends with the store
 * equal to the server's truth and one classified problem (one episode) per fault.
 */
// needs: kube-apiserver (scripts/test.mjs builds it with scripts/build-apiserver.mjs before the unit stage)
import assert from 'node:assert/strict';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import type { Store } from '../../src/cluster/store';
import { kubeCall, kubeRequest } from '../../src/sandbox/kube-backend-http';
import { episodeOver, type RecordingLog } from '../cluster/sandbox-helpers';
import { converged, openKube, patchPercent, storeOn, until, type TestKube } from './kube-backend-helpers';

const ISVCS = '/apis/serving.kserve.io/v1beta1/namespaces/user1-test/inferenceservices';
const FLOW = '/apis/flowcontrol.apiserver.k8s.io/v1';

describe('real-server faults (kube-apiserver backend)', () => {
  let sb: TestKube;
  let store: Store;
  let log: RecordingLog;
  before(async () => {
    sb = await openKube({ apiserverFlags: ['--max-requests-inflight=4', '--max-mutating-requests-inflight=2', '--etcd-compaction-interval=2s'] });
    await guaranteeUserSeat();
    ({ store, log } = await storeOn(sb));
    await store.ready();
    await converged(sb, store);
  });
  after(async () => {
    store?.dispose();
    await sb?.cleanup();
  });

  /**
   * Six seats in all (4 + 2) leave the global-default priority level, where user1's requests
   * land, a nominal 1 seat of which half is lendable: its lower bound rounds to 0. After a
   * restart the admin's LISTs (the controllers', the truth reads of converged()) are
   * estimated at 10 seats while the CRDs' object counts are stale, the exempt level's demand
   * high watermark (11) then exceeds the server's 6 seats, and every non-exempt level is held at
   * its lower bound (k8s.io/apiserver apf_controller.go updateBorrowingLocked): global-default
   * dispatches nothing, user1 waits in its queue and gets 429 after 15 s, for as long as the
   * admin keeps listing (measured: > 80 s, current_limit_seats{global-default} 0). A real
   * cluster's 600 seats give global-default a lower bound of 12. This priority level gives
   * user1 what a real cluster gives it: a seat nobody borrows (the 429 test's FlowSchema has
   * a higher precedence and wins while it exists).
   */
  async function guaranteeUserSeat() {
    await userPriority('workshop-users', 1000, {
      nominalConcurrencyShares: 20,
      lendablePercent: 0,
      limitResponse: { type: 'Queue', queuing: { queues: 16, handSize: 4, queueLengthLimit: 50 } },
    });
  }

  /** A priority level `name` (spec.limited = `limited`) and the FlowSchema of that name sending all of user1's requests to it. */
  async function userPriority(name: string, matchingPrecedence: number, limited: Record<string, unknown>) {
    await kubeCall(sb.admin(), 'POST', `${FLOW}/prioritylevelconfigurations`, { metadata: { name }, spec: { type: 'Limited', limited } });
    await kubeCall(sb.admin(), 'POST', `${FLOW}/flowschemas`, {
      metadata: { name },
      spec: {
        priorityLevelConfiguration: { name },
        matchingPrecedence,
        distinguisherMethod: { type: 'ByUser' },
        rules: [
          {
            subjects: [{ kind: 'User', user: { name: 'user1' } }],
            resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'], namespaces: ['*'], clusterScope: true }],
          },
        ],
      },
    });
  }

  /** Waits for the previous episode to end; returns where this one's log lines start. */
  async function quiet() {
    await until(() => episodeOver(log) && store.connection().problem === undefined, 'the previous episode to end', 60000);
    return { episode: store.connection().episode ?? 0, from: log.problems().length };
  }

  async function endsConverged(mark: { episode: number; from: number }): Promise<string[]> {
    await converged(sb, store);
    await until(() => episodeOver(log) && store.connection().phase === 'connected', 'the episode to end', 60000);
    assert.equal(store.connection().episode, mark.episode + 1, 'one episode');
    const lines = log.problems().slice(mark.from);
    assert.equal(new Set(lines).size, lines.length, `a problem logged twice in one episode:\n${lines.join('\n')}`);
    return lines;
  }

  it('watch bookmarks: the real server sends BOOKMARK events carrying a resourceVersion, no object', async () => {
    const list = (await kubeCall(sb.asUser(), 'GET', ISVCS)).body as { metadata: { resourceVersion: string } };
    const events = await new Promise<{ type: string; object: { metadata: Record<string, unknown> } }[]>((resolve, reject) => {
      // The watch cache sends a bookmark 2 s before the watch's deadline, and none at all when the
      // watcher is registered after that point (k8s.io/apiserver cacher: nextBookmarkTime): a
      // deadline of 10 s leaves a loaded machine 8 s to register it.
      const url = new URL(`${ISVCS}?watch=1&allowWatchBookmarks=true&timeoutSeconds=10&resourceVersion=${list.metadata.resourceVersion}`, sb.server);
      const got: string[] = [];
      https
        .get(url, { ca: sb.asUser().ca, headers: { authorization: `Bearer ${sb.asUser().token}` } }, (res) => {
          res.on('data', (d: Buffer) => got.push(d.toString('utf8')));
          res.on('end', () =>
            resolve(
              got
                .join('')
                .split('\n')
                .filter(Boolean)
                .map((l) => JSON.parse(l) as never),
            ),
          );
        })
        .on('error', reject);
    });
    const bookmarks = events.filter((e) => e.type === 'BOOKMARK');
    assert.ok(bookmarks.length >= 1, JSON.stringify(events));
    assert.ok(Number(bookmarks[0]!.object.metadata.resourceVersion) >= Number(list.metadata.resourceVersion));
    assert.equal(bookmarks[0]!.object.metadata.name, undefined);
    // and the store, resuming its watches from bookmarks, still equals the server
    await patchPercent(sb, 'user1-test', 'jukebox', 20);
    await converged(sb, store);
  });

  it('429 with Retry-After from API Priority and Fairness: one problem, then converged', async () => {
    const mark = await quiet();
    await userPriority('workshop-tight', 100, { nominalConcurrencyShares: 1, lendablePercent: 0, limitResponse: { type: 'Reject' } });
    let retryAfter: string | undefined;
    // user1's own burst and the store's relists compete for the one seat until the store meets a 429
    await until(
      async () => {
        const burst = await Promise.all(Array.from({ length: 24 }, () => kubeRequest(sb.asUser(), 'GET', ISVCS).catch(() => undefined)));
        const rejected = burst.find((a) => a?.status === 429);
        if (rejected) retryAfter = String(rejected.headers['retry-after']);
        void store.refresh().catch(() => undefined);
        return retryAfter !== undefined && log.problems(/429/).length > 0;
      },
      'a 429 seen by the store',
      120000,
    );
    assert.match(retryAfter!, /^\d+$/);
    await kubeCall(sb.admin(), 'DELETE', `${FLOW}/flowschemas/workshop-tight`);
    await kubeCall(sb.admin(), 'DELETE', `${FLOW}/prioritylevelconfigurations/workshop-tight`);
    await patchPercent(sb, 'user1-test', 'jukebox', 30);
    const lines = await endsConverged(mark);
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0]!, /HTTP 429/);
  });

  it('410 Gone after etcd compaction for a list at an old resourceVersion; the store stays equal to the server', async () => {
    await quiet();
    const before = (await kubeCall(sb.admin(), 'GET', ISVCS)).body as { metadata: { resourceVersion: string } };
    await patchPercent(sb, 'user1-test', 'jukebox', 40);
    await patchPercent(sb, 'user1-test', 'jukebox', 45);
    // a list at exactly the old version is served by etcd: Gone once compaction passed it
    const gone = await until(async () => {
      const a = await kubeRequest(sb.admin(), 'GET', `${ISVCS}?resourceVersion=${before.metadata.resourceVersion}&resourceVersionMatch=Exact`);
      return a.status === 410 ? a : undefined;
    }, 'etcd compaction to expire the old resourceVersion');
    assert.equal((gone.body as { reason?: string }).reason, 'Expired');
    await patchPercent(sb, 'user1-test', 'jukebox', 55);
    await converged(sb, store);
    assert.equal(store.get('user1-test/jukebox')?.specPercent, 55);
  });

  // What the real server answers (logged while reproducing): with the revoked token, during
  // the restart ECONNREFUSED, then connections accepted but unanswered for seconds, then 401
  // Unauthorized (authentication comes before authorization: a revoked token never gets 403);
  // with the new token in that window, 403 "cannot list resource" in every namespace for a
  // moment (RBAC's caches filling), the same body as a real denial. The store stayed behind
  // only while user1 had no APF seat at all (guaranteeUserSeat); with one, it converges
  // right after the new login.
  it('a token revoked while watching (token file edited, server restarted): unauthorized, then back after the new login', async () => {
    const mark = await quiet();
    sb.rotateUserToken({ rewriteKubeconfig: false });
    await sb.restart();
    await until(() => store.connection().problem?.kind === 'unauthorized', 'the store to see the revoked token', 60000);
    await patchPercent(sb, 'user1-test', 'jukebox', 65);
    sb.refreshKubeconfig(); // like `oc login` again
    const lines = await endsConverged(mark);
    assert.equal(lines.filter((l) => /refused the credentials/.test(l)).length, 1, lines.join('\n'));
    assert.equal(store.get('user1-test/jukebox')?.specPercent, 65);
  });
});
