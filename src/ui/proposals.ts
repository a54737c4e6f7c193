/**
 * The open pull-request proposals the tree shows under each service (tree.proposals), cached per
 * model and re-read from the remote's branches (src/app/proposals.ts): all models once the
 * controller has started (remote-tracking refs as they are, no fetch: the rows survive a window
 * reload), one model after a change proposes one, and after each fetch of a merge wait (again
 * without fetching: the wait has just fetched). A proposal being followed (commands-change.ts) is
 * marked: `waiting for merge`, then once merged `merged 35% · canary/test-jukebox-35` with the
 * follow's step, until the follow ends and the remote's list (where a merged branch is no longer
 * open) takes over again.
 */
import type { Proposal } from '../app/proposals';
import type { Controller } from './controller';
import type { Log } from './log';

/** One proposal row of the tree. */
export interface ProposalRow {
  branch: string;
  label: string;
  /** What the follow of it is doing, when one runs. */
  status: string | undefined;
  /** Being waited for / followed now ("Follow proposal" is not offered again). */
  following: boolean;
  url?: string;
  hint?: string;
}

/** A proposal the extension is waiting for or following. */
interface Followed {
  branch: string;
  percent: number | undefined;
  url?: string;
  hint?: string;
  merged: boolean;
  status: string;
}

const percentText = (p: number | undefined) => (p === undefined ? 'no canary' : `${p}%`);

export class ProposalCache {
  private readonly byModel = new Map<string, readonly Proposal[]>();
  private readonly followed = new Map<string, Followed>();
  /** Called with the models whose proposals changed (the tree refreshes their rows). */
  onChange: (env: string, model: string) => void = () => undefined;

  constructor(
    private readonly ctl: Controller,
    private readonly log: Log,
  ) {}

  /** The open proposals the remote lists for this model. */
  get(env: string, model: string): readonly Proposal[] {
    return this.byModel.get(`${env}/${model}`) ?? [];
  }

  /** Every model's listed proposals (for the command palette's "Follow proposal"). */
  all(): { env: string; model: string; proposal: Proposal }[] {
    return [...this.byModel].flatMap(([k, list]) => {
      const [env = '', model = ''] = k.split('/');
      return list.map((proposal) => ({ env, model, proposal }));
    });
  }

  /** The tree's rows: the listed proposals, marked when followed, and a merged one while its follow runs. */
  rows(env: string, model: string): ProposalRow[] {
    const key = `${env}/${model}`;
    const listed = this.get(env, model);
    const out: ProposalRow[] = listed.map((p) => {
      const f = this.followed.get(`${key}/${p.branch}`);
      return {
        branch: p.branch,
        label: p.label,
        status: f?.status,
        following: f !== undefined,
        ...(p.url ? { url: p.url } : {}),
        ...(p.hint ? { hint: p.hint } : {}),
      };
    });
    for (const [k, f] of this.followed) {
      if (!k.startsWith(`${key}/`) || listed.some((p) => p.branch === f.branch) || !f.merged) continue;
      out.push({
        branch: f.branch,
        label: `merged ${percentText(f.percent)} · ${f.branch}`,
        status: f.status,
        following: true,
        ...(f.url ? { url: f.url } : {}),
        ...(f.hint ? { hint: f.hint } : {}),
      });
    }
    return out;
  }

  /** Whether this proposal is being waited for / followed now. */
  isFollowed(env: string, model: string, branch: string): boolean {
    return this.followed.has(`${env}/${model}/${branch}`);
  }

  /** Marks a proposal as followed (or updates what its follow is doing). */
  follow(env: string, model: string, p: Omit<Followed, 'merged' | 'status'>, status: string, merged = false): void {
    this.followed.set(`${env}/${model}/${p.branch}`, { ...p, merged, status });
    this.onChange(env, model);
  }

  /** The follow of it ended (live, stopped, closed or failed): the remote's list alone again. */
  unfollow(env: string, model: string, branch: string): void {
    if (this.followed.delete(`${env}/${model}/${branch}`)) this.onChange(env, model);
  }

  /**
   * Re-reads one model's proposals; failures are logged, the old list kept. `fetch: false` reads
   * the remote-tracking refs as they are (after a push or a merge wait's fetch).
   */
  async refresh(env: string, model: string, opts: { fetch?: boolean } = {}): Promise<void> {
    const { backend, root } = this.ctl;
    if (!backend || !root) return;
    try {
      const s = this.ctl.settings;
      const list = await backend.openProposals({
        root,
        env,
        model,
        deploymentsDir: s.deploymentsDir,
        forgeHosts: s.forgeHosts,
        ...(opts.fetch === false ? { fetch: false } : {}),
      });
      this.byModel.set(`${env}/${model}`, list);
      this.onChange(env, model);
    } catch (e) {
      this.log.warn(`proposals of ${model}/${env}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Reads every model's proposals from the remote-tracking refs (no fetch), e.g. after a window reload. Trusted workspaces only: it runs git. */
  async loadAll(): Promise<void> {
    const { backend, root } = this.ctl;
    if (!backend || !root || !this.ctl.trusted()) return;
    try {
      const s = this.ctl.settings;
      const { proposals, failed } = await backend.openProposalsOfModels({
        root,
        models: this.ctl.gitModels(),
        deploymentsDir: s.deploymentsDir,
        forgeHosts: s.forgeHosts,
      });
      for (const [k, e] of failed) this.log.warn(`proposals of ${k}: ${e instanceof Error ? e.message : String(e)}`);
      for (const [k, list] of proposals) {
        this.byModel.set(k, list);
        const [env = '', model = ''] = k.split('/');
        this.onChange(env, model);
      }
    } catch (e) {
      this.log.warn(`open proposals: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
