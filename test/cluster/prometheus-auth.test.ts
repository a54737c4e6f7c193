/**
 * Which credential goes to Prometheus (issue 11 §6, issue 12 §4), against the sandbox's
 * Prometheus API (https with the sandbox CA, and its plain-http twin), which records the
 * scheme and kind of credential of every query: an exec-plugin user and a token-file user get
 * the observed split and the gates through client-node's machinery; a client certificate is
 * never sent; plain http gets no token (and an explicit token over http is refused before any
 * request); a workspace URL gets the token only for a confirmed host; a redirect is not
 * followed with the token; failing plugins and an echoing server leave no secret in messages.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify as toYaml } from 'yaml';
import { metricsFromSettings, observedSplit, readGates, type MetricsKube, type PrometheusSettings, type ServiceRef } from '../../src/cluster/metrics';
import { sendTraffic } from '../../src/core/loadgen';
import { openSandbox, type TestSandbox } from '../sandbox/helpers';
import { INFERENCE_SERVICES } from '../../src/sandbox/resources';
import { execUser, sandboxKubeconfig, writeExecPlugin } from './kube-users';

const svc: ServiceRef = { namespace: 'user1-test', name: 'jukebox', prevRevision: 'jukebox-predictor-00001', latestRevision: 'jukebox-predictor-00002' };
const SECRET = 'sha256~PluginSecretAbCdEf0123456789xyzQRST';

describe('Prometheus credentials from every kind of kubeconfig user', () => {
  let sb: TestSandbox;
  let work: string;
  let token: string;
  const kc: Record<string, string> = {};

  before(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'ksc-prom-auth-'));
    sb = await openSandbox({ dir: path.join(work, 'sandbox'), syncDelayMs: 150, rolloutDelayMs: 100, pollMs: 50, inference: true });
    token = readFileSync(sb.tokenFile, 'utf8').trim();
    const url = (sb.controller.store.get(INFERENCE_SERVICES, 'user1-test', 'jukebox') as { status?: { url?: string } }).status?.url;
    assert.ok(url);
    const r = await sendTraffic({ url, model: 'jukebox', rps: 100, durationMs: 1000 });
    assert.ok(r.sent > 0);
    const plugin = (name: string, mode: Parameters<typeof writeExecPlugin>[2]) =>
      writeExecPlugin(work, name, mode, { tokenFile: sb.tokenFile, secret: SECRET });
    kc.exec = sandboxKubeconfig(sb, path.join(work, 'kc-exec'), execUser(plugin('plugin-ok', 'ok')));
    kc.tokenFile = sandboxKubeconfig(sb, path.join(work, 'kc-token-file'), { 'token-file': sb.tokenFile });
    kc.cert = sandboxKubeconfig(sb, path.join(work, 'kc-cert'), {
      'client-certificate-data': Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64'),
      'client-key-data': Buffer.from('-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n').toString('base64'),
    });
    kc.stderr = sandboxKubeconfig(sb, path.join(work, 'kc-stderr'), execUser(plugin('plugin-stderr', 'stderr')));
    kc.garbage = sandboxKubeconfig(sb, path.join(work, 'kc-garbage'), execUser(plugin('plugin-garbage', 'garbage')));
    kc.truncated = sandboxKubeconfig(sb, path.join(work, 'kc-truncated'), execUser(plugin('plugin-truncated', 'truncated')));
  });
  after(async () => {
    await sb?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** The observed split with these settings, and what the sandbox's Prometheus received meanwhile. */
  const observe = async (s: PrometheusSettings, kube: MetricsKube) => {
    const from = sb.prometheusAuthLog.length;
    const client = await metricsFromSettings(s, { env: { HOME: work }, ...kube });
    assert.ok(client);
    const o = await observedSplit(client, svc, { windowMs: 600_000 });
    return { o, client, seen: sb.prometheusAuthLog.slice(from) };
  };

  it('an exec-plugin user: its token reaches Prometheus over https; the split and the gates are read', async () => {
    const { o, client, seen } = await observe({ url: sb.prometheusUrl }, { kubeconfigPath: kc.exec });
    assert.equal(o.kind, 'observed', JSON.stringify(o));
    if (o.kind === 'observed') assert.equal(o.prevPercent! + o.latestPercent!, 100);
    assert.ok(seen.length > 0);
    assert.deepEqual([...new Set(seen.map((x) => `${x.scheme} ${x.auth}`))], ['https valid']);
    const g = await readGates(client, { namespace: 'user1-test', revision: 'jukebox-predictor-00002', windowMs: 600_000 });
    assert.equal(g.problem, undefined);
    assert.ok(g.rps! > 0);
  });

  it('a token-file user (read afresh, its trailing newline dropped)', async () => {
    const { o, seen } = await observe({ url: sb.prometheusUrl }, { kubeconfigPath: kc.tokenFile });
    assert.equal(o.kind, 'observed', JSON.stringify(o));
    assert.deepEqual([...new Set(seen.map((x) => x.auth))], ['valid']);
  });

  it('a client-certificate user sends nothing: a client certificate is an identity for the API server only', async () => {
    const { o, seen } = await observe({ url: sb.prometheusUrl }, { kubeconfigPath: kc.cert });
    assert.equal(o.kind, 'absent');
    assert.match(o.kind === 'absent' ? o.message : '', /refused the query \(HTTP 401\)/);
    assert.deepEqual([...new Set(seen.map((x) => x.auth))], ['none']);
  });

  it('plain http: the kubeconfig token is not sent, and the message says why', async () => {
    const { o, client, seen } = await observe({ url: sb.prometheusHttpUrl }, { kubeconfigPath: sb.kubeconfigPath });
    assert.equal(o.kind, 'absent');
    assert.deepEqual([...new Set(seen.map((x) => `${x.scheme} ${x.auth}`))], ['http none']);
    assert.match(o.kind === 'absent' ? o.message : '', /refused the query \(HTTP 401\); no token was sent: the kubeconfig token is only sent over https/);
    await assert.rejects(client.query('sum(rate(revision_request_count{namespace_name="x"}[1m]))'), (e: Error & { hint?: string }) => {
      assert.match(e.hint ?? '', /Use the https URL/);
      return true;
    });
  });

  it('plain http with an explicit token: refused before any request', async () => {
    const from = sb.prometheusAuthLog.length;
    await assert.rejects(
      metricsFromSettings({ url: sb.prometheusHttpUrl, token }, { kubeconfigPath: sb.kubeconfigPath, env: { HOME: work } }),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'prometheus-token-over-http');
        assert.ok(!e.message.includes(token));
        return true;
      },
    );
    assert.equal(sb.prometheusAuthLog.length, from, 'nothing reached Prometheus');
  });

  it('a URL from the workspace settings: the token goes only to a confirmed host, asked once per client', async () => {
    const asked: string[] = [];
    const no = await observe({ url: sb.prometheusUrl, urlSource: 'workspace' }, { kubeconfigPath: kc.exec, confirmHost: async (o) => (asked.push(o), false) });
    assert.deepEqual([...new Set(no.seen.map((x) => x.auth))], ['none']);
    assert.match(no.o.kind === 'absent' ? no.o.message : '', /HTTP 401\); no token was sent: the URL comes from the workspace settings/);
    const none = await observe({ url: sb.prometheusUrl, urlSource: 'workspace' }, { kubeconfigPath: kc.exec });
    assert.deepEqual([...new Set(none.seen.map((x) => x.auth))], ['none'], 'no way to confirm: no token');
    const yes = await observe({ url: sb.prometheusUrl, urlSource: 'workspace' }, { kubeconfigPath: kc.exec, confirmHost: async (o) => (asked.push(o), true) });
    assert.deepEqual([...new Set(yes.seen.map((x) => x.auth))], ['valid']);
    assert.equal(yes.o.kind, 'observed');
    const origin = new URL(sb.prometheusUrl!).origin;
    assert.deepEqual(asked, [origin, origin]);
    const off = await observe({ url: sb.prometheusUrl, useKubeconfigToken: false }, { kubeconfigPath: kc.exec });
    assert.deepEqual([...new Set(off.seen.map((x) => x.auth))], ['none'], 'useKubeconfigToken: false');
  });

  it("TLS: the kubeconfig cluster's CA is trusted for Prometheus; its insecure-skip-tls-verify is not carried over", async () => {
    const insecure = path.join(work, 'kc-insecure');
    writeFileSync(
      insecure,
      toYaml({
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': 'c',
        clusters: [{ name: 'c', cluster: { server: sb.server, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'u', user: { token } }],
        contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
      }),
      { mode: 0o600 },
    );
    const { o, seen } = await observe({ url: sb.prometheusUrl }, { kubeconfigPath: insecure });
    assert.match(o.kind === 'absent' ? o.message : '', /TLS certificate of https:\/\/127\.0\.0\.1:\d+ could not be verified/);
    assert.deepEqual(seen, [], 'the handshake failed: no request, no token');
    const trusted = await observe({ url: sb.prometheusUrl }, { kubeconfigPath: sb.kubeconfigPath });
    assert.equal(trusted.o.kind, 'observed', 'the CA of the sandbox kubeconfig signs the Prometheus certificate');
  });

  it('a 403 (no cluster-wide access) is reported as refused', async () => {
    sb.controller.allowClusterWide(false);
    try {
      const { o } = await observe({ url: sb.prometheusUrl }, { kubeconfigPath: kc.exec });
      assert.match(o.kind === 'absent' ? o.message : '', /refused the query \(HTTP 403\)/);
    } finally {
      sb.controller.allowClusterWide(true);
    }
  });

  for (const mode of ['stderr', 'garbage', 'truncated'] as const) {
    it(`an exec plugin that fails (${mode}, with the secret in what it prints): no secret in the message, no request`, async () => {
      const { o, seen } = await observe({ url: sb.prometheusUrl }, { kubeconfigPath: kc[mode]! });
      assert.equal(o.kind, 'absent');
      const msg = o.kind === 'absent' ? o.message : '';
      assert.match(msg, /exec plugin "node"/);
      assert.ok(!msg.includes(SECRET) && !msg.includes(SECRET.slice(0, 12)), msg);
      assert.deepEqual(seen, []);
    });
  }

  it('a redirect is not followed with the token; an error text echoing the token is cleaned', async () => {
    const tlsDir = path.join(sb.dir, 'tls');
    const received: (string | undefined)[] = [];
    const elsewhere = http.createServer((req, res) => {
      received.push(req.headers.authorization);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"success","data":{"resultType":"vector","result":[]}}');
    });
    await new Promise<void>((r) => elsewhere.listen(0, '127.0.0.1', r));
    const target = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/stolen?state=abc`;
    const auths: (string | undefined)[] = [];
    const prom = https.createServer({ cert: readFileSync(path.join(tlsDir, 'server.crt')), key: readFileSync(path.join(tlsDir, 'server.key')) }, (req, res) => {
      auths.push(req.headers.authorization);
      if (req.url?.startsWith('/redirect/')) {
        res.writeHead(302, { location: target }).end();
        return;
      }
      res
        .writeHead(400, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: 'error', errorType: 'bad_data', error: `unexpected header: Bearer ${token} (token ${token})` }));
    });
    await new Promise<void>((r) => prom.listen(0, '127.0.0.1', r));
    const base = `https://127.0.0.1:${(prom.address() as AddressInfo).port}`;
    try {
      const redirecting = await metricsFromSettings({ url: `${base}/redirect` }, { kubeconfigPath: kc.exec, env: { HOME: work } });
      const o = await observedSplit(redirecting!, svc);
      assert.equal(o.kind, 'absent');
      assert.match(o.kind === 'absent' ? o.message : '', /HTTP 302, a redirect to http:\/\/127\.0\.0\.1:\d+\/stolen; redirects are not followed/);
      assert.deepEqual(received, [], 'the redirect target got nothing');
      assert.deepEqual(auths, [`Bearer ${token}`], 'the configured host got the token, once');
      const echoing = await metricsFromSettings({ url: `${base}/echo` }, { kubeconfigPath: kc.exec, env: { HOME: work } });
      const e = await observedSplit(echoing!, svc);
      const msg = e.kind === 'absent' ? e.message : '';
      assert.match(msg, /answered an error \(bad_data\)/);
      assert.ok(!msg.includes(token), msg);
    } finally {
      prom.closeAllConnections();
      elsewhere.closeAllConnections();
      await Promise.all([new Promise((r) => prom.close(r)), new Promise((r) => elsewhere.close(r))]);
    }
  });
});
