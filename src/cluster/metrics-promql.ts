/**
 * The PromQL vocabulary shared by the metrics queries: escaping values for label and regex
 * matchers, the error a Prometheus failure raises (MetricsError, fit for the user: no token),
 * and the one-line text of a failed query. Re-exported by metrics.ts.
 */
import { CanaryError } from '../core/errors';
import { redact } from '../core/redact';

/** A Prometheus failure, with a message fit for the user (no token). */
export class MetricsError extends CanaryError {
  constructor(code: string, message: string, hint: string, options?: { cause?: unknown }) {
    super('cluster', code, message, hint, options);
  }
}

/** Escapes a value for a PromQL double-quoted label matcher. */
export function promString(v: string): string {
  return JSON.stringify(v);
}

/** Escapes a literal for use inside a PromQL regex matcher (RE2, fully anchored). */
export function promRegexLiteral(v: string): string {
  return v.replace(/[\\.^$|?*+()[\]{}]/g, '\\$&');
}

/** A query failure for the user: our MetricsErrors as they are, anything else redacted. */
export function failureText(e: unknown): string {
  if (e instanceof MetricsError) return e.message;
  return redact(e instanceof Error ? e.message : String(e)).slice(0, 300);
}
