/**
 * Names from the repository's own configuration become git arguments too: the upstream
 * remote's name is passed to `git fetch` / `git push`. A remote named like an option
 * (`--upload-pack=<program>`, `--exec=<program>`, abbreviations git accepts) must be refused
 * before git runs with it, and the program it names must never run. The user's work is
 * left as it was.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { publishCanaryChange } from '../../src/core/publish';
import { isCanaryError } from '../../src/core/errors';
import { git, head, makeSandbox, TEST_CONFIG_REL, testGitEnv } from '../core/git-helpers';

describe('a hostile upstream remote name is refused before it becomes a git argument', () => {
  const box = makeSandbox();
  after(() => box.cleanup());
  const marker = path.join(box.dir, 'ran');
  const evil = path.join(box.dir, 'evil.sh');
  writeFileSync(evil, `#!/bin/sh\necho "$0 $*" >> '${marker}'\nexit 1\n`);
  chmodSync(evil, 0o755);

  const names = [`--upload-pack=${evil}`, `--upl=${evil}`, `--receive-pack=${evil}`, `--exec=${evil}`, `--config=core.sshCommand=${evil}`, `-u${evil}`];

  for (const [i, name] of names.entries()) {
    it(`remote ${JSON.stringify(name.replace(evil, '<program>'))}: unsafe-remote, nothing run, nothing changed`, async () => {
      const clone = box.clone(`hostile-${i}`);
      git(clone, ['config', `remote.${name}.url`, box.remote]);
      git(clone, ['config', `remote.${name}.fetch`, '+refs/heads/*:refs/remotes/hostile/*']);
      git(clone, ['config', 'branch.main.remote', name]);
      const before = { head: head(clone), config: readFileSync(path.join(clone, TEST_CONFIG_REL), 'utf8'), status: git(clone, ['status', '--porcelain']) };
      await assert.rejects(
        publishCanaryChange({ root: clone, env: 'test', model: 'jukebox', action: { kind: 'set', percent: 33 }, processEnv: testGitEnv() }),
        (e) => {
          assert.ok(isCanaryError(e), String(e));
          assert.equal(e.code, 'unsafe-remote', e.message);
          assert.match(e.message, /would read as an option/);
          assert.match(e.hint ?? '', /\.git\/config/);
          return true;
        },
      );
      assert.equal(existsSync(marker), false, existsSync(marker) ? readFileSync(marker, 'utf8') : '');
      assert.deepEqual(
        { head: head(clone), config: readFileSync(path.join(clone, TEST_CONFIG_REL), 'utf8'), status: git(clone, ['status', '--porcelain']) },
        before,
      );
      rmSync(marker, { force: true });
    });
  }

  it('commit-only (no push) does not need the remote and still works', async () => {
    const clone = box.clone('hostile-commit-only');
    git(clone, ['config', `remote.${names[0]}.url`, box.remote]);
    git(clone, ['config', 'branch.main.remote', names[0]!]);
    const r = await publishCanaryChange({
      root: clone,
      env: 'test',
      model: 'jukebox',
      action: { kind: 'set', percent: 33 },
      push: false,
      processEnv: testGitEnv(),
    });
    assert.equal(r.changed, true);
    assert.equal(r.pushed, false);
    assert.equal(existsSync(marker), false);
  });
});
