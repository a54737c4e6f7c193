/**
 * Publishing one canary change (pull, edit, commit, push to a local bare remote), measured in
 * one run against the same change made by hand with plain git in a bash script
 * (git pull --rebase, sed, git add, git commit, git push):
 * - the extension's path: publishCanaryChange in this process (modules loaded, no process start);
 * - the CLI: `node dist/cli.js set` (a process start), with its code cache (src/cli/bundle-cache.ts,
 *   in a folder of this run, made by the warm-up rounds) and without it (KSC_COMPILE_CACHE=off:
 *   every start compiles the bundle, as before the cache), with `node -e 0`,
 *   `node dist/cli.js --version` (the dispatcher) and `set --help` (the dispatcher and the set
 *   group's bundle, nothing run) measured beside it for the breakdown, and one more `set` per
 *   round with bench/cli-probe.js preloaded, for the CLI's own git processes (not timed itself).
 * Each round runs all of them in a rotating order after warm-ups; each publishing side has its
 * own identical bare remote and clone. Ratios (medians):
 *   in_process_ratio = in-process / script                 target <= 1.3
 *   cli_ratio        = (CLI - node -e 0) / script           target <= 1.3 (CLI <= node -e 0 + 1.3 x script)
 *   cli_ratio_no_code_cache: the same for the CLI without its code cache
 * The breakdown (medians, ms): node's start (node -e 0), the dispatcher's load (--version - node -e 0),
 * the set group's load (set --help - --version), each git process of the CLI and of the in-process
 * publish, their git wall times (overlapping processes counted once) and the rest of the CLI
 * (CLI - node -e 0 - set group load - dispatcher - git wall: parsing, checks, the edit, output;
 * small, even below 0, since the CLI loads yaml and parses config.yaml while its first git
 * processes run, src/core/publish.ts).
 * The differences are paired: the median over rounds of the difference within each round.
 * KSC_BENCH_CLI_BEFORE=<dir>/cli.js: also run that build's `set` (e.g. one of an earlier commit), for
 * before/after figures from one run (before_median_ms, before_cli_ratio).
 * JSON to $KSC_BENCH_OUT.
 *   npm run bench -- publish          (KSC_BENCH_REPS=30 for more repetitions)
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
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

/** The median over rounds of a[k] - b[k] (both measured in round k). */
function paired(a: number[], b: number[]): number {
  return median(a.map((x, k) => x - b[k]!));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Wraps the runner's spawn to time each git process of the in-process publish: [subcommand, start, end]. */
function traceGit(): { take(): Span[] } {
  const proto = GitRunner.prototype as unknown as { spawnGit: (args: string[], ...rest: unknown[]) => Promise<string> };
  const orig = proto.spawnGit;
  let log: Span[] = [];
  proto.spawnGit = async function (this: unknown, args: string[], ...rest: unknown[]) {
    const t0 = performance.now();
    try {
      return await orig.call(this, args, ...rest);
    } finally {
      log.push([args.filter((a, i) => !(a === '-c' || args[i - 1] === '-c'))[0] ?? '?', t0, performance.now()]);
    }
  };
  return { take: () => [log, (log = [])][0] };
}

const r1 = (x: number) => Number(x.toFixed(1));

/** One git process: [subcommand, spawned, exited] (ms). */
type Span = [string, number, number];
/** One probe run's line (bench/cli-probe.js). */
interface Probe {
  boot: number;
  git: Span[];
  end: number;
}

/** Time covered by at least one of the processes (overlapping ones, e.g. the fetch beside git status, counted once). */
function unionMs(spans: Span[]): number {
  let total = 0;
  let until = -Infinity;
  for (const [, a, b] of [...spans].sort((x, y) => x[1] - y[1])) {
    if (b <= until) continue;
    total += b - Math.max(a, until);
    until = b;
  }
  return total;
}

/** Median per process, named by subcommand (a second one of a kind gets #2). */
function perProcess(runs: Span[][]): Record<string, number> {
  const times = new Map<string, number[]>();
  for (const procs of runs) {
    const seen = new Map<string, number>();
    for (const [cmd, a, b] of procs) {
      const d = b - a;
      const n = (seen.get(cmd) ?? 0) + 1;
      seen.set(cmd, n);
      const key = n === 1 ? cmd : `${cmd}#${n}`;
      times.set(key, [...(times.get(key) ?? []), d]);
    }
  }
  return Object.fromEntries([...times].map(([k, v]) => [k, r1(median(v))]));
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
  const sbCold = makeSandbox();
  const beforeJs = process.env.KSC_BENCH_CLI_BEFORE;
  const sbBefore = makeSandbox();
  const sbProbe = makeSandbox();
  const sbSh = makeSandbox();
  const sbIn = makeSandbox();
  const trace = traceGit();
  try {
    const cliClone = sbCli.clone('user');
    const coldClone = sbCold.clone('user');
    const beforeClone = sbBefore.clone('user');
    const probeClone = sbProbe.clone('user');
    const shClone = sbSh.clone('user');
    const inClone = sbIn.clone('user');
    const script = path.join(sbSh.dir, 'canary.sh');
    writeFileSync(script, SCRIPT);
    chmodSync(script, 0o755);
    // The CLI's code cache in a folder of this run (the warm-up rounds fill it), and none at all.
    const cached = { ...env, KSC_COMPILE_CACHE: path.join(sbCli.dir, 'v8-cache') };
    const uncached = { ...env, KSC_COMPILE_CACHE: 'off' };
    const probeOut = path.join(sbProbe.dir, 'probe.jsonl');
    const probed = { ...cached, KSC_PROBE_OUT: probeOut };
    const probeJs = path.join(repoRoot, 'bench', 'cli-probe.js');

    const cli: number[] = [];
    const cold: number[] = [];
    const before: number[] = [];
    const sh: number[] = [];
    const inproc: number[] = [];
    const node0: number[] = [];
    const version: number[] = [];
    const help: number[] = [];
    const probeWall: number[] = []; // timed, not reported (the probe adds its own load)
    const inGit: Span[][] = [];
    const gitTotals: number[] = [];
    for (let i = 0; i < WARMUP + REPS; i++) {
      const percent = String(20 + (i % 60)); // always a real change
      const set = ['set', 'jukebox', percent, '--env', 'test'];
      type Run = [number[], () => Promise<number> | number];
      const runs: Run[] = [
        [cli, () => timed(process.execPath, [cliJs, ...set], cliClone, cached)],
        [cold, () => timed(process.execPath, [cliJs, ...set], coldClone, uncached)],
        ...(beforeJs ? [[before, () => timed(process.execPath, [beforeJs, ...set], beforeClone, cached)] as Run] : []),
        [probeWall, () => timed(process.execPath, ['--require', probeJs, cliJs, ...set], probeClone, probed)],
        [sh, () => timed('bash', [script, shClone, percent], shClone, env)],
        [node0, () => timed(process.execPath, ['-e', '0'], shClone, env)],
        [version, () => timed(process.execPath, [cliJs, '--version'], shClone, cached)],
        [help, () => timed(process.execPath, [cliJs, 'set', '--help'], shClone, cached)],
        [
          inproc,
          async () => {
            trace.take();
            const t0 = performance.now();
            await publishCanaryChange({ root: inClone, env: 'test', model: 'jukebox', action: { kind: 'set', percent: Number(percent) }, processEnv: env });
            const ms = performance.now() - t0;
            const procs = trace.take();
            if (i >= WARMUP) {
              gitTotals.push(unionMs(procs));
              inGit.push(procs);
            }
            return ms;
          },
        ],
      ];
      // Rotate the order each round, so no side always runs first (or after the same neighbour).
      for (let k = 0; k < runs.length; k++) {
        const [into, run] = runs[(k + i) % runs.length]!;
        const ms = await run();
        if (i >= WARMUP) into.push(ms);
      }
      if (i === WARMUP - 1) writeFileSync(probeOut, ''); // the probe lines of the timed rounds only
      for (const [clone, sb] of [
        [cliClone, sbCli],
        [coldClone, sbCold],
        ...(beforeJs ? [[beforeClone, sbBefore] as const] : []),
        [probeClone, sbProbe],
        [shClone, sbSh],
        [inClone, sbIn],
      ] as const) {
        const remote = spawnSync('git', ['show', `main:${TEST_CONFIG_REL}`], { cwd: sb.remote, env, encoding: 'utf8' }).stdout;
        if (!remote.includes(`trafficPercent: ${percent} `) || readText(clone, TEST_CONFIG_REL) !== remote) {
          throw new Error(`run ${i}: the remote of ${clone} does not hold ${percent}%`);
        }
      }
    }
    const [mCli, mCold, mSh, mIn, mNode, mVer, mHelp] = [cli, cold, sh, inproc, node0, version, help].map(median) as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const breakdown = perProcess(inGit);
    const probes = readFileSync(probeOut, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Probe);
    if (probes.length !== REPS) throw new Error(`expected ${REPS} probe lines, got ${probes.length}`);
    const cliGit = perProcess(probes.map((p) => p.git));
    const cliGitWall = median(probes.map((p) => unionMs(p.git)));
    const cliGitCount = median(probes.map((p) => p.git.length));
    const result = {
      benchmark: 'publish',
      description:
        'publish one canary change: in-process publishCanaryChange and kserve-canary set (node dist/cli.js) vs a bash script (git pull --rebase, sed, add, commit, push), local bare remote, one run',
      repetitions: REPS,
      script_median_ms: r1(mSh),
      in_process_median_ms: r1(mIn),
      cli_median_ms: r1(mCli),
      cli_no_code_cache_median_ms: r1(mCold),
      ...(beforeJs
        ? { before_cli: beforeJs, before_median_ms: r1(median(before)), before_cli_ratio: Number(((median(before) - mNode) / mSh).toFixed(3)) }
        : {}),
      node_e0_median_ms: r1(mNode),
      cli_version_median_ms: r1(mVer),
      cli_set_help_median_ms: r1(mHelp),
      in_process_ratio: Number((mIn / mSh).toFixed(3)),
      in_process_target: 1.3,
      cli_ratio: Number(((mCli - mNode) / mSh).toFixed(3)),
      cli_ratio_no_code_cache: Number(((mCold - mNode) / mSh).toFixed(3)),
      cli_target: 1.3,
      ratio: Number((mCli / mSh).toFixed(3)),
      breakdown_ms: {
        node_start: r1(mNode),
        cli_bundle_load: r1(paired(version, node0)),
        cli_set_group_load: r1(paired(help, version)),
        cli_git_processes: cliGit,
        cli_git_process_count: cliGitCount,
        cli_git_wall: r1(cliGitWall),
        cli_outside_git: r1(median(cli.map((c, k) => c - help[k]! - unionMs(probes[k]!.git)))),
        git_processes_in_process: breakdown,
        git_wall_in_process: r1(median(gitTotals)),
        in_process_outside_git: r1(paired(inproc, gitTotals)),
      },
      cli_ms: cli.map(r1),
      cli_no_code_cache_ms: cold.map(r1),
      script_ms: sh.map(r1),
      in_process_ms: inproc.map(r1),
    };
    console.log(
      `bash + git: median ${result.script_median_ms} ms; in-process publish: ${result.in_process_median_ms} ms, ratio ${result.in_process_ratio} (target <= 1.3)`,
    );
    const list = (o: Record<string, number>) =>
      Object.entries(o)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
    const b = result.breakdown_ms;
    console.log(
      `kserve-canary set: ${result.cli_median_ms} ms; node -e 0: ${result.node_e0_median_ms} ms; (CLI - node -e 0) / script = ${result.cli_ratio} (target <= 1.3); CLI / script = ${result.ratio}`,
    );
    console.log(`  without its code cache: ${result.cli_no_code_cache_median_ms} ms, (CLI - node -e 0) / script = ${result.cli_ratio_no_code_cache}`);
    if (beforeJs) console.log(`  ${beforeJs}: ${result.before_median_ms} ms, (CLI - node -e 0) / script = ${result.before_cli_ratio}`);
    console.log(
      `CLI breakdown (medians, ms): node start ${b.node_start}, dispatcher load ${b.cli_bundle_load}, set group load ${b.cli_set_group_load}, git wall ${b.cli_git_wall} (${b.cli_git_process_count} processes: ${list(cliGit)}), the rest ${b.cli_outside_git}`,
    );
    console.log(
      `in-process breakdown (medians, ms): git wall ${b.git_wall_in_process} (${list(breakdown)}), outside git ${b.in_process_outside_git}; ${REPS} rounds`,
    );
    if (process.env.KSC_BENCH_OUT) writeFileSync(process.env.KSC_BENCH_OUT, `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    sbCli.cleanup();
    sbCold.cleanup();
    sbBefore.cleanup();
    sbProbe.cleanup();
    sbSh.cleanup();
    sbIn.cleanup();
    cleanupBundle();
  }
}

void mainBench().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
