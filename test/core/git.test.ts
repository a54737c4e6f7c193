/** The git environment, error classification and status parsing (without running git); fetchUpstream against a real bare remote. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { classifyGitError, gitEnvironment, GitRunner, redactUrls } from '../../src/core/git';
import { fetchUpstream, parseStatusV2, readUpstream } from '../../src/core/gitstate';
import { head, makeSandbox, pushFromOther, testGitEnv, TEST_CONFIG_REL } from './git-helpers';

describe('gitEnvironment', () => {
  it('never prompts on a terminal, keeps askpass, drops variables that redirect git', () => {
    const env = gitEnvironment({
      PATH: '/bin',
      HOME: '/h',
      GIT_ASKPASS: '/askpass',
      GIT_DIR: '/elsewhere',
      GIT_INDEX_FILE: '/x',
      GIT_TERMINAL_PROMPT: '1',
      EDITOR: 'vim',
      LANG: 'de_DE.UTF-8',
    });
    assert.equal(env.GIT_TERMINAL_PROMPT, '0');
    assert.equal(env.GIT_ASKPASS, '/askpass');
    assert.equal(env.GIT_DIR, undefined);
    assert.equal(env.GIT_INDEX_FILE, undefined);
    assert.equal(env.EDITOR, undefined);
    assert.equal(env.LC_ALL, 'C');
    assert.equal(env.PATH, '/bin');
    assert.match(env.GIT_SSH_COMMAND!, /BatchMode=yes/);
  });

  it("keeps the user's own ssh command", () => {
    assert.equal(gitEnvironment({ GIT_SSH_COMMAND: 'ssh -i key' }).GIT_SSH_COMMAND, 'ssh -i key');
    assert.equal(gitEnvironment({ GIT_SSH: '/usr/bin/plink' }).GIT_SSH_COMMAND, undefined);
  });
});

describe('classifyGitError', () => {
  const cases: [string, string][] = [
    ["fatal: could not read Username for 'https://git.example': terminal prompts disabled", 'auth-failed'],
    ["remote: HTTP Basic: Access denied\nfatal: Authentication failed for 'https://git.example/x.git/'", 'auth-failed'],
    ['git@github.com: Permission denied (publickey).\nfatal: Could not read from remote repository.', 'auth-failed'],
    ["To x\n ! [rejected]        HEAD -> main (fetch first)\nerror: failed to push some refs to 'x'", 'push-rejected'],
    ["! [remote rejected] HEAD -> main (cannot lock ref 'refs/heads/main': is at 1 but expected 2)", 'push-rejected'],
    ['! [remote rejected] HEAD -> main (pre-receive hook declined)', 'protected-branch'],
    [
      'remote: error: GH006: Protected branch update failed for refs/heads/main.\n! [remote rejected] main -> main (protected branch hook declined)',
      'protected-branch',
    ],
    [
      'remote: GitLab: You are not allowed to push code to protected branches on this project.\n! [remote rejected] main -> main (pre-receive hook declined)',
      'protected-branch',
    ],
    ['remote: Gitea: Not allowed to push to protected branch main\n! [remote rejected] main -> main (pre-receive hook declined)', 'protected-branch'],
    ['! [remote rejected] HEAD -> main (shallow update not allowed)', 'push-refused'],
    ["fatal: unable to access 'https://git.example/': Could not resolve host: git.example", 'remote-unreachable'],
    ["fatal: Unable to create '/r/.git/index.lock': File exists.", 'index-locked'],
    ['*** Please tell me who you are.', 'no-identity'],
    ["fatal: unable to access 'http://h/': Operation too slow. Less than 1 bytes/sec", 'timeout'],
  ];
  for (const [text, code] of cases) {
    it(`${code}: ${text.slice(0, 50)}`, () => {
      const e = classifyGitError(new Error(text), ['push'], 'push', 30000);
      assert.equal(e.code, code);
      assert.equal(e.kind, 'git');
      assert.ok(e.hint);
    });
  }

  it("a protected-branch refusal quotes the forge's own line, even after git's porcelain summary", () => {
    const porcelainFirst =
      '!\tHEAD:refs/heads/main\t[remote rejected] (protected branch hook declined)\nremote: error: GH006: Protected branch update failed for refs/heads/main.';
    assert.match(
      classifyGitError(new Error(porcelainFirst), ['push'], 'push', 30000).message,
      /protected \(GH006: Protected branch update failed for refs\/heads\/main\.\)\.$/,
    );
    const hookOnly = classifyGitError(new Error('!\tHEAD:refs/heads/main\t[remote rejected] (pre-receive hook declined)'), ['push'], 'push', 30000);
    assert.match(hookOnly.message, /protected \(! HEAD:refs\/heads\/main \[remote rejected\] \(pre-receive hook declined\)\)\.$/);
  });

  it('a runner timeout becomes a timeout error', () => {
    const err = Object.assign(new Error('block timeout reached'), { plugin: 'timeout' });
    const e = classifyGitError(err, ['fetch'], 'fetch', 1500);
    assert.equal(e.code, 'timeout');
    assert.match(e.message, /2 s/);
  });

  it('credentials in URLs are redacted', () => {
    assert.equal(
      redactUrls("fatal: Authentication failed for 'https://bob:hunter2@git.example/x.git/'"),
      "fatal: Authentication failed for 'https://***@git.example/x.git/'",
    );
    const e = classifyGitError(new Error("fatal: unable to access 'https://tok3n@git.example/': Could not resolve host"), ['fetch'], 'fetch', 1000);
    assert.ok(!e.message.includes('tok3n'));
  });
});

describe('parseStatusV2', () => {
  it('reads branch, upstream, ahead/behind and entries', () => {
    const out = [
      '# branch.oid 0123456789012345678901234567890123456789',
      '# branch.head main',
      '# branch.upstream origin/main',
      '# branch.ab +1 -2',
      '1 M. N... 100644 100644 100644 aaaa bbbb dir/a file.txt',
      '2 R. N... 100644 100644 100644 cccc dddd R100 new.txt',
      'old.txt',
      '? notes.txt',
      '',
    ].join('\0');
    const s = parseStatusV2(out);
    assert.equal(s.branch, 'main');
    assert.equal(s.upstream, 'origin/main');
    assert.deepEqual(s.ab, { ahead: 1, behind: 2 });
    assert.deepEqual(
      s.entries.map((e) => [e.kind, e.path]),
      [
        ['changed', 'dir/a file.txt'],
        ['renamed', 'new.txt'],
        ['renamed', 'old.txt'],
        ['untracked', 'notes.txt'],
      ],
    );
    assert.equal(s.entries[0]!.indexOid, 'bbbb');
  });

  it('detached HEAD has no branch', () => {
    assert.equal(parseStatusV2('# branch.oid 01\0# branch.head (detached)\0').branch, undefined);
  });
});

describe('fetchUpstream', () => {
  it('says the tracking ref did not move only when it provably did not', async () => {
    const sb = makeSandbox();
    try {
      const clone = sb.clone('user');
      const runner = new GitRunner({ cwd: clone, env: testGitEnv(), timeoutMs: 30000 });
      const up = await readUpstream(runner, 'main');
      const gitDir = path.join(clone, '.git');
      // A fresh clone keeps origin/main in packed-refs: no loose file to compare, so "moved".
      assert.equal(await fetchUpstream(runner, up, gitDir), true);
      pushFromOther(sb, 'ci', TEST_CONFIG_REL, (t) => t.replace('version: ', 'version: x'), 'CI bump');
      const before = head(clone, 'origin/main');
      assert.equal(await fetchUpstream(runner, up, gitDir), true, 'the remote moved');
      assert.notEqual(head(clone, 'origin/main'), before);
      // The fetch above wrote the ref as a loose file: an idle fetch is recognized now.
      assert.equal(await fetchUpstream(runner, up, gitDir), false, 'nothing new');
      assert.equal(await fetchUpstream(runner, up), true, 'without the git folder it cannot tell');
      pushFromOther(sb, 'ci2', TEST_CONFIG_REL, (t) => t.replace('version: ', 'version: y'), 'CI bump 2');
      assert.equal(await fetchUpstream(runner, up, gitDir), true, 'the remote moved again');
    } finally {
      sb.cleanup();
    }
  });
});

describe('GitRunner (spawns git directly)', () => {
  it('stdin input, a silent non-zero exit is a failure (probe: undefined), a temporary index leaves the real one alone', async () => {
    const sb = makeSandbox();
    try {
      const c = sb.clone('a');
      const git = new GitRunner({ cwd: c, env: testGitEnv(), timeoutMs: 10000 });
      const blob = (await git.run(['hash-object', '--stdin'], 'local', 'hello\n')).trim();
      assert.equal(blob, 'ce013625030ba8dba906f756967f9e9ca394464a');
      assert.equal(await git.probe(['merge-base', '--is-ancestor', 'HEAD', '4b825dc642cb6eb9a060e54bf8d69288fbee4904']), undefined);
      assert.equal(await git.probe(['config', '--get', 'no.such.key']), undefined);
      await assert.rejects(
        git.run(['rev-parse', '--verify', '-q', 'refs/heads/nope']),
        (e: unknown) => e instanceof Error && /exited with status 1/.test(e.message),
      );
      const indexBefore = await git.run(['ls-files', '--stage']);
      const tmp = new GitRunner({ cwd: c, env: testGitEnv(), timeoutMs: 10000, indexFile: path.join(sb.dir, 'tmp-index') });
      await tmp.run(['read-tree', '--empty']);
      assert.equal(await tmp.run(['ls-files']), '');
      assert.equal(await git.run(['ls-files', '--stage']), indexBefore);
    } finally {
      sb.cleanup();
    }
  });
});
