/** Start/stop/restart: fast enough to use everywhere, leaves nothing behind, keeps its data. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { startSandbox } from '../../src/sandbox/index';
import { APPLICATIONS, INFERENCE_SERVICES } from '../../src/sandbox/resources';
import { kubectl, waitFor } from './helpers';
import { git } from '../core/git-helpers';

const ROOT = path.resolve(__dirname, '..', '..');

test('a process that starts, uses and stops a sandbox exits on its own (no timers, sockets or children left)', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ksc-sandbox-life-'));
  const script = path.join(dir, 'run.mts');
  writeFileSync(
    script,
    [
      `import { startSandbox } from ${JSON.stringify(path.join(ROOT, 'src', 'sandbox', 'index.ts'))};`,
      `const sb = await startSandbox({ dir: ${JSON.stringify(path.join(dir, 'data'))}, pollMs: 20, syncDelayMs: 10, rolloutDelayMs: 10, bookmarkMs: 10 });`,
      `const https = await import('node:https');`,
      `const fs = await import('node:fs');`,
      // an open watch with bookmarks, left open on purpose: stop() must end it
      // (awaited until the server has answered its headers: the watch is open)
      `await new Promise((open) => https.get(sb.server + '/apis/serving.kserve.io/v1beta1/inferenceservices?watch=1&allowWatchBookmarks=true', { ca: fs.readFileSync(sb.caFile), headers: { Authorization: 'Bearer ' + fs.readFileSync(sb.tokenFile, 'utf8').trim() } }, (r) => { r.resume(); open(); }).on('error', open));`,
      `await sb.restart();`,
      `await sb.stop();`,
      `console.log('stopped');`,
    ].join('\n'),
  );
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += String(d)));
    child.stderr.on('data', (d) => (out += String(d)));
    const code = await new Promise<number | null>((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('exit', (c) => {
        clearTimeout(kill);
        resolve(c);
      });
    });
    assert.equal(code, 0, `the process did not exit by itself after stop():\n${out}`);
    assert.match(out, /stopped/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('files: kubeconfig (0600, context sandbox, namespace user1-test, CA data, token), token 0600; restart reuses CA and token', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ksc-sandbox-files-'));
  try {
    const sb = await startSandbox({ dir });
    const kc = parse(readFileSync(sb.kubeconfigPath, 'utf8'));
    assert.equal(statSync(sb.kubeconfigPath).mode & 0o777, 0o600);
    assert.equal(statSync(sb.tokenFile).mode & 0o777, 0o600);
    assert.equal(kc['current-context'], 'sandbox');
    assert.equal(kc.contexts[0].context.namespace, 'user1-test');
    assert.equal(kc.clusters[0].cluster.server, sb.server);
    assert.equal(Buffer.from(kc.clusters[0].cluster['certificate-authority-data'], 'base64').toString(), readFileSync(sb.caFile, 'utf8'));
    assert.equal(kc.users[0].user.token, readFileSync(sb.tokenFile, 'utf8').trim());
    const ca = readFileSync(sb.caFile, 'utf8');
    const port = sb.port;
    await sb.stop();

    // a second process on the same dir and port: same CA, same token, same objects
    const again = await startSandbox({ dir, port });
    try {
      assert.equal(readFileSync(again.caFile, 'utf8'), ca);
      assert.equal(again.server, `https://127.0.0.1:${port}`);
      const r = await kubectl(again, ['get', 'isvc', '-n', 'user1-test', '-o', 'jsonpath={.items[0].status.components.predictor.traffic[*].percent}']);
      assert.equal(r.stdout, '20 80');
    } finally {
      await again.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a push made while the sandbox was stopped is synced after the restart', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ksc-sandbox-offline-'));
  try {
    const sb = await startSandbox({ dir, pollMs: 50, syncDelayMs: 50, rolloutDelayMs: 50 });
    await sb.stop();
    const file = path.join(sb.gitopsClone, 'model-deployments', 'test', 'jukebox', 'config.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('trafficPercent: 20', 'trafficPercent: 70'));
    git(sb.gitopsClone, ['commit', '-qam', 'offline change']);
    git(sb.gitopsClone, ['push', '-q']);
    const sha = git(sb.gitopsClone, ['rev-parse', 'HEAD']).trim();
    await sb.restart();
    try {
      const store = sb.controller.store;
      await waitFor('synced at the offline commit', () => {
        const s = store.mustGet(APPLICATIONS, 'user1-toolings', 'jukebox-test').status as { sync: { status: string; revision: string } };
        return s.sync.status === 'Synced' && s.sync.revision === sha;
      });
      await waitFor('traffic 30/70', () => {
        const t = (store.mustGet(INFERENCE_SERVICES, 'user1-test', 'jukebox').status as { components: { predictor: { traffic: Array<{ percent: number }> } } })
          .components.predictor.traffic;
        return t.map((x) => x.percent).join('/') === '70/30';
      });
    } finally {
      await sb.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('killed without stop (no state.json): the cluster is rebuilt from git, with versions above the old ones', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ksc-sandbox-crash-'));
  try {
    const sb = await startSandbox({ dir, pollMs: 50, syncDelayMs: 50, rolloutDelayMs: 50 });
    const oldRv = sb.controller.store.resourceVersion;
    await sb.stop();
    rmSync(path.join(dir, 'state.json'));
    const again = await startSandbox({ dir });
    try {
      assert.ok(again.controller.store.resourceVersion > oldRv);
      const r = await kubectl(again, ['get', 'isvc', '-n', 'user1-test', '-o', 'jsonpath={.items[0].status.components.predictor.traffic[*].percent}']);
      assert.equal(r.stdout, '20 80');
      const w = await kubectl(again, ['get', '--raw', `/apis/serving.kserve.io/v1beta1/inferenceservices?watch=1&resourceVersion=${oldRv}&timeoutSeconds=1`]);
      assert.match(w.stdout, /"type":"ERROR".*"code":410/);
    } finally {
      await again.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
