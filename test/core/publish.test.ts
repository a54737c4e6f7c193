/**
 * publishCanaryChange against real git: a temporary bare remote and clones act out
 * every case; each failure case checks the message and that nothing was lost.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { publishCanaryChange, type PublishOptions } from '../../src/core/publish';
import { CanaryError } from '../../src/core/errors';
import {
  changedLines,
  filesOf,
  git,
  gitTry,
  head,
  makeSandbox,
  porcelain,
  pushFromOther,
  readText,
  snapshot,
  testGitEnv,
  TEST_CONFIG_REL,
  writeFile,
  type Sandbox,
} from './git-helpers';

const sandboxes: Sandbox[] = [];
after(() => sandboxes.forEach((s) => s.cleanup()));

function sandbox(files?: Record<string, string>): Sandbox {
  const s = makeSandbox(files);
  sandboxes.push(s);
  return s;
}

function publish(root: string, extra: Partial<PublishOptions> = {}) {
  return publishCanaryChange({
    root,
    env: 'test',
    model: 'jukebox',
    action: { kind: 'set', percent: 20 },
    processEnv: testGitEnv(),
    timeoutMs: 20000,
    ...extra,
  });
}

async function refusal(p: Promise<unknown>, code: string, pattern: RegExp): Promise<CanaryError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof CanaryError, `expected CanaryError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    assert.ok(e.hint && e.hint.length > 10, 'has a hint');
    return e;
  }
  assert.fail(`expected a ${code} refusal`);
}

/** Everything the user could lose: HEAD, branch, working tree bytes, status. */
function state(repo: string) {
  return { head: head(repo), branch: gitTry(repo, ['symbolic-ref', '--short', 'HEAD']).out.trim(), files: snapshot(repo), status: porcelain(repo) };
}

const remoteFile = (sb: Sandbox, rev = 'main') => git(sb.remote, ['show', `${rev}:${TEST_CONFIG_REL}`]);

describe('publish: the normal path', () => {
  it('set makes one commit touching one file, diff only the value, and the remote has it', async () => {
    const sb = sandbox();
    const c = sb.clone('a');
    const before = head(c);
    const r = await publish(c);
    assert.equal(r.changed, true);
    assert.equal(r.pushed, true);
    assert.equal(r.remote, 'origin');
    assert.equal(r.branch, 'main');
    assert.equal(r.sha, head(c));
    assert.equal(head(sb.remote, 'main'), r.sha);
    assert.equal(head(c, 'HEAD~1'), before);
    assert.deepEqual(filesOf(c, 'HEAD'), [TEST_CONFIG_REL]);
    assert.deepEqual(changedLines(c, 'HEAD'), ['-  trafficPercent: 10 # share of the new revision', '+  trafficPercent: 20 # share of the new revision']);
    assert.equal(git(c, ['log', '-1', '--format=%s']).trim(), 'Set canary traffic for jukebox in test to 20%');
    assert.equal(r.before.desiredPercent, 10);
    assert.equal(r.after.desiredPercent, 20);
    assert.deepEqual(porcelain(c), []);
  });

  it('promote removes the block and rollback adds trafficPercent 0, one commit each', async () => {
    const sb = sandbox();
    const c = sb.clone('a');
    await publish(c, { action: { kind: 'promote' } });
    assert.deepEqual(changedLines(c, 'HEAD'), ['-canary:  # canary rollout', '-  trafficPercent: 10 # share of the new revision']);
    await publish(c, { action: { kind: 'rollback' } });
    assert.deepEqual(filesOf(c, 'HEAD'), [TEST_CONFIG_REL]);
    assert.deepEqual(changedLines(c, 'HEAD'), ['+canary:', '+  trafficPercent: 0']);
    assert.equal(head(sb.remote, 'main'), head(c));
    assert.equal(git(sb.remote, ['rev-list', '--count', 'main']).trim(), '3');
  });

  it('uses --message / a template for the commit message', async () => {
    const sb = sandbox();
    const c = sb.clone('a');
    await publish(c, { messageTemplate: 'canary: {model}@{env} -> {percent}%' });
    assert.equal(git(c, ['log', '-1', '--format=%s']).trim(), 'canary: jukebox@test -> 20%');
    await publish(c, { action: { kind: 'set', percent: 30 }, message: 'my words' });
    assert.equal(git(c, ['log', '-1', '--format=%B']).trim(), 'my words');
  });

  it('remote ahead: pulls first (fast-forward), then pushes on top', async () => {
    const sb = sandbox();
    const c = sb.clone('a');
    const theirs = pushFromOther(sb, 'other', 'README.md', (t) => `${t}more\n`, 'Docs');
    const r = await publish(c);
    assert.equal(head(c, 'HEAD~1'), theirs);
    assert.equal(head(sb.remote, 'main'), r.sha);
    assert.ok(
      r.steps.some((s) => /pulled 1 new commit from origin\/main/.test(s)),
      r.steps.join('\n'),
    );
  });

  it("leaves the user's other changes (staged, unstaged, untracked) exactly as they were, uncommitted", async () => {
    const sb = sandbox();
    const c = sb.clone('a');
    writeFile(c, 'README.md', '# gitops\nstaged line\n');
    git(c, ['add', 'README.md']);
    writeFile(c, 'README.md', '# gitops\nstaged line\nunstaged line\n');
    writeFile(c, 'model-deployments/prod/jukebox/config.yaml', readText(c, 'model-deployments/prod/jukebox/config.yaml') + '# half-done prod edit\n');
    writeFile(c, 'notes.txt', 'untracked\n');
    pushFromOther(sb, 'other', 'docs/other.md', () => 'x\n', 'Other docs');
    const before = state(c);
    const r = await publish(c);
    const now = state(c);
    assert.deepEqual(filesOf(c, 'HEAD'), [TEST_CONFIG_REL]);
    assert.deepEqual(
      now.status,
      before.status.filter((l) => !l.includes('docs/other.md')),
    );
    for (const [f, bytes] of before.files) {
      if (f !== TEST_CONFIG_REL) assert.equal(now.files.get(f), bytes, `${f} unchanged`);
    }
    assert.equal(git(c, ['diff', '--cached', '--name-only']).trim(), 'README.md', 'README still staged');
    assert.equal(git(c, ['show', ':README.md']), '# gitops\nstaged line\n', 'index content kept');
    assert.equal(head(sb.remote, 'main'), r.sha);
  });

  it('idempotent: a second identical run changes nothing and commits nothing', async () => {
    const sb = sandbox();
    const c = sb.clone('a');
    await publish(c);
    const sha = head(c);
    const r = await publish(c);
    assert.equal(r.changed, false);
    assert.equal(r.pushed, false);
    assert.equal(head(c), sha);
    assert.equal(head(sb.remote, 'main'), sha);
  });
});

describe('publish: commit-only and interrupted runs', () => {
  it('commit-only commits locally, leaves the remote alone; the next run pushes it', async () => {
    const sb = sandbox();
    const c = sb.clone('a');
    const remoteBefore = head(sb.remote, 'main');
    const r = await publish(c, { push: false });
    assert.equal(r.pushed, false);
    assert.equal(r.remote, undefined);
    assert.equal(head(sb.remote, 'main'), remoteBefore);
    assert.deepEqual(filesOf(c, 'HEAD'), [TEST_CONFIG_REL]);
    const again = await publish(c);
    assert.equal(again.changed, false);
    assert.equal(again.pushed, true);
    assert.equal(head(sb.remote, 'main'), r.sha);
  });

  it('commit-only works without any remote', async () => {
    const sb = sandbox();
    const c = sb.clone('a');
    git(c, ['remote', 'remove', 'origin']);
    const r = await publish(c, { push: false });
    assert.equal(r.changed, true);
    assert.equal(head(c), r.sha);
  });

  it('edited but not committed (an interrupted run): the re-run commits and pushes exactly that', async () => {
    const sb = sandbox();
    const c = sb.clone('a');
    writeFile(c, TEST_CONFIG_REL, readText(c, TEST_CONFIG_REL).replace('trafficPercent: 10', 'trafficPercent: 20'));
    const r = await publish(c);
    assert.equal(r.changed, true);
    assert.ok(r.steps.some((s) => /not committed: finishing it/.test(s)));
    assert.equal(head(sb.remote, 'main'), r.sha);
    assert.deepEqual(changedLines(c, 'HEAD'), ['-  trafficPercent: 10 # share of the new revision', '+  trafficPercent: 20 # share of the new revision']);
  });

  it('edited but not committed while the remote changed the same file elsewhere: both land', async () => {
    const sb = sandbox();
    const c = sb.clone('a');
    writeFile(c, TEST_CONFIG_REL, readText(c, TEST_CONFIG_REL).replace('trafficPercent: 10', 'trafficPercent: 20'));
    pushFromOther(sb, 'ci', TEST_CONFIG_REL, (t) => t.replace('4562a17c17', 'abcdef0123'), 'CI: version abcdef0123');
    const r = await publish(c);
    assert.equal(r.changed, true);
    const text = remoteFile(sb);
    assert.match(text, /version: abcdef0123/);
    assert.match(text, /trafficPercent: 20/);
  });
});

describe('publish: refusals that lose nothing', () => {
  it('invalid names are refused before anything is touched', async () => {
    const missing = path.join(sandbox().dir, 'does-not-exist');
    await refusal(publish(missing, { env: '../x' }), 'invalid-name', /environment/);
    await refusal(publish(missing, { model: 'Juke Box' }), 'invalid-name', /model/);
    await refusal(publish(missing, { action: { kind: 'set', percent: 101 } }), 'invalid-percent', /101/);
    assert.equal(existsSync(missing), false);
  });

  it('a half-edit of the target config.yaml is refused and kept, nothing committed', async () => {
    const sb = sandbox();
    const c = sb.clone('a');
    writeFile(c, TEST_CONFIG_REL, readText(c, TEST_CONFIG_REL).replace('autoscaling: true', 'autoscaling: false'));
    const before = state(c);
    await refusal(publish(c), 'target-dirty', /uncommitted changes/);
    assert.deepEqual(state(c), before);
  });

  it('incoming commits touching a file the user has dirty: refused, nothing changed', async () => {
    const sb = sandbox();
    const c = sb.clone('a');
    writeFile(c, 'README.md', '# gitops\nmine\n');
    pushFromOther(sb, 'other', 'README.md', (t) => `${t}theirs\n`, 'Docs');
    const before = state(c);
    await refusal(publish(c), 'dirty-overlap', /README\.md/);
    assert.deepEqual(state(c), before);
  });

  it('no remote / no upstream are refused with the fix', async () => {
    const sb = sandbox();
    const c = sb.clone('a');
    git(c, ['branch', '--unset-upstream']);
    let before = state(c);
    await refusal(publish(c), 'no-upstream', /no upstream/);
    assert.deepEqual(state(c), before);
    git(c, ['remote', 'remove', 'origin']);
    before = state(c);
    await refusal(publish(c), 'no-remote', /no remote/);
    assert.deepEqual(state(c), before);
  });

  it('detached HEAD is refused', async () => {
    const sb = sandbox();
    const c = sb.clone('a');
    git(c, ['checkout', '--quiet', '--detach']);
    const before = state(c);
    await refusal(publish(c), 'detached-head', /detached/);
    assert.deepEqual(state(c), before);
  });

  it('a stale index.lock is refused with the file named', async () => {
    const sb = sandbox();
    const c = sb.clone('a');
    const lock = path.join(c, '.git', 'index.lock');
    writeFileSync(lock, '');
    const before = state(c);
    const e = await refusal(publish(c), 'index-locked', /index\.lock/);
    assert.ok(e.hint!.includes(lock));
    assert.deepEqual(state(c), before);
    assert.ok(existsSync(lock), 'the lock is not ours to delete');
  });

  it('a rebase in progress is refused', async () => {
    const sb = sandbox();
    const c = sb.clone('a');
    mkdirSync(path.join(c, '.git', 'rebase-merge'));
    const before = state(c);
    await refusal(publish(c), 'rebase-in-progress', /rebase/);
    assert.deepEqual(state(c), before);
  });

  it('unpushed commits that are not config changes are not published by surprise', async () => {
    const sb = sandbox();
    const c = sb.clone('a');
    writeFile(c, 'README.md', 'x\n');
    git(c, ['commit', '--quiet', '-am', 'WIP docs']);
    const before = state(c);
    await refusal(publish(c), 'unpushed-commits', /WIP docs/);
    assert.deepEqual(state(c), before);
  });

  it('a config.yaml that does not parse is refused, file untouched', async () => {
    const sb = sandbox({ [TEST_CONFIG_REL]: 'name: [broken\n' });
    const c = sb.clone('a');
    const before = state(c);
    await assert.rejects(publish(c), (e: unknown) => e instanceof CanaryError && e.kind === 'invalid-config');
    assert.deepEqual(state(c), before);
  });
});

describe('publish: races with the remote', () => {
  it('push rejected (a CI pipeline pushed a version change meanwhile): retried once, both land', async () => {
    const sb = sandbox();
    const c = sb.clone('a');
    let attempts = 0;
    const r = await publish(c, {
      beforePush: (n) => {
        attempts = n;
        if (n === 1) pushFromOther(sb, 'ci', TEST_CONFIG_REL, (t) => t.replace('4562a17c17', 'abcdef0123'), 'CI: version abcdef0123');
      },
    });
    assert.equal(attempts, 2);
    assert.ok(
      r.steps.some((s) => /push rejected/.test(s)),
      r.steps.join('\n'),
    );
    assert.equal(head(sb.remote, 'main'), r.sha);
    const text = remoteFile(sb);
    assert.match(text, /version: abcdef0123 {2}# set by the pipeline/);
    assert.match(text, /trafficPercent: 20 # share/);
    assert.deepEqual(filesOf(c, 'HEAD'), [TEST_CONFIG_REL]);
    assert.deepEqual(changedLines(c, 'HEAD'), ['-  trafficPercent: 10 # share of the new revision', '+  trafficPercent: 20 # share of the new revision']);
  });

  it('CI change on the adjacent line (a textual conflict for git): re-applied semantically, both land', async () => {
    const adjacent = 'name: jukebox\nversion: 4562a17c17\ncanary: {trafficPercent: 10}\nautoscaling: true\n';
    const sb = sandbox({ [TEST_CONFIG_REL]: adjacent });
    const c = sb.clone('a');
    const r = await publish(c, {
      action: { kind: 'promote' },
      beforePush: (n) => {
        if (n === 1) pushFromOther(sb, 'ci', TEST_CONFIG_REL, (t) => t.replace('4562a17c17', 'abcdef0123'), 'CI: version');
      },
    });
    assert.equal(r.changed, true);
    assert.equal(remoteFile(sb), 'name: jukebox\nversion: abcdef0123\nautoscaling: true\n');
  });

  it('the same value changed on the remote meanwhile: refused, our commit taken back, remote keeps theirs', async () => {
    const sb = sandbox();
    const c = sb.clone('a');
    writeFile(c, 'notes.txt', 'mine\n');
    const before = state(c);
    let theirs = '';
    await refusal(
      publish(c, {
        beforePush: (n) => {
          if (n === 1) theirs = pushFromOther(sb, 'bob', TEST_CONFIG_REL, (t) => t.replace('trafficPercent: 10', 'trafficPercent: 50'), 'Bob: 50%');
        },
      }),
      'conflict',
      /Someone else changed the canary of jukebox in test .*now 50%/,
    );
    assert.deepEqual(state(c), before, 'repository as the user had it');
    assert.equal(head(sb.remote, 'main'), theirs);
    assert.match(remoteFile(sb), /trafficPercent: 50/);
  });

  it('an unpushed local commit conflicting with the remote: rebase aborted, local commit kept, nothing lost', async () => {
    const sb = sandbox();
    const c = sb.clone('a');
    await publish(c, { push: false });
    const local = head(c);
    pushFromOther(sb, 'bob', TEST_CONFIG_REL, (t) => t.replace('trafficPercent: 10', 'trafficPercent: 50'), 'Bob: 50%');
    writeFile(c, 'notes.txt', 'mine\n');
    const before = state(c);
    await refusal(publish(c, { action: { kind: 'set', percent: 30 } }), 'conflict', /conflict with new commits on origin\/main/);
    assert.deepEqual(state(c), before);
    assert.equal(head(c), local);
    assert.equal(existsSync(path.join(c, '.git', 'rebase-merge')), false, 'no rebase left in progress');
  });

  it('local config commits plus dirty staged work, remote ahead: rebased with the staged/unstaged split intact', async () => {
    const sb = sandbox();
    const c = sb.clone('a');
    await publish(c, { env: 'prod', push: false });
    writeFile(c, 'README.md', '# gitops\nstaged\n');
    git(c, ['add', 'README.md']);
    writeFile(c, 'README.md', '# gitops\nstaged\nunstaged\n');
    pushFromOther(sb, 'other', 'docs/x.md', () => 'x\n', 'Docs');
    const statusBefore = porcelain(c);
    const r = await publish(c);
    assert.ok(
      r.steps.some((s) => /rebased 1 local commit onto 1 new remote commit/.test(s)),
      r.steps.join('\n'),
    );
    assert.deepEqual(
      porcelain(c),
      statusBefore.filter((l) => !l.includes('docs/')),
    );
    assert.equal(git(c, ['show', ':README.md']), '# gitops\nstaged\n');
    assert.equal(readText(c, 'README.md'), '# gitops\nstaged\nunstaged\n');
    assert.equal(head(sb.remote, 'main'), r.sha);
    assert.equal(git(sb.remote, ['rev-list', '--count', 'main']).trim(), '4');
  });
});
