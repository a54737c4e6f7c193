/**
 * `--dry-run` and `-o json` on set / promote / rollback / rollout (a real --pull-request run per
 * forge form is test/cli/pull-request-forges.test.ts).
 * A dry run leaves the clone's HEAD, index, working tree and refs and the remote's refs
 * byte-identical (also on a busy clone: a stash, staged and unstaged changes, untracked files,
 * compared by git status --porcelain=v2 --branch and git stash list) and prints the exact diff;
 * every -o json is one kserve-canary/v1 document with exactly README's ChangeResult fields.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { cloneState, git, head, snapshot, TEST_CONFIG_REL } from '../core/git-helpers';
import { runCli, sandboxFactory } from './helpers';
import { makeBusy, PROD_CONFIG_REL, useForgeUrl } from './forge-helpers';

const run = runCli;

const sandbox = sandboxFactory();

/** Everything a dry run must not touch: HEAD, the index's bytes, the working tree, the clone's refs, the remote's refs. */
function state(clone: string, remote: string) {
  return {
    head: head(clone),
    index: readFileSync(path.join(clone, '.git', 'index')).toString('base64'),
    tree: [...snapshot(clone)],
    refs: git(clone, ['for-each-ref', '--format=%(refname) %(objectname)']),
    remote: git(remote, ['for-each-ref', '--format=%(refname) %(objectname)']),
  };
}

describe('--dry-run changes nothing, local or remote', () => {
  const cases: [string, string[]][] = [
    ['set', ['set', 'jukebox', '35', '--env', 'test', '--dry-run']],
    ['promote', ['promote', 'jukebox', '--env', 'test', '--dry-run']],
    ['rollback', ['rollback', 'jukebox', '--env', 'test', '--dry-run']],
    ['set --pull-request', ['set', 'jukebox', '35', '--env', 'prod', '--pull-request', '--dry-run']],
    ['rollout', ['rollout', 'jukebox', '--env', 'test', '--plan', '25,50,100', '--dry-run']],
  ];
  for (const [name, argv] of cases) {
    it(`${name}: prints the diff and the commit message; HEAD, index, tree and refs byte-identical`, async () => {
      const sb = sandbox();
      const c = sb.clone('c');
      // the remote moves on: a dry run must not even fetch it
      const other = sb.clone('other');
      git(other, ['commit', '--allow-empty', '-q', '-m', 'elsewhere']);
      git(other, ['push', '-q', 'origin', 'main']);
      const before = state(c, sb.remote);
      const r = await run([...argv, '--gitops', c], c);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(state(c, sb.remote), before);
      assert.match(r.stdout, /dry run/);
      assert.match(
        r.stdout,
        /^--- a\/model-deployments\/(test|prod)\/jukebox\/config\.yaml\n\+\+\+ b\/model-deployments\/(test|prod)\/jukebox\/config\.yaml\n@@ /m,
      );
      assert.match(r.stdout, /\nCommit message:\n {2}\S/);
    });
  }

  it('set --dry-run prints the one-line change', async () => {
    const sb = sandbox();
    const c = sb.clone('c');
    const r = await run(['set', 'jukebox', '35', '--env', 'test', '--dry-run', '--gitops', c], c);
    const changed = r.stdout.split('\n').filter((l) => /^[-+](?![-+])/.test(l));
    assert.deepEqual(changed, ['-  trafficPercent: 10 # share of the new revision', '+  trafficPercent: 35 # share of the new revision']);
    assert.match(r.stdout, /Commit message:\n {2}Set canary traffic for jukebox in test to 35%\n/);
  });
});

describe('-o json: one kserve-canary/v1 document', () => {
  it('set -o json: a ChangeResult with sha, branch, steps; --dry-run -o json has the diff and no sha', async () => {
    const sb = sandbox();
    const c = sb.clone('c');
    const dry = await run(['set', 'jukebox', '35', '--env', 'test', '--dry-run', '-o', 'json', '--gitops', c], c);
    assert.equal(dry.code, 0, dry.stderr);
    const d = JSON.parse(dry.stdout);
    assert.deepEqual(
      [d.apiVersion, d.kind, d.command, d.env, d.model, d.policy, d.dryRun, d.changed, d.sha, d.pushed],
      ['kserve-canary/v1', 'ChangeResult', 'set', 'test', 'jukebox', 'push', true, true, null, false],
    );
    assert.deepEqual(d.action, { kind: 'set', percent: 35 });
    assert.deepEqual([d.before, d.after], [{ percent: 10 }, { percent: 35 }]);
    assert.match(d.diff, /\n\+ {2}trafficPercent: 35/);
    assert.equal(d.file, TEST_CONFIG_REL);
    const r = await run(['set', 'jukebox', '35', '--env', 'test', '--json', '--gitops', c], c);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepEqual(
      [j.kind, j.dryRun, j.changed, j.pushed, j.branch, j.remote, j.url, j.proposal, j.diff, j.followStatus],
      ['ChangeResult', false, true, true, 'main', 'origin', null, null, null, 'not-requested'],
    );
    assert.equal(j.sha, head(sb.remote, 'main'));
    assert.equal(j.message, 'Set canary traffic for jukebox in test to 35%');
    assert.ok(Array.isArray(j.steps) && j.steps.some((s: string) => /pushed to origin\/main/.test(s)), j.steps);
    assert.deepEqual(j.follow, []);
    const y = await run(['rollback', 'jukebox', '--env', 'test', '-o', 'yaml', '--no-push', '--gitops', c], c);
    assert.match(y.stdout, /^apiVersion: kserve-canary\/v1\nkind: ChangeResult\n/);
    assert.match(y.stdout, /\npolicy: commit\n/);
  });

  it('rollout --dry-run -o json: the next step as a RolloutResult', async () => {
    const sb = sandbox();
    const c = sb.clone('c');
    const r = await run(['rollout', 'jukebox', '--env', 'test', '--plan', '25,50,100', '--dry-run', '-o', 'json', '--gitops', c], c);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepEqual([j.apiVersion, j.kind, j.dryRun, j.outcome, j.step, j.of], ['kserve-canary/v1', 'RolloutResult', true, null, 1, 3]);
    assert.deepEqual(
      j.plan.steps.map((s: { percent: number }) => s.percent),
      [25, 50, 100],
    );
    assert.deepEqual([j.next.before, j.next.after], [{ percent: 10 }, { percent: 25 }]);
    assert.match(j.next.message, /^Progressive rollout of jukebox in test: step 1\/3, 25%\n\nCanary-Rollout: step=1\/3 plan=[0-9a-f]{8}$/);
    assert.deepEqual(j.commits, []);
  });
});

/** README's ChangeResult fields (Machine-readable results): all present, absent values null. */
const CHANGE_RESULT_FIELDS = [
  'apiVersion',
  'kind',
  'command',
  'env',
  'model',
  'action',
  'policy',
  'dryRun',
  'changed',
  'sha',
  'branch',
  'remote',
  'pushed',
  'url',
  'proposal',
  'file',
  'message',
  'before',
  'after',
  'diff',
  'steps',
  'followStatus',
  'follow',
].sort();

const HEADER = (rel: string) => `--- a/${rel}\n+++ b/${rel}\n`;
const DRY_RUNS: { argv: string[]; out: string }[] = [
  {
    argv: ['set', 'jukebox', '35', '--env', 'test'],
    out:
      `test/jukebox: dry run, nothing changed: canary 10% -> 35% would commit and push\n${HEADER(TEST_CONFIG_REL)}@@ -8,4 +8,4 @@\n \n autoscaling: true\n canary:  # canary rollout\n` +
      '-  trafficPercent: 10 # share of the new revision\n+  trafficPercent: 35 # share of the new revision\n\nCommit message:\n  Set canary traffic for jukebox in test to 35%\n',
  },
  {
    argv: ['promote', 'jukebox', '--env', 'test'],
    out:
      `test/jukebox: dry run, nothing changed: canary 10% -> no canary (100% latest) would commit and push\n${HEADER(TEST_CONFIG_REL)}@@ -7,5 +7,3 @@\n image_namespace: user1-test\n \n autoscaling: true\n` +
      '-canary:  # canary rollout\n-  trafficPercent: 10 # share of the new revision\n\nCommit message:\n  Promote canary of jukebox in test (100% to latest)\n',
  },
  {
    argv: ['rollback', 'jukebox', '--env', 'test'],
    out:
      `test/jukebox: dry run, nothing changed: canary 10% -> 0% would commit and push\n${HEADER(TEST_CONFIG_REL)}@@ -8,4 +8,4 @@\n \n autoscaling: true\n canary:  # canary rollout\n` +
      '-  trafficPercent: 10 # share of the new revision\n+  trafficPercent: 0 # share of the new revision\n\nCommit message:\n  Roll back canary of jukebox in test (0% to latest)\n',
  },
  {
    argv: ['set', 'jukebox', '35', '--env', 'prod', '--pull-request'],
    out:
      `prod/jukebox: dry run, nothing changed: canary no canary (100% latest) -> 35% would commit on a new branch and propose a pull request\n${HEADER(PROD_CONFIG_REL)}` +
      '@@ -5,3 +5,5 @@\n image_repository: image-registry.openshift-image-registry.svc:5000\n image_namespace: user1-prod\n autoscaling: true\n+canary:\n+  trafficPercent: 35\n' +
      '\nCommit message:\n  Set canary traffic for jukebox in prod to 35%\n',
  },
];

describe('--dry-run on a busy clone with a GitHub origin (insteadOf): the exact diff, nothing moves', () => {
  for (const { argv, out } of DRY_RUNS) {
    it(argv.join(' '), async () => {
      const sb = sandbox();
      const c = sb.clone('c');
      const env = useForgeUrl(sb, c, 'https://github.com/org/gitops.git');
      makeBusy(c);
      const before = { clone: cloneState(c), ...state(c, sb.remote) };
      const r = await run([...argv, '--dry-run'], c, env);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      assert.equal(r.stdout, out);
      assert.deepEqual({ clone: cloneState(c), ...state(c, sb.remote) }, before);
      const j = await run([...argv, '--dry-run', '-o', 'json'], c, env);
      const d = JSON.parse(j.stdout);
      assert.deepEqual(Object.keys(d).sort(), CHANGE_RESULT_FIELDS);
      assert.equal(d.diff, out.slice(out.indexOf('--- a/'), out.indexOf('\nCommit message:')));
      assert.deepEqual(
        [d.dryRun, d.sha, d.branch, d.remote, d.pushed, d.url, d.proposal, d.followStatus],
        [true, null, null, null, false, null, null, 'not-requested'],
      );
      assert.deepEqual({ clone: cloneState(c), ...state(c, sb.remote) }, before);
    });
  }
});

describe("-o json of set / promote / rollback that publish: README's ChangeResult, nothing else on stdout", () => {
  it('each is one document with every field; sha and branch are what the remote has', async () => {
    const sb = sandbox();
    const c = sb.clone('c');
    const runs: [string[], object, object, object, string][] = [
      [['set', 'jukebox', '35'], { kind: 'set', percent: 35 }, { percent: 10 }, { percent: 35 }, 'Set canary traffic for jukebox in test to 35%'],
      [['rollback', 'jukebox'], { kind: 'rollback', percent: 0 }, { percent: 35 }, { percent: 0 }, 'Roll back canary of jukebox in test (0% to latest)'],
      [['promote', 'jukebox'], { kind: 'promote', percent: null }, { percent: 0 }, { percent: null }, 'Promote canary of jukebox in test (100% to latest)'],
    ];
    for (const [argv, action, before, after, message] of runs) {
      const r = await run([...argv, '--env', 'test', '-o', 'json'], c);
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout);
      assert.deepEqual(Object.keys(j).sort(), CHANGE_RESULT_FIELDS);
      assert.deepEqual(
        { ...j, steps: [] },
        {
          apiVersion: 'kserve-canary/v1',
          kind: 'ChangeResult',
          command: argv[0],
          env: 'test',
          model: 'jukebox',
          action,
          policy: 'push',
          dryRun: false,
          changed: true,
          sha: head(sb.remote, 'main'),
          branch: 'main',
          remote: 'origin',
          pushed: true,
          url: null,
          proposal: null,
          file: TEST_CONFIG_REL,
          message,
          before,
          after,
          diff: null,
          steps: [],
          followStatus: 'not-requested',
          follow: [],
        },
      );
      assert.ok(j.steps.includes('pushed to origin/main'), j.steps);
      assert.equal(head(c), j.sha);
    }
  });
});
