/**
 * Opening URLs (issue 7 §4): only http/https, only hosts from the Grafana Route or the
 * user's URL template setting. Hostile inputs: other schemes (javascript:, file:, data:,
 * vbscript:, blob:), hosts not in the Route, userinfo tricks (https://good@evil,
 * `${base}@evil`), look-alike hosts (IDN homographs, suffix/prefix matches, trailing dot),
 * case variants (allowed: DNS is case-insensitive) and hostile Route objects. Plus a static
 * check that the UI opens nothing that did not go through the check.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { checkExternalUrl, dashboardUrl } from '../../src/core/grafana';
import { grafanaRouteUrl } from '../../src/cluster/route';
import { isCanaryError } from '../../src/core/errors';
import { repoRoot } from '../cli/bundle';

const ROUTE_HOST = 'grafana.apps.example';
const route = grafanaRouteUrl({ spec: { host: ROUTE_HOST, tls: { termination: 'edge' } } })!;

/** The refusal code, or 'opened' when the URL was accepted. */
function verdict(fn: () => string): string {
  try {
    fn();
    return 'opened';
  } catch (e) {
    assert.ok(isCanaryError(e), `a CanaryError, not ${String(e)}`);
    assert.ok(e.message.length > 0 && (e.hint ?? '').length > 0, 'says what happened and what to do');
    return e.code;
  }
}

describe('only http(s) URLs on the Route or the setting are opened', () => {
  it('the Route deep link opens', () => {
    const url = dashboardUrl({ route, model: 'jukebox' });
    assert.equal(new URL(url).host, ROUTE_HOST);
    assert.equal(new URL(url).protocol, 'https:');
  });

  it('other schemes are refused, in the check and in a template', () => {
    for (const bad of [
      'javascript:alert(document.cookie)',
      'JavaScript:alert(1)',
      ' javascript:alert(1)',
      'java\nscript:alert(1)',
      'vbscript:msgbox(1)',
      'file:///etc/passwd',
      `file://${ROUTE_HOST}/etc/passwd`,
      'data:text/html,<script>alert(1)</script>',
      'blob:https://grafana.apps.example/0a1b',
      `ftp://${ROUTE_HOST}/`,
      `ws://${ROUTE_HOST}/`,
      'vscode://ms-vscode.remote/x',
      'command:workbench.action.terminal.new',
      `//${ROUTE_HOST}/d/x`,
      'not a url',
    ]) {
      assert.equal(
        verdict(() => checkExternalUrl(bad, [ROUTE_HOST])),
        'url-scheme',
        bad,
      );
      assert.notEqual(
        verdict(() => dashboardUrl({ route, model: 'jukebox', template: bad })),
        'opened',
        `template ${bad}`,
      );
    }
  });

  it("hosts that are not the Route's (or the setting's) are refused, look-alikes included", () => {
    for (const bad of [
      'https://evil.example/d/x',
      `https://${ROUTE_HOST}.evil.example/`,
      `https://evil-${ROUTE_HOST}/`,
      `https://x${ROUTE_HOST}/`,
      `https://${ROUTE_HOST}./`,
      'https://grаfana.apps.example/', // Cyrillic а: punycode xn--grfana-4nf…
      'https://xn--grfana-cta.apps.example/',
      `https://evil.example#@${ROUTE_HOST}`,
      `https://evil.example\\@${ROUTE_HOST}`,
      `https://evil.example?@${ROUTE_HOST}`,
      'https:/\\evil.example/',
      'https://127.0.0.1/',
      'http://[::1]/',
      'https://2130706433/',
    ]) {
      assert.equal(
        verdict(() => checkExternalUrl(bad, [ROUTE_HOST])),
        'url-host',
        bad,
      );
    }
    assert.equal(
      verdict(() => checkExternalUrl('https://grafana.apps.example/', [])),
      'url-host',
      'no allowed host at all',
    );
  });

  it('userinfo tricks are refused: https://good@evil, ${base}@evil, credentials on the right host', () => {
    for (const bad of [
      `https://${ROUTE_HOST}@evil.example/`,
      `https://${ROUTE_HOST}:443@evil.example/`,
      `https://${ROUTE_HOST}%2F@evil.example/`,
      `https://user:secret@${ROUTE_HOST}/`,
    ]) {
      assert.equal(
        verdict(() => checkExternalUrl(bad, [ROUTE_HOST, 'evil.example'])),
        'url-credentials',
        bad,
      );
    }
    assert.equal(
      verdict(() => dashboardUrl({ route, model: 'jukebox', template: '${base}@evil.example/d/x' })),
      'url-credentials',
    );
    assert.equal(
      verdict(() => dashboardUrl({ route, model: 'jukebox', template: `https://${ROUTE_HOST}@evil.example/` })),
      'url-credentials',
    );
  });

  it('case and IDN spellings of the allowed host are the same host (and stay on it)', () => {
    for (const ok of [
      `https://GRAFANA.Apps.Example/d/x`,
      `HTTPS://${ROUTE_HOST}/d/x`,
      `https://ｇｒａｆａｎａ.apps.example/d/x`, // full-width letters map to ASCII under IDNA
    ]) {
      const opened = checkExternalUrl(ok, [ROUTE_HOST]);
      assert.equal(new URL(opened).hostname, ROUTE_HOST, ok);
    }
    assert.equal(new URL(checkExternalUrl(`https://${ROUTE_HOST}/`, ['GRAFANA.APPS.EXAMPLE'])).hostname, ROUTE_HOST);
  });

  it('model names cannot move the URL to another host or scheme', () => {
    for (const model of ['@evil.example', '../../evil', '#@evil.example', 'x/../../@evil.example', 'javascript:alert(1)']) {
      const url = dashboardUrl({ route, model });
      assert.equal(new URL(url).host, ROUTE_HOST, model);
    }
    assert.equal(
      verdict(() => dashboardUrl({ route, model: 'evil.example', template: 'https://${model}/d/x' })),
      'url-host',
    );
  });

  it("the user's template may name its own host; that host only", () => {
    const template = 'https://dashboards.corp.example/d/uid?var-model_name=${model}';
    assert.equal(new URL(dashboardUrl({ route: undefined, model: 'jukebox', template })).host, 'dashboards.corp.example');
    assert.equal(
      verdict(() => checkExternalUrl('https://evil.example/', ['dashboards.corp.example'])),
      'url-host',
    );
  });

  it('hostile Route objects give no URL rather than a dangerous one', () => {
    for (const spec of [
      { host: `evil.example@${ROUTE_HOST}` },
      { host: `${ROUTE_HOST}/../evil` },
      { host: 'javascript:alert(1)' },
      { host: `https://${ROUTE_HOST}` },
      { host: `${ROUTE_HOST} evil.example` },
      { host: `${ROUTE_HOST}\nevil.example` },
      { host: '' },
    ]) {
      assert.equal(grafanaRouteUrl({ spec }), undefined, JSON.stringify(spec));
    }
    for (const p of ['//evil.example', '/x@evil.example', '/#@evil.example', '/\\evil.example']) {
      const r = grafanaRouteUrl({ spec: { host: ROUTE_HOST, path: p, tls: {} } });
      const link = r ? dashboardUrl({ route: r, model: 'jukebox' }) : undefined;
      if (link) assert.equal(new URL(link).host, ROUTE_HOST, p);
    }
  });

  it('the UI opens URLs only through dashboardUrl / checkExternalUrl', () => {
    const files: string[] = [];
    const walk = (d: string) => {
      for (const n of readdirSync(d)) {
        const p = path.join(d, n);
        if (statSync(p).isDirectory()) walk(p);
        else if (n.endsWith('.ts')) files.push(p);
      }
    };
    walk(path.join(repoRoot, 'src'));
    let calls = 0;
    for (const f of files) {
      const lines = readFileSync(f, 'utf8').split('\n');
      lines.forEach((line, i) => {
        const m = /openExternal\(\s*vscode\.Uri\.parse\(\s*([A-Za-z_$][\w$]*)/.exec(line);
        if (!/openExternal\(/.test(line)) return;
        calls++;
        const where = `${path.relative(repoRoot, f)}:${i + 1}`;
        assert.ok(m, `${where}: openExternal of something other than a checked variable: ${line.trim()}`);
        const before = lines.slice(Math.max(0, i - 20), i).join('\n');
        assert.match(
          before,
          new RegExp(`(const|let)\\s+${m[1]}\\s*=\\s*(dashboardUrl|checkExternalUrl)\\(`),
          `${where}: ${m[1]} comes from dashboardUrl/checkExternalUrl`,
        );
      });
    }
    assert.ok(calls >= 1, 'the Grafana command opens a URL');
  });
});
