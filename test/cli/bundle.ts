/**
 * Builds the CLI like `npm run build` does (the dispatcher dist/cli.js and its group bundles),
 * but into a temporary folder (so tests never race with a build of dist/), with a copy of
 * bin/kserve-canary.js beside it and its dependencies bundled in (no node_modules there).
 * Returns the path of the launcher to run with node.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { cliBuildOptions } from '../../scripts/lib/cli-build.mjs';

export const repoRoot = path.resolve(__dirname, '..', '..');

export async function buildCliBundle(): Promise<{ bin: string; cleanup(): void }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ksc-cli-'));
  mkdirSync(path.join(dir, 'bin'));
  copyFileSync(path.join(repoRoot, 'bin', 'kserve-canary.js'), path.join(dir, 'bin', 'kserve-canary.js'));
  await esbuild.build(cliBuildOptions({ absWorkingDir: repoRoot, outdir: path.join(dir, 'dist'), bundleDeps: true }, { logLevel: 'error' }));
  return { bin: path.join(dir, 'bin', 'kserve-canary.js'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
