/**
 * Issue 7 §2, git under faults:
 * - the CLI process SIGKILLed at each step of publish (after the edit, after the commit,
 *   while pushing; KSC_FAULT_KILL_AT, read only by src/core/publish.ts), then run again:
 *   the repository is consistent, the change is fully published or clearly not, and the
 *   re-run finishes it with exactly one commit touching one file;
 * - a "CI pipeline" pushing a `version` change to the same file at the same moment as a
 *   publish, 100 times: both changes always land.
 * (The remote that accepts and never answers is in publish-network.test.ts.)
 * Counts go to test-results/git-faults.json: {kills, kills_recovered, concurrent_runs, both_landed}.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { publishCanaryChange } from '../../src/core/publish';
import {
  changedLines, filesOf, git, head, makeSandbox, porcelain, readText, testGitEnv, TEST_CONFIG_REL, writeFile, type Sandbox,
} from './git-helpers';
import { buildCliBundle, repoRoot } from '../cli/bundle';

const counts = { kills: 0, kills_recovered: 0, concurrent_runs: 0, both_landed: 0 };
const sandboxes: Sandbox[] = [];

after(() => {
  sandboxes.forEach((s) => s.cleanup());
  bundle?.cleanup();
  const dir = path.join(repoRoot, 'test-results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'git-faults.json'), `${JSON.stringify(counts, null, 2)}\n`);
});

let bundle: { bin: string; cleanup(): void } | undefined;
before(async () => {
  bundle = await buildCliBundle();
});

/** Runs the bundled CLI in a child process; resolves with its exit code or signal. */
function cli(args: string[], cwd: string, extraEnv: Record<string, string> = {}): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bundle!.bin, ...args], {
      cwd, env: testGitEnv(extraEnv), stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

const LINES = ['-  trafficPercent: 10 # share of the new revision', '+  trafficPercent: 20 # share of the new revision'];

describe('publish killed at each step, then run again', () => {
  for (const point of ['after-edit', 'after-commit', 'during-push'] as const) {
    it(`SIGKILL ${point}: consistent repository, a re-run finishes it`, async () => {
      const sb = makeSandbox();
      sandboxes.push(sb);
      const c = sb.clone('a');
      writeFile(c, 'notes.txt', 'my own notes\n'); // the user's unrelated work
      const start = head(c);
      const killed = await cli(['set', 'jukebox', '20', '--env', 'test'], c, { KSC_FAULT_KILL_AT: point });
      assert.equal(killed.signal, 'SIGKILL', `killed at ${point} (${killed.stderr})`);
      counts.kills++;

      // Consistent: no lock, no operation in progress, status readable, fsck clean.
      for (const f of ['index.lock', 'rebase-merge', 'rebase-apply', 'MERGE_HEAD']) assert.equal(existsSync(path.join(c, '.git', f)), false, f);
      git(c, ['fsck', '--no-progress']);
      // Fully published or clearly not: the remote holds the start or exactly our commit.
      const remoteHead = head(sb.remote, 'main');
      if (remoteHead !== start) {
        assert.deepEqual(filesOf(sb.remote, remoteHead), [TEST_CONFIG_REL]);
        assert.equal(head(sb.remote, `${remoteHead}~1`), start);
      }
      if (point === 'after-edit') {
        assert.equal(head(c), start);
        assert.deepEqual(porcelain(c), [' M ' + TEST_CONFIG_REL, '?? notes.txt']);
      } else {
        assert.deepEqual(changedLines(c, 'HEAD'), LINES);
      }

      const again = await cli(['set', 'jukebox', '20', '--env', 'test'], c);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(head(sb.remote, 'main'), head(c));
      assert.equal(head(c, 'HEAD~1'), start, 'exactly one commit');
      assert.deepEqual(filesOf(c, 'HEAD'), [TEST_CONFIG_REL]);
      assert.deepEqual(changedLines(c, 'HEAD'), LINES);
      assert.deepEqual(porcelain(c), ['?? notes.txt']);
      assert.equal(readText(c, 'notes.txt'), 'my own notes\n');
      counts.kills_recovered++;
    });
  }
});

const execFileP = promisify(execFile);

/** A CI pipeline step: set `version` with a fresh checkout, push, retry on rejection. */
async function ciPush(clone: string, version: string): Promise<void> {
  const env = testGitEnv();
  const g = (args: string[]) => execFileP('git', args, { cwd: clone, env });
  for (let attempt = 0; attempt < 30; attempt++) {
    await g(['fetch', '--quiet', 'origin', 'main']);
    await g(['reset', '--quiet', '--hard', 'origin/main']);
    const file = path.join(clone, TEST_CONFIG_REL);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^version: \S+/m, `version: ${version}`));
    await g(['commit', '--quiet', '-m', `CI: version ${version}`, '--', TEST_CONFIG_REL]);
    try {
      await g(['push', '--quiet', 'origin', 'HEAD:main']);
      return;
    } catch {
      // rejected: someone pushed meanwhile; start over from the new upstream
    }
  }
  throw new Error('CI could not push in 30 attempts');
}

describe('a CI pipeline pushing version changes at the same moment', () => {
  it('100 concurrent rounds: both changes always land', async () => {
    const sb = makeSandbox();
    sandboxes.push(sb);
    const c = sb.clone('user');
    const ci = sb.clone('ci');
    const rounds = 100;
    for (let i = 0; i < rounds; i++) {
      const percent = 11 + (i % 80);
      const version = `v${String(i).padStart(9, '0')}`;
      counts.concurrent_runs++;
      const [published] = await Promise.all([
        publishCanaryChange({ root: c, env: 'test', model: 'jukebox', action: { kind: 'set', percent }, processEnv: testGitEnv(), timeoutMs: 20000 }),
        ciPush(ci, version),
      ]);
      const remote = git(sb.remote, ['show', `main:${TEST_CONFIG_REL}`]);
      const landed = remote.includes(`version: ${version}  # set by the pipeline`) && remote.includes(`trafficPercent: ${percent} # share`);
      assert.ok(landed, `round ${i}: both land (${published.steps.join('; ')})\n${remote}`);
      assert.deepEqual(porcelain(c), []);
      counts.both_landed++;
    }
    assert.equal(counts.both_landed, rounds);
  });
});
