// Runs every test suite of the project and prints one closing line:
//   "tests: N passed, N failed"
// Stages:
//   unit     node's test runner (through tsx, which loads ESM-only packages) over test/**/*.test.ts
//   exthost  mocha inside the real extension host of code-server     (scripts/test-exthost.mjs)
//   exthost-kube  the backend-parameterised extension-host suites (EXTHOST_KUBE_FILES) against the
//            real kube-apiserver + etcd instead of the embedded sandbox (test-exthost.mjs --backend kube-apiserver)
//   restricted  the same in VS Code's real restricted mode (workspace trust on, test-exthost.mjs --restricted)
//   browser  playwright-core + Debian chromium clicking the real UI   (scripts/test-browser.mjs)
// `node scripts/test.mjs unit` (or a list of stage names) runs only those stages;
// `node scripts/test.mjs unit test/core` narrows the unit stage to files under the given paths.
//
// Each run gets a fresh id, passed to every suite as KSC_RUN_ID (figure files carry it, see
// test/figures.ts) and recorded with what each stage ran in test-results/run.json: the stage's
// exit code, counts, seconds and the sha256 of its result file (unit.tap, exthost-results.json,
// exthost-kube-results.json, browser.tap), which scripts/reliability-report.mjs uses to read only this run's files.
// A stage fails when it runs no test at all (no file matched, its script is missing, or it
// reported zero tests), whatever its exit code.
// Before the unit stage, when a selected file carries the marker line
//   // needs: kube-apiserver
// (the real API server tier), scripts/build-apiserver.mjs builds that server (cached by content,
// so a warm run is a no-op; ~20 min cold on 2 cores); when it fails (Go missing: its one line
// says what to install) the unit stage fails without running.
import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureApiserver } from './lib/apiserver.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const resultsDir = path.resolve(process.env.KSC_TEST_RESULTS_DIR ?? path.join(root, 'test-results'));
mkdirSync(resultsDir, { recursive: true });

const STAGES = ['unit', 'exthost', 'exthost-kube', 'restricted', 'browser'];
/** The file each stage leaves its per-test results in (bound to the run by its sha256). */
const RESULT_FILES = {
  unit: 'unit.tap',
  exthost: 'exthost-results.json',
  'exthost-kube': 'exthost-kube-results.json',
  restricted: 'exthost-restricted-results.json',
  browser: 'browser.tap',
};
/**
 * The extension-host suites run again on the real kube-apiserver: the tree, the connection and
 * the backends' equality, and the second user's context (real RBAC: a ServiceAccount's token,
 * 403 for user1). Every suite runs on either backend (--files picks others); these prove what
 * only the real server can.
 */
const EXTHOST_KUBE_FILES = ['canary-1-tree', 'canary-3-connection', 'canary-9-context', 'canary-14-backends'];
// The restricted stage is the extension host again, in VS Code's real restricted mode (workspace trust on).
const STAGE_SCRIPTS = {
  exthost: ['test-exthost.mjs'],
  'exthost-kube': ['test-exthost.mjs', '--backend', 'kube-apiserver', '--files', EXTHOST_KUBE_FILES.join(',')],
  restricted: ['test-exthost.mjs', '--restricted'],
  browser: ['test-browser.mjs'],
};
const args = process.argv.slice(2);
const chosen = args.filter((a) => STAGES.includes(a));
const filters = args.filter((a) => !STAGES.includes(a));
const stages = chosen.length ? chosen : STAGES;
const scriptsDir = path.resolve(process.env.KSC_TEST_SCRIPTS_DIR ?? path.join(root, 'scripts'));

/** Test files of the unit stage: everything under test/ except the in-host and browser suites. */
function unitFiles() {
  const out = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const p = path.join(dir, name);
      const rel = path.relative(root, p);
      if (rel.startsWith(path.join('test', 'ui', 'exthost')) || rel.startsWith(path.join('test', 'e2e')) || name === 'fixtures') continue;
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.test.ts')) out.push(rel);
    }
  };
  walk(path.join(root, 'test'));
  return out.filter((f) => filters.length === 0 || filters.some((x) => f.startsWith(path.normalize(x)))).sort();
}

/** The marker line of the unit files that start the real kube-apiserver. */
const NEEDS_APISERVER = /^\/\/ needs: kube-apiserver\b/m;
const needsApiserver = (files) => files.filter((f) => NEEDS_APISERVER.test(readFileSync(path.join(root, f), 'utf8')));

/** Runs a command with our stdio. */
function run(cmd, argv, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
    child.on('error', () => resolve(1));
    child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

/**
 * Builds the real kube-apiserver when a selected unit file needs it (scripts/lib/apiserver.mjs).
 * Returns the stage's problem (the build script's last stderr line, e.g. what to install) or undefined.
 */
async function buildApiserver(files, env) {
  const needing = needsApiserver(files);
  if (needing.length === 0) return undefined;
  console.log(
    `unit: ${needing.length} file(s) need the real kube-apiserver: node ${path.relative(root, path.join(scriptsDir, 'build-apiserver.mjs'))} (a no-op once built; ~20 min cold on 2 cores)`,
  );
  const built = await ensureApiserver({ scriptsDir, env });
  if (!built.problem) return undefined;
  return built.scriptMissing ? built.problem : `the real API server could not be built (${needing.length} unit file(s) need it): ${built.problem}`;
}

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');

const runId = `${new Date()
  .toISOString()
  .replace(/[-:]/g, '')
  .replace(/\.\d+Z$/, 'Z')}-${randomUUID().slice(0, 8)}`;
const record = { id: runId, startedAt: new Date().toISOString(), finishedAt: undefined, args, stages: {} };
const runFile = path.join(resultsDir, 'run.json');
function saveRecord() {
  const tmp = `${runFile}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(tmp, runFile);
}
saveRecord();
console.log(`test run ${runId}`);

const totals = { passed: 0, failed: 0, skipped: 0 };
let anyStageFailed = false;

for (const stage of stages) {
  const started = Date.now();
  console.log(`\n=== ${stage} ===`);
  const summaryFile = path.join(resultsDir, `${stage}.json`);
  const resultFile = path.join(resultsDir, RESULT_FILES[stage]);
  // What an earlier run left must not pass for this one's.
  for (const f of [summaryFile, resultFile]) rmSync(f, { force: true });
  const env = { KSC_RUN_ID: runId, KSC_TEST_SUMMARY: summaryFile, KSC_TEST_RESULTS_DIR: resultsDir };
  let code;
  let s = { passed: 0, failed: 0, skipped: 0 };
  let problem;
  if (stage === 'unit') {
    const files = unitFiles();
    if (files.length === 0) {
      problem = `no unit test file matches ${filters.length ? filters.join(', ') : 'test/'}`;
      code = 1;
    } else if ((problem = await buildApiserver(files, env))) {
      code = 1;
    } else {
      code = await run(
        process.execPath,
        [
          '--import',
          'tsx',
          '--test',
          '--test-concurrency=2',
          '--test-timeout=600000',
          '--test-reporter=spec',
          '--test-reporter-destination=stdout',
          '--test-reporter=tap',
          `--test-reporter-destination=${resultFile}`,
          ...files,
        ],
        env,
      );
      const text = existsSync(resultFile) ? readFileSync(resultFile, 'utf8') : '';
      const count = (k) => Number((text.match(new RegExp(`^# ${k} (\\d+)$`, 'm')) || [])[1] || 0);
      s = { passed: count('pass'), failed: count('fail') + count('cancelled'), skipped: count('skipped') + count('todo') };
    }
  } else {
    const [scriptName, ...scriptArgs] = STAGE_SCRIPTS[stage];
    const script = path.join(scriptsDir, scriptName);
    if (!existsSync(script)) {
      problem = `${path.relative(root, script)} is missing`;
      code = 1;
    } else {
      code = await run(process.execPath, [script, ...scriptArgs], env);
      if (existsSync(summaryFile)) {
        const j = JSON.parse(readFileSync(summaryFile, 'utf8'));
        s = { passed: j.passed ?? 0, failed: j.failed ?? 0, skipped: j.skipped ?? 0 };
      }
    }
  }
  if (!problem && s.passed + s.failed + s.skipped === 0) problem = `${stage} ran no test${code === 0 ? ' (and exited 0)' : ''}`;
  if (problem) {
    console.log(`${stage}: FAILED: ${problem}`);
    if (s.failed === 0) s.failed = 1;
    code = code === 0 ? 1 : code;
  }
  totals.passed += s.passed;
  totals.failed += s.failed;
  totals.skipped += s.skipped;
  record.stages[stage] = {
    exit: code,
    ...s,
    ...(problem ? { problem } : {}),
    ...(stage === 'unit' && filters.length ? { filters } : {}),
    resultFile: RESULT_FILES[stage],
    sha256: existsSync(resultFile) ? sha256(resultFile) : null,
    seconds: Number(((Date.now() - started) / 1000).toFixed(1)),
  };
  saveRecord();
  console.log(`=== ${stage}: exit ${code} in ${record.stages[stage].seconds.toFixed(1)} s ===`);
  if (code !== 0) anyStageFailed = true;
}

record.finishedAt = new Date().toISOString();
saveRecord();
const failed = totals.failed + (anyStageFailed && totals.failed === 0 ? 1 : 0);
console.log(`\ntests: ${totals.passed} passed, ${failed} failed, ${totals.skipped} skipped (run ${runId})`);
process.exit(failed > 0 || anyStageFailed ? 1 : 0);
