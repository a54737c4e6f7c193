/**
 * Settings that become namespaces (environments, user, namespace pattern, toolings namespace)
 * are checked as DNS-1123 labels before any request: a bad one is an `invalid-settings`
 * problem saying which setting and what to fix, and no request reaches the API server.
 * The server here only records the paths it is asked for.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { createClusterStore, type ClusterSettings } from '../../src/cluster/index';
import { checkNamespaceName } from '../../src/cluster/kubeconfig';
import { ISVC, resourcePath } from '../../src/cluster/transport';
import { TEST_TUNING, until } from './sandbox-helpers';

describe('namespace settings are DNS-1123 labels before they reach a URL', () => {
  let server: http.Server;
  let dir: string;
  const paths: string[] = [];
  const kubeconfig = (user: string, namespace?: string) => {
    const f = path.join(dir, `kc-${user.replace(/[^a-z0-9]/g, '_')}-${namespace ?? 'none'}`);
    const port = (server.address() as AddressInfo).port;
    fs.writeFileSync(
      f,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } }],
        users: [{ name: user, user: { token: 'not-a-secret' } }],
        contexts: [{ name: 'c', context: { cluster: 'c', user, ...(namespace ? { namespace } : {}) } }],
        'current-context': 'c',
      }),
    );
    return f;
  };
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ksc-ns-'));
    server = http.createServer((req, res) => {
      paths.push(req.url ?? '');
      res.setHeader('content-type', 'application/json');
      if ((req.url ?? '').includes('watch=')) {
        req.on('close', () => res.end());
        res.write('');
        return;
      }
      res.end(JSON.stringify({ kind: 'List', metadata: { resourceVersion: '1' }, items: [] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function connect(kubeconfigPath: string, settings: Partial<ClusterSettings>) {
    paths.length = 0;
    const store = await createClusterStore({
      settings: { kubeconfigPath, ...settings },
      env: {},
      tuning: { ...TEST_TUNING, watchKubeconfig: false, watchGitops: false },
    });
    try {
      await store.ready();
      return { conn: store.connection(), envs: store.environments(), paths: [...paths] };
    } finally {
      store.dispose();
    }
  }

  it('valid settings: the namespaces are asked for (the control case)', async () => {
    const r = await connect(kubeconfig('user1', 'user1-test'), { environments: ['test'] });
    assert.equal(r.conn.problem, undefined);
    assert.deepEqual(
      r.envs.map((e) => e.namespace),
      ['user1-test'],
    );
    assert.ok(
      r.paths.some((p) => p.startsWith('/apis/serving.kserve.io/v1beta1/namespaces/user1-test/inferenceservices')),
      r.paths.join('\n'),
    );
    assert.ok(
      r.paths.some((p) => p.startsWith('/apis/argoproj.io/v1alpha1/namespaces/user1-toolings/applications')),
      r.paths.join('\n'),
    );
  });

  const cases: { what: string; settings: Partial<ClusterSettings>; user?: string; message: RegExp; hint: RegExp }[] = [
    {
      what: 'toolings namespace ..',
      settings: { environments: ['test'], toolingsNamespace: '..' },
      message: /Invalid namespace "\.\." \(the toolingsNamespace setting\)/,
      hint: /toolings namespace setting/,
    },
    {
      what: 'namespace pattern giving ..',
      settings: { environments: ['test'], namespacePattern: '..' },
      message: /Invalid namespace "\.\." \(pattern \.\. with user from/,
      hint: /namespace pattern/,
    },
    {
      what: 'environment ..',
      settings: { environments: ['test', '..'] },
      message: /Invalid namespace "\.\." \(an entry of the environments setting\)/,
      hint: /environments setting/,
    },
    { what: 'user ..', settings: { environments: ['test'], user: '..' }, message: /Invalid namespace "\.\." \(the user setting\)/, hint: /user setting/ },
    {
      what: 'pattern with a slash',
      settings: { environments: ['test'], namespacePattern: '{user}/{env}' },
      message: /Invalid namespace "user1\/test"/,
      hint: /namespace pattern/,
    },
    {
      what: 'user from the kubeconfig (kube:admin)',
      user: 'kube:admin',
      settings: { environments: ['test'] },
      message: /Invalid namespace "kube:admin-test" \(pattern \{user\}-\{env\} with user from the kubeconfig user "kube:admin"/,
      hint: /user settings/,
    },
  ];
  for (const c of cases) {
    it(`${c.what}: an invalid-settings problem, and no request at all`, async () => {
      const r = await connect(kubeconfig(c.user ?? 'user1', c.user ? undefined : 'user1-test'), c.settings);
      assert.equal(r.conn.problem?.kind, 'invalid-settings', JSON.stringify(r.conn));
      assert.match(r.conn.problem?.message ?? '', c.message);
      assert.match(r.conn.problem?.message ?? '', /Nothing was asked of the cluster/);
      assert.match(r.conn.problem?.hint ?? '', c.hint);
      assert.deepEqual(r.paths, []);
      assert.deepEqual(r.envs, []);
    });
  }

  it('a store whose settings become valid again reconnects normally', async () => {
    paths.length = 0;
    const store = await createClusterStore({
      settings: { kubeconfigPath: kubeconfig('user1', 'user1-test'), environments: ['test'], toolingsNamespace: '..' },
      env: {},
      tuning: { ...TEST_TUNING, watchKubeconfig: false },
    });
    try {
      await store.ready();
      assert.equal(store.connection().problem?.kind, 'invalid-settings');
      await store.reconnect({ toolingsNamespace: 'user1-toolings' });
      await store.ready();
      await until(() => store.connection().phase === 'connected', 'connected');
      assert.equal(store.connection().problem, undefined);
    } finally {
      store.dispose();
    }
  });

  it('checkNamespaceName and resourcePath refuse path steps', () => {
    assert.equal(checkNamespaceName('user1-test', 'x', 'y'), 'user1-test');
    for (const bad of ['..', '.', 'a/b', 'User1', '-a', 'a'.repeat(64), '']) assert.throws(() => checkNamespaceName(bad, 'x', 'y'), /Invalid namespace/);
    assert.throws(() => resourcePath(ISVC, '..'), /Refusing the namespace "\.\."/);
    assert.throws(() => resourcePath(ISVC, 'user1-test', '..'), /Refusing the name "\.\."/);
    assert.equal(resourcePath(ISVC, 'user1-test', 'jukebox'), '/apis/serving.kserve.io/v1beta1/namespaces/user1-test/inferenceservices/jukebox');
  });
});
