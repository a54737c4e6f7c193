// Runs every test suite of the project and prints one closing line:
//   "tests: N passed, N failed"
// Stages:
//   unit     node's test runner (through tsx, which loads ESM-only packages) over test/**/*.test.ts
//   exthost  mocha inside the real extension host of code-server     (scripts/test-exthost.mjs)
//   browser  playwright-core + Debian chromium clicking the real UI   (scripts/test-browser.mjs)
// `node scripts/test.mjs unit` (or a list of stage names) runs only those stages;
// `node scripts/test.mjs unit test/core` narrows the unit stage to files under the given paths.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const resultsDir = path.join(root, 'test-results');
mkdirSync(resultsDir, { recursive: true });

const STAGES = ['unit', 'exthost', 'browser'];
const args = process.argv.slice(2);
const chosen = args.filter((a) => STAGES.includes(a));
const filters = args.filter((a) => !STAGES.includes(a));
const stages = chosen.length ? chosen : STAGES;

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
  return out
    .filter((f) => filters.length === 0 || filters.some((x) => f.startsWith(path.normalize(x))))
    .sort();
}

function run(cmd, argv, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const totals = { passed: 0, failed: 0, skipped: 0 };
let anyStageFailed = false;

for (const stage of stages) {
  const started = Date.now();
  console.log(`\n=== ${stage} ===`);
  const summaryFile = path.join(resultsDir, `${stage}.json`);
  let code;
  if (stage === 'unit') {
    const files = unitFiles();
    if (files.length === 0) { console.log('no unit test files'); continue; }
    const tap = path.join(resultsDir, 'unit.tap');
    code = await run(process.execPath, [
      '--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=600000',
      '--test-reporter=spec', '--test-reporter-destination=stdout',
      '--test-reporter=tap', `--test-reporter-destination=${tap}`,
      ...files,
    ]);
    const text = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
    const count = (k) => Number((text.match(new RegExp(`^# ${k} (\\d+)$`, 'm')) || [])[1] || 0);
    const s = { passed: count('pass'), failed: count('fail') + count('cancelled'), skipped: count('skipped') + count('todo') };
    totals.passed += s.passed; totals.failed += s.failed; totals.skipped += s.skipped;
  } else {
    const script = path.join(root, 'scripts', `test-${stage}.mjs`);
    if (!existsSync(script)) { console.log(`(no ${path.relative(root, script)} yet)`); continue; }
    code = await run(process.execPath, [script], { KSC_TEST_SUMMARY: summaryFile });
    if (existsSync(summaryFile)) {
      const s = JSON.parse(readFileSync(summaryFile, 'utf8'));
      totals.passed += s.passed ?? 0; totals.failed += s.failed ?? 0; totals.skipped += s.skipped ?? 0;
    } else if (code !== 0) {
      totals.failed += 1;
    }
  }
  console.log(`=== ${stage}: exit ${code} in ${((Date.now() - started) / 1000).toFixed(1)} s ===`);
  if (code !== 0) anyStageFailed = true;
}

const failed = totals.failed + (anyStageFailed && totals.failed === 0 ? 1 : 0);
console.log(`\ntests: ${totals.passed} passed, ${failed} failed, ${totals.skipped} skipped`);
process.exit(failed > 0 || anyStageFailed ? 1 : 0);
