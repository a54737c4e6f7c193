/** `kserve-canary sandbox --kserve-dialect`: refused when bad, and the cluster it runs speaks it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/main';
import type { CliIO } from '../../src/cli/command';
import { waitFor } from './helpers';

function io(cwd: string, signal = new AbortController().signal) {
  const out = { stdout: '', stderr: '' };
  const x: CliIO = { stdout: (t) => (out.stdout += t), stderr: (t) => (out.stderr += t), cwd, env: {}, signal, isTTY: false };
  return { io: x, out };
}

test('--kserve-dialect with a bad value exits 2 before starting anything', async () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ksc-dialect-bad-'));
  try {
    const { io: cli, out } = io(tmp);
    assert.equal(await main(['sandbox', '--dir', 'data', '--kserve-dialect', 'v0.16'], cli), 2);
    assert.match(out.stderr, /--kserve-dialect must be current or legacy, got "v0.16"/);
    assert.equal(existsSync(path.join(tmp, 'data')), false, 'nothing written');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('--kserve-dialect current: status.deploymentMode says Knative', async () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ksc-dialect-'));
  try {
    const ac = new AbortController();
    const { io: cli, out } = io(tmp, ac.signal);
    const ready = path.join(tmp, 'ready.json');
    const running = main(['sandbox', '--dir', 'data', '--ready-file', ready, '--kserve-dialect', 'current'], cli);
    const info = await waitFor('ready file', () => existsSync(ready) && JSON.parse(readFileSync(ready, 'utf8')));
    assert.match(out.stdout, /KServe current mode names/);
    const k8s = await import('@kubernetes/client-node');
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(info.kubeconfig);
    const api = kc.makeApiClient(k8s.CustomObjectsApi);
    const o = (await api.getNamespacedCustomObject({
      group: 'serving.kserve.io',
      version: 'v1beta1',
      plural: 'inferenceservices',
      namespace: 'user1-test',
      name: 'jukebox',
    })) as { status: { deploymentMode: string } };
    assert.equal(o.status.deploymentMode, 'Knative');
    ac.abort();
    assert.equal(await running, 0);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
