/**
 * Figure files for RELIABILITY.md (read by scripts/reliability-report.mjs): a suite that
 * measures something calls writeFigures at the END of the test that measured it, after its
 * last assertion, so a failed test leaves no figures behind. Each file is bound to one test
 * run (KSC_RUN_ID, set by scripts/test.mjs) and names every test that wrote into it:
 *
 *   test-results/<name>.json = { name, runId, tests: [{ test, outcome, writtenAt, figures }] }
 *
 * Several tests may write into one file (one entry each; a test that writes again replaces its
 * entry). A file left by another run (or by a test run outside scripts/test.mjs, runId null) is
 * started afresh, and the report refuses it as stale.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface FigureEntry {
  test: string;
  outcome: 'passed';
  writtenAt: string;
  figures: Record<string, unknown>;
}

export interface FigureFile {
  name: string;
  runId: string | null;
  tests: FigureEntry[];
}

/** Where the figure files go: $KSC_TEST_RESULTS_DIR (set by scripts/test.mjs) or test-results/. */
export function resultsDir(): string {
  return path.resolve(process.env.KSC_TEST_RESULTS_DIR ?? path.join(__dirname, '..', 'test-results'));
}

function read(file: string): FigureFile | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as FigureFile;
  } catch {
    return undefined;
  }
}

/**
 * Records `figures` for the test `t` (a node:test TestContext, or anything with its title as
 * `name`) in test-results/<name>.json. Call it only once the test's assertions have passed.
 */
export function writeFigures(name: string, t: { name: string }, figures: Record<string, unknown>): string {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new Error(`figure file name ${JSON.stringify(name)}: lower-case letters, digits and dashes only`);
  const dir = resultsDir();
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  const runId = process.env.KSC_RUN_ID || null;
  const old = read(file);
  const tests = old && old.runId === runId && runId !== null && Array.isArray(old.tests) ? old.tests.filter((e) => e.test !== t.name) : [];
  tests.push({ test: t.name, outcome: 'passed', writtenAt: new Date().toISOString(), figures });
  const next: FigureFile = { name, runId, tests };
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(next, null, 2)}\n`);
  renameSync(tmp, file);
  return file;
}
