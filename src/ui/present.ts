/**
 * Words and symbols for the workbench: labels, descriptions, markdown tooltips, status-bar
 * text and context values computed from a ServiceState. Pure (no vscode, no I/O) so the UI
 * stays glue and these rules are unit-tested. Icons are codicon ids and theme colour ids;
 * src/ui turns them into ThemeIcon / ThemeColor.
 */
import type { ApplicationState, ConnectionState, ServiceState, TrafficTarget, Verdict } from '../cluster/types';
import { canaryModeName } from '../cluster/derive-modes';
import { isCanaryError } from '../core/errors';
import type { ObservedSplit } from '../core/observed';
import { markdownText, type MarkdownText } from '../core/sanitize';
import { formatSplit, shortSplit } from '../core/traffic';
import { redact } from '../core/redact';
import { pct, shortSha } from '../core/format';

export interface IconSpec {
  /** Codicon id, e.g. `pass-filled`, `sync~spin`. */
  id: string;
  /** Theme colour id, e.g. `testing.iconPassed`. */
  color?: string;
}

const VERDICTS: Record<Verdict, { title: string; icon: IconSpec }> = {
  live: { title: 'Live', icon: { id: 'pass-filled', color: 'testing.iconPassed' } },
  syncing: { title: 'Syncing', icon: { id: 'sync~spin', color: 'charts.blue' } },
  drift: { title: 'Drift', icon: { id: 'warning', color: 'list.warningForeground' } },
  'not-ready': { title: 'Not ready', icon: { id: 'error', color: 'list.errorForeground' } },
  unsupported: { title: 'Canary unsupported', icon: { id: 'circle-slash', color: 'disabledForeground' } },
  unknown: { title: 'Unknown', icon: { id: 'question' } },
};

export function verdictTitle(v: Verdict): string {
  return VERDICTS[v]?.title ?? String(v);
}

export function verdictIcon(v: Verdict): IconSpec {
  return VERDICTS[v]?.icon ?? VERDICTS.unknown.icon;
}

/** Label of a service row and of the status bar: the model folder, else the InferenceService name. */
export function serviceLabel(s: ServiceState): string {
  return s.model ?? s.name;
}

/**
 * The split as users read it. Some clusters report PREV 0 instead of nothing once all traffic
 * is on the latest revision (domain.md §3): both read as "latest 100%".
 */
export function liveSplit(s: ServiceState): { prev: number | undefined; latest: number | undefined } {
  if (s.prevPercent === 0 && s.latestPercent === 100) return { prev: undefined, latest: 100 };
  return { prev: s.prevPercent, latest: s.latestPercent };
}

/** The share the latest revision gets once git's desired state is applied. */
export function desiredLatest(s: ServiceState): number | undefined {
  if (!s.desired) return undefined;
  return s.desired.percent ?? 100;
}

/**
 * Tree description: `prev 80% · latest 20%`, `latest 100%`; while syncing, where it is going
 * (`prev 80% · latest 20% → 50%`); on drift, what git says; RawDeployment says canary is ignored.
 */
export function serviceDescription(s: ServiceState, observed?: ObservedView): string {
  return serviceSplitDescription(s) + observedSuffix(observed);
}

/**
 * The observed split as the UI shows it (texts made by src/core/observed.ts formatters in the
 * controller): `short` = `observed 79/21 over 5 min`, `versus` = `configured 80/20 · observed
 * 79/21 over 5 min`, `detail` = rates per revision or why it is absent. Undefined when no
 * Prometheus URL is configured (or before the first measurement): nothing is shown then.
 */
export interface ObservedView {
  /** True when a split was measured (not absent). */
  measured: boolean;
  short: string;
  versus: string;
  detail: string;
}

/** The formatters of src/core/observed.ts (handed in from the lazily loaded backend). */
export interface ObservedFormatters {
  formatObserved(o: ObservedSplit): string;
  formatConfiguredVsObserved(prev: number | undefined, latest: number | undefined, o: ObservedSplit): string;
  describeObserved(o: ObservedSplit): string;
}

/** The view of one observation of a service, configured split beside it. */
export function observedView(o: ObservedSplit | undefined, s: ServiceState | undefined, f: ObservedFormatters | undefined): ObservedView | undefined {
  if (!o || !f) return undefined;
  return {
    measured: o.kind === 'observed',
    short: f.formatObserved(o),
    versus: f.formatConfiguredVsObserved(s?.prevPercent, s?.latestPercent, o),
    detail: f.describeObserved(o),
  };
}

/** Longest observed text that still goes into the tree row's description. */
export const OBSERVED_SUFFIX_MAX = 28;

/** ` · observed 79/21 over 5 min` for the tree row when measured and short; else nothing. */
export function observedSuffix(o: ObservedView | undefined): string {
  if (!o?.measured || o.short.length > OBSERVED_SUFFIX_MAX) return '';
  return ` · ${o.short}`;
}

/** Tooltip paragraph of the observed split; empty when not configured. */
export function observedTooltip(o: ObservedView | undefined): string {
  if (!o) return '';
  return `${mdEscape(o.versus)}  \n${mdEscape(o.detail)}`;
}

function serviceSplitDescription(s: ServiceState): string {
  if (s.missing) {
    const want = desiredLatest(s);
    return want === undefined ? 'not on the cluster' : `not on the cluster · git latest ${want}%`;
  }
  if (!s.canarySupported) return `${s.deploymentMode}: canary ignored`;
  const { prev, latest } = liveSplit(s);
  const split = prev === undefined && latest === undefined ? 'no traffic yet' : formatSplit(prev, latest);
  const want = desiredLatest(s);
  if (want !== undefined && want !== latest) {
    if (s.verdict === 'syncing') return `${split} → ${want}%`;
    if (s.verdict === 'drift') return `${split} ≠ git ${want}%`;
  }
  return split;
}

/**
 * contextValue of a service row: `service.<canary|nocanary>.<verdict>` plus `.split` while a
 * previous revision still gets traffic or git holds a canary percent (promote makes sense;
 * roll back is offered on every canary row), `.missing` when only git knows it and `.pinned`
 * on the service pinned to the status bar (Unpin). `when` clauses match with regular expressions, e.g.
 * `viewItem =~ /^service\.canary\./`.
 */
export function serviceContextValue(s: ServiceState, pinned = false): string {
  let v = `service.${s.canarySupported ? 'canary' : 'nocanary'}.${s.verdict}`;
  const { prev } = liveSplit(s);
  if (prev !== undefined || (s.desired && s.desired.percent !== undefined)) v += '.split';
  if (s.missing) v += '.missing';
  if (pinned) v += '.pinned';
  return v;
}

/**
 * Escapes text from the cluster or git for a markdown tooltip: no links (autolinks included),
 * no HTML, no emphasis, one line (see markdownText in src/core/sanitize.ts).
 */
export function mdEscape(text: string): MarkdownText {
  return markdownText(text);
}

/** A tooltip composed here from escaped fragments and this module's own markup. */
function composed(text: string): MarkdownText {
  return text as MarkdownText;
}

/** `Synced · Healthy` (+ operation phase when one is running or failed). */
export function applicationSummary(app: ApplicationState): string {
  const parts = [app.syncStatus ?? 'Unknown', app.healthStatus ?? 'Unknown'];
  if (app.operationPhase && app.operationPhase !== 'Succeeded') parts.push(app.operationPhase);
  return parts.join(' · ');
}

export function applicationIcon(app: ApplicationState): IconSpec {
  if (app.operationPhase === 'Failed' || app.operationPhase === 'Error' || app.healthStatus === 'Degraded' || app.healthStatus === 'Missing') {
    return { id: 'error', color: 'list.errorForeground' };
  }
  if (app.syncStatus === 'OutOfSync' || app.operationPhase === 'Running' || app.healthStatus === 'Progressing') {
    return { id: 'sync', color: 'charts.blue' };
  }
  if (app.syncStatus === 'Synced' && app.healthStatus === 'Healthy') return { id: 'pass', color: 'testing.iconPassed' };
  return { id: 'circle-outline' };
}

/** Markdown tooltip of a service row: verdict, revisions and shares, git vs cluster, Argo CD, URL. */
export function serviceTooltip(s: ServiceState, observed?: ObservedView): MarkdownText {
  const lines: string[] = [];
  lines.push(`**${mdEscape(serviceLabel(s))}** · ${mdEscape(s.env)} (\`${s.namespace.replace(/[^a-z0-9.-]/g, '')}\`)`);
  lines.push('');
  lines.push(`**${verdictTitle(s.verdict)}**: ${mdEscape(s.verdictReason)}`);
  lines.push('');
  if (s.missing) {
    lines.push('No InferenceService of this name exists in the namespace yet.');
  } else {
    const { prev, latest } = liveSplit(s);
    lines.push('| | revision | traffic |', '|---|---|---|');
    lines.push(`| prev | ${mdEscape(s.prevRevision ?? '–')} | ${pct(prev)} |`);
    lines.push(`| latest | ${mdEscape(s.latestRevision ?? s.latestReadyRevision ?? '–')} | ${pct(latest)} |`);
    lines.push('');
    const obs = observedTooltip(observed);
    if (obs) lines.push(obs, '');
    if (s.newRevisionNotReady) {
      lines.push(`New revision ${mdEscape(s.latestCreatedRevision ?? '?')} is not ready: it gets no traffic.`);
      lines.push('');
    }
    if (!s.canarySupported) {
      lines.push(
        `Deployment mode ${mdEscape(s.deploymentMode)}: KServe ignores canaryTrafficPercent here; canary splitting needs ${canaryModeName(s.deploymentMode)} mode.`,
      );
      lines.push('');
    }
  }
  const want = desiredLatest(s);
  const git = s.desired
    ? `git: ${s.desired.percent === undefined ? 'no canary (latest 100%)' : `canary ${s.desired.percent}%`}` +
      (s.desired.version ? ` · version ${mdEscape(s.desired.version)}` : '') +
      (s.desired.commit ? ` at ${mdEscape(shortSha(s.desired.commit))}` : '')
    : 'git: not in the gitops checkout';
  const cluster = s.missing
    ? 'cluster: –'
    : `cluster: ${s.specPercent === undefined ? 'no canaryTrafficPercent' : `canaryTrafficPercent ${s.specPercent}`}` + (s.rollingOut ? ' (rolling out)' : '');
  lines.push(
    `${git}  \n${cluster}` +
      (want !== undefined && !s.missing && want !== liveSplit(s).latest ? `  \nlatest share: ${pct(liveSplit(s).latest)} now, ${want}% wanted` : ''),
  );
  lines.push('');
  if (s.application) {
    const a = s.application;
    lines.push(`Argo CD ${mdEscape(a.name)}: ${mdEscape(applicationSummary(a))}` + (a.revision ? ` at ${mdEscape(shortSha(a.revision))}` : ''));
    if (a.healthMessage) lines.push(`  \n${mdEscape(a.healthMessage)}`);
    lines.push('');
  }
  if (s.ready === false && s.readyMessage) {
    lines.push(`Not ready: ${mdEscape(s.readyMessage)}`);
    lines.push('');
  }
  if (s.url) lines.push(`URL: ${mdEscape(s.url)}`);
  return composed(lines.join('\n').trimEnd());
}

/** Traffic targets in reading order, like the description: the previous revision first, then the latest. */
export function orderedTraffic(s: ServiceState): TrafficTarget[] {
  const rank = (t: TrafficTarget) => (t.tag === 'prev' ? 0 : t.latestRevision ? 2 : 1);
  return [...s.traffic].sort((a, b) => rank(a) - rank(b));
}

/** One row per traffic target: label = revision, description = `80% · prev`. */
export function trafficTargetRow(t: TrafficTarget): { label: string; description: string; tooltip: string } {
  const role = t.tag ?? (t.latestRevision ? 'latest' : undefined);
  const label = t.revisionName ?? (t.latestRevision ? 'latest ready revision' : 'unnamed revision');
  const description = [pct(t.percent), role].filter(Boolean).join(' · ');
  const tooltip = [`${label}: ${pct(t.percent)} of the traffic`, t.latestRevision ? '(latest revision)' : '', t.url ? `tagged URL ${t.url}` : '']
    .filter(Boolean)
    .join('\n');
  return { label, description, tooltip };
}

/** `jukebox · test 80/20`; `jukebox · test latest 100%` when the latest revision has everything. */
export function statusBarText(s: ServiceState): string {
  const { prev, latest } = liveSplit(s);
  const split = s.missing ? 'not deployed' : !s.canarySupported ? 'no canary' : prev === undefined ? formatSplit(prev, latest) : shortSplit(prev, latest);
  return `${serviceLabel(s)} · ${s.env} ${split}`;
}

/** Warning background when it is not ready or drifting. */
export function statusBarWarning(s: ServiceState): boolean {
  return s.verdict === 'not-ready' || s.verdict === 'drift' || s.missing === true;
}

/** Screen-reader text of the status bar item. */
export function statusBarAccessibility(s: ServiceState): string {
  const { prev, latest } = liveSplit(s);
  const parts = [`KServe canary ${serviceLabel(s)} in ${s.env}`];
  if (prev !== undefined) parts.push(`previous revision ${prev} percent`);
  if (latest !== undefined) parts.push(`latest revision ${latest} percent`);
  parts.push(verdictTitle(s.verdict));
  return parts.join(', ') + '. Activate to set canary traffic.';
}

/** Status bar tooltip: the service tooltip plus what a click does (and that it is stale when offline). */
export function statusBarTooltip(s: ServiceState, observed?: ObservedView, offline = false): MarkdownText {
  return composed(`${serviceTooltip(s, observed)}\n\n---\n\nClick to set canary traffic.${offline ? '\n\n_Disconnected: this is the last known state._' : ''}`);
}

/** A quick pick row: `jukebox` / `test · prev 80% · latest 20%` / verdict reason. */
export function servicePickItem(s: ServiceState): { label: string; description: string; detail: string } {
  return { label: serviceLabel(s), description: `${s.env} · ${serviceDescription(s)}`, detail: `${verdictTitle(s.verdict)}: ${s.verdictReason}` };
}

function clock(iso: string | undefined): string | undefined {
  if (!iso) return undefined;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return undefined;
  return d.toISOString().slice(11, 19) + ' UTC';
}

/** One line about the connection: `connected to ctx`, `disconnected since 10:02:03 UTC: <problem>`. */
export function connectionText(c: ConnectionState): string {
  switch (c.phase) {
    case 'idle':
      return 'not connected';
    case 'connecting':
      return c.context ? `connecting to ${c.context}…` : 'connecting…';
    case 'connected':
      return c.context ? `connected to ${c.context}` : 'connected';
    case 'disconnected': {
      const since = clock(c.disconnectedSince ?? c.since);
      return `disconnected${since ? ` since ${since}` : ''}${c.problem ? `: ${c.problem.message}` : ''}`;
    }
  }
}

/**
 * The welcome-view state of the tree, one of the `kserveCanary.state` context key values:
 * `no-gitops` (no checkout found), `no-kubeconfig`, `invalid-settings`, `unreachable`, `unauthorized`, or `ok`.
 */
export type WelcomeState = 'no-gitops' | 'no-kubeconfig' | 'invalid-settings' | 'unreachable' | 'unauthorized' | 'ok';

export function welcomeState(hasGitops: boolean, c: ConnectionState, hasServices: boolean): WelcomeState {
  if (!hasGitops) return 'no-gitops';
  if (hasServices) return 'ok';
  // Problems found before any request (no kubeconfig, settings that make no valid namespace)
  // leave the connection idle rather than disconnected: they have their own welcome content.
  if (c.problem?.kind === 'no-kubeconfig') return 'no-kubeconfig';
  if (c.problem?.kind === 'invalid-settings') return 'invalid-settings';
  if (c.phase !== 'disconnected') return 'ok';
  switch (c.problem?.kind) {
    case 'unauthorized':
    case 'forbidden':
      return 'unauthorized';
    default:
      return 'unreachable';
  }
}

/** Secret-hiding of every text shown or logged: src/core/redact.ts (shared with the CLI). */
export { redact };

/** User-facing text of any failure: CanaryError message + hint; other errors with a generic hint. */
export function errorText(e: unknown): string {
  if (isCanaryError(e)) return redact(e.hint ? `${e.message} ${e.hint}` : e.message);
  const msg = e instanceof Error ? e.message : String(e);
  return `Unexpected error: ${redact(msg)}. See the KServe Canary log for details.`;
}

/** Final notification after a change went live. */
export function liveText(s: ServiceState): string {
  const { prev, latest } = liveSplit(s);
  return `${serviceLabel(s)} · ${s.env} is live: ${formatSplit(prev, latest)}.`;
}
