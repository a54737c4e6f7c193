/**
 * The open pull-request proposals of a model, from the remote's canary/<env>-<model>-* branches
 * (src/core/proposals.ts), for the tree's `proposed 35% · canary/test-jukebox-35` rows, and
 * those of many models at once from the remote-tracking refs as they are (no network, one git
 * for-each-ref to tell which models have any), for the tree after a window reload; and the one
 * bounded wait for a proposal's merge (waitForProposalMerge), with the timeout message naming
 * the open pull request. No vscode.
 */
import { CanaryError } from '../core/errors';
import { GitRunner } from '../core/git';
import { proposalPrefix } from '../core/proposal';
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
    env: o.env,
    model: o.model,
    ...(o.deploymentsDir ? { deploymentsDir: o.deploymentsDir } : {}),
    ...(o.forgeHosts ? { forgeHosts: o.forgeHosts } : {}),
    ...(o.fetch === false ? { fetch: false } : {}),
    ...(o.processEnv ? { processEnv: o.processEnv } : {}),
  });
}

export interface ProposalMergeWait extends Omit<ProposalLookup, 'fetch'> {
  /** The pushed proposal (branch, base, page). */
  proposal: Pick<ProposalInfo, 'branch' | 'base' | 'url'>;
  /** Its commit, when known (then a branch moved to another commit is not taken for it). */
  sha?: string;
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
      env: w.env,
      model: w.model,
      branch: p.branch,
      signal,
      ...(w.sha ? { sha: w.sha } : {}),
      ...(p.base ? { targetBranch: p.base } : {}),
      ...(w.deploymentsDir ? { deploymentsDir: w.deploymentsDir } : {}),
      ...(w.processEnv ? { processEnv: w.processEnv } : {}),
      ...(w.forgeHosts ? { forgeHosts: w.forgeHosts } : {}),
      ...(w.intervalMs !== undefined ? { intervalMs: w.intervalMs } : {}),
      ...(w.onPoll ? { onPoll: w.onPoll } : {}),
    });
  } catch (e) {
    if (timer.signal.aborted && !w.signal?.aborted) {
      throw new CanaryError(
        'timeout',
        'not-merged',
        `Timed out after ${Math.round(w.timeoutMs! / 1000)} s: the pull request ${p.branch} is not merged into ${p.base ?? 'the upstream branch'} yet.`,
        `Merge it${p.url ? ` (${p.url})` : ''}, then ${w.afterMerge ?? '`kserve-canary status` shows it live'}; or wait longer with --timeout.`,
        { cause: e },
      );
    }
    throw e;
  } finally {
    clearTimeout(t);
  }
}

export interface ModelsProposalLookup {
  root: string;
  models: readonly { env: string; model: string }[];
  deploymentsDir?: string;
  forgeHosts?: Record<string, string>;
  processEnv?: NodeJS.ProcessEnv;
}

/**
 * The open proposals of each model (`env/model` → list; models without any are left out), read
 * from the remote-tracking refs without fetching. One `git for-each-ref` finds the models that
 * have a canary/<env>-<model>-* ref at all; only those are listed. A model whose proposals cannot
 * be read is left out too (the error in `failed`).
 */
export async function openProposalsOfModels(o: ModelsProposalLookup): Promise<{ proposals: Map<string, Proposal[]>; failed: Map<string, unknown> }> {
  const git = new GitRunner({ cwd: o.root, env: o.processEnv ?? process.env, timeoutMs: 30000 });
  const refs = (await git.run(['for-each-ref', '--format=%(refname)', 'refs/remotes/']))
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const branches = refs.map((r) => r.split('/').slice(3).join('/'));
  const proposals = new Map<string, Proposal[]>();
  const failed = new Map<string, unknown>();
  for (const m of o.models) {
    const prefix = proposalPrefix(m.env, m.model);
    if (!branches.some((b) => b.startsWith(prefix))) continue;
    try {
      const list = await openProposals({ ...o, env: m.env, model: m.model, fetch: false });
      if (list.length) proposals.set(`${m.env}/${m.model}`, list);
    } catch (e) {
      failed.set(`${m.env}/${m.model}`, e);
    }
  }
  return { proposals, failed };
}
