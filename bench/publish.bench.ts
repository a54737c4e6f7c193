/**
 * `kserve-canary set` (node dist/cli.js: pull, edit, commit, push to a local bare remote)
 * against the same change made by hand with plain git in a bash script
 * (git pull --rebase, sed, git add, git commit, git push), measured in the same run.
 * Runs alternate (CLI, script, script, CLI, ...) after warm-ups; each side has its own
 * identical bare remote and clone. Prints the medians and their ratio and writes JSON to
 * $KSC_BENCH_OUT. Target: ratio <= 1.5.
 *   npm run bench -- publish          (KSC_BENCH_REPS=30 for more repetitions)
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { makeSandbox, readText, testGitEnv, TEST_CONFIG_REL } from '../test/core/git-helpers';
import { buildCliBundle, repoRoot } from '../test/cli/bundle';

const REPS = Math.max(15, Number(process.env.KSC_BENCH_REPS ?? 21));
const WARMUP = 2;

const SCRIPT = `#!/usr/bin/env bash
# What users do by hand today (the workshop's steps), for one canary change.
set -euo pipefail
cd "$1"
git pull --rebase --quiet
sed -i -E "s/^(  trafficPercent: )[0-9]+/\\1$2/" ${TEST_CONFIG_REL}
git add ${TEST_CONFIG_REL}
git commit --quiet -m "Set canary traffic for jukebox in test to $2%"
git push --quiet
`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function timed(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return ms;
}

async function mainBench(): Promise<void> {
  const env = testGitEnv();
  // KSC_BENCH_CLI: measure another build of the CLI (e.g. one with cluster code left external).
  let cliJs = process.env.KSC_BENCH_CLI ?? path.join(repoRoot, 'dist', 'cli.js');
  let cleanupBundle = () => undefined as void;
  if (!existsSync(cliJs)) {
    const b = await buildCliBundle();
    cliJs = path.join(path.dirname(b.bin), '..', 'dist', 'cli.js');
    cleanupBundle = b.cleanup;
  }
  const sbCli = makeSandbox();
  const sbSh = makeSandbox();
  try {
    const cliClone = sbCli.clone('user');
    const shClone = sbSh.clone('user');
    const script = path.join(sbSh.dir, 'canary.sh');
    writeFileSync(script, SCRIPT);
    chmodSync(script, 0o755);

    const cli: number[] = [];
    const sh: number[] = [];
    for (let i = 0; i < WARMUP + REPS; i++) {
      const percent = String(20 + (i % 60)); // always a real change
      const runCli = () => timed(process.execPath, [cliJs, 'set', 'jukebox', percent, '--env', 'test'], cliClone, env);
      const runSh = () => timed('bash', [script, shClone, percent], shClone, env);
      const [a, b] = i % 2 === 0 ? [runCli(), runSh()] : [runSh(), runCli()].reverse();
      if (i >= WARMUP) {
        cli.push(a);
        sh.push(b);
      }
      for (const [clone, sb] of [[cliClone, sbCli], [shClone, sbSh]] as const) {
        const remote = spawnSync('git', ['show', `main:${TEST_CONFIG_REL}`], { cwd: sb.remote, env, encoding: 'utf8' }).stdout;
        if (!remote.includes(`trafficPercent: ${percent} `) || readText(clone, TEST_CONFIG_REL) !== remote) {
          throw new Error(`run ${i}: the remote of ${clone} does not hold ${percent}%`);
        }
      }
    }
    const result = {
      benchmark: 'publish',
      description: 'kserve-canary set (node dist/cli.js) vs bash script (git pull --rebase, sed, add, commit, push), local bare remote',
      repetitions: REPS,
      cli_median_ms: Number(median(cli).toFixed(1)),
      script_median_ms: Number(median(sh).toFixed(1)),
      ratio: Number((median(cli) / median(sh)).toFixed(3)),
      target: 1.5,
      cli_ms: cli.map((x) => Number(x.toFixed(1))),
      script_ms: sh.map((x) => Number(x.toFixed(1))),
    };
    console.log(`kserve-canary set: median ${result.cli_median_ms} ms; bash + git: median ${result.script_median_ms} ms; ratio ${result.ratio} (target <= ${result.target}, ${REPS} runs each)`);
    if (process.env.KSC_BENCH_OUT) writeFileSync(process.env.KSC_BENCH_OUT, `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    sbCli.cleanup();
    sbSh.cleanup();
    cleanupBundle();
  }
}

void mainBench().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
