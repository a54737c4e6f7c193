/**
 * What the Argo CD controller (argocd.ts) reads and computes without the cluster: the branch
 * head of the gitops bare repo, the desired state at a commit (one Application per
 * `model-deployments/<env>/<model>/config.yaml`, the InferenceService the chart renders from
 * it), the Application object of the ApplicationSet, and Argo CD's health check for
 * InferenceServices.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { renderInferenceService, type ChartValues } from './chart';
import { git } from './git';
import { deepEqual, isPlainObject, type KObject } from './types';

export interface ArgoOptions {
  bareRepo: string;
  branch: string;
  toolingsNamespace: string;
  /** `<user>-<env>` is the destination namespace. */
  user: string;
  pollMs: number;
  syncDelayMs: number;
  selfHeal: boolean;
}

export interface Desired {
  app: string;
  env: string;
  model: string;
  namespace: string;
  configPath: string;
  manifest: KObject | undefined;
  error: string | undefined;
}

export function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

/** Read a branch head from a bare repo without spawning git: loose ref, then packed-refs. */
export async function readBranchHead(bareRepo: string, branch: string): Promise<string | undefined> {
  const ref = `refs/heads/${branch}`;
  try {
    const loose = (await readFile(path.join(bareRepo, ref), 'utf8')).trim();
    if (/^[0-9a-f]{40}$/.test(loose)) return loose;
  } catch {
    // not a loose ref
  }
  try {
    const packed = await readFile(path.join(bareRepo, 'packed-refs'), 'utf8');
    for (const line of packed.split('\n')) {
      const [sha, name] = line.trim().split(' ');
      if (name === ref && sha && /^[0-9a-f]{40}$/.test(sha)) return sha;
    }
  } catch {
    // no packed refs
  }
  return undefined;
}

/** The desired state at `sha`: one entry per config.yaml, keyed by Application name. */
export async function readDesired(o: ArgoOptions, sha: string): Promise<Map<string, Desired>> {
  const repo = o.bareRepo;
  const { stdout } = await git(repo, ['ls-tree', '-r', '--name-only', sha, '--', 'model-deployments']);
  const out = new Map<string, Desired>();
  for (const file of stdout.split('\n')) {
    const m = /^model-deployments\/([^/]+)\/([^/]+)\/config\.yaml$/.exec(file.trim());
    if (!m) continue;
    const env = m[1]!;
    const model = m[2]!;
    const app = `${model}-${env}`;
    const namespace = `${o.user}-${env}`;
    const d: Desired = { app, env, model, namespace, configPath: file.trim(), manifest: undefined, error: undefined };
    try {
      const text = (await git(repo, ['show', `${sha}:${file.trim()}`])).stdout;
      const values = parseYaml(text) as unknown;
      if (!isPlainObject(values)) throw new Error('config.yaml is not a map');
      d.manifest = renderInferenceService(values as ChartValues, model, namespace, app);
    } catch (e) {
      d.error = `Failed to load target state: ${file.trim()}: ${e instanceof Error ? e.message : String(e)}`;
    }
    out.set(app, d);
  }
  return out;
}

export function sourceOf(o: ArgoOptions, d: Desired) {
  return { repoURL: o.bareRepo, path: path.posix.dirname(d.configPath), targetRevision: o.branch };
}

export function destinationOf(d: Desired) {
  return { server: 'https://kubernetes.default.svc', namespace: d.namespace };
}

/** The Application the ApplicationSet makes for one config.yaml. */
export function applicationFor(o: ArgoOptions, d: Desired): KObject {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: {
      name: d.app,
      namespace: o.toolingsNamespace,
      labels: { 'app.kubernetes.io/managed-by': 'applicationset', 'model-deployments/env': d.env },
    },
    spec: {
      project: 'default',
      source: { repoURL: o.bareRepo, targetRevision: o.branch, path: path.posix.dirname(d.configPath) },
      destination: destinationOf(d),
      syncPolicy: { automated: { prune: true, selfHeal: o.selfHeal }, syncOptions: ['CreateNamespace=false'] },
    },
  };
}

/** Does the live InferenceService differ from what git renders? */
export function differs(d: Desired, live: KObject | undefined): boolean {
  if (!d.manifest) return false;
  if (!live || live.metadata.deletionTimestamp) return true;
  if (!deepEqual(live.spec, d.manifest.spec)) return true;
  const has = (want: Record<string, string> | undefined, got: Record<string, string> | undefined) =>
    Object.entries(want ?? {}).every(([k, v]) => got?.[k] === v);
  return !has(d.manifest.metadata.labels, live.metadata.labels) || !has(d.manifest.metadata.annotations, live.metadata.annotations);
}

/**
 * Argo CD's health check for InferenceServices (resource_customizations/serving.kserve.io/
 * InferenceService/health.lua), message included: Stopped True → Suspended; all conditions
 * True (Stopped aside) and the transition UpToDate → Healthy; a transition other than UpToDate
 * or InProgress → Degraded; anything else → Progressing (False conditions too). It never looks
 * at generations.
 */
export function health(isvc: KObject | undefined): { status: string; message?: string } {
  if (!isvc) return { status: 'Missing' };
  const st = isPlainObject(isvc.status) ? isvc.status : undefined;
  if (!st) return { status: 'Progressing', message: 'Waiting for InferenceService to report status...' };
  let degraded = false;
  let settled = true;
  let msg = '';
  const transition = isPlainObject(st.modelStatus) ? st.modelStatus.transitionStatus : undefined;
  if (isPlainObject(st.modelStatus) && transition !== 'UpToDate') {
    settled = false;
    degraded = transition !== 'InProgress';
    msg += `0: transitionStatus | ${String(transition ?? '')}`;
  }
  const conds = Array.isArray(st.conditions) ? (st.conditions as Array<Record<string, unknown>>) : [];
  for (const [i, c] of conds.entries()) {
    if (c.type === 'Stopped' && c.status === 'True') return { status: 'Suspended', message: 'InferenceService is Stopped' };
    if (c.status === 'True' || c.type === 'Stopped') continue;
    settled = false;
    msg += ` | ${i + 1}: ${String(c.type)} | ${String(c.status)}`;
    for (const part of [c.reason, c.message]) if (typeof part === 'string' && part !== '') msg += ` | ${part}`;
  }
  if (settled) return { status: 'Healthy', message: 'InferenceService is healthy.' };
  return { status: degraded ? 'Degraded' : 'Progressing', message: msg };
}
