/**
 * The rollout gates of one revision from Prometheus / Thanos (domain.md §5): the Knative
 * queue-proxy queries for its request rate, 5xx share and p95 latency over a window, and the
 * reading the rollout engine judges (src/core/rollout-gates.ts). Re-exported by metrics.ts.
 */
import { formatDuration, promRange } from '../core/plan';
import type { GateReading } from '../core/rollout';
import type { MetricsClient, PromSample } from './metrics';
import { failureText, promString } from './metrics-promql';

/** What the gates of one revision measured over a window (the engine's type, src/core/rollout.ts). */
export type { GateReading };

/** The label matchers of one Knative revision. */
export function revisionSelector(namespace: string, revision: string): string {
  return `namespace_name=${promString(namespace)},revision_name=${promString(revision)}`;
}

/** The three instant queries of the gates over `range` (a PromQL duration). */
export function gateQueries(namespace: string, revision: string, range: string): { total: string; errors: string; p95: string } {
  const sel = revisionSelector(namespace, revision);
  return {
    total: `sum(rate(revision_request_count{${sel}}[${range}]))`,
    errors: `sum(rate(revision_request_count{${sel},response_code_class="5xx"}[${range}]))`,
    p95: `histogram_quantile(0.95, sum by (le) (rate(revision_request_latencies_bucket{${sel}}[${range}])))`,
  };
}

/** Reads the error rate and p95 latency of a revision. Query failures land in `problem`. */
export async function readGates(
  client: MetricsClient,
  q: { namespace: string; revision: string; windowMs: number; signal?: AbortSignal },
): Promise<GateReading> {
  const range = promRange(q.windowMs);
  const queries = gateQueries(q.namespace, q.revision, range);
  const reading: GateReading = {
    revision: q.revision,
    window: formatDuration(q.windowMs),
    rps: undefined,
    errorRate: undefined,
    p95Ms: undefined,
    problem: undefined,
  };
  const one = (s: PromSample[]): number | undefined => {
    const v = s[0]?.value;
    return v !== undefined && Number.isFinite(v) ? v : undefined;
  };
  try {
    const [total, errors, p95] = await Promise.all([
      client.query(queries.total, q.signal),
      client.query(queries.errors, q.signal),
      client.query(queries.p95, q.signal),
    ]);
    reading.rps = one(total) ?? 0;
    if (reading.rps > 0) {
      reading.errorRate = Math.min(1, (one(errors) ?? 0) / reading.rps);
      reading.p95Ms = one(p95);
    }
  } catch (e) {
    reading.problem = failureText(e);
  }
  return reading;
}
