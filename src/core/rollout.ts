/**
 * The progressive rollout engine: walks a plan (src/core/plan.ts) one git commit per step.
 *
 * For each step: commit + push the new canary percent (message naming the step, with a
 * `Canary-Rollout:` trailer), follow it until the cluster serves it, watch the metric gates
 * over the pause, then advance, wait for an approval (manual gate, or gates that could not
 * be measured), or roll back with a commit to 0% that says which gate failed and by how much.
 * The last step (100) is a promotion (the canary block is removed).
 *
 * Everything the engine touches goes through injected ports (publish, follow, gates, clock,
 * approval), so it runs the same in the CLI, the extension and the tests.
 *
 * Resumable: the engine keeps no state of its own between runs. On start it reads the
 * desired percent and the last commit message of the model's config.yaml from git
 * (`readGit`), finds its step from the trailer (or, without one, from the percent), and
 * continues there: a restart in the middle re-follows the current step, watches its gates
 * again for the whole pause and goes on. Someone changing the percent meanwhile (another
 * terminal's abort/promote, a manual `set`) stops the run instead of fighting it.
 *
 * This file owns the run itself (RolloutRun: steps, waits, approvals, rollback, promotion);
 * its types are in rollout-types.ts, the gates' judgement in rollout-gates.ts, the trailer and
 * the start point from git in rollout-resume.ts, the requests and interruptible waits and the
 * real clock in rollout-control.ts, all re-exported from here.
 */
import { CanaryError, isCanaryError } from './errors';
import type { CanaryAction } from './types';
import { describeGates, describePlan, formatDuration, hasGates, planHash, type PlanStep } from './plan';
import { evaluateGates } from './rollout-gates';
import { Interrupted, RunControl, type RunRequest } from './rollout-control';
import { describePercent, effective, formatTrailer, startPoint } from './rollout-resume';
import type {
  ApprovalAnswer,
  ApprovalReason,
  ApprovalRequest,
  GateEvaluation,
  GitSnapshot,
  LiveInfo,
  RolloutOptions,
  RolloutOutcome,
  RolloutResult,
  RolloutEvent,
} from './rollout-types';

// The engine's types, gate judgement and git reading live beside it; callers import them from here.
export type {
  ApprovalAnswer,
  ApprovalReason,
  ApprovalRequest,
  GateEvaluation,
  GateReading,
  GitSnapshot,
  LiveInfo,
  RolloutEvent,
  RolloutEventKind,
  RolloutOptions,
  RolloutOutcome,
  RolloutPorts,
  RolloutResult,
} from './rollout-types';
export { evaluateGates } from './rollout-gates';
export { systemClock } from './rollout-control';
export { formatTrailer, parseTrailer, rolloutState, startPoint, TRAILER_KEY, type RolloutState, type RolloutTrailer, type StartPoint } from './rollout-resume';

/**
 * One run of a plan. `result` settles when the run ends; promote(), abort() and approve()
 * may be called at any time (from a button, a second command...).
 */
export class RolloutRun {
  readonly result: Promise<RolloutResult>;
  private readonly control: RunControl;
  private readonly commits: { sha: string; message: string }[] = [];
  private readonly hash: string;
  private readonly n: number;
  private stepNo = 1;
  /** The percent this run last saw or put in git. */
  private expected: number | undefined;

  constructor(private readonly o: RolloutOptions) {
    this.hash = planHash(o.plan);
    this.n = o.plan.steps.length;
    this.control = new RunControl(o.signal);
    this.result = this.run();
  }

  /** Finish now: promote (100% latest) with a commit. */
  promote(): void {
    this.control.request('promote');
  }

  /** Roll back now (0%) with a commit. */
  abort(): void {
    this.control.request('abort');
  }

  /** Approve the step waiting for an approval (ignored otherwise). */
  approve(): void {
    this.control.request('approve');
  }

  private emit(e: RolloutEvent): void {
    try {
      this.o.onEvent?.(e);
    } catch {
      // a listener's failure does not stop the rollout
    }
  }

  private get stopped(): boolean {
    return this.o.signal?.aborted ?? false;
  }

  private end(outcome: RolloutOutcome, reason: string): RolloutResult {
    const r: RolloutResult = { outcome, step: this.stepNo, of: this.n, reason, commits: [...this.commits] };
    this.emit({ kind: 'done', message: reason, step: this.stepNo });
    return r;
  }

  private async run(): Promise<RolloutResult> {
    const { plan, ports, model, env } = this.o;
    const gatesOn = hasGates(plan.gates) && !this.o.ignoreGates;
    if (gatesOn && !ports.gates && !this.o.action) {
      throw new CanaryError(
        'invalid-input',
        'no-metrics',
        `The plan has metric gates (${describeGates(plan.gates)}) but no Prometheus is configured to measure them.`,
        'Configure the Prometheus URL (setting or --prometheus), or run without gates on purpose (--no-gates).',
      );
    }
    const git = await ports.readGit(this.o.signal);
    const start = startPoint(plan, git, this.o.restart);
    this.stepNo = start.index + 1;
    if (this.o.action) return this.finishOnRequest(this.o.action);
    this.emit({
      kind: 'plan',
      message: `Plan for ${model} in ${env} (${plan.source}): ${describePlan(plan)}; ${gatesOn ? describeGates(plan.gates) : 'no metric gates'} [plan ${this.hash}]`,
    });
    if (start.completed) {
      return this.end('completed', `Nothing to do: ${start.why}. Run with --restart to start over.`);
    }
    if (start.resumed) this.emit({ kind: 'resume', step: this.stepNo, message: `Resuming at step ${this.stepNo}/${this.n}: ${start.why}.` });
    this.expected = git.percent;
    let committed = start.committed;
    try {
      for (let i = start.index; i < this.n; i++) {
        this.stepNo = i + 1;
        const step = plan.steps[i]!;
        const last = i === this.n - 1;
        const early = this.control.take(['promote', 'abort']);
        if (early) return await this.finishOnRequest(early);
        if (!committed && i !== start.index) {
          const now = await ports.readGit(this.o.signal);
          const moved = this.movedOutside(now);
          if (moved) return moved;
        }
        const action: CanaryAction = last ? { kind: 'promote' } : { kind: 'set', percent: step.percent };
        const message = `Progressive rollout of ${model} in ${env}: step ${i + 1}/${this.n}, ${step.percent}%${last ? ' (promote)' : ''}\n\n${formatTrailer({ kind: 'step', step: i + 1, of: this.n, plan: this.hash })}`;
        if (!committed)
          this.emit({
            kind: 'publish',
            step: i + 1,
            message: `Step ${i + 1}/${this.n}: ${last ? 'promoting (100% latest)' : `setting canary traffic to ${step.percent}%`}`,
          });
        // Resuming publishes too: a no-op when the step is pushed, and it pushes a step commit
        // an interrupted run made but did not push (publish finishes interrupted runs).
        const res = await ports.publish(action, message, this.o.signal);
        if (res.changed) this.commits.push({ sha: res.sha, message });
        const headSha = res.sha;
        this.expected = last ? undefined : step.percent;
        this.emit({
          kind: 'published',
          step: i + 1,
          message: res.changed
            ? `Committed and pushed ${res.sha.slice(0, 10)}`
            : `Already at ${last ? '100% latest' : `${step.percent}%`} in git (${res.sha.slice(0, 10)}, pushed)`,
        });
        committed = false;
        const live = await this.followStep(headSha, last ? undefined : step.percent, i);
        if (live.kind === 'ended') return live.result;
        if (last) return this.end('completed', `Rollout of ${model} in ${env} completed: promoted, 100% to the latest revision.`);
        const watched = await this.watch(step, i, live.info);
        if (watched) return watched;
      }
    } catch (e) {
      if (e instanceof Interrupted) {
        if (e.by === 'stop')
          return this.end('stopped', `Stopped at step ${this.stepNo}/${this.n}; git keeps ${describePercent(this.expected)}. Run the rollout again to resume.`);
        const r = this.control.take(['promote', 'abort']);
        if (r) return await this.finishOnRequest(r);
      }
      throw e;
    }
    return this.end('completed', `Rollout of ${model} in ${env} completed.`);
  }

  /** Ends the run when git no longer holds what this run put there (another terminal's abort, a manual set). */
  private movedOutside(now: GitSnapshot): RolloutResult | undefined {
    if (effective(now.percent) === effective(this.expected)) return undefined;
    const { model, env } = this.o;
    return this.end(
      'changed-outside',
      `Stopped: git now asks for ${describePercent(now.percent)} instead of ${describePercent(this.expected)}; someone else changed ${model} in ${env}. Nothing was committed.`,
    );
  }

  private async followStep(
    sha: string | undefined,
    percent: number | undefined,
    i: number,
  ): Promise<{ kind: 'live'; info: LiveInfo } | { kind: 'ended'; result: RolloutResult }> {
    const { ports } = this.o;
    if (!sha) throw new CanaryError('git', 'no-head', 'Could not tell which commit the cluster should serve (no HEAD).', 'Check the gitops checkout.');
    try {
      const info = await this.control.wait(
        (signal) => ports.follow({ sha, percent, onProgress: (line) => this.emit({ kind: 'follow', step: i + 1, message: line }) }, signal),
        ['promote', 'abort'],
      );
      this.emit({ kind: 'live', step: i + 1, message: `Step ${i + 1}/${this.n} is live: ${percent === undefined ? '100% latest' : `latest ${percent}%`}` });
      return { kind: 'live', info };
    } catch (e) {
      if (e instanceof Interrupted) throw e;
      if (isCanaryError(e) && e.kind === 'timeout') {
        const result = await this.rollback(`step ${i + 1}/${this.n} did not go live (${e.message.replace(/\.$/, '')})`, 'rolled-back');
        return { kind: 'ended', result };
      }
      throw e;
    }
  }

  /** Watches the gates over the pause, then waits for an approval when needed. Returns a result when the run ends here. */
  private async watch(step: PlanStep, i: number, info: LiveInfo): Promise<RolloutResult | undefined> {
    const { plan, ports } = this.o;
    const gatesOn = hasGates(plan.gates) && !this.o.ignoreGates && !!ports.gates;
    const next = plan.steps[i + 1]!.percent;
    const windowMs = plan.gates.windowMs ?? Math.max(step.pauseMs, 30000);
    let lastEval: GateEvaluation | undefined;
    if (gatesOn && (!info.namespace || !info.latestRevision)) {
      lastEval = { verdict: 'inconclusive', summary: 'the cluster did not say which revision is the canary, so the gates cannot be measured' };
    }
    const measure = async (): Promise<GateEvaluation> => {
      const reading = await this.control.wait(
        (signal) => ports.gates!({ namespace: info.namespace!, revision: info.latestRevision!, windowMs }, signal),
        ['promote', 'abort'],
      );
      const ev = evaluateGates(plan.gates, reading);
      this.emit({ kind: 'gates', step: i + 1, message: `Step ${i + 1}/${this.n}: ${ev.summary}`, reading, evaluation: ev });
      return ev;
    };
    if (step.pauseMs > 0) {
      this.emit({
        kind: 'waiting',
        step: i + 1,
        message: `Step ${i + 1}/${this.n}: watching for ${formatDuration(step.pauseMs)}${gatesOn ? ` (${describeGates(plan.gates)})` : ''}`,
      });
      const until = ports.now() + step.pauseMs;
      const every = Math.max(1000, Math.min(this.o.checkEveryMs ?? 15000, step.pauseMs));
      while (ports.now() < until) {
        await this.control.wait((signal) => ports.sleep(Math.min(every, until - ports.now()), signal), ['promote', 'abort']);
        let snapshot: GitSnapshot | undefined;
        try {
          snapshot = await this.control.wait((signal) => ports.readGit(signal), ['promote', 'abort']);
        } catch (e) {
          if (e instanceof Interrupted) throw e;
          this.emit({ kind: 'follow', step: i + 1, message: `Could not re-read git (${e instanceof Error ? e.message : String(e)}); going on.` });
        }
        const moved = snapshot && this.movedOutside(snapshot);
        if (moved) return moved;
        if (gatesOn && info.namespace && info.latestRevision) {
          lastEval = await measure();
          if (lastEval.verdict === 'fail') return this.rollback(lastEval.summary.replace(/:.*$/, ''), 'rolled-back', lastEval.summary);
        }
      }
    } else if (gatesOn && info.namespace && info.latestRevision) {
      lastEval = await measure();
      if (lastEval.verdict === 'fail') return this.rollback(lastEval.summary.replace(/:.*$/, ''), 'rolled-back', lastEval.summary);
    }
    const inconclusive = gatesOn && lastEval?.verdict !== 'pass';
    if (!inconclusive && !step.manual) return undefined;
    const reason: ApprovalReason = inconclusive ? 'inconclusive' : 'manual';
    const message = inconclusive
      ? `Step ${i + 1}/${this.n} (${step.percent}%): ${lastEval?.summary ?? 'no gate reading'}. Approve to go on to ${next}%, or abort.`
      : `Step ${i + 1}/${this.n} (${step.percent}%) waits for approval before ${next}%.`;
    return this.awaitApproval({ step: i + 1, of: this.n, percent: step.percent, next, reason, message });
  }

  private async awaitApproval(req: ApprovalRequest): Promise<RolloutResult | undefined> {
    const { ports } = this.o;
    this.emit({ kind: 'waiting', step: req.step, message: req.message });
    if (this.control.take(['approve'])) {
      this.emit({ kind: 'approved', step: req.step, message: `Step ${req.step}/${req.of} approved.` });
      return undefined;
    }
    let answer: ApprovalAnswer;
    try {
      answer = await this.control.wait(
        (signal) => (ports.approve ? ports.approve(req, signal) : new Promise<ApprovalAnswer>(() => undefined)),
        ['promote', 'abort', 'approve'],
      );
    } catch (e) {
      if (e instanceof Interrupted && e.by === 'request' && this.control.take(['approve'])) answer = 'approve';
      else throw e;
    }
    if (answer === 'approve') {
      this.emit({ kind: 'approved', step: req.step, message: `Step ${req.step}/${req.of} approved.` });
      return undefined;
    }
    if (answer === 'rollback') return this.rollback(`step ${req.step}/${req.of} rejected at approval`, 'aborted');
    return this.end(
      'awaiting-approval',
      `Waiting for approval at step ${req.step}/${req.of} (${req.percent}%); git keeps ${req.percent}%. Run the rollout again with --approve to go on, or --abort to roll back.`,
    );
  }

  private async finishOnRequest(r: RunRequest): Promise<RolloutResult> {
    if (r === 'abort') return this.rollback(`rollout aborted at step ${this.stepNo}/${this.n} (requested)`, 'aborted');
    const { model, env, ports } = this.o;
    const message = `Promote ${model} in ${env}: rollout finished early at step ${this.stepNo}/${this.n} (requested)\n\n${formatTrailer({ kind: 'promote', step: this.stepNo, of: this.n, plan: this.hash })}`;
    this.emit({ kind: 'promote', step: this.stepNo, message: `Promoting ${model} in ${env} now (100% latest).` });
    const res = await ports.publish({ kind: 'promote' }, message, this.o.signal);
    this.commits.push({ sha: res.sha, message });
    await this.followQuietly(res.sha, undefined);
    return this.end('promoted', `Promoted ${model} in ${env} at step ${this.stepNo}/${this.n} on request (${res.sha.slice(0, 10)}).`);
  }

  /** Commits 0% with the reason in the message, follows it, and ends the run. */
  private async rollback(why: string, outcome: 'rolled-back' | 'aborted', detail?: string): Promise<RolloutResult> {
    const { model, env, ports } = this.o;
    const message = `Roll back ${model} in ${env}: ${why}${detail && detail !== why ? `\n\n${detail}` : ''}\n\n${formatTrailer({ kind: 'rollback', step: this.stepNo, of: this.n, plan: this.hash })}`;
    this.emit({ kind: 'rollback', step: this.stepNo, message: `Rolling back ${model} in ${env} to 0%: ${why}` });
    let res: { sha: string; changed: boolean };
    try {
      res = await ports.publish({ kind: 'rollback' }, message, undefined);
    } catch (e) {
      const m = e instanceof Error ? e.message : String(e);
      throw new CanaryError(
        isCanaryError(e) ? e.kind : 'internal',
        isCanaryError(e) ? e.code : 'rollback-failed',
        `The rollback of ${model} in ${env} (${why}) could not be pushed: ${m}`,
        `${isCanaryError(e) && e.hint ? `${e.hint} ` : ''}Then roll back by hand: kserve-canary rollback ${model} --env ${env}.`,
        { cause: e },
      );
    }
    this.commits.push({ sha: res.sha, message });
    await this.followQuietly(res.sha, 0);
    return this.end(outcome, `Rolled back ${model} in ${env} to 0% (${res.sha.slice(0, 10)}): ${why}.`);
  }

  /** Follows a final commit; its failure is reported but does not undo the commit. */
  private async followQuietly(sha: string, percent: number | undefined): Promise<void> {
    if (this.stopped) return;
    const ctl = new AbortController();
    const onStop = () => ctl.abort();
    this.o.signal?.addEventListener('abort', onStop, { once: true });
    try {
      await this.o.ports.follow({ sha, percent, onProgress: (line) => this.emit({ kind: 'follow', step: this.stepNo, message: line }) }, ctl.signal);
      this.emit({ kind: 'live', step: this.stepNo, message: `Live: ${describePercent(percent)}` });
    } catch (e) {
      this.emit({
        kind: 'follow',
        step: this.stepNo,
        message: `Pushed ${sha.slice(0, 10)}, but could not confirm it is live: ${e instanceof Error ? e.message : String(e)}`,
      });
    } finally {
      this.o.signal?.removeEventListener('abort', onStop);
    }
  }
}

/** Starts a run. */
export function startRollout(o: RolloutOptions): RolloutRun {
  return new RolloutRun(o);
}
