/**
 * The canary dashboard's refresh loop (issue 16) against the idle store, same process, same run:
 * one cluster store connected to the sandbox (run in a child process, with inference and its
 * Prometheus), first idle for the measuring time (the baseline), then with loadDashboard()
 * every 5 s for test/jukebox (window 15m, a traffic history kept), as the open panel does.
 * Reported: Prometheus queries per minute (counted at the client) and CPU (this process plus
 * the git children it waited for, from /proc/self/stat) per second of each phase, and the
 * ratio panel / idle. Writes JSON to $KSC_BENCH_OUT.
 *   npm run bench -- dashboard      (KSC_BENCH_SECONDS=60 per phase by default)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClusterStore } from '../src/cluster/index';
import { loadDashboard } from '../src/cluster/dashboard';
import { createTrafficHistory } from '../src/cluster/dashboard-history';
import { createMetricsClient, type MetricsClient } from '../src/cluster/metrics';
import { readDashboardMetrics } from '../src/cluster/dashboard-metrics';
import { createCanaryHistoryReader } from '../src/core/canary-history';
import { alignRange } from '../src/core/dashboard-series';

const SECONDS = Math.max(10, Number(process.env.KSC_BENCH_SECONDS ?? 60));
const REFRESH_MS = 5000;

interface Info {
  kubeconfigPath: string;
  tokenFile: string;
  caFile: string;
  prometheusUrl: string;
  gitopsClone: string;
  serving: string;
}

/** The sandbox in its own process, so that its work is not counted here. */
async function sandbox(dir: string): Promise<{ info: Info; stop(): Promise<void> }> {
  const code = `
    const own = (m) => (m.default && !m.startSandbox && !m.INFERENCE_SERVICES ? m.default : m); // CommonJS through tsx
    Promise.all([import('./src/sandbox/index.ts'), import('./src/sandbox/resources.ts')]).then(async ([a, b]) => {
      const { startSandbox } = own(a);
      const { INFERENCE_SERVICES } = own(b);
      const sb = await startSandbox({ dir: ${JSON.stringify(dir)}, inference: true });
      const isvc = sb.controller.store.mustGet(INFERENCE_SERVICES, 'user1-test', 'jukebox');
      process.stdout.write(JSON.stringify({ kubeconfigPath: sb.kubeconfigPath, tokenFile: sb.tokenFile, caFile: sb.caFile, prometheusUrl: sb.prometheusUrl, gitopsClone: sb.gitopsClone, serving: isvc.status.url }) + '\\n');
      process.on('SIGTERM', () => sb.stop().then(() => process.exit(0)));
    });
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: path.resolve(import.meta.dirname, '..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const info = await new Promise<Info>((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += String(d);
      if (buf.includes('\n')) resolve(JSON.parse(buf.split('\n')[0]!) as Info);
    });
    child.once('exit', (c) => reject(new Error(`sandbox exited ${c}`)));
  });
  return {
    info,
    stop: () =>
      new Promise((r) => {
        child.once('exit', () => r());
        child.kill('SIGTERM');
      }),
  };
}

/** CPU ms of this process and of its waited-for children (git) so far. */
function cpuMs(): { self: number; children: number } {
  const u = process.cpuUsage();
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  const tick = 100; // USER_HZ on Linux
  const children = ((Number(fields[13]) + Number(fields[14])) * 1000) / tick;
  return { self: (u.user + u.system) / 1000, children };
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ksc-bench-dashboard-'));
  const sb = await sandbox(dir);
  const store = await createClusterStore({
    settings: { kubeconfigPath: sb.info.kubeconfigPath },
    gitops: { root: sb.info.gitopsClone },
    env: { ...process.env, HOME: dir },
  });
  try {
    await store.ready();
    // traffic first, so that the queries return series (80/20 split)
    for (let i = 0; i < 100; i++) await (await fetch(`${sb.info.serving}/v2/models/jukebox/infer`, { method: 'POST', body: '{"inputs":[]}' })).arrayBuffer();
    const inner = createMetricsClient({ url: sb.info.prometheusUrl, token: readFileSync(sb.info.tokenFile, 'utf8').trim(), ca: readFileSync(sb.info.caFile) });
    let queries = 0;
    const metrics: MetricsClient = {
      baseUrl: inner.baseUrl,
      query: (q, s) => {
        queries++;
        return inner.query(q, s);
      },
      queryRange: (q, r, s) => {
        queries++;
        return inner.queryRange!(q, r, s);
      },
    };
    const key = store.find('test', 'jukebox')!.key;
    const load = (history: ReturnType<typeof createTrafficHistory>) =>
      loadDashboard({
        store,
        metrics,
        root: sb.info.gitopsClone,
        env: 'test',
        model: 'jukebox',
        window: '15m',
        history,
        processEnv: { ...process.env, HOME: dir },
      });
    // warm-up (module loading, first git reads), not measured
    // (the window ends at the last 30 s step: the traffic shows once a step follows it)
    const warm = createTrafficHistory(store, key);
    let first = await load(warm);
    for (const until = Date.now() + 90_000; !(first.observed.ok && first.observed.data.length) && Date.now() < until; first = await load(warm))
      await delay(1000);
    warm.dispose();
    if (!first.observed.ok || !first.observed.data.length) throw new Error(`the dashboard shows no observed split: ${JSON.stringify(first.observed)}`);

    const phase = async (name: string, work: (end: number) => Promise<number>) => {
      queries = 0;
      const c0 = cpuMs();
      const t0 = Date.now();
      const loads = await work(t0 + SECONDS * 1000);
      const s = (Date.now() - t0) / 1000;
      const c1 = cpuMs();
      const r = {
        name,
        seconds: Math.round(s * 10) / 10,
        loads,
        queriesPerMin: Math.round((queries / s) * 60 * 10) / 10,
        cpuMsPerS: Math.round(((c1.self - c0.self) / s) * 100) / 100,
        gitCpuMsPerS: Math.round(((c1.children - c0.children) / s) * 100) / 100,
      };
      console.log(
        `${name}: ${r.loads} loads, ${r.queriesPerMin} Prometheus queries/min, CPU ${r.cpuMsPerS} ms/s (+ git children ${r.gitCpuMsPerS} ms/s) over ${r.seconds} s`,
      );
      return r;
    };
    const idle = await phase('idle store', async (end) => {
      await delay(end - Date.now());
      return 0;
    });
    const panel = await phase('store + dashboard every 5 s', async (end) => {
      const history = createTrafficHistory(store, key);
      let n = 0;
      while (Date.now() < end) {
        const next = Date.now() + REFRESH_MS;
        const m = await load(history);
        if (!m.observed.ok || !m.p95.ok || !m.desired.ok) throw new Error('a section failed during the bench');
        n++;
        await delay(Math.max(0, Math.min(next, end) - Date.now()));
      }
      history.dispose();
      return n;
    });
    // where a load's CPU goes: 10 runs of each part alone (after the phases, not in them)
    const per = async (what: () => Promise<unknown>) => {
      const c0 = cpuMs();
      for (let i = 0; i < 10; i++) await what();
      const c1 = cpuMs();
      return Math.round(((c1.self - c0.self + c1.children - c0.children) / 10) * 10) / 10;
    };
    const reader = createCanaryHistoryReader();
    const parts = {
      gitHistoryMs: await per(() =>
        reader.read({ root: sb.info.gitopsClone, env: 'test', model: 'jukebox', since: Date.now() - 900_000, processEnv: { ...process.env, HOME: dir } }),
      ),
      prometheusMs: await per(() => readDashboardMetrics(metrics, { namespace: 'user1-test', name: 'jukebox' }, alignRange('15m', Date.now()))),
      wholeLoadMs: await per(() => load(createTrafficHistory(store, key))),
    };
    console.log(
      `CPU per call (ms, incl. git children): git history ${parts.gitHistoryMs}, the two Prometheus range queries ${parts.prometheusMs}, a whole loadDashboard ${parts.wholeLoadMs}`,
    );
    const total = (p: typeof idle) => p.cpuMsPerS + p.gitCpuMsPerS;
    const ratio = Math.round((total(panel) / Math.max(0.01, total(idle))) * 100) / 100;
    console.log(
      `ratio CPU (incl. git) panel / idle: ${ratio}x; CPU added by the panel: ${Math.round((total(panel) - total(idle)) * 100) / 100} ms/s (${Math.round(((total(panel) - total(idle)) / 10) * 100) / 100}% of one core)`,
    );
    if (process.env.KSC_BENCH_OUT) writeFileSync(process.env.KSC_BENCH_OUT, JSON.stringify({ idle, panel, ratio, refreshMs: REFRESH_MS, parts }, null, 2));
  } finally {
    store.dispose();
    await sb.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
