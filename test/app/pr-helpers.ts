/**
 * The forge's side of the pull-request tests (test/app, test/cli): a reviewer's clone of the
 * bare remote that merges a proposal branch into main (`--no-ff`, then deletes the branch, as a
 * forge's merge button does) or closes it unmerged; a user's clone whose remote is a GitHub
 * address rewritten by insteadOf (so proposals get a page); and what cancelling must leave as it was.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { git, snapshot } from '../core/git-helpers';

export const GITHUB = 'https://github.com/acme/gitops.git';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tempDir(prefix: string): string {
  const d = mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/** A clone of `remote` configured as the GitHub address (insteadOf to the bare repository). */
export function githubClone(remote: string): string {
  const c = path.join(tempDir('ksc-pr-user-'), 'gitops');
  git(os.tmpdir(), ['clone', '--quiet', remote, c]);
  git(c, ['config', 'remote.origin.url', GITHUB]);
  git(c, ['config', `url.${remote}.insteadOf`, GITHUB]);
  return c;
}

/** The remote's canary/* branches. */
export function proposalBranches(remote: string): string[] {
  return git(remote, ['for-each-ref', '--format=%(refname:short)', 'refs/heads/canary']).split('\n').filter(Boolean);
}

/** Someone acting on the remote as a forge would. */
export function forge(remote: string) {
  const r = path.join(tempDir('ksc-pr-reviewer-'), 'r');
  git(os.tmpdir(), ['clone', '--quiet', remote, r]);
  const fresh = () => {
    git(r, ['fetch', '-q', '--prune', 'origin']);
    git(r, ['reset', '-q', '--hard', 'origin/main']);
  };
  return {
    /** Merges the branch into main with a merge commit and deletes it; returns the new main. */
    merge(branch: string): string {
      fresh();
      git(r, ['merge', '-q', '--no-ff', '-m', `Merge pull request from ${branch}`, `origin/${branch}`]);
      git(r, ['push', '-q', 'origin', 'main', `:${branch}`]);
      return git(r, ['rev-parse', 'HEAD']).trim();
    },
    /** Closes the pull request without merging: the branch is deleted. */
    close(branch: string): void {
      git(r, ['push', '-q', 'origin', `:${branch}`]);
    },
    /** Someone pushes to main directly: `trafficPercent` of test/jukebox becomes `percent`. */
    pushPercent(rel: string, percent: number): void {
      fresh();
      const file = path.join(r, rel);
      const text = readFileSync(file, 'utf8');
      const next = /trafficPercent: \d+/.test(text)
        ? text.replace(/trafficPercent: \d+/, `trafficPercent: ${percent}`)
        : `${text.trimEnd()}\ncanary:\n  trafficPercent: ${percent}\n`;
      writeFileSync(file, next);
      git(r, ['commit', '-q', '-m', `Set ${percent}% by hand`, '--', rel]);
      git(r, ['push', '-q', 'origin', 'main']);
    },
  };
}

/** What a cancelled or refused run must leave as it was: HEAD, the index's bytes, the working tree, the local branches. */
export function cloneState(c: string) {
  return {
    head: git(c, ['rev-parse', 'HEAD']).trim(),
    index: readFileSync(path.join(c, '.git', 'index')).toString('base64'),
    tree: [...snapshot(c)],
    branches: git(c, ['for-each-ref', '--format=%(refname) %(objectname)', 'refs/heads']),
  };
}
