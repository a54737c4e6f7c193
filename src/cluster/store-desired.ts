/**
 * The store's desired state: the last read of the gitops checkout (every model's entry by
 * InferenceService name and by folder, the environments, HEAD, its upstream and remote, the
 * configs that could not be read), and what changed from one read to the next. Reading is
 * chained by the store; each unreadable config is logged once, not on every re-read.
 */
import type { ClusterLogger, GitopsSource } from './api';
import { loadDesired, watchGitops, type DesiredEntry } from './desired';
import type { DesiredState } from './types';

/** What one read changed. */
export interface DesiredChange {
  /** The environment folders differ from the previous read. */
  envsChanged: boolean;
  /** `[env, InferenceService name]` of every entry (or unreadable config) whose row must be recomputed. */
  touched: [env: string, name: string][];
}

const key = (env: string, name: string) => `${env}\0${name}`;

export class DesiredSource {
  /** `<env>\0<InferenceService name>` → entry. */
  private byName = new Map<string, DesiredEntry>();
  /** `<env>\0<model folder>` → entry. */
  private byModel = new Map<string, DesiredEntry>();
  private envs: string[] = [];
  private commit: string | undefined;
  private upstream: string | undefined;
  private remote: string | undefined;
  /** Log lines of the unreadable configs of the last read (each is logged once). */
  private problemLines = new Set<string>();
  /** `<env>\0<model folder>` → why its config.yaml could not be read. */
  private broken = new Map<string, string>();

  constructor(
    private readonly gitops: GitopsSource | undefined,
    private readonly log: ClusterLogger,
  ) {}

  /** A gitops checkout was given. */
  get configured(): boolean {
    return this.gitops !== undefined;
  }

  /** The environment folders of the checkout, as last read. */
  environments(): string[] {
    return this.envs;
  }

  entries(): IterableIterator<DesiredEntry> {
    return this.byName.values();
  }

  /** By environment and InferenceService name. */
  entry(env: string, name: string): DesiredEntry | undefined {
    return this.byName.get(key(env, name));
  }

  /** By environment and model folder. */
  entryOfModel(env: string, model: string): DesiredEntry | undefined {
    return this.byModel.get(key(env, model));
  }

  /** Why the config.yaml of `<env>/<folder>` could not be read, when it could not. */
  brokenReason(env: string, folder: string): string | undefined {
    return this.broken.get(key(env, folder));
  }

  /** The desired side of a row: the entry plus the checkout's commits. */
  stateOf(d: DesiredEntry): DesiredState {
    return {
      percent: d.percent,
      version: d.version,
      commit: this.commit,
      ...(this.upstream ? { upstream: this.upstream } : {}),
      ...(this.remote ? { remote: this.remote } : {}),
    };
  }

  /** Re-reads the checkout when it changes (edits, commits, pulls); returns the stop function. */
  watch(debounceMs: number, onChange: () => void): () => void {
    if (!this.gitops) return () => undefined;
    return watchGitops(this.gitops, debounceMs, onChange);
  }

  /** Reads the checkout once; undefined when there is none or it could not be read (logged). */
  async read(): Promise<DesiredChange | undefined> {
    if (!this.gitops) return undefined;
    let snap;
    try {
      snap = await loadDesired(this.gitops);
    } catch (e) {
      this.log.warn(`Could not read the gitops checkout ${this.gitops.root}: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
    // each unreadable config is reported once (the checkout is re-read on every change)
    const problems = new Set(snap.problems.map((p) => `Skipped ${p.env}/${p.model}: ${p.message}`));
    for (const line of problems) if (!this.problemLines.has(line)) this.log.warn(line);
    this.problemLines = problems;
    const brokenBefore = this.broken;
    this.broken = new Map(snap.problems.map((p) => [key(p.env, p.model), p.message]));
    const oldByName = this.byName;
    this.byName = new Map(snap.entries.map((d) => [key(d.env, d.name), d]));
    this.byModel = new Map(snap.entries.map((d) => [key(d.env, d.model), d]));
    const commitChanged = this.commit !== snap.commit || this.upstream !== snap.upstream || this.remote !== snap.remote;
    this.commit = snap.commit;
    this.upstream = snap.upstream;
    this.remote = snap.remote;
    const envsChanged = snap.environments.join('\0') !== this.envs.join('\0');
    this.envs = snap.environments;
    const touched: DesiredChange['touched'] = [];
    for (const k of new Set([...oldByName.keys(), ...this.byName.keys(), ...brokenBefore.keys(), ...this.broken.keys()])) {
      if (commitChanged || JSON.stringify(oldByName.get(k)) !== JSON.stringify(this.byName.get(k))) {
        const [env, name] = k.split('\0');
        touched.push([env, name]);
      }
    }
    return { envsChanged, touched };
  }
}
