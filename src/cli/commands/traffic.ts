/**
 * `kserve-canary traffic <model> --env <env> --rps N --duration D [--payload file]`:
 * sends V2 inference requests to the model (src/core/loadgen.ts) and prints what came back.
 */
import { readModelConfig } from '../../core/config';
import { isCanaryError } from '../../core/errors';
import { findGitopsRoot } from '../../core/layout';
import { DEFAULT_PAYLOAD, LIMITS, describeTraffic, formatStatusCounts, readPayloadFile, type TrafficProgress } from '../../core/loadgen';
import { checkTrafficTarget, describeTarget } from '../../core/traffic-target';
import { isLoopbackUrl, loopbackTrafficPlan, sendTestTraffic, serviceTrafficPlan, type TrafficPlan } from '../../app/traffic';
import { validateName } from '../../core/names';
import { COMMON_OPTIONS, parse, requirePositional, requireString } from '../args';
import { CLUSTER_OPTIONS, CLUSTER_USAGE, connectStore } from '../cluster';
import { checkClusterOptions } from '../cluster-options';
import {
  durationOption,
  environmentOption,
  formatDocument,
  numberOption,
  outputOption,
  OUTPUT_OPTIONS,
  readScope,
  SCOPE_OPTIONS,
  SCOPE_USAGE,
} from '../options';
import type { CliCommand, CliIO } from '../command';
import { CLEAR_LINE, usageError, writeControl } from '../output';
import path from 'node:path';
import { SUMMARIES } from './summaries';

const EXAMPLE = 'traffic jukebox --env test --rps 10 --duration 1m';

function progressLine(p: TrafficProgress): string {
  const pct = Math.floor(((p.sent + p.skipped) / p.total) * 100);
  return `sent ${p.sent}/${p.total} (${pct}%) · answers ${formatStatusCounts(p.byStatus)}${p.errors ? ` · no answer ${p.errors}` : ''} · in flight ${p.inFlight}`;
}

export const trafficCommand: CliCommand = {
  name: 'traffic',
  summary: SUMMARIES.traffic,
  options: {
    ...COMMON_OPTIONS,
    ...CLUSTER_OPTIONS,
    ...SCOPE_OPTIONS,
    ...OUTPUT_OPTIONS,
    env: { type: 'string', short: 'e' },
    rps: { type: 'string' },
    duration: { type: 'string' },
    payload: { type: 'string' },
    url: { type: 'string' },
    concurrency: { type: 'string' },
    timeout: { type: 'string' },
  },
  usage: `Usage: kserve-canary traffic <model> --env <env> --rps <n> --duration <d> [options]

POSTs V2 inference requests (/v2/models/<model>/infer) to the model's InferenceService
URL at a fixed rate for a fixed time, then prints the answers by status code, the
latency (p50/p95) and, when the answers say so, which revision served them.
Ctrl-C stops at once and still prints what came back.

Options:
  -e, --env <env>            environment (required)
      --rps <n>              requests per second (required, up to 1000)
      --duration <d>         how long: 90 (seconds), 30s, 2m (required, up to 1h)
      --payload <file>       JSON request body (default: ${DEFAULT_PAYLOAD})
      --url <url>            send here instead of the URL the cluster reports: the
                             service's own URL or a loopback port-forward only
      --concurrency <n>      most requests in flight (default 2 x rps, at least 8)
      --timeout <d>          per request (default 10s)
      --json                 print the result as JSON
  -o, --output <f>           json | yaml | wide (wide: the same as the default text)
      --gitops <dir>         gitops checkout (to read the model's InferenceService name)
${CLUSTER_USAGE}
${SCOPE_USAGE}
  -h, --help                 show this help

Example:
  kserve-canary ${EXAMPLE}
`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const p = parse('traffic', argv, this.options, 1);
    if (p.values.help) {
      io.stdout(this.usage);
      return 0;
    }
    // Every option is checked before the first request (to the cluster or to the model).
    const model = validateName('model', requirePositional('traffic', p, 0, 'model', EXAMPLE));
    if (p.values.env === undefined && p.values.namespace === undefined) requireString('traffic', p.values, 'env', EXAMPLE);
    const scope = readScope('traffic', p.values, io);
    const format = outputOption('traffic', p.values);
    const rps = numberOption('traffic', p.values, 'rps', undefined, { min: 0.01, max: LIMITS.maxRps });
    if (rps === undefined) throw usageError('traffic: --rps is required.', `For example: kserve-canary ${EXAMPLE}`);
    const durationMs = durationOption('traffic', p.values, 'duration', undefined, { max: LIMITS.maxDurationMs });
    if (durationMs === undefined) throw usageError('traffic: --duration is required.', `For example: kserve-canary ${EXAMPLE}`);
    const concurrency = numberOption('traffic', p.values, 'concurrency', undefined, { whole: true, min: 1, max: LIMITS.maxConcurrency });
    const timeoutMs = durationOption('traffic', p.values, 'timeout', 10000, { max: 600_000 })!;
    const given = typeof p.values.url === 'string' ? p.values.url : undefined;
    if (given !== undefined) {
      try {
        // Checked up front as far as it can be without the cluster: a URL, http(s), no
        // credentials, never metadata / link-local; a non-loopback URL is judged against
        // the service's own URL once the cluster is read (target-not-allowed here).
        checkTrafficTarget({ url: given });
      } catch (e) {
        if (!isCanaryError(e)) throw e;
        if (e.code !== 'target-not-allowed') throw usageError(`traffic: --url: ${e.message}`, e.hint ?? 'Give the service URL or a loopback port-forward.');
      }
    }
    checkClusterOptions('traffic', p.values, io);
    const payload = typeof p.values.payload === 'string' ? await readPayloadFile(path.resolve(io.cwd, p.values.payload)) : DEFAULT_PAYLOAD;
    const root = typeof p.values.gitops === 'string' ? path.resolve(io.cwd, p.values.gitops) : findGitopsRoot(io.cwd, scope.deploymentsDir);
    const env = (await environmentOption('traffic', p.values, scope, root))!;

    // The InferenceService name (the model name KServe serves) from git when there is a checkout.
    let name = model;
    if (root) {
      try {
        name = (await readModelConfig(root, env, model, { deploymentsDir: scope.deploymentsDir })).name;
      } catch {
        // no such model in git: the folder name is the service name
      }
    }

    let plan: TrafficPlan;
    if (given !== undefined && isLoopbackUrl(given)) {
      plan = loopbackTrafficPlan(given, name);
    } else {
      const store = await connectStore(p.values, io, root);
      try {
        plan = serviceTrafficPlan(store, env, model, name, given);
      } finally {
        store.dispose();
      }
    }
    if (format === 'text' || format === 'wide') io.stdout(`Sending ${describeTarget(plan.checked, rps, durationMs)}: ${plan.target}\n`);
    const result = await sendTestTraffic(plan, {
      rps,
      durationMs,
      payload,
      timeoutMs,
      ...(concurrency !== undefined ? { concurrency } : {}),
      signal: io.signal,
      progressEveryMs: io.isTTY ? 500 : 5000,
      onProgress:
        format === 'json' || format === 'yaml'
          ? undefined
          : (pr) => {
              if (pr.phase === 'done') {
                if (io.isTTY) writeControl(io, CLEAR_LINE);
                return;
              }
              if (io.isTTY) writeControl(io, CLEAR_LINE);
              io.stdout(io.isTTY ? progressLine(pr) : `${progressLine(pr)}\n`);
            },
    });
    if (format === 'json' || format === 'yaml') io.stdout(formatDocument(format, result));
    else for (const line of describeTraffic(result)) io.stdout(`${line}\n`);
    const answered = Object.values(result.byStatus).reduce((a, b) => a + b, 0);
    if (answered === 0 && result.sent > 0) {
      io.stderr('error: no request got an answer.\n');
      return 1;
    }
    return result.aborted ? 1 : 0;
  },
};
