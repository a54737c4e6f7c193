/**
 * The git side of the rollout engine's ports: reading where a rollout stands from the
 * gitops repository (desired percent and the last commit message of the model's
 * config.yaml, after a fetch) and publishing each step through publishCanaryChange.
 */
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { parseModelConfig } from './config';
import { GitRunner } from './git';
import { fetchUpstream, readUpstream, repoInfo, showFile } from './gitstate';
import { DEFAULT_DEPLOYMENTS_DIR, modelConfigPath } from './layout';
import { publishCanaryChange } from './publish';
import type { GitSnapshot, RolloutPorts } from './rollout';
import { CanaryError } from './errors';

export interface GitPortOptions {
  root: string;
  env: string;
  model: string;
  deploymentsDir?: string;
  /** Environment for git (askpass etc.), default process.env. */
  processEnv?: NodeJS.ProcessEnv;
  /** Network timeout per git operation, default 30000 ms. */
  timeoutMs?: number;
  /** Commit only (tests, dry runs); default true. */
  push?: boolean;
  log?: (line: string) => void;
}

/**
 * Reads the rollout's state from git. Fetches the upstream first (best effort) and reads
 * from the remote-tracking branch when it is ahead of HEAD and contains it, so a step
 * pushed from another machine is seen before the next publish pulls it.
 */
export async function readGitSnapshot(o: GitPortOptions, signal?: AbortSignal): Promise<GitSnapshot> {
  const env = o.processEnv ?? process.env;
  const runner = (cwd: string) => new GitRunner({ cwd, env, timeoutMs: o.timeoutMs ?? 30000, ...(signal ? { signal } : {}) });
  const info = await repoInfo(runner(o.root), o.root);
  const top = await realpath(info.topLevel);
  const git = runner(top);
  const file = modelConfigPath(o.root, o.env, o.model, o.deploymentsDir ?? DEFAULT_DEPLOYMENTS_DIR);
  const realFile = path.join(await realpath(path.dirname(file)).catch(() => path.dirname(file)), path.basename(file));
  const rel = path.relative(top, realFile).split(path.sep).join('/');
  let ref = 'HEAD';
  const branch = (await git.probe(['symbolic-ref', '--short', '-q', 'HEAD']))?.trim();
  if (branch && o.push !== false) {
    try {
      const up = await readUpstream(git, branch);
      await fetchUpstream(git, up);
      // the tracking branch is ahead of HEAD (or equal): read there. (the runner did not
      // report `merge-base --is-ancestor`'s silent exit 1, so compare the merge base instead.)
      const [base, headOid] = await Promise.all([git.probe(['merge-base', 'HEAD', up.trackingRef]), git.probe(['rev-parse', 'HEAD'])]);
      if (base !== undefined && base.trim() !== '' && base.trim() === headOid?.trim()) ref = up.trackingRef;
    } catch (e) {
      o.log?.(`could not fetch before reading the rollout state: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const headSha = (await git.probe(['rev-parse', '--verify', '-q', `${ref}^{commit}`]))?.trim() || undefined;
  const text = headSha ? await showFile(git, ref, rel) : undefined;
  if (text === undefined) {
    throw new CanaryError(
      'not-found',
      'no-such-model',
      `${rel} is not committed${headSha ? ` at ${ref}` : ''}, so there is nothing to roll out.`,
      "Commit the model's config.yaml first (or check --env and the model name).",
    );
  }
  const cfg = parseModelConfig(text, file, o.env, o.model);
  const message = (await git.run(['log', '-1', '--format=%B', ref, '--', rel])).trim() || undefined;
  return { percent: cfg.desiredPercent, message, headSha };
}

/** readGit + publish ports over the gitops checkout. */
export function gitRolloutPorts(o: GitPortOptions): Pick<RolloutPorts, 'readGit' | 'publish'> {
  return {
    readGit: (signal) => readGitSnapshot(o, signal),
    publish: async (action, message, signal) => {
      const r = await publishCanaryChange({
        root: o.root,
        env: o.env,
        model: o.model,
        action,
        message,
        push: o.push !== false,
        ...(o.deploymentsDir ? { deploymentsDir: o.deploymentsDir } : {}),
        ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
        ...(o.processEnv ? { processEnv: o.processEnv } : {}),
        ...(signal ? { signal } : {}),
        ...(o.log ? { log: o.log } : {}),
      });
      return { sha: r.sha, changed: r.changed };
    },
  };
}
