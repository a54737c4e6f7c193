/**
 * The dashboard webview's page: a strict Content-Security-Policy with a fresh nonce (no network,
 * no inline code but the nonce's), the bundled script and stylesheet from dist/webview/, and the
 * static skeleton the script fills in. No vscode import: unit-testable.
 */
import { randomBytes } from 'node:crypto';

export interface DashboardPageInput {
  /** webview.cspSource */
  cspSource: string;
  /** webview.asWebviewUri(...) of dist/webview/dashboard.js and .css, as strings. */
  scriptUri: string;
  styleUri: string;
  /** Shown until the first model arrives, e.g. `jukebox · test`. */
  title: string;
  nonce?: string;
}

export function newNonce(): string {
  return randomBytes(18).toString('base64').replace(/[+/=]/g, '');
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function dashboardCsp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
  ].join('; ');
}

export function dashboardHtml(p: DashboardPageInput): string {
  const nonce = p.nonce ?? newNonce();
  const title = escapeHtml(p.title);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(dashboardCsp(p.cspSource, nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" nonce="${nonce}" href="${escapeHtml(p.styleUri)}">
<title>Canary dashboard · ${title}</title>
</head>
<body data-state="loading">
<header>
<h1 id="title">${title}</h1>
<p id="namespace" class="muted"></p>
<p id="verdict" class="verdict" role="status">Loading…</p>
<ul id="revisions" aria-label="Revisions and their configured share"></ul>
<p id="git" class="muted"></p>
</header>
<div class="toolbar" role="toolbar" aria-label="Dashboard controls">
<div id="windows" class="group" role="group" aria-label="Time window"></div>
<div id="actions" class="group" role="group" aria-label="Canary commands"></div>
<button id="table-toggle" type="button" aria-pressed="false">Show as tables</button>
</div>
<p id="failed" class="error" role="alert" hidden></p>
<p id="hint" hidden></p>
<main id="charts" aria-label="Charts"></main>
<section aria-labelledby="h-events"><h2 id="h-events">Commits, rollout steps and gates</h2><ul id="events"></ul></section>
<p id="updated" aria-live="polite"></p>
<script nonce="${nonce}" src="${escapeHtml(p.scriptUri)}"></script>
</body>
</html>`;
}
