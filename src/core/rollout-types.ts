/**
 * The types of the progressive rollout engine (src/core/rollout.ts): what its ports read and
 * do (git, publish, follow, gates, clock, approval), its options, the events it emits and the
 * result a run ends with. Re-exported by rollout.ts, where callers import them from.
 */
import type { CanaryAction } from './types';
import type { RolloutPlan } from './plan';

/** What git says, read freshly (after a fetch) each time the engine needs it. */
export interface GitSnapshot {
  /** canaryTrafficPercent the chart renders; undefined = none (100% latest, promoted). */
  percent: number | undefined;
  /** Full message of the last commit that touched the model's config.yaml. */
  message: string | undefined;
  /** Tip of the branch the cluster follows (what Argo CD will sync to). */
  headSha: string | undefined;
}

/** What the gates of one revision measured over a window. Undefined values: not measurable. */
export interface GateReading {
  revision: string;
  window: string;
  /** Requests per second that reached the revision (all status codes). */
  rps: number | undefined;
  /** Share 0..1 of 5xx answers; undefined when there was no traffic. */
  errorRate: number | undefined;
  /** 95th percentile latency in ms; undefined without traffic / histogram. */
  p95Ms: number | undefined;
  /** Why a value is missing (query failed), for the user. */
  problem: string | undefined;
}

export interface LiveInfo {
  namespace?: string;
  /** The revision that receives the canary share (gates are measured on it). */
  latestRevision?: string;
}

export type ApprovalReason = 'manual' | 'inconclusive';

export interface ApprovalRequest {
  step: number;
  of: number;
  percent: number;
  next: number;
  reason: ApprovalReason;
  message: string;
}

/** `approve`: go on; `rollback`: roll back now; `wait`: nobody can approve now, end the run (it resumes later). */
export type ApprovalAnswer = 'approve' | 'rollback' | 'wait';

export interface RolloutPorts {
  readGit(signal?: AbortSignal): Promise<GitSnapshot>;
  publish(action: CanaryAction, message: string, signal?: AbortSignal): Promise<{ sha: string; changed: boolean }>;
  follow(req: { sha: string; percent: number | undefined; onProgress?: (line: string) => void }, signal: AbortSignal): Promise<LiveInfo>;
  /** Undefined when no metrics source is configured. */
  gates?: (q: { namespace: string; revision: string; windowMs: number }, signal: AbortSignal) => Promise<GateReading>;
  /** Resolves after ms, or early when the signal aborts (it may reject then). */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  now(): number;
  /** Asks someone (terminal prompt, notification). Absent: only RolloutRun.approve() approves. */
  approve?: (req: ApprovalRequest, signal: AbortSignal) => Promise<ApprovalAnswer>;
}

export interface RolloutOptions {
  env: string;
  model: string;
  plan: RolloutPlan;
  ports: RolloutPorts;
  /** Gates are checked this often during a pause (default 15 s, never more often than the pause). */
  checkEveryMs?: number;
  /** Start over from step 1 even when git says this plan already completed. */
  restart?: boolean;
  /** Do this at once instead of walking the plan (promote / abort from another terminal or a button). */
  action?: 'promote' | 'abort';
  /** Run without metric gates even though the plan has thresholds (an explicit choice). */
  ignoreGates?: boolean;
  /** Stops the run where it stands (no commit); it resumes on the next start. */
  signal?: AbortSignal;
  onEvent?: (e: RolloutEvent) => void;
}

export type RolloutEventKind =
  'plan' | 'resume' | 'publish' | 'published' | 'follow' | 'live' | 'gates' | 'waiting' | 'approved' | 'rollback' | 'promote' | 'done';

export interface RolloutEvent {
  kind: RolloutEventKind;
  /** One line for the user. */
  message: string;
  /** 1-based step concerned, when any. */
  step?: number;
  reading?: GateReading;
  evaluation?: GateEvaluation;
}

export type RolloutOutcome =
  /** Every step passed; the last commit promoted the canary. */
  | 'completed'
  /** A gate failed (or a step never went live): rolled back to 0% with a commit. */
  | 'rolled-back'
  /** Rolled back on request (abort). */
  | 'aborted'
  /** Promoted on request before the end of the plan. */
  | 'promoted'
  /** Waiting for an approval nobody could give here; run again to continue. */
  | 'awaiting-approval'
  /** Stopped by the signal; nothing rolled back; run again to resume. */
  | 'stopped'
  /** git changed under the rollout (someone else set the percent): stopped without touching it. */
  | 'changed-outside';

export interface RolloutResult {
  outcome: RolloutOutcome;
  /** 1-based step reached. */
  step: number;
  of: number;
  /** Why it ended so, one sentence. */
  reason: string;
  /** Commits made by this run. */
  commits: { sha: string; message: string }[];
}

export interface GateEvaluation {
  verdict: 'pass' | 'fail' | 'inconclusive';
  /** The failed gate, named like in commit messages: `error-rate`, `p95-latency`. */
  failed?: { gate: 'error-rate' | 'p95-latency'; detail: string };
  summary: string;
}
