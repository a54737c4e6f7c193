// Bundles the extension and the CLI with esbuild (CommonJS, `vscode` external).
// Type checking is separate: `npm run typecheck` (tsc --noEmit).
import * as esbuild from 'esbuild';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { cliBuildOptions } from './lib/cli-build.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

/** Entry points that exist in this checkout (others are skipped, not fatal). */
const entries = [
  { in: 'src/ui/extension.ts', out: 'extension' },
  // Loaded by the extension after activate() (the UI; then the Kubernetes client, git, yaml) and
  // the sandbox process of its "Start sandbox" command: kept out of extension.js so activation stays cheap.
  { in: 'src/ui/main.ts', out: 'ui' },
  { in: 'src/ui/backend.ts', out: 'backend' },
  { in: 'src/ui/sandbox-main.ts', out: 'sandbox' },
  // Extension-host tests: the mocha runner plus one bundle per suite (dist/test/exthost/<name>.test.js),
  // left out of the production build that goes into the .vsix.
  ...(production ? [] : exthostEntries()),
].filter((e) => existsSync(path.join(root, e.in)));

function exthostEntries() {
  const dir = path.join(root, 'test', 'ui', 'exthost');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f === 'index.ts' || f.endsWith('.test.ts'))
    .sort()
    .map((f) => ({ in: `test/ui/exthost/${f}`, out: `test/exthost/${f.slice(0, -'.ts'.length)}` }));
}

const options = {
  absWorkingDir: root,
  entryPoints: entries,
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['vscode', 'mocha'],
  sourcemap: production ? false : 'linked',
  minify: production,
  legalComments: 'none',
  logLevel: 'warning',
  // Keep the CLI runnable directly.
  banner: { js: '' },
};

// The CLI: a small dispatcher plus one bundle per command group, its big dependencies left
// external (see scripts/lib/cli-build.mjs and bench/publish.bench.ts).
const cliOptions = cliBuildOptions(
  { absWorkingDir: root, outdir: 'dist' },
  {
    external: options.external,
    sourcemap: options.sourcemap,
    minify: options.minify,
    logLevel: options.logLevel,
  },
);
// The canary dashboard's webview (issue 16): a browser bundle with its chart library (uPlot) and
// stylesheet, dist/webview/dashboard.{js,css}, the panel's only local resource root.
const webviewOptions = {
  absWorkingDir: root,
  entryPoints: [{ in: 'src/webview/dashboard.ts', out: 'dashboard' }],
  outdir: 'dist/webview',
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: 'es2022',
  sourcemap: options.sourcemap,
  minify: production,
  legalComments: 'none',
  logLevel: 'warning',
};
const builds = [options, cliOptions, webviewOptions];

if (watch) {
  for (const o of builds) await (await esbuild.context(o)).watch();
  console.log('esbuild: watching');
} else {
  const started = Date.now();
  await Promise.all(builds.map((o) => esbuild.build(o)));
  console.log(
    `esbuild: built ${[...entries, ...cliOptions.entryPoints, ...webviewOptions.entryPoints].map((e) => e.out).join(', ')} in ${Date.now() - started} ms${production ? ' (production)' : ''}`,
  );
}
