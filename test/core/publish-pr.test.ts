/**
 * publishCanaryChange in 'pull-request' mode against real git: a bare remote whose configured
 * URL is a GitHub https or a GitLab ssh (subgroup) address, rewritten to the bare path by
 * url.<bare>.insteadOf. Proves the remote's main is untouched, exactly one branch with one
 * commit changing only that config.yaml is added, the clone is byte-for-byte as it was, and the
 * forge's new-pull-request URL names the branch; plus re-runs, taken names, an upstream ahead
 * of HEAD, and the protected-branch refusal of a push to main.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { publishCanaryChange, type PublishOptions } from '../../src/core/publish';
import { CanaryError } from '../../src/core/errors';
import {
  changedLines,
  cloneState,
  filesOf,
  git,
  head,
  makeSandbox,
  pushFromOther,
  readText,
  remoteBranches as remoteHeads,
  testGitEnv,
  TEST_CONFIG_REL,
  writeFile,
  type Sandbox,
} from './git-helpers';

const sandboxes: Sandbox[] = [];
after(() => sandboxes.forEach((s) => s.cleanup()));

const GITHUB = 'https://github.com/acme/gitops.git';
const GITLAB = 'git@gitlab.example.com:platform/ml/gitops.git';

/** A sandbox and a clone whose origin is configured as `url`, reaching the bare remote through insteadOf. */
function forgeClone(url: string, name = 'user'): { sb: Sandbox; c: string } {
  const sb = makeSandbox();
  sandboxes.push(sb);
  const c = sb.clone(name);
  git(c, ['config', 'remote.origin.url', url]);
  git(c, ['config', `url.${sb.remote}.insteadOf`, url]);
  return { sb, c };
}

function propose(root: string, extra: Partial<PublishOptions> = {}) {
  return publishCanaryChange({
    root,
    env: 'test',
    model: 'jukebox',
    action: { kind: 'set', percent: 35 },
    mode: 'pull-request',
    processEnv: testGitEnv(),
    timeoutMs: 20000,
    ...extra,
  });
}

const remoteBranches = (sb: Sandbox) => remoteHeads(sb.remote);

function checkProposalBranch(sb: Sandbox, branch: string, mainBefore: string, percent: number) {
  assert.equal(head(sb.remote, 'main'), mainBefore, 'remote main untouched');
  assert.deepEqual(remoteBranches(sb), [`refs/heads/${branch}`, 'refs/heads/main'].sort());
  assert.equal(git(sb.remote, ['rev-list', '--count', `main..${branch}`]).trim(), '1');
  assert.equal(head(sb.remote, `${branch}~1`), mainBefore, 'made on the upstream head');
  assert.deepEqual(filesOf(sb.remote, branch), [TEST_CONFIG_REL]);
  assert.deepEqual(changedLines(sb.remote, branch), [
    '-  trafficPercent: 10 # share of the new revision',
    `+  trafficPercent: ${percent} # share of the new revision`,
  ]);
}

describe('pull-request mode: GitHub https remote rewritten by insteadOf', () => {
  it('pushes one branch with one commit, leaves main and the whole clone as they were, gives the compare URL', async () => {
    const { sb, c } = forgeClone(GITHUB);
    // A busy clone: an unpushed commit, a staged file, an unstaged edit of the very config.yaml, an untracked file, a stash.
    writeFile(c, 'notes.txt', 'stash me\n');
    git(c, ['add', 'notes.txt']);
    git(c, ['stash']);
    writeFile(c, 'model-deployments/prod/jukebox/config.yaml', `${readText(c, 'model-deployments/prod/jukebox/config.yaml')}# local\n`);
    git(c, ['commit', '-qam', 'local only']);
    writeFile(c, 'README.md', '# gitops (staged)\n');
    git(c, ['add', 'README.md']);
    writeFile(c, TEST_CONFIG_REL, readText(c, TEST_CONFIG_REL).replace('autoscaling: true', 'autoscaling: false'));
    writeFile(c, 'scratch/untracked.txt', 'mine\n');
    const before = cloneState(c);
    const mainBefore = head(sb.remote, 'main');

    const r = await propose(c);

    assert.equal(r.mode, 'pull-request');
    assert.equal(r.changed, true);
    assert.equal(r.pushed, true);
    assert.equal(r.branch, 'main');
    assert.deepEqual(r.proposal, {
      branch: 'canary/test-jukebox-35',
      base: 'main',
      forge: 'github',
      url: 'https://github.com/acme/gitops/compare/main...canary/test-jukebox-35?expand=1',
    });
    assert.equal(r.sha, head(sb.remote, 'canary/test-jukebox-35'));
    assert.equal(git(sb.remote, ['log', '-1', '--format=%s', r.sha]).trim(), 'Set canary traffic for jukebox in test to 35%');
    assert.equal(r.before.desiredPercent, 10);
    assert.equal(r.after.desiredPercent, 35);
    checkProposalBranch(sb, 'canary/test-jukebox-35', mainBefore, 35);
    assert.deepEqual(cloneState(c), before);
  });

  it('the base is the upstream head, not HEAD: a clone behind origin/main proposes onto the new main', async () => {
    const { sb, c } = forgeClone(GITHUB);
    const newMain = pushFromOther(sb, 'ci', 'README.md', (t) => `${t}more\n`, 'CI: docs');
    const before = cloneState(c);
    const r = await propose(c, { action: { kind: 'promote' } });
    assert.equal(r.proposal?.branch, 'canary/test-jukebox-promote');
    assert.equal(head(sb.remote, 'canary/test-jukebox-promote~1'), newMain);
    assert.equal(head(sb.remote, 'main'), newMain);
    assert.deepEqual(filesOf(sb.remote, 'canary/test-jukebox-promote'), [TEST_CONFIG_REL]);
    const after = cloneState(c);
    // Only the tracking ref moved (origin/main fetched): the status header says "behind 1" now, nothing else differs.
    assert.match(after.status, /^# branch\.ab \+0 -1$/m);
    assert.deepEqual({ ...after, status: '' }, { ...before, status: '' });
    assert.equal(after.status.replace(/^# branch\.ab .*$/m, ''), before.status.replace(/^# branch\.ab .*$/m, ''));
  });

  it('a re-run reuses the open proposal; a taken name gets -2; the upstream already at the value proposes nothing', async () => {
    const { sb, c } = forgeClone(GITHUB);
    const first = await propose(c);
    const again = await propose(c);
    assert.equal(again.pushed, false);
    assert.equal(again.sha, first.sha);
    assert.equal(again.proposal?.branch, 'canary/test-jukebox-35');
    assert.match(again.steps.join('\n'), /already proposes this change/);
    // Someone else's branch of the same name with other content: never overwritten.
    const other = sb.clone('colleague');
    writeFile(
      other,
      TEST_CONFIG_REL,
      readText(other, TEST_CONFIG_REL).replace('trafficPercent: 10', 'trafficPercent: 35').replace('version: 4562a17c17', 'version: 99'),
    );
    git(other, ['commit', '-qam', 'colleague']);
    git(other, ['push', '-q', 'origin', 'HEAD:refs/heads/canary/test-jukebox-40']);
    const colleague = head(other);
    const forty = await propose(c, { action: { kind: 'set', percent: 40 } });
    assert.equal(forty.proposal?.branch, 'canary/test-jukebox-40-2');
    assert.equal(head(sb.remote, 'canary/test-jukebox-40'), colleague);
    const same = await propose(c, { action: { kind: 'set', percent: 10 } });
    assert.equal(same.changed, false);
    assert.equal(same.proposal, undefined);
    assert.equal(remoteBranches(sb).length, 4);
  });
});

describe('pull-request mode: GitLab ssh subgroup remote rewritten by insteadOf', () => {
  it('pushes the branch and gives the merge-request URL of the subgroup project', async () => {
    const { sb, c } = forgeClone(GITLAB);
    const before = cloneState(c);
    const mainBefore = head(sb.remote, 'main');
    const r = await propose(c, { action: { kind: 'set', percent: 50 } });
    assert.equal(r.proposal?.forge, 'gitlab');
    assert.equal(
      r.proposal?.url,
      'https://gitlab.example.com/platform/ml/gitops/-/merge_requests/new?merge_request%5Bsource_branch%5D=canary%2Ftest-jukebox-50&merge_request%5Btarget_branch%5D=main',
    );
    checkProposalBranch(sb, 'canary/test-jukebox-50', mainBefore, 50);
    assert.deepEqual(cloneState(c), before);
  });

  it('an unknown host gets the branch and a hint; forgeHosts maps it', async () => {
    const { c } = forgeClone('ssh://git@git.corp.example:2222/team/gitops.git');
    const r = await propose(c);
    assert.equal(r.proposal?.url, undefined);
    assert.match(r.proposal?.hint ?? '', /canary\/test-jukebox-35 into main.*forgeHosts/);
    const mapped = await propose(c, { action: { kind: 'set', percent: 36 }, forgeHosts: { 'git.corp.example': 'forgejo' } });
    assert.equal(mapped.proposal?.url, 'https://git.corp.example/team/gitops/compare/main...canary/test-jukebox-36');
  });

  it('bad input is refused before anything is written', async () => {
    const { sb, c } = forgeClone(GITLAB);
    const before = cloneState(c);
    await assert.rejects(propose(c, { model: '../prod' }), (e: unknown) => e instanceof CanaryError && e.code === 'invalid-name');
    await assert.rejects(propose(c, { targetBranch: '--upload-pack=x' }), (e: unknown) => e instanceof CanaryError && e.code === 'invalid-branch');
    await assert.rejects(propose(c, { mode: 'merge' as never }), (e: unknown) => e instanceof CanaryError && e.code === 'invalid-mode');
    assert.deepEqual(remoteBranches(sb), ['refs/heads/main']);
    assert.deepEqual(cloneState(c), before);
  });
});

describe('protected branch: a pre-receive hook declines pushes to main', () => {
  const hook = (sb: Sandbox, message: string) => {
    const p = path.join(sb.remote, 'hooks', 'pre-receive');
    writeFileSync(p, `#!/bin/sh\nwhile read old new ref; do\n  if [ "$ref" = refs/heads/main ]; then echo "${message}" >&2; exit 1; fi\ndone\nexit 0\n`);
    chmodSync(p, 0o755);
  };

  for (const message of ['GitLab: You are not allowed to push code to protected branches on this project.', 'protection check failed']) {
    it(`push mode fails 'protected-branch' naming the pull-request path, the branch as before (${message.slice(0, 20)})`, async () => {
      const { sb, c } = forgeClone(GITLAB);
      hook(sb, message);
      const before = cloneState(c);
      const mainBefore = head(sb.remote, 'main');
      await assert.rejects(propose(c, { mode: 'push' }), (e: unknown) => {
        assert.ok(e instanceof CanaryError);
        assert.equal(e.code, 'protected-branch', e.message);
        assert.match(e.message, /origin\/main is protected.*Nothing was pushed; the commit was taken back/);
        assert.match(e.hint ?? '', /pull request.*--pull-request/);
        return true;
      });
      assert.equal(head(sb.remote, 'main'), mainBefore);
      assert.deepEqual(cloneState(c), before);
      const r = await propose(c);
      assert.equal(r.pushed, true);
      assert.equal(r.proposal?.branch, 'canary/test-jukebox-35');
      assert.equal(head(sb.remote, 'main'), mainBefore);
    });
  }
});
