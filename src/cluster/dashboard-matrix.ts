/**
 * The range query's wire format (`/api/v1/query_range`): the parameters sent and the matrix
 * answered, `{"resultType":"matrix","result":[{"metric":{…},"values":[[ts,"v"],…]}]}`. Used by
 * the MetricsClient (metrics.ts) and the dashboard's queries (dashboard-metrics.ts). Also the
 * client's https agent: the trusted CAs (system roots + extra) made into one TLS context once,
 * with keep-alive, instead of parsing some 150 root certificates for every connection (that
 * was most of a dashboard refresh's CPU, `npm run bench -- dashboard`).
 */
import https from 'node:https';
import tls from 'node:tls';

/** An https agent trusting the system roots and `ca`, verifying as usual (host name included). */
export function trustingAgent(ca: string | Buffer | (string | Buffer)[]): https.Agent {
  const secureContext = tls.createSecureContext({ ca: [...tls.rootCertificates, ...(Array.isArray(ca) ? ca : [ca])] });
  return new https.Agent({ keepAlive: true, secureContext });
}

/** Evaluation times start, start + step, … ≤ end (ms since the epoch). */
export interface PromRange {
  startMs: number;
  endMs: number;
  stepMs: number;
}

/** One series of a matrix: its labels and its points (time in ms, value; NaN as such). */
export interface PromSeries {
  metric: Record<string, string>;
  points: Array<[number, number]>;
}

export interface PromData {
  resultType?: string;
  result?: unknown;
}

/** The query parameters of a range (Unix seconds; the step in seconds). */
export function rangeParams(r: PromRange): Record<string, string> {
  if (!(r.stepMs > 0) || !(r.endMs >= r.startMs)) throw new RangeError('a range needs endMs ≥ startMs and a positive stepMs');
  return { start: String(r.startMs / 1000), end: String(r.endMs / 1000), step: String(r.stepMs / 1000) };
}

/** The series of a matrix answer, or undefined when the answer has another shape. */
export function matrixOf(data: PromData | undefined): PromSeries[] | undefined {
  if (!data || data.resultType !== 'matrix' || !Array.isArray(data.result)) return undefined;
  const out: PromSeries[] = [];
  for (const r of data.result as unknown[]) {
    const x = r as { metric?: Record<string, string>; values?: unknown };
    if (!x || typeof x !== 'object' || !Array.isArray(x.values)) return undefined;
    const points: Array<[number, number]> = [];
    for (const p of x.values as unknown[]) {
      if (!Array.isArray(p) || p.length < 2 || typeof p[0] !== 'number' || typeof p[1] !== 'string') return undefined;
      points.push([Math.round(p[0] * 1000), Number(p[1])]);
    }
    out.push({ metric: x.metric ?? {}, points });
  }
  return out;
}
