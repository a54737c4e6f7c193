import { CanaryError } from './errors';
import type { CanaryAction } from './types';

const PERCENT_HINT = 'Give a whole number from 0 to 100, e.g. 20 (20% of the traffic to the latest revision).';

/** Why `input` is not a traffic percent, or undefined when it is one. */
function percentProblem(input: string | number): string | undefined {
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) return 'is not a number';
    if (!Number.isInteger(input)) return 'is not a whole number';
    if (input < 0 || input > 100) return 'is outside 0..100';
    return undefined;
  }
  if (typeof input !== 'string') return 'is not a number';
  const s = input.trim();
  if (s === '') return 'is empty';
  const m = /^(\d{1,3})%?$/.exec(s);
  if (!m) {
    if (/^[-+]?\d+(\.\d+)?%?$/.test(s)) {
      return s.startsWith('-') ? 'is outside 0..100' : s.includes('.') ? 'is not a whole number' : 'is outside 0..100';
    }
    return 'is not a number';
  }
  return Number(m[1]) > 100 ? 'is outside 0..100' : undefined;
}

/**
 * The canary traffic percent the user typed: an integer 0..100. Surrounding spaces and a
 * trailing `%` are accepted (` 20 `, `20%`); anything else (`abc`, `-1`, `101`, `12.5`, ``,
 * `0x10`, `1e2`) is refused with CanaryError `invalid-input` / `invalid-percent`.
 */
export function parsePercent(input: string | number): number {
  const problem = percentProblem(input);
  if (problem !== undefined) {
    const shown = JSON.stringify(String(input)).slice(0, 40);
    throw new CanaryError('invalid-input', 'invalid-percent', `Invalid traffic percent ${shown}: it ${problem}.`, PERCENT_HINT);
  }
  return typeof input === 'number' ? input : Number(/^\d+/.exec(input.trim())![0]);
}

/** For an input box's `validateInput`: undefined when `input` is a valid percent, else a short message. */
export function percentInputError(input: string): string | undefined {
  const problem = percentProblem(input);
  return problem === undefined ? undefined : `Enter a whole number from 0 to 100 (the input ${problem}).`;
}

/**
 * The `canaryTrafficPercent` the chart renders once the action is in git:
 * set N → N, rollback → 0, promote → undefined (none rendered: 100% to the latest revision).
 */
export function actionPercent(action: CanaryAction): number | undefined {
  switch (action.kind) {
    case 'set':
      return action.percent;
    case 'rollback':
      return 0;
    case 'promote':
      return undefined;
  }
}

/** The share of traffic the latest revision gets after the action (promote: 100). */
function latestShare(action: CanaryAction): number {
  return actionPercent(action) ?? 100;
}

/** A short human description: "set canary traffic to 20%", "promote (100% to latest)", "roll back (0% to latest)". */
export function describeAction(action: CanaryAction): string {
  switch (action.kind) {
    case 'set':
      return `set canary traffic to ${action.percent}%`;
    case 'promote':
      return 'promote (100% to latest)';
    case 'rollback':
      return 'roll back (0% to latest)';
  }
}

export const DEFAULT_MESSAGE_TEMPLATES: { set: string; promote: string; rollback: string } = {
  set: 'Set canary traffic for {model} in {env} to {percent}%',
  promote: 'Promote canary of {model} in {env} (100% to latest)',
  rollback: 'Roll back canary of {model} in {env} (0% to latest)',
};

/**
 * The commit message for an action. Placeholders: `{model}`, `{env}`, `{percent}` (the
 * latest revision's share after the change: N for set, 0 for rollback, 100 for promote) and
 * `{action}` (`set`, `promote` or `rollback`). Unknown placeholders are left as they are.
 * Line breaks become spaces and the result is trimmed; a missing or blank template (or one
 * rendering blank) falls back to DEFAULT_MESSAGE_TEMPLATES for the action.
 */
export function renderCommitMessage(template: string | undefined, action: CanaryAction, vars: { model: string; env: string }): string {
  const values: Record<string, string> = {
    model: vars.model,
    env: vars.env,
    percent: String(latestShare(action)),
    action: action.kind,
  };
  const render = (t: string): string =>
    t
      .replace(/\{(model|env|percent|action)\}/g, (_m, k: string) => values[k]!)
      .replace(/[\r\n]+/g, ' ')
      .trim();
  const rendered = template === undefined ? '' : render(template);
  return rendered !== '' ? rendered : render(DEFAULT_MESSAGE_TEMPLATES[action.kind]);
}

/**
 * A readable split: "prev 80% · latest 20%"; "latest 100%" when there is no previous
 * revision's share; "prev 80%" when only that is known; "no traffic data" when neither is.
 */
export function formatSplit(prev: number | undefined, latest: number | undefined): string {
  const parts: string[] = [];
  if (prev !== undefined) parts.push(`prev ${prev}%`);
  if (latest !== undefined) parts.push(`latest ${latest}%`);
  return parts.length ? parts.join(' · ') : 'no traffic data';
}

/**
 * A compact split for tight places (tree item descriptions, status bar), always prev/latest
 * order: "80/20" when both are known; "100" (latest's share alone) when there is no previous
 * revision; "80/–" when only prev is known; "–" when neither is.
 */
export function shortSplit(prev: number | undefined, latest: number | undefined): string {
  if (prev !== undefined) return `${prev}/${latest ?? '–'}`;
  return latest !== undefined ? String(latest) : '–';
}
