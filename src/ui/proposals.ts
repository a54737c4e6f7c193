/**
 * The open pull-request proposals the tree shows under each service (tree.proposals), cached per
 * model and re-read from the remote's branches (src/app/proposals.ts) after a change proposes one.
 */
import type { Proposal } from '../app/proposals';
import type { Controller } from './controller';
import type { Log } from './log';

export class ProposalCache {
  private readonly byModel = new Map<string, readonly Proposal[]>();
  /** Called with the models whose proposals changed (the tree refreshes their rows). */
  onChange: (env: string, model: string) => void = () => undefined;

  constructor(private readonly ctl: Controller, private readonly log: Log) {}

  get(env: string, model: string): readonly Proposal[] {
    return this.byModel.get(`${env}/${model}`) ?? [];
  }

  /** Re-reads one model's proposals (fetching the remote's canary branches); failures are logged, the old list kept. */
  async refresh(env: string, model: string): Promise<void> {
    const { backend, root } = this.ctl;
    if (!backend || !root) return;
    try {
      const s = this.ctl.settings;
      const list = await backend.openProposals({ root, env, model, deploymentsDir: s.deploymentsDir, forgeHosts: s.forgeHosts });
      this.byModel.set(`${env}/${model}`, list);
      this.onChange(env, model);
    } catch (e) {
      this.log.warn(`proposals of ${model}/${env}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
