/**
 * The rollout engine's test world (test/core/rollout.test.ts): a fake gitops remote, cluster,
 * Prometheus, approver and clock behind the engine's ports, with what each port was asked.
 */
import assert from 'node:assert/strict';
import { planFromDefaults, type RolloutPlan } from '../../src/core/plan';
import type { ApprovalAnswer, ApprovalRequest, GateReading, RolloutPorts } from '../../src/core/rollout';
import type { CanaryAction } from '../../src/core/types';

export const NS = 'user1-test';
export const LATEST = 'jukebox-predictor-00002';

/** A fake gitops remote + cluster + Prometheus + clock. */
export class World {
  percent: number | undefined = undefined;
  message: string | undefined = 'Update jukebox to 4562a17c17';
  head = 'c0ffee0000000000000000000000000000000000';
  seq = 0;
  commits: { action: CanaryAction; message: string; sha: string }[] = [];
  follows: { sha: string; percent: number | undefined }[] = [];
  time = 1_000_000;
  /** Error rate / p95 the canary shows at a given desired percent. */
  errorRateAt: (p: number | undefined) => number = () => 0.01;
  p95At: (p: number | undefined) => number = () => 120;
  rpsAt: (p: number | undefined) => number = () => 5;
  followImpl: ((sha: string, percent: number | undefined, signal: AbortSignal) => Promise<void>) | undefined;
  approvals: ApprovalAnswer[] = [];
  approvalRequests: ApprovalRequest[] = [];
  gateCalls = 0;

  ports(opts: { gates?: boolean; approve?: boolean } = {}): RolloutPorts {
    const p: RolloutPorts = {
      readGit: async () => ({ percent: this.percent, message: this.message, headSha: this.head }),
      publish: async (action, message) => {
        const before = this.percent;
        this.percent = action.kind === 'set' ? action.percent : action.kind === 'rollback' ? 0 : undefined;
        if (before === this.percent && action.kind !== 'promote') return { sha: this.head, changed: false };
        this.seq++;
        this.head = `${String(this.seq).padStart(4, '0')}${'ab'.repeat(18)}`;
        this.message = message;
        this.commits.push({ action, message, sha: this.head });
        return { sha: this.head, changed: true };
      },
      follow: async (req, signal) => {
        this.follows.push({ sha: req.sha, percent: req.percent });
        req.onProgress?.(`Argo CD synced jukebox-test at ${req.sha.slice(0, 7)}`);
        if (this.followImpl) await this.followImpl(req.sha, req.percent, signal);
        return { namespace: NS, latestRevision: LATEST };
      },
      sleep: (ms, signal) =>
        new Promise<void>((resolve, reject) => {
          if (signal.aborted) return reject(new Error('aborted'));
          setImmediate(() => {
            this.time += ms;
            resolve();
          });
        }),
      now: () => this.time,
    };
    if (opts.gates !== false) {
      p.gates = async (q): Promise<GateReading> => {
        this.gateCalls++;
        assert.equal(q.namespace, NS);
        assert.equal(q.revision, LATEST);
        const rps = this.rpsAt(this.percent);
        return {
          revision: q.revision,
          window: '1m',
          rps,
          errorRate: rps > 0 ? this.errorRateAt(this.percent) : undefined,
          p95Ms: rps > 0 ? this.p95At(this.percent) : undefined,
          problem: undefined,
        };
      };
    }
    if (opts.approve) {
      p.approve = async (req) => {
        this.approvalRequests.push(req);
        return this.approvals.shift() ?? 'wait';
      };
    }
    return p;
  }
}

export function plan(steps = '10,25,50,100', extra: Partial<RolloutPlan['gates']> = {}): RolloutPlan {
  const base = planFromDefaults({ steps, pause: '1m', maxErrorRate: 0.05, maxP95: '500ms' }, 'test');
  return { ...base, gates: { ...base.gates, ...extra } };
}

export function firstLines(w: World): string[] {
  return w.commits.map((c) => c.message.split('\n')[0]!);
}
