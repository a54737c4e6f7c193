/**
 * Shared by the CLI's pull-request suites: a clone whose origin is configured as a forge address
 * that git rewrites to the bare remote by insteadOf (in the clone's config or in a global config
 * file named by GIT_CONFIG_GLOBAL), a busy working tree none of which is the change's, a
 * pre-receive hook that refuses pushes to main like a forge's branch protection, and the checks
 * of the one proposal branch a --pull-request run adds.
 */
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { git, head, readText, remoteBranches, testGitEnv, writeFile, type Sandbox } from '../core/git-helpers';

export const PROD_CONFIG_REL = 'model-deployments/prod/jukebox/config.yaml';

/**
 * Points the clone's origin at `url` and has git reach the bare remote through
 * url.<bare>.insteadOf = url: in the clone's config, or (`global`) in a temporary global
 * config file passed as GIT_CONFIG_GLOBAL. remote.origin.url stays the forge address.
 * Returns the environment to run the CLI with.
 */
export function useForgeUrl(
  sb: Pick<Sandbox, 'dir' | 'remote'>,
  c: string,
  url: string,
  opts: { global?: boolean; env?: Record<string, string> } = {},
): NodeJS.ProcessEnv {
  git(c, ['config', 'remote.origin.url', url]);
  let extra: Record<string, string> = { ...opts.env };
  if (opts.global) {
    const file = path.join(sb.dir, 'global.gitconfig');
    writeFileSync(file, '');
    git(sb.dir, ['config', '--file', file, `url.${sb.remote}.insteadOf`, url]);
    extra = { ...extra, GIT_CONFIG_GLOBAL: file };
  } else {
    git(c, ['config', `url.${sb.remote}.insteadOf`, url]);
  }
  assert.equal(git(c, ['config', 'remote.origin.url']).trim(), url);
  return testGitEnv(extra);
}

/** A working tree in use: a stash, a staged file, an unstaged edit of a tracked file, an untracked file; none of it the change's. */
export function makeBusy(c: string): void {
  writeFile(c, 'notes.txt', 'stash me\n');
  git(c, ['add', 'notes.txt']);
  git(c, ['stash', '-q']);
  writeFile(c, 'docs/staged.md', 'staged, not committed\n');
  git(c, ['add', 'docs/staged.md']);
  writeFile(c, 'README.md', `${readText(c, 'README.md')}an unsaved thought\n`);
  writeFile(c, 'scratch/untracked.txt', 'mine\n');
}

/** A pre-receive hook on the bare remote that refuses any push to main with `lines` on stderr, as a forge's branch protection does. */
export function protectMain(sb: Sandbox, lines: string[]): void {
  const p = path.join(sb.remote, 'hooks', 'pre-receive');
  const say = lines.map((l) => `    echo '${l.replace(/'/g, `'\\''`)}' >&2`).join('\n');
  writeFileSync(p, `#!/bin/sh\nwhile read old new ref; do\n  if [ "$ref" = refs/heads/main ]; then\n${say}\n    exit 1\n  fi\ndone\nexit 0\n`);
  chmodSync(p, 0o755);
}

/**
 * The remote after a --pull-request run: main at `mainBefore`, exactly one branch more
 * (`branch`), one commit on it whose parent is main, changing only `rel` (git diff --name-only
 * main..branch), whose content is exactly `bytes`.
 */
export function assertOneProposal(sb: Sandbox, branch: string, mainBefore: string, rel: string, bytes: string): void {
  assert.equal(head(sb.remote, 'main'), mainBefore, 'remote main untouched');
  assert.deepEqual(remoteBranches(sb.remote), [`refs/heads/${branch}`, 'refs/heads/main'].sort(), 'exactly one branch added');
  assert.equal(git(sb.remote, ['rev-list', '--count', `main..${branch}`]).trim(), '1', 'one commit on it');
  assert.equal(head(sb.remote, `${branch}~1`), mainBefore, 'made on the upstream head');
  assert.deepEqual(
    git(sb.remote, ['diff', '--name-only', `main..${branch}`])
      .trim()
      .split('\n'),
    [rel],
  );
  assert.equal(git(sb.remote, ['show', `${branch}:${rel}`]), bytes);
}
