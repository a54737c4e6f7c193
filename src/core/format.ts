/**
 * Small text helpers shared by the extension, the CLI and the sandbox (one home, one test:
 * test/core/format.test.ts): a commit's short sha, a percent cell, and Kubernetes' human
 * duration (the AGE column of kubectl). Pure: no I/O.
 */

/** The first 7 characters of a commit sha; `absent` when there is none. */
export function shortSha(sha: string | undefined, absent = '?'): string {
  return sha ? sha.slice(0, 7) : absent;
}

/** `20%`, or `absent` when there is no number. */
export function pct(n: number | undefined, absent = '–'): string {
  return n === undefined ? absent : `${n}%`;
}

/**
 * The buckets of apimachinery's duration.HumanDuration, which kubectl prints as AGE:
 * 45s, 3m20s, 17m, 5h3m, 20h, 3d4h, 30d, 2y15d (2 to 8 years keep the days), 9y.
 * Up to one second into the future reads as 0s (clock skew); more is `<invalid>`.
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.floor(days / 365);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${years}y` : `${years}y${days % 365}d`;
  return `${years}y`;
}

/** kubectl's AGE of a timestamp: `<unknown>` without one (or unparsable). */
export function humanAge(from: string | undefined, now = Date.now()): string {
  const t = from ? Date.parse(from) : NaN;
  return Number.isNaN(t) ? '<unknown>' : humanDuration(now - t);
}
