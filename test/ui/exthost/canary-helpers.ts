// Shared helpers of the KServe Canary extension-host suites (bundled into each suite).
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { KserveCanaryApi, TreeRow } from '../../../src/ui/testapi';
import { untilTruthy } from '../../poll';
import { gitAsync } from '../../core/git-helpers';

export const EXT_ID = 'kserve-canary.kserve-canary';
export type Api = KserveCanaryApi['test'];

import type { SandboxInfo } from '../../../scripts/lib/sandbox.mjs';

export type { SandboxInfo };

/** The sandbox backends the harness starts (scripts/test-exthost.mjs --backend). */
export type Backend = 'embedded' | 'kube-apiserver';

/** The backend the suites run against: KSC_EXTHOST_BACKEND (set by the harness), else embedded. */
export function backend(): Backend {
  const b = process.env.KSC_EXTHOST_BACKEND ?? 'embedded';
  assert.ok(b === 'embedded' || b === 'kube-apiserver', `KSC_EXTHOST_BACKEND=${b} is not a backend (embedded, kube-apiserver)`);
  return b;
}

/** Where index.ts finds why a suite or test was registered as skipped (its results say so). */
export const SKIP_REASON = 'kscSkipReason';

/**
 * `describe` / `it` for what only one backend has (e.g. the real server's RBAC; both serve
 * inference, Prometheus and the /_sandbox/ controls): on another backend the suite or test is
 * registered as skipped, visibly, with `why` and the backend in the results (never silently).
 */
export function onlyOn(
  wanted: Backend,
  why: string,
): { describe: (title: string, fn: (this: Mocha.Suite) => void) => void; it: (title: string, fn: Mocha.AsyncFunc) => void } {
  const here = backend() === wanted;
  const reason = `${wanted} backend only (running on ${backend()}): ${why}`;
  const mark = (r: Mocha.Suite | Mocha.Test | void) => {
    if (r && !here) Object.assign(r, { [SKIP_REASON]: reason });
  };
  return {
    describe: (title, fn) => mark((here ? describe : describe.skip)(title, fn)),
    it: (title, fn) => mark((here ? it : it.skip)(title, fn)),
  };
}

export function sandbox(): SandboxInfo {
  const file = process.env.KSC_SANDBOX_JSON;
  assert.ok(file, 'KSC_SANDBOX_JSON is not set: run through scripts/test-exthost.mjs');
  return JSON.parse(readFileSync(file, 'utf8')) as SandboxInfo;
}

/**
 * The token the cluster's controllers write with (InferenceService /status, other users'
 * namespaces): the admin's on the real server (system:masters, `admin-token` in its data dir;
 * user1 may not write there), the sandbox's one token on the embedded server (no RBAC).
 */
export function adminToken(): string {
  const info = sandbox();
  return readFileSync(backend() === 'kube-apiserver' ? path.join(info.dir, 'admin-token') : info.tokenFile, 'utf8').trim();
}

/** The extension's test API, once it has finished starting. */
export async function api(): Promise<Api> {
  const ext = vscode.extensions.getExtension<KserveCanaryApi>(EXT_ID);
  assert.ok(ext, `extension ${EXT_ID} not found`);
  const exp = await ext.activate();
  await exp.test.whenStarted();
  return exp.test;
}

/** Polls `fn` until it returns a truthy value; fails with `what` and the last value seen (test/poll.ts). */
export function until<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 45_000): Promise<NonNullable<T>> {
  return untilTruthy(what, fn, timeoutMs, 100);
}

/** git's trimmed stdout (test/core/git-helpers' gitAsync: the one git runner of the tests). */
export function git(args: string[], cwd?: string): Promise<string> {
  return gitAsync(cwd, args);
}

export async function remoteCommits(): Promise<number> {
  return Number(await git(['--git-dir', sandbox().gitopsRemote, 'rev-list', '--count', 'main']));
}

export async function remoteHeadMessage(): Promise<string> {
  return git(['--git-dir', sandbox().gitopsRemote, 'log', '-1', '--format=%s', 'main']);
}

/** Replaces vscode.window.<name> (or vscode.env.<name>) until restore() is called. */
export class Stubs {
  private restores: (() => void)[] = [];

  set<O extends object, K extends keyof O>(obj: O, name: K, impl: O[K]): void {
    const original = obj[name];
    (obj as Record<K, O[K]>)[name] = impl;
    this.restores.push(() => {
      (obj as Record<K, O[K]>)[name] = original;
    });
  }

  restore(): void {
    for (const r of this.restores.reverse()) r();
    this.restores = [];
  }
}

export function row(rows: TreeRow[], label: string, parentLabel?: string): TreeRow | undefined {
  if (!parentLabel) return rows.find((r) => r.label === label);
  const p = rows.findIndex((r) => r.label === parentLabel);
  if (p < 0) return undefined;
  for (let i = p + 1; i < rows.length && rows[i]!.depth > rows[p]!.depth; i++) {
    if (rows[i]!.label === label && rows[i]!.depth === rows[p]!.depth + 1) return rows[i];
  }
  return undefined;
}

/** The service row of a model in an environment. */
export async function serviceRow(a: Api, env: string, model: string): Promise<TreeRow | undefined> {
  return row(await a.rows(), model, env);
}

export function keyOf(a: Api, env: string, model: string): string {
  const s = a.services().find((x) => x.env === env && (x.model ?? x.name) === model);
  assert.ok(
    s,
    `no service ${model} in ${env}; known: ${a
      .services()
      .map((x) => x.key)
      .join(', ')}`,
  );
  return s.key;
}

/**
 * Calls the sandbox's token-authenticated test-control route (src/sandbox/inference.ts) on the
 * inference server `origin` (the origin of a service's status.url): `revisions/<ns>/<rev>/behavior`
 * or `metrics/reset`. Asserts a 200 and returns the answer.
 */
export async function sandboxControl(origin: string, route: string, body: unknown = {}): Promise<unknown> {
  const token = readFileSync(sandbox().tokenFile, 'utf8').trim();
  const r = await fetch(`${origin}/_sandbox/${route}`, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
  });
  const text = await r.text();
  if (r.status !== 200) throw new Error(`sandbox control ${route}: ${r.status} ${text}`);
  return JSON.parse(text) as unknown;
}

const SEED_SPLIT = 'prev 80% · latest 20%';

/**
 * A known start for a suite that begins from the seed's 80/20 on test/jukebox: sets the canary
 * back to 20% through the command (one commit) unless the tree already shows 80/20, so that no
 * suite depends on what the suites before it left behind.
 */
export async function atSeedSplit(a: Api): Promise<void> {
  if ((await serviceRow(a, 'test', 'jukebox'))?.description === SEED_SPLIT) return;
  const stubs = new Stubs();
  stubs.set(vscode.window, 'showInputBox', (async () => '20') as typeof vscode.window.showInputBox);
  try {
    await vscode.commands.executeCommand('kserveCanary.setTraffic', keyOf(a, 'test', 'jukebox'));
  } finally {
    stubs.restore();
  }
  await until(`the tree at the seed's 80/20`, async () => (await serviceRow(a, 'test', 'jukebox'))?.description === SEED_SPLIT);
}
