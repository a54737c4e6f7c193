/**
 * Shared data types of the core (git side). Pure data: no I/O here.
 */

/** What a user asks for. `promote` removes the canary block; `rollback` is percent 0. */
export type CanaryAction = { kind: 'set'; percent: number } | { kind: 'promote' } | { kind: 'rollback' };

/**
 * The `canary` key of a config.yaml as the chart sees it:
 * - `absent`: no `canary` key: no canaryTrafficPercent rendered, 100% to latest;
 * - `empty`: `canary: {}` (or `canary:` with null): same rendering as absent;
 * - `percent`: `canary: {trafficPercent: N}`: canaryTrafficPercent N rendered (0 included).
 */
export type CanaryBlock = { kind: 'absent' } | { kind: 'empty' } | { kind: 'percent'; trafficPercent: number };

/** The desired state of one model in one environment, read from git. */
export interface ModelConfig {
  env: string;
  model: string;
  /** Absolute path of the config.yaml. */
  file: string;
  /** `name` key (the InferenceService name); falls back to the folder name when absent. */
  name: string;
  /** `version` key (image tag / git sha), when present. */
  version: string | undefined;
  canary: CanaryBlock;
  /**
   * The canaryTrafficPercent the chart renders: a number, or undefined when it renders
   * none (absent or empty canary: 100% to the latest revision).
   */
  desiredPercent: number | undefined;
  /** 1-based line of the `canary:` key (or of the first line when absent), to open the editor there. */
  canaryLine: number;
}

export interface ModelEntry {
  name: string;
  /** Absolute path of its config.yaml. */
  configPath: string;
}

export interface EnvironmentEntry {
  name: string;
  /** Absolute path of model-deployments/<env>. */
  dir: string;
  models: ModelEntry[];
}

/** What was found under `<gitopsRoot>/<deploymentsDir>/`. */
export interface Layout {
  /** Absolute path of the gitops checkout. */
  root: string;
  /** Folder holding the environments, relative to root; default `model-deployments`. */
  deploymentsDir: string;
  environments: EnvironmentEntry[];
  /** Things that were skipped and why (stray files, names that are not DNS labels...). */
  ignored: { path: string; reason: string; /** Set for hostile content (a link into .git, a huge file): its refusal code. */ refused?: string }[];
}
