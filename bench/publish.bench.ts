/**
 * Publishing one canary change (pull, edit, commit, push to a local bare remote), measured in
 * one run against the same change made by hand with plain git in a bash script
 * (git pull --rebase, sed, git add, git commit, git push):
 * - the extension's path: publishCanaryChange in this process (modules loaded, no process start);
 * - the CLI: `node dist/cli.js set` (a process start), with `node -e 0` and
 *   `node dist/cli.js --version` measured beside it for the breakdown.
 * Each round runs all of them in a rotating order after warm-ups; each publishing side has its
 * own identical bare remote and clone. Ratios (medians):
 *   in_process_ratio = in-process / script                 target <= 1.3
 *   cli_ratio        = (CLI - node -e 0) / script           target <= 1.3 (CLI <= node -e 0 + 1.3 x script)
 * The breakdown: node's start, the CLI bundle's load (--version - node -e 0), each git process of
 * the in-process publish (median ms), and the rest (in-process total - git). JSON to $KSC_BENCH_OUT.
 *   npm run bench -- publish          (KSC_BENCH_REPS=30 for more repetitions)
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { makeSandbox, readText, testGitEnv, TEST_CONFIG_REL } from '../test/core/git-helpers';
import { publishCanaryChange } from '../src/core/publish';
import { GitRunner } from '../src/core/git';
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

/** Wraps the runner's spawn to time each git process of the in-process publish (by subcommand). */
function traceGit(): { take(): [string, number][] } {
  const proto = GitRunner.prototype as unknown as { spawnGit: (args: string[], ...rest: unknown[]) => Promise<string> };
  const orig = proto.spawnGit;
  let log: [string, number][] = [];
  proto.spawnGit = async function (this: unknown, args: string[], ...rest: unknown[]) {
    const t0 = performance.now();
    try {
      return await orig.call(this, args, ...rest);
    } finally {
      log.push([args.filter((a, i) => !(a === '-c' || args[i - 1] === '-c'))[0] ?? '?', performance.now() - t0]);
    }
  };
  return { take: () => [log, (log = [])][0] };
}

const r1 = (x: number) => Number(x.toFixed(1));

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
  const sbIn = makeSandbox();
  const trace = traceGit();
  try {
    const cliClone = sbCli.clone('user');
    const shClone = sbSh.clone('user');
    const inClone = sbIn.clone('user');
    const script = path.join(sbSh.dir, 'canary.sh');
    writeFileSync(script, SCRIPT);
    chmodSync(script, 0o755);

    const cli: number[] = [];
    const sh: number[] = [];
    const inproc: number[] = [];
    const node0: number[] = [];
    const version: number[] = [];
    const gitTimes = new Map<string, number[]>();
    const gitTotals: number[] = [];
    for (let i = 0; i < WARMUP + REPS; i++) {
      const percent = String(20 + (i % 60)); // always a real change
      const runs: [number[], () => Promise<number> | number][] = [
        [cli, () => timed(process.execPath, [cliJs, 'set', 'jukebox', percent, '--env', 'test'], cliClone, env)],
        [sh, () => timed('bash', [script, shClone, percent], shClone, env)],
        [node0, () => timed(process.execPath, ['-e', '0'], shClone, env)],
        [version, () => timed(process.execPath, [cliJs, '--version'], shClone, env)],
        [inproc, async () => {
          trace.take();
          const t0 = performance.now();
          await publishCanaryChange({ root: inClone, env: 'test', model: 'jukebox', action: { kind: 'set', percent: Number(percent) }, processEnv: env });
          const ms = performance.now() - t0;
          const procs = trace.take();
          if (i >= WARMUP) {
            gitTotals.push(procs.reduce((a, [, d]) => a + d, 0));
            const seen = new Map<string, number>();
            procs.forEach(([cmd, d]) => {
              const n = (seen.get(cmd) ?? 0) + 1;
              seen.set(cmd, n);
              const key = n === 1 ? cmd : `${cmd}#${n}`;
              gitTimes.set(key, [...(gitTimes.get(key) ?? []), d]);
            });
          }
          return ms;
        }],
      ];
      // Rotate the order each round, so no side always runs first (or after the same neighbour).
      for (let k = 0; k < runs.length; k++) {
        const [into, run] = runs[(k + i) % runs.length]!;
        const ms = await run();
        if (i >= WARMUP) into.push(ms);
      }
      for (const [clone, sb] of [[cliClone, sbCli], [shClone, sbSh], [inClone, sbIn]] as const) {
        const remote = spawnSync('git', ['show', `main:${TEST_CONFIG_REL}`], { cwd: sb.remote, env, encoding: 'utf8' }).stdout;
        if (!remote.includes(`trafficPercent: ${percent} `) || readText(clone, TEST_CONFIG_REL) !== remote) {
          throw new Error(`run ${i}: the remote of ${clone} does not hold ${percent}%`);
        }
      }
    }
    const [mCli, mSh, mIn, mNode, mVer] = [median(cli), median(sh), median(inproc), median(node0), median(version)];
    const breakdown = Object.fromEntries([...gitTimes].map(([k, v]) => [k, r1(median(v))]));
    const result = {
      benchmark: 'publish',
      description: 'publish one canary change: in-process publishCanaryChange and kserve-canary set (node dist/cli.js) vs a bash script (git pull --rebase, sed, add, commit, push), local bare remote, one run',
      repetitions: REPS,
      script_median_ms: r1(mSh),
      in_process_median_ms: r1(mIn),
      cli_median_ms: r1(mCli),
      node_e0_median_ms: r1(mNode),
      cli_version_median_ms: r1(mVer),
      in_process_ratio: Number((mIn / mSh).toFixed(3)),
      in_process_target: 1.3,
      cli_ratio: Number(((mCli - mNode) / mSh).toFixed(3)),
      cli_target: 1.3,
      ratio: Number((mCli / mSh).toFixed(3)),
      breakdown_ms: {
        node_start: r1(mNode),
        cli_bundle_load: r1(mVer - mNode),
        git_processes_in_process: breakdown,
        git_total_in_process: r1(median(gitTotals)),
        in_process_outside_git: r1(mIn - median(gitTotals)),
      },
      cli_ms: cli.map(r1),
      script_ms: sh.map(r1),
      in_process_ms: inproc.map(r1),
    };
    console.log(`bash + git: median ${result.script_median_ms} ms; in-process publish: ${result.in_process_median_ms} ms, ratio ${result.in_process_ratio} (target <= 1.3)`);
    console.log(`kserve-canary set: ${result.cli_median_ms} ms; node -e 0: ${result.node_e0_median_ms} ms; (CLI - node -e 0) / script = ${result.cli_ratio} (target <= 1.3); CLI / script = ${result.ratio}`);
    console.log(`breakdown (medians, ms): node start ${result.breakdown_ms.node_start}, CLI bundle load ${result.breakdown_ms.cli_bundle_load}, git ${result.breakdown_ms.git_total_in_process} (${Object.entries(breakdown).map(([k, v]) => `${k} ${v}`).join(', ')}), outside git ${result.breakdown_ms.in_process_outside_git}; ${REPS} rounds`);
    if (process.env.KSC_BENCH_OUT) writeFileSync(process.env.KSC_BENCH_OUT, `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    sbCli.cleanup();
    sbSh.cleanup();
    sbIn.cleanup();
    cleanupBundle();
  }
}

void mainBench().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
