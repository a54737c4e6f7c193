/**
 * scripts/test.mjs: every run gets a fresh id (KSC_RUN_ID for the suites, test-results/run.json
 * with each stage's counts and the sha256 of its result file), and a stage that runs no test
 * fails the run: no unit file matched, the stage script is missing, or it reported zero tests.
 * Runs against a temporary results folder (KSC_TEST_RESULTS_DIR) and fake stage scripts
 * (KSC_TEST_SCRIPTS_DIR), so the real test-results/ is left alone. Before the unit stage, files
 * marked "// needs: kube-apiserver" get scripts/build-apiserver.mjs run (a fake one here, or the
 * real one with no go on PATH: nothing is built). The exthost-kube stage runs test-exthost.mjs
 * with --backend kube-apiserver over the backend-parameterised suites, into its own result file;
 * the real script, with no Go, fails it with the build's line before building anything.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { repoRoot } from '../cli/bundle';

const SCRIPT = path.join(repoRoot, 'scripts', 'test.mjs');

/** A fake exthost stage: writes its results and summary as scripts/test-exthost.mjs does. */
const fakeStage = (tests: number) => `
import { writeFileSync } from 'node:fs';
import path from 'node:path';
const dir = process.env.KSC_TEST_RESULTS_DIR;
writeFileSync(path.join(dir, 'exthost-results.json'), JSON.stringify({ runId: process.env.KSC_RUN_ID, tests: [] }));
writeFileSync(process.env.KSC_TEST_SUMMARY, JSON.stringify({ passed: ${tests}, failed: 0, skipped: 0 }));
`;

describe('scripts/test.mjs', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ksc-testmjs-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  /** `scripts`: more files of the fake scripts folder; `env`: `scriptsDir` replaces that folder. */
  const testMjs = (
    name: string,
    args: string[],
    stages: Record<string, string> = {},
    more: { scripts?: Record<string, string>; env?: Record<string, string>; scriptsDir?: string } = {},
  ) => {
    const results = path.join(tmp, name, 'results');
    const scripts = more.scriptsDir ?? path.join(tmp, name, 'scripts');
    mkdirSync(results, { recursive: true });
    mkdirSync(scripts, { recursive: true });
    for (const [stage, text] of Object.entries(stages)) writeFileSync(path.join(scripts, `test-${stage}.mjs`), text);
    for (const [file, text] of Object.entries(more.scripts ?? {})) writeFileSync(path.join(scripts, file), text);
    const env: NodeJS.ProcessEnv = { ...process.env, KSC_TEST_RESULTS_DIR: results, KSC_TEST_SCRIPTS_DIR: scripts, KSC_RUN_ID: '', ...more.env };
    delete env.NODE_TEST_CONTEXT; // this runner's own mark: a unit stage under it would run no file
    const r = spawnSync(process.execPath, [SCRIPT, ...args], { cwd: repoRoot, encoding: 'utf8', env });
    const runFile = path.join(results, 'run.json');
    return { code: r.status, out: r.stdout + r.stderr, results, run: existsSync(runFile) ? JSON.parse(readFileSync(runFile, 'utf8')) : undefined };
  };

  it('a unit stage that matches no test file fails the run', () => {
    const r = testMjs('no-files', ['unit', 'test/no-such-folder']);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /no unit test file matches test\/no-such-folder/);
    assert.match(r.out, /tests: 0 passed, 1 failed/);
    assert.equal(r.run.stages.unit.problem, 'no unit test file matches test/no-such-folder');
  });

  it('a missing stage script fails the run', () => {
    const r = testMjs('no-script', ['exthost']);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /test-exthost\.mjs is missing/);
  });

  it('a stage that exits 0 but ran no test fails the run', () => {
    const r = testMjs('zero', ['exthost'], { exthost: fakeStage(0) });
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /exthost ran no test \(and exited 0\)/);
  });

  it("each run has its own id, given to the suites and recorded with the sha256 of each stage's results", () => {
    const first = testMjs('ok', ['exthost'], { exthost: fakeStage(2) });
    assert.equal(first.code, 0, first.out);
    assert.match(first.out, /tests: 2 passed, 0 failed, 0 skipped/);
    const results = readFileSync(path.join(first.results, 'exthost-results.json'), 'utf8');
    assert.equal(JSON.parse(results).runId, first.run.id, 'the stage saw KSC_RUN_ID');
    assert.ok(first.run.finishedAt);
    const { seconds, ...stage } = first.run.stages.exthost;
    assert.equal(typeof seconds, 'number', "the stage's time is recorded");
    assert.deepEqual(stage, {
      exit: 0,
      passed: 2,
      failed: 0,
      skipped: 0,
      resultFile: 'exthost-results.json',
      sha256: createHash('sha256').update(results).digest('hex'),
    });
    const second = testMjs('ok', ['exthost'], { exthost: fakeStage(2) });
    assert.notEqual(second.run.id, first.run.id);
  });

  it('a result file an earlier run left is removed before the stage runs, so it cannot pass for this one', () => {
    const results = path.join(tmp, 'leftover', 'results');
    mkdirSync(results, { recursive: true });
    writeFileSync(path.join(results, 'exthost-results.json'), '{"from":"an earlier run"}');
    const r = testMjs('leftover', ['exthost'], { exthost: 'process.exit(1);\n' });
    assert.equal(r.code, 1, r.out);
    assert.equal(existsSync(path.join(results, 'exthost-results.json')), false);
    assert.equal(r.run.stages.exthost.sha256, null);
  });

  // A fake scripts/build-apiserver.mjs: records that it ran (with the run's id), then fails with a line.
  const fakeBuild = (ranFile: string) => `
import { writeFileSync } from 'node:fs';
writeFileSync(${JSON.stringify(ranFile)}, process.env.KSC_RUN_ID);
console.error('build-apiserver: fake build refused');
process.exit(1);
`;

  it('a unit file marked "needs: kube-apiserver" runs build-apiserver.mjs first; its failure fails the stage with its line', () => {
    const ran = path.join(tmp, 'build-ran');
    const r = testMjs('build-fails', ['unit', 'test/sandbox/kube-backend.test.ts'], {}, { scripts: { 'build-apiserver.mjs': fakeBuild(ran) } });
    assert.equal(r.code, 1, r.out);
    assert.equal(readFileSync(ran, 'utf8'), r.run.id, 'the build ran in this run');
    assert.match(r.run.stages.unit.problem, /could not be built \(1 unit file\(s\) need it\): build-apiserver: fake build refused$/);
    assert.equal(existsSync(path.join(r.results, 'unit.tap')), false, 'no unit test ran');
    assert.match(r.out, /tests: 0 passed, 1 failed/);
  });

  it('unit files without the marker do not build the real server', () => {
    const ran = path.join(tmp, 'build-not-ran');
    const r = testMjs('no-build', ['unit', 'test/core/duration.test.ts'], {}, { scripts: { 'build-apiserver.mjs': fakeBuild(ran) } });
    assert.equal(r.code, 0, r.out);
    assert.equal(existsSync(ran), false);
    assert.ok(r.run.stages.unit.passed > 0);
  });

  it('with the real build-apiserver.mjs and no go on PATH (nothing cached), the stage fails with its one line on installing Go', () => {
    const emptyPath = path.join(tmp, 'no-go-bin');
    mkdirSync(emptyPath, { recursive: true });
    const r = testMjs(
      'no-go',
      ['unit', 'test/sandbox/differential.test.ts'],
      {},
      {
        scriptsDir: path.join(repoRoot, 'scripts'),
        env: { PATH: emptyPath, KSC_KUBE_APISERVER_CACHE: path.join(tmp, 'empty-cache') },
      },
    );
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /^build-apiserver: Go is not installed or not on PATH: install Go 1\.26/m);
    assert.match(r.run.stages.unit.problem, /: build-apiserver: Go is not installed or not on PATH: install Go 1\.26/);
    assert.equal(existsSync(path.join(r.results, 'unit.tap')), false);
  });

  // A fake scripts/test-exthost.mjs: its results (named by --backend, holding its arguments) and summary.
  const fakeExthost = `
import { writeFileSync } from 'node:fs';
import path from 'node:path';
const args = process.argv.slice(2);
const kube = args[args.indexOf('--backend') + 1] === 'kube-apiserver';
writeFileSync(path.join(process.env.KSC_TEST_RESULTS_DIR, kube ? 'exthost-kube-results.json' : 'exthost-results.json'), JSON.stringify({ args }));
writeFileSync(process.env.KSC_TEST_SUMMARY, JSON.stringify({ passed: kube ? 3 : 5, failed: 0, skipped: 1 }));
`;

  it('the exthost-kube stage runs test-exthost.mjs on the real server with the parameterised suites, counted in its own entry', () => {
    const r = testMjs('kube', ['exthost', 'exthost-kube'], {}, { scripts: { 'test-exthost.mjs': fakeExthost } });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /tests: 8 passed, 0 failed, 2 skipped/);
    const kube = readFileSync(path.join(r.results, 'exthost-kube-results.json'), 'utf8');
    assert.deepEqual(JSON.parse(kube).args, [
      '--backend',
      'kube-apiserver',
      '--files',
      'canary-1-tree,canary-3-connection,canary-9-context,canary-14-backends',
    ]);
    assert.deepEqual(JSON.parse(readFileSync(path.join(r.results, 'exthost-results.json'), 'utf8')).args, []);
    assert.equal(r.run.stages['exthost-kube'].resultFile, 'exthost-kube-results.json');
    assert.equal(r.run.stages['exthost-kube'].sha256, createHash('sha256').update(kube).digest('hex'));
    assert.equal(r.run.stages['exthost-kube'].passed, 3);
    // The suites it names exist (a renamed file would make the stage run less than it says).
    for (const f of JSON.parse(kube).args[3].split(',')) assert.ok(existsSync(path.join(repoRoot, 'test', 'ui', 'exthost', `${f}.test.ts`)), f);
  });

  it("the real test-exthost.mjs --backend kube-apiserver with no go on PATH (nothing cached) fails the stage with the build's line, before building", () => {
    const emptyPath = path.join(tmp, 'no-go-bin-exthost');
    mkdirSync(emptyPath, { recursive: true });
    const r = testMjs(
      'kube-no-go',
      ['exthost-kube'],
      {},
      {
        scriptsDir: path.join(repoRoot, 'scripts'),
        env: { PATH: emptyPath, KSC_KUBE_APISERVER_CACHE: path.join(tmp, 'empty-cache-exthost') },
      },
    );
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /^exthost: the real kube-apiserver is not available: build-apiserver: Go is not installed or not on PATH: install Go 1\.26/m);
    assert.doesNotMatch(r.out, /esbuild|built \d+ suite/, 'nothing was built');
    assert.deepEqual(
      { ...r.run.stages['exthost-kube'], seconds: 0 },
      { exit: 1, passed: 0, failed: 1, skipped: 0, resultFile: 'exthost-kube-results.json', sha256: null, seconds: 0 },
    );
    assert.match(r.out, /tests: 0 passed, 1 failed/);
  });
});
