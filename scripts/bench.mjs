// Runs every benchmark under bench/ (files named *.bench.ts) through tsx, one after another,
// and collects their results in bench-results/<name>.json. Each benchmark measures its own
// baseline in the same run and reports ratios, never absolute targets asserted in tests.
//   npm run bench                 all benchmarks
//   npm run bench -- publish      only those whose file name contains "publish"
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const filter = process.argv.slice(2);
const files = readdirSync(path.join(root, 'bench'))
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filter.length === 0 || filter.some((x) => f.includes(x)))
  .sort();
mkdirSync(path.join(root, 'bench-results'), { recursive: true });
let failed = 0;
for (const f of files) {
  console.log(`\n=== bench/${f} ===`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join('bench', f)], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, KSC_BENCH_OUT: path.join(root, 'bench-results', f.replace(/\.bench\.ts$/, '.json')) },
  });
  if (r.status !== 0) {
    failed++;
    console.log(`bench/${f} failed (exit ${r.status})`);
  }
}
console.log(`\nbench: ${files.length - failed} ran, ${failed} failed; results in bench-results/`);
process.exit(failed ? 1 : 0);
