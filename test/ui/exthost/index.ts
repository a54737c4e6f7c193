// Runs inside the extension host (code-server or desktop VS Code): mocha (BDD) over the bundled
// suites next to this file, dist/test/exthost/*.test.js. The host loads this module through
// `extensionTestsPath` and awaits run().
//
// Environment (set by scripts/test-exthost.mjs / scripts/test-desktop.mjs):
//   KSC_EXTHOST_RESULTS  file to write the results to (JSON, see ExthostResults)
//   KSC_EXTHOST_GREP     only tests whose full title matches this regular expression
//   KSC_EXTHOST_FILES    comma-separated suite names (e.g. "smoke,tree") to load; default: all
//   KSC_EXTHOST_TIMEOUT  per-test timeout in ms (default 60000)
//   KSC_EXTHOST_BACKEND  the sandbox backend the suites run against (canary-helpers' backend(), onlyOn)
import Mocha from 'mocha';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface ExthostTestResult {
  title: string;
  file: string | undefined;
  state: 'passed' | 'failed' | 'skipped';
  durationMs: number;
  error?: { message: string; stack?: string };
  /** Why a skipped test did not run, when its suite said so (canary-helpers' onlyOn). */
  skipReason?: string;
}

export interface ExthostResults {
  passed: number;
  failed: number;
  skipped: number;
  durationMs: number;
  tests: ExthostTestResult[];
}

function suiteFiles(dir: string): string[] {
  const wanted = (process.env.KSC_EXTHOST_FILES ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.test.js'))
    .filter((f) => wanted.length === 0 || wanted.includes(f.slice(0, -'.test.js'.length)))
    .sort()
    .map((f) => path.join(dir, f));
}

function writeResults(results: ExthostResults): void {
  const out = process.env.KSC_EXTHOST_RESULTS;
  if (!out) return;
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
}

export function run(): Promise<void> {
  const started = Date.now();
  const mocha = new Mocha({
    ui: 'bdd',
    color: false,
    reporter: 'spec',
    timeout: Number(process.env.KSC_EXTHOST_TIMEOUT ?? 60_000),
  });
  if (process.env.KSC_EXTHOST_GREP) mocha.grep(new RegExp(process.env.KSC_EXTHOST_GREP));
  const files = suiteFiles(__dirname);
  for (const f of files) mocha.addFile(f);

  const results: ExthostResults = { passed: 0, failed: 0, skipped: 0, durationMs: 0, tests: [] };
  const skipReason = (test: Mocha.Runnable): string | undefined => {
    for (let n: Mocha.Runnable | Mocha.Suite | undefined = test; n; n = n.parent) {
      const why = (n as unknown as Record<string, unknown>).kscSkipReason;
      if (typeof why === 'string') return why;
    }
    return undefined;
  };
  const record = (test: Mocha.Runnable, state: ExthostTestResult['state'], err?: Error) => {
    results[state] += 1;
    const why = state === 'skipped' ? skipReason(test) : undefined;
    results.tests.push({
      title: test.fullTitle(),
      file: test.file ? path.basename(test.file) : undefined,
      state,
      durationMs: test.duration ?? 0,
      ...(err ? { error: { message: err.message, stack: err.stack } } : {}),
      ...(why ? { skipReason: why } : {}),
    });
  };

  return new Promise<void>((resolve, reject) => {
    if (files.length === 0) {
      writeResults(results);
      reject(new Error(`no test suites (*.test.js) next to ${__filename}`));
      return;
    }
    try {
      const runner = mocha.run((failures) => {
        results.durationMs = Date.now() - started;
        writeResults(results);
        if (failures > 0 || results.failed > 0) reject(new Error(`${results.failed || failures} extension-host test(s) failed`));
        else resolve();
      });
      runner.on('pass', (t) => record(t, 'passed'));
      runner.on('fail', (t, err) => record(t, 'failed', err));
      runner.on('pending', (t) => record(t, 'skipped'));
    } catch (err) {
      results.failed += 1;
      results.tests.push({
        title: 'loading the suites',
        file: undefined,
        state: 'failed',
        durationMs: 0,
        error: { message: String((err as Error)?.message ?? err), stack: (err as Error)?.stack },
      });
      writeResults(results);
      reject(err);
    }
  });
}
