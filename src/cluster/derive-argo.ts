/**
 * Argo CD Applications (argoproj.io/v1alpha1, Argo CD 2.x and 3.x) as the derivation reads
 * them: sync status and its error condition, single- and multi-source revisions, and which
 * source is the gitops checkout (by its remote URL, https and ssh forms alike). Pure.
 */
import type { ApplicationState } from './types';
import { arr, nonEmpty, obj, str, type Json } from './derive-modes';

/** Argo CD's error conditions (`…Error`), the ones that make a comparison impossible first. */
const ERROR_ORDER = ['ComparisonError', 'InvalidSpecError', 'UnknownError', 'SyncError', 'DeletionError'];

function errorCondition(status: Json | undefined): { type: string; message: string } | undefined {
  const conds = arr(status?.conditions)
    .map(obj)
    .filter((c): c is Json => c !== undefined && nonEmpty(str(c.type)) !== undefined);
  const rank = (c: Json) => {
    const i = ERROR_ORDER.indexOf(str(c.type)!);
    return i >= 0 ? i : str(c.type)!.endsWith('Error') ? ERROR_ORDER.length : ERROR_ORDER.length + 1;
  };
  const best = conds.filter((c) => rank(c) <= ERROR_ORDER.length).sort((a, b) => rank(a) - rank(b))[0];
  return best ? { type: str(best.type)!, message: str(best.message) ?? '' } : undefined;
}

/** Argo CD Application → ApplicationState (revision unresolved for multi-source: see resolveApplication). */
export function observeApplication(app: unknown): ApplicationState {
  const o = obj(app) ?? {};
  const meta = obj(o.metadata) ?? {};
  const spec = obj(o.spec);
  const status = obj(o.status);
  const sync = obj(status?.sync);
  const health = obj(status?.health);
  const op = obj(status?.operationState);
  const out: ApplicationState = {
    name: str(meta.name) ?? '',
    namespace: str(meta.namespace) ?? '',
    syncStatus: nonEmpty(str(sync?.status)),
    revision: nonEmpty(str(sync?.revision)),
    healthStatus: str(health?.status),
    healthMessage: str(health?.message),
    operationPhase: str(op?.phase),
    operationMessage: str(op?.message),
  };
  const revisions = arr(sync?.revisions).map((r) => nonEmpty(str(r)));
  // revisions[i] belongs to the i-th source compared (status.sync.comparedTo.sources, else spec.sources)
  const compared = arr(obj(sync?.comparedTo)?.sources);
  const sources = (compared.length ? compared : arr(spec?.sources)).map(obj);
  if (revisions.length > 0 || (spec?.source === undefined && sources.length > 0)) {
    out.sources = sources.map((s, i) => ({ repoURL: str(s?.repoURL) ?? '', revision: revisions[i] }));
    for (let i = sources.length; i < revisions.length; i++) out.sources.push({ repoURL: '', revision: revisions[i] });
    out.revision = undefined;
  }
  const cond = errorCondition(status);
  if (cond) out.condition = cond;
  return out;
}

/**
 * One spelling per repository: `https://host/org/repo(.git)`, `ssh://git@host[:port]/org/repo`,
 * `git@host:org/repo.git` all read `host/org/repo` (host lower-cased, credentials, port and
 * `.git` dropped); local paths and file:// URLs read as the path.
 */
export function normaliseRepoUrl(url: string): string {
  let u = url.trim();
  const scp = /^(?:[^@/\s]+@)?([^:/\s]+):(?!\/)(.*)$/.exec(u);
  if (scp && !/^[a-zA-Z]:[\\/]/.test(u) && !/^[a-z][a-z0-9+.-]*:\/\//i.test(u)) {
    u = `${scp[1]!.toLowerCase()}/${scp[2]!}`;
  } else if (/^file:\/\//i.test(u)) {
    u = decodeURIComponent(u.replace(/^file:\/\/(localhost)?/i, ''));
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(u)) {
    try {
      const p = new URL(u);
      u = `${p.hostname.toLowerCase()}${decodeURIComponent(p.pathname)}`;
    } catch {
      // not a URL after all: compare as written
    }
  }
  return u
    .replace(/\/+$/, '')
    .replace(/\.git$/, '')
    .replace(/\/+$/, '');
}

/**
 * The revision Argo CD compared for the gitops checkout: single-source `status.sync.revision`;
 * multi-source the `revisions[i]` of the source whose repoURL is the checkout's remote (never
 * simply the first). Without a match `revision` stays undefined and `trackedSource` is -1.
 */
export function resolveApplication(app: ApplicationState, remote: string | undefined): ApplicationState {
  if (!app.sources) return app;
  const want = remote ? normaliseRepoUrl(remote) : undefined;
  const i = want === undefined ? -1 : app.sources.findIndex((s) => s.repoURL !== '' && normaliseRepoUrl(s.repoURL) === want);
  const distinct = new Set(app.sources.map((s) => s.revision));
  // one source only, or every source at the same commit: no choice to make
  const only = want === undefined && distinct.size === 1 ? app.sources[0]?.revision : undefined;
  const revision = i >= 0 ? app.sources[i]!.revision : only;
  return { ...app, revision, trackedSource: i };
}

/** True when Argo CD could not compare: no status.sync (yet), or `Unknown`. */
export function syncUnknown(app: ApplicationState): boolean {
  return app.syncStatus === undefined || app.syncStatus === 'Unknown';
}

/** Why Argo CD cannot say whether the Application is in sync, from its condition. */
export function syncUnknownWhy(app: ApplicationState): string {
  const status = app.syncStatus === undefined ? 'no sync status' : 'sync status Unknown';
  const cond = app.condition ? `${app.condition.type}: ${app.condition.message || 'no message'}` : 'it reports no condition';
  return `Argo CD cannot compare ${app.name} with git (${status}; ${cond})`;
}
