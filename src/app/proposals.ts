/**
 * The open pull-request proposals of a model, from the remote's canary/<env>-<model>-* branches
 * (src/core/proposals.ts), for the tree's `proposed 35% · canary/test-jukebox-35` rows. No vscode.
 */
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
