/**
 * The timing-dependent bounds that used to sit inside tests, measured here as ratios (each
 * against a limit written next to it; nothing here fails a test run):
 *  (a) coalescing: store change events per InferenceService created in a burst of 300
 *      (was store-events.test.ts; limit 0.1);
 *  (b) restarts: lists per watch per sandbox restart over 10 restarts (was
 *      sandbox-resilience.test.ts; limit 4);
 *  (c) a window of HTTP 500: failed attempts per watch per second of the window (was
 *      sandbox-resilience.test.ts; limit 2);
 *  (d) injected delay: answer time / injected delay of a sandbox answer (was
 *      sandbox/client.test.ts; limit >= 0.8);
 *  (e) latency gate: p95 read through Prometheus / latency the revision was given
 *      (was sandbox/inference.test.ts; within 0.8 … 1.25).
 * Writes JSON to $KSC_BENCH_OUT.   npm run bench -- bounds   (KSC_BENCH_500_SECONDS, default 10)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createMetricsClient, readGates } from '../src/cluster/metrics';
import { INFERENCE_SERVICES } from '../src/sandbox/resources';
import { converged, sandboxAndStore, until } from '../test/cluster/sandbox-helpers';

const WINDOW_500_S = Number(process.env.KSC_BENCH_500_SECONDS ?? 10);
const r3 = (x: number) => Math.round(x * 1000) / 1000;
type Ctx = Awaited<ReturnType<typeof sandboxAndStore>>;
const sum = (ctx: Ctx, k: 'lists' | 'failures') => ctx.store.stats().reduce((n, s) => n + s[k], 0);

async function coalescing(ctx: Ctx) {
  await converged(ctx.sb, ctx.store);
  ctx.sb.controller.kserve.stop();
  const events: string[][] = [];
  const off = ctx.store.onDidChangeServices((k) => events.push(k));
  const names = Array.from({ length: 300 }, (_, i) => `bench-burst-${i}`);
  for (const name of names)
    ctx.sb.controller.store.create(INFERENCE_SERVICES, {
      metadata: { name, namespace: 'user1-test' },
      spec: { predictor: { model: { modelFormat: { name: 'onnx' } } } },
    });
  await until(() => names.every((n) => ctx.store.get(`user1-test/${n}`)), 'the burst in the store');
  off();
  ctx.sb.controller.kserve.start();
  return { events: events.length, changes: names.length, ratio: r3(events.length / names.length), limit: 0.1 };
}

async function restarts(ctx: Ctx) {
  const before = sum(ctx, 'lists');
  for (let i = 0; i < 10; i++) {
    await ctx.sb.restart();
    await converged(ctx.sb, ctx.store);
  }
  const watches = ctx.store.stats().length;
  const lists = sum(ctx, 'lists') - before;
  return { restarts: 10, watches, lists, ratio: r3(lists / (watches * 10)), limit: 4 };
}

async function window500(ctx: Ctx) {
  await until(() => ctx.store.connection().phase === 'connected', 'connected');
  const before = sum(ctx, 'failures');
  ctx.sb.faults.failRequests(WINDOW_500_S);
  ctx.sb.faults.dropWatches();
  await until(() => ctx.store.connection().phase === 'disconnected', 'disconnected');
  await until(() => ctx.store.connection().phase === 'connected', 'connected again', (WINDOW_500_S + 30) * 1000);
  const watches = ctx.store.stats().length;
  const failures = sum(ctx, 'failures') - before;
  return { seconds: WINDOW_500_S, watches, failures, ratio: r3(failures / (watches * WINDOW_500_S)), limit: 2 };
}

async function injectedDelay(ctx: Ctx) {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(ctx.sb.kubeconfigPath);
  const api = kc.makeApiClient(k8s.CustomObjectsApi);
  const list = () => api.listClusterCustomObject({ group: 'serving.kserve.io', version: 'v1beta1', plural: 'inferenceservices' });
  const ratios: number[] = [];
  for (const delay of [100, 300, 600]) {
    ctx.sb.faults.setDelay(delay);
    const t0 = performance.now();
    await list();
    ratios.push((performance.now() - t0) / delay);
  }
  ctx.sb.faults.setDelay(0);
  return { delays_ms: [100, 300, 600], ratios: ratios.map(r3), min_ratio: r3(Math.min(...ratios)), limit: 0.8 };
}

async function latencyGate() {
  const ctx = await sandboxAndStore({ inference: true });
  try {
    const rev = 'jukebox-predictor-00002';
    const latencyMs = 120;
    ctx.sb.controller.setRevisionBehavior('user1-test', rev, { latencyMs });
    const o = ctx.sb.controller.store.mustGet(INFERENCE_SERVICES, 'user1-test', 'jukebox');
    const url = (o.status as { url: string }).url;
    const body = JSON.stringify({ inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }] });
    for (let i = 0; i < 100; i++) {
      await fetch(`${url}/v2/models/jukebox/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then((r) => r.arrayBuffer());
    }
    const client = createMetricsClient({ url: ctx.sb.prometheusUrl!, token: readFileSync(ctx.sb.tokenFile, 'utf8').trim() });
    const g = await readGates(client, { namespace: 'user1-test', revision: rev, windowMs: 60_000 });
    return { configured_ms: latencyMs, p95_ms: g.p95Ms, ratio: g.p95Ms === undefined ? null : r3(g.p95Ms / latencyMs), limits: [0.8, 1.25] };
  } finally {
    await ctx.close();
  }
}

async function main() {
  const ctx = await sandboxAndStore();
  const result: Record<string, unknown> = {};
  try {
    await ctx.store.ready();
    result.coalescing = await coalescing(ctx);
    result.restarts = await restarts(ctx);
    result.window_500 = await window500(ctx);
    result.injected_delay = await injectedDelay(ctx);
  } finally {
    await ctx.close();
  }
  result.latency_gate = await latencyGate();
  console.log(JSON.stringify(result, null, 2));
  if (process.env.KSC_BENCH_OUT) writeFileSync(process.env.KSC_BENCH_OUT, `${JSON.stringify(result, null, 2)}\n`);
}

void main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
