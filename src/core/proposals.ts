/**
 * Open pull-request proposals of one service, read from the remote's branches
 * (`canary/<env>-<model>-*`, see proposal.ts), and waiting until one reaches the upstream.
 *
 * - A branch counts as a proposal of this service when its tip commit changes exactly this
 *   model's config.yaml (so canary/test-jukebox-2-35 of model jukebox-2 is not taken for
 *   jukebox), and as open while that commit is not on the upstream branch and the upstream's
 *   canary differs from the proposed one (a squash or rebase merge leaves a branch whose commit
 *   is not an ancestor, but whose value is on the upstream).
 * - listProposals fetches (one `git fetch --prune` of the base and those branches) unless
 *   `fetch: false`, which reads the remote-tracking refs as they are (cheap, for a tree refresh).
 * - waitForMerge polls (fetch, compare) every intervalMs until the proposal's commit is an
 *   ancestor of the upstream head or its canary value is there; a branch deleted without that
 *   is 'proposal-closed'. Cancelled by the signal at once ('aborted'). Tests drive it through
 *   onPoll, never through sleeps.
 */
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { CanaryError } from './errors';
import { GitRunner } from './git';
import { repoInfo, showFile } from './gitstate';
import { parseModelConfig } from './config';
import { proposalLink } from './forge';
import { DEFAULT_DEPLOYMENTS_DIR, CONFIG_FILE } from './layout';
import { validateName } from './names';
import { fetchedProposalRefs, fetchProposals, isAncestor, resolveProposalBase, type ProposalBase } from './proposal';
import { sameCanary, toPosix } from './publish-target';
import type { CanaryBlock } from './types';

export interface Proposal {
  /** Branch on the remote, e.g. canary/test-jukebox-35. */
  branch: string;
  sha: string;
  /** The branch it proposes into, e.g. main. */
  base: string;
  /** The canaryTrafficPercent it proposes; undefined = no canary (a promote). */
  percent: number | undefined;
  canary: CanaryBlock;
  /** `proposed 35% · canary/test-jukebox-35` */
  label: string;
  url?: string;
  forge?: string;
  hint?: string;
}

export interface ProposalQuery {
  env: string;
  model: string;
  remote?: string;
  targetBranch?: string;
  deploymentsDir?: string;
  forgeHosts?: Record<string, string>;
  processEnv?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface ListProposalsOptions extends ProposalQuery {
  /** Default true: fetch first. false: the remote-tracking refs as they are. */
  fetch?: boolean;
}

/** `proposed 35% · canary/test-jukebox-35` (a promote: `proposed no canary · …`). */
export function proposalLabel(percent: number | undefined, branch: string): string {
  return `proposed ${percent === undefined ? 'no canary' : `${percent}%`} · ${branch}`;
}

interface Session {
  git: GitRunner;
  where: ProposalBase;
  rel: string;
  file: string;
  env: string;
  model: string;
}

async function open(root: string, q: ProposalQuery): Promise<Session> {
  const env = validateName('environment', q.env);
  const model = validateName('model', q.model);
  const runnerOpts = { env: q.processEnv ?? process.env, timeoutMs: q.timeoutMs ?? 30000, ...(q.signal ? { signal: q.signal } : {}) };
  const info = await repoInfo(new GitRunner({ cwd: root, ...runnerOpts }), root);
  const top = await realpath(info.topLevel);
  const git = new GitRunner({ cwd: top, ...runnerOpts });
  const file = path.join(root, q.deploymentsDir ?? DEFAULT_DEPLOYMENTS_DIR, env, model, CONFIG_FILE);
  const realRoot = await realpath(root).catch(() => root);
  const rel = toPosix(path.relative(top, path.join(realRoot, q.deploymentsDir ?? DEFAULT_DEPLOYMENTS_DIR, env, model, CONFIG_FILE)));
  return { git, where: await resolveProposalBase(git, q), rel, file, env, model };
}

/** Tip commit → the files it changes, for many commits in one git process. */
async function filesOfCommits(git: GitRunner, shas: string[]): Promise<Map<string, string[]>> {
  const out = shas.length ? await git.run(['log', '--no-walk=unsorted', '--no-renames', '--format=%x01%H', '--name-only', '-z', ...shas]) : '';
  const files = new Map<string, string[]>();
  for (const chunk of out.split('\x01').filter(Boolean)) {
    const [sha = '', ...rest] = chunk.split(/[\0\n]/);
    files.set(sha.trim(), rest.map((f) => f.trim()).filter(Boolean));
  }
  return files;
}

async function canaryAt(s: Session, rev: string): Promise<CanaryBlock | undefined> {
  const text = await showFile(s.git, rev, s.rel);
  if (text === undefined) return undefined;
  try {
    return parseModelConfig(text, s.file, s.env, s.model).canary;
  } catch {
    return undefined;
  }
}

const percentOf = (c: CanaryBlock) => (c.kind === 'percent' ? c.trafficPercent : undefined);

async function upstreamTip(s: Session): Promise<string> {
  const tip = (await s.git.probe(['rev-parse', '--verify', '-q', `${s.where.trackingRef}^{commit}`]))?.trim();
  if (!tip) {
    throw new CanaryError(
      'git',
      'no-upstream',
      `There is no ${s.where.remote}/${s.where.base} to compare proposals with.`,
      `Fetch it (\`git fetch ${s.where.remote}\`), then retry.`,
    );
  }
  return tip;
}

/** The open proposals of one service, by branch name (natural order). */
export async function listProposals(root: string, opts: ListProposalsOptions): Promise<Proposal[]> {
  const s = await open(root, opts);
  if (opts.fetch !== false) await fetchProposals(s.git, s.where, s.env, s.model);
  const refs = await fetchedProposalRefs(s.git, s.where.remote, s.env, s.model);
  if (refs.size === 0) return [];
  const tip = await upstreamTip(s);
  const files = await filesOfCommits(s.git, [...new Set(refs.values())]);
  const upCanary = await canaryAt(s, tip);
  const remoteUrl = (await s.git.probe(['config', '--get', `remote.${s.where.remote}.url`]))?.trim();
  const out: Proposal[] = [];
  for (const [branch, sha] of refs) {
    const changed = files.get(sha) ?? [];
    if (changed.length !== 1 || changed[0] !== s.rel) continue;
    if (await isAncestor(s.git, sha, tip)) continue;
    const canary = await canaryAt(s, sha);
    if (!canary || (upCanary && sameCanary(canary, upCanary))) continue;
    const percent = percentOf(canary);
    out.push({
      branch,
      sha,
      base: s.where.base,
      percent,
      canary,
      label: proposalLabel(percent, branch),
      ...proposalLink(remoteUrl, branch, s.where.base, opts.forgeHosts),
    });
  }
  return out.sort((a, b) => a.branch.localeCompare(b.branch, 'en', { numeric: true }));
}

export interface WaitForMergeOptions extends ProposalQuery {
  /** The proposal branch, e.g. canary/test-jukebox-35. */
  branch: string;
  /** Its commit (from the publish result); read from the branch when absent. */
  sha?: string;
  /** Between polls; default 5000. */
  intervalMs?: number;
  /** Called after each poll that did not find the change merged yet (n = 1, 2, …). */
  onPoll?: (n: number) => Promise<void> | void;
}

export interface MergeOutcome {
  /** The upstream head that has the change. */
  upstreamSha: string;
  /** 'merged': the proposal's commit is on the upstream; 'same-value': its canary is (squash/rebase merge). */
  how: 'merged' | 'same-value';
  base: string;
}

/** Waits until the proposal reaches the upstream branch (see the header). */
export async function waitForMerge(root: string, opts: WaitForMergeOptions): Promise<MergeOutcome> {
  const s = await open(root, opts);
  let sha = opts.sha;
  let proposed: CanaryBlock | undefined;
  const short = `${s.where.remote}/${s.where.base}`;
  for (let n = 1; ; n++) {
    if (opts.signal?.aborted) throw aborted(opts.branch, short);
    try {
      await fetchProposals(s.git, s.where, s.env, s.model);
    } catch (e) {
      if (opts.signal?.aborted) throw aborted(opts.branch, short);
      throw e;
    }
    const current = (await fetchedProposalRefs(s.git, s.where.remote, s.env, s.model)).get(opts.branch);
    sha ??= current;
    if (!sha) {
      throw new CanaryError(
        'not-found',
        'proposal-not-found',
        `There is no branch ${opts.branch} on ${s.where.remote}.`,
        'Check the branch name (`git ls-remote --heads` lists them).',
      );
    }
    proposed ??= await canaryAt(s, sha);
    const tip = await upstreamTip(s);
    if (await isAncestor(s.git, sha, tip)) return { upstreamSha: tip, how: 'merged', base: s.where.base };
    const up = await canaryAt(s, tip);
    if (proposed && up && sameCanary(proposed, up)) return { upstreamSha: tip, how: 'same-value', base: s.where.base };
    if (!current) {
      throw new CanaryError(
        'git',
        'proposal-closed',
        `${opts.branch} was deleted on ${s.where.remote} without its change reaching ${short}: the pull request was closed.`,
        'Publish the change again if you still want it.',
      );
    }
    await opts.onPoll?.(n);
    try {
      await delay(opts.intervalMs ?? 5000, undefined, opts.signal ? { signal: opts.signal } : undefined);
    } catch {
      throw aborted(opts.branch, short);
    }
  }
}

function aborted(branch: string, short: string): CanaryError {
  return new CanaryError(
    'git',
    'aborted',
    `Stopped waiting for ${branch} to reach ${short}; the proposal is left open.`,
    'Follow it again later, or open the pull request page.',
  );
}
