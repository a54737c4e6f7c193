/** `kserve-canary sandbox` in-process, and `kserve-canary set` driving it end to end. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/main';
import type { CliIO } from '../../src/cli/command';
import { APPLICATIONS, INFERENCE_SERVICES } from '../../src/sandbox/resources';
import { openSandbox, waitFor } from './helpers';
import { git } from '../core/git-helpers';

function io(cwd: string, signal = new AbortController().signal) {
  const out = { stdout: '', stderr: '' };
  const x: CliIO = {
    stdout: (t) => (out.stdout += t),
    stderr: (t) => (out.stderr += t),
    cwd,
    env: {},
    signal,
    isTTY: false,
  };
  return { io: x, out };
}

test('sandbox command: ready file, paths printed (never the token), clean stop on abort', async () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ksc-sandbox-cli-'));
  try {
    const ac = new AbortController();
    const { io: cli, out } = io(tmp, ac.signal);
    const ready = path.join(tmp, 'ready.json');
    const running = main(['sandbox', '--dir', 'data', '--ready-file', ready, '--sync-delay', '100ms', '--rollout-delay', '50ms'], cli);
    const info = await waitFor('ready file', () => existsSync(ready) && JSON.parse(readFileSync(ready, 'utf8')));
    assert.deepEqual(Object.keys(info).sort(), ['dir', 'gitopsClone', 'gitopsRemote', 'kubeconfig', 'pid', 'port', 'server', 'tokenFile'].sort());
    assert.equal(info.dir, path.join(tmp, 'data'));
    assert.equal(info.server, `https://127.0.0.1:${info.port}`);
    assert.equal(info.pid, process.pid);
    const token = readFileSync(info.tokenFile, 'utf8').trim();
    assert.equal((await import('node:fs')).statSync(info.tokenFile).mode & 0o777, 0o600);
    assert.match(out.stdout, new RegExp(`export KUBECONFIG=${info.kubeconfig.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
    assert.match(out.stdout, /kubectl get isvc -n user1-test/);
    assert.ok(out.stdout.includes(info.gitopsClone));
    assert.ok(out.stdout.includes(info.tokenFile));
    assert.ok(!out.stdout.includes(token) && !out.stderr.includes(token), 'the token is never printed');
    ac.abort();
    assert.equal(await running, 0);
    assert.equal(existsSync(ready), false, 'ready file removed on stop');
    assert.ok(existsSync(path.join(tmp, 'data', 'state.json')), 'state saved');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('sandbox command: bad options exit 2 with a hint', async () => {
  const { io: cli, out } = io(os.tmpdir());
  assert.equal(await main(['sandbox', '--port', 'abc'], cli), 2);
  assert.match(out.stderr, /--port must be a whole number/);
  assert.match(out.stderr, /hint:/);
});

test('kserve-canary set pushes to the sandbox remote; traffic and the sync revision follow', async () => {
  const sb = await openSandbox({ syncDelayMs: 100, rolloutDelayMs: 50, pollMs: 50 });
  try {
    const { io: cli, out } = io(sb.gitopsClone);
    const code = await main(['set', 'jukebox', '35', '--env', 'test'], cli);
    assert.equal(code, 0, out.stderr);
    const sha = git(sb.gitopsClone, ['rev-parse', 'HEAD']).trim();
    assert.equal(git(sb.gitopsRemote, ['rev-parse', 'main']).trim(), sha, 'pushed');
    const store = sb.controller.store;
    await waitFor('application synced at the pushed commit', () => {
      const s = store.mustGet(APPLICATIONS, 'user1-toolings', 'jukebox-test').status as { sync: { status: string; revision: string } };
      return s.sync.status === 'Synced' && s.sync.revision === sha;
    });
    await waitFor('traffic 65/35', () => {
      const st = store.mustGet(INFERENCE_SERVICES, 'user1-test', 'jukebox').status as {
        components: { predictor: { traffic: Array<{ percent: number; tag?: string }> } };
      };
      const t = st.components.predictor.traffic;
      return t.find((x) => x.tag === 'prev')?.percent === 65 && t.find((x) => x.tag !== 'prev')?.percent === 35;
    });
  } finally {
    await sb.cleanup();
  }
});

test('sandbox command as a process: SIGTERM stops it cleanly with exit 0', async () => {
  const { spawn } = await import('node:child_process');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ksc-sandbox-sig-'));
  const root = path.resolve(__dirname, '..', '..');
  try {
    const ready = path.join(tmp, 'ready.json');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(root, 'src', 'cli', 'main.ts'), 'sandbox', '--dir', path.join(tmp, 'data'), '--ready-file', ready],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += String(d)));
    child.stderr.on('data', (d) => (out += String(d)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    try {
      const info = await waitFor('ready file', () => existsSync(ready) && JSON.parse(readFileSync(ready, 'utf8')), 60_000);
      assert.equal(info.pid, child.pid);
      // a second sandbox on the same data folder is refused while the first one lives
      const second = io(tmp);
      assert.equal(await main(['sandbox', '--dir', path.join(tmp, 'data')], second.io), 2);
      assert.match(second.out.stderr, new RegExp(`already running .*\\(pid ${child.pid}\\)`));
      assert.match(second.out.stderr, /hint: Stop that one first/);
      child.kill('SIGTERM');
      assert.equal(await exited, 0, out);
      assert.match(out, /Sandbox stopped/);
      assert.equal(existsSync(ready), false);
    } finally {
      child.kill('SIGKILL');
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('sandbox --inference: the ready file and the output name the Prometheus API, which needs the token', async () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ksc-sandbox-inf-'));
  try {
    const ac = new AbortController();
    const { io: cli, out } = io(tmp, ac.signal);
    const ready = path.join(tmp, 'ready.json');
    const running = main(['sandbox', '--dir', 'data', '--inference', '--ready-file', ready], cli);
    const info = await waitFor('ready file', () => existsSync(ready) && JSON.parse(readFileSync(ready, 'utf8')));
    assert.match(info.prometheusUrl, /^https:\/\/127\.0\.0\.1:\d+\/prometheus$/);
    assert.ok(out.stdout.includes(info.prometheusUrl));
    const { httpRequest } = await import('../../src/core/http');
    const ca = readFileSync(path.join(tmp, 'data', 'tls', 'ca.crt'));
    assert.equal((await httpRequest({ url: new URL(`${info.prometheusUrl}/api/v1/query?query=x`), timeoutMs: 10_000, ca })).status, 401);
    ac.abort();
    assert.equal(await running, 0);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
