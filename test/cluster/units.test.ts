/** Cluster-layer units: backoff, error classification, kubeconfig loading and watching, the Grafana route. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { Backoff } from '../../src/cluster/backoff';
import { classifyError, isDisconnecting, problemKey, RequestError } from '../../src/cluster/classify';
import { findKubeconfig, loadKubeconfig, namespaceFor, parseNamespace, watchKubeconfigFiles } from '../../src/cluster/kubeconfig';
import { grafanaRouteUrl } from '../../src/cluster/route';
import { until } from '../poll';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ksc-cluster-units-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('backoff', () => {
  it('doubles from 1 s to 30 s, jittered within [d/2, d]', () => {
    const lo = new Backoff(1000, 30000, () => 0);
    const hi = new Backoff(1000, 30000, () => 1);
    const lows = Array.from({ length: 8 }, () => lo.next());
    const highs = Array.from({ length: 8 }, () => hi.next());
    assert.deepEqual(highs, [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    assert.deepEqual(lows, [500, 1000, 2000, 4000, 8000, 15000, 15000, 15000]);
  });
  it('reset starts over', () => {
    const b = new Backoff(1000, 30000, () => 1);
    b.next();
    b.next();
    assert.equal(b.failures, 2);
    b.reset();
    assert.equal(b.next(), 1000);
  });
  it('never exceeds the maximum after many failures', () => {
    const b = new Backoff(1000, 30000);
    for (let i = 0; i < 200; i++) assert.ok(b.next() <= 30000);
  });
});

describe('classifyError', () => {
  const server = 'https://api.example:6443';
  it('401 → unauthorized, 403 → forbidden in the namespace', () => {
    assert.equal(classifyError(new RequestError('x', 401), server).kind, 'unauthorized');
    const f = classifyError(new RequestError('x', 403, undefined, 'user1-prod'), server);
    assert.equal(f.kind, 'forbidden');
    assert.equal(f.namespace, 'user1-prod');
    assert.match(f.message, /user1-prod/);
  });
  it('network codes → unreachable, TLS codes → tls, timeouts → timeout, 5xx → server-error', () => {
    const withCode = (code: string) => Object.assign(new Error('e'), { code });
    assert.equal(classifyError(withCode('ECONNREFUSED'), server).kind, 'unreachable');
    assert.equal(classifyError(withCode('ENOTFOUND'), server).kind, 'unreachable');
    assert.equal(classifyError(withCode('DEPTH_ZERO_SELF_SIGNED_CERT'), server).kind, 'tls');
    assert.equal(classifyError(withCode('ERR_TLS_CERT_ALTNAME_INVALID'), server).kind, 'tls');
    assert.equal(classifyError(new RequestError('slow', undefined, 'ETIMEDOUT'), server).kind, 'timeout');
    assert.equal(classifyError(new RequestError('x', 503), server).kind, 'server-error');
    assert.equal(classifyError(Object.assign(new Error('wrapped'), { cause: withCode('ECONNRESET') }), server).kind, 'unreachable');
  });
  it('every problem says what happened and what to do, naming the server', () => {
    for (const e of [new RequestError('x', 401), new RequestError('x', 500), new Error('odd')]) {
      const p = classifyError(e, server);
      assert.ok(p.message.length > 0 && p.hint.length > 0);
    }
    assert.match(classifyError(new RequestError('x', 401), server).message, /api\.example:6443/);
  });
  it('episode keys and disconnecting kinds', () => {
    assert.equal(problemKey({ kind: 'forbidden', message: '', hint: '', namespace: 'a' }), 'forbidden');
    assert.equal(problemKey({ kind: 'unreachable', message: '', hint: '' }), 'unreachable');
    assert.equal(isDisconnecting('unreachable'), true);
    assert.equal(isDisconnecting('forbidden'), false);
  });
});

describe('namespaces', () => {
  it('pattern both ways', () => {
    assert.equal(namespaceFor('{user}-{env}', 'user1', 'test'), 'user1-test');
    assert.equal(namespaceFor('team-{env}', 'x', 'prod'), 'team-prod');
    assert.deepEqual(parseNamespace('{user}-{env}', 'user1-test'), { user: 'user1', env: 'test' });
    assert.deepEqual(parseNamespace('{user}-{env}', 'ml-team-prod', ['prod', 'test']), { user: 'ml-team', env: 'prod' });
    assert.deepEqual(parseNamespace('{env}-{user}', 'test-alice', ['test']), { user: 'alice', env: 'test' });
    assert.equal(parseNamespace('{user}-{env}', 'default'), undefined);
  });
});

function kubeconfigYaml(o: { cluster: string; server: string; user: string; context: string; ns?: string; current?: string; token?: string }): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${o.cluster}`,
    '  cluster:',
    `    server: ${o.server}`,
    'users:',
    `- name: ${o.user}`,
    '  user:',
    `    token: ${o.token ?? 'secret-token-value'}`,
    'contexts:',
    `- name: ${o.context}`,
    '  context:',
    `    cluster: ${o.cluster}`,
    `    user: ${o.user}`,
    ...(o.ns ? [`    namespace: ${o.ns}`] : []),
    ...(o.current ? [`current-context: ${o.current}`] : []),
    '',
  ].join('\n');
}

describe('kubeconfig', () => {
  const a = path.join(tmp, 'a.yaml');
  const b = path.join(tmp, 'b.yaml');
  fs.writeFileSync(
    a,
    kubeconfigYaml({ cluster: 'c1', server: 'https://one.example:6443', user: 'user1/c1', context: 'ctx1', ns: 'user1-test', current: 'ctx1' }),
  );
  fs.writeFileSync(b, kubeconfigYaml({ cluster: 'c2', server: 'https://two.example:6443', user: 'u2', context: 'ctx2', current: 'ctx2' }));
  const home = path.join(tmp, 'home');
  fs.mkdirSync(path.join(home, '.kube'), { recursive: true });
  fs.writeFileSync(path.join(home, '.kube', 'config'), kubeconfigYaml({ cluster: 'h', server: 'https://home.example', user: 'h', context: 'h', current: 'h' }));

  it('explicit path, then KUBECONFIG (several files, missing ones skipped), then ~/.kube/config, then in-cluster', () => {
    assert.deepEqual(findKubeconfig(a, {}), { kind: 'files', files: [a] });
    assert.deepEqual(findKubeconfig(undefined, { KUBECONFIG: [a, path.join(tmp, 'nope'), b].join(path.delimiter), HOME: home }), {
      kind: 'files',
      files: [a, b],
    });
    assert.deepEqual(findKubeconfig(undefined, { HOME: home }), { kind: 'files', files: [path.join(home, '.kube', 'config')] });
    const sa = path.join(tmp, 'sa');
    fs.mkdirSync(sa, { recursive: true });
    fs.writeFileSync(path.join(sa, 'token'), 't');
    const pod = { HOME: path.join(tmp, 'nohome'), KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' };
    assert.deepEqual(findKubeconfig(undefined, pod, sa), {
      kind: 'in-cluster',
      files: [path.join(sa, 'token')],
      serviceAccountDir: sa,
      server: 'https://10.0.0.1:443',
    });
    assert.equal(findKubeconfig(undefined, { ...pod, KUBERNETES_SERVICE_HOST: 'fd00::1' }, sa)?.server, 'https://[fd00::1]:443');
    assert.equal(findKubeconfig(undefined, { ...pod, KSC_SERVICE_ACCOUNT_DIR: sa })?.serviceAccountDir, sa);
    assert.equal(findKubeconfig(undefined, { ...pod, KUBERNETES_SERVICE_PORT: '' }, sa), undefined, 'no port: not in a pod');
    assert.equal(findKubeconfig(undefined, { HOME: path.join(tmp, 'nohome') }, sa), undefined);
  });
  it('merges several files like kubectl: first current-context wins, --context switches', async () => {
    const kc = await loadKubeconfig({ kind: 'files', files: [a, b] }, undefined);
    assert.equal(kc.getCurrentContext(), 'ctx1');
    assert.equal(kc.getCurrentCluster()?.server, 'https://one.example:6443');
    const kc2 = await loadKubeconfig({ kind: 'files', files: [a, b] }, 'ctx2');
    assert.equal(kc2.getCurrentCluster()?.server, 'https://two.example:6443');
  });
  it('refuses an unknown context and a broken file with a clear error, never showing the token', async () => {
    await assert.rejects(
      loadKubeconfig({ kind: 'files', files: [a] }, 'nope'),
      (e: Error) => /no context named "nope"/.test(e.message) && !e.message.includes('secret-token-value'),
    );
    const bad = path.join(tmp, 'bad.yaml');
    fs.writeFileSync(bad, 'clusters: [\n  token: secret-token-value');
    await assert.rejects(
      loadKubeconfig({ kind: 'files', files: [bad] }, undefined),
      (e: Error) => /Could not read the kubeconfig/.test(e.message) && !e.message.includes('secret-token-value'),
    );
  });
  it('notices a change (rename-replace, burst of writes) once, after the debounce', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'w-'));
    const f = path.join(dir, 'config');
    fs.writeFileSync(f, 'one');
    let calls = 0;
    const checks: boolean[] = [];
    const stop = watchKubeconfigFiles(
      [f],
      100,
      () => calls++,
      (changed) => checks.push(changed),
    );
    try {
      for (let i = 0; i < 5; i++) {
        fs.writeFileSync(`${f}.tmp`, `two-${i}`);
        fs.renameSync(`${f}.tmp`, f);
      }
      await until(() => checks.includes(true), 'the change');
      assert.equal(calls, 1, 'one reconnect for the burst');
      // same content: re-read, and no reconnect
      const seen = checks.length;
      fs.writeFileSync(f, 'two-4');
      await until(() => checks.length > seen, 'the watcher to re-read the file');
      assert.deepEqual(checks.filter(Boolean), [true]);
      assert.equal(calls, 1);
    } finally {
      stop();
    }
  });
});

describe('grafana route', () => {
  it('https with tls, http without, path kept, status host as fallback', () => {
    assert.deepEqual(grafanaRouteUrl({ spec: { host: 'grafana.apps.example', tls: { termination: 'edge' } } }), {
      host: 'grafana.apps.example',
      tls: true,
      url: 'https://grafana.apps.example',
    });
    assert.equal(grafanaRouteUrl({ spec: { host: 'g.example', path: '/grafana' } })?.url, 'http://g.example/grafana');
    assert.equal(grafanaRouteUrl({ spec: {}, status: { ingress: [{ host: 'h.example' }] } })?.url, 'http://h.example');
  });
  it('refuses hosts that are not hosts', () => {
    assert.equal(grafanaRouteUrl({ spec: { host: 'evil.example/@x' } }), undefined);
    assert.equal(grafanaRouteUrl({ spec: { host: 'javascript:alert(1)' } }), undefined);
    assert.equal(grafanaRouteUrl({ spec: { host: 'a.example', path: '/x y' } })?.url, 'http://a.example');
    assert.equal(grafanaRouteUrl(undefined), undefined);
  });
});
