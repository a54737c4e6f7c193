/**
 * The store's Argo CD side: the Applications of the toolings namespace as last listed or
 * watched, whether they were read yet (until then "no Application" proves nothing, so a drift
 * verdict waits), and the refresh request `follow()` sends so Argo CD notices a push at once.
 */
import type { ClusterLogger } from './api';
import { APPLICATION, type Transport } from './transport';
import type { ApplicationState } from './types';

/** The verdict reason of a row whose drift verdict waits for the Applications. */
export const READING_APPS = 'Reading the Argo CD Applications before judging drift.';

const same = (a: ApplicationState | undefined, b: ApplicationState | undefined) => JSON.stringify(a) === JSON.stringify(b);

export class ArgoApplications {
  private readonly apps = new Map<string, ApplicationState>();
  private listed = false;
  /** Until the Applications were read (or failed to be), "no Application" proves nothing. */
  private pending = false;

  constructor(private readonly log: ClusterLogger) {}

  get(name: string): ApplicationState | undefined {
    return this.apps.get(name);
  }

  /** The Applications were listed at least once on this connection. */
  get known(): boolean {
    return this.listed;
  }

  get reading(): boolean {
    return this.pending;
  }

  /** The watches are starting: a drift without an Application waits until they are read. */
  startReading(): void {
    this.pending = true;
  }

  /** The Applications were read or could not be: true when rows were waiting for it. */
  settle(): boolean {
    if (!this.pending) return false;
    this.pending = false;
    return true;
  }

  /** A full list. Returns the names that changed, and whether it was the first list. */
  replaceAll(next: Map<string, ApplicationState>): { changed: string[]; firstList: boolean } {
    const changed: string[] = [];
    for (const n of new Set([...this.apps.keys(), ...next.keys()])) {
      if (!same(this.apps.get(n), next.get(n))) changed.push(n);
    }
    this.apps.clear();
    for (const [n, a] of next) this.apps.set(n, a);
    const firstList = !this.listed;
    this.listed = true;
    this.pending = false;
    return { changed, firstList };
  }

  /** True when it changed. */
  put(a: ApplicationState): boolean {
    if (same(this.apps.get(a.name), a)) return false;
    this.apps.set(a.name, a);
    return true;
  }

  /** True when it was known. */
  drop(name: string): boolean {
    return this.apps.delete(name);
  }

  /** Another cluster or user: forgets everything; returns the names that were known. */
  forget(): string[] {
    this.listed = false;
    const names = [...this.apps.keys()];
    this.apps.clear();
    return names;
  }

  /** Asks Argo CD to refresh an Application now (annotation); failing is only logged. */
  async requestRefresh(transport: Transport | undefined, toolings: string | undefined, appName: string): Promise<void> {
    if (!transport || !toolings) return;
    try {
      await transport.mergePatch(APPLICATION, toolings, appName, { metadata: { annotations: { 'argocd.argoproj.io/refresh': 'normal' } } });
    } catch (e) {
      this.log.info(`Could not ask Argo CD to refresh ${appName} (${e instanceof Error ? e.message.slice(0, 120) : String(e)}); it will notice the commit by itself.`);
    }
  }
}
