/**
 * The kserve-canary CLI, in-process through main(argv, io) and as a real child process
 * (bundled with esbuild into a temporary folder, launched through a copy of bin/).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildCliBundle } from './bundle';
import { changedLines, filesOf, git, head, testGitEnv, TEST_CONFIG_REL } from '../core/git-helpers';
import { runCli, sandboxFactory } from './helpers';

const run = runCli;

const sandbox = sandboxFactory();

function assertError(r: { code: number; stderr: string }, code: number, pattern: RegExp) {
  assert.equal(r.code, code, r.stderr);
  const lines = r.stderr.trimEnd().split('\n');
  assert.match(lines[0]!, /^error: /);
  assert.match(lines[0]!, pattern);
  assert.match(lines[1] ?? '', /^hint: ./);
  assert.equal(lines.length, 2, 'one error line plus one hint line');
}

describe('cli: help, version, usage errors', () => {
  const cwd = os.tmpdir();
  it('--help and help <cmd> for the top level and every command', async () => {
    const top = await run(['--help'], cwd);
    assert.equal(top.code, 0);
    for (const name of ['set', 'promote', 'rollback', 'config']) {
      assert.match(top.stdout, new RegExp(`^  ${name} `, 'm'));
      const h = await run([name, '--help'], cwd);
      assert.equal(h.code, 0);
      assert.match(h.stdout, new RegExp(`^Usage: kserve-canary ${name}`));
      assert.equal((await run(['help', name], cwd)).stdout, h.stdout);
    }
    assert.match((await run(['set', '--help'], cwd)).stdout, /--no-push/);
  });

  it('--version prints the package version', async () => {
    const r = await run(['--version'], cwd);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
  });

  it('bad input exits 2 with an error line and a hint', async () => {
    assert.equal((await run([], cwd)).code, 2);
    assertError(await run(['frobnicate'], cwd), 2, /unknown command "frobnicate"/);
    assertError(await run(['set', 'jukebox', '20', '--env', 'test', '--bogus'], cwd), 2, /Unknown option '--bogus'/);
    assertError(await run(['set', 'jukebox', 'abc', '--env', 'test'], cwd), 2, /Invalid traffic percent "abc"/);
    assertError(await run(['set', 'jukebox', '20'], cwd), 2, /--env is required/);
    assertError(await run(['set', 'jukebox', '--env', 'test'], cwd), 2, /missing <percent>/);
    assertError(await run(['promote', '../etc', '--env', 'test'], cwd), 2, /Invalid model name/);
    assertError(await run(['rollback', 'jukebox', 'extra', '--env', 'test'], cwd), 2, /unexpected argument "extra"/);
  });

  it('no gitops folder found: exit 1 with a hint about --gitops', async () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), 'ksc-empty-'));
    try {
      assertError(await run(['config'], empty), 1, /No model-deployments\/ folder/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('cli: set / promote / rollback on a clone of a bare remote', () => {
  it('each makes exactly one commit touching one file, diff only the value or block, and the remote has it', async () => {
    const sb = sandbox();
    const c = sb.clone('a');
    const sub = path.join(c, 'model-deployments', 'test'); // found by walking up
    let r = await run(['set', 'jukebox', '20', '--env', 'test'], sub);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^test\/jukebox: canary 10% -> 20%, committed [0-9a-f]{10} and pushed to origin\/main$/m);
    assert.deepEqual(filesOf(c, 'HEAD'), [TEST_CONFIG_REL]);
    assert.deepEqual(changedLines(c, 'HEAD'), ['-  trafficPercent: 10 # share of the new revision', '+  trafficPercent: 20 # share of the new revision']);
    assert.equal(head(sb.remote, 'main'), head(c));

    r = await run(['promote', 'jukebox', '--env', 'test', '--gitops', c], os.tmpdir());
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(changedLines(c, 'HEAD'), ['-canary:  # canary rollout', '-  trafficPercent: 20 # share of the new revision']);
    assert.equal(head(sb.remote, 'main'), head(c));

    r = await run(['rollback', 'jukebox', '--env', 'test', '-m', 'Roll back jukebox'], c);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(filesOf(c, 'HEAD'), [TEST_CONFIG_REL]);
    assert.deepEqual(changedLines(c, 'HEAD'), ['+canary:', '+  trafficPercent: 0']);
    assert.equal(git(c, ['log', '-1', '--format=%s']).trim(), 'Roll back jukebox');
    assert.equal(head(sb.remote, 'main'), head(c));
    assert.equal(git(sb.remote, ['rev-list', '--count', 'main']).trim(), '4');
  });

  it('--no-push commits only; a git failure exits 1 with error and hint', async () => {
    const sb = sandbox();
    const c = sb.clone('a');
    const remoteHead = head(sb.remote, 'main');
    const r = await run(['set', 'jukebox', '30', '--env', 'test', '--no-push'], c);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /not pushed/);
    assert.equal(head(sb.remote, 'main'), remoteHead);
    git(c, ['branch', '--unset-upstream']);
    assertError(await run(['set', 'jukebox', '40', '--env', 'test'], c), 1, /no upstream/);
  });

  it('config shows the desired state as a table and as JSON', async () => {
    const sb = sandbox();
    const c = sb.clone('a');
    const t = await run(['config'], c);
    assert.equal(t.code, 0, t.stderr);
    assert.deepEqual(
      t.stdout
        .trimEnd()
        .split('\n')
        .map((l) => l.split(/\s{3,}/)),
      [
        ['ENV', 'MODEL', 'VERSION', 'CANARY', 'DESIRED'],
        ['prod', 'jukebox', '1111111111', '-', 'latest 100%'],
        ['test', 'jukebox', '4562a17c17', 'trafficPercent: 10', 'latest 10% / prev 90%'],
      ],
    );
    const j = await run(['config', 'jukebox', '--env', 'test', '--json'], c);
    assert.equal(j.code, 0, j.stderr);
    const data = JSON.parse(j.stdout);
    assert.equal(data.deploymentsDir, 'model-deployments');
    assert.deepEqual(
      data.models.map((m: Record<string, unknown>) => ({ ...m, file: path.relative(c, String(m.file)) })),
      [
        {
          env: 'test',
          model: 'jukebox',
          name: 'jukebox',
          version: '4562a17c17',
          canary: { kind: 'percent', trafficPercent: 10 },
          desiredPercent: 10,
          file: TEST_CONFIG_REL,
        },
      ],
    );
    assertError(await run(['config', 'nope'], c), 1, /No model "nope"/);
  });
});

describe('cli: as a real process (bundled, through bin/kserve-canary.js)', () => {
  let bundle: { bin: string; cleanup(): void };
  let bin: string;
  before(async () => {
    bundle = await buildCliBundle();
    bin = bundle.bin;
  });
  after(() => bundle.cleanup());

  const exec = (args: string[], cwd: string) => spawnSync(process.execPath, [bin, ...args], { cwd, env: testGitEnv(), encoding: 'utf8', timeout: 60000 });

  it('exit codes 0 / 2 / 1 and the change reaches the remote', () => {
    const sb = sandbox();
    const c = sb.clone('a');
    assert.equal(exec(['--version'], c).status, 0);
    const bad = exec(['set', 'jukebox', '101', '--env', 'test'], c);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^error: Invalid traffic percent "101".*\nhint: /);
    const ok = exec(['set', 'jukebox', '25', '--env', 'test'], c);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(head(sb.remote, 'main'), head(c));
    assert.match(git(sb.remote, ['show', `main:${TEST_CONFIG_REL}`]), /trafficPercent: 25/);
    git(c, ['checkout', '--quiet', '--detach']);
    const failed = exec(['rollback', 'jukebox', '--env', 'test'], c);
    assert.equal(failed.status, 1);
    assert.match(failed.stderr, /^error: HEAD is detached/);
  });
});
