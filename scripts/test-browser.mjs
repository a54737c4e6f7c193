// Browser tests: playwright-core + Debian chromium clicking through the real workbench, against the
// setup `npm start` makes (each test file launches it in a fresh temporary folder on ephemeral ports).
//
//   node scripts/test-browser.mjs [--update-screenshot] [test/e2e/<file>.test.ts ...]
//
// --update-screenshot copies the sidebar + status bar screenshot to media/screenshot.png (README).
// Screenshots of every step: test-results/screenshots/; what a failed step saw and the logs:
// test-results/browser-failures/<step>/. TAP: test-results/browser.tap.
// Summary {passed, failed, skipped} -> $KSC_TEST_SUMMARY.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { codeServerPrerequisites, ensureCodeServer } from './codeserver.mjs';
import { checkChromium } from './lib/browser.mjs';
import { killProcessesMentioning } from './lib/proc.mjs';
import { removeDir, root, secondsSince, writeSummary } from './lib/run.mjs';

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: { 'update-screenshot': { type: 'boolean', default: false } },
});
const t0 = Date.now();
const resultsDir = path.join(root, 'test-results');

function tapCounts(text) {
  const count = (k) => Number((text.match(new RegExp(`^# ${k} (\\d+)$`, 'm')) || [])[1] || 0);
  return { passed: count('pass'), failed: count('fail') + count('cancelled'), skipped: count('skipped') + count('todo') };
}

async function main() {
  checkChromium();
  const missing = codeServerPrerequisites();
  if (missing.length) throw new Error(`cannot install code-server:\n  - ${missing.join('\n  - ')}`);
  await ensureCodeServer(); // once, before the tests' own clocks start
  const dir = path.join(root, 'test', 'e2e');
  const files = positionals.length
    ? positionals
    : readdirSync(dir)
        .filter((f) => f.endsWith('.test.ts'))
        .sort()
        .map((f) => path.join('test', 'e2e', f));
  if (files.length === 0) throw new Error('no test/e2e/*.test.ts files');
  removeDir(path.join(resultsDir, 'screenshots'));
  removeDir(path.join(resultsDir, 'browser-failures'));
  mkdirSync(resultsDir, { recursive: true });
  const tap = path.join(resultsDir, 'browser.tap');
  removeDir(tap);
  // The test files' run folders live under this one, so that whatever a crashed test file left
  // running can be found by its command line and stopped.
  const parentTmp = mkdtempSync(path.join(os.tmpdir(), 'ksc-e2e-'));
  const code = await new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--test',
        '--test-concurrency=1',
        '--test-timeout=900000',
        '--test-reporter=spec',
        '--test-reporter-destination=stdout',
        '--test-reporter=tap',
        `--test-reporter-destination=${tap}`,
        ...files,
      ],
      {
        cwd: root,
        stdio: 'inherit',
        detached: true, // its own process group, so that a signal reaches every test file
        env: { ...process.env, TMPDIR: parentTmp, ...(opts['update-screenshot'] ? { KSC_UPDATE_SCREENSHOT: '1' } : {}) },
      },
    );
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
      process.on(sig, () => {
        try {
          process.kill(-child.pid, sig);
        } catch {
          /* gone */
        }
      });
    }
    child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
  });
  const leftovers = await killProcessesMentioning(parentTmp);
  if (leftovers) console.error(`browser: stopped ${leftovers} process(es) a test file left running`);
  removeDir(parentTmp);
  const counts = existsSync(tap) ? tapCounts(readFileSync(tap, 'utf8')) : { passed: 0, failed: 0, skipped: 0 };
  if (code !== 0 && counts.failed === 0) counts.failed = 1;
  writeSummary(counts);
  console.log(
    `browser: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped in ${secondsSince(t0)} s; screenshots in test-results/screenshots/`,
  );
  return code === 0 && counts.failed === 0 ? 0 : 1;
}

try {
  process.exit(await main());
} catch (err) {
  console.error(`browser: ${err.message}`);
  writeSummary({ passed: 0, failed: 1, skipped: 0 });
  process.exit(1);
}
