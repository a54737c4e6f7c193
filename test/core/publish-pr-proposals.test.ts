/**
 * listProposals and waitForMerge against real git: proposal branches pushed by pull-request
 * mode are listed with their value; a branch of another model with a look-alike name, a merged
 * one and a squash-merged one are not; waitForMerge returns once the change reaches main (a merge
 * or a squash), fails when the branch is deleted unmerged, and stops on abort. The "reviewer"
 * acts in onPoll, so no test waits on time.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { publishCanaryChange } from '../../src/core/publish';
import { listProposals, waitForMerge } from '../../src/core/proposals';
import { CanaryError } from '../../src/core/errors';
import { git, head, makeSandbox, testGitEnv, TEST_CONFIG_REL, type Sandbox } from './git-helpers';

const sandboxes: Sandbox[] = [];
after(() => sandboxes.forEach((s) => s.cleanup()));

const GITHUB = 'https://github.com/acme/gitops.git';
const env = testGitEnv();

function setup(files?: Record<string, string>): { sb: Sandbox; c: string } {
  const sb = makeSandbox(files);
  sandboxes.push(sb);
  const c = sb.clone('user');
  git(c, ['config', 'remote.origin.url', GITHUB]);
  git(c, ['config', `url.${sb.remote}.insteadOf`, GITHUB]);
  return { sb, c };
}

const propose = (c: string, percent: number, model = 'jukebox') =>
  publishCanaryChange({ root: c, env: 'test', model, action: { kind: 'set', percent }, mode: 'pull-request', processEnv: env });
const list = (c: string, fetch?: boolean) => listProposals(c, { env: 'test', model: 'jukebox', processEnv: env, ...(fetch === undefined ? {} : { fetch }) });

/** The reviewer's side: a clone of the bare remote that merges or deletes branches. */
function reviewer(sb: Sandbox) {
  const r = sb.clone(`reviewer-${Math.random().toString(36).slice(2)}`);
  return {
    merge(branch: string) {
      git(r, ['fetch', '-q', 'origin']);
      git(r, ['merge', '-q', '--no-ff', '-m', `Merge ${branch}`, `origin/${branch}`]);
      git(r, ['push', '-q', 'origin', 'main', `:${branch}`]);
    },
    squash(branch: string) {
      git(r, ['fetch', '-q', 'origin']);
      git(r, ['merge', '-q', '--squash', '-X', 'theirs', `origin/${branch}`]);
      git(r, ['commit', '-qm', `Squashed ${branch}`]);
      git(r, ['push', '-q', 'origin', 'main']);
    },
    remove(branch: string) {
      git(r, ['push', '-q', 'origin', `:${branch}`]);
    },
  };
}

describe('listProposals', () => {
  it('lists the open proposals of the service with their value, URL and row label', async () => {
    const { c } = setup({ 'model-deployments/test/jukebox-2/config.yaml': 'name: jukebox-2\nversion: a\ncanary:\n  trafficPercent: 5\n' });
    assert.deepEqual(await list(c), []);
    await propose(c, 35);
    await propose(c, 50);
    await propose(c, 35, 'jukebox-2'); // canary/test-jukebox-2-35: another model, same prefix
    const got = await list(c);
    assert.deepEqual(
      got.map((p) => [p.branch, p.percent, p.label]),
      [
        ['canary/test-jukebox-35', 35, 'proposed 35% · canary/test-jukebox-35'],
        ['canary/test-jukebox-50', 50, 'proposed 50% · canary/test-jukebox-50'],
      ],
    );
    assert.equal(got[0]!.url, 'https://github.com/acme/gitops/compare/main...canary/test-jukebox-35?expand=1');
    assert.equal(got[0]!.base, 'main');
  });

  it('a merged, a squash-merged and a deleted proposal are not listed; fetch:false reads the tracking refs only', async () => {
    const { sb, c } = setup();
    await propose(c, 20);
    await propose(c, 30);
    await propose(c, 40);
    assert.equal((await list(c, false)).length, 3);
    const rv = reviewer(sb);
    rv.merge('canary/test-jukebox-20');
    rv.remove('canary/test-jukebox-40');
    assert.equal((await list(c, false)).length, 3, 'not fetched yet');
    assert.deepEqual(
      (await list(c)).map((p) => p.branch),
      ['canary/test-jukebox-30'],
    );
    rv.squash('canary/test-jukebox-30');
    assert.deepEqual(await list(c), []);
  });
});

describe('waitForMerge', () => {
  const wait = (c: string, branch: string, extra: Partial<Parameters<typeof waitForMerge>[1]> = {}) =>
    waitForMerge(c, { env: 'test', model: 'jukebox', branch, processEnv: env, intervalMs: 0, ...extra });

  it('returns once the branch is merged into main (the merge commit as upstream head)', async () => {
    const { sb, c } = setup();
    const r = await propose(c, 35);
    const polls: number[] = [];
    const out = await wait(c, 'canary/test-jukebox-35', {
      sha: r.sha,
      onPoll: (n) => {
        polls.push(n);
        if (n === 2) reviewer(sb).merge('canary/test-jukebox-35');
      },
    });
    assert.deepEqual(polls, [1, 2]);
    assert.equal(out.how, 'merged');
    assert.equal(out.upstreamSha, head(sb.remote, 'main'));
    assert.equal(git(sb.remote, ['show', `main:${TEST_CONFIG_REL}`]).includes('trafficPercent: 35 '), true);
  });

  it('a squash merge counts by value', async () => {
    const { sb, c } = setup();
    await propose(c, 45);
    const out = await wait(c, 'canary/test-jukebox-45', { onPoll: () => reviewer(sb).squash('canary/test-jukebox-45') });
    assert.equal(out.how, 'same-value');
  });

  it('a branch deleted unmerged is proposal-closed; an unknown branch is proposal-not-found', async () => {
    const { sb, c } = setup();
    await propose(c, 55);
    await assert.rejects(
      wait(c, 'canary/test-jukebox-55', { onPoll: () => reviewer(sb).remove('canary/test-jukebox-55') }),
      (e: unknown) => e instanceof CanaryError && e.code === 'proposal-closed',
    );
    await assert.rejects(wait(c, 'canary/test-jukebox-99'), (e: unknown) => e instanceof CanaryError && e.code === 'proposal-not-found');
  });

  it('stops on abort while waiting, the proposal left open', async () => {
    const { c } = setup();
    await propose(c, 65);
    const ac = new AbortController();
    await assert.rejects(
      wait(c, 'canary/test-jukebox-65', { signal: ac.signal, intervalMs: 3_600_000, onPoll: () => ac.abort() }),
      (e: unknown) => e instanceof CanaryError && e.code === 'aborted' && /left open/.test(e.message),
    );
    assert.equal((await list(c)).length, 1);
  });
});
