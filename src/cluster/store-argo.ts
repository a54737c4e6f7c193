/**
 * The store's Argo CD side: the Applications of the toolings namespace as last listed or
 * watched, whether they were read yet (until then "no Application" proves nothing, so a drift
 * verdict waits), and the refresh request `follow()` sends so Argo CD notices a push at once —
 * when the user may patch Applications there. The workshop binds only `view` in the toolings
 * namespace: the right is learnt once per connection (a SelfSubjectAccessReview, or the first
 * 403) and a refused patch is not sent again; the follow then waits for Argo CD's own poll.
 */
import type { ClusterLogger, RefreshOutcome } from './api';
import { RequestError } from './classify';
import { APPLICATION, type Transport } from './transport';
import type { ApplicationState } from './types';

/** The verdict reason of a row whose drift verdict waits for the Applications. */
export const READING_APPS = 'Reading the Argo CD Applications before judging drift.';

const same = (a: ApplicationState | undefined, b: ApplicationState | undefined) => JSON.stringify(a) === JSON.stringify(b);

export class ArgoApplications {
  private readonly apps = new Map<string, ApplicationState>();
  /** Whether the user may patch Applications, as learnt on this connection (its transport) and namespace. */
  private right: { transport: Transport; namespace: string; allowed: boolean } | undefined;
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
    this.right = undefined;
    const names = [...this.apps.keys()];
    this.apps.clear();
    return names;
  }

  /**
   * Asks Argo CD to refresh an Application now (annotation), unless this connection learnt that
   * the user may not: failing is only logged, and a 403 is remembered (no refused patch again).
   */
  async requestRefresh(transport: Transport | undefined, toolings: string | undefined, appName: string): Promise<RefreshOutcome> {
    if (!transport || !toolings) return 'failed';
    const known = this.right?.transport === transport && this.right.namespace === toolings ? this.right.allowed : undefined;
    const allowed = known ?? (await this.review(transport, toolings));
    if (allowed === false) return 'not-allowed';
    try {
      await transport.mergePatch(APPLICATION, toolings, appName, { metadata: { annotations: { 'argocd.argoproj.io/refresh': 'normal' } } });
      if (allowed === undefined) this.learn(transport, toolings, true);
      return 'asked';
    } catch (e) {
      if (e instanceof RequestError && e.status === 403) {
        this.learn(transport, toolings, false);
        return 'not-allowed';
      }
      this.log.info(
        `Could not ask Argo CD to refresh ${appName} (${e instanceof Error ? e.message.slice(0, 120) : String(e)}); it will notice the commit at its own poll of git.`,
      );
      return 'failed';
    }
  }

  /** The SelfSubjectAccessReview's answer, remembered; undefined when there is none (the patch's answer tells then). */
  private async review(transport: Transport, namespace: string): Promise<boolean | undefined> {
    let allowed: boolean;
    try {
      allowed = await transport.mayI('patch', APPLICATION, namespace);
    } catch {
      return undefined;
    }
    this.learn(transport, namespace, allowed);
    return allowed;
  }

  private learn(transport: Transport, namespace: string, allowed: boolean): void {
    this.right = { transport, namespace, allowed };
    if (!allowed)
      this.log.info(
        `Not allowed to patch Applications in ${namespace} (view only): follows wait for Argo CD's own poll of git instead of asking it to refresh.`,
      );
  }
}
