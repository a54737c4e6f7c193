/**
 * The cluster layer against kubectl, same sandbox, same run (ratios; targets ≤ 1.0):
 *  (a) status change → store event, p50/p95, vs `kubectl get isvc -w` printing the same change;
 *  (b) initial sync of 500 namespaces × 20 InferenceServices (10,000) vs
 *      `kubectl get isvc -A -o json`, plus the heap the store holds for them;
 *  (c) cost of one update (change → store event) with N services loaded, N = 100 … 10,000:
 *      must not grow with N (ratio p50(10,000) / p50(100)).
 * The sandbox runs in this process; objects are bulk-created through its store (KServe and
 * Argo CD controllers stopped, statuses written directly). Writes JSON to $KSC_BENCH_OUT.
 *   npm run bench -- cluster      (KSC_BENCH_REPS=60 for more samples in (a))
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import { createClusterStore } from '../src/cluster/index';
import { loadClient } from '../src/cluster/kubeconfig';
import type { Store } from '../src/cluster/store';
import type { Sandbox } from '../src/sandbox/index';
import { openSandbox } from '../test/sandbox/helpers';
import { INFERENCE_SERVICES, NAMESPACES } from '../src/sandbox/resources';
import type { KObject } from '../src/sandbox/types';
import { until as poll } from '../test/poll';

const REPS = Math.max(20, Number(process.env.KSC_BENCH_REPS ?? 40));
const NAMESPACE_COUNT = 500;
const PER_NAMESPACE = 20;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}
const median = (xs: number[]) => pct(xs, 50);
const r2 = (x: number) => Math.round(x * 100) / 100;

/** test/poll.ts's until, polling every 2 ms: the latency measured is the event's, not the poll's. */
const until = (cond: () => boolean, what: string, ms = 120000): Promise<true> => poll(() => cond(), what, ms, 2);

function kubectl(sb: Sandbox, home: string, args: string[]): ChildProcess {
  return spawn('kubectl', ['--kubeconfig', sb.kubeconfigPath, ...args], { env: { PATH: process.env.PATH, HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
}

function runKubectl(sb: Sandbox, home: string, args: string[]): Promise<{ ms: number; bytes: number }> {
  const t0 = performance.now();
  const child = kubectl(sb, home, args);
  let bytes = 0;
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (bytes += c.length));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve, reject) =>
    child.on('exit', (code) =>
      code === 0 ? resolve({ ms: performance.now() - t0, bytes }) : reject(new Error(`kubectl ${args.join(' ')}: exit ${code}: ${err}`)),
    ),
  );
}

function setPercent(sb: Sandbox, ns: string, name: string, percent: number): void {
  const o = sb.controller.store.mustGet(INFERENCE_SERVICES, ns, name);
  const predictor = { ...((o.spec?.predictor as Record<string, unknown>) ?? {}), canaryTrafficPercent: percent };
  o.spec = { ...(o.spec ?? {}), predictor };
  delete o.metadata.resourceVersion;
  sb.controller.store.update(INFERENCE_SERVICES, o, ns);
}

async function newStore(sb: Sandbox, envs?: string[], user?: string): Promise<Store> {
  return createClusterStore({
    settings: { kubeconfigPath: sb.kubeconfigPath, ...(envs ? { environments: envs, user } : {}) },
    ...(envs ? {} : { gitops: { root: sb.gitopsClone } }),
    env: {},
    tuning: { watchKubeconfig: false, requestTimeoutMs: 120000 },
  });
}

/** (a) one change at a time, both watchers running. */
async function latency(sb: Sandbox, home: string) {
  const store = await newStore(sb);
  await store.ready();
  await until(() => store.get('user1-test/jukebox') !== undefined, 'jukebox in the store');
  const child = kubectl(sb, home, ['get', 'isvc', '-n', 'user1-test', '-w']);
  let lines = 0;
  let lastLineAt = 0;
  let buf = '';
  child.stdout?.on('data', (c: Buffer) => {
    buf += c.toString();
    const n = buf.split('\n').length - 1;
    if (n > 0) {
      lines += n;
      lastLineAt = performance.now();
      buf = buf.slice(buf.lastIndexOf('\n') + 1);
    }
  });
  await until(() => lines >= 2, 'kubectl header and first row');
  let storeAt = 0;
  let storeSeen = 0;
  const off = store.onDidChangeServices((keys) => {
    if (keys.includes('user1-test/jukebox')) {
      storeSeen++;
      storeAt = performance.now();
    }
  });
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let i = 0; i < REPS + 3; i++) {
    const l0 = lines;
    const s0 = storeSeen;
    const t0 = performance.now();
    setPercent(sb, 'user1-test', 'jukebox', 10 + (i % 80));
    await until(() => lines > l0 && storeSeen > s0, 'both watchers to see the change', 20000);
    if (i >= 3) {
      ours.push(storeAt - t0);
      theirs.push(lastLineAt - t0);
    }
    await new Promise((r) => setTimeout(r, 60)); // past the coalescing window: each change stands alone
  }
  off();
  child.kill();
  store.dispose();
  return {
    samples: ours.length,
    storeMs: { p50: r2(median(ours)), p95: r2(pct(ours, 95)) },
    kubectlMs: { p50: r2(median(theirs)), p95: r2(pct(theirs, 95)) },
    ratioP50: r2(median(ours) / median(theirs)),
    ratioP95: r2(pct(ours, 95) / pct(theirs, 95)),
  };
}

/** Bulk objects: namespaces bench-eNNN with services s00..s19, a realistic status each. */
function bulkCreate(sb: Sandbox, count: number, template: KObject, from: number): void {
  const st = sb.controller.store;
  for (let i = from; i < count; i++) {
    const ns = `bench-e${String(i % NAMESPACE_COUNT).padStart(3, '0')}`;
    const name = `s${String(Math.floor(i / NAMESPACE_COUNT)).padStart(2, '0')}`;
    if (!st.get(NAMESPACES, undefined, ns)) st.create(NAMESPACES, { metadata: { name: ns } });
    const created = st.create(INFERENCE_SERVICES, {
      metadata: { name, namespace: ns, annotations: template.metadata.annotations ?? {} },
      spec: template.spec ?? {},
    });
    created.status = JSON.parse(
      JSON.stringify(template.status ?? {})
        .split('jukebox')
        .join(name)
        .split('user1-test')
        .join(ns),
    );
    st.update(INFERENCE_SERVICES, created, ns, 'status');
  }
}

const ENVS = Array.from({ length: NAMESPACE_COUNT }, (_, i) => `e${String(i).padStart(3, '0')}`);

/** (b) initial sync of everything vs kubectl get isvc -A -o json. */
async function initialSync(sb: Sandbox, home: string) {
  await runKubectl(sb, home, ['get', 'isvc', '-A', '-o', 'json']); // warm-up (discovery cache)
  const ours: number[] = [];
  const theirs: number[] = [];
  let heapBytes = 0;
  let heapGrowth = 0;
  let bytes = 0;
  for (let i = 0; i < 3; i++) {
    const k = await runKubectl(sb, home, ['get', 'isvc', '-A', '-o', 'json']);
    theirs.push(k.ms);
    bytes = k.bytes;
    gc();
    const heap0 = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    const store = await newStore(sb, ENVS, 'bench');
    await store.ready();
    await until(() => store.services().length >= NAMESPACE_COUNT * PER_NAMESPACE, 'all services in the store');
    ours.push(performance.now() - t0);
    gc();
    const alive = process.memoryUsage().heapUsed;
    store.dispose();
    await new Promise((r) => setTimeout(r, 50));
    gc();
    heapGrowth = alive - heap0;
    heapBytes = alive - process.memoryUsage().heapUsed; // what the store itself holds
  }
  return {
    services: NAMESPACE_COUNT * PER_NAMESPACE,
    kubectlOutputBytes: bytes,
    storeMs: r2(median(ours)),
    kubectlMs: r2(median(theirs)),
    ratio: r2(median(ours) / median(theirs)),
    storeHeapMB: r2(heapBytes / 1024 / 1024),
    heapGrowthMB: r2(heapGrowth / 1024 / 1024),
    heapBytesPerService: Math.round(heapBytes / (NAMESPACE_COUNT * PER_NAMESPACE)),
  };
}

/** (c) one update's cost at several N. */
async function updateCost(sb: Sandbox, template: KObject) {
  const out: { n: number; p50: number; p95: number; storeWorkUsP50: number }[] = [];
  let created = 0;
  for (const n of [100, 1000, 5000, 10000]) {
    bulkCreate(sb, n, template, created);
    created = n;
    const store = await newStore(sb, ENVS, 'bench');
    await store.ready();
    await until(() => store.services().length >= n, `${n} services`);
    const key = 'bench-e000/s00';
    // the store's own work per update (observe + join + compare + queue), without the network
    const costs: number[] = [];
    const inner = store as unknown as { upsertIsvc: (k: string, o: unknown, rv: string | undefined) => void };
    const original = inner.upsertIsvc.bind(store);
    inner.upsertIsvc = (k, o, rv) => {
      const t = performance.now();
      original(k, o, rv);
      if (k === key) costs.push((performance.now() - t) * 1000);
    };
    let seen = 0;
    let at = 0;
    const off = store.onDidChangeServices((keys) => {
      if (keys.includes(key)) {
        seen++;
        at = performance.now();
      }
    });
    const xs: number[] = [];
    for (let i = 0; i < 33; i++) {
      const s0 = seen;
      const t0 = performance.now();
      setPercent(sb, 'bench-e000', 's00', 10 + (i % 80));
      await until(() => seen > s0, 'the update', 20000);
      if (i >= 3) xs.push(at - t0);
      await new Promise((r) => setTimeout(r, 60));
    }
    off();
    store.dispose();
    out.push({ n, p50: r2(median(xs)), p95: r2(pct(xs, 95)), storeWorkUsP50: r2(median(costs.slice(3))) });
  }
  const first = out[0]!;
  const last = out[out.length - 1]!;
  return { perN: out, ratioP50_10000_vs_100: r2(last.p50 / first.p50), storeWorkRatio_10000_vs_100: r2(last.storeWorkUsP50 / first.storeWorkUsP50) };
}

async function main(): Promise<void> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'ksc-bench-home-'));
  await loadClient(); // the extension loads it once; (b) measures the sync itself
  const sb = await openSandbox({ syncDelayMs: 100, rolloutDelayMs: 50, pollMs: 100 });
  try {
    await sb.controller.argo.stop();
    sb.controller.kserve.stop();
    const template = sb.controller.store.mustGet(INFERENCE_SERVICES, 'user1-test', 'jukebox');
    const a = await latency(sb, home);
    console.log(
      `(a) change → event  store p50 ${a.storeMs.p50} ms p95 ${a.storeMs.p95} ms | kubectl -w p50 ${a.kubectlMs.p50} ms p95 ${a.kubectlMs.p95} ms | ratio p50 ${a.ratioP50}, p95 ${a.ratioP95} (target ≤ 1.0)`,
    );
    const c = await updateCost(sb, template);
    for (const x of c.perN) console.log(`(c) N=${x.n}: one update → event p50 ${x.p50} ms, p95 ${x.p95} ms; the store's own work p50 ${x.storeWorkUsP50} µs`);
    console.log(
      `(c) ratio at 10,000 vs 100: end to end p50 ${c.ratioP50_10000_vs_100}, store work ${c.storeWorkRatio_10000_vs_100} (must not grow with N: ≈ 1)`,
    );
    const b = await initialSync(sb, home);
    console.log(
      `(b) initial sync of ${b.services} services: store ${b.storeMs} ms vs kubectl get isvc -A -o json ${b.kubectlMs} ms → ratio ${b.ratio} (target ≤ 1.0); store holds ${b.storeHeapMB} MB of heap (${b.heapBytesPerService} B/service; process heap grew ${b.heapGrowthMB} MB)`,
    );
    const result = { name: 'cluster', latency: a, initialSync: b, updateCost: c };
    if (process.env.KSC_BENCH_OUT) writeFileSync(process.env.KSC_BENCH_OUT, `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await sb.cleanup();
    rmSync(home, { recursive: true, force: true });
  }
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
