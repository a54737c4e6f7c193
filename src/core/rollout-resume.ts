/**
 * What git says about a rollout (pure): the `Canary-Rollout:` trailer its commits carry,
 * where a (re)started run begins (startPoint), and where a rollout stands for a tree item,
 * a tooltip or `rollout --status` (rolloutState). The engine keeps no state besides git.
 */
import { planHash, type RolloutPlan } from './plan';
import type { GitSnapshot } from './rollout-types';

export interface RolloutTrailer {
  kind: 'step' | 'rollback' | 'promote';
  step: number;
  of: number;
  plan: string;
}

export const TRAILER_KEY = 'Canary-Rollout';

export function formatTrailer(t: RolloutTrailer): string {
  return `${TRAILER_KEY}: ${t.kind === 'step' ? '' : `${t.kind} `}step=${t.step}/${t.of} plan=${t.plan}`;
}

/** The last `Canary-Rollout:` trailer of a commit message, if any. */
export function parseTrailer(message: string | undefined): RolloutTrailer | undefined {
  if (!message) return undefined;
  let found: RolloutTrailer | undefined;
  for (const line of message.split(/\r?\n/)) {
    const m = /^Canary-Rollout:\s*(?:(rollback|promote)\s+)?step=(\d+)\/(\d+)\s+plan=([0-9a-f]{8})\s*$/.exec(line.trim());
    if (m) found = { kind: (m[1] as 'rollback' | 'promote' | undefined) ?? 'step', step: Number(m[2]), of: Number(m[3]), plan: m[4]! };
  }
  return found;
}

/** Where a (re)started rollout begins. */
export interface StartPoint {
  /** 0-based index of the step to work on. */
  index: number;
  /** True when git already holds that step's percent (no commit needed; follow and watch it). */
  committed: boolean;
  /** The plan already completed (the step is the last and it is live in git). */
  completed: boolean;
  resumed: boolean;
  why: string;
}

/** The percent the latest revision gets (no canary = 100). */
export const effective = (p: number | undefined) => p ?? 100;

/**
 * Decides the start from git: a trailer of this plan whose step matches the current percent
 * resumes exactly there; otherwise a percent strictly between 0 and 100 resumes at the step
 * holding it (or the first step above it); 0, 100 or no canary start from step 1.
 */
export function startPoint(plan: RolloutPlan, git: GitSnapshot, restart = false): StartPoint {
  const hash = planHash(plan);
  const n = plan.steps.length;
  const now = effective(git.percent);
  const t = parseTrailer(git.message);
  const fresh = (why: string): StartPoint => ({ index: 0, committed: false, completed: false, resumed: false, why });
  if (restart) return fresh('starting over (restart requested)');
  if (t && t.plan === hash && t.of === n) {
    if (t.kind === 'step' && t.step >= 1 && t.step <= n && plan.steps[t.step - 1]!.percent === now) {
      const last = t.step === n;
      return last
        ? { index: n - 1, committed: true, completed: true, resumed: true, why: `the last commit of ${n}/${n} (promotion) is already in git` }
        : { index: t.step - 1, committed: true, completed: false, resumed: true, why: `git is at step ${t.step}/${n} (${now}%) of this plan` };
    }
    if (t.kind === 'promote' && now === 100) {
      return { index: n - 1, committed: true, completed: true, resumed: true, why: 'the rollout was promoted already' };
    }
  }
  if (now > 0 && now < 100) {
    const at = plan.steps.findIndex((s) => s.percent === now);
    if (at >= 0) return { index: at, committed: true, completed: false, resumed: true, why: `git already asks for ${now}%, which is step ${at + 1}/${n}` };
    const above = plan.steps.findIndex((s) => s.percent > now);
    return {
      index: above,
      committed: false,
      completed: false,
      resumed: true,
      why: `git asks for ${now}%, the next step of the plan is ${plan.steps[above]!.percent}%`,
    };
  }
  return fresh(now === 0 ? 'starting from 0% (rolled back)' : 'starting from the promoted state');
}

/** `25%`, or `no canary (100% latest)`. */
export function describePercent(p: number | undefined): string {
  return p === undefined ? 'no canary (100% latest)' : `${p}%`;
}

export interface RolloutState {
  state: 'none' | 'in-progress' | 'completed' | 'rolled-back' | 'promoted';
  step?: number;
  of?: number;
  /** True when the trailer belongs to this plan (same steps, pauses and gates). */
  samePlan?: boolean;
  /** One line: `step 2/4 (25%) of plan 1a2b3c4d`, `rolled back at step 2/4`, `no rollout in git`. */
  text: string;
}

/**
 * Where a rollout stands according to git alone (the last commit of the model's config.yaml),
 * for a tree item, a tooltip or `rollout --status`. Nothing is guessed: a percent set by
 * hand (no trailer) is "no rollout".
 */
export function rolloutState(plan: Pick<RolloutPlan, 'steps' | 'gates'>, git: GitSnapshot): RolloutState {
  const t = parseTrailer(git.message);
  if (!t) return { state: 'none', text: `no rollout in git (canary at ${describePercent(git.percent)})` };
  const samePlan = t.plan === planHash(plan);
  const base = { step: t.step, of: t.of, samePlan };
  const plan8 = `plan ${t.plan}${samePlan ? '' : ', not the current plan'}`;
  if (t.kind === 'rollback')
    return { ...base, state: 'rolled-back', text: `rolled back at step ${t.step}/${t.of} (${plan8}); canary at ${describePercent(git.percent)}` };
  if (t.kind === 'promote') return { ...base, state: 'promoted', text: `promoted early at step ${t.step}/${t.of} (${plan8})` };
  if (t.step === t.of) return { ...base, state: 'completed', text: `completed: step ${t.step}/${t.of}, promoted (${plan8})` };
  return { ...base, state: 'in-progress', text: `in progress: step ${t.step}/${t.of} at ${describePercent(git.percent)} (${plan8})` };
}
