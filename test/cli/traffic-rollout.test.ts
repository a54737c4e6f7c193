/**
 * `kserve-canary traffic` and `rollout` without a cluster: help, usage errors (exit 2),
 * traffic to a loopback model server, and refusals that touch nothing.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/main';
import type { CliIO } from '../../src/cli/command';
import { git, head, makeSandbox, testGitEnv, type Sandbox } from '../core/git-helpers';

async function run(
  argv: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = { ...testGitEnv(), HOME: path.join(os.tmpdir(), 'ksc-no-home'), KUBECONFIG: '' },
  signal?: AbortSignal,
) {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    cwd,
    env,
    signal: signal ?? new AbortController().signal,
    isTTY: false,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

const sandboxes: Sandbox[] = [];
const dirs: string[] = [];
after(() => {
  sandboxes.forEach((s) => s.cleanup());
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

describe('cli traffic', () => {
  it('--help, and usage errors exit 2 with a hint', async () => {
    const h = await run(['traffic', '--help'], os.tmpdir());
    assert.equal(h.code, 0);
    assert.match(h.stdout, /^Usage: kserve-canary traffic <model> --env <env> --rps <n> --duration <d>/);
    const top = await run(['--help'], os.tmpdir());
    assert.match(top.stdout, /^ {2}traffic +Send test inference traffic/m);
    assert.match(top.stdout, /^ {2}rollout +Progressive rollout/m);
    const cases: [string[], RegExp][] = [
      [['traffic', 'jukebox', '--rps', '5', '--duration', '1s'], /--env is required/],
      [['traffic', 'jukebox', '--env', 'test', '--duration', '1s'], /--rps is required/],
      [['traffic', 'jukebox', '--env', 'test', '--rps', '5'], /--duration is required/],
      [['traffic', 'jukebox', '--env', 'test', '--rps', 'many', '--duration', '1s'], /--rps "many" is not a number/],
      [['traffic', 'jukebox', '--env', 'test', '--rps', '5', '--duration', '10x'], /--duration "10x" is not a duration/],
      [['traffic', 'jukebox', '--env', 'test', '--rps', '5000', '--duration', '1s', '--url', 'http://127.0.0.1:9'], /rps 5000 is outside/],
      [['traffic', 'jukebox', '--env', 'test', '--rps', '5', '--duration', '1s', '--url', 'ftp://127.0.0.1/'], /http or https only/],
      [['traffic', '../x', '--env', 'test', '--rps', '5', '--duration', '1s'], /model/],
    ];
    for (const [argv, why] of cases) {
      const r = await run(argv, os.tmpdir());
      assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, why);
      assert.match(r.stderr, /\nhint: ./);
    }
  });

  it('sends to a loopback URL and prints status counts, latency and the serving revisions', async () => {
    let n = 0;
    const bodies: string[] = [];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push(`${req.url} ${Buffer.concat(chunks).toString()}`);
        const i = n++;
        res
          .writeHead(i % 10 === 9 ? 503 : 200, {
            'content-type': 'application/json',
            'x-kserve-revision': i % 2 ? 'jukebox-predictor-00002' : 'jukebox-predictor-00001',
          })
          .end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'ksc-payload-'));
      dirs.push(dir);
      writeFileSync(path.join(dir, 'p.json'), '{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1.5]}]}');
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const r = await run(['traffic', 'jukebox', '--env', 'test', '--rps', '100', '--duration', '200ms', '--url', url, '--payload', 'p.json'], dir);
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stdout,
        /^Sending 100 req\/s for 0\.2 s \(20 requests\) to 127\.0\.0\.1:\d+ — a local port-forward you gave: http:\/\/127\.0\.0\.1:\d+\/v2\/models\/jukebox\/infer\n/,
      );
      assert.match(r.stdout, /^Sent 20 of 20 requests/m);
      assert.match(r.stdout, /^answers: 200: 18, 503: 2$/m);
      assert.match(r.stdout, /^latency: p50 [\d.]+ ms, p95 [\d.]+ ms, max [\d.]+ ms$/m);
      assert.match(r.stdout, /^served by: jukebox-predictor-0000[12] 10 \(50%\), jukebox-predictor-0000[12] 10 \(50%\)$/m);
      assert.equal(bodies.length, 20);
      assert.ok(bodies.every((b) => b === '/v2/models/jukebox/infer {"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1.5]}]}'));
      const j = await run(['traffic', 'jukebox', '--env', 'test', '--rps', '50', '--duration', '100ms', '--url', url, '--json'], dir);
      assert.equal(j.code, 0);
      const doc = JSON.parse(j.stdout);
      assert.equal(doc.sent, 5);
      assert.equal(doc.total, 5);
      const y = await run(['traffic', 'jukebox', '--env', 'test', '--rps', '50', '--duration', '0.1', '--url', url, '-o', 'yaml'], dir);
      assert.equal(y.code, 0, y.stderr);
      const { parse } = await import('yaml');
      assert.equal(parse(y.stdout).sent, 5, 'the same document as YAML (and --duration 0.1 is 100 ms)');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('exits 1 when nothing answers; a non-loopback URL needs the cluster to vouch for it', async () => {
    const gone = http.createServer();
    await new Promise<void>((r) => gone.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(gone.address() as AddressInfo).port}`;
    await new Promise<void>((r) => gone.close(() => r()));
    const r = await run(['traffic', 'm', '--env', 'test', '--rps', '50', '--duration', '60ms', '--url', url], os.tmpdir());
    assert.equal(r.code, 1);
    assert.match(r.stdout, /no answer: 3 \(network 3\)/);
    assert.match(r.stderr, /no request got an answer/);
    const far = await run(['traffic', 'm', '--env', 'test', '--rps', '1', '--duration', '1s', '--url', 'https://example.com'], os.tmpdir());
    assert.equal(far.code, 1);
    assert.match(far.stderr, /^error: .*kubeconfig/i);
  });
});

describe('cli rollout without a cluster', () => {
  it('--help documents the plan, gates, approve/promote/abort and the exit codes', async () => {
    const h = await run(['rollout', '--help'], os.tmpdir());
    assert.equal(h.code, 0);
    for (const opt of [
      '--plan',
      '--pause',
      '--max-error-rate',
      '--max-p95',
      '--window',
      '--no-gates',
      '--prometheus',
      '--approve',
      '--promote',
      '--abort',
      '--restart',
      '--yes',
      'KSERVE_CANARY_PROMETHEUS_TOKEN',
    ]) {
      assert.ok(h.stdout.includes(opt), opt);
    }
    assert.match(h.stdout, /Exit codes: 0 completed/);
  });

  it('bad plans and options are refused (exit 2) before anything is committed', async () => {
    const sb = makeSandbox();
    sandboxes.push(sb);
    const root = sb.clone('a');
    const before = head(root);
    const cases: [string[], RegExp][] = [
      [['rollout', 'jukebox'], /--env is required/],
      [['rollout', 'jukebox', '--env', 'test', '--plan', '10,5,100'], /step 2: percent 5 must be higher/],
      [['rollout', 'jukebox', '--env', 'test', '--plan', '10,50'], /the last step is 50%/],
      [['rollout', 'jukebox', '--env', 'test', '--pause', 'soon'], /pause "soon" is not a duration/],
      [['rollout', 'jukebox', '--env', 'test', '--max-error-rate', '150%'], /max error rate "150%"/],
      [['rollout', 'jukebox', '--env', 'test', '--promote', '--abort'], /exclude each other/],
      [['rollout', 'jukebox', '--env', 'test', '--timeout', 'x'], /--timeout "x" is not a duration/],
      [['rollout', 'jukebox', '--env', 'test'], /no Prometheus is configured/],
      [['rollout', 'jukebox', '--env', 'test', '--prometheus', 'ftp://x'], /must be http or https/],
    ];
    for (const [argv, why] of cases) {
      const r = await run([...argv, '--gitops', root], os.tmpdir());
      assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, why);
    }
    // a bad plan file next to config.yaml: file:line, exit 1 (invalid config), still nothing committed
    writeFileSync(path.join(root, 'model-deployments/test/jukebox/canary-plan.yaml'), 'steps:\n  - percent: 10\n  - percent: 10\n  - percent: 100\n');
    const r = await run(['rollout', 'jukebox', '--env', 'test', '--no-gates', '--gitops', root], os.tmpdir());
    assert.equal(r.code, 1);
    assert.match(r.stderr, /canary-plan\.yaml:3: step 2: percent 10 must be higher than the step before \(10\)/);
    assert.equal(head(root), before);
    assert.equal(git(root, ['status', '--porcelain', '--untracked-files=no']).trim(), '');
  });

  it('--status says where the rollout stands from git alone, without a cluster', async () => {
    const sb = makeSandbox();
    sandboxes.push(sb);
    const root = sb.clone('a');
    const r = await run(['rollout', 'jukebox', '--env', 'test', '--status', '--gitops', root], os.tmpdir());
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'jukebox in test: no rollout in git (canary at 10%)\n');
    const j = await run(['rollout', 'jukebox', '-n', 'user1-test', '--status', '-o', 'json', '--gitops', root], os.tmpdir());
    assert.equal(j.code, 0, j.stderr);
    assert.deepEqual(JSON.parse(j.stdout), {
      schemaVersion: 1,
      env: 'test',
      model: 'jukebox',
      state: 'none',
      step: null,
      of: null,
      samePlan: null,
      desiredPercent: 10,
      text: 'no rollout in git (canary at 10%)',
    });
  });
});
