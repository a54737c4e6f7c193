/**
 * Where test traffic may go (src/core/traffic-target.ts): the service's URL on the cluster's
 * apps domain (from the API server or the toolings Route), loopback only for the sandbox or a
 * port-forward the user typed, never metadata, link-local or unspecified addresses in any
 * spelling; and the connect-time guard against names resolving to them (DNS rebinding).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { CanaryError } from '../../src/core/errors';
import { guardedLookup, sendTraffic } from '../../src/core/loadgen';
import {
  appsDomains,
  checkAddress,
  checkTrafficTarget,
  classifyHost,
  describeTarget,
  trafficClusterOf,
  type TrafficCluster,
} from '../../src/core/traffic-target';

const OCP: TrafficCluster = { apiServer: 'https://api.cluster.example:6443', routeHost: 'jukebox-grafana-route-user1-toolings.apps.cluster.example' };
const SANDBOX: TrafficCluster = { apiServer: 'https://127.0.0.1:43111', routeHost: 'jukebox-grafana-route-user1-toolings.apps.sandbox.example' };
const SVC = 'https://jukebox-user1-test.apps.cluster.example';

function code(f: () => unknown): string {
  try {
    f();
    return 'accepted';
  } catch (e) {
    assert.ok(e instanceof CanaryError, String(e));
    assert.equal(e.kind, 'invalid-input');
    assert.ok(e.hint);
    return e.code;
  }
}

test('classifyHost sees metadata, link-local, loopback and unspecified hosts in every spelling URL parsing leaves', () => {
  const cases: [string, string][] = [
    ['http://169.254.169.254/latest', 'metadata'],
    ['http://[fd00:ec2::254]/', 'metadata'],
    ['http://metadata.google.internal./', 'metadata'],
    ['http://100.100.100.200', 'metadata'],
    ['http://169.254.170.2', 'metadata'],
    ['http://169.254.1.1', 'link-local'],
    ['http://[fe80::1]', 'link-local'],
    ['http://[febf::1]', 'link-local'],
    ['http://127.0.0.1', 'loopback'],
    ['http://127.9.9.9', 'loopback'],
    ['http://[::1]', 'loopback'],
    ['http://localhost', 'loopback'],
    ['http://api.localhost', 'loopback'],
    ['http://LOCALHOST.', 'loopback'],
    // the WHATWG parser turns these into dotted IPv4 first
    ['http://2852039166/', 'metadata'],
    ['http://0xa9fea9fe/', 'metadata'],
    ['http://0251.0376.0251.0376/', 'metadata'],
    ['http://2130706433', 'loopback'],
    ['http://[::ffff:169.254.169.254]', 'metadata'],
    ['http://[::ffff:7f00:1]', 'loopback'],
    ['http://[64:ff9b::a9fe:a9fe]', 'metadata'],
    ['http://0.0.0.0', 'unspecified'],
    ['http://0', 'unspecified'],
    ['http://[::]', 'unspecified'],
    ['http://10.0.0.1', 'ip'],
    ['http://[fd00::1]', 'ip'],
    ['https://jukebox.apps.cluster.example', 'name'],
  ];
  for (const [url, cls] of cases) assert.equal(classifyHost(new URL(url).hostname), cls, url);
});

test('apps domains come from api.<cluster> and a corroborated Route host, never a bare registrable domain', () => {
  assert.deepEqual(appsDomains(OCP), ['apps.cluster.example']);
  assert.deepEqual(appsDomains(SANDBOX), ['apps.sandbox.example'], 'no api. server name: a Route host of three labels or more');
  assert.deepEqual(
    appsDomains({ apiServer: 'https://api.cluster.example:6443', routeHost: 'x.evil.example' }),
    ['apps.cluster.example'],
    'a Route off the cluster domain is ignored',
  );
  assert.deepEqual(
    appsDomains({ apiServer: 'https://10.0.0.1:6443', routeHost: 'grafana.example.com' }),
    [],
    'a Route of two labels would allow all of example.com',
  );
  assert.deepEqual(appsDomains({ routeHost: 'x.169.254.169.254' }), []);
  assert.deepEqual(appsDomains({ ingressDomain: 'kserve.example.org' }), ['kserve.example.org']);
  assert.deepEqual(appsDomains(undefined), []);
});

test('the service URL on the apps domain is accepted, with the host and the reason for the confirmation', () => {
  const t = checkTrafficTarget({ url: SVC, serviceUrl: SVC, cluster: OCP });
  assert.equal(t.host, 'jukebox-user1-test.apps.cluster.example');
  assert.match(t.why, /apps domain apps\.cluster\.example/);
  assert.equal(
    describeTarget(t, 10, 30000),
    "10 req/s for 30 s (300 requests) to jukebox-user1-test.apps.cluster.example — the service's URL on the cluster's apps domain apps.cluster.example",
  );
  assert.equal(
    code(() => checkTrafficTarget({ url: `${SVC}/base`, serviceUrl: SVC, cluster: OCP })),
    'accepted',
    'same origin, other path',
  );
  assert.equal(
    code(() => checkTrafficTarget({ url: SVC, serviceUrl: SVC, cluster: { routeHost: OCP.routeHost! } })),
    'accepted',
    'the Route alone is enough',
  );
});

test('a hostile status.url is refused, whatever it points at', () => {
  const svc = (serviceUrl: string, cluster: TrafficCluster = OCP) => code(() => checkTrafficTarget({ url: serviceUrl, serviceUrl, cluster }));
  assert.equal(svc('http://169.254.169.254/latest/meta-data/'), 'target-metadata');
  assert.equal(svc('http://[fd00:ec2::254]/'), 'target-metadata');
  assert.equal(svc('http://metadata.google.internal/computeMetadata/v1/'), 'target-metadata');
  assert.equal(svc('http://169.254.169.254/', SANDBOX), 'target-metadata', 'not even in the sandbox');
  assert.equal(svc('http://169.254.10.10/'), 'target-link-local');
  assert.equal(svc('http://[fe80::abcd]/'), 'target-link-local');
  assert.equal(svc('http://[fe80::1%25eth0]/'), 'bad-url', 'a zone id is not a URL at all');
  assert.equal(svc('http://0.0.0.0:8080/'), 'target-unspecified');
  assert.equal(svc('http://127.0.0.1:8443/'), 'target-loopback', 'loopback on a real cluster');
  assert.equal(svc('http://localhost:6443/'), 'target-loopback');
  assert.equal(svc('https://api.cluster.example:6443/'), 'target-off-domain', 'the API server itself');
  assert.equal(svc('https://www.another-company.example/'), 'target-off-domain');
  assert.equal(svc('https://apps.cluster.example.evil.example/'), 'target-off-domain', 'look-alike suffix');
  assert.equal(svc('https://xapps.cluster.example/'), 'target-off-domain', 'not a label boundary');
  assert.equal(svc('https://10.0.0.5/'), 'target-off-domain', 'a private IP');
  assert.equal(svc(SVC, { apiServer: 'https://10.0.0.1:6443' }), 'target-no-domain', 'nothing to check against: refused, not waved through');
  assert.equal(svc('ftp://x.apps.cluster.example/'), 'bad-url');
  assert.equal(svc('https://u:p@x.apps.cluster.example/'), 'bad-url');
  assert.throws(
    () => checkTrafficTarget({ url: 'https://evil.example', serviceUrl: 'https://evil.example', cluster: OCP }),
    /status\.url host evil\.example is not on the cluster's apps domain \(apps\.cluster\.example\)/,
  );
});

test("loopback: the sandbox's status.url and a port-forward the user typed; other given URLs must be the service's origin", () => {
  const local = 'http://127.0.0.1:40123/svc/user1-test/jukebox';
  assert.match(checkTrafficTarget({ url: local, serviceUrl: local, cluster: SANDBOX }).why, /local sandbox/);
  assert.match(checkTrafficTarget({ url: 'http://127.0.0.1:8080' }).why, /port-forward you gave/);
  assert.match(checkTrafficTarget({ url: 'http://[::1]:8080', serviceUrl: SVC, cluster: OCP }).why, /port-forward/);
  assert.equal(
    code(() => checkTrafficTarget({ url: 'http://169.254.169.254' })),
    'target-metadata',
    'a typed URL is still never metadata',
  );
  assert.equal(
    code(() => checkTrafficTarget({ url: 'https://evil.example', serviceUrl: SVC, cluster: OCP })),
    'target-not-allowed',
  );
  assert.equal(
    code(() => checkTrafficTarget({ url: 'https://x.apps.cluster.example' })),
    'target-not-allowed',
    'no service URL: only loopback',
  );
  assert.equal(
    code(() => checkTrafficTarget({ url: SVC, serviceUrl: 'https://evil.example', cluster: OCP })),
    'target-not-allowed',
  );
  assert.equal(
    code(() => checkTrafficTarget({ url: 'https://evil.example', serviceUrl: 'https://evil.example', cluster: OCP })),
    'target-off-domain',
  );
});

test('trafficClusterOf takes the API server and the Route host from a store', () => {
  assert.deepEqual(trafficClusterOf({ connection: () => ({ server: OCP.apiServer }), grafanaRoute: () => ({ host: OCP.routeHost! }) }), OCP);
  assert.deepEqual(trafficClusterOf({ connection: () => ({ server: undefined }), grafanaRoute: () => undefined }), {});
  assert.deepEqual(trafficClusterOf(undefined), {});
});

test('checkAddress and guardedLookup refuse names that resolve to metadata, link-local or (for a remote target) loopback', async () => {
  assert.equal(checkAddress('10.1.2.3', false), undefined);
  assert.match(checkAddress('169.254.169.254', true) ?? '', /metadata/);
  assert.match(checkAddress('fe80::1', true) ?? '', /link-local/);
  assert.match(checkAddress('127.0.0.1', false) ?? '', /loopback/);
  assert.equal(checkAddress('127.0.0.1', true), undefined);
  const lookup = (allow: boolean) =>
    new Promise<string>((resolve) => {
      guardedLookup(allow)('localhost', {}, (err, address) => resolve(err ? `refused: ${err.message}` : String(address)));
    });
  assert.match(await lookup(false), /refused: Refusing to connect to localhost: .* is loopback/);
  assert.match(await lookup(true), /^(127\.0\.0\.1|::1)$/);
});

test("sendTraffic refuses a hostile status.url before sending anything, and sends to the sandbox's loopback one", async (t) => {
  let hits = 0;
  const server = http.createServer((_req, res) => {
    hits++;
    res.end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const local = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  await assert.rejects(
    sendTraffic({ url: local, serviceUrl: local, cluster: OCP, model: 'm', rps: 50, durationMs: 100 }),
    (e: unknown) => e instanceof CanaryError && e.code === 'target-loopback',
  );
  assert.equal(hits, 0, 'nothing sent');
  const r = await sendTraffic({ url: local, serviceUrl: local, cluster: SANDBOX, model: 'm', rps: 50, durationMs: 100 });
  assert.equal(r.byStatus['200'], hits);
  assert.ok(hits > 0);
  // A name (not an IP literal) is resolved through the guard: localhost for a remote target is refused at connect time.
  const named = await sendTraffic({ url: `http://localhost:${(server.address() as { port: number }).port}`, model: 'm', rps: 50, durationMs: 40 });
  assert.equal(named.errors, 0, 'a typed localhost port-forward is allowed');
});
