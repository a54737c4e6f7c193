/**
 * The desired state from the gitops checkout: every model's canaryTrafficPercent as the chart
 * renders it (through src/core), plus the checkout's HEAD commit.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { readModelConfig } from '../core/config';
import { discoverLayout } from '../core/layout';
import type { GitopsSource } from './api';
import { watchFolders } from './fswatch';

export interface DesiredEntry {
  env: string;
  /** Folder name. */
  model: string;
  /** InferenceService name (`name` key, or the folder). */
  name: string;
  percent: number | undefined;
  version: string | undefined;
}

export interface DesiredSnapshot {
  environments: string[];
  entries: DesiredEntry[];
  commit: string | undefined;
  /** The upstream of HEAD's branch (what was last pushed or fetched), when it has one. */
  upstream: string | undefined;
  /** URL of the remote HEAD's branch tracks (else origin), as git expands it; undefined without one. */
  remote: string | undefined;
  /** Configs that could not be read (shown in the log, the model falls back to "unknown"). */
  problems: { env: string; model: string; message: string }[];
}

/** HEAD and its upstream (`@{u}`, the last fetched/pushed state of the tracked branch), when known. */
export function headCommits(root: string): Promise<{ head: string | undefined; upstream: string | undefined }> {
  const rev = (ref: string) =>
    new Promise<string | undefined>((resolve) => {
      execFile('git', ['-C', root, 'rev-parse', '--verify', '-q', ref], { timeout: 10000, windowsHide: true }, (err, stdout) => {
        const sha = String(stdout).trim();
        resolve(!err && /^[0-9a-f]{40,64}$/.test(sha) ? sha : undefined);
      });
    });
  return Promise.all([rev('HEAD'), rev('@{upstream}')]).then(([head, upstream]) => ({ head, upstream }));
}

/** `git ls-remote --get-url`: the URL of the current branch's remote (or origin), insteadOf applied. */
export function remoteUrl(root: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('git', ['-C', root, 'ls-remote', '--get-url'], { timeout: 10000, windowsHide: true }, (err, stdout) => {
      const url = String(stdout).trim();
      resolve(!err && url ? url : undefined);
    });
  });
}

export async function loadDesired(src: GitopsSource): Promise<DesiredSnapshot> {
  const opts = src.deploymentsDir ? { deploymentsDir: src.deploymentsDir } : undefined;
  const [layout, { head: commit, upstream }, remote] = await Promise.all([discoverLayout(src.root, opts), headCommits(src.root), remoteUrl(src.root)]);
  const entries: DesiredEntry[] = [];
  const problems: DesiredSnapshot['problems'] = [];
  await Promise.all(
    layout.environments.flatMap((env) =>
      env.models.map(async (m) => {
        try {
          const cfg = await readModelConfig(src.root, env.name, m.name, opts);
          entries.push({ env: env.name, model: m.name, name: cfg.name || m.name, percent: cfg.desiredPercent, version: cfg.version });
        } catch (e) {
          problems.push({ env: env.name, model: m.name, message: e instanceof Error ? e.message : String(e) });
        }
      }),
    ),
  );
  entries.sort((a, b) => a.env.localeCompare(b.env) || a.model.localeCompare(b.model));
  return { environments: layout.environments.map((e) => e.name), entries, commit, upstream, remote, problems };
}

/**
 * Calls onChange (debounced) when the checkout changes: a config.yaml edited, a model or
 * environment folder added, a commit, pull or checkout (HEAD and branch refs). Best effort:
 * folders that cannot be watched are skipped.
 */
export function watchGitops(src: GitopsSource, debounceMs: number, onChange: () => void): () => void {
  const git = path.join(src.root, '.git');
  return watchFolders(
    [
      { dir: path.join(src.root, src.deploymentsDir ?? 'model-deployments'), recursive: true },
      // in .git itself only HEAD and packed-refs matter (index and logs change on every status)
      { dir: git, names: /^(HEAD|packed-refs)$/ },
      { dir: path.join(git, 'refs', 'heads'), recursive: true },
    ],
    debounceMs,
    onChange,
  );
}
