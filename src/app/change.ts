/**
 * The change use case: set / promote / roll back one model → publish it by the environment's
 * policy (src/app/policy.ts) → follow it until the cluster serves it. The extension's commands
 * and the CLI's set / promote / rollback call changeCanary() once and present its outcome.
 * The cluster to follow on is handed in lazily (`follow.open`), so a commit-only change never
 * loads the Kubernetes client. followProposal() is the second half on its own, for a proposal
 * published earlier (the tree's "Follow proposal" after a window reload): wait for its merge,
 * then follow it exactly as changeCanary does. No vscode, no argv.
 */
import { isCanaryError } from '../core/errors';
import { publishCanaryChange, type ProposalInfo, type PublishOptions, type PublishResult } from '../core/publish';
import type { MergeOutcome } from '../core/proposals';
import { waitForProposalMerge } from './proposals';
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
  /** How long to wait for the merge: default timeoutMs; 0: until it is merged, closed or cancelled (the extension). */
  mergeTimeoutMs?: number;
  /** Between two looks at the remote while waiting for the merge (default 5 s). */
  mergeIntervalMs?: number;
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
  const followed = await followPushed(req, sha, published.after.desiredPercent, follow);
  return { policy: req.policy, published, ...followed };
}

/** A proposal published earlier: its branch (and commit, base, canary value) as the remote lists it. */
export interface ProposalRef {
  branch: string;
  /** Its commit; read from the branch when absent. */
  sha?: string;
  /** The branch it proposes into (default: the upstream of the checkout). */
  base?: string;
  /** The canaryTrafficPercent it proposes (undefined: no canary, a promote). */
  percent: number | undefined;
  url?: string;
}

export interface ProposalFollowRequest {
  root: string;
  env: string;
  model: string;
  proposal: ProposalRef;
  deploymentsDir?: string;
  forgeHosts?: Record<string, string>;
  processEnv?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

export interface ProposalFollowOutcome {
  merged: MergeOutcome;
  /** live, no-cluster (nothing to follow on) or stopped (cancelled while following). */
  status: Extract<FollowStatus, 'live' | 'no-cluster' | 'stopped' | 'not-requested'>;
  steps: FollowStep[];
  final?: ServiceState;
}

/**
 * Waits until an open proposal reaches the upstream branch, then follows it until the cluster
 * serves it: the same wait and follow as changeCanary with untilMerged. A cancel during the wait
 * throws the core's 'aborted' error (the proposal stays open), a branch deleted unmerged
 * 'proposal-closed'.
 */
export async function followProposal(req: ProposalFollowRequest, follow: FollowOptions = {}): Promise<ProposalFollowOutcome> {
  const p = req.proposal;
  const merged = await mergedWithin(req, { branch: p.branch, ...(p.base ? { base: p.base } : {}), ...(p.url ? { url: p.url } : {}) }, p.sha, follow);
  follow.onMerged?.(merged);
  return { merged, ...(await followPushed(req, merged.upstreamSha, p.percent, follow)) };
}

type Followed = Pick<ChangeOutcome, 'status' | 'steps' | 'final'>;

/** Follows `sha` (on the branch Argo CD syncs) until the cluster serves `percent`. */
async function followPushed(
  req: Pick<ChangeRequest, 'env' | 'model' | 'signal'>,
  sha: string,
  percent: number | undefined,
  follow: FollowOptions,
): Promise<Followed & { status: ProposalFollowOutcome['status'] }> {
  if (!follow.open) return { status: 'not-requested', steps: [] };
  const cluster = await follow.open();
  if (!cluster) return { status: 'no-cluster', steps: [] };
  const steps: FollowStep[] = [];
  try {
    await cluster.store.reloadDesired?.().catch(() => undefined);
    const final = await cluster.store.follow({
      env: req.env,
      model: req.model,
      sha,
      percent,
      ...(follow.timeoutMs ? { timeoutMs: follow.timeoutMs } : {}),
      ...(req.signal ? { signal: req.signal } : {}),
      onStep: (s) => {
        steps.push(s);
        follow.onStep?.(s);
      },
    });
    follow.onLive?.(final);
    return { status: 'live', steps, final };
  } catch (e) {
    if (req.signal?.aborted) return { status: 'stopped', steps };
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

/** Waits for the merge of a proposal, at most follow.mergeTimeoutMs (else timeoutMs) when given, else until merged, closed or cancelled. */
function mergedWithin(
  req: Omit<ProposalFollowRequest, 'proposal'>,
  p: Pick<ProposalInfo, 'branch' | 'base' | 'url'>,
  sha: string | undefined,
  follow: FollowOptions,
): Promise<MergeOutcome> {
  const limitMs = follow.mergeTimeoutMs ?? follow.timeoutMs;
  return waitForProposalMerge({
    root: req.root,
    env: req.env,
    model: req.model,
    proposal: p,
    ...(sha ? { sha } : {}),
    ...(limitMs ? { timeoutMs: limitMs } : {}),
    ...(req.signal ? { signal: req.signal } : {}),
    ...(req.deploymentsDir ? { deploymentsDir: req.deploymentsDir } : {}),
    ...(req.processEnv ? { processEnv: req.processEnv } : {}),
    ...(req.forgeHosts ? { forgeHosts: req.forgeHosts } : {}),
    ...(follow.onMergePoll ? { onPoll: follow.onMergePoll } : {}),
    ...(follow.mergeIntervalMs ? { intervalMs: follow.mergeIntervalMs } : {}),
  });
}
