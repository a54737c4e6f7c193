/**
 * src/core/gitconfig.ts: the upstream read from .git/config without git. Checked against git
 * itself: for every config below, when the reader gives an answer it is exactly what
 * `git for-each-ref --format=%(upstream…)` says, and it gives up where it is told to (includes,
 * quoting, old-style sections, worktrees, unusual refspecs, unsafe names).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseGitConfig, upstreamFromConfig } from '../../src/core/gitconfig';
import { git, makeSandbox } from './git-helpers';

const sb = makeSandbox();
after(() => sb.cleanup());

/** A fresh clone of the sandbox with `extra` appended to its .git/config. */
let n = 0;
function cloneWith(extra: string): string {
  const c = sb.clone(`c${n++}`);
  if (extra) appendFileSync(path.join(c, '.git', 'config'), extra);
  return c;
}

/** git's own answer: remote, remote ref, tracking ref, short name ('' when none). */
function gitsAnswer(repo: string, branch = 'main'): string[] {
  const out = git(repo, ['for-each-ref', '--format=%(upstream:remotename)%00%(upstream:remoteref)%00%(upstream)%00%(upstream:short)', `refs/heads/${branch}`]);
  return out.trim().split('\0');
}

function guess(repo: string, branch = 'main'): string[] | undefined {
  const u = upstreamFromConfig(path.join(repo, '.git'), branch);
  return u && [u.remote, u.remoteRef, u.trackingRef, u.short];
}

describe('upstreamFromConfig: the same answer as git, or none', () => {
  const agreeing: [string, string][] = [
    ['a plain clone', ''],
    ['a comment after a value and odd spacing', '\n[branch "main"]\n\tremote =   origin   # the gitops remote\n'],
    ['section and key names in another case', '\n[BRANCH "main"]\n\tRemote = origin\n'],
    [
      'the last branch.main.remote wins',
      '\n[remote "upstream"]\n\turl = /nowhere\n\tfetch = +refs/heads/*:refs/remotes/upstream/*\n[branch "main"]\n\tremote = upstream\n',
    ],
    ['a fetch refspec mapping to another folder', '\n[remote "origin"]\n\tfetch = +refs/heads/main:refs/remotes/mirror/main\n'],
  ];
  for (const [name, extra] of agreeing) {
    it(`${name}: the answer is git's`, () => {
      const c = cloneWith(extra);
      assert.deepEqual(guess(c), gitsAnswer(c));
    });
  }

  it('refspec order: the first one that matches maps the branch, as in git', () => {
    const c = sb.clone(`c${n++}`);
    git(c, ['config', '--replace-all', 'remote.origin.fetch', '+refs/heads/main:refs/remotes/first/main']);
    git(c, ['config', '--add', 'remote.origin.fetch', '+refs/heads/*:refs/remotes/origin/*']);
    assert.deepEqual(guess(c), gitsAnswer(c));
    assert.equal(guess(c)?.[2], 'refs/remotes/first/main');
  });

  const refused: [string, string][] = [
    ['an include', '\n[include]\n\tpath = other.cfg\n'],
    ['an includeIf', '\n[includeIf "gitdir:/x/"]\n\tpath = other.cfg\n'],
    ['a quoted value', '\n[branch "main"]\n\tremote = "origin"\n'],
    ['an escaped value', '\n[branch "main"]\n\tmerge = refs/heads/ma\\\\in\n'],
    ['a continued line', '\n[core]\n\tpager = less \\\n -R\n'],
    ['an old-style subsection', '\n[branch.main]\n\tremote = origin\n'],
    ['a value on the section line', '\n[core] bare = false\n'],
    ['two merge refs', '\n[branch "main"]\n\tmerge = refs/heads/other\n'],
    ['a negative refspec', '\n[remote "origin"]\n\tfetch = ^refs/heads/secret\n'],
    ['a local upstream (remote .)', '\n[branch "main"]\n\tremote = .\n'],
    ['a remote given as a URL', '\n[branch "main"]\n\tremote = /some/where.git\n'],
    ['per-worktree config', '\n[extensions]\n\tworktreeConfig = true\n'],
  ];
  for (const [name, extra] of refused) {
    it(`${name}: no answer (git is asked instead)`, () => {
      const c = cloneWith(extra);
      assert.equal(guess(c), undefined);
    });
  }

  it('a remote name git would read as an option, or a branch without upstream: no answer', () => {
    const c = sb.clone(`c${n++}`);
    writeFileSync(
      path.join(c, '.git', 'config'),
      '[remote "-x"]\n\turl = /r\n\tfetch = +refs/heads/*:refs/remotes/-x/*\n[branch "main"]\n\tremote = -x\n\tmerge = refs/heads/main\n',
    );
    assert.equal(guess(c), undefined);
    const d = sb.clone(`c${n++}`);
    git(d, ['switch', '--quiet', '-c', 'local-only']);
    assert.equal(guess(d, 'local-only'), undefined);
    assert.deepEqual(gitsAnswer(d, 'local-only'), ['', '', '', '']);
  });

  it('a linked worktree (its config lives in the common folder): no answer', () => {
    const c = sb.clone(`c${n++}`);
    const wt = path.join(sb.dir, `wt${n++}`);
    git(c, ['worktree', 'add', '--quiet', '-b', 'side', wt, 'origin/main']);
    assert.equal(upstreamFromConfig(path.join(c, '.git', 'worktrees', path.basename(wt)), 'side'), undefined);
  });
});

describe('parseGitConfig', () => {
  it('reads sections, subsections (case kept) and keys (lower case); comments and blank lines skipped', () => {
    const e = parseGitConfig('# top\n[Core]\n\tBare = false\n; note\n\n[remote "Origin"] # here\n\turl = /x\n\tflag\n');
    assert.deepEqual(e, [
      { name: 'core', sub: undefined, key: 'bare', value: 'false' },
      { name: 'remote', sub: 'Origin', key: 'url', value: '/x' },
      { name: 'remote', sub: 'Origin', key: 'flag', value: '' },
    ]);
  });

  it('gives up on an entry before any section and on a broken section line', () => {
    assert.equal(parseGitConfig('key = value\n'), undefined);
    assert.equal(parseGitConfig('[branch "main"\n'), undefined);
  });
});
