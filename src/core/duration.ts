/**
 * The one duration syntax of the CLI's time options (--timeout, --window, --pause, --duration,
 * --sync-delay, ...): a bare number is seconds (`90`), else one or more number+unit parts with
 * the units ms, s, m, h (`500ms`, `30s`, `5m`, `1h`, `1h30m`, `1.5s`). Pure: no I/O.
 * Refused: negative numbers, empty text, unknown units (`1d`), spaces inside (`1 m`), a unit
 * twice (`1m2m`) or out of order (`30s1m`). Range checks (e.g. "more than 0") are the caller's.
 */

const UNIT_MS = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 } as const;
type Unit = keyof typeof UNIT_MS;
/** Largest first: a part's unit must be smaller than the one before it. */
const ORDER: Unit[] = ['h', 'm', 's', 'ms'];

/** Milliseconds, or undefined when `text` is not a duration. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  const parts = t.match(/\d+(?:\.\d+)?(?:ms|s|m|h)/g);
  if (!parts || parts.join('') !== t) return undefined;
  let total = 0;
  let last = -1;
  for (const part of parts) {
    const unit = /(ms|s|m|h)$/.exec(part)![1] as Unit;
    const rank = ORDER.indexOf(unit);
    if (rank <= last) return undefined;
    last = rank;
    total += Number(part.slice(0, part.length - unit.length)) * UNIT_MS[unit];
  }
  return Number.isFinite(total) ? Math.round(total) : undefined;
}

/** The text for a message: 90000 → `1m30s`, 1500 → `1.5s`, 250 → `250ms`. */
export function describeDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  return [h ? `${h}h` : '', m ? `${m}m` : '', s ? `${s}s` : ''].join('') || '0s';
}

export const DURATION_SYNTAX = '90 (seconds), 30s, 5m, 1h, 1h30m, 500ms';
