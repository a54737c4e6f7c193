/**
 * A progressive rollout in pull-request mode (src/app/rollout.ts, src/app/rollout-proposals.ts)
 * against the sandbox: its bare remote, its Argo CD syncing main and its KServe. The test plays
 * the forge: on the run's first check for a merge it merges the step's proposal branch into main
 * (or closes it, or pushes another value to main, or cancels). Each step's branch is made from
 * main as it is then (step 2's parent is step 1's merge), the run follows the merge commit until
 * served, a failed gate's rollback is a pull request too, and the user's clone never changes.
 * Cancelling before the proposal is pushed needs no cluster: a bare remote suffices.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runRollout, type RolloutRequest } from '../../src/app/rollout';
import type { ProposalStep, RolloutStepEvent } from '../../src/app/rollout-proposals';
import type { MetricsClient } from '../../src/cluster/metrics';
import type { Store } from '../../src/cluster/store';
import { planFromDefaults } from '../../src/core/plan';
import { INFERENCE_SERVICES } from '../../src/sandbox/resources';
import { git, testGitEnv } from '../core/git-helpers';
import { storeOn } from '../cluster/sandbox-helpers';
import { sandboxFactory } from '../cli/helpers';
import { openSandbox, type TestSandbox } from '../sandbox/helpers';
import { cloneState, forge, githubClone, proposalBranches } from './pr-helpers';

const REL = 'model-deployments/test/jukebox/config.yaml';

describe('rollout in pull-request mode against the sandbox', () => {
  let sb: TestSandbox;
  let store: Store;
  before(async () => {
    sb = await openSandbox({ syncDelayMs: 100, rolloutDelayMs: 50, pollMs: 50 });
    store = (await storeOn(sb)).store;
    await store.ready();
  });
  after(async () => {
    store?.dispose();
    await sb?.cleanup();
  });

  const main = () => git(sb.gitopsRemote, ['rev-parse', 'main']).trim();
  const isvcPercent = () => {
    const o = sb.controller.store.get(INFERENCE_SERVICES, 'user1-test', 'jukebox') as { spec?: { predictor?: { canaryTrafficPercent?: number } } } | undefined;
    return o?.spec?.predictor?.canaryTrafficPercent;
  };
  /** One run on a fresh GitHub-addressed clone; `onPoll` is the forge acting on the first check of each proposal. */
  async function rollout(steps: string, onPoll: (p: ProposalStep, ac: AbortController) => void, extra: Partial<RolloutRequest> = {}) {
    const c = githubClone(sb.gitopsRemote);
    const before = cloneState(c);
    const events: RolloutStepEvent[] = [];
    const ac = new AbortController();
    const { outcome } = runRollout({
      root: c,
      env: 'test',
      model: 'jukebox',
      policy: 'pull-request',
      store,
      processEnv: testGitEnv(),
      plan: planFromDefaults({ steps, pause: '0s' }, 'test'),
      ignoreGates: true,
      restart: true,
      followTimeoutMs: 60_000,
      mergePollMs: 0,
      signal: ac.signal,
      onEvent: (e) => events.push(e),
      onMergePoll: (n, p) => {
        if (n === 1) onPoll(p, ac);
      },
      ...extra,
    });
    const o = await outcome;
    assert.deepEqual(cloneState(c), before, 'the clone: HEAD, index, working tree and local branches as they were');
    return { ...o, events, clone: c };
  }

  it('proposes each step from main as merged so far, waits for its merge, follows it until served, then goes on', async () => {
    const f = forge(sb.gitopsRemote);
    const merges: string[] = [];
    const r = await rollout('30,70,100', (p) => merges.push(f.merge(p.branch)));
    assert.equal(r.result.outcome, 'completed', r.result.reason);
    assert.deepEqual(
      r.proposals.map((p) => [p.step, p.action, p.percent, p.branch, p.state]),
      [
        [1, 'set', 30, 'canary/test-jukebox-30', 'merged'],
        [2, 'set', 70, 'canary/test-jukebox-70', 'merged'],
        [3, 'promote', undefined, 'canary/test-jukebox-promote', 'merged'],
      ],
    );
    assert.deepEqual(
      r.proposals.map((p) => p.mergeSha),
      merges,
    );
    assert.equal(main(), merges[2]);
    // step 2 was made on step 1's merge, step 3 on step 2's
    assert.equal(git(sb.gitopsRemote, ['rev-parse', `${r.proposals[1]!.sha}^`]).trim(), merges[0]);
    assert.equal(git(sb.gitopsRemote, ['rev-parse', `${r.proposals[2]!.sha}^`]).trim(), merges[1]);
    for (const p of r.proposals) {
      assert.equal(p.url, `https://github.com/acme/gitops/compare/main...${p.branch}?expand=1`);
      assert.deepEqual(
        git(sb.gitopsRemote, ['diff', '--name-only', `${p.sha}^`, p.sha!])
          .trim()
          .split('\n'),
        [REL],
      );
    }
    // the page was a step event, then the merge, then the follow to the merge commit
    const step2 = r.events.filter((e) => e.step === 2).map((e) => `${e.kind}: ${e.message}`);
    const waiting = step2.findIndex((l) =>
      l.startsWith(
        'waiting: Step 2/3 is a pull request: pushed canary/test-jukebox-70 into main; waiting for its merge. Open the pull request: https://github.com/',
      ),
    );
    const merged = step2.indexOf(`published: Merged canary/test-jukebox-70 into main at ${merges[1]!.slice(0, 10)}`);
    const live = step2.indexOf('live: Step 2/3 is live: latest 70%');
    assert.ok(waiting >= 0 && merged > waiting && live > merged, step2.join('\n'));
    assert.ok(
      r.events.some((e) => e.kind === 'follow' && e.step === 2 && e.message.includes(`synced jukebox-test at ${merges[1]!.slice(0, 7)}`)),
      'followed the merge commit',
    );
    assert.deepEqual(
      r.result.commits.map((c) => c.sha),
      merges,
    );
    assert.equal(isvcPercent(), undefined, 'promoted: no canary left');
    assert.deepEqual(proposalBranches(sb.gitopsRemote), []);
  });

  it('a pull request closed without merge ends the run, nothing further written', async () => {
    const f = forge(sb.gitopsRemote);
    const mainBefore = main();
    const r = await rollout('40,100', (p) => f.close(p.branch));
    assert.equal(r.result.outcome, 'changed-outside');
    assert.match(
      r.result.reason,
      /^Stopped: the pull request of Step 1\/2 \(canary\/test-jukebox-40, 40%\) was closed without being merged; main keeps no canary \(100% latest\)\. Nothing further was written\./,
    );
    assert.deepEqual(
      r.proposals.map((p) => [p.branch, p.state]),
      [['canary/test-jukebox-40', 'closed']],
    );
    assert.equal(main(), mainBefore);
    assert.deepEqual(proposalBranches(sb.gitopsRemote), []);
    assert.equal(r.events.at(-1)?.kind, 'done');
  });

  it('main moving to another value while a step waits ends the run; the proposal is left open', async () => {
    const f = forge(sb.gitopsRemote);
    const r = await rollout('45,100', () => f.pushPercent(REL, 15));
    const mainAfter = main();
    assert.equal(r.result.outcome, 'changed-outside');
    assert.match(
      r.result.reason,
      /main now asks for 15% instead of no canary \(100% latest\) while Step 1\/2 \(canary\/test-jukebox-45, 45%\) waited for its merge; someone else changed jukebox in test\. Nothing further was written; canary\/test-jukebox-45 is left open: close it\./,
    );
    assert.deepEqual(proposalBranches(sb.gitopsRemote), ['canary/test-jukebox-45']);
    assert.equal(git(sb.gitopsRemote, ['log', '-1', '--format=%s', 'main']).trim(), 'Set 15% by hand');
    assert.equal(main(), mainAfter);
    f.close('canary/test-jukebox-45');
  });

  it('cancelling while a step waits for its merge stops the run, names the open pull request, and leaves the clone as it was', async () => {
    const mainBefore = main();
    const r = await rollout('35,100', (_p, ac) => ac.abort());
    assert.equal(r.result.outcome, 'stopped');
    assert.match(
      r.result.reason,
      /^Stopped at step 1\/2 while waiting for the merge of canary\/test-jukebox-35 \(https:\/\/github\.com\/acme\/gitops\/compare\/main\.\.\.canary\/test-jukebox-35\?expand=1\): that pull request is still open, and main keeps 15%\./,
    );
    assert.deepEqual(
      r.proposals.map((p) => [p.branch, p.state]),
      [['canary/test-jukebox-35', 'open']],
    );
    assert.equal(main(), mainBefore);
    assert.deepEqual(proposalBranches(sb.gitopsRemote), ['canary/test-jukebox-35']);
    // run again: the open pull request is taken up (no second branch), merged, and the run goes on
    const f = forge(sb.gitopsRemote);
    const again = await rollout('35,100', (p) => f.merge(p.branch));
    assert.equal(again.result.outcome, 'completed', again.result.reason);
    assert.deepEqual(
      again.proposals.map((p) => [p.branch, p.state]),
      [
        ['canary/test-jukebox-35', 'merged'],
        ['canary/test-jukebox-promote', 'merged'],
      ],
    );
    assert.equal(again.proposals[0]!.sha, r.proposals[0]!.sha, 'the same commit as the first run proposed');
    assert.ok(
      again.events.some((e) => e.message.startsWith('Step 1/2 is a pull request: canary/test-jukebox-35, already open, into main; waiting for its merge.')),
    );
  });

  it('failed gates roll back through a pull request, never by a push to main', async () => {
    const f = forge(sb.gitopsRemote);
    // 30% of the canary's answers are 5xx (a fake Prometheus answering the gate queries)
    const metrics: MetricsClient = {
      baseUrl: 'https://prometheus.invalid',
      query: async (q) => [{ metric: {}, value: q.startsWith('histogram_quantile') ? 80 : q.includes('5xx') ? 3 : 10 }],
    };
    const mainBefore = main();
    const r = await rollout('25,100', (p) => f.merge(p.branch), { ignoreGates: false, metrics });
    assert.equal(r.result.outcome, 'rolled-back', r.result.reason);
    assert.deepEqual(
      r.proposals.map((p) => [p.action, p.percent, p.branch, p.state]),
      [
        ['set', 25, 'canary/test-jukebox-25', 'merged'],
        ['rollback', 0, 'canary/test-jukebox-rollback', 'merged'],
      ],
    );
    const said = r.events.find((e) => e.proposal?.action === 'rollback' && e.kind === 'waiting')?.message ?? '';
    assert.match(
      said,
      /^The rollback is a pull request too \(nothing is pushed to the protected branch\): pushed canary\/test-jukebox-rollback into main; waiting for its merge\./,
    );
    // main only ever moved by the two merges
    const firstParents = git(sb.gitopsRemote, ['log', '--first-parent', '--format=%s', `${mainBefore}..main`])
      .trim()
      .split('\n');
    assert.deepEqual(firstParents, ['Merge pull request from canary/test-jukebox-rollback', 'Merge pull request from canary/test-jukebox-25']);
    assert.match(git(sb.gitopsRemote, ['log', '-1', '--format=%B', 'main^2']), /^Roll back jukebox in test: gate error-rate failed \(30% > 5%\)/);
    assert.equal(isvcPercent(), 0);
  });
});

describe('rollout in pull-request mode, cancelled while proposing', () => {
  const bare = sandboxFactory();
  it('stops before the push: nothing proposed on the remote, the clone as it was', async () => {
    const sb = bare();
    const c = githubClone(sb.remote);
    const before = cloneState(c);
    const remoteBefore = git(sb.remote, ['for-each-ref', '--format=%(refname) %(objectname)']);
    const ac = new AbortController();
    const { outcome } = runRollout({
      root: c,
      env: 'test',
      model: 'jukebox',
      policy: 'pull-request',
      processEnv: testGitEnv(),
      plan: planFromDefaults({ steps: '50,100', pause: '0s' }, 'test'),
      ignoreGates: true,
      signal: ac.signal,
      // the proposal's commit is made: cancel before its branch is pushed
      log: (line) => {
        if (line.startsWith('committed ')) ac.abort();
      },
    });
    const o = await outcome;
    assert.equal(o.result.outcome, 'stopped');
    assert.match(
      o.result.reason,
      /^Stopped at step 1\/2 before its pull request was pushed: Cancelled: nothing was changed\. Run the rollout again to go on\.$/,
    );
    assert.deepEqual(o.proposals, []);
    assert.equal(git(sb.remote, ['for-each-ref', '--format=%(refname) %(objectname)']), remoteBefore);
    assert.deepEqual(cloneState(c), before);
  });
});
