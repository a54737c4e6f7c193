/**
 * The store's connection state and its problem episodes: which watch is failing and why
 * (classified once), the phase it gives (connecting / connected / disconnected), and the
 * episodes that group problems so the log and the UI hear about each one once, not on every
 * retry: one line per kind of problem per episode (a 403 in every namespace is one line).
 * An episode ends after `episodeQuietMs` without errors.
 */
import type { ClusterLogger } from './api';
import { classifyError, isDisconnecting, problemKey, problemLine } from './classify';
import type { ClusterProblem, ConnectionState } from './types';

/** Most serious first: the connection shows the first active problem in this order. */
const SEVERITY: ClusterProblem['kind'][] = [
  'no-kubeconfig',
  'invalid-settings',
  'unauthorized',
  'tls',
  'unreachable',
  'timeout',
  'server-error',
  'forbidden',
  'other',
];

export type Health = { ok: true } | { ok: false; error: unknown };

export class ConnectionTracker {
  private conn: ConnectionState = { phase: 'idle', context: undefined, server: undefined, since: new Date().toISOString(), problem: undefined, episode: 0 };
  /** Reflector id (or `kubeconfig`) → its current problem. */
  private readonly problems = new Map<string, ClusterProblem>();
  /** Reflectors that have succeeded at least once since the connection began. */
  private readonly healthy = new Set<string>();
  private readonly listeners = new Set<(s: ConnectionState) => void>();
  private episodeOpen = false;
  private episodeStart: string | undefined;
  private episodeLogged = new Set<string>();
  private quietTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: ClusterLogger,
    private readonly episodeQuietMs: number,
  ) {}

  /** A copy of the connection state. */
  state(): ConnectionState {
    return { ...this.conn };
  }

  get phase(): ConnectionState['phase'] {
    return this.conn.phase;
  }

  /** The active problems whose reflector id passes `keep`. */
  activeProblems(keep: (id: string) => boolean = () => true): ClusterProblem[] {
    return [...this.problems].filter(([id]) => keep(id)).map(([, p]) => p);
  }

  /** The forbidden problem of a namespace, when listing it was refused. */
  forbidden(namespace: string): ClusterProblem | undefined {
    return [...this.problems.values()].find((p) => p.kind === 'forbidden' && p.namespace === namespace);
  }

  onDidChange(listener: (s: ConnectionState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A new connection attempt: what the old one knew about its watches no longer holds. */
  reset(): void {
    this.problems.clear();
    this.healthy.clear();
  }

  set(patch: Partial<ConnectionState>): void {
    const next: ConnectionState = { ...this.conn, ...patch };
    if (next.phase !== this.conn.phase) next.since = new Date().toISOString();
    if (next.phase === 'disconnected') next.disconnectedSince = this.episodeStart ?? next.since;
    else delete next.disconnectedSince;
    next.episode = this.conn.episode ?? 0;
    if (patch.episode !== undefined) next.episode = patch.episode;
    if (JSON.stringify(next) === JSON.stringify(this.conn)) return;
    this.conn = next;
    for (const l of this.listeners) {
      try {
        l({ ...next });
      } catch (e) {
        this.log.error(`A listener of the connection failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  /** A problem that is not tied to a reflector (no kubeconfig): its own episode. */
  problemOnly(p: ClusterProblem): void {
    this.problems.clear();
    this.problems.set('kubeconfig', p);
    this.updateEpisodes();
    this.set({ phase: 'idle', context: undefined, server: undefined, problem: p });
  }

  /**
   * One reflector's health changed. True when the phase changed or a problem was reported:
   * the "not seen yet (connecting / disconnected / forbidden)" reasons of the rows depend on it.
   */
  health(id: string, h: Health, server: string | undefined): boolean {
    if (h.ok) {
      this.problems.delete(id);
      this.healthy.add(id);
    } else {
      this.problems.set(id, classifyError(h.error, server));
    }
    this.updateEpisodes();
    const active = [...this.problems.values()].sort((a, b) => SEVERITY.indexOf(a.kind) - SEVERITY.indexOf(b.kind));
    const disconnected = active.some((p) => isDisconnecting(p.kind));
    const phase = disconnected ? 'disconnected' : this.healthy.size > 0 ? 'connected' : 'connecting';
    const before = this.conn.phase;
    this.set({ phase, problem: active[0] });
    return before !== phase || !h.ok;
  }

  dispose(): void {
    if (this.quietTimer) clearTimeout(this.quietTimer);
    this.listeners.clear();
  }

  private updateEpisodes(): void {
    const active = [...this.problems.values()];
    if (active.length > 0) {
      if (this.quietTimer) {
        clearTimeout(this.quietTimer);
        this.quietTimer = undefined;
      }
      if (!this.episodeOpen) {
        this.episodeOpen = true;
        this.episodeStart = new Date().toISOString();
        this.episodeLogged = new Set();
        this.conn = { ...this.conn, episode: (this.conn.episode ?? 0) + 1 };
      }
      // no watch works: none has succeeded since the connection began, or every one that did fails now
      const nothingWorks = [...this.healthy].every((id) => this.problems.has(id));
      for (const p of active) {
        const key = problemKey(p);
        if (this.episodeLogged.has(key)) continue;
        this.episodeLogged.add(key);
        this.log.warn(problemLine(p, nothingWorks));
      }
    } else if (this.episodeOpen && !this.quietTimer) {
      this.quietTimer = setTimeout(() => {
        this.quietTimer = undefined;
        this.episodeOpen = false;
        this.episodeStart = undefined;
        this.log.info(`Connection to ${this.conn.server ?? 'the cluster'} is fine again.`);
      }, this.episodeQuietMs);
      this.quietTimer.unref?.();
    }
  }
}
