/**
 * publishCanaryChange's start: the fetch of the upstream .git/config names runs beside
 * `git status` (no for-each-ref), git's own answer wins when the two disagree, a refusal made
 * while that fetch runs stops it, and a remote that is gone fails the same way as before:
 * nothing written in every case.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { publishCanaryChange, type PublishOptions } from '../../src/core/publish';
import { GitRunner } from '../../src/core/git';
import { CanaryError } from '../../src/core/errors';
import { git, head, makeSandbox, pushFromOther, readText, snapshot, testGitEnv, TEST_CONFIG_REL, writeFile } from './git-helpers';

const sb = makeSandbox();
after(() => sb.cleanup());

const opts = (root: string, extra: Partial<PublishOptions> = {}): PublishOptions => ({
  root,
  env: 'test',
  model: 'jukebox',
  action: { kind: 'set', percent: 35 },
  processEnv: testGitEnv(),
  ...extra,
});

/** The git subcommands a call runs, in the order they were started. */
async function gitCommands<T>(fn: () => Promise<T>): Promise<{ result: T; commands: string[] }> {
  const proto = GitRunner.prototype as unknown as { spawnGit: (args: string[], ...rest: unknown[]) => Promise<string> };
  const orig = proto.spawnGit;
  const commands: string[] = [];
  proto.spawnGit = function (this: unknown, args: string[], ...rest: unknown[]) {
    commands.push(args.filter((a, i) => a !== '-c' && args[i - 1] !== '-c')[0] ?? '?');
    return orig.call(this, args, ...rest);
  };
  try {
    return { result: await fn(), commands };
  } finally {
    proto.spawnGit = orig;
  }
}

const isCode = (code: string) => (e: unknown) => e instanceof CanaryError && e.code === code;

describe('publish: the fetch beside git status', () => {
  it('a plain clone: fetch and status at once, no for-each-ref, and the change is pushed', async () => {
    const c = sb.clone('plain');
    const first = await gitCommands(() => publishCanaryChange(opts(c)));
    assert.equal(first.result.pushed, true);
    assert.deepEqual(first.commands.slice(0, 2), ['fetch', 'status']);
    assert.ok(!first.commands.includes('for-each-ref'), first.commands.join(' '));
    // Once the remote-tracking ref is a loose file (a fresh clone packs it) the fetch is seen not
    // to move it: status's ahead/behind count stands, and no rev-list runs either.
    const { result, commands } = await gitCommands(() => publishCanaryChange(opts(c, { action: { kind: 'set', percent: 36 } })));
    assert.deepEqual(commands, ['fetch', 'status', 'commit', 'push']);
    assert.equal(result.pushed, true);
    assert.equal(head(sb.remote, 'main'), result.sha);
  });

  it("git's configuration maps the branch elsewhere than .git/config alone says: git's answer is used", async () => {
    const c = sb.clone('global');
    // A refspec from the global configuration comes before the clone's own: git tracks main as elsewhere/main.
    const globalCfg = path.join(sb.dir, 'global.gitconfig');
    writeFileSync(globalCfg, '[remote "origin"]\n\tfetch = +refs/heads/main:refs/remotes/elsewhere/main\n');
    const env = testGitEnv({ GIT_CONFIG_GLOBAL: globalCfg });
    assert.equal(git(c, ['for-each-ref', '--format=%(upstream:short)', 'refs/heads/main'], env).trim(), 'elsewhere/main');
    const other = pushFromOther(sb, 'global-other', 'README.md', (t) => `${t}more\n`, 'Another change');
    const { result, commands } = await gitCommands(() => publishCanaryChange(opts(c, { processEnv: env })));
    assert.deepEqual(commands.slice(0, 4).sort(), ['fetch', 'fetch', 'for-each-ref', 'status'].sort());
    assert.equal(result.pushed, true);
    assert.ok(
      result.steps.some((s) => /pulled 1 new commit from elsewhere\/main/.test(s)),
      result.steps.join('\n'),
    );
    assert.equal(head(sb.remote, 'main'), result.sha);
    assert.equal(git(c, ['rev-parse', 'refs/remotes/elsewhere/main'], env).trim(), result.sha);
    assert.equal(git(c, ['rev-parse', `${result.sha}~1`], env).trim(), other);
  });

  it('a refusal made while the fetch runs stops the fetch: the remote-tracking ref does not move', async () => {
    const c = sb.clone('refused');
    // A slow remote: upload-pack starts only after 5 s.
    const slow = path.join(sb.dir, 'slow-upload-pack');
    writeFileSync(slow, '#!/bin/sh\nsleep 5\nexec git-upload-pack "$@"\n');
    chmodSync(slow, 0o755);
    git(c, ['config', 'remote.origin.uploadpack', slow]);
    pushFromOther(sb, 'refused-other', 'README.md', (t) => `${t}again\n`, 'Remote moves on');
    const tracking = head(c, 'refs/remotes/origin/main');
    writeFile(c, TEST_CONFIG_REL, `${readText(c, TEST_CONFIG_REL)}# my own edit\n`);
    const before = snapshot(c);
    await assert.rejects(publishCanaryChange(opts(c)), isCode('target-dirty'));
    assert.equal(head(c, 'refs/remotes/origin/main'), tracking, 'the fetch finished instead of being stopped');
    assert.deepEqual(snapshot(c), before);
  });

  it('a remote that is gone: the same error as before, nothing written', async () => {
    const c = sb.clone('gone');
    git(c, ['remote', 'set-url', 'origin', path.join(sb.dir, 'no-such-remote.git')]);
    const before = snapshot(c);
    const sha = head(c);
    await assert.rejects(publishCanaryChange(opts(c)), (e: unknown) => e instanceof CanaryError && e.kind === 'git' && /no-such-remote/.test(e.message));
    assert.deepEqual(snapshot(c), before);
    assert.equal(head(c), sha);
  });
});
