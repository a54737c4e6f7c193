/**
 * The use-case layer without vscode or argv: the publish policy (the one place deciding push /
 * commit / pull-request), the unified diff of --dry-run (checked against git's own diff), the
 * preview (nothing written), and changeCanary against a bare remote: push follows, commit does
 * not, pull-request proposes a branch and leaves the clone as it was.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { changeCanary, isProtectedBranchRefusal, type Follower } from '../../src/app/change';
import { unifiedDiff } from '../../src/app/diff';
import { publishPolicy } from '../../src/app/policy';
import { previewChange } from '../../src/app/preview';
import { CanaryError } from '../../src/core/errors';
import type { FollowRequest } from '../../src/cluster/api';
import type { ServiceState } from '../../src/cluster/types';
import { git, gitTry, head, snapshot, testGitEnv, TEST_CONFIG_REL } from '../core/git-helpers';
import { sandboxFactory } from '../cli/helpers';

const sandbox = sandboxFactory();

describe('publishPolicy', () => {
  it('explicit choice, then the pull-request environments, then the push mode', () => {
    assert.equal(publishPolicy({ env: 'test' }), 'push');
    assert.equal(publishPolicy({ env: 'test', pushMode: 'commit' }), 'commit');
    assert.equal(publishPolicy({ env: 'prod', pullRequestEnvironments: ['prod'] }), 'pull-request');
    assert.equal(publishPolicy({ env: 'prod', pullRequestEnvironments: ['prod'], pushMode: 'commit' }), 'pull-request');
    assert.equal(publishPolicy({ env: 'test', pullRequestEnvironments: ['prod'] }), 'push');
    assert.equal(publishPolicy({ env: 'test', pullRequest: true }), 'pull-request');
    assert.equal(publishPolicy({ env: 'prod', pullRequestEnvironments: ['prod'], noPush: true }), 'commit');
    assert.throws(() => publishPolicy({ env: 'test', pullRequest: true, noPush: true }), /exclude each other/);
  });
});

describe('unifiedDiff', () => {
  it('is what git diff prints for the same edit (one line, a block added, a block removed)', () => {
    const sb = sandbox();
    const c = sb.clone('diff');
    const file = path.join(c, TEST_CONFIG_REL);
    const before = readFileSync(file, 'utf8');
    const edits = [
      before.replace('trafficPercent: 10', 'trafficPercent: 35'),
      before.replace(/canary:.*\n.*\n/, ''),
      `${before}extra: 1\nmore: 2\n`,
      before.replace('name: jukebox\n', 'name: jukebox\nnew: line\n').replace('trafficPercent: 10', 'trafficPercent: 11'),
    ];
    for (const text of edits) {
      writeFileSync(file, text);
      const want = git(c, ['diff', '--no-color', '--no-prefix', '--', TEST_CONFIG_REL])
        .split('\n')
        .filter((l) => !/^(diff|index) /.test(l))
        .map((l) => l.replace(/^(@@ [^@]+ @@).*$/, '$1'))
        .join('\n')
        .replace(`--- ${TEST_CONFIG_REL}`, `--- a/${TEST_CONFIG_REL}`)
        .replace(`+++ ${TEST_CONFIG_REL}`, `+++ b/${TEST_CONFIG_REL}`);
      assert.equal(unifiedDiff(before, text, TEST_CONFIG_REL), want, text);
    }
    assert.equal(unifiedDiff(before, before, TEST_CONFIG_REL), '');
  });
});

describe('previewChange', () => {
  it('gives the diff and message and writes nothing', async () => {
    const sb = sandbox();
    const c = sb.clone('preview');
    const files = snapshot(c);
    const p = await previewChange({ root: c, env: 'test', model: 'jukebox', action: { kind: 'set', percent: 35 }, policy: 'push' });
    assert.equal(p.changed, true);
    assert.equal(p.rel, TEST_CONFIG_REL);
    assert.match(p.diff, /^- {2}trafficPercent: 10 # share of the new revision\n\+ {2}trafficPercent: 35 # share of the new revision$/m);
    assert.equal(p.message, 'Set canary traffic for jukebox in test to 35%');
    assert.equal(p.before.desiredPercent, 10);
    assert.equal(p.after.desiredPercent, 35);
    assert.deepEqual(snapshot(c), files);
    const same = await previewChange({ root: c, env: 'test', model: 'jukebox', action: { kind: 'set', percent: 10 }, policy: 'push', message: 'mine' });
    assert.equal(same.changed, false);
    assert.equal(same.diff, '');
    assert.equal(same.message, 'mine');
  });
});

/** A cluster that answers follow() at once as live, recording what it was asked. */
function fakeCluster() {
  const asked: FollowRequest[] = [];
  const store: Follower = {
    follow: async (req) => {
      asked.push(req);
      req.onStep?.({ step: 'pushed', message: `Pushed ${req.sha.slice(0, 7)}`, state: undefined });
      return { env: req.env, name: req.model } as ServiceState;
    },
  };
  return { asked, open: async () => ({ store }) };
}

describe('changeCanary', () => {
  const env = testGitEnv();
  it('push: publishes, then follows the pushed sha with the new percent', async () => {
    const sb = sandbox();
    const c = sb.clone('push');
    const cluster = fakeCluster();
    const o = await changeCanary(
      { root: c, env: 'test', model: 'jukebox', action: { kind: 'set', percent: 40 }, policy: 'push', processEnv: env },
      { open: cluster.open },
    );
    assert.equal(o.status, 'live');
    assert.equal(o.published.sha, head(sb.remote, 'main'));
    assert.deepEqual(
      cluster.asked.map((r) => [r.sha, r.percent]),
      [[o.published.sha, 40]],
    );
    assert.deepEqual(
      o.steps.map((s) => s.step),
      ['pushed'],
    );
  });

  it('commit: nothing pushed, nothing followed', async () => {
    const sb = sandbox();
    const c = sb.clone('commit');
    const remoteMain = head(sb.remote, 'main');
    const cluster = fakeCluster();
    const o = await changeCanary(
      { root: c, env: 'test', model: 'jukebox', action: { kind: 'rollback' }, policy: 'commit', processEnv: env },
      { open: cluster.open },
    );
    assert.equal(o.status, 'not-pushed');
    assert.equal(head(sb.remote, 'main'), remoteMain);
    assert.equal(cluster.asked.length, 0);
  });

  it('pull-request: one new remote branch with one commit, main and the clone untouched, not followed', async () => {
    const sb = sandbox();
    const c = sb.clone('pr');
    const remoteMain = head(sb.remote, 'main');
    const cloneHead = head(c);
    const files = snapshot(c);
    const cluster = fakeCluster();
    const o = await changeCanary(
      { root: c, env: 'prod', model: 'jukebox', action: { kind: 'set', percent: 35 }, policy: 'pull-request', processEnv: env },
      { open: cluster.open },
    );
    assert.equal(o.status, 'proposed');
    const branch = o.published.proposal?.branch ?? '';
    assert.match(branch, /^canary\/prod-jukebox-35/);
    assert.equal(head(sb.remote, 'main'), remoteMain);
    assert.equal(head(sb.remote, branch), o.published.sha);
    assert.equal(head(sb.remote, `${branch}~1`), remoteMain);
    assert.deepEqual(git(sb.remote, ['diff', '--name-only', remoteMain, branch]).trim().split('\n'), ['model-deployments/prod/jukebox/config.yaml']);
    assert.equal(head(c), cloneHead);
    assert.deepEqual(snapshot(c), files);
    assert.equal(gitTry(c, ['rev-parse', '--verify', '-q', `refs/heads/${branch}`]).status === 0, false, 'no local branch');
    assert.equal(cluster.asked.length, 0);
  });

  it('names a protected-branch refusal', () => {
    assert.equal(isProtectedBranchRefusal(new CanaryError('git', 'protected-branch', 'x')), true);
    assert.equal(isProtectedBranchRefusal(new CanaryError('git', 'push-rejected', 'x')), false);
    assert.equal(isProtectedBranchRefusal(new Error('protected-branch')), false);
  });
});
