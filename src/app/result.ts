/**
 * The machine-readable results of `-o json|yaml` on set / promote / rollback (kind ChangeResult)
 * and rollout (kind RolloutResult), apiVersion kserve-canary/v1. Built field by field (nothing
 * else leaks in); absent values are null, never omitted. The schema is in README.md
 * ("Machine-readable results"); a field is only ever added within v1, never renamed or removed.
 */
import type { CanaryAction } from '../core/types';
import type { RolloutEvent, RolloutResult } from '../core/rollout';
import type { RolloutPlan } from '../core/plan';
import type { ChangeOutcome, FollowStatus } from './change';
import type { ChangePreview } from './preview';
import type { PublishPolicy } from './policy';
import type { ProposalStep } from './rollout-proposals';

export const API_VERSION = 'kserve-canary/v1';

const nul = <T>(v: T | undefined): T | null => (v === undefined ? null : v);

function actionJson(a: CanaryAction): { kind: string; percent: number | null } {
  return { kind: a.kind, percent: a.kind === 'set' ? a.percent : a.kind === 'rollback' ? 0 : null };
}

export interface ChangeDocContext {
  command: string;
  env: string;
  model: string;
  action: CanaryAction;
}

interface ChangeFields {
  policy: PublishPolicy;
  dryRun: boolean;
  changed: boolean;
  sha: string | null;
  branch: string | null;
  remote: string | null;
  pushed: boolean;
  proposal: { branch: string; url?: string; forge?: string; hint?: string } | undefined;
  file: string;
  message: string;
  before: number | undefined;
  after: number | undefined;
  diff: string | null;
  steps: string[];
  followStatus: FollowStatus;
  follow: { step: string; message: string }[];
}

/** The one ChangeResult shape, field by field in the documented order. */
function changeResult(ctx: ChangeDocContext, f: ChangeFields): unknown {
  const p = f.proposal;
  return {
    apiVersion: API_VERSION,
    kind: 'ChangeResult',
    command: ctx.command,
    env: ctx.env,
    model: ctx.model,
    action: actionJson(ctx.action),
    policy: f.policy,
    dryRun: f.dryRun,
    changed: f.changed,
    sha: f.sha,
    branch: p ? p.branch : f.branch,
    remote: f.remote,
    pushed: f.pushed,
    url: nul(p?.url),
    proposal: p ? { branch: p.branch, url: nul(p.url), forge: nul(p.forge), hint: nul(p.hint) } : null,
    file: f.file,
    message: f.message,
    before: { percent: nul(f.before) },
    after: { percent: nul(f.after) },
    diff: f.diff,
    steps: f.steps,
    followStatus: f.followStatus,
    follow: f.follow,
  };
}

/** A real publish (and its follow) as a ChangeResult. */
export function changeDocument(ctx: ChangeDocContext, o: ChangeOutcome, rel: string): unknown {
  const r = o.published;
  return changeResult(ctx, {
    policy: o.policy,
    dryRun: false,
    changed: r.changed,
    sha: r.sha,
    branch: r.branch,
    remote: nul(r.remote),
    pushed: r.pushed,
    proposal: r.proposal,
    file: rel,
    message: r.message,
    before: r.before.desiredPercent,
    after: r.after.desiredPercent,
    diff: null,
    steps: [...r.steps],
    followStatus: o.status,
    follow: o.steps.map((s) => ({ step: s.step, message: s.message })),
  });
}

/** A --dry-run as a ChangeResult: no sha, nothing pushed, the diff that would be committed. */
export function previewDocument(ctx: ChangeDocContext, p: ChangePreview): unknown {
  return changeResult(ctx, {
    policy: p.policy,
    dryRun: true,
    changed: p.changed,
    sha: null,
    branch: null,
    remote: null,
    pushed: false,
    proposal: undefined,
    file: p.rel,
    message: p.message,
    before: p.before.desiredPercent,
    after: p.after.desiredPercent,
    diff: p.diff,
    steps: [],
    followStatus: 'not-requested',
    follow: [],
  });
}

export interface RolloutDocContext {
  env: string;
  model: string;
  policy: PublishPolicy;
  plan: Pick<RolloutPlan, 'steps' | 'source'>;
}

/** apiVersion, kind, env, model, policy, dryRun, plan: the head of both RolloutResult forms. */
function rolloutHead(ctx: RolloutDocContext, dryRun: boolean): Record<string, unknown> {
  const plan = { source: ctx.plan.source, steps: ctx.plan.steps.map((s) => ({ percent: s.percent, pauseMs: s.pauseMs, manual: s.manual })) };
  return { apiVersion: API_VERSION, kind: 'RolloutResult', env: ctx.env, model: ctx.model, policy: ctx.policy, dryRun, plan };
}

/** One step's pull request (pull-request policy), field by field. */
function proposalJson(p: ProposalStep): unknown {
  return {
    step: p.step,
    of: p.of,
    action: p.action,
    percent: nul(p.percent),
    branch: p.branch,
    base: p.base,
    url: nul(p.url),
    forge: nul(p.forge),
    hint: nul(p.hint),
    sha: nul(p.sha),
    state: p.state,
    mergeSha: nul(p.mergeSha),
  };
}

/** A rollout run as a RolloutResult: how it ended, its commits, its pull requests and every event. */
export function rolloutDocument(ctx: RolloutDocContext, r: RolloutResult, events: RolloutEvent[], proposals: ProposalStep[] = []): unknown {
  return {
    ...rolloutHead(ctx, false),
    outcome: r.outcome,
    step: r.step,
    of: r.of,
    reason: r.reason,
    commits: r.commits.map((c) => ({ sha: c.sha, message: c.message })),
    next: null,
    events: events.map((e) => ({ kind: e.kind, step: nul(e.step), message: e.message })),
    proposals: proposals.map(proposalJson),
  };
}

/** A rollout --dry-run: the commit the next step would make (null when there is none to make). */
export function rolloutPreviewDocument(
  ctx: RolloutDocContext,
  next: { step: number; of: number; preview: ChangePreview } | undefined,
  why: string,
  proposals: ProposalStep[] = [],
): unknown {
  return {
    ...rolloutHead(ctx, true),
    outcome: null,
    step: nul(next?.step),
    of: nul(next?.of),
    reason: why,
    commits: [],
    next: next
      ? {
          step: next.step,
          of: next.of,
          file: next.preview.rel,
          changed: next.preview.changed,
          before: { percent: nul(next.preview.before.desiredPercent) },
          after: { percent: nul(next.preview.after.desiredPercent) },
          diff: next.preview.diff,
          message: next.preview.message,
        }
      : null,
    events: [],
    proposals: proposals.map(proposalJson),
  };
}
