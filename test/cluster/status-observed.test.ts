/**
 * `kserve-canary status` with Prometheus (issue 8 §1): the OBSERVED column and the `observed`
 * field of --json, against the sandbox serving inference and its Prometheus query API, after
 * real traffic sent with sendTraffic. Without traffic it says so; without Prometheus there is
 * no column and `observed` is null; a refused query says `no metrics` and why.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { main } from '../../src/cli/main';
import { sendTraffic } from '../../src/core/loadgen';
import { openSandbox, type TestSandbox } from '../sandbox/helpers';
import { INFERENCE_SERVICES } from '../../src/sandbox/resources';
import { memoryIO } from './cli-io';

describe('status: observed split beside the configured one (sandbox with inference)', () => {
  let sb: TestSandbox;
  let token: string;
  before(async () => {
    sb = await openSandbox({ syncDelayMs: 150, rolloutDelayMs: 100, pollMs: 50, inference: true });
    token = fs.readFileSync(sb.tokenFile, 'utf8').trim();
    const isvc = sb.controller.store.get(INFERENCE_SERVICES, 'user1-test', 'jukebox') as { status?: { url?: string } } | undefined;
    const url = isvc?.status?.url;
    assert.ok(url, 'the sandbox serves jukebox in user1-test');
    // the seeded split is prev 80 / latest 20; the sandbox routes exactly by weight
    const r = await sendTraffic({ url, model: 'jukebox', rps: 100, durationMs: 2000 });
    assert.ok(r.sent > 0 && (r.byStatus['200'] ?? 0) === r.sent, JSON.stringify(r.byStatus));
  });
  after(async () => {
    await sb?.cleanup();
  });
  const common = () => ['--kubeconfig', sb.kubeconfigPath, '--gitops', sb.gitopsClone, '--prometheus', sb.prometheusUrl!, '--window', '10m'];

  it('table: OBSERVED beside PREV/LATEST, the measured split for test, no traffic for prod', async () => {
    const r = memoryIO({ KSERVE_CANARY_PROMETHEUS_TOKEN: token });
    assert.equal(await main(['status', 'jukebox', ...common()], r.io), 0, r.err());
    const lines = r.out().trim().split('\n');
    assert.match(lines[0] ?? '', /^ENV\s+NAME\s+URL\s+READY\s+PREV\s+LATEST\s+OBSERVED\s+PREVROLLEDOUTREVISION\s/);
    const test = lines.find((l) => l.startsWith('test '));
    const m = /\s80\s+20\s+(\d+)\/(\d+) 10m\s+jukebox-predictor-/.exec(test ?? '');
    assert.ok(m, test);
    assert.equal(Number(m[1]) + Number(m[2]), 100);
    assert.ok(Math.abs(Number(m[2]) - 20) <= 10, `observed latest ${m[2]}% for a configured 20%`);
    assert.match(lines.find((l) => l.startsWith('prod ')) ?? '', /\sno traffic\s/);
    assert.ok(!r.out().includes(token) && !r.err().includes(token));
  });

  it('--json: an observed object per service (additive, schemaVersion 1)', async () => {
    const r = memoryIO({ KSERVE_CANARY_PROMETHEUS_TOKEN: token });
    assert.equal(await main(['status', 'jukebox', '--json', ...common()], r.io), 0, r.err());
    const doc = JSON.parse(r.out());
    assert.equal(doc.schemaVersion, 1);
    const test = doc.services.find((s: { env: string }) => s.env === 'test');
    assert.deepEqual(Object.keys(test.observed), ['kind', 'window', 'prev', 'latest', 'totalRps', 'byRevision', 'source', 'reason', 'message', 'at']);
    assert.equal(test.observed.kind, 'observed');
    assert.equal(test.observed.window, '10m');
    assert.equal(test.observed.prev + test.observed.latest, 100);
    assert.equal(test.observed.source, 'knative');
    assert.ok(test.observed.totalRps > 0);
    const prod = doc.services.find((s: { env: string }) => s.env === 'prod');
    assert.equal(prod.observed.kind, 'absent');
    assert.match(prod.observed.reason, /^no-(data|traffic)$/);
    assert.ok(!r.out().includes(token));
  });

  it('a query Prometheus refuses: no metrics, and why under the table', async () => {
    const r = memoryIO({ KSERVE_CANARY_PROMETHEUS_TOKEN: 'wrong-token' });
    assert.equal(await main(['status', 'jukebox', '--env', 'test', ...common()], r.io), 0, r.err());
    assert.match(r.out(), /\s80\s+20\s+no metrics\s/);
    assert.match(r.out(), /observed: Prometheus at \S+ refused the query \(HTTP 401\)/);
    assert.ok(!r.out().includes('wrong-token'));
  });

  it('without Prometheus: no OBSERVED column, observed null in --json', async () => {
    const plain = ['--kubeconfig', sb.kubeconfigPath, '--gitops', sb.gitopsClone];
    const t = memoryIO();
    assert.equal(await main(['status', 'jukebox', '--env', 'test', ...plain], t.io), 0, t.err());
    assert.doesNotMatch(t.out(), /OBSERVED/);
    const j = memoryIO();
    assert.equal(await main(['status', 'jukebox', '--env', 'test', '--json', ...plain], j.io), 0, j.err());
    assert.equal(JSON.parse(j.out()).services[0].observed, null);
  });

  it('--help documents the column and the field', async () => {
    const r = memoryIO();
    assert.equal(await main(['status', '--help'], r.io), 0);
    assert.match(r.out(), /--prometheus <url>/);
    assert.match(r.out(), /OBSERVED column/);
    assert.match(r.out(), /"observed": null \| \{ "kind": "observed" \| "absent"/);
  });
});
