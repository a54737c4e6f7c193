/**
 * The set-up every way of publishing shares (push, commit, pull-request): names and the action
 * validated before anything touches the disk, the git runners with the caller's environment,
 * timeout, signal and test fault hooks, the repository and the one config.yaml it is about.
 */
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { CanaryError } from './errors';
import { GitRunner, type GitRunnerOptions } from './git';
import { repoInfo, type RepoInfo } from './gitstate';
import { DEFAULT_DEPLOYMENTS_DIR, MAX_CONFIG_BYTES, formatBytes, modelConfigPath } from './layout';
import { validateName } from './names';
import type { CanaryAction, CanaryBlock } from './types';
import type { PublishOptions } from './publish';

const FAULT_POINTS = ['after-edit', 'after-commit', 'during-push'] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];

function faultAt(env: NodeJS.ProcessEnv): FaultPoint | undefined {
  const v = env.KSC_FAULT_KILL_AT;
  return (FAULT_POINTS as readonly string[]).includes(v ?? '') ? (v as FaultPoint) : undefined;
}

export function killSelf(): never {
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
}

export function validateAction(action: CanaryAction): void {
  if (action.kind === 'set' && !(Number.isInteger(action.percent) && action.percent >= 0 && action.percent <= 100)) {
    throw new CanaryError(
      'invalid-input',
      'invalid-percent',
      `Invalid traffic percent ${JSON.stringify(action.percent)}: it must be a whole number from 0 to 100.`,
      'For example: 20.',
    );
  }
}

/** The same canary as the chart renders it (absent and empty alike). */
export function sameCanary(a: CanaryBlock, b: CanaryBlock): boolean {
  if (a.kind === 'percent' && b.kind === 'percent') return a.trafficPercent === b.trafficPercent;
  const unset = (c: CanaryBlock) => c.kind === 'absent' || c.kind === 'empty';
  return unset(a) === unset(b) && a.kind === b.kind;
}

/** The cap of layout.ts for a committed version too (a pushed 40 MB config.yaml is not parsed). */
export function checkCommittedSize(text: string, rel: string, rev: string): void {
  const size = Buffer.byteLength(text);
  if (size > MAX_CONFIG_BYTES) {
    throw new CanaryError(
      'invalid-config',
      'config-too-large',
      `${rel} on ${rev} is ${formatBytes(size)}, over the ${formatBytes(MAX_CONFIG_BYTES)} limit for a config.yaml: refused without parsing it.`,
      `A model's config.yaml holds a few settings (name, version, canary); look at what was committed to ${rel} (\`git log -- ${rel}\`).`,
    );
  }
}

export function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}

export interface Target {
  env: string;
  model: string;
  deploymentsDir: string;
  fault: FaultPoint | undefined;
  log: (line: string) => void;
  /** Runner options without cwd (for extra runners, e.g. one with a temporary index). */
  runnerOpts: Omit<GitRunnerOptions, 'cwd'>;
  info: RepoInfo;
  git: GitRunner;
  top: string;
  file: string;
  /** The config.yaml relative to the top level, '/'-separated. */
  rel: string;
  gitDirs: string[];
}

/** Validates the request and finds the repository and the file; nothing is written. */
export async function openTarget(opts: PublishOptions): Promise<Target> {
  const env = validateName('environment', opts.env);
  const model = validateName('model', opts.model);
  validateAction(opts.action);
  const processEnv = opts.processEnv ?? process.env;
  const fault = faultAt(processEnv);
  const deploymentsDir = opts.deploymentsDir ?? DEFAULT_DEPLOYMENTS_DIR;
  const onSpawn =
    fault === 'during-push'
      ? (_c: string, args: string[]) => {
          if (args.includes('push')) killSelf();
        }
      : undefined;
  const runnerOpts = { env: processEnv, timeoutMs: opts.timeoutMs ?? 30000, ...(opts.signal ? { signal: opts.signal } : {}), ...(onSpawn ? { onSpawn } : {}) };

  const probe = new GitRunner({ cwd: opts.root, ...runnerOpts });
  const info = await repoInfo(probe, opts.root);
  const top = await realpath(info.topLevel);
  const git = new GitRunner({ cwd: top, ...runnerOpts });
  // Links into the git directory (also one not named .git), outside the checkout, oversized files: refused here, before git runs.
  const gitDirs = [info.gitDir];
  const file = modelConfigPath(opts.root, env, model, deploymentsDir, { gitDirs });
  const realFile = path.join(await realpath(path.dirname(file)).catch(() => path.dirname(file)), path.basename(file));
  const rel = toPosix(path.relative(top, realFile));
  if (rel.startsWith('..')) {
    throw new CanaryError(
      'invalid-input',
      'outside-repository',
      `${file} is outside the git repository at ${top}.`,
      'Point --gitops at the gitops checkout itself.',
    );
  }
  return { env, model, deploymentsDir, fault, log: opts.log ?? (() => undefined), runnerOpts, info, git, top, file, rel, gitDirs };
}
