/**
 * The split comparisons of the derivation (pure): describing a desired or a live split in
 * words (`prev 50% · latest 50%`), and deciding whether the cluster serves the
 * canaryTrafficPercent git renders (spec, rollout, Knative traffic). See derive.ts for the rules.
 */
import type { ServiceState } from './types';

/** `prev 50% · latest 50%` for a percent the chart renders (undefined = no canary). */
export function describeDesired(percent: number | undefined): string {
  if (percent === undefined) return 'latest 100% (no canary)';
  if (percent >= 100) return 'latest 100%';
  return `prev ${100 - percent}% · latest ${percent}%`;
}

/** What the cluster serves, e.g. `prev 50% · latest 50%`. */
export function describeLive(s: Pick<ServiceState, 'prevPercent' | 'latestPercent' | 'traffic'>): string {
  if (s.traffic.length === 0) return 'no traffic reported';
  const parts: string[] = [];
  if (s.prevPercent !== undefined) parts.push(`prev ${s.prevPercent}%`);
  if (s.latestPercent !== undefined) parts.push(`latest ${s.latestPercent}%`);
  if (parts.length === 0) return s.traffic.map((t) => `${t.revisionName ?? '?'} ${t.percent ?? 0}%`).join(' · ');
  return parts.join(' · ');
}

// One home for the short sha (src/core/format.ts); re-exported for the derivation's callers.
export { shortSha } from '../core/format';

export type SplitInput = Pick<
  ServiceState,
  'traffic' | 'prevPercent' | 'latestPercent' | 'latestRevision' | 'latestRolledoutRevision' | 'previousRolledoutRevision'
>;

/** Is the Knative traffic what canaryTrafficPercent `percent` gives (PREV empty or 0 both accepted at 100)? */
export function splitMatches(s: SplitInput, percent: number | undefined): boolean {
  const prev = s.prevPercent ?? 0;
  const latest = s.latestPercent ?? 0;
  // No earlier rolled-out revision (first deployment): KServe has nothing to split with.
  const noPrevious =
    s.prevPercent === undefined &&
    s.traffic.every((t) => t.latestRevision) &&
    (s.latestRolledoutRevision === undefined || (s.latestRolledoutRevision === s.latestRevision && s.previousRolledoutRevision === undefined));
  if (percent === undefined || percent >= 100) return latest === 100 && prev === 0;
  if (noPrevious) return latest === 100; // nothing to split with yet: KServe serves the only revision
  return latest === percent && prev === 100 - percent;
}

/**
 * Does the cluster serve `percent` (the canaryTrafficPercent git renders; undefined = none)?
 * Checks the applied spec, that KServe is not rolling out, and the traffic split (only in
 * Knative/Serverless mode).
 */
export function liveMatches(
  s: Pick<ServiceState, 'specPercent' | 'rollingOut' | 'canarySupported' | 'generation'> & SplitInput,
  percent: number | undefined,
): { ok: boolean; specOk: boolean; why: string } {
  if (s.specPercent !== percent) {
    const have = s.specPercent === undefined ? 'no canaryTrafficPercent' : `canaryTrafficPercent ${s.specPercent}`;
    const want = percent === undefined ? 'none' : String(percent);
    return { ok: false, specOk: false, why: `the cluster's spec has ${have}, git asks for ${want}` };
  }
  if (s.rollingOut) return { ok: false, specOk: true, why: `KServe is still rolling out${s.generation !== undefined ? ` generation ${s.generation}` : ''}` };
  if (!s.canarySupported) return { ok: true, specOk: true, why: 'spec matches' };
  if (s.traffic.length === 0) return { ok: false, specOk: true, why: 'KServe reports no traffic yet' };
  const ok = splitMatches(s, percent);
  return { ok, specOk: true, why: ok ? 'traffic matches' : `traffic is ${describeLive(s)}, git asks for ${describeDesired(percent)}` };
}
