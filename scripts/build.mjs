// Bundles the extension and the CLI with esbuild (CommonJS, `vscode` external).
// Type checking is separate: `npm run typecheck` (tsc --noEmit).
import * as esbuild from 'esbuild';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

/** Entry points that exist in this checkout (others are skipped, not fatal). */
const entries = [
  { in: 'src/ui/extension.ts', out: 'extension' },
  { in: 'src/cli/main.ts', out: 'cli' },
  { in: 'test/ui/exthost/index.ts', out: 'test/exthost' },
].filter((e) => existsSync(path.join(root, e.in)));

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

if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
  console.log('esbuild: watching');
} else {
  const started = Date.now();
  await esbuild.build(options);
  console.log(`esbuild: built ${entries.map((e) => e.out).join(', ')} in ${Date.now() - started} ms${production ? ' (production)' : ''}`);
}
