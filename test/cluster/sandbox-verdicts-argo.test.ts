/**
 * The Argo CD verdict rules of src/cluster/derive.ts through the real client against the
 * sandbox, on both KServe dialects: Applications shaped like Argo CD's controller writes them
 * (fixtures/argo-application.ts) replace the sandbox's (its Argo CD paused): sync Unknown or
 * missing is "unknown" with the condition, never "drift"; a multi-source Application is judged
 * by the source that is the checkout's remote, in another URL form than the Application's.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ServiceState } from '../../src/cluster/types';
import * as A from './fixtures/argo-application';
import { kubeWriter, waitForState, type KubeWriter } from './sandbox-kube-writer';
import { patchSpec, sandboxAndStore } from './sandbox-helpers';
import { git as runGit } from '../core/git-helpers';

const KEY = 'user1-test/jukebox';
const TOOLINGS = 'user1-toolings';
const CHART_SHA = 'c0ffee0c0ffee0c0ffee0c0ffee0c0ffee0c0ffe';

for (const dialect of ['legacy', 'current'] as const) {
  describe(`Argo CD verdicts against the sandbox, KServe ${dialect} dialect`, () => {
    let ctx: Awaited<ReturnType<typeof sandboxAndStore>>;
    let kube: KubeWriter;
    const git = (...args: string[]) => runGit(ctx.sb.gitopsClone, args).trim();
    const waitFor = (pred: (s: ServiceState) => boolean, what: string) => waitForState(ctx.store, KEY, pred, what);

    before(async () => {
      // the writer plays Argo CD, which writes its Applications: edit, not the workshop user's view, in toolings
      ctx = await sandboxAndStore({ kserveDialect: dialect, viewOnlyNamespaces: [] });
      await ctx.store.ready();
      kube = await kubeWriter(ctx.sb);
      await waitFor((s) => s.verdict === 'live', 'live');
      ctx.sb.controller.pauseArgo(true);
    });
    after(async () => ctx?.close());

    it('sync Unknown after a ComparisonError: unknown with its message, even while the cluster differs from git', async () => {
      patchSpec(ctx.sb, 'user1-test', 'jukebox', 70); // KServe applies it: prev 30 / latest 70, git asks for 20
      await waitFor((s) => s.verdict === 'drift', 'drift while Argo CD says Synced');
      const msg =
        'Failed to load target state: failed to generate manifest for source 1 of 1: rpc error: code = Unknown desc = failed to list refs: dial tcp: lookup git.example.com: no such host';
      await kube.application(TOOLINGS, 'jukebox-test', A.comparisonError({}, ctx.sb.gitopsRemote, msg));
      const s = await waitFor((x) => x.application?.syncStatus === 'Unknown', 'sync Unknown');
      assert.equal(s.verdict, 'unknown');
      assert.equal(
        s.verdictReason,
        `Argo CD cannot compare jukebox-test with git (sync status Unknown; ComparisonError: ${msg}); the cluster serves prev 30% · latest 70%, git asks for prev 80% · latest 20%.`,
      );
    });

    it('no status.sync yet (never compared): unknown, not drift', async () => {
      await kube.application(TOOLINGS, 'jukebox-test', A.notComparedYet({}, ctx.sb.gitopsRemote));
      const s = await waitFor((x) => x.application?.syncStatus === undefined && x.application?.condition === undefined, 'no sync status');
      assert.equal(s.verdict, 'unknown');
      assert.match(s.verdictReason, /^Argo CD cannot compare jukebox-test with git \(no sync status; it reports no condition\)/);
      patchSpec(ctx.sb, 'user1-test', 'jukebox', 20);
      await waitFor((x) => x.specPercent === 20 && x.latestPercent === 20, "back at git's 20");
    });

    it("multi-source: revisions[i] of the source that is the checkout's remote (https remote, scp-form repoURL)", async () => {
      const head = git('rev-parse', 'HEAD');
      const older = git('rev-parse', 'HEAD~1');
      git('remote', 'set-url', 'origin', 'https://git.example.com/user1/mlops-gitops.git');
      await ctx.store.reloadDesired();
      await waitFor((x) => x.desired?.remote === 'https://git.example.com/user1/mlops-gitops.git', 'the remote read');
      const scp = 'git@git.example.com:user1/mlops-gitops.git';
      await kube.application(TOOLINGS, 'jukebox-test', A.multiSource({}, scp, { chart: CHART_SHA, gitops: head }));
      const live = await waitFor((x) => x.application?.trackedSource === 1 && x.verdict === 'live', 'live at HEAD through source 2');
      assert.equal(live.application?.revision, head);
      assert.match(live.verdictReason, new RegExp(`Argo CD Synced at ${head.slice(0, 7)}`));
      // the gitops source behind git while revisions[0] (the chart) is something else: syncing
      await kube.application(TOOLINGS, 'jukebox-test', A.multiSource({}, scp, { chart: head, gitops: older }));
      const behind = await waitFor((x) => x.application?.revision === older, 'the older gitops revision');
      assert.equal(behind.verdict, 'syncing');
      assert.match(behind.verdictReason, new RegExp(`Argo CD is at ${older.slice(0, 7)}, git at ${head.slice(0, 7)}`));
      // no source is the checkout: nothing to compare commits with, said in the reason
      await kube.application(
        TOOLINGS,
        'jukebox-test',
        A.multiSource({}, 'https://git.example.com/someone-else/gitops.git', { chart: CHART_SHA, gitops: older }),
      );
      const none = await waitFor((x) => x.application?.trackedSource === -1, 'no tracked source');
      assert.equal(none.application?.revision, undefined);
      assert.match(none.verdictReason, /none of its 2 sources is the checkout's remote/);
    });
  });
}
