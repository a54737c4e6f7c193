/**
 * The open pull-request proposals of a model, from the remote's canary/<env>-<model>-* branches
 * (src/core/proposals.ts), for the tree's `proposed 35% · canary/test-jukebox-35` rows; and
 * those of many models at once from the remote-tracking refs as they are (no network, one git
 * for-each-ref to tell which models have any), for the tree after a window reload. No vscode.
 */
import { GitRunner } from '../core/git';
import { proposalPrefix } from '../core/proposal';
import { listProposals, type Proposal } from '../core/proposals';

export type { Proposal };

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
  const refs = (await git.run(['for-each-ref', '--format=%(refname)', 'refs/remotes/'])).split('\n').map((l) => l.trim()).filter(Boolean);
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
