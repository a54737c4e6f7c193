/**
 * A pull request followed to the cluster, end to end against the sandbox (its Argo CD syncs the
 * bare gitops remote): `set jukebox 35 --env test --pull-request --wait` with the sandbox clone's
 * origin configured as a GitHub address rewritten by insteadOf. The open proposal is the tree's
 * row (`proposed 35% · canary/test-jukebox-35`, read from the remote's branches by
 * src/app/proposals.ts, also from another user's clone); a reviewer merges the branch into the
 * bare main with git, as a forge would; the CLI sees the merge, follows Argo CD and KServe to the
 * new split, and the row is gone. The user's clone keeps its HEAD and working tree throughout.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/main';
import type { CliIO } from '../../src/cli/command';
import { openProposals } from '../../src/app/proposals';
import { cloneState, git, head, remoteBranches, TEST_CONFIG_REL } from '../core/git-helpers';
import { openSandbox, type TestSandbox } from '../sandbox/helpers';
import { until } from '../poll';
import { useForgeUrl } from './forge-helpers';

const GITHUB = 'https://github.com/org/gitops.git';
const BRANCH = 'canary/test-jukebox-35';
const URL = 'https://github.com/org/gitops/compare/main...canary/test-jukebox-35?expand=1';

describe('--pull-request --wait: the proposal row, the merge, the follow', () => {
  let sb: TestSandbox;
  before(async () => {
    sb = await openSandbox({ syncDelayMs: 300, rolloutDelayMs: 200, pollMs: 100 });
  });
  after(async () => {
    await sb?.cleanup();
  });

  it('waits for the merge, then follows Argo CD and KServe to prev 65% · latest 35%', async () => {
    const where = { dir: sb.dir, remote: sb.gitopsRemote };
    const c = sb.gitopsClone;
    const env = { ...useForgeUrl(where, c, GITHUB), KUBECONFIG: sb.kubeconfigPath, HOME: path.join(os.tmpdir(), 'ksc-no-home') };
    const before = cloneState(c);
    const mainBefore = head(sb.gitopsRemote, 'main');
    let out = '';
    let err = '';
    const io: CliIO = { stdout: (t) => void (out += t), stderr: (t) => void (err += t), cwd: c, env, signal: new AbortController().signal, isTTY: false };

    const running = main(['set', 'jukebox', '35', '--env', 'test', '--pull-request', '--wait', '--timeout', '2m'], io);
    await until(() => out.includes(`Open the pull request: ${URL}\n`) || /error:/.test(err), 'the proposal pushed and its page printed', 60000);
    assert.equal(err, '');
    assert.equal(head(sb.gitopsRemote, 'main'), mainBefore, 'main untouched until the merge');
    assert.deepEqual(remoteBranches(sb.gitopsRemote), [`refs/heads/${BRANCH}`, 'refs/heads/main']);
    const proposalSha = head(sb.gitopsRemote, BRANCH);

    // The tree's row, from the proposer's clone and from a colleague's fresh clone of the same remote.
    const colleague = path.join(sb.dir, 'colleague');
    git(sb.dir, ['clone', '-q', sb.gitopsRemote, colleague]);
    const colleagueEnv = useForgeUrl(where, colleague, GITHUB);
    for (const [root, processEnv] of [
      [c, env],
      [colleague, colleagueEnv],
    ] as const) {
      const rows = await openProposals({ root, env: 'test', model: 'jukebox', processEnv });
      assert.deepEqual(
        rows.map((p) => [p.label, p.branch, p.sha, p.percent, p.url, p.forge]),
        [[`proposed 35% · ${BRANCH}`, BRANCH, proposalSha, 35, URL, 'github']],
      );
    }

    // The reviewer merges on the forge: a merge commit on main, pushed.
    const reviewer = path.join(sb.dir, 'reviewer');
    git(sb.dir, ['clone', '-q', sb.gitopsRemote, reviewer]);
    git(reviewer, [
      '-c',
      'user.name=Reviewer',
      '-c',
      'user.email=reviewer@example.invalid',
      'merge',
      '-q',
      '--no-ff',
      '-m',
      `Merge ${BRANCH}`,
      `origin/${BRANCH}`,
    ]);
    git(reviewer, ['push', '-q', 'origin', 'main']);
    const merged = head(reviewer);

    const code = await running;
    assert.equal(code, 0, err + out);
    const lines = out.split('\n');
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    const order = [
      at(/^Open the pull request: /),
      at(new RegExp(`^ {2}✓ Merged into main at ${merged.slice(0, 7)}$`)),
      at(/^ {2}✓ Argo CD synced jukebox-test/),
      at(/^ {2}✓ KServe serves prev 65% · latest 35%/),
      at(new RegExp(`^jukebox in test: prev 65% · latest 35%, Synced at ${merged.slice(0, 7)}$`)),
    ];
    assert.ok(
      order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1]!)),
      out,
    );
    assert.equal(git(sb.gitopsRemote, ['show', `main:${TEST_CONFIG_REL}`]).match(/trafficPercent: \S+/)?.[0], 'trafficPercent: 35');

    // Merged: no row any more; the user's clone still has its HEAD, branch, files and stash (only origin/main moved on).
    assert.deepEqual(await openProposals({ root: colleague, env: 'test', model: 'jukebox', processEnv: colleagueEnv }), []);
    const now = cloneState(c);
    assert.equal(now.head, before.head);
    assert.deepEqual({ ...now, status: '' }, { ...before, status: '' });
    assert.equal(now.status.replace(/^# branch\.ab .*$/m, ''), before.status.replace(/^# branch\.ab .*$/m, ''));
  });
});
