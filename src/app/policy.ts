/**
 * The one place that decides how a canary change is published, per environment:
 *   push          commit on the checked-out branch and push it to its upstream (the default)
 *   commit        commit only (kserveCanary.pushMode "commit", CLI --no-push)
 *   pull-request  commit on a new branch made from the upstream head, push that branch and
 *                 propose it (kserveCanary.pullRequestEnvironments, CLI --pull-request)
 * The extension and the CLI gather their inputs and call publishPolicy(); every use case in
 * src/app takes the resolved policy. Pure: no vscode, no argv, no I/O.
 */
import { CanaryError } from '../core/errors';

export type PublishPolicy = 'push' | 'commit' | 'pull-request';

export interface PolicyInput {
  env: string;
  /** kserveCanary.pushMode (the extension); the CLI pushes unless --no-push. */
  pushMode?: 'push' | 'commit';
  /** Environments whose changes go through a pull request (kserveCanary.pullRequestEnvironments). */
  pullRequestEnvironments?: readonly string[];
  /** Asked for explicitly this time (CLI --pull-request, the UI's "Propose a pull request"). */
  pullRequest?: boolean;
  /** Commit only this time (CLI --no-push). */
  noPush?: boolean;
}

/**
 * An explicit choice wins (--pull-request / --no-push, which exclude each other); then an
 * environment listed for pull requests; then the push mode.
 */
export function publishPolicy(i: PolicyInput): PublishPolicy {
  if (i.pullRequest && i.noPush) {
    throw new CanaryError(
      'invalid-input',
      'usage',
      '--pull-request and --no-push exclude each other: a pull request needs its branch pushed.',
      'Leave one of them out.',
    );
  }
  if (i.pullRequest) return 'pull-request';
  if (i.noPush) return 'commit';
  if (i.pullRequestEnvironments?.includes(i.env)) return 'pull-request';
  return i.pushMode === 'commit' ? 'commit' : 'push';
}

/** What the policy does, for confirmations: "commits and pushes", ... */
export function describePolicy(p: PublishPolicy): string {
  switch (p) {
    case 'push':
      return 'commits and pushes';
    case 'commit':
      return 'commits (without pushing)';
    case 'pull-request':
      return 'commits on a new branch, pushes that branch and proposes it as a pull request';
  }
}

/** Whether the cluster can follow the change right after publishing (only a push reaches the branch Argo CD syncs). */
export function reachesUpstream(p: PublishPolicy): boolean {
  return p === 'push';
}
