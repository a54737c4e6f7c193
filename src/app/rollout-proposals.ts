/**
 * A rollout in pull-request mode (policy 'pull-request'): the engine's git ports for it and how
 * such a run ends. Each step (and a promote or rollback) is proposed as a branch made from the
 * upstream head at that time (src/core/proposal.ts: `canary/<env>-<model>-<step>`, the next free
 * name, an identical open one reused), its forge page reported as a 'waiting' event, and the
 * publish returns only once the change is on the upstream branch (merge, squash or rebase); the
 * engine then follows the upstream head as after a push. The rollout's state is read from the
 * upstream branch, never from the checkout, which stays as it was (only remote-tracking refs move).
 *
 * A proposal closed without merge, or the upstream moving to another value while one waits, ends
 * the run 'changed-outside'; cancelling ends it 'stopped' naming the proposal still open; the
 * merge wait's timeout is the one of src/app/proposals.ts. Nothing more is written after any of them.
 * The dry run's pieces are here too: the next step's diff against the upstream as last fetched,
 * and the branch each remaining step would be proposed on.
 */
import { CanaryError, isCanaryError } from '../core/errors';
import { applyCanaryAction, parseModelConfig } from '../core/config';
import { proposalLink } from '../core/forge';
import { showFile } from '../core/gitstate';
import type { RolloutPlan } from '../core/plan';
import { fetchProposals, fetchedProposalRefs, freeName, proposalStem, resolveProposalBase } from '../core/proposal';
import { publishCanaryChange } from '../core/publish';
import { checkCommittedSize, openTarget } from '../core/publish-target';
import type { GitSnapshot, RolloutEvent, RolloutPorts, RolloutResult } from '../core/rollout';
import { describePercent, effective } from '../core/rollout-resume';
import type { CanaryAction } from '../core/types';
import { unifiedDiff } from './diff';
import type { ChangePreview } from './preview';
import { waitForProposalMerge } from './proposals';

/** One step's pull request: planned (dry run), open (waiting for its merge), merged or closed. */
export interface ProposalStep {
  step: number;
  of: number;
  action: CanaryAction['kind'];
  /** What it proposes: the step's percent, 0 for a rollback, undefined (no canary) for a promote. */
  percent: number | undefined;
  branch: string;
  /** The branch it goes into, e.g. main. */
  base: string;
  url?: string;
  forge?: string;
  hint?: string;
  /** The proposal's commit (none while planned). */
  sha?: string;
  state: 'planned' | 'open' | 'merged' | 'closed';
  /** The upstream head that has it, once merged (what the cluster is followed to). */
  mergeSha?: string;
}

/** An engine event, with the step's pull request when it is about one. */
export type RolloutStepEvent = RolloutEvent & { proposal?: ProposalStep };

export interface ProposalTarget {
  root: string;
  env: string;
  model: string;
  deploymentsDir?: string;
  processEnv?: NodeJS.ProcessEnv;
  forgeHosts?: Record<string, string>;
}

export interface ProposalRolloutOptions extends ProposalTarget {
  of: number;
  signal?: AbortSignal;
  /** How long one step's pull request may wait for its merge (the rollout's --timeout); absent: until cancelled. */
  timeoutMs?: number;
  /** Between two checks for the merge (default 5 s). */
  pollMs?: number;
  onPoll?: (n: number, p: ProposalStep) => Promise<void> | void;
  log?: (line: string) => void;
}

const proposedPercent = (a: CanaryAction) => (a.kind === 'set' ? a.percent : a.kind === 'rollback' ? 0 : undefined);

/** The model's config.yaml on the upstream branch (after a fetch of it and the proposals, or as last fetched). */
export async function readUpstream(t: ProposalTarget, fetch: boolean, signal?: AbortSignal) {
  const tg = await openTarget({
    root: t.root,
    env: t.env,
    model: t.model,
    action: { kind: 'promote' },
    ...(t.deploymentsDir ? { deploymentsDir: t.deploymentsDir } : {}),
    ...(t.processEnv ? { processEnv: t.processEnv } : {}),
    ...(signal ? { signal } : {}),
  });
  const where = await resolveProposalBase(tg.git, {});
  const short = `${where.remote}/${where.base}`;
  if (fetch) await fetchProposals(tg.git, where, tg.env, tg.model);
  const tip = (await tg.git.probe(['rev-parse', '--verify', '-q', `${where.trackingRef}^{commit}`]))?.trim();
  if (!tip) {
    throw new CanaryError(
      'git',
      'no-upstream',
      `There is no ${short} to propose the rollout's steps into.`,
      `Fetch it (\`git fetch ${where.remote}\`), or pass the branch the environment deploys from.`,
    );
  }
  const text = await showFile(tg.git, tip, tg.rel);
  if (text === undefined) {
    throw new CanaryError(
      'not-found',
      'not-on-upstream',
      `${tg.rel} does not exist on ${short}, so there is nothing to roll out through pull requests.`,
      `Check that ${tg.env}/${tg.model} is on ${short} (\`git log ${short} -- ${tg.rel}\`).`,
    );
  }
  checkCommittedSize(text, tg.rel, short);
  const cfg = parseModelConfig(text, tg.file, tg.env, tg.model);
  const message = (await tg.git.run(['log', '-1', '--format=%B', tip, '--', tg.rel])).trim() || undefined;
  const snapshot: GitSnapshot = { percent: cfg.desiredPercent, message, headSha: tip };
  return { snapshot, text, where, short, target: tg };
}

type Ending =
  { kind: 'closed'; p: ProposalStep; was: number | undefined } | { kind: 'moved'; p: ProposalStep; was: number | undefined; now: number | undefined };

/** One rollout run in pull-request mode: its git ports, the proposals it made, and how it ends. */
export class ProposalRollout {
  private readonly made: ProposalStep[] = [];
  private readonly commits: { sha: string; message: string }[] = [];
  private step = 1;
  /** The proposal waiting for its merge, with the upstream value it was made on. */
  private open: { p: ProposalStep; was: number | undefined } | undefined;
  private ending: Ending | undefined;
  /** Inside publishCanaryChange, or the run ended there (a cancel there stops before anything is proposed). */
  private proposing = false;

  constructor(
    private readonly o: ProposalRolloutOptions,
    private readonly emit: (e: RolloutStepEvent) => void,
  ) {}

  /** Every proposal of the run so far, in order (copies). */
  proposals(): ProposalStep[] {
    return this.made.map((p) => ({ ...p }));
  }

  /** Each engine event passes here first: it says the step at hand; a merged step's 'published' says so. */
  see(e: RolloutEvent): RolloutStepEvent {
    if (e.step) this.step = e.step;
    const p = this.made[this.made.length - 1];
    if (e.kind === 'published' && p?.state === 'merged' && p.step === e.step && p.mergeSha) {
      return { ...e, message: `Merged ${p.branch} into ${p.base} at ${p.mergeSha.slice(0, 10)}`, proposal: { ...p } };
    }
    return e;
  }

  /** readGit from the upstream branch; publish = propose, then wait for the merge. */
  ports(): Pick<RolloutPorts, 'readGit' | 'publish'> {
    return {
      readGit: async (signal) => (await readUpstream(this.o, true, signal)).snapshot,
      // the engine's own signal is ignored: a rollback is published without one, but waiting for its merge stays cancellable
      publish: (action, message) => this.propose(action, message),
    };
  }

  private what(p: Pick<ProposalStep, 'action' | 'step' | 'of'>): string {
    return p.action === 'rollback' ? 'The rollback' : p.action === 'promote' && p.step !== p.of ? 'The promotion' : `Step ${p.step}/${p.of}`;
  }

  private async propose(action: CanaryAction, message: string): Promise<{ sha: string; changed: boolean }> {
    const o = this.o;
    this.proposing = true;
    const res = await publishCanaryChange({
      root: o.root,
      env: o.env,
      model: o.model,
      action,
      message,
      mode: 'pull-request',
      ...(o.forgeHosts ? { forgeHosts: o.forgeHosts } : {}),
      ...(o.deploymentsDir ? { deploymentsDir: o.deploymentsDir } : {}),
      ...(o.processEnv ? { processEnv: o.processEnv } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.log ? { log: o.log } : {}),
    });
    // (left true when it throws: the run ends there, and finish() reads it)
    this.proposing = false;
    if (!res.proposal) return { sha: res.sha, changed: false };
    const pr = res.proposal;
    const p: ProposalStep = {
      step: this.step,
      of: o.of,
      action: action.kind,
      percent: proposedPercent(action),
      branch: pr.branch,
      base: pr.base ?? '',
      ...(pr.url ? { url: pr.url } : {}),
      ...(pr.forge ? { forge: pr.forge } : {}),
      ...(pr.hint ? { hint: pr.hint } : {}),
      sha: res.sha,
      state: 'open',
    };
    const was = res.before.desiredPercent;
    this.made.push(p);
    this.open = { p, was };
    const kind = action.kind === 'rollback' ? 'a pull request too (nothing is pushed to the protected branch)' : 'a pull request';
    this.emit({
      kind: 'waiting',
      step: p.step,
      proposal: { ...p },
      message: `${this.what(p)} is ${kind}: ${res.pushed ? `pushed ${p.branch}` : `${p.branch}, already open,`} into ${p.base}; waiting for its merge.${p.url ? ` Open the pull request: ${p.url}` : p.hint ? ` ${p.hint}` : ''}`,
    });
    try {
      const m = await waitForProposalMerge({
        root: o.root,
        env: o.env,
        model: o.model,
        proposal: pr,
        sha: res.sha,
        afterMerge:
          action.kind === 'rollback' ? 'the canary is rolled back (`kserve-canary status` shows it live)' : 'run the rollout again: it goes on from there',
        ...(o.deploymentsDir ? { deploymentsDir: o.deploymentsDir } : {}),
        ...(o.processEnv ? { processEnv: o.processEnv } : {}),
        ...(o.forgeHosts ? { forgeHosts: o.forgeHosts } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
        ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
        ...(o.pollMs !== undefined ? { intervalMs: o.pollMs } : {}),
        onPoll: async (n) => {
          await this.checkUpstream(p, was);
          await o.onPoll?.(n, { ...p });
        },
      });
      Object.assign(p, { state: 'merged', mergeSha: m.upstreamSha });
      this.open = undefined;
      this.commits.push({ sha: m.upstreamSha, message });
      return { sha: m.upstreamSha, changed: true };
    } catch (e) {
      if (isCanaryError(e) && e.code === 'proposal-closed') {
        p.state = 'closed';
        this.open = undefined;
        this.ending = { kind: 'closed', p, was };
      }
      throw e;
    }
  }

  /** The upstream as just fetched by the wait: another value than the one proposed on ends the run. */
  private async checkUpstream(p: ProposalStep, was: number | undefined): Promise<void> {
    const now = (await readUpstream(this.o, false, this.o.signal)).snapshot.percent;
    if (effective(now) === effective(was)) return;
    this.ending = { kind: 'moved', p, was, now };
    throw new CanaryError('git', 'changed-outside', `${p.base} now asks for ${describePercent(now)} instead of ${describePercent(was)}.`);
  }

  /**
   * The result a run ends with when the engine stopped on an error of this mode (closed,
   * moved, cancelled while proposing or waiting), else undefined (the error stands). A merge
   * that timed out throws the wait's own error (naming the pull request), unwrapped.
   */
  finish(e: unknown): RolloutResult | undefined {
    const end = (outcome: RolloutResult['outcome'], reason: string): RolloutResult => {
      this.emit({ kind: 'done', step: this.step, message: reason });
      return { outcome, step: this.step, of: this.o.of, reason, commits: [...this.commits] };
    };
    const { model, env } = this.o;
    const x = this.ending;
    if (x) {
      const at = `${this.what(x.p)} (${x.p.branch}, ${describePercent(x.p.percent)})`;
      if (x.kind === 'closed') {
        return end(
          'changed-outside',
          `Stopped: ${x.p.action === 'rollback' ? 'the rollback pull request' : 'the pull request of'} ${at} was closed without being merged; ${x.p.base} keeps ${describePercent(x.was)}${x.p.action === 'rollback' ? ', which the cluster still serves' : ''}. Nothing further was written. Run the rollout again to propose it anew.`,
        );
      }
      return end(
        'changed-outside',
        `Stopped: ${x.p.base} now asks for ${describePercent(x.now)} instead of ${describePercent(x.was)} while ${at} waited for its merge; someone else changed ${model} in ${env}. Nothing further was written; ${x.p.branch} is left open: close it.`,
      );
    }
    const open = this.open;
    if (this.o.signal?.aborted && (open || this.proposing)) {
      if (!open)
        return end(
          'stopped',
          `Stopped at step ${this.step}/${this.o.of} before its pull request was pushed: ${isCanaryError(e) ? e.message : 'nothing was proposed.'} Run the rollout again to go on.`,
        );
      const { p, was } = open;
      return end(
        'stopped',
        `Stopped at step ${this.step}/${this.o.of} while waiting for the merge of ${p.branch}${p.url ? ` (${p.url})` : ''}: that pull request is still open, and ${p.base} keeps ${describePercent(was)}. ${p.action === 'rollback' ? 'Merge it to roll back' : 'Merge it and run the rollout again to go on, or close it'}; your checkout is as it was.`,
      );
    }
    for (let c: unknown = e; c; c = c instanceof Error ? c.cause : undefined) {
      if (isCanaryError(c) && c.code === 'not-merged') throw c;
    }
    return undefined;
  }
}

/** The dry run's next step on the upstream as last fetched (no fetch): its diff and message. */
export async function previewOnUpstream(t: ProposalTarget, action: CanaryAction, message: string): Promise<ChangePreview> {
  const up = await readUpstream(t, false);
  const edit = applyCanaryAction(up.text, action, up.target.file);
  const before = parseModelConfig(up.text, up.target.file, t.env, t.model);
  const after = edit.changed ? parseModelConfig(edit.text, up.target.file, t.env, t.model) : before;
  return {
    policy: 'pull-request',
    file: up.target.file,
    rel: up.target.rel,
    changed: edit.changed,
    diff: edit.changed ? unifiedDiff(up.text, edit.text, up.target.rel) : '',
    message,
    before,
    after,
  };
}

/** The branch each remaining step would be proposed on (from step `from`, 1-based, or the one action). */
export async function plannedProposals(t: ProposalTarget, plan: Pick<RolloutPlan, 'steps'>, from: number, only?: CanaryAction): Promise<ProposalStep[]> {
  const up = await readUpstream(t, false);
  const { git, env, model } = up.target;
  const taken = new Set((await fetchedProposalRefs(git, up.where.remote, env, model)).keys());
  const remoteUrl = (await git.probe(['config', '--get', `remote.${up.where.remote}.url`]))?.trim();
  const n = plan.steps.length;
  const actions: [number, CanaryAction][] = only
    ? [[from, only]]
    : plan.steps.slice(from - 1).map((s, i) => [from + i, from + i === n ? { kind: 'promote' } : { kind: 'set', percent: s.percent }]);
  return actions.map(([step, action]) => {
    const branch = freeName(proposalStem(env, model, action), taken);
    return {
      step,
      of: n,
      action: action.kind,
      percent: proposedPercent(action),
      branch,
      base: up.where.base,
      ...proposalLink(remoteUrl, branch, up.where.base, t.forgeHosts),
      state: 'planned' as const,
    };
  });
}
