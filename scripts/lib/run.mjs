// Run folders and orderly shutdown for start / test scripts.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * A fresh temporary run folder under os.tmpdir() (short, so unix sockets inside stay under the
 * 108-byte limit). TMPDIR of this process moves into it, so libraries that write temp files
 * (playwright's profile and artifacts) stay inside too.
 */
export function tempRunDir(prefix) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `ksc-${prefix}-`));
  useRunTmp(dir);
  return dir;
}

/** Points this process's TMPDIR at <dir>/tmp. */
export function useRunTmp(dir) {
  const tmp = path.join(dir, 'tmp');
  mkdirSync(tmp, { recursive: true });
  process.env.TMPDIR = tmp;
}

const cleanups = [];
let shuttingDown;

/** Registers an async cleanup; run in reverse order by shutdown() or on SIGINT/SIGTERM/SIGHUP. */
export function onShutdown(fn) {
  cleanups.push(fn);
}

/** Runs the cleanups once (last registered first); later calls wait for the same run. */
export function shutdown() {
  shuttingDown ??= (async () => {
    while (cleanups.length) {
      const fn = cleanups.pop();
      try {
        await fn();
      } catch (err) {
        console.error(`cleanup: ${err?.message ?? err}`);
      }
    }
  })();
  return shuttingDown;
}

let signalsHooked = false;
/** Ctrl-C / SIGTERM / SIGHUP: clean up, then exit with 130 / 143 / 129. */
export function exitOnSignals(onSignal) {
  if (signalsHooked) return;
  signalsHooked = true;
  const codes = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
  for (const [sig, code] of Object.entries(codes)) {
    process.on(sig, () => {
      if (shuttingDown) return;
      onSignal?.(sig);
      shutdown().finally(() => process.exit(code));
    });
  }
}

/** Removes a folder, tolerating files that vanish while it runs. */
export function removeDir(dir) {
  if (dir && existsSync(dir)) rmSync(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 200 });
}

/** Writes the {passed, failed, skipped} summary scripts/test.mjs reads (KSC_TEST_SUMMARY). */
export function writeSummary(summary) {
  const file = process.env.KSC_TEST_SUMMARY;
  if (!file) return;
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify({ passed: summary.passed, failed: summary.failed, skipped: summary.skipped }, null, 2)}\n`);
}

export function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** Seconds since `t0`, one decimal. */
export const secondsSince = (t0) => ((Date.now() - t0) / 1000).toFixed(1);
