import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_DASHBOARD_UID, checkExternalUrl, dashboardUrl, templateHost, templatePlaceholders } from '../../src/core/grafana';
import { CanaryError } from '../../src/core/errors';

const route = { host: 'jukebox-grafana-route-user1-toolings.apps.example.com', url: 'https://jukebox-grafana-route-user1-toolings.apps.example.com' };

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof CanaryError, `expected CanaryError, got ${String(e)}`);
    assert.ok(e.message.length > 0 && (e.hint ?? '').length > 0, 'message and hint are both set');
    return e.code;
  }
  assert.fail('expected a refusal');
}

test('default deep link: Route URL + dashboard uid + var-model_name, domain.md §5 form', () => {
  const url = dashboardUrl({ route, model: 'jukebox', env: 'test', namespace: 'user1-test' });
  const u = new URL(url);
  assert.equal(u.origin, 'https://jukebox-grafana-route-user1-toolings.apps.example.com');
  assert.equal(u.pathname, `/d/${DEFAULT_DASHBOARD_UID}/openvino-model-server-model-metrics`);
  assert.equal(u.searchParams.get('var-model_name'), 'jukebox');
  assert.equal(u.searchParams.get('orgId'), '1');
  assert.equal(u.searchParams.get('from'), 'now-15m');
  assert.equal(u.searchParams.get('to'), 'now');
  assert.equal(u.searchParams.get('refresh'), '5s');
});

test('a Route with a path and plain http keeps both; no double slash', () => {
  const url = dashboardUrl({ route: { host: 'g.local:3000', url: 'http://g.local:3000/grafana/' }, model: 'm1' });
  assert.ok(url.startsWith('http://g.local:3000/grafana/d/'), url);
});

test('uid setting replaces the default uid and is encoded', () => {
  const url = dashboardUrl({ route, model: 'jukebox', uid: 'my uid/x' });
  assert.ok(url.includes('/d/my%20uid%2Fx/'), url);
});

test('a template with its own host is allowed without any Route', () => {
  const url = dashboardUrl({
    route: undefined,
    model: 'jukebox',
    env: 'prod',
    namespace: 'user1-prod',
    template: 'https://grafana.corp.example/d/abc/x?var-model_name=${model}&var-ns=${namespace}&var-env=${env}',
  });
  const u = new URL(url);
  assert.equal(u.host, 'grafana.corp.example');
  assert.equal(u.searchParams.get('var-ns'), 'user1-prod');
  assert.equal(u.searchParams.get('var-env'), 'prod');
});

test('the default template needs the Route: clear not-found error without one', () => {
  assert.equal(
    code(() => dashboardUrl({ route: undefined, model: 'jukebox' })),
    'no-grafana-route',
  );
});

test('a Route whose URL is not http(s) is refused', () => {
  assert.equal(
    code(() => dashboardUrl({ route: { host: 'x', url: 'javascript:alert(1)' }, model: 'jukebox' })),
    'no-grafana-route',
  );
});

test('unknown placeholders in the template are refused (a typo would drop a value)', () => {
  assert.equal(
    code(() => templatePlaceholders('${base}/d/${uidd}')),
    'url-template',
  );
  assert.deepEqual(templatePlaceholders('${base}/${model}/${model}'), ['base', 'model']);
});

test('templates with other schemes are refused', () => {
  for (const template of ['file:///etc/passwd?${model}', 'javascript:alert(1)//${model}', 'vscode://x/${model}', 'ftp://h/${model}']) {
    assert.equal(
      code(() => dashboardUrl({ route, model: 'jukebox', template })),
      'url-scheme',
      template,
    );
  }
});

test('checkExternalUrl: only listed hosts, only http(s), no credentials', () => {
  assert.equal(checkExternalUrl('https://a.example/x', ['A.example']), 'https://a.example/x');
  assert.equal(checkExternalUrl('http://a.example:8080/x', ['a.example:8080']), 'http://a.example:8080/x');
  assert.equal(
    code(() => checkExternalUrl('https://b.example/', ['a.example'])),
    'url-host',
  );
  assert.equal(
    code(() => checkExternalUrl('https://a.example.evil.com/', ['a.example'])),
    'url-host',
  );
  assert.equal(
    code(() => checkExternalUrl('https://a.example@evil.com/', ['a.example'])),
    'url-credentials',
  );
  assert.equal(
    code(() => checkExternalUrl('https://u:p@a.example/', ['a.example'])),
    'url-credentials',
  );
  assert.equal(
    code(() => checkExternalUrl('data:text/html,hi', ['a.example'])),
    'url-scheme',
  );
  assert.equal(
    code(() => checkExternalUrl('not a url', ['a.example'])),
    'url-scheme',
  );
  assert.equal(
    code(() => checkExternalUrl('https://a.example/', [])),
    'url-host',
  );
});

test('templateHost: literal hosts only, not through ${base} or a placeholder in the authority', () => {
  assert.equal(templateHost('https://Grafana.Corp/d/x?m=${model}'), 'grafana.corp');
  assert.equal(templateHost('${base}/d/x'), undefined);
  assert.equal(templateHost('https://${model}.corp/d/x'), undefined);
  assert.equal(templateHost(''), undefined);
});

test('a template whose host comes from a model placeholder cannot open anywhere', () => {
  assert.equal(
    code(() => dashboardUrl({ route, model: 'evil', template: 'https://${model}.example/d' })),
    'url-host',
  );
});

test('model names are encoded in the query', () => {
  const url = dashboardUrl({ route, model: 'a&b=c#d' });
  assert.equal(new URL(url).searchParams.get('var-model_name'), 'a&b=c#d');
});
