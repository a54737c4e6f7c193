/**
 * `kserve-canary rollout` against the sandbox (real git remote, Argo CD and KServe
 * controllers, real client), in-process through main(). The sandbox has no Prometheus yet,
 * so the gates are read from a small loopback fake of /api/v1/query.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildCliBundle } from '../cli/bundle';
import * as fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { main } from '../../src/cli/main';
import { memoryIO } from './cli-io';
import { parseTrailer } from '../../src/core/rollout';
import { openSandbox, type TestSandbox } from '../sandbox/helpers';
import { git } from '../core/git-helpers';
import { INFERENCE_SERVICES } from '../../src/sandbox/resources';

const io = memoryIO;

/**
 * A loopback Prometheus answering the gate queries: `errorRate()` decides the 5xx share. Over
 * https with the sandbox's server certificate (from `tlsDir`): the kubeconfig token only goes
 * over https, and the kubeconfig's CA is trusted for it.
 */
async function fakeGates(errorRate: () => number, tlsDir: string) {
  const auth: (string | undefined)[] = [];
  const tls = { cert: fs.readFileSync(path.join(tlsDir, 'server.crt')), key: fs.readFileSync(path.join(tlsDir, 'server.key')) };
  const server = https.createServer(tls, (req, res) => {
    const q = new URL(req.url ?? '/', 'http://x').searchParams.get('query') ?? '';
    auth.push(req.headers.authorization);
    let v = '0';
    if (q.startsWith('histogram_quantile')) v = '80';
    else if (q.includes('response_code_class="5xx"')) v = String(10 * errorRate());
    else if (q.startsWith('sum(rate(revision_request_count')) v = '10';
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [Date.now() / 1000, v] }] } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    auth,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe('kserve-canary rollout against the sandbox', () => {
  let sb: TestSandbox;
  let token: string;
  before(async () => {
    sb = await openSandbox({ syncDelayMs: 150, rolloutDelayMs: 100, pollMs: 50 });
    token = fs.readFileSync(sb.tokenFile, 'utf8').trim();
  });
  after(async () => {
    await sb?.cleanup();
  });
  const common = () => ['--kubeconfig', sb.kubeconfigPath, '--gitops', sb.gitopsClone];
  const subjects = (n: number) =>
    git(sb.gitopsClone, ['log', `-${n}`, '--format=%s'])
      .trim()
      .split('\n')
      .reverse();
  const lastMessage = () => git(sb.gitopsClone, ['log', '-1', '--format=%B']);
  const isvcPercent = () => {
    const o = sb.controller.store.get(INFERENCE_SERVICES, 'user1-test', 'jukebox') as { spec?: { predictor?: { canaryTrafficPercent?: number } } } | undefined;
    return o?.spec?.predictor?.canaryTrafficPercent;
  };

  it('a healthy canary goes 10 → 50 → 100 in pushed commits, each live before the next', async () => {
    const prom = await fakeGates(() => 0.01, path.join(sb.dir, 'tls'));
    try {
      const r = io();
      const code = await main(['rollout', 'jukebox', '--env', 'test', '--plan', '10:1s,50:1s,100', '--prometheus', prom.url, '--restart', ...common()], r.io);
      if (process.env.KSC_TEST_VERBOSE) console.log(r.out());
      assert.equal(code, 0, r.out() + r.err());
      assert.deepEqual(subjects(3), [
        'Progressive rollout of jukebox in test: step 1/3, 10%',
        'Progressive rollout of jukebox in test: step 2/3, 50%',
        'Progressive rollout of jukebox in test: step 3/3, 100% (promote)',
      ]);
      assert.match(r.out(), /Step 1\/3 is live: latest 10%/);
      assert.match(r.out(), /Step 2\/3: gates passed: error rate 1%, p95 80ms/);
      assert.match(r.out(), /completed: promoted, 100% to the latest revision/);
      assert.equal(isvcPercent(), undefined);
      // the kubeconfig's token authenticated the Prometheus queries, and was never printed
      assert.ok(prom.auth.length > 0 && prom.auth.every((a) => a === `Bearer ${token}`));
      assert.ok(!r.out().includes(token) && !r.err().includes(token));
    } finally {
      await prom.close();
    }
  });

  it('a canary answering 23% errors is rolled back to 0% with a commit naming the gate', async () => {
    const prom = await fakeGates(() => 0.23, path.join(sb.dir, 'tls'));
    try {
      const r = io();
      const code = await main(['rollout', 'jukebox', '--env', 'test', '--plan', '10:1s,50:1s,100', '--prometheus', prom.url, '--restart', ...common()], r.io);
      assert.equal(code, 1, r.out() + r.err());
      assert.deepEqual(subjects(2), ['Progressive rollout of jukebox in test: step 1/3, 10%', 'Roll back jukebox in test: gate error-rate failed (23% > 5%)']);
      assert.equal(parseTrailer(lastMessage())?.kind, 'rollback');
      assert.equal(isvcPercent(), 0);
      assert.match(r.out(), /Rolled back jukebox in test to 0% \([0-9a-f]{10}\): gate error-rate failed \(23% > 5%\)/);
    } finally {
      await prom.close();
    }
  });

  it('a manual gate stops the run; running again with --approve resumes at that step', async () => {
    const r1 = io();
    const plan = '20:manual,100';
    assert.equal(await main(['rollout', 'jukebox', '--env', 'test', '--plan', plan, '--no-gates', ...common()], r1.io), 1, r1.out() + r1.err());
    assert.match(r1.out(), /Waiting for approval at step 1\/2 \(20%\)/);
    assert.equal(isvcPercent(), 20);
    const st = io();
    assert.equal(await main(['rollout', 'jukebox', '--env', 'test', '--plan', plan, '--status', ...common()], st.io), 0, st.err());
    assert.match(st.out(), /^jukebox in test: in progress: step 1\/2 at 20% \(plan [0-9a-f]{8}\)\n$/);
    const r2 = io();
    assert.equal(await main(['rollout', 'jukebox', '--env', 'test', '--plan', plan, '--no-gates', '--approve', ...common()], r2.io), 0, r2.out() + r2.err());
    assert.match(r2.out(), /Resuming at step 1\/2: git is at step 1\/2 \(20%\)/);
    assert.deepEqual(subjects(2), [
      'Progressive rollout of jukebox in test: step 1/2, 20%',
      'Progressive rollout of jukebox in test: step 2/2, 100% (promote)',
    ]);
    assert.equal(isvcPercent(), undefined);
  });

  it('--abort rolls back at once; gates without Prometheus are refused before any commit', async () => {
    const before = subjects(1);
    const r = io();
    assert.equal(await main(['rollout', 'jukebox', '--env', 'test', '--plan', '10,100', ...common()], r.io), 2);
    assert.match(r.err(), /^error: rollout: the plan has metric gates \(error rate ≤ 5%\) but no Prometheus is configured/);
    assert.deepEqual(subjects(1), before);
    const a = io();
    assert.equal(await main(['rollout', 'jukebox', '--env', 'test', '--abort', ...common()], a.io), 0, a.out() + a.err());
    assert.match(subjects(1)[0]!, /^Roll back jukebox in test: rollout aborted at step \d\/4 \(requested\)$/);
    assert.equal(isvcPercent(), 0);
  });

  it('a rollout killed right after committing a step (not pushed) resumes at that step when run again', async () => {
    const bundle = await buildCliBundle();
    try {
      const plan = ['--plan', '10:1s,50:1s,100', '--no-gates'];
      // async: the sandbox answers from this process's event loop
      const killed = await new Promise<{ signal: NodeJS.Signals | null; output: string }>((resolve) => {
        const child = spawn(process.execPath, [bundle.bin, 'rollout', 'jukebox', '--env', 'test', ...plan, ...common()], {
          env: { HOME: path.join(os.tmpdir(), 'ksc-no-home'), PATH: process.env.PATH, KSC_FAULT_KILL_AT: 'after-commit' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let output = '';
        child.stdout.on('data', (d: Buffer) => (output += d));
        child.stderr.on('data', (d: Buffer) => (output += d));
        const timer = setTimeout(() => child.kill('SIGTERM'), 120000);
        child.on('exit', (_code, signal) => {
          clearTimeout(timer);
          resolve({ signal, output });
        });
      });
      assert.equal(killed.signal, 'SIGKILL', killed.output);
      const clone = (args: string[]) => git(sb.gitopsClone, args).trim();
      assert.equal(clone(['log', '-1', '--format=%s']), 'Progressive rollout of jukebox in test: step 1/3, 10%');
      assert.equal(clone(['rev-list', '--count', '@{upstream}..HEAD']), '1', 'the step commit is local only');

      const r = io();
      assert.equal(await main(['rollout', 'jukebox', '--env', 'test', ...plan, ...common()], r.io), 0, r.out() + r.err());
      assert.match(r.out(), /Resuming at step 1\/3: git is at step 1\/3 \(10%\)/);
      assert.deepEqual(subjects(3), [
        'Progressive rollout of jukebox in test: step 1/3, 10%',
        'Progressive rollout of jukebox in test: step 2/3, 50%',
        'Progressive rollout of jukebox in test: step 3/3, 100% (promote)',
      ]);
      assert.equal(clone(['rev-list', '--count', '@{upstream}..HEAD']), '0');
      assert.equal(isvcPercent(), undefined);
    } finally {
      bundle.cleanup();
    }
  });
});
