/**
 * `kserve-canary rollout --pull-request`: the dry run (first step's diff against the upstream,
 * the branch of every step, nothing touched) on a bare remote; and against the sandbox, run
 * in-process while the test merges each proposal branch as it appears (as a forge would): one
 * RolloutResult with every step's branch, page and merge commit; in text, the page of the step
 * and, when nobody merges it, --timeout's message naming the open pull request.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { git } from '../core/git-helpers';
import { openSandbox, type TestSandbox } from '../sandbox/helpers';
import { until } from '../poll';
import { cloneState, forge, githubClone, proposalBranches } from '../app/pr-helpers';
import { runCli, sandboxFactory } from './helpers';

const sandbox = sandboxFactory();
const remoteRefs = (remote: string) => git(remote, ['for-each-ref', '--format=%(refname) %(objectname)']);

describe('rollout --pull-request --dry-run', () => {
  it("prints the first step's diff against origin/main and the branch of every step; changes nothing", async () => {
    const sb = sandbox();
    const c = githubClone(sb.remote);
    // the working tree says something else than origin/main: the proposal is made from origin/main
    git(c, ['commit', '-q', '--allow-empty', '-m', 'local only']);
    const before = { ...cloneState(c), remote: remoteRefs(sb.remote) };
    const argv = ['rollout', 'jukebox', '--env', 'test', '--plan', '25,50,100', '--pull-request', '--dry-run', '--gitops', c];
    const r = await runCli(argv, c);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^Step 1\/3 would commit:\n--- a\/model-deployments\/test\/jukebox\/config\.yaml\n\+\+\+ b\/model-deployments\/test\/jukebox\/config\.yaml\n@@ /m,
    );
    assert.match(r.stdout, /\n- {2}trafficPercent: 10 # share of the new revision\n\+ {2}trafficPercent: 25 # share of the new revision\n/);
    assert.match(
      r.stdout,
      /\nIn pull requests into main, one at a time \(each made from main once the one before is merged, then followed until live\):\n {2}step 1\/3: 25% → canary\/test-jukebox-25\n {2}step 2\/3: 50% → canary\/test-jukebox-50\n {2}step 3\/3: promote \(100% latest\) → canary\/test-jukebox-promote\n$/,
    );
    const j = await runCli([...argv, '-o', 'json'], c);
    assert.equal(j.code, 0, j.stderr);
    const d = JSON.parse(j.stdout);
    assert.deepEqual([d.kind, d.policy, d.dryRun, d.step, d.next.after.percent], ['RolloutResult', 'pull-request', true, 1, 25]);
    assert.deepEqual(
      d.proposals.map((p: { step: number; branch: string; state: string; sha: null; mergeSha: null }) => [p.step, p.branch, p.state, p.sha, p.mergeSha]),
      [
        [1, 'canary/test-jukebox-25', 'planned', null, null],
        [2, 'canary/test-jukebox-50', 'planned', null, null],
        [3, 'canary/test-jukebox-promote', 'planned', null, null],
      ],
    );
    assert.equal(d.proposals[0].url, 'https://github.com/acme/gitops/compare/main...canary/test-jukebox-25?expand=1');
    assert.deepEqual({ ...cloneState(c), remote: remoteRefs(sb.remote) }, before);
  });
});

describe('rollout --pull-request against the sandbox', () => {
  let sb: TestSandbox;
  before(async () => {
    sb = await openSandbox({ syncDelayMs: 100, rolloutDelayMs: 50, pollMs: 50 });
  });
  after(async () => {
    await sb?.cleanup();
  });
  const args = (c: string, plan: string) => [
    'rollout',
    'jukebox',
    '--env',
    'test',
    '--plan',
    plan,
    '--pause',
    '0',
    '--no-gates',
    '--restart',
    '--pull-request',
    '--kubeconfig',
    sb.kubeconfigPath,
    '--gitops',
    c,
  ];

  it("-o json: a RolloutResult carrying every step's branch, page and merge commit", async () => {
    const c = githubClone(sb.gitopsRemote);
    const f = forge(sb.gitopsRemote);
    const merges: string[] = [];
    // the forge: merge each proposal branch once it is pushed
    const merging = (async () => {
      for (const stem of ['canary/test-jukebox-60', 'canary/test-jukebox-promote']) {
        const branch = await until(() => proposalBranches(sb.gitopsRemote).find((b) => b === stem), `${stem} on the remote`, 120_000);
        merges.push(f.merge(branch));
      }
    })();
    const r = await runCli([...args(c, '60,100'), '-o', 'json'], c);
    await merging;
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout);
    assert.deepEqual(
      [d.apiVersion, d.kind, d.policy, d.dryRun, d.outcome, d.step, d.of],
      ['kserve-canary/v1', 'RolloutResult', 'pull-request', false, 'completed', 2, 2],
    );
    assert.deepEqual(
      d.proposals.map((p: Record<string, unknown>) => [p.step, p.action, p.percent, p.branch, p.base, p.state, p.mergeSha]),
      [
        [1, 'set', 60, 'canary/test-jukebox-60', 'main', 'merged', merges[0]],
        [2, 'promote', null, 'canary/test-jukebox-promote', 'main', 'merged', merges[1]],
      ],
    );
    for (const p of d.proposals) {
      assert.equal(p.url, `https://github.com/acme/gitops/compare/main...${p.branch}?expand=1`);
      assert.equal(git(sb.gitopsRemote, ['rev-parse', `${p.mergeSha}^2`]).trim(), p.sha, 'merged as proposed');
    }
    assert.deepEqual(
      d.commits.map((x: { sha: string }) => x.sha),
      merges,
    );
    assert.ok(
      d.events.some(
        (e: { kind: string; message: string }) =>
          e.kind === 'waiting' && e.message.includes('Open the pull request: https://github.com/acme/gitops/compare/main...canary/test-jukebox-60?expand=1'),
      ),
    );
  });

  it("text: prints the step's page and waits; --timeout names the pull request still open", async () => {
    const c = githubClone(sb.gitopsRemote);
    const before = cloneState(c);
    const r = await runCli([...args(c, '20,100'), '--timeout', '1s'], c);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /^Step 1\/2 is a pull request: pushed canary\/test-jukebox-20 into main; waiting for its merge\. Open the pull request: https:\/\/github\.com\/acme\/gitops\/compare\/main\.\.\.canary\/test-jukebox-20\?expand=1$/m,
    );
    assert.match(
      r.stderr,
      /^error: Timed out after 1 s: the pull request canary\/test-jukebox-20 is not merged into main yet\.\nhint: Merge it \(https:\/\/github\.com\/acme\/gitops\/compare\/main\.\.\.canary\/test-jukebox-20\?expand=1\), then run the rollout again: it goes on from there; or wait longer with --timeout\.\n$/,
    );
    assert.deepEqual(proposalBranches(sb.gitopsRemote), ['canary/test-jukebox-20']);
    assert.deepEqual(cloneState(c), before);
  });
});
