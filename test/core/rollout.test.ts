/**
 * The progressive rollout engine (src/core/rollout.ts) against a fake world: steps, gates,
 * approvals, promote / abort requests, resuming from git, rollbacks, trailers and rolloutState.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CanaryError } from '../../src/core/errors';
import { parseInlineSteps, planHash } from '../../src/core/plan';
import {
  evaluateGates,
  formatTrailer,
  parseTrailer,
  rolloutState,
  startPoint,
  startRollout,
  type GateReading,
  type RolloutEvent,
} from '../../src/core/rollout';
import { firstLines, plan, World } from './rollout-world';

test('a healthy canary goes 10 → 25 → 50 → 100 in one commit per step, each followed until live', async () => {
  const w = new World();
  const events: RolloutEvent[] = [];
  const run = startRollout({ env: 'test', model: 'jukebox', plan: plan(), ports: w.ports(), onEvent: (e) => events.push(e) });
  const r = await run.result;
  assert.equal(r.outcome, 'completed', r.reason);
  assert.deepEqual(firstLines(w), [
    'Progressive rollout of jukebox in test: step 1/4, 10%',
    'Progressive rollout of jukebox in test: step 2/4, 25%',
    'Progressive rollout of jukebox in test: step 3/4, 50%',
    'Progressive rollout of jukebox in test: step 4/4, 100% (promote)',
  ]);
  assert.deepEqual(
    w.commits.map((c) => c.action),
    [{ kind: 'set', percent: 10 }, { kind: 'set', percent: 25 }, { kind: 'set', percent: 50 }, { kind: 'promote' }],
  );
  const hash = planHash(plan());
  assert.deepEqual(
    w.commits.map((c) => parseTrailer(c.message)),
    [1, 2, 3, 4].map((step) => ({ kind: 'step', step, of: 4, plan: hash })),
  );
  assert.deepEqual(
    w.follows,
    w.commits.map((c, i) => ({ sha: c.sha, percent: [10, 25, 50, undefined][i] })),
  );
  assert.equal(w.percent, undefined);
  assert.equal(r.commits.length, 4);
  // three watched steps of 1 min, checked every 15 s
  assert.equal(w.gateCalls, 12);
  assert.ok(
    events.some((e) => e.kind === 'gates' && /gates passed: error rate 1%, p95 120ms/.test(e.message)),
    events.map((e) => e.message).join('\n'),
  );
});

test('a canary answering 23% errors is rolled back to 0% with a commit naming the failed gate', async () => {
  const w = new World();
  w.errorRateAt = (p) => (p === 25 ? 0.23 : 0.01);
  const r = await startRollout({ env: 'test', model: 'jukebox', plan: plan(), ports: w.ports() }).result;
  assert.equal(r.outcome, 'rolled-back');
  assert.equal(r.step, 2);
  assert.deepEqual(firstLines(w), [
    'Progressive rollout of jukebox in test: step 1/4, 10%',
    'Progressive rollout of jukebox in test: step 2/4, 25%',
    'Roll back jukebox in test: gate error-rate failed (23% > 5%)',
  ]);
  assert.deepEqual(w.commits[2]!.action, { kind: 'rollback' });
  assert.equal(w.percent, 0);
  assert.match(w.commits[2]!.message, /error rate 23%.*on jukebox-predictor-00002/);
  assert.deepEqual(parseTrailer(w.commits[2]!.message), { kind: 'rollback', step: 2, of: 4, plan: planHash(plan()) });
  assert.match(r.reason, /gate error-rate failed \(23% > 5%\)/);
  // the rollback is followed until live too
  assert.deepEqual(w.follows.at(-1), { sha: w.commits[2]!.sha, percent: 0 });
});

test('a slow canary fails the p95 gate', async () => {
  const w = new World();
  w.p95At = (p) => (p === 10 ? 1500 : 100);
  const r = await startRollout({ env: 'test', model: 'jukebox', plan: plan(), ports: w.ports() }).result;
  assert.equal(r.outcome, 'rolled-back');
  assert.equal(firstLines(w).at(-1), 'Roll back jukebox in test: gate p95-latency failed (1.5s > 500ms)');
});

test('a restart in the middle resumes at the step git holds, without a second commit for it', async () => {
  const w = new World();
  const stop = new AbortController();
  const run1 = startRollout({
    env: 'test',
    model: 'jukebox',
    plan: plan(),
    ports: w.ports(),
    signal: stop.signal,
    onEvent: (e) => {
      if (e.kind === 'live' && e.step === 2) stop.abort();
    },
  });
  const r1 = await run1.result;
  assert.equal(r1.outcome, 'stopped');
  assert.equal(r1.step, 2);
  assert.match(r1.reason, /Run the rollout again to resume/);
  assert.equal(w.percent, 25);
  assert.equal(w.commits.length, 2);

  const events: RolloutEvent[] = [];
  const r2 = await startRollout({ env: 'test', model: 'jukebox', plan: plan(), ports: w.ports(), onEvent: (e) => events.push(e) }).result;
  assert.equal(r2.outcome, 'completed');
  assert.ok(
    events.some((e) => e.kind === 'resume' && /Resuming at step 2\/4: git is at step 2\/4 \(25%\)/.test(e.message)),
    events.map((e) => e.message).join('\n'),
  );
  assert.deepEqual(firstLines(w).slice(2), [
    'Progressive rollout of jukebox in test: step 3/4, 50%',
    'Progressive rollout of jukebox in test: step 4/4, 100% (promote)',
  ]);
  // step 2 was followed again (it may not have been live yet) before its gates were watched
  assert.equal(w.follows.filter((f) => f.percent === 25).length, 2);
});

test('a percent set by hand resumes at that step; one between steps goes on to the next step', async () => {
  const p = plan();
  assert.deepEqual(startPoint(p, { percent: 50, message: 'manual', headSha: 'x' }), {
    index: 2,
    committed: true,
    completed: false,
    resumed: true,
    why: 'git already asks for 50%, which is step 3/4',
  });
  const mid = startPoint(p, { percent: 30, message: undefined, headSha: 'x' });
  assert.equal(mid.index, 2);
  assert.equal(mid.committed, false);
  for (const percent of [0, undefined, 100]) {
    const s = startPoint(p, { percent, message: 'x', headSha: 'x' });
    assert.equal(s.index, 0);
    assert.equal(s.resumed, false);
  }
  // a trailer of another plan is not trusted
  const other = formatTrailer({ kind: 'step', step: 3, of: 4, plan: 'deadbeef' });
  assert.equal(startPoint(p, { percent: undefined, message: `x\n\n${other}`, headSha: 'x' }).completed, false);
  // the last step of this plan already in git: completed, unless a restart is asked for
  const done = formatTrailer({ kind: 'step', step: 4, of: 4, plan: planHash(p) });
  assert.equal(startPoint(p, { percent: undefined, message: `y\n\n${done}`, headSha: 'x' }).completed, true);
  assert.equal(startPoint(p, { percent: undefined, message: `y\n\n${done}`, headSha: 'x' }, true).index, 0);
});

test('a completed plan is not started again by accident', async () => {
  const w = new World();
  await startRollout({ env: 'test', model: 'jukebox', plan: plan(), ports: w.ports() }).result;
  const n = w.commits.length;
  const again = await startRollout({ env: 'test', model: 'jukebox', plan: plan(), ports: w.ports() }).result;
  assert.equal(again.outcome, 'completed');
  assert.match(again.reason, /Nothing to do/);
  assert.equal(w.commits.length, n);
  const restart = await startRollout({ env: 'test', model: 'jukebox', plan: plan(), ports: w.ports(), restart: true }).result;
  assert.equal(restart.outcome, 'completed');
  assert.equal(w.commits.length, 2 * n);
});

test('a manual gate waits for approval: the run ends awaiting it, a second run with approval goes on', async () => {
  const w = new World();
  const p = { ...plan(), steps: parseInlineSteps('10,50:manual,100', 60000) };
  const r1 = await startRollout({ env: 'test', model: 'jukebox', plan: p, ports: w.ports({ approve: true }) }).result;
  assert.equal(r1.outcome, 'awaiting-approval');
  assert.equal(r1.step, 2);
  assert.match(r1.reason, /--approve/);
  assert.equal(w.percent, 50);
  assert.equal(w.approvalRequests[0]!.reason, 'manual');
  assert.equal(w.approvalRequests[0]!.next, 100);

  w.approvals = ['approve'];
  const r2 = await startRollout({ env: 'test', model: 'jukebox', plan: p, ports: w.ports({ approve: true }) }).result;
  assert.equal(r2.outcome, 'completed');
  assert.deepEqual(firstLines(w), [
    'Progressive rollout of jukebox in test: step 1/3, 10%',
    'Progressive rollout of jukebox in test: step 2/3, 50%',
    'Progressive rollout of jukebox in test: step 3/3, 100% (promote)',
  ]);
});

test('a manual gate is approved in-process with run.approve() (the workbench button)', async () => {
  const w = new World();
  const p = { ...plan(), steps: parseInlineSteps('10:manual,100', 60000) };
  let waited = false;
  const run = startRollout({
    env: 'test',
    model: 'jukebox',
    plan: p,
    ports: w.ports(),
    onEvent: (e) => {
      if (e.kind === 'waiting' && /waits for approval/.test(e.message)) {
        waited = true;
        setImmediate(() => run.approve());
      }
    },
  });
  const r = await run.result;
  assert.ok(waited);
  assert.equal(r.outcome, 'completed');
  assert.equal(w.commits.length, 2);
});

test('rejecting at approval rolls back', async () => {
  const w = new World();
  w.approvals = ['rollback'];
  const p = { ...plan(), steps: parseInlineSteps('10:manual,100', 60000) };
  const r = await startRollout({ env: 'test', model: 'jukebox', plan: p, ports: w.ports({ approve: true }) }).result;
  assert.equal(r.outcome, 'aborted');
  assert.equal(firstLines(w).at(-1), 'Roll back jukebox in test: step 1/2 rejected at approval');
});

test('abort during a pause rolls back now, with a commit saying so', async () => {
  const w = new World();
  const run = startRollout({
    env: 'test',
    model: 'jukebox',
    plan: plan(),
    ports: w.ports(),
    onEvent: (e) => {
      if (e.kind === 'gates' && e.step === 2) run.abort();
    },
  });
  const r = await run.result;
  assert.equal(r.outcome, 'aborted');
  assert.equal(firstLines(w).at(-1), 'Roll back jukebox in test: rollout aborted at step 2/4 (requested)');
  assert.equal(w.percent, 0);
});

test('promote during a follow that never ends finishes the rollout now', async () => {
  const w = new World();
  w.followImpl = (_sha, percent, signal) =>
    percent === 25 ? new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('stopped following')))) : Promise.resolve();
  const run = startRollout({
    env: 'test',
    model: 'jukebox',
    plan: plan(),
    ports: w.ports(),
    onEvent: (e) => {
      if (e.kind === 'follow' && e.step === 2) setImmediate(() => run.promote());
    },
  });
  const r = await run.result;
  assert.equal(r.outcome, 'promoted');
  assert.equal(firstLines(w).at(-1), 'Promote jukebox in test: rollout finished early at step 2/4 (requested)');
  assert.deepEqual(w.commits.at(-1)!.action, { kind: 'promote' });
  assert.equal(w.percent, undefined);
});

test('a step that never goes live is rolled back, saying where it got stuck', async () => {
  const w = new World();
  w.followImpl = async (_sha, percent) => {
    if (percent === 10)
      throw new CanaryError('timeout', 'rollout-timeout', 'Timed out after 300 s: KServe has not rolled out latest 10%: new revision not ready.');
  };
  const r = await startRollout({ env: 'test', model: 'jukebox', plan: plan(), ports: w.ports() }).result;
  assert.equal(r.outcome, 'rolled-back');
  assert.match(firstLines(w).at(-1)!, /^Roll back jukebox in test: step 1\/4 did not go live \(Timed out after 300 s: .*new revision not ready\)$/);
});

test('no traffic on the canary makes the gates inconclusive: it asks for approval instead of guessing', async () => {
  const w = new World();
  w.rpsAt = () => 0;
  const r = await startRollout({ env: 'test', model: 'jukebox', plan: plan(), ports: w.ports({ approve: true }) }).result;
  assert.equal(r.outcome, 'awaiting-approval');
  assert.equal(w.approvalRequests[0]!.reason, 'inconclusive');
  assert.match(w.approvalRequests[0]!.message, /no traffic reached jukebox-predictor-00002/);
  assert.equal(w.percent, 10);
});

test('gates without a metrics source are refused before anything is committed; --no-gates runs on time only', async () => {
  const w = new World();
  await assert.rejects(
    startRollout({ env: 'test', model: 'jukebox', plan: plan(), ports: w.ports({ gates: false }) }).result,
    (e: unknown) => e instanceof CanaryError && e.code === 'no-metrics' && /--no-gates/.test(e.hint ?? ''),
  );
  assert.equal(w.commits.length, 0);
  const r = await startRollout({ env: 'test', model: 'jukebox', plan: plan(), ports: w.ports({ gates: false }), ignoreGates: true }).result;
  assert.equal(r.outcome, 'completed');
  assert.equal(w.commits.length, 4);
});

test('someone changing the percent between steps stops the run without fighting it', async () => {
  const w = new World();
  const run = startRollout({
    env: 'test',
    model: 'jukebox',
    plan: plan(),
    ports: w.ports(),
    onEvent: (e) => {
      if (e.kind === 'live' && e.step === 1) w.percent = 0;
    },
  });
  const r = await run.result;
  assert.equal(r.outcome, 'changed-outside');
  assert.match(r.reason, /git now asks for 0% instead of 10%/);
  assert.equal(w.commits.length, 1);
});

test('evaluateGates: fail names the gate, missing data is inconclusive, never a pass', () => {
  const g = { maxErrorRate: 0.05, maxP95Ms: 500 };
  const base: GateReading = { revision: 'r', window: '1m', rps: 10, errorRate: 0.01, p95Ms: 100, problem: undefined };
  assert.equal(evaluateGates(g, base).verdict, 'pass');
  assert.deepEqual(evaluateGates(g, { ...base, errorRate: 0.2 }).failed, { gate: 'error-rate', detail: '20% > 5%' });
  assert.deepEqual(evaluateGates(g, { ...base, p95Ms: 730 }).failed, { gate: 'p95-latency', detail: '730ms > 500ms' });
  assert.equal(evaluateGates(g, { ...base, rps: 0, errorRate: undefined, p95Ms: undefined }).verdict, 'inconclusive');
  assert.equal(
    evaluateGates(g, { ...base, rps: undefined, errorRate: undefined, p95Ms: undefined, problem: 'Prometheus query failed' }).verdict,
    'inconclusive',
  );
  assert.equal(evaluateGates(g, { ...base, p95Ms: undefined }).verdict, 'inconclusive');
  assert.equal(evaluateGates({ maxErrorRate: 0.05 }, { ...base, p95Ms: undefined }).verdict, 'pass');
  // exactly at the threshold passes
  assert.equal(evaluateGates(g, { ...base, errorRate: 0.05, p95Ms: 500 }).verdict, 'pass');
});

test('trailers round-trip and only well-formed ones are read', () => {
  for (const t of [
    { kind: 'step', step: 2, of: 4, plan: 'a1b2c3d4' },
    { kind: 'rollback', step: 1, of: 3, plan: '00000000' },
    { kind: 'promote', step: 3, of: 5, plan: 'ffffffff' },
  ] as const) {
    assert.deepEqual(parseTrailer(`subject\n\nbody\n\n${formatTrailer(t)}\n`), t);
  }
  assert.equal(formatTrailer({ kind: 'step', step: 2, of: 4, plan: 'a1b2c3d4' }), 'Canary-Rollout: step=2/4 plan=a1b2c3d4');
  assert.equal(parseTrailer('Canary-Rollout: step=two/4 plan=a1b2c3d4'), undefined);
  assert.equal(parseTrailer(undefined), undefined);
});

test('promote / abort at once (another terminal, a button): one commit, no gates needed', async () => {
  const w = new World();
  w.percent = 25;
  w.message = `Progressive rollout of jukebox in test: step 2/4, 25%\n\n${formatTrailer({ kind: 'step', step: 2, of: 4, plan: planHash(plan()) })}`;
  const a = await startRollout({ env: 'test', model: 'jukebox', plan: plan(), ports: w.ports({ gates: false }), action: 'abort' }).result;
  assert.equal(a.outcome, 'aborted');
  assert.deepEqual(firstLines(w), ['Roll back jukebox in test: rollout aborted at step 2/4 (requested)']);
  assert.equal(w.percent, 0);
  const p = await startRollout({ env: 'test', model: 'jukebox', plan: plan(), ports: w.ports({ gates: false }), action: 'promote' }).result;
  assert.equal(p.outcome, 'promoted');
  assert.equal(firstLines(w)[1], 'Promote jukebox in test: rollout finished early at step 1/4 (requested)');
  assert.equal(w.percent, undefined);
});

test('an abort from another terminal during a pause stops this run instead of going on', async () => {
  const w = new World();
  const r = await startRollout({
    env: 'test',
    model: 'jukebox',
    plan: plan('10,100'),
    ports: w.ports({ gates: false }),
    ignoreGates: true,
    onEvent: (e) => {
      if (e.kind === 'waiting' && e.step === 1) w.percent = 0;
    },
  }).result;
  assert.equal(r.outcome, 'changed-outside');
  assert.equal(r.step, 1);
  assert.match(r.reason, /git now asks for 0% instead of 10%/);
  assert.deepEqual(firstLines(w), ['Progressive rollout of jukebox in test: step 1/2, 10%']);
});

test('a rollback that cannot be pushed says so loudly, with what to do', async () => {
  const w = new World();
  w.errorRateAt = () => 0.5;
  const ports = w.ports();
  const publish = ports.publish;
  ports.publish = async (action, message, signal) => {
    if (action.kind === 'rollback') throw new CanaryError('git', 'push-rejected', 'The remote refused the push.', 'Pull and try again.');
    return publish(action, message, signal);
  };
  await assert.rejects(startRollout({ env: 'test', model: 'jukebox', plan: plan(), ports }).result, (e: unknown) => {
    assert.ok(e instanceof CanaryError);
    assert.equal(e.code, 'push-rejected');
    assert.match(e.message, /^The rollback of jukebox in test \(gate error-rate failed \(50% > 5%\)\) could not be pushed: The remote refused the push\.$/);
    assert.match(e.hint ?? '', /Pull and try again\. Then roll back by hand: kserve-canary rollback jukebox --env test\./);
    return true;
  });
});

test('rolloutState reads where a rollout stands from git alone', () => {
  const p = plan();
  const h = planHash(p);
  const at = (percent: number | undefined, trailer?: string) =>
    rolloutState(p, { percent, message: trailer ? `subject\n\n${trailer}` : 'Set canary traffic to 30%', headSha: 'x' });
  assert.deepEqual(at(30), { state: 'none', text: 'no rollout in git (canary at 30%)' });
  assert.deepEqual(at(25, formatTrailer({ kind: 'step', step: 2, of: 4, plan: h })), {
    state: 'in-progress',
    step: 2,
    of: 4,
    samePlan: true,
    text: `in progress: step 2/4 at 25% (plan ${h})`,
  });
  assert.equal(at(undefined, formatTrailer({ kind: 'step', step: 4, of: 4, plan: h })).state, 'completed');
  assert.equal(
    at(0, formatTrailer({ kind: 'rollback', step: 2, of: 4, plan: 'deadbeef' })).text,
    'rolled back at step 2/4 (plan deadbeef, not the current plan); canary at 0%',
  );
  assert.equal(at(undefined, formatTrailer({ kind: 'promote', step: 3, of: 4, plan: h })).state, 'promoted');
});
