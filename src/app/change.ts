/**
 * The change use case: set / promote / roll back one model → publish it by the environment's
 * policy (src/app/policy.ts) → follow it until the cluster serves it. The extension's commands
 * and the CLI's set / promote / rollback call changeCanary() once and present its outcome.
 * The cluster to follow on is handed in lazily (`follow.open`), so a commit-only change never
 * loads the Kubernetes client. No vscode, no argv.
 */
import { CanaryError, isCanaryError } from '../core/errors';
import { publishCanaryChange, type ProposalInfo, type PublishOptions, type PublishResult } from '../core/publish';
import { waitForMerge, type MergeOutcome } from '../core/proposals';
import type { CanaryAction } from '../core/types';
import type { FollowRequest, FollowStep } from '../cluster/api';
import type { ServiceState } from '../cluster/types';
import { reachesUpstream, type PublishPolicy } from './policy';

/** What the core reports (with `proposal` for a pull-request publish). */
export type Published = PublishResult;
export type Proposal = ProposalInfo;

export interface ChangeRequest {
  root: string;
  env: string;
  model: string;
  action: CanaryAction;
  policy: PublishPolicy;
  /** The whole commit message (CLI --message); wins over messageTemplate. */
  message?: string;
  messageTemplate?: string;
  deploymentsDir?: string;
  /** Self-hosted forge hosts (host → github | gitlab | gitea | forgejo | bitbucket), for the pull request's page. */
  forgeHosts?: Record<string, string>;
  processEnv?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Each git step as it happens. */
  log?: (line: string) => void;
}

/** The part of a cluster store a follow needs. */
export interface Follower {
  follow(req: FollowRequest): Promise<ServiceState>;
  reloadDesired?(): Promise<void>;
}

export interface FollowOptions {
  /** Hands the cluster to follow on; undefined (or resolving undefined): not connected. */
  open?: () => Promise<{ store: Follower; dispose?: () => void } | undefined>;
  timeoutMs?: number;
  onStep?: (s: FollowStep) => void;
  /** Right after publishing, before following (the CLI prints its summary here). */
  onPublished?: (published: Published) => void;
  /** Once the cluster serves the change. */
  onLive?: (final: ServiceState) => void;
  /** Follow also when nothing was committed or pushed (the CLI's --wait: "wait until it is served"). */
  whenUnchanged?: boolean;
  /** A pull request: wait until it is merged (its change on the upstream branch), then follow as for a push. */
  untilMerged?: boolean;
  /** Each poll that did not find the pull request merged yet. */
  onMergePoll?: (n: number) => void;
  /** Once the pull request is merged. */
  onMerged?: (m: MergeOutcome) => void;
}

export type FollowStatus =
  /** The cluster serves the change. */
  | 'live'
  /** No follow asked for. */
  | 'not-requested'
  /** Committed only: the cluster cannot see it. */
  | 'not-pushed'
  /** A pull request is proposed: the cluster sees it once it is merged. */
  | 'proposed'
  /** Nothing changed in git. */
  | 'unchanged'
  /** No cluster connection to follow on. */
  | 'no-cluster'
  /** Cancelled while following: the change is pushed, Argo CD still applies it. */
  | 'stopped';

export interface ChangeOutcome {
  policy: PublishPolicy;
  published: Published;
  status: FollowStatus;
  /** The follow steps reached (pushed, synced, rolled-out). */
  steps: FollowStep[];
  /** The service when it went live. */
  final?: ServiceState;
}

/** The core's publish options for a request: the policy is the core's publish mode. */
export function publishOptions(req: ChangeRequest): PublishOptions {
  return {
    root: req.root,
    env: req.env,
    model: req.model,
    action: req.action,
    mode: req.policy,
    ...(req.forgeHosts ? { forgeHosts: req.forgeHosts } : {}),
    ...(req.message !== undefined ? { message: req.message } : {}),
    ...(req.messageTemplate ? { messageTemplate: req.messageTemplate } : {}),
    ...(req.deploymentsDir ? { deploymentsDir: req.deploymentsDir } : {}),
    ...(req.processEnv ? { processEnv: req.processEnv } : {}),
    ...(req.signal ? { signal: req.signal } : {}),
    ...(req.log ? { log: req.log } : {}),
  };
}

/** Publishes by the policy, then follows when the change reached the branch Argo CD syncs. */
export async function changeCanary(req: ChangeRequest, follow: FollowOptions = {}): Promise<ChangeOutcome> {
  const published: Published = await publishCanaryChange(publishOptions(req));
  follow.onPublished?.(published);
  const done = (status: FollowStatus): ChangeOutcome => ({ policy: req.policy, published, status, steps: [] });
  let sha = published.sha;
  if (published.proposal) {
    if (!follow.untilMerged || !follow.open) return done('proposed');
    const merged = await mergedWithin(req, published.proposal, published.sha, follow);
    follow.onMerged?.(merged);
    sha = merged.upstreamSha;
  } else {
    const upstream = reachesUpstream(req.policy);
    if (!published.changed && !published.pushed && !(follow.whenUnchanged && upstream)) return done('unchanged');
    if (!upstream) return done('not-pushed');
    if (!follow.open) return done('not-requested');
  }
  const cluster = await follow.open();
  if (!cluster) return done('no-cluster');
  const steps: FollowStep[] = [];
  try {
    await cluster.store.reloadDesired?.().catch(() => undefined);
    const final = await cluster.store.follow({
      env: req.env,
      model: req.model,
      sha,
      percent: published.after.desiredPercent,
      ...(follow.timeoutMs ? { timeoutMs: follow.timeoutMs } : {}),
      ...(req.signal ? { signal: req.signal } : {}),
      onStep: (s) => {
        steps.push(s);
        follow.onStep?.(s);
      },
    });
    follow.onLive?.(final);
    return { policy: req.policy, published, status: 'live', steps, final };
  } catch (e) {
    if (req.signal?.aborted) return { policy: req.policy, published, status: 'stopped', steps };
    throw e;
  } finally {
    cluster.dispose?.();
  }
}

/**
 * Whether `e` is a push refused by the remote because the branch is protected (it takes a
 * pull request): the extension then offers "Propose a pull request", the CLI the command.
 */
export function isProtectedBranchRefusal(e: unknown): boolean {
  return isCanaryError(e) && e.code === 'protected-branch';
}

/** Waits for the merge of a proposal, at most follow.timeoutMs (default 5 min) when given, else until cancelled. */
async function mergedWithin(req: ChangeRequest, p: ProposalInfo, sha: string, follow: FollowOptions): Promise<MergeOutcome> {
  const timer = new AbortController();
  const t = follow.timeoutMs ? setTimeout(() => timer.abort(), follow.timeoutMs) : undefined;
  const signal = req.signal ? AbortSignal.any([req.signal, timer.signal]) : timer.signal;
  try {
    return await waitForMerge(req.root, {
      env: req.env, model: req.model, branch: p.branch, sha, signal,
      ...(p.base ? { targetBranch: p.base } : {}),
      ...(req.deploymentsDir ? { deploymentsDir: req.deploymentsDir } : {}),
      ...(req.processEnv ? { processEnv: req.processEnv } : {}),
      ...(req.forgeHosts ? { forgeHosts: req.forgeHosts } : {}),
      ...(follow.onMergePoll ? { onPoll: follow.onMergePoll } : {}),
    });
  } catch (e) {
    if (timer.signal.aborted && !req.signal?.aborted) {
      throw new CanaryError('timeout', 'not-merged', `Timed out after ${Math.round(follow.timeoutMs! / 1000)} s: the pull request ${p.branch} is not merged into ${p.base ?? 'the upstream branch'} yet.`,
        `Merge it${p.url ? ` (${p.url})` : ''}, then \`kserve-canary status\` shows it live; or wait longer with --timeout.`, { cause: e });
    }
    throw e;
  } finally {
    clearTimeout(t);
  }
}
