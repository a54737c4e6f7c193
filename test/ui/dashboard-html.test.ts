// The dashboard webview's page (src/ui/dashboard-html.ts): strict CSP with a nonce, nothing from
// the network, only the bundled script and stylesheet, and escaped text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dashboardCsp, dashboardHtml, newNonce } from '../../src/ui/dashboard-html';

const SOURCE = 'https://abc.vscode-cdn.net';

test('the CSP allows no default source, scripts only by nonce, styles and images from the webview', () => {
  const csp = dashboardCsp(SOURCE, 'N0nce');
  assert.equal(csp, `default-src 'none'; script-src 'nonce-N0nce'; style-src ${SOURCE} 'nonce-N0nce'; img-src ${SOURCE} data:; font-src ${SOURCE}`);
  assert.doesNotMatch(csp, /unsafe-(inline|eval)|\*|connect-src/);
});

test('the page: one script and one stylesheet, both with the nonce; the title escaped', () => {
  const html = dashboardHtml({
    cspSource: SOURCE,
    scriptUri: `${SOURCE}/dist/webview/dashboard.js`,
    styleUri: `${SOURCE}/dist/webview/dashboard.css`,
    title: '<img src=x onerror=alert(1)> · test',
    nonce: 'N0nce',
  });
  const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
  assert.deepEqual(scripts, [`<script nonce="N0nce" src="${SOURCE}/dist/webview/dashboard.js">`]);
  assert.match(html, new RegExp(`<link rel="stylesheet" nonce="N0nce" href="${SOURCE}/dist/webview/dashboard.css">`));
  assert.ok(!html.includes('<img'), 'no markup from the title');
  assert.ok(html.includes('&#60;img src=x onerror=alert(1)&#62; · test'));
  assert.match(html, /http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; script-src &#39;nonce-N0nce&#39;/);
  assert.doesNotMatch(html, /https?:\/\/(?!abc\.vscode-cdn\.net)/, 'no other origin');
  assert.match(html, /id="table-toggle" type="button" aria-pressed="false"/);
});

test('nonces are fresh and URL-safe', () => {
  const a = newNonce();
  assert.match(a, /^[A-Za-z0-9]{20,}$/);
  assert.notEqual(a, newNonce());
});
