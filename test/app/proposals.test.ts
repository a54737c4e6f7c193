/**
 * The pull-request half of the change use case against a bare remote: changeCanary with
 * untilMerged waits for the merge then follows the merged head; followProposal does the same for
 * a proposal published earlier (the extension's "Follow proposal" after a window reload); a
 * branch closed unmerged, a cancelled wait (the proposal stays open) and a merge wait with no
 * limit though the follow has one; openProposalsOfModels reads every model's proposals from the
 * remote-tracking refs alone. The "reviewer" acts in onMergePoll, so no test waits on time.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { changeCanary, followProposal, type Follower } from '../../src/app/change';
import { openProposalsOfModels } from '../../src/app/proposals';
import { CanaryError } from '../../src/core/errors';
import type { FollowRequest } from '../../src/cluster/api';
import type { ServiceState } from '../../src/cluster/types';
import { git, head, testGitEnv, type Sandbox } from '../core/git-helpers';
import { sandboxFactory } from '../cli/helpers';

const sandbox = sandboxFactory();
const env = testGitEnv();

/** A cluster that answers follow() at once as live, recording what it was asked. */
function fakeCluster() {
  const asked: FollowRequest[] = [];
  const store: Follower = {
    follow: async (req) => {
      asked.push(req);
      req.onStep?.({ step: 'synced', message: `Argo CD synced ${req.sha.slice(0, 7)}`, state: undefined });
      return { env: req.env, name: req.model } as ServiceState;
    },
  };
  return { asked, open: async () => ({ store }) };
}

/** The reviewer's side, straight in the bare remote: merge (a merge commit on main) or delete a branch. */
function reviewer(sb: Sandbox) {
  return {
    merge(branch: string) {
      const tree = git(sb.remote, ['rev-parse', `${branch}^{tree}`]).trim();
      const commit = git(sb.remote, ['commit-tree', tree, '-p', 'main', '-p', branch, '-m', `Merge ${branch}`]).trim();
      git(sb.remote, ['update-ref', 'refs/heads/main', commit]);
    },
    remove(branch: string) {
      git(sb.remote, ['update-ref', '-d', `refs/heads/${branch}`]);
    },
  };
}

const propose = (c: string, percent: number, model = 'jukebox') =>
  changeCanary({ root: c, env: 'prod', model, action: { kind: 'set', percent }, policy: 'pull-request', processEnv: env });

describe('changeCanary with untilMerged', () => {
  it('waits until the proposal is merged, then follows the merged head of main with the proposed percent', async () => {
    const sb = sandbox();
    const c = sb.clone('until-merged');
    const cluster = fakeCluster();
    const polls: number[] = [];
    const merged: string[] = [];
    let branch = '';
    const o = await changeCanary(
      { root: c, env: 'prod', model: 'jukebox', action: { kind: 'set', percent: 35 }, policy: 'pull-request', processEnv: env },
      {
        open: cluster.open,
        untilMerged: true,
        mergeIntervalMs: 1,
        onPublished: (r) => {
          branch = r.proposal!.branch;
        },
        onMergePoll: (n) => {
          polls.push(n);
          assert.equal(cluster.asked.length, 0, 'nothing followed before the merge');
          if (n === 2) reviewer(sb).merge(branch);
        },
        onMerged: (m) => merged.push(`${m.how} ${m.base} ${m.upstreamSha}`),
      },
    );
    assert.equal(branch, 'canary/prod-jukebox-35');
    assert.deepEqual(polls, [1, 2]);
    assert.deepEqual(merged, [`merged main ${head(sb.remote, 'main')}`]);
    assert.equal(o.status, 'live');
    assert.deepEqual(
      cluster.asked.map((r) => [r.sha, r.percent]),
      [[head(sb.remote, 'main'), 35]],
    );
    assert.notEqual(head(sb.remote, 'main'), o.published.sha, 'the merge commit is followed, not the proposal commit');
  });

  it('mergeTimeoutMs 0 waits past the follow timeout (the extension: until merged, closed or cancelled)', async () => {
    const sb = sandbox();
    const c = sb.clone('no-limit');
    const cluster = fakeCluster();
    let branch = '';
    // A 1 ms timeout would end the merge wait at its first pause were it the merge's limit too.
    const o = await changeCanary(
      { root: c, env: 'prod', model: 'jukebox', action: { kind: 'set', percent: 45 }, policy: 'pull-request', processEnv: env },
      {
        open: cluster.open,
        untilMerged: true,
        timeoutMs: 1,
        mergeTimeoutMs: 0,
        mergeIntervalMs: 20,
        onPublished: (r) => {
          branch = r.proposal!.branch;
        },
        onMergePoll: (n) => {
          if (n === 3) reviewer(sb).merge(branch);
        },
      },
    );
    assert.equal(o.status, 'live');
    assert.equal(cluster.asked[0]?.timeoutMs, 1, 'the follow keeps its own limit');
  });
});

describe('followProposal', () => {
  it('a proposal published earlier: waits for its merge, then follows it as a push', async () => {
    const sb = sandbox();
    const c = sb.clone('resume');
    const p = (await propose(c, 35)).published.proposal!;
    const [listed] =
      (await openProposalsOfModels({ root: c, models: [{ env: 'prod', model: 'jukebox' }], processEnv: env })).proposals.get('prod/jukebox') ?? [];
    assert.ok(listed, 'listed from the tracking refs the push left');
    const cluster = fakeCluster();
    const steps: string[] = [];
    const o = await followProposal(
      { root: c, env: 'prod', model: 'jukebox', proposal: listed, processEnv: env },
      {
        open: cluster.open,
        mergeIntervalMs: 1,
        onMergePoll: () => reviewer(sb).merge(p.branch),
        onStep: (s) => steps.push(s.step),
      },
    );
    assert.equal(o.status, 'live');
    assert.equal(o.merged.how, 'merged');
    assert.equal(o.merged.upstreamSha, head(sb.remote, 'main'));
    assert.deepEqual(
      cluster.asked.map((r) => [r.env, r.model, r.sha, r.percent]),
      [['prod', 'jukebox', head(sb.remote, 'main'), 35]],
    );
    assert.deepEqual(
      o.steps.map((s) => s.step),
      ['synced'],
    );
    assert.deepEqual(steps, ['synced']);
    // Merged: no longer open, read without fetching (the wait fetched main).
    assert.equal((await openProposalsOfModels({ root: c, models: [{ env: 'prod', model: 'jukebox' }], processEnv: env })).proposals.size, 0);
  });

  it('a branch deleted unmerged ends with proposal-closed; nothing is followed', async () => {
    const sb = sandbox();
    const c = sb.clone('closed');
    const p = (await propose(c, 55)).published.proposal!;
    const cluster = fakeCluster();
    await assert.rejects(
      followProposal(
        { root: c, env: 'prod', model: 'jukebox', proposal: { branch: p.branch, percent: 55 }, processEnv: env },
        { open: cluster.open, mergeIntervalMs: 1, onMergePoll: () => reviewer(sb).remove(p.branch) },
      ),
      (e: unknown) => e instanceof CanaryError && e.code === 'proposal-closed' && /closed/.test(e.message),
    );
    assert.equal(cluster.asked.length, 0);
  });

  it('cancelled while waiting: stops at once, the proposal stays open, nothing is followed', async () => {
    const sb = sandbox();
    const c = sb.clone('cancel');
    const p = (await propose(c, 65)).published.proposal!;
    const ac = new AbortController();
    const cluster = fakeCluster();
    await assert.rejects(
      followProposal(
        { root: c, env: 'prod', model: 'jukebox', proposal: { branch: p.branch, percent: 65 }, processEnv: env, signal: ac.signal },
        { open: cluster.open, mergeIntervalMs: 3_600_000, onMergePoll: () => ac.abort() },
      ),
      (e: unknown) => e instanceof CanaryError && e.code === 'aborted' && /left open/.test(e.message),
    );
    assert.equal(cluster.asked.length, 0);
    assert.equal(head(sb.remote, p.branch), (await propose(c, 65)).published.sha, 'still on the remote (a re-run reuses it)');
  });
});

describe('openProposalsOfModels', () => {
  it('reads only the models that have proposal refs, without fetching', async () => {
    const sb = sandbox();
    const c = sb.clone('models');
    await propose(c, 35);
    await propose(c, 50);
    const other = sb.clone('other');
    await changeCanary({ root: other, env: 'test', model: 'jukebox', action: { kind: 'set', percent: 20 }, policy: 'pull-request', processEnv: env });
    const models = [
      { env: 'prod', model: 'jukebox' },
      { env: 'test', model: 'jukebox' },
    ];
    const { proposals, failed } = await openProposalsOfModels({ root: c, models, processEnv: env });
    assert.deepEqual([...proposals.keys()], ['prod/jukebox'], "test/jukebox's proposal was pushed from another clone: not fetched here");
    assert.deepEqual(
      proposals.get('prod/jukebox')!.map((p) => p.label),
      ['proposed 35% · canary/prod-jukebox-35', 'proposed 50% · canary/prod-jukebox-50'],
    );
    assert.equal(failed.size, 0);
    git(c, ['fetch', '-q', 'origin']);
    assert.deepEqual([...(await openProposalsOfModels({ root: c, models, processEnv: env })).proposals.keys()], ['prod/jukebox', 'test/jukebox']);
  });
});
