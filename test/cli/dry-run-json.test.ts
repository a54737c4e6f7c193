/**
 * `--dry-run` and `-o json` on set / promote / rollback / rollout, and `--pull-request` against a
 * remote whose configured URL is a GitHub address rewritten to a bare repository by insteadOf.
 * A dry run leaves the clone's HEAD, index, working tree and refs and the remote's refs
 * byte-identical; every -o json is one kserve-canary/v1 document whose fields are checked.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { git, head, snapshot, TEST_CONFIG_REL } from '../core/git-helpers';
import { runCli, sandboxFactory } from './helpers';

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
      assert.match(r.stdout, /^--- a\/model-deployments\/(test|prod)\/jukebox\/config\.yaml\n\+\+\+ b\/model-deployments\/(test|prod)\/jukebox\/config\.yaml\n@@ /m);
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
    assert.deepEqual([d.apiVersion, d.kind, d.command, d.env, d.model, d.policy, d.dryRun, d.changed, d.sha, d.pushed], ['kserve-canary/v1', 'ChangeResult', 'set', 'test', 'jukebox', 'push', true, true, null, false]);
    assert.deepEqual(d.action, { kind: 'set', percent: 35 });
    assert.deepEqual([d.before, d.after], [{ percent: 10 }, { percent: 35 }]);
    assert.match(d.diff, /\n\+ {2}trafficPercent: 35/);
    assert.equal(d.file, TEST_CONFIG_REL);
    const r = await run(['set', 'jukebox', '35', '--env', 'test', '--json', '--gitops', c], c);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepEqual([j.kind, j.dryRun, j.changed, j.pushed, j.branch, j.remote, j.url, j.proposal, j.diff, j.followStatus], ['ChangeResult', false, true, true, 'main', 'origin', null, null, null, 'not-requested']);
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
    assert.deepEqual(j.plan.steps.map((s: { percent: number }) => s.percent), [25, 50, 100]);
    assert.deepEqual([j.next.before, j.next.after], [{ percent: 10 }, { percent: 25 }]);
    assert.match(j.next.message, /^Progressive rollout of jukebox in test: step 1\/3, 25%\n\nCanary-Rollout: step=1\/3 plan=[0-9a-f]{8}$/);
    assert.deepEqual(j.commits, []);
  });
});

describe('--pull-request against a GitHub remote (insteadOf to a bare repository)', () => {
  it('pushes one branch with one commit changing only that config.yaml, leaves main and the clone, prints the compare URL', async () => {
    const sb = sandbox();
    const c = sb.clone('c');
    git(c, ['config', 'remote.origin.url', 'https://github.com/acme/gitops.git']);
    git(c, ['config', `url.${sb.remote}.insteadOf`, 'https://github.com/acme/gitops.git']);
    const mainBefore = head(sb.remote, 'main');
    const before = state(c, sb.remote);
    const r = await run(['set', 'jukebox', '35', '--env', 'prod', '--pull-request', '--gitops', c], c);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(head(sb.remote, 'main'), mainBefore);
    const branches = git(sb.remote, ['for-each-ref', '--format=%(refname:short)', 'refs/heads']).split('\n').filter(Boolean);
    const added = branches.filter((b) => b !== 'main');
    assert.equal(added.length, 1, branches.join(' '));
    const branch = added[0]!;
    assert.equal(git(sb.remote, ['rev-list', '--count', `main..${branch}`]).trim(), '1');
    assert.deepEqual(git(sb.remote, ['diff', '--name-only', 'main', branch]).trim().split('\n'), ['model-deployments/prod/jukebox/config.yaml']);
    const after = state(c, sb.remote);
    assert.deepEqual([after.head, after.index, after.tree], [before.head, before.index, before.tree]);
    const url = /^Open the pull request: (\S+)$/m.exec(r.stdout)?.[1] ?? '';
    assert.ok(url.startsWith('https://github.com/acme/gitops/') && url.includes(branch), r.stdout);
  });
});
