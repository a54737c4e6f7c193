/**
 * The rollout use case: resolve the plan, run the engine (src/core/rollout.ts) over git, the
 * cluster and Prometheus with the environment's publish policy, optionally with test traffic
 * for the gates; say where a rollout stands; and preview (--dry-run) the commit the next step
 * would make, by running the engine over ports that read git without fetching and write nothing.
 * With the pull-request policy each step is a pull request the run waits to see merged
 * (src/app/rollout-proposals.ts). The extension's "Start progressive rollout" and the CLI's
 * `rollout` both call here. No vscode, no argv.
 */
import { CanaryError } from '../core/errors';
import { resolvePlan, type RolloutPlan } from '../core/plan';
import { gitRolloutPorts, readGitSnapshot } from '../core/rollout-git';
import {
  rolloutState,
  startRollout,
  systemClock,
  type ApprovalAnswer,
  type ApprovalRequest,
  type RolloutEvent,
  type RolloutPorts,
  type RolloutResult,
  type RolloutRun,
  type RolloutState,
} from '../core/rollout';
import type { CanaryAction } from '../core/types';
import type { ClusterStore } from '../cluster/api';
import type { MetricsClient } from '../cluster/metrics';
import { rolloutPorts } from '../cluster/rollout-ports';
import { previewChange, type ChangePreview } from './preview';
import type { PublishPolicy } from './policy';
import { plannedProposals, previewOnUpstream, ProposalRollout, readUpstream, type ProposalStep, type RolloutStepEvent } from './rollout-proposals';
import { startBackgroundTraffic, type BackgroundTraffic } from './traffic';

/** Where the plan comes from: root, env, model, --plan (`explicit`), defaults (resolvePlan's options). */
export type PlanRequest = Parameters<typeof resolvePlan>[0];

/** The plan: --plan, else the model's canary-plan.yaml, else the defaults. A bad typed plan is bad input. */
export async function loadRolloutPlan(req: PlanRequest): Promise<RolloutPlan> {
  try {
    return await resolvePlan(req);
  } catch (e) {
    // a plan the user typed (or set) is bad input (exit 2); a bad file stays invalid-config (exit 1)
    if (e instanceof CanaryError && e.code === 'invalid-plan' && (e.message.startsWith('--plan') || e.message.startsWith('settings'))) {
      throw new CanaryError('invalid-input', e.code, e.message, e.hint);
    }
    throw e;
  }
}

export interface RolloutTarget {
  root: string;
  env: string;
  model: string;
  deploymentsDir?: string;
  processEnv?: NodeJS.ProcessEnv;
}

/** Where the rollout stands, from git alone (after a fetch); nothing changed. */
export async function rolloutStatus(t: RolloutTarget, plan: RolloutPlan): Promise<{ state: RolloutState; percent: number | undefined }> {
  const snap = await readGitSnapshot({
    root: t.root,
    env: t.env,
    model: t.model,
    ...(t.deploymentsDir ? { deploymentsDir: t.deploymentsDir } : {}),
    ...(t.processEnv ? { processEnv: t.processEnv } : {}),
  });
  return { state: rolloutState(plan, snap), percent: snap.percent };
}

export interface RolloutRequest extends RolloutTarget {
  plan: RolloutPlan;
  policy: PublishPolicy;
  /** The cluster to follow each step on; without one only promote/abort can run (their commit is not followed). */
  store?: ClusterStore;
  metrics?: MetricsClient;
  followTimeoutMs?: number;
  ignoreGates?: boolean;
  restart?: boolean;
  action?: 'promote' | 'abort';
  approve?: (req: ApprovalRequest, signal: AbortSignal) => Promise<ApprovalAnswer>;
  signal?: AbortSignal;
  /** Every event; in pull-request mode those about a step's pull request carry it (`proposal`). */
  onEvent?: (e: RolloutStepEvent) => void;
  log?: (line: string) => void;
  /** pull-request: self-hosted forge hosts (host → github | gitlab | gitea | forgejo | bitbucket), for the pages. */
  forgeHosts?: Record<string, string>;
  /** pull-request: between two checks whether a step's pull request is merged (default 5 s). */
  mergePollMs?: number;
  /** pull-request: after each check that did not find the step's pull request merged yet. */
  onMergePoll?: (n: number, p: ProposalStep) => Promise<void> | void;
  /** Test inference traffic during the whole run (so the gates have data), requests per second. */
  traffic?: { rps: number; payload: string; onStart?: (line: string) => void };
}

export interface RolloutRunOutcome {
  result: RolloutResult;
  /** pull-request: every step's pull request, in order (branch, page, merge commit); [] otherwise. */
  proposals: ProposalStep[];
  /** What the test traffic got back, when it ran. */
  traffic?: Awaited<ReturnType<BackgroundTraffic['stop']>>;
}

function gitOptions(req: RolloutTarget & { policy: PublishPolicy; log?: (line: string) => void }) {
  return {
    root: req.root,
    env: req.env,
    model: req.model,
    push: req.policy === 'push',
    ...(req.deploymentsDir ? { deploymentsDir: req.deploymentsDir } : {}),
    ...(req.processEnv ? { processEnv: req.processEnv } : {}),
    ...(req.log ? { log: req.log } : {}),
  };
}

/** The engine's ports for this request: git + cluster + Prometheus, or git alone for a final promote/abort. */
function portsFor(req: RolloutRequest): RolloutPorts {
  if (req.store) {
    return rolloutPorts({
      ...gitOptions(req),
      store: req.store,
      metrics: req.metrics,
      ...(req.followTimeoutMs ? { followTimeoutMs: req.followTimeoutMs } : {}),
      ...(req.approve ? { approve: req.approve } : {}),
    });
  }
  return {
    ...gitRolloutPorts(gitOptions(req)),
    ...systemClock,
    follow: async () => {
      throw new CanaryError('cluster', 'no-cluster', 'No cluster connection to follow the commit.');
    },
  };
}

/** Starts the run; `run` takes promote()/abort()/approve() while it goes; `outcome` settles at its end. */
export function runRollout(req: RolloutRequest): { run: RolloutRun; outcome: Promise<RolloutRunOutcome> } {
  const emit = (e: RolloutStepEvent) => {
    try {
      req.onEvent?.(e);
    } catch {
      // a listener's failure does not stop the rollout
    }
  };
  const walk =
    req.policy === 'pull-request'
      ? new ProposalRollout(
          {
            root: req.root,
            env: req.env,
            model: req.model,
            of: req.plan.steps.length,
            ...(req.deploymentsDir ? { deploymentsDir: req.deploymentsDir } : {}),
            ...(req.processEnv ? { processEnv: req.processEnv } : {}),
            ...(req.forgeHosts ? { forgeHosts: req.forgeHosts } : {}),
            ...(req.signal ? { signal: req.signal } : {}),
            ...(req.followTimeoutMs ? { timeoutMs: req.followTimeoutMs } : {}),
            ...(req.mergePollMs !== undefined ? { pollMs: req.mergePollMs } : {}),
            ...(req.onMergePoll ? { onPoll: req.onMergePoll } : {}),
            ...(req.log ? { log: req.log } : {}),
          },
          emit,
        )
      : undefined;
  const traffic =
    req.traffic && req.store && !req.action ? startBackgroundTraffic(req.store, req.env, req.model, req.traffic.rps, req.traffic.payload) : undefined;
  if (traffic) req.traffic?.onStart?.(traffic.description);
  let run: RolloutRun;
  try {
    run = startRollout({
      env: req.env,
      model: req.model,
      plan: req.plan,
      ports: walk ? { ...portsFor(req), ...walk.ports() } : portsFor(req),
      ...(req.ignoreGates ? { ignoreGates: true } : {}),
      ...(req.restart ? { restart: true } : {}),
      ...(req.action ? { action: req.action } : {}),
      ...(req.signal ? { signal: req.signal } : {}),
      onEvent: (e) => emit(walk ? walk.see(e) : e),
    });
  } catch (e) {
    void traffic?.stop();
    throw e;
  }
  const outcome = (async (): Promise<RolloutRunOutcome> => {
    try {
      let result: RolloutResult;
      try {
        result = await run.result;
      } catch (e) {
        const ended = walk?.finish(e);
        if (!ended) throw e;
        result = ended;
      }
      return { result, proposals: walk?.proposals() ?? [], ...(traffic ? { traffic: await traffic.stop() } : {}) };
    } finally {
      await traffic?.stop().catch(() => undefined);
    }
  })();
  return { run, outcome };
}

export interface RolloutPreview {
  /** The commit the next step would make; undefined when the run would commit nothing (completed). */
  next?: { step: number; of: number; action: CanaryAction; preview: ChangePreview };
  /** How the engine would go on, in its own words (plan, resume point, or why nothing is left). */
  why: string;
  /** pull-request: the branch each remaining step would be proposed on (state 'planned'); [] otherwise. */
  proposals: ProposalStep[];
}

/** Marks the end of a dry run inside the engine (the publish port threw it). */
class DryRunStop extends Error {}

/**
 * The next commit of the rollout, without making it: the engine runs over git read as it is
 * (no fetch) and a publish port that records the action and message, then stops.
 */
export async function previewRollout(req: Omit<RolloutRequest, 'store' | 'metrics' | 'approve' | 'traffic'>): Promise<RolloutPreview> {
  const events: RolloutEvent[] = [];
  let captured: { action: CanaryAction; message: string; step: number } | undefined;
  let step = 1;
  const pr = req.policy === 'pull-request';
  const ports: RolloutPorts = {
    // pull-request: the upstream branch as last fetched (the steps are proposed onto it)
    readGit: async (signal) => (pr ? (await readUpstream(req, false, signal)).snapshot : readGitSnapshot({ ...gitOptions(req), push: false }, signal)),
    publish: async (action, message) => {
      captured = { action, message, step };
      throw new DryRunStop('dry run');
    },
    follow: async () => {
      throw new DryRunStop('dry run');
    },
    ...systemClock,
  };
  const run = startRollout({
    env: req.env,
    model: req.model,
    plan: req.plan,
    ports,
    ignoreGates: true,
    ...(req.restart ? { restart: true } : {}),
    ...(req.action ? { action: req.action } : {}),
    onEvent: (e) => {
      events.push(e);
      if (e.step) step = e.step;
    },
  });
  let result: RolloutResult | undefined;
  try {
    result = await run.result;
  } catch (e) {
    if (!captured) throw e;
  }
  const said = events
    .filter((e) => e.kind === 'plan' || e.kind === 'resume' || e.kind === 'publish' || e.kind === 'promote' || e.kind === 'rollback')
    .map((e) => e.message);
  if (!captured) return { why: result?.reason ?? said.join(' '), proposals: [] };
  const firstLine = captured.message.split('\n')[0]!;
  const preview = pr
    ? await previewOnUpstream(req, captured.action, captured.message)
    : await previewChange(
        {
          root: req.root,
          env: req.env,
          model: req.model,
          action: captured.action,
          policy: req.policy,
          ...(req.deploymentsDir ? { deploymentsDir: req.deploymentsDir } : {}),
        },
        captured.message,
      );
  const walking = !req.action && captured.action.kind !== 'rollback';
  const proposals = pr ? await plannedProposals(req, req.plan, captured.step, walking ? undefined : captured.action) : [];
  return { next: { step: captured.step, of: req.plan.steps.length, action: captured.action, preview }, why: said.join(' ') || firstLine, proposals };
}
