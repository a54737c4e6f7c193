/**
 * scripts/reliability-report.mjs: rewrites only the generated block of RELIABILITY.md from
 * the result files and the TAP of the last run, and fails when a test the table names is
 * missing from its file, did not run, or did not pass.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { repoRoot } from '../cli/bundle';

const SCRIPT = path.join(repoRoot, 'scripts', 'reliability-report.mjs');
const TITLE = 'other schemes are refused, in the check and in a template';

function doc(rows: string): string {
  return `# R\n\n| Scenario | What happens | Proven by | Figures |\n|---|---|---|---|\n${rows}\n\nprose kept as is\n\n<!-- counts:start -->\nold\n<!-- counts:end -->\ntail kept\n`;
}

function tap(lines: string[], summary = { tests: lines.length, pass: lines.length, fail: 0 }): string {
  return `TAP version 13\n${lines.join('\n')}\n1..${lines.length}\n# tests ${summary.tests}\n# pass ${summary.pass}\n# fail ${summary.fail}\n# cancelled 0\n# skipped 0\n# todo 0\n`;
}

describe('scripts/reliability-report.mjs', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ksc-relrep-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const run = (name: string, text: string, tapText: string, results: Record<string, unknown>) => {
    const d = path.join(dir, name);
    const resultsDir = path.join(d, 'results');
    for (const p of [d, resultsDir]) rmSync(p, { recursive: true, force: true });
    mkdirSync(resultsDir, { recursive: true });
    for (const [k, v] of Object.entries(results)) writeFileSync(path.join(resultsDir, `${k}.json`), JSON.stringify(v));
    writeFileSync(path.join(d, 'R.md'), text);
    writeFileSync(path.join(d, 'unit.tap'), tapText);
    const r = spawnSync(process.execPath, [SCRIPT, '--doc', path.join(d, 'R.md'), '--results', resultsDir, '--tap', path.join(d, 'unit.tap')], { encoding: 'utf8' });
    return { code: r.status, stderr: r.stderr, out: readFileSync(path.join(d, 'R.md'), 'utf8') };
  };

  it('fills the block from the JSON files and the TAP, leaves everything else as it was', () => {
    const text = doc(`| Fuzz | exact or refused | \`test/security/urls.test.ts\` «${TITLE}» | [fuzz] |`);
    const r = run('ok', text, tap([`    ok 1 - ${TITLE}`, 'ok 1 - only http(s) URLs'], { tests: 1, pass: 1, fail: 0 }).replace('1..2', '1..1'), {
      fuzz: { documents: 1234, reads: 5, actions: 3702, changed: 7, unchanged: 8, refused: 9, lineChecked: 6, seed: 42, refusedByCode: { 'parse-error': 9 } },
      'git-faults': { kills: 3, kills_recovered: 3, concurrent_runs: 17, both_landed: 17 },
      secrets: { outputs_scanned: 11, bytes_scanned: 999, secrets_checked: 4, secrets_found: 0 },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.out.slice(0, r.out.indexOf('<!-- counts:start -->')), text.slice(0, text.indexOf('<!-- counts:start -->')));
    assert.ok(r.out.endsWith('<!-- counts:end -->\ntail kept\n'));
    const block = r.out.slice(r.out.indexOf('<!-- counts:start -->'));
    assert.doesNotMatch(block, /\nold\n/);
    for (const s of ['1,234 documents fuzzed (seed 42)', '3,702 set/promote/rollback actions', '3 of 3 kills recovered', '17 of 17 concurrent rounds', '0 secrets found in 11 outputs', '1 unit tests, 1 passed, 0 failed', 'names 1 tests (1 test runs with their variants): 1 passed']) {
      assert.ok(block.includes(s), `${s} in\n${block}`);
    }
    assert.match(block, /\[cluster\][^\n]*no cluster-faults\.json/);
  });

  it('fails on a test that is not in its file, did not run, or did not pass, and on a damaged TAP file', () => {
    const missing = run('missing', doc('| X | y | `test/security/urls.test.ts` «no such test anywhere» | |'), tap(['ok 1 - no such test anywhere']), {});
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /has no test «no such test anywhere»/);
    const row = `| X | y | \`test/security/urls.test.ts\` «${TITLE}» | |`;
    const notRun = run('not-run', doc(row), tap(['ok 1 - something else']), {});
    assert.equal(notRun.code, 1);
    assert.match(notRun.stderr, /did not run/);
    assert.match(notRun.out, /Problems in the last run/);
    const clobbered = run('clobbered', doc(row), `${tap([`ok 1 - ${TITLE}`])}`.replace('1..1', '1..40') + '\0\0', {});
    assert.equal(clobbered.code, 1);
    assert.match(clobbered.stderr, /cannot be used: it holds NUL bytes/);
    const cut = run('cut', doc(row), tap([`ok 1 - ${TITLE}`]).replace('1..1', '1..2'), {});
    assert.match(cut.stderr, /plans 2 top-level tests but reports 1/);
    const failed = run('failed', doc(row), tap([`not ok 1 - ${TITLE}`], { tests: 1, pass: 0, fail: 1 }), {});
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /1 of 1 did not pass/);
  });

  it('a … in a title matches what the run put there, and the block shows those values', () => {
    const row = '| X | y | `test/security/urls.test.ts` «other schemes are refused, in the … and in a template» | |';
    const r = run('wild', doc(row), tap([`ok 1 - ${TITLE}`]), {});
    assert.equal(r.code, 0, r.stderr);
    const src = '| X | y | `test/cluster/sandbox-resilience.test.ts` «… sandbox restarts with changes in between: converges every time, no request storm» | |';
    const r2 = run('restarts', doc(src), tap(['ok 1 - 7 sandbox restarts with changes in between: converges every time, no request storm']), {});
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r2.out, /\[restarts\] sandbox restarts survived\*\*: 7 restarts, converged every time/);
  });

  it('cluster-faults.json: known figures as prose, a non-converged scenario stands out, unknown keys kept', () => {
    const row = `| X | y | \`test/security/urls.test.ts\` «${TITLE}» | [cluster] |`;
    const r = run('cluster', doc(row), tap([`ok 1 - ${TITLE}`]), {
      'cluster-faults': { outage_seconds: 12, outage_episodes: 1, outage_problems_logged: 1, outage_converged: 1, silent_watch_stale_restarts: 3, silent_watch_converged: 0, new_thing: 5 },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.out, /\[cluster\][^\n]*down 12 s: 1 episode\(s\), 1 problem\(s\) logged, converged; a silent watch: 3 stale-watch restart\(s\), \*\*did not converge\*\*; new thing 5\./);
  });

  it('RELIABILITY.md names only tests that exist in their files', () => {
    const r = spawnSync(process.execPath, [SCRIPT, '--source-only'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\(0 problems\)/);
  });
});
