/**
 * Issue 7 §2, git under faults:
 * - the CLI process SIGKILLed at each step of publish (after the edit, after the commit,
 *   while pushing; KSC_FAULT_KILL_AT, read only by src/core/publish.ts), then run again:
 *   the repository is consistent, the change is fully published or clearly not, and the
 *   re-run finishes it with exactly one commit touching one file;
 * - a "CI pipeline" pushing a `version` change to the same file at the same moment as a
 *   publish, 100 times: both changes always land. Both pushes are released at once from the
 *   same base, so in every round one of them is rejected: ours (then publish must say it
 *   re-applied the edit, and the remote must hold ours on top of the pipeline's) or the
 *   pipeline's (it retries). Every 10th round the pipeline is let through first, so our
 *   rejection is exercised whatever the machine's timing.
 * (The remote that accepts and never answers is in publish-network.test.ts.)
 * Figures go to test-results/git-faults.json (test/figures.ts) at the end of each passing test:
 * {killed_at, recovered} per kill; {concurrent_runs, both_landed, raced_rounds, push_rejections,
 * reapplied, ci_retries, ci_first_forced} for the race.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { publishCanaryChange } from '../../src/core/publish';
import { changedLines, filesOf, git, head, makeSandbox, porcelain, readText, testGitEnv, TEST_CONFIG_REL, writeFile, type Sandbox } from './git-helpers';
import { buildCliBundle } from '../cli/bundle';
import { writeFigures } from '../figures';

const sandboxes: Sandbox[] = [];

after(() => {
  sandboxes.forEach((s) => s.cleanup());
  bundle?.cleanup();
});

let bundle: { bin: string; cleanup(): void } | undefined;
before(async () => {
  bundle = await buildCliBundle();
});

/** Runs the bundled CLI in a child process; resolves with its exit code or signal. */
function cli(
  args: string[],
  cwd: string,
  extraEnv: Record<string, string> = {},
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bundle!.bin, ...args], {
      cwd,
      env: testGitEnv(extraEnv),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

const LINES = ['-  trafficPercent: 10 # share of the new revision', '+  trafficPercent: 20 # share of the new revision'];

describe('publish killed at each step, then run again', () => {
  for (const point of ['after-edit', 'after-commit', 'during-push'] as const) {
    it(`SIGKILL ${point}: consistent repository, a re-run finishes it`, async (t) => {
      const sb = makeSandbox();
      sandboxes.push(sb);
      const c = sb.clone('a');
      writeFile(c, 'notes.txt', 'my own notes\n'); // the user's unrelated work
      const start = head(c);
      const killed = await cli(['set', 'jukebox', '20', '--env', 'test'], c, { KSC_FAULT_KILL_AT: point });
      assert.equal(killed.signal, 'SIGKILL', `killed at ${point} (${killed.stderr})`);

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
      writeFigures('git-faults', t, { killed_at: point, recovered: true });
    });
  }
});

const execFileP = promisify(execFile);

/** Resolves when release() is called. */
function gate(): { opened: Promise<void>; release(): void } {
  let release!: () => void;
  const opened = new Promise<void>((r) => {
    release = r;
  });
  return { opened, release };
}

/**
 * A CI pipeline step: set `version` with a fresh checkout and commit; then (first attempt only)
 * tell `ready` and wait for `go` before pushing; on a rejection start over from the new
 * upstream. Resolves with the number of push attempts.
 */
async function ciPush(clone: string, version: string, ready: () => void, go: Promise<void>): Promise<number> {
  const env = testGitEnv();
  const g = (args: string[]) => execFileP('git', args, { cwd: clone, env });
  for (let attempt = 1; attempt <= 30; attempt++) {
    await g(['fetch', '--quiet', 'origin', 'main']);
    await g(['reset', '--quiet', '--hard', 'origin/main']);
    const file = path.join(clone, TEST_CONFIG_REL);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^version: \S+/m, `version: ${version}`));
    await g(['commit', '--quiet', '-m', `CI: version ${version}`, '--', TEST_CONFIG_REL]);
    if (attempt === 1) {
      ready();
      await go;
    }
    try {
      await g(['push', '--quiet', 'origin', 'HEAD:main']);
      return attempt;
    } catch {
      // rejected: someone pushed meanwhile; start over from the new upstream
    }
  }
  throw new Error('CI could not push in 30 attempts');
}

describe('a CI pipeline pushing version changes at the same moment', () => {
  it('100 concurrent rounds: both changes always land', async (t) => {
    const sb = makeSandbox();
    sandboxes.push(sb);
    const c = sb.clone('user');
    const ci = sb.clone('ci');
    const rounds = 100;
    const f = { concurrent_runs: 0, both_landed: 0, raced_rounds: 0, push_rejections: 0, reapplied: 0, ci_retries: 0, ci_first_forced: 0 };
    for (let i = 0; i < rounds; i++) {
      const percent = 11 + (i % 80);
      const version = `v${String(i).padStart(9, '0')}`;
      const ciFirst = i % 10 === 9;
      const ciReady = gate();
      const go = gate();
      f.concurrent_runs++;
      let ciDone: Promise<number> | undefined;
      const ciRun = ciPush(ci, version, ciReady.release, go.opened);
      const [published, ciAttempts] = await Promise.all([
        publishCanaryChange({
          root: c,
          env: 'test',
          model: 'jukebox',
          action: { kind: 'set', percent },
          processEnv: testGitEnv(),
          timeoutMs: 20000,
          // both sides committed on the same base; release both pushes at once (or the pipeline's first)
          beforePush: async (attempt) => {
            if (attempt !== 1) return;
            await ciReady.opened;
            go.release();
            if (ciFirst) await (ciDone = ciRun);
          },
        }),
        ciRun,
      ]);
      assert.ok(!ciFirst || ciDone, 'the pipeline went first');
      const remote = git(sb.remote, ['show', `main:${TEST_CONFIG_REL}`]);
      const landed = remote.includes(`version: ${version}  # set by the pipeline`) && remote.includes(`trafficPercent: ${percent} # share`);
      assert.ok(landed, `round ${i}: both land (${published.steps.join('; ')})\n${remote}`);
      assert.deepEqual(porcelain(c), []);
      f.both_landed++;
      // Who lost the race, from what each side did and from the remote's history.
      const rejected = published.steps.some((s) => /^push rejected/.test(s));
      const reapplied = published.steps.some((s) => /^re-applied the change on top of/.test(s));
      const order = git(sb.remote, ['log', '--format=%s', '-2', 'main']).trim().split('\n');
      if (rejected) {
        assert.ok(reapplied, `round ${i}: rejected, so re-applied (${published.steps.join('; ')})`);
        assert.equal(ciAttempts, 1, `round ${i}: the pipeline won, at its first push`);
        assert.match(order[1]!, new RegExp(`^CI: version ${version}$`), `round ${i}: ours on top of the pipeline's: ${order.join(' | ')}`);
        f.push_rejections++;
        f.reapplied++;
      } else {
        assert.ok(!reapplied, `round ${i}: nothing to re-apply (${published.steps.join('; ')})`);
        assert.ok(ciAttempts > 1, `round ${i}: our push went through first, so the pipeline's was rejected and retried`);
        assert.equal(order[0], `CI: version ${version}`, `round ${i}: the pipeline's on top of ours: ${order.join(' | ')}`);
        f.ci_retries++;
      }
      assert.ok(!ciFirst || rejected, `round ${i}: the pipeline went first, so ours was rejected`);
      if (ciFirst) f.ci_first_forced++;
      f.raced_rounds++;
    }
    assert.equal(f.both_landed, rounds);
    assert.equal(f.push_rejections + f.ci_retries, rounds, 'in every round exactly one of the two pushes was rejected');
    assert.ok(f.push_rejections >= rounds / 10, `${f.push_rejections} rejections of ours`);
    writeFigures('git-faults', t, f);
  });
});
