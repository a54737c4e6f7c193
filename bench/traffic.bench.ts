/**
 * Test traffic (src/core/loadgen.ts) against a loopback model server, with its baseline in
 * the same run:
 *
 *  1. Rate accuracy: requested vs achieved rate (sent / elapsed) at 50, 200 and 500 req/s for
 *     2 s each against a server answering at once. Ratio achieved/requested; target ≥ 0.95.
 *  2. Ceiling: the most requests per second sendTraffic completes (asked for 5000 req/s,
 *     concurrency 64) vs a bare keep-alive http.request loop with the same 64 requests in
 *     flight (the baseline: what node itself does on this machine). Target ratio ≥ 0.5.
 *
 * Prints both and writes a JSON summary to $KSC_BENCH_OUT.
 *   npm run bench -- traffic
 */
import http from 'node:http';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { LIMITS, sendTraffic, DEFAULT_PAYLOAD } from '../src/core/loadgen';

/** The model server runs in its own process, so it does not share the sender's event loop. */
async function server(): Promise<{ url: string; close(): Promise<void> }> {
  const code = `
    const http = require('node:http');
    const s = http.createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"outputs":[]}')); });
    s.keepAliveTimeout = 60000;
    s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));
  `;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
    child.once('exit', (c) => reject(new Error(`server exited ${c}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((r) => {
        child.once('exit', () => r());
        child.kill();
      }),
  };
}

/** The baseline: `inFlight` keep-alive loops posting the same body for `ms`. */
async function bare(url: string, inFlight: number, ms: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: inFlight });
  const target = new URL(`${url}/v2/models/m/infer`);
  const end = Date.now() + ms;
  let done = 0;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const r = http.request(
        target,
        { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(DEFAULT_PAYLOAD)) } },
        (res) => {
          res.resume();
          res.on('end', () => resolve());
        },
      );
      r.on('error', reject);
      r.end(DEFAULT_PAYLOAD);
    });
  const start = Date.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (Date.now() < end) {
        await one();
        done++;
      }
    }),
  );
  agent.destroy();
  return done / ((Date.now() - start) / 1000);
}

async function main(): Promise<void> {
  const srv = await server();
  try {
    const accuracy: { requested: number; achieved: number; ratio: number; answered: number }[] = [];
    for (const rps of [50, 200, 500]) {
      const r = await sendTraffic({ url: srv.url, model: 'm', rps, durationMs: 2000 });
      const answered = r.byStatus[200] ?? 0;
      // offered rate: requests over the time they took to leave (the first leaves at 0)
      const offered = (r.sent - 1) / (r.sendMs / 1000);
      accuracy.push({ requested: rps, achieved: Math.round(offered * 10) / 10, ratio: Math.round((offered / rps) * 1000) / 1000, answered });
      console.log(
        `rate ${rps} req/s: sent ${r.sent}/${r.total} at ${offered.toFixed(1)} req/s (${(offered / rps).toFixed(3)}x), answered ${answered}, p50 ${r.p50Ms} ms, p95 ${r.p95Ms} ms`,
      );
    }
    const warm = await bare(srv.url, 64, 500);
    void warm;
    const baseline = await bare(srv.url, 64, 3000);
    const ours = await sendTraffic({ url: srv.url, model: 'm', rps: LIMITS.maxRps, durationMs: 3000, concurrency: 64 });
    const oursRate = (ours.byStatus[200] ?? 0) / (ours.elapsedMs / 1000);
    // sendTraffic is capped at LIMITS.maxRps by design: compare with the baseline capped the same way.
    const ceiling = Math.min(baseline, LIMITS.maxRps);
    const ratio = oursRate / ceiling;
    console.log(
      `ceiling: sendTraffic ${oursRate.toFixed(0)} answered req/s (asked ${LIMITS.maxRps}, skipped ${ours.skipped}); bare keep-alive loop ${baseline.toFixed(0)} req/s (capped at ${LIMITS.maxRps} for the comparison: ${ceiling.toFixed(0)}); ratio ${ratio.toFixed(3)}`,
    );
    const result = {
      accuracy,
      ceiling: { ours: Math.round(oursRate), bare: Math.round(baseline), cap: LIMITS.maxRps, ratio: Math.round(ratio * 1000) / 1000, skipped: ours.skipped },
      targets: { accuracyRatioMin: 0.95, ceilingRatioMin: 0.5 },
      ok: accuracy.every((a) => a.ratio >= 0.95) && ratio >= 0.5,
    };
    if (process.env.KSC_BENCH_OUT) writeFileSync(process.env.KSC_BENCH_OUT, `${JSON.stringify(result, null, 2)}\n`);
    console.log(result.ok ? 'traffic bench: targets met' : 'traffic bench: targets NOT met');
  } finally {
    await srv.close();
  }
}

void main();
