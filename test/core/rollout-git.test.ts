/**
 * The rollout engine over real git (a temporary bare remote and clones), with a fake
 * cluster and Prometheus: every step is a pushed commit, the state is read back from git.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { publishCanaryChange } from '../../src/core/publish';
import { planFromDefaults, planHash } from '../../src/core/plan';
import { parseTrailer, startRollout, type GateReading, type RolloutPorts } from '../../src/core/rollout';
import { gitRolloutPorts, readGitSnapshot } from '../../src/core/rollout-git';
import { git, makeSandbox, testGitEnv, TEST_CONFIG_REL, type Sandbox } from './git-helpers';

const sandboxes: Sandbox[] = [];
after(() => sandboxes.forEach((s) => s.cleanup()));

const plan = planFromDefaults({ steps: '10,25,50,100', pause: '30s', maxErrorRate: '5%' }, 'test');

async function freshClone(): Promise<{ sb: Sandbox; root: string }> {
  const sb = makeSandbox();
  sandboxes.push(sb);
  const root = sb.clone('a');
  // start from a rolled-back canary (the workshop file has 10%)
  await publishCanaryChange({ root, env: 'test', model: 'jukebox', action: { kind: 'rollback' }, processEnv: testGitEnv() });
  return { sb, root };
}

/** Fake cluster + Prometheus + clock around the real git ports; `errorRate(percent)` per step. */
function ports(root: string, errorRate: (percent: number | undefined) => number, seen: { percent: number | undefined }): RolloutPorts {
  let now = 0;
  const g = gitRolloutPorts({ root, env: 'test', model: 'jukebox', processEnv: testGitEnv(), timeoutMs: 20000 });
  return {
    ...g,
    follow: async (req) => {
      seen.percent = req.percent;
      // the commit it follows is on the remote
      return { namespace: 'user1-test', latestRevision: 'jukebox-predictor-00002' };
    },
    gates: async (q): Promise<GateReading> => ({
      revision: q.revision,
      window: '30s',
      rps: 4,
      errorRate: errorRate(seen.percent),
      p95Ms: 90,
      problem: undefined,
    }),
    sleep: async (ms) => {
      now += ms;
    },
    now: () => now,
  };
}

const remoteLog = (sb: Sandbox, n: number) =>
  git(sb.remote, ['log', `-${n}`, '--format=%s', 'main'])
    .trim()
    .split('\n')
    .reverse();
const remoteConfig = (sb: Sandbox) => git(sb.remote, ['show', `main:${TEST_CONFIG_REL}`]);

test('a healthy rollout pushes 10 → 25 → 50 → 100 as four commits, each with its trailer', async () => {
  const { sb, root } = await freshClone();
  const r = await startRollout({ env: 'test', model: 'jukebox', plan, ports: ports(root, () => 0.01, { percent: undefined }) }).result;
  assert.equal(r.outcome, 'completed', r.reason);
  assert.deepEqual(remoteLog(sb, 4), [
    'Progressive rollout of jukebox in test: step 1/4, 10%',
    'Progressive rollout of jukebox in test: step 2/4, 25%',
    'Progressive rollout of jukebox in test: step 3/4, 50%',
    'Progressive rollout of jukebox in test: step 4/4, 100% (promote)',
  ]);
  assert.doesNotMatch(remoteConfig(sb), /canary/);
  const snap = await readGitSnapshot({ root, env: 'test', model: 'jukebox', processEnv: testGitEnv() });
  assert.equal(snap.percent, undefined);
  assert.deepEqual(parseTrailer(snap.message), { kind: 'step', step: 4, of: 4, plan: planHash(plan) });
  assert.equal(snap.headSha, git(sb.remote, ['rev-parse', 'main']).trim());
});

test('a failing gate rolls back to 0% with a pushed commit naming the gate', async () => {
  const { sb, root } = await freshClone();
  const r = await startRollout({ env: 'test', model: 'jukebox', plan, ports: ports(root, (p) => (p === 25 ? 0.2 : 0), { percent: undefined }) }).result;
  assert.equal(r.outcome, 'rolled-back');
  assert.deepEqual(remoteLog(sb, 3), [
    'Progressive rollout of jukebox in test: step 1/4, 10%',
    'Progressive rollout of jukebox in test: step 2/4, 25%',
    'Roll back jukebox in test: gate error-rate failed (20% > 5%)',
  ]);
  assert.match(remoteConfig(sb), /trafficPercent: 0 /);
});

test('a rollout stopped on one machine resumes on another at the step git holds', async () => {
  const { sb, root } = await freshClone();
  const stop = new AbortController();
  const r1 = await startRollout({
    env: 'test',
    model: 'jukebox',
    plan,
    ports: ports(root, () => 0, { percent: undefined }),
    signal: stop.signal,
    onEvent: (e) => {
      if (e.kind === 'live' && e.step === 2) stop.abort();
    },
  }).result;
  assert.equal(r1.outcome, 'stopped');
  // another clone, made before the rollout's commits: it must fetch to see them
  const other = sb.clone('b');
  git(other, ['reset', '-q', '--hard', 'HEAD~2']);
  const snap = await readGitSnapshot({ root: other, env: 'test', model: 'jukebox', processEnv: testGitEnv() });
  assert.equal(snap.percent, 25);
  const events: string[] = [];
  const r2 = await startRollout({
    env: 'test',
    model: 'jukebox',
    plan,
    ports: ports(other, () => 0, { percent: undefined }),
    onEvent: (e) => events.push(e.message),
  }).result;
  assert.equal(r2.outcome, 'completed', r2.reason);
  assert.ok(
    events.some((m) => /^Resuming at step 2\/4/.test(m)),
    events.join('\n'),
  );
  assert.deepEqual(remoteLog(sb, 4), [
    'Progressive rollout of jukebox in test: step 1/4, 10%',
    'Progressive rollout of jukebox in test: step 2/4, 25%',
    'Progressive rollout of jukebox in test: step 3/4, 50%',
    'Progressive rollout of jukebox in test: step 4/4, 100% (promote)',
  ]);
});

test('the state is read from HEAD when a step commit is local only, and from upstream when it is ahead', async () => {
  const { sb, root } = await freshClone();
  const local = gitRolloutPorts({ root, env: 'test', model: 'jukebox', processEnv: testGitEnv(), push: false });
  await local.publish(
    { kind: 'set', percent: 25 },
    'Progressive rollout of jukebox in test: step 2/4, 25%\n\nCanary-Rollout: step=2/4 plan=0123abcd',
    undefined,
  );
  const mine = await readGitSnapshot({ root, env: 'test', model: 'jukebox', processEnv: testGitEnv() });
  assert.equal(mine.percent, 25);
  assert.equal(parseTrailer(mine.message)?.step, 2);
  assert.equal(mine.headSha, git(root, ['rev-parse', 'HEAD']).trim());
  // another machine pushes 50%: a clone that is behind reads it after fetching
  const other = sb.clone('c');
  await publishCanaryChange({ root: other, env: 'test', model: 'jukebox', action: { kind: 'set', percent: 50 }, processEnv: testGitEnv() });
  const behind = sb.clone('d');
  git(behind, ['reset', '-q', '--hard', 'HEAD~1']);
  const seen = await readGitSnapshot({ root: behind, env: 'test', model: 'jukebox', processEnv: testGitEnv() });
  assert.equal(seen.percent, 50);
  assert.equal(seen.headSha, git(sb.remote, ['rev-parse', 'main']).trim());
});
