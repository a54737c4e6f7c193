/**
 * The metric gates' judgement of the rollout engine (pure): one reading of a revision (error
 * rate, p95 latency, traffic) against the plan's thresholds gives pass, fail (naming the gate
 * and by how much) or inconclusive (no traffic, a failed query: never a pass).
 */
import { formatPercent, type Gates } from './plan';
import type { GateEvaluation, GateReading } from './rollout-types';

/** Judges one reading against the gates. No traffic or a failed query is inconclusive, never a pass. */
export function evaluateGates(g: Gates, r: GateReading): GateEvaluation {
  const parts: string[] = [];
  if (r.errorRate !== undefined) parts.push(`error rate ${formatPercent(r.errorRate)}`);
  if (r.p95Ms !== undefined) parts.push(`p95 ${formatMs(r.p95Ms)}`);
  if (r.rps !== undefined) parts.push(`${Math.round(r.rps * 100) / 100} req/s`);
  const measured = parts.length ? `${parts.join(', ')} on ${r.revision} over ${r.window}` : `on ${r.revision} over ${r.window}`;
  if (g.maxErrorRate !== undefined && r.errorRate !== undefined && r.errorRate > g.maxErrorRate) {
    const detail = `${formatPercent(r.errorRate)} > ${formatPercent(g.maxErrorRate)}`;
    return { verdict: 'fail', failed: { gate: 'error-rate', detail }, summary: `gate error-rate failed (${detail}): ${measured}` };
  }
  if (g.maxP95Ms !== undefined && r.p95Ms !== undefined && r.p95Ms > g.maxP95Ms) {
    const detail = `${formatMs(r.p95Ms)} > ${formatMs(g.maxP95Ms)}`;
    return { verdict: 'fail', failed: { gate: 'p95-latency', detail }, summary: `gate p95-latency failed (${detail}): ${measured}` };
  }
  if (r.problem) return { verdict: 'inconclusive', summary: `metrics could not be read: ${r.problem}` };
  if (!(r.rps !== undefined && r.rps > 0))
    return { verdict: 'inconclusive', summary: `no traffic reached ${r.revision} over ${r.window}, so the gates cannot be judged` };
  if (g.maxP95Ms !== undefined && r.p95Ms === undefined) return { verdict: 'inconclusive', summary: `no latency histogram for ${r.revision} over ${r.window}` };
  return { verdict: 'pass', summary: `gates passed: ${measured}` };
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10}s` : `${Math.round(ms)}ms`;
}
