/**
 * The change use case: set / promote / roll back one model → publish it by the environment's
 * policy (src/app/policy.ts) → follow it until the cluster serves it. The extension's commands
 * and the CLI's set / promote / rollback call changeCanary() once and present its outcome.
 * The cluster to follow on is handed in lazily (`follow.open`), so a commit-only change never
 * loads the Kubernetes client. No vscode, no argv.
 */
import { CanaryError, isCanaryError } from '../core/errors';
import { publishCanaryChange, type PublishOptions, type PublishResult } from '../core/publish';
import type { CanaryAction } from '../core/types';
import type { FollowRequest, FollowStep } from '../cluster/api';
import type { ServiceState } from '../cluster/types';
import { reachesUpstream, type PublishPolicy } from './policy';

/** A pushed branch proposed for merging (publish mode `pull-request`). */
export interface Proposal {
  branch: string;
  /** The forge's new-pull-request page, when the forge is known. */
  url?: string;
  forge?: string;
  /** One line for an unknown forge: how to open the pull request. */
  hint?: string;
}

/** What the core reports, with the proposal of a pull-request publish. */
export type Published = PublishResult & { proposal?: Proposal };

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

/** The publish mode the core takes, and `push` for a core that knows only that (kept until both sides are merged). */
export function publishOptions(req: ChangeRequest): PublishOptions & { mode: PublishPolicy } {
  return {
    root: req.root,
    env: req.env,
    model: req.model,
    action: req.action,
    mode: req.policy,
    push: req.policy === 'push',
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
  if (req.policy === 'pull-request' && published.changed && !published.proposal) {
    throw new CanaryError('internal', 'no-proposal', 'The change was committed but not proposed: this build cannot publish pull requests yet.', 'Publish with --no-push and open the pull request by hand.');
  }
  if (published.proposal) return done('proposed');
  const upstream = reachesUpstream(req.policy);
  if (!published.changed && !published.pushed && !(follow.whenUnchanged && upstream)) return done('unchanged');
  if (!upstream) return done('not-pushed');
  if (!follow.open) return done('not-requested');
  const cluster = await follow.open();
  if (!cluster) return done('no-cluster');
  const steps: FollowStep[] = [];
  try {
    await cluster.store.reloadDesired?.().catch(() => undefined);
    const final = await cluster.store.follow({
      env: req.env,
      model: req.model,
      sha: published.sha,
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
  return isCanaryError(e) && (e.code === 'protected-branch' || e.code === 'push-protected');
}
