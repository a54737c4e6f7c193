/**
 * The units a rollout plan writes (src/core/plan.ts): durations (`500ms`, `30s`, `1m30s`),
 * Prometheus range selectors for a window, and error-rate shares (`5%`, `0.05`).
 * Pure functions; re-exported by plan.ts.
 */

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60000, h: 3600000 };

/**
 * `500ms`, `30s`, `2m`, `1h`, `1m30s`. Returns ms, or undefined when the text is not a
 * duration. A bare number is refused: the unit must be written.
 */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(t)) return undefined;
  let total = 0;
  for (const m of t.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(m[1]) * UNITS[m[2]!]!;
  return Number.isFinite(total) ? Math.round(total) : undefined;
}

/** 90000 → `1m30s`, 500 → `500ms`, 0 → `0s`. The inverse of parseDuration for whole units. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  let s = Math.round(ms / 1000);
  const parts: string[] = [];
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (h) parts.push(`${h}h`);
  if (m) parts.push(`${m}m`);
  if (s || parts.length === 0) parts.push(`${s}s`);
  return parts.join('');
}

/** A Prometheus range selector for a window: whole seconds, at least 1s (`[90s]`). */
export function promRange(ms: number): string {
  return `${Math.max(1, Math.round(ms / 1000))}s`;
}

/** `5%` → 0.05, `0.05` → 0.05. Undefined when not a share from 0 to 1. */
export function parseRate(v: string | number): number | undefined {
  let n: number;
  if (typeof v === 'number') n = v;
  else {
    const t = v.trim();
    if (/^\d+(\.\d+)?%$/.test(t)) n = Number(t.slice(0, -1)) / 100;
    else if (/^\d+(\.\d+)?$/.test(t)) n = Number(t);
    else return undefined;
  }
  return Number.isFinite(n) && n >= 0 && n <= 1 ? n : undefined;
}
