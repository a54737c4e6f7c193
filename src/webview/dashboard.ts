/**
 * The canary dashboard's webview script (bundled to dist/webview/dashboard.js, see
 * scripts/build.mjs): renders the model the extension host posts (header, charts or tables,
 * events) and posts back the user's choices (window, buttons, a commit marker). It computes no
 * series and reaches nothing on the network (the panel's CSP allows none).
 */
import 'uplot/dist/uPlot.min.css';
import './dashboard.css';
import { DASHBOARD_WINDOWS, type DashboardModel, type DashboardWindow, type Section } from '../core/dashboard-model';
import { drawChart, drawTable, eventText, linesOf, revisionColours, cssVar, type ChartLine, type ChartSpec } from './charts';
import { DASHBOARD_ACTIONS, type DashboardViewState, type FromWebview, type ToWebview } from './protocol';

declare function acquireVsCodeApi(): { postMessage(m: FromWebview): void; setState(s: DashboardViewState): void; getState(): DashboardViewState | undefined };

const vscode = acquireVsCodeApi();
const post = (m: FromWebview) => vscode.postMessage(m);

let last: Extract<ToWebview, { type: 'model' }> | undefined;
let asTable = false;
let destroyers: (() => void)[] = [];

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

const $ = (id: string) => document.getElementById(id)!;

function pct(v: number): string {
  return `${Math.round(v * 10) / 10}%`;
}

function rate(v: number): string {
  return v >= 10 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toFixed(2);
}

function seconds(v: number): string {
  return v >= 1 ? `${v.toFixed(2)} s` : `${Math.round(v * 1000)} ms`;
}

function renderToolbar(window: DashboardWindow, trusted: boolean): void {
  const windows = $('windows');
  windows.replaceChildren(
    ...DASHBOARD_WINDOWS.map((w) => {
      const b = el('button', { type: 'button', 'aria-pressed': String(w === window), 'data-window': w }, w);
      b.addEventListener('click', () => {
        if (w !== window) post({ type: 'window', window: w });
      });
      return b;
    }),
  );
  const actions = $('actions');
  actions.replaceChildren(
    ...DASHBOARD_ACTIONS.map((a) => {
      const b = el('button', { type: 'button', 'data-command': a.command }, a.label);
      if (a.writes && !trusted) {
        b.disabled = true;
        b.title = `${a.label} is disabled: this workspace is not trusted (it edits, commits and pushes).`;
      }
      b.addEventListener('click', () => post({ type: 'action', command: a.command }));
      return b;
    }),
  );
}

function renderHeader(m: DashboardModel): void {
  const h = m.header;
  $('title').textContent = `${h.service} · ${h.env}`;
  $('namespace').textContent = `namespace ${h.namespace}`;
  const verdict = $('verdict');
  verdict.textContent = `${h.verdict}: ${h.reason}`;
  verdict.className = `verdict verdict-${h.verdict.replace(/[^a-z-]/g, '')}`;
  $('revisions').replaceChildren(
    ...h.revisions.map((r) => el('li', { 'data-revision': r.name }, `${r.name}${r.tag ? ` (${r.tag})` : ''}${r.latest ? ' · latest' : ''}: ${r.percent}%`)),
  );
  $('git').textContent =
    `git: ${h.desiredPercent === undefined ? 'no canary (100% latest)' : `canary ${h.desiredPercent}% to the latest revision`} · Argo CD: ${h.argoSync ?? 'unknown'}`;
}

interface Part {
  spec: ChartSpec;
  section: Section<unknown> | undefined;
  /** Errors of series folded into this chart (e.g. the observed split on the split chart). */
  notes: { text: string; error: boolean }[];
  markers: boolean;
}

function parts(m: DashboardModel): Part[] {
  const names = [
    ...m.header.revisions.map((r) => r.name),
    ...m.configured.map((s) => s.revision),
    ...(m.observed.ok ? m.observed.data.map((s) => s.revision) : []),
    ...(m.requestRate.ok ? m.requestRate.data.map((s) => s.revision) : []),
  ];
  const colours = revisionColours(names);
  const split: ChartLine[] = [...linesOf(m.configured, colours, ' configured', { stepped: true })];
  const notes: Part['notes'] = [];
  if (m.desired.ok) split.push({ label: 'latest, in git', points: m.desired.data, colour: cssVar('--vscode-foreground', '#ccc'), dash: [6, 4], stepped: true });
  else notes.push({ text: `Desired split from git: ${m.desired.error}`, error: true });
  if (m.observed.ok) {
    split.push(...linesOf(m.observed.data, colours, ' observed', { dash: [2, 2] }));
    if (m.observed.note) notes.push({ text: `Observed split: ${m.observed.note}`, error: false });
  } else notes.push({ text: `Observed split: ${m.observed.error}`, error: true });
  const perRevision = (id: string, title: string, unit: string, s: Section<typeof m.configured>, format: (v: number) => string): Part => ({
    spec: { id, title, unit, lines: s.ok ? linesOf(s.data, colours) : [], format },
    section: s,
    notes: [],
    markers: false,
  });
  return [
    {
      spec: {
        id: 'split',
        title: `Traffic split: configured vs observed${m.observedSource ? ` (${m.observedSource === 'knative' ? 'Knative revision_request_count' : 'OpenVINO request counter'})` : ''}`,
        unit: '% of requests',
        lines: split,
        range: [0, 100],
        format: pct,
      },
      section: undefined,
      notes,
      markers: true,
    },
    perRevision('rate', 'Request rate', 'requests per second', m.requestRate, rate),
    perRevision('errors', '5xx rate', '5xx per second', m.errorRate, rate),
    perRevision('p95', 'p95 latency', 'seconds', m.p95, seconds),
  ];
}

function renderCharts(m: DashboardModel): void {
  const focused = document.activeElement instanceof HTMLElement ? document.activeElement.getAttribute('aria-label') : null;
  for (const d of destroyers) d();
  destroyers = [];
  const main = $('charts');
  main.replaceChildren();
  for (const p of parts(m)) {
    const section = el('section', { id: `chart-${p.spec.id}`, 'aria-labelledby': `h-${p.spec.id}` });
    section.appendChild(el('h2', { id: `h-${p.spec.id}` }, `${p.spec.title} · ${p.spec.unit}`));
    for (const n of p.notes) section.appendChild(el('p', { class: n.error ? 'error' : 'muted', role: 'status' }, n.text));
    main.appendChild(section);
    if (p.section && !p.section.ok) {
      section.appendChild(el('p', { class: 'error', role: 'status' }, p.section.error));
      continue;
    }
    if (p.section?.note) section.appendChild(el('p', { class: 'muted' }, p.section.note));
    const body = el('div', { class: asTable ? 'table' : 'chart' });
    section.appendChild(body);
    if (asTable) drawTable(body, p.spec);
    else destroyers.push(drawChart(body, p.spec, m.from, m.to, m.events, p.markers ? { onCommit: (sha) => post({ type: 'commit', sha }) } : undefined));
  }
  if (focused) {
    const again = [...document.querySelectorAll<HTMLElement>('[aria-label]')].find((e) => e.getAttribute('aria-label') === focused);
    again?.focus();
  }
}

function renderEvents(m: DashboardModel): void {
  const list = $('events');
  const items = [...m.events].sort((a, b) => b.t - a.t);
  if (items.length === 0) {
    list.replaceChildren(el('li', {}, 'No commits, rollout steps or gate verdicts in this window.'));
    return;
  }
  list.replaceChildren(
    ...items.map((e) => {
      const li = el('li', { class: `event event-${e.kind}` });
      li.appendChild(el('span', {}, eventText(e)));
      if (e.kind === 'commit' && e.sha) {
        const sha = e.sha;
        const b = el('button', { type: 'button', class: 'link', 'aria-label': `Show commit ${sha.slice(0, 7)}` }, 'Show commit');
        b.addEventListener('click', () => post({ type: 'commit', sha }));
        li.appendChild(b);
      }
      return li;
    }),
  );
}

function render(): void {
  if (!last) return;
  const m = last.model;
  renderHeader(m);
  renderCharts(m);
  renderEvents(m);
  const hint = $('hint');
  hint.hidden = !m.prometheusHint;
  hint.textContent = m.prometheusHint ?? '';
  $('updated').textContent = `Updated ${new Date(m.at).toLocaleTimeString()} · window ${m.window}`;
}

function onMessage(msg: ToWebview): void {
  vscode.setState({ key: msg.key, window: msg.type === 'model' ? msg.model.window : msg.window });
  document.body.dataset.state = msg.type;
  if (msg.type === 'failed') {
    renderToolbar(msg.window, msg.trusted);
    const p = $('failed');
    p.hidden = false;
    p.textContent = msg.error;
    return;
  }
  $('failed').hidden = true;
  const windowChanged = last?.model.window !== msg.model.window || last?.trusted !== msg.trusted;
  last = msg;
  if (windowChanged) renderToolbar(msg.model.window, msg.trusted);
  render();
}

window.addEventListener('message', (e: MessageEvent<ToWebview>) => onMessage(e.data));
$('table-toggle').addEventListener('click', () => {
  asTable = !asTable;
  $('table-toggle').setAttribute('aria-pressed', String(asTable));
  render();
});
// Theme switches (light, dark, high contrast) change the body's class: redraw with the new colours.
new MutationObserver(() => render()).observe(document.body, { attributes: true, attributeFilter: ['class'] });
let resizing = 0;
new ResizeObserver(() => {
  cancelAnimationFrame(resizing);
  resizing = requestAnimationFrame(() => render());
}).observe($('charts'));
post({ type: 'ready' });
