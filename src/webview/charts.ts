/**
 * The dashboard's charts (uPlot on a canvas) and the same series as tables for screen readers.
 * Draws only what the host sent: aligns the series on one time axis, colours them from the
 * theme's CSS variables, and draws the event markers (commits, rollout steps, gates) as lines
 * plus focusable buttons over the split chart.
 */
import uPlot from 'uplot';
import type { DashboardEvent, RevisionSeries, SeriesPoint } from '../core/dashboard-model';

export interface ChartLine {
  label: string;
  points: SeriesPoint[];
  /** A CSS colour. */
  colour: string;
  dash?: number[];
  /** Steps (configured split) rather than straight segments (measurements). */
  stepped?: boolean;
}

export interface ChartSpec {
  id: string;
  title: string;
  unit: string;
  lines: ChartLine[];
  /** Fixed y range, e.g. [0, 100] for shares. */
  range?: [number, number];
  format: (v: number) => string;
}

const PALETTE = [
  '--vscode-charts-blue',
  '--vscode-charts-orange',
  '--vscode-charts-green',
  '--vscode-charts-purple',
  '--vscode-charts-yellow',
  '--vscode-charts-red',
];

export function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

/** One colour per revision, stable for a given set of names (sorted: the older revision first). */
export function revisionColours(names: Iterable<string>): Map<string, string> {
  const sorted = [...new Set(names)].sort();
  return new Map(sorted.map((n, i) => [n, cssVar(PALETTE[i % PALETTE.length]!, ['#3794ff', '#d18616', '#89d185', '#b180d7', '#cca700', '#f14c4c'][i % 6]!)]));
}

export function linesOf(series: RevisionSeries[], colours: Map<string, string>, suffix = '', extra: Partial<ChartLine> = {}): ChartLine[] {
  return series.map((s) => ({
    label: `${s.revision}${suffix}`,
    points: s.points,
    colour: colours.get(s.revision) ?? cssVar('--vscode-foreground', '#888'),
    ...extra,
  }));
}

/** Union of the times (seconds); per line null where the host said "gap", undefined where it has no sample at that time. */
export function align(lines: ChartLine[]): uPlot.AlignedData {
  const times = [...new Set(lines.flatMap((l) => l.points.map((p) => p.t)))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const cols = lines.map((l) => {
    const col: (number | null | undefined)[] = new Array(times.length).fill(undefined);
    for (const p of l.points) col[index.get(p.t)!] = p.v;
    return col;
  });
  return [times.map((t) => t / 1000), ...cols] as uPlot.AlignedData;
}

export interface MarkerHandlers {
  onCommit(sha: string): void;
}

function markerColour(e: DashboardEvent): string {
  if (e.kind === 'commit') return cssVar('--vscode-charts-purple', '#b180d7');
  if (e.kind === 'gate') return e.passed === false ? cssVar('--vscode-charts-red', '#f14c4c') : cssVar('--vscode-charts-green', '#89d185');
  return cssVar('--vscode-charts-yellow', '#cca700');
}

export function eventText(e: DashboardEvent): string {
  const when = new Date(e.t).toLocaleString();
  if (e.kind === 'commit') return `commit ${e.sha?.slice(0, 7) ?? ''} · ${e.message ?? e.title} · ${e.author ?? ''} · ${when}`;
  if (e.kind === 'gate') return `gate ${e.passed === false ? 'failed' : 'passed'}: ${e.title} · ${when}`;
  return `rollout step: ${e.title} · ${when}`;
}

/** A chart in `host`: returns a function that destroys it. */
export function drawChart(
  host: HTMLElement,
  spec: ChartSpec,
  from: number,
  to: number,
  events: DashboardEvent[],
  markers: MarkerHandlers | undefined,
): () => void {
  // Marker buttons are placed on each draw: uPlot lays the plot out after construction.
  const buttons: { e: DashboardEvent; b: HTMLButtonElement }[] = [];
  const placeMarkers = (u: uPlot) => {
    for (const { e, b } of buttons) {
      const left = u.valToPos(e.t / 1000, 'x');
      b.hidden = !(left >= 0 && left <= u.over.clientWidth);
      b.style.left = `${left}px`;
    }
  };
  const fg = cssVar('--vscode-foreground', '#ccc');
  const grid = cssVar('--vscode-editorWidget-border', cssVar('--vscode-panel-border', '#444'));
  const width = Math.max(320, host.clientWidth || 640);
  const opts: uPlot.Options = {
    width,
    height: 200,
    scales: {
      x: { time: true, range: [from / 1000, to / 1000] },
      y: spec.range ? { range: spec.range } : { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
    },
    axes: [
      { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } },
      { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, values: (_u, vals) => vals.map((v) => spec.format(v)), size: 60 },
    ],
    legend: { show: true, live: true },
    cursor: { drag: { x: false, y: false } },
    series: [
      { label: 'time' },
      ...spec.lines.map((l) => ({
        label: l.label,
        stroke: l.colour,
        width: 2,
        ...(l.dash ? { dash: l.dash } : {}),
        ...(l.stepped ? { paths: uPlot.paths.stepped!({ align: 1 }) } : {}),
        value: (_u: uPlot, v: number | null) => (v === null || v === undefined ? '–' : spec.format(v)),
      })),
    ],
    hooks: {
      draw: [
        (u) => {
          placeMarkers(u);
          const ctx = u.ctx;
          ctx.save();
          ctx.lineWidth = 1.5 * uPlot.pxRatio;
          ctx.setLineDash([4 * uPlot.pxRatio, 3 * uPlot.pxRatio]);
          for (const e of events) {
            const x = Math.round(u.valToPos(e.t / 1000, 'x', true));
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
            ctx.strokeStyle = markerColour(e);
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
          }
          ctx.restore();
        },
      ],
    },
  };
  const u = new uPlot(opts, align(spec.lines), host);
  if (markers) {
    // Focusable markers over the plot: Tab reaches them, Enter shows the commit.
    for (const e of events) {
      const b = document.createElement('button');
      b.className = `marker marker-${e.kind}`;
      b.style.borderColor = markerColour(e);
      b.title = eventText(e);
      b.setAttribute('aria-label', e.kind === 'commit' ? `${eventText(e)}. Show the commit` : eventText(e));
      b.textContent = e.kind === 'commit' ? (e.sha ?? '').slice(0, 7) : e.kind === 'gate' ? (e.passed === false ? '✗' : '✓') : '▸';
      if (e.kind === 'commit' && e.sha) {
        const sha = e.sha;
        b.addEventListener('click', () => markers.onCommit(sha));
      } else b.disabled = true;
      u.over.appendChild(b);
      buttons.push({ e, b });
    }
    placeMarkers(u);
  }
  return () => {
    for (const { b } of buttons) b.remove();
    u.destroy();
  };
}

/** The chart's series as a table (time, then one column per line). */
export function drawTable(host: HTMLElement, spec: ChartSpec): void {
  const table = document.createElement('table');
  const caption = document.createElement('caption');
  caption.textContent = `${spec.title} (${spec.unit})`;
  table.appendChild(caption);
  const head = table.createTHead().insertRow();
  for (const h of ['time', ...spec.lines.map((l) => l.label)]) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = h;
    head.appendChild(th);
  }
  const [xs, ...cols] = align(spec.lines);
  const body = table.createTBody();
  for (let i = 0; i < xs.length; i++) {
    if (cols.every((c) => c[i] === undefined)) continue;
    const r = body.insertRow();
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = new Date(xs[i]! * 1000).toLocaleString();
    r.appendChild(th);
    for (const c of cols) r.insertCell().textContent = c[i] === undefined ? '' : c[i] === null ? 'no data' : spec.format(c[i] as number);
  }
  if (body.rows.length === 0) body.insertRow().insertCell().textContent = 'No samples in this window.';
  host.appendChild(table);
}
