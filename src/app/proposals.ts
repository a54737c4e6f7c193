/**
 * The open pull-request proposals of a model, from the remote's canary/<env>-<model>-* branches
 * (src/core/proposals.ts), for the tree's `proposed 35% · canary/test-jukebox-35` rows; and the
 * one bounded wait for a proposal's merge (waitForProposalMerge) that a rollout step in
 * pull-request mode uses, with the timeout message naming the open pull request. No vscode.
 */
import { CanaryError } from '../core/errors';
import { listProposals, waitForMerge, type MergeOutcome, type Proposal } from '../core/proposals';
import type { ProposalInfo } from '../core/publish';

export type { MergeOutcome, Proposal };

export interface ProposalLookup {
  root: string;
  env: string;
  model: string;
  deploymentsDir?: string;
  forgeHosts?: Record<string, string>;
  /** false: the remote-tracking refs as they are (no network). */
  fetch?: boolean;
  processEnv?: NodeJS.ProcessEnv;
}

/** The model's open proposals; [] when the checkout has no remote to ask. */
export async function openProposals(o: ProposalLookup): Promise<Proposal[]> {
  return listProposals(o.root, {
    env: o.env, model: o.model,
    ...(o.deploymentsDir ? { deploymentsDir: o.deploymentsDir } : {}),
    ...(o.forgeHosts ? { forgeHosts: o.forgeHosts } : {}),
    ...(o.fetch === false ? { fetch: false } : {}),
    ...(o.processEnv ? { processEnv: o.processEnv } : {}),
  });
}

export interface ProposalMergeWait extends Omit<ProposalLookup, 'fetch'> {
  /** The pushed proposal (branch, base, page). */
  proposal: ProposalInfo;
  /** Its commit. */
  sha: string;
  signal?: AbortSignal;
  /** At most this long (then a 'timeout' error naming the pull request); absent: until the signal. */
  timeoutMs?: number;
  /** Between two fetches (default 5 s). */
  intervalMs?: number;
  /** After each poll that did not find it merged; a throw here ends the wait with that error. */
  onPoll?: (n: number) => Promise<void> | void;
  /** What the timeout's hint says comes after merging (default: `kserve-canary status` shows it live). */
  afterMerge?: string;
}

/** Waits until the proposal reaches its base branch (merge, squash or rebase), at most timeoutMs. */
export async function waitForProposalMerge(w: ProposalMergeWait): Promise<MergeOutcome> {
  const timer = new AbortController();
  const t = w.timeoutMs ? setTimeout(() => timer.abort(), w.timeoutMs) : undefined;
  const signal = w.signal ? AbortSignal.any([w.signal, timer.signal]) : timer.signal;
  const p = w.proposal;
  try {
    return await waitForMerge(w.root, {
      env: w.env, model: w.model, branch: p.branch, sha: w.sha, signal,
      ...(p.base ? { targetBranch: p.base } : {}),
      ...(w.deploymentsDir ? { deploymentsDir: w.deploymentsDir } : {}),
      ...(w.processEnv ? { processEnv: w.processEnv } : {}),
      ...(w.forgeHosts ? { forgeHosts: w.forgeHosts } : {}),
      ...(w.intervalMs !== undefined ? { intervalMs: w.intervalMs } : {}),
      ...(w.onPoll ? { onPoll: w.onPoll } : {}),
    });
  } catch (e) {
    if (timer.signal.aborted && !w.signal?.aborted) {
      throw new CanaryError('timeout', 'not-merged', `Timed out after ${Math.round(w.timeoutMs! / 1000)} s: the pull request ${p.branch} is not merged into ${p.base ?? 'the upstream branch'} yet.`,
        `Merge it${p.url ? ` (${p.url})` : ''}, then ${w.afterMerge ?? '`kserve-canary status` shows it live'}; or wait longer with --timeout.`, { cause: e });
    }
    throw e;
  } finally {
    clearTimeout(t);
  }
}
