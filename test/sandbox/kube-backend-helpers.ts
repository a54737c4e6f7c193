/**
 * Shared pieces of the real-server suites (test/sandbox/kube-backend*.test.ts): a seeded
 * kube-apiserver sandbox in a temp dir, kubectl against it, the product's cluster store on its
 * kubeconfig, and "is the store equal to the server's truth" (test/cluster/converge.ts, the
 * one check of both backends: the truth read from the server itself as its admin).
 * Where the binary is not built and Go is missing, opening the sandbox throws one line naming
 * what to install: the suites fail, never skip.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClusterStore } from '../../src/cluster/index';
import type { Store } from '../../src/cluster/store';
import { startKubeSandbox, type KubeSandbox, type KubeSandboxOptions } from '../../src/sandbox/kube-backend';
import { kubeRequest } from '../../src/sandbox/kube-backend-http';
import { recordingLog, TEST_TUNING, type RecordingLog } from '../cluster/sandbox-helpers';
import { until } from '../poll';
import { KUBECTL, type Run } from './helpers';

export { until };
export { converged } from '../cluster/converge';

export interface TestKube extends KubeSandbox {
  cleanup(): Promise<void>;
}

/** selfHeal off: the suites' admin patches stand as drift instead of being put back to git. */
export async function openKube(opts: KubeSandboxOptions = {}): Promise<TestKube> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ksc-kube-test-'));
  const sb = await startKubeSandbox({ dir, rolloutDelayMs: 100, syncDelayMs: 200, pollMs: 100, selfHeal: false, ...opts });
  return Object.assign(sb, {
    cleanup: async () => {
      await sb.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

/** kubectl with the given kubeconfig (the user's by default) and a private discovery cache. */
export function kubectlOn(sb: KubeSandbox, args: string[], kubeconfig = sb.kubeconfigPath): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(KUBECTL, ['--cache-dir', path.join(sb.dir, '.kube-cache'), ...args], {
      env: { ...process.env, KUBECONFIG: kubeconfig, HOME: sb.dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export async function storeOn(sb: KubeSandbox, tuning: Record<string, number> = {}): Promise<{ store: Store; log: RecordingLog }> {
  const log = recordingLog();
  const store = await createClusterStore({
    settings: { kubeconfigPath: sb.kubeconfigPath },
    gitops: { root: sb.gitopsClone },
    log,
    env: {},
    tuning: { ...TEST_TUNING, ...tuning },
  });
  return { store, log };
}

/** Sets spec.predictor.canaryTrafficPercent as the admin would with `kubectl patch --type merge`. */
export async function patchPercent(sb: KubeSandbox, ns: string, name: string, percent: number | null): Promise<void> {
  const a = await kubeRequest(
    sb.admin(),
    'PATCH',
    `/apis/serving.kserve.io/v1beta1/namespaces/${ns}/inferenceservices/${name}`,
    { spec: { predictor: { canaryTrafficPercent: percent } } },
    { contentType: 'application/merge-patch+json' },
  );
  if (a.status !== 200) throw new Error(`patch ${ns}/${name}: ${a.status} ${a.text.slice(0, 200)}`);
}
