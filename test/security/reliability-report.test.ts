/**
 * scripts/reliability-report.mjs: rewrites only the generated block of RELIABILITY.md from ONE
 * recorded test run (test-results/run.json, its result files checked by sha256, its figure files
 * by run id), and fails when no run is recorded, when a test the table names is missing from its
 * file, did not run, was skipped or failed (unit TAP and extension-host results alike), and when
 * a figure file is absent, stale (another run's) or written by a test that did not pass.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { repoRoot } from '../cli/bundle';

const SCRIPT = path.join(repoRoot, 'scripts', 'reliability-report.mjs');
const TITLE = 'other schemes are refused, in the check and in a template';
const ROW = `| X | y | \`test/security/urls.test.ts\` «${TITLE}» | |`;
const RUN = 'run-A';
const FIG_TEST = 'figure writer';
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

function doc(rows: string): string {
  return `# R\n\n| Scenario | What happens | Proven by | Figures |\n|---|---|---|---|\n${rows}\n\nprose kept as is\n\n<!-- counts:start -->\nold\n<!-- counts:end -->\ntail kept\n`;
}

/** A TAP file: the given test lines plus a passing «figure writer», which writes the figure files. */
function tap(lines: string[]): string {
  const all = [...lines, `ok ${lines.length + 1} - ${FIG_TEST}`];
  const n = (re: RegExp) => all.filter((l) => re.test(l)).length;
  return `TAP version 13\n${all.join('\n')}\n1..${all.filter((l) => /^(not )?ok/.test(l)).length}\n# tests ${all.length}\n# pass ${n(/^\s*ok (?!.*# SKIP)/)}\n# fail ${n(/^\s*not ok/)}\n# cancelled 0\n# skipped ${n(/# SKIP/)}\n# todo 0\n`;
}

const figure = (name: string, figures: Record<string, unknown>, runId: string | null = RUN, test = FIG_TEST) => ({
  name,
  runId,
  tests: [{ test, outcome: 'passed', writtenAt: '2026-12-01T20:00:00.000Z', figures }],
});

/** Figure files of a complete run (each written by «figure writer» in run-A). */
function allFigures(): Record<string, unknown> {
  return {
    fuzz: figure('fuzz', {
      documents: 1234,
      reads: 5,
      actions: 3702,
      changed: 7,
      unchanged: 8,
      refused: 9,
      lineChecked: 6,
      seed: 42,
      refusedByCode: { 'parse-error': 9 },
      oracle_agreed: 77,
    }),
    'git-faults': {
      name: 'git-faults',
      runId: RUN,
      tests: [
        ...['after-edit', 'after-commit', 'during-push'].map((p) => ({
          test: FIG_TEST,
          outcome: 'passed',
          writtenAt: 'x',
          figures: { killed_at: p, recovered: true },
        })),
        {
          test: FIG_TEST,
          outcome: 'passed',
          writtenAt: 'x',
          figures: { concurrent_runs: 17, both_landed: 17, raced_rounds: 17, push_rejections: 9, reapplied: 9, ci_retries: 8, ci_first_forced: 1 },
        },
      ],
    },
    secrets: figure('secrets', { outputs_scanned: 11, bytes_scanned: 999, secrets_checked: 4, secrets_found: 0 }),
    'cluster-faults': figure('cluster-faults', {
      outage_seconds: 12,
      outage_episodes: 1,
      outage_problems_logged: 1,
      outage_converged: 1,
      silent_watch_stale_restarts: 3,
      silent_watch_converged: 0,
      new_thing: 5,
    }),
  };
}

interface RunRecord {
  id: string;
  startedAt: string;
  finishedAt?: string;
  args: string[];
  stages: Record<string, { sha256: string | null; [k: string]: unknown }>;
}

interface Setup {
  tap?: string;
  exthost?: unknown;
  /** The exthost-kube stage's results (the parameterised suites on the real kube-apiserver). */
  exthostKube?: unknown;
  figures?: Record<string, unknown>;
  /** Changes run.json before it is written (undefined: no run.json at all). */
  run?: ((r: RunRecord) => void) | null;
  check?: boolean;
}

describe('scripts/reliability-report.mjs', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ksc-relrep-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const report = (name: string, text: string, s: Setup) => {
    const d = path.join(dir, name);
    const results = path.join(d, 'results');
    rmSync(d, { recursive: true, force: true });
    mkdirSync(results, { recursive: true });
    const stages: RunRecord['stages'] = {};
    if (s.tap !== undefined) {
      writeFileSync(path.join(results, 'unit.tap'), s.tap);
      stages.unit = { exit: 0, passed: 1, failed: 0, skipped: 0, resultFile: 'unit.tap', sha256: sha(s.tap) };
    }
    if (s.exthost !== undefined) {
      const j = JSON.stringify(s.exthost);
      writeFileSync(path.join(results, 'exthost-results.json'), j);
      stages.exthost = { exit: 0, passed: 1, failed: 0, skipped: 0, resultFile: 'exthost-results.json', sha256: sha(j) };
    }
    if (s.exthostKube !== undefined) {
      const j = JSON.stringify(s.exthostKube);
      writeFileSync(path.join(results, 'exthost-kube-results.json'), j);
      stages['exthost-kube'] = { exit: 0, passed: 1, failed: 0, skipped: 0, resultFile: 'exthost-kube-results.json', sha256: sha(j) };
    }
    for (const [k, v] of Object.entries(s.figures ?? allFigures())) writeFileSync(path.join(results, `${k}.json`), JSON.stringify(v));
    if (s.run !== null) {
      const r: RunRecord = { id: RUN, startedAt: '2026-12-01T20:00:00.000Z', finishedAt: '2026-12-01T20:30:00.000Z', args: [], stages };
      s.run?.(r);
      writeFileSync(path.join(results, 'run.json'), JSON.stringify(r));
    }
    writeFileSync(path.join(d, 'R.md'), text);
    const r = spawnSync(process.execPath, [SCRIPT, '--doc', path.join(d, 'R.md'), '--results', results, ...(s.check ? ['--check'] : [])], { encoding: 'utf8' });
    const out = readFileSync(path.join(d, 'R.md'), 'utf8');
    return { code: r.status, stderr: r.stderr, out, block: out.slice(out.indexOf('<!-- counts:start -->')) };
  };

  it("fills the block from this run's figure files and TAP, leaves everything else as it was", () => {
    const text = doc(`| Fuzz | exact or refused | \`test/security/urls.test.ts\` «${TITLE}» | [fuzz] |`);
    const r = report('ok', text, { tap: tap([`ok 1 - ${TITLE}`]) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.out.slice(0, r.out.indexOf('<!-- counts:start -->')), text.slice(0, text.indexOf('<!-- counts:start -->')));
    assert.ok(r.out.endsWith('<!-- counts:end -->\ntail kept\n'));
    assert.doesNotMatch(r.block, /\nold\n/);
    for (const s of [
      '**Run run-A** (2026-12-01 20:00:00 UTC): unit: 1 passed',
      '1,234 documents fuzzed (seed 42)',
      '3,702 set/promote/rollback actions',
      'oracle agreed 77',
      '3 of 3 kills (after-edit, after-commit, during-push) recovered',
      "17 of 17 concurrent rounds; 17 of them raced (both pushes released at once): our push was rejected and the edit re-applied on the new upstream in 9 (9 rejection(s), 1 of them with the pipeline let through first), the pipeline's push was rejected and retried in 8",
      '0 secrets found in 11 outputs',
      'names 1 tests (1 test runs with their variants): 1 passed',
    ]) {
      assert.ok(r.block.includes(s), `${s} in\n${r.block}`);
    }
    assert.match(
      r.block,
      /\[cluster\][^\n]*down 12 s: 1 episode\(s\), 1 problem\(s\) logged, converged; a silent watch: 3 stale-watch restart\(s\), \*\*did not converge\*\*; new thing 5\./,
    );
    assert.doesNotMatch(r.block, /Problems/);
  });

  it('no recorded run: fails, with --check too (nothing to vouch for)', () => {
    for (const check of [false, true]) {
      const r = report(`no-run-${check}`, doc(ROW), { run: null, check });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /no test run recorded/);
    }
  });

  it('fails on a test that is not in its file, did not run, was skipped or failed, and on a damaged TAP file', () => {
    const missing = report('missing', doc('| X | y | `test/security/urls.test.ts` «no such test anywhere» | |'), {
      tap: tap(['ok 1 - no such test anywhere']),
    });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /has no test «no such test anywhere»/);
    const notRun = report('not-run', doc(ROW), { tap: tap(['ok 1 - something else']) });
    assert.equal(notRun.code, 1);
    assert.match(notRun.stderr, /did not run in run run-A/);
    assert.match(notRun.out, /Problems in this run/);
    const skipped = report('skipped', doc(ROW), { tap: tap([`ok 1 - ${TITLE} # SKIP`]) });
    assert.equal(skipped.code, 1);
    assert.match(skipped.stderr, /1 of 1 skipped/);
    const failed = report('failed', doc(ROW), { tap: tap([`not ok 1 - ${TITLE}`]) });
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /1 of 1 failed/);
    const clobbered = `${tap([`ok 1 - ${TITLE}`])}\0\0`;
    const damaged = report('clobbered', doc(ROW), { tap: clobbered });
    assert.equal(damaged.code, 1);
    assert.match(damaged.stderr, /cannot be used: it holds NUL bytes/);
    const cut = report('cut', doc(ROW), { tap: tap([`ok 1 - ${TITLE}`]).replace('1..2', '1..3') });
    assert.match(cut.stderr, /plans 3 top-level tests but reports 2/);
  });

  it('a TAP file that is not the one the run left (another run, or edited) is not used', () => {
    const r = report('other-tap', doc(ROW), {
      tap: tap([`ok 1 - ${TITLE}`]),
      run: (run) => {
        run.stages.unit!.sha256 = sha('another run');
      },
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /unit\.tap is not the file run run-A left/);
    assert.match(r.stderr, /the unit stage left no usable results in run run-A/);
    const unfinished = report('unfinished', doc(ROW), {
      tap: tap([`ok 1 - ${TITLE}`]),
      run: (run) => {
        delete run.finishedAt;
      },
    });
    assert.equal(unfinished.code, 1);
    assert.match(unfinished.stderr, /run run-A did not finish/);
  });

  it('a stale or absent figure file fails the report, and so does one written by a test that did not pass', () => {
    const t = tap([`ok 1 - ${TITLE}`]);
    const cases: Array<[string, (f: Record<string, unknown>) => void, RegExp]> = [
      [
        'stale',
        (f) => {
          f.fuzz = figure('fuzz', { documents: 1, actions: 1 }, 'run-B');
        },
        /fuzz\.json is stale: written by run run-B, not by run run-A/,
      ],
      [
        'outside',
        (f) => {
          f.secrets = figure('secrets', { secrets_found: 0 }, null);
        },
        /secrets\.json is stale: written outside a scripts\/test\.mjs run/,
      ],
      [
        'old-format',
        (f) => {
          f['cluster-faults'] = { outage_seconds: 10, outage_converged: 1 };
        },
        /cluster-faults\.json is stale: it carries no run id/,
      ],
      [
        'absent',
        (f) => {
          delete f['git-faults'];
        },
        /git-faults\.json is absent/,
      ],
      [
        'not-passed',
        (f) => {
          f.fuzz = figure('fuzz', { documents: 1, actions: 1 }, RUN, 'a test that failed');
        },
        /«a test that failed», which wrote its figures, did not pass in run run-A/,
      ],
      [
        'no-race',
        (f) => {
          f['git-faults'] = figure('git-faults', { killed_at: 'after-edit', recovered: true });
        },
        /git-faults\.json of run run-A has no figures for \[ci-race\]/,
      ],
    ];
    for (const [name, change, re] of cases) {
      const figures = allFigures();
      change(figures);
      const r = report(`fig-${name}`, doc(ROW), { tap: t, figures });
      assert.equal(r.code, 1, name);
      assert.match(r.stderr, re, name);
      assert.match(r.block, /_not available: /, name);
    }
  });

  it("extension-host tests named in the table are looked up in that stage's results", () => {
    const row =
      '| T | y | `test/ui/exthost/canary-2-commands.test.ts` «in an untrusted workspace, refuses every writing command with the reason and commits nothing» | |';
    const results = (state: string) => ({
      passed: 1,
      failed: 0,
      skipped: 0,
      tests: [
        {
          title: 'KServe Canary commands in an untrusted workspace, refuses every writing command with the reason and commits nothing',
          file: 'canary-2-commands.test.js',
          state,
        },
      ],
    });
    const ok = report('exthost-ok', doc(row), { tap: tap([]), exthost: results('passed') });
    assert.equal(ok.code, 0, ok.stderr);
    const failed = report('exthost-failed', doc(row), { tap: tap([]), exthost: results('failed') });
    assert.equal(failed.code, 1);
    assert.match(
      failed.stderr,
      /«in an untrusted workspace, refuses every writing command with the reason and commits nothing» \(test\/ui\/exthost\/canary-2-commands\.test\.ts\): 1 of 1 failed/,
    );
    const notRun = report('exthost-not-run', doc(row), { tap: tap([]) });
    assert.equal(notRun.code, 1);
    assert.match(notRun.stderr, /the exthost stage did not run in run run-A/);
    const otherFile = report('exthost-other-file', doc(row), { tap: tap([]), exthost: { tests: [{ ...results('passed').tests[0], file: 'smoke.test.js' }] } });
    assert.match(otherFile.stderr, /did not run in run run-A/);
  });

  it('a parameterised extension-host test counts on both backends (exthost and exthost-kube); one written for the other backend only is not a skip', () => {
    const row =
      '| B | y | `test/ui/exthost/canary-14-backends.test.ts` «the seed: the same environments, services, live splits and verdicts in the tree and in status --json» | |';
    const one = (backend: string, state: string, skipReason?: string) => ({
      tests: [
        {
          title: `on the ${backend} backend: the tree equals kserve-canary status --json the seed: the same environments, services, live splits and verdicts in the tree and in status --json`,
          file: 'canary-14-backends.test.js',
          state,
          ...(skipReason ? { skipReason } : {}),
        },
      ],
    });
    const both = report('kube-ok', doc(row), { tap: tap([]), exthost: one('embedded', 'passed'), exthostKube: one('kube-apiserver', 'passed') });
    assert.equal(both.code, 0, both.stderr);
    assert.match(both.block, /exthost-kube: 1 passed, 0 failed, 0 skipped/);
    assert.match(both.block, /names 1 tests \(2 test runs with their variants\): 2 passed/);
    const kubeFailed = report('kube-failed', doc(row), { tap: tap([]), exthost: one('embedded', 'passed'), exthostKube: one('kube-apiserver', 'failed') });
    assert.equal(kubeFailed.code, 1);
    assert.match(kubeFailed.stderr, /1 of 2 failed/);
    const otherOnly = report('kube-only', doc(row), {
      tap: tap([]),
      exthost: one('embedded', 'skipped', 'kube-apiserver backend only (running on embedded): no RBAC'),
      exthostKube: one('kube-apiserver', 'passed'),
    });
    assert.equal(otherOnly.code, 0, otherOnly.stderr);
    const plainSkip = report('kube-skip', doc(row), { tap: tap([]), exthost: one('embedded', 'passed'), exthostKube: one('kube-apiserver', 'skipped') });
    assert.match(plainSkip.stderr, /1 of 2 skipped/);
  });

  it('a … in a title matches what the run put there, and the block shows those values', () => {
    const row = '| X | y | `test/security/urls.test.ts` «other schemes are refused, in the … and in a template» | |';
    const r = report('wild', doc(row), { tap: tap([`ok 1 - ${TITLE}`]) });
    assert.equal(r.code, 0, r.stderr);
    const src = '| X | y | `test/cluster/sandbox-resilience.test.ts` «… sandbox restarts with changes in between: converges every time» | |';
    const r2 = report('restarts', doc(src), { tap: tap(['ok 1 - 7 sandbox restarts with changes in between: converges every time']) });
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r2.out, /\[restarts\] sandbox restarts survived\*\*: 7 restarts, converged every time/);
  });

  it('RELIABILITY.md names only tests that exist in their files', () => {
    const r = spawnSync(process.execPath, [SCRIPT, '--source-only'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\(0 problems\)/);
  });
});
