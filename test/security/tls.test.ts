/**
 * TLS is verified by default (issue 7 §4): a kubeconfig whose CA is not the one that signed
 * the server's certificate, one with no CA at all, and one naming another TLS server name
 * all end in a `tls` problem with no data; plain http is refused before any request (the
 * token never crosses the wire in clear); `insecure-skip-tls-verify: true` in the kubeconfig
 * connects, and the store logs a warning saying verification is off.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify as toYaml } from 'yaml';
import { createClusterStore, type ClusterStore } from '../../src/cluster/index';
import { main } from '../../src/cli/main';
import { openSandbox, type TestSandbox } from '../sandbox/helpers';
import { until } from '../cluster/sandbox-helpers';
import { ensureTls } from '../../src/sandbox/tls';

interface Logged {
  level: string;
  message: string;
}

describe('TLS to the cluster is verified unless the kubeconfig says otherwise', () => {
  let sb: TestSandbox;
  let work: string;
  let token: string;
  const stores: ClusterStore[] = [];

  before(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'ksc-tls-'));
    sb = await openSandbox({ dir: path.join(work, 'sandbox') });
    token = readFileSync(sb.tokenFile, 'utf8').trim();
  });
  after(async () => {
    for (const s of stores) s.dispose();
    await sb?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** A kubeconfig for the sandbox's token with the given cluster entry. */
  const kubeconfig = (name: string, cluster: Record<string, unknown>): string => {
    const file = path.join(work, name);
    writeFileSync(
      file,
      toYaml({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: sb.server, ...cluster } }],
        users: [{ name: 'user1', user: { token } }],
        contexts: [{ name: 'c', context: { cluster: 'c', user: 'user1', namespace: 'user1-test' } }],
        'current-context': 'c',
      }),
      { mode: 0o600 },
    );
    return file;
  };

  const open = async (file: string): Promise<{ store: ClusterStore; log: Logged[] }> => {
    const log: Logged[] = [];
    const add = (level: string) => (message: string) => void log.push({ level, message });
    const store = await createClusterStore({
      settings: { kubeconfigPath: file },
      gitops: { root: sb.gitopsClone },
      log: { info: add('info'), warn: add('warn'), error: add('error'), debug: add('debug') },
      env: { HOME: work },
      tuning: { watchKubeconfig: false, backoffInitialMs: 100, backoffMaxMs: 500, requestTimeoutMs: 5000 },
    });
    stores.push(store);
    await store.ready();
    return { store, log };
  };

  const expectTlsRefusal = async (file: string, code: RegExp) => {
    const { store } = await open(file);
    await until(() => store.connection().problem !== undefined, 'a classified problem');
    const c = store.connection();
    assert.equal(c.problem?.kind, 'tls', JSON.stringify(c));
    assert.match(c.problem?.message ?? '', code);
    assert.match(c.problem?.hint ?? '', /insecure-skip-tls-verify/);
    assert.notEqual(c.phase, 'connected');
    assert.deepEqual(
      store.services().filter((s) => !s.missing),
      [],
      'no data from a server that could not be verified',
    );
    store.dispose();
  };

  it('a CA that did not sign the server certificate: tls problem, no data', async () => {
    const other = ensureTls(path.join(work, 'other-ca'));
    assert.notEqual(other.caCert, readFileSync(sb.caFile, 'utf8'));
    await expectTlsRefusal(kubeconfig('kc-wrong-ca', { 'certificate-authority-data': Buffer.from(other.caCert).toString('base64') }), /could not be verified/);
  });

  it('no CA in the kubeconfig (system roots only): the self-made CA is not trusted', async () => {
    await expectTlsRefusal(kubeconfig('kc-no-ca', {}), /could not be verified/);
  });

  it('the right CA but another tls-server-name: the host name is checked too', async () => {
    await expectTlsRefusal(
      kubeconfig('kc-server-name', {
        'certificate-authority-data': Buffer.from(readFileSync(sb.caFile)).toString('base64'),
        'tls-server-name': 'not-the-sandbox.example',
      }),
      /ALTNAME|could not be verified/,
    );
  });

  it('the CLI says so and exits 1', async () => {
    const other = ensureTls(path.join(work, 'other-ca-cli'));
    const file = kubeconfig('kc-wrong-ca-cli', { 'certificate-authority-data': Buffer.from(other.caCert).toString('base64') });
    let err = '';
    let out = '';
    const code = await main(['status', '--kubeconfig', file, '--gitops', sb.gitopsClone], {
      stdout: (t) => void (out += t),
      stderr: (t) => void (err += t),
      cwd: work,
      env: { HOME: work, PATH: process.env.PATH },
      signal: new AbortController().signal,
      isTTY: false,
    });
    assert.equal(code, 1, err);
    assert.match(err, /TLS certificate .* could not be verified/);
    assert.doesNotMatch(out, /jukebox/);
  });

  it('plain http without insecure-skip-tls-verify: refused before any request is sent', async () => {
    const seen: string[] = [];
    const plain = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization ? 'with credentials' : ''}`);
      res.writeHead(500).end();
    });
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', () => r()));
    try {
      const { port } = plain.address() as net.AddressInfo;
      const file = path.join(work, 'kc-plain');
      writeFileSync(file, readFileSync(kubeconfig('kc-plain-src', {}), 'utf8').replace(sb.server, `http://127.0.0.1:${port}`));
      const { store } = await open(file);
      await until(() => store.connection().problem !== undefined, 'a problem');
      assert.match(store.connection().problem?.message ?? '', /plain http|insecure-skip-tls-verify/i);
      assert.deepEqual(seen, [], 'nothing, and no token, went over plain http');
      store.dispose();
    } finally {
      plain.closeAllConnections();
      await new Promise<void>((r) => plain.close(() => r()));
    }
  });

  it('insecure-skip-tls-verify: true connects and logs one warning that verification is off', async () => {
    const { store, log } = await open(kubeconfig('kc-insecure', { 'insecure-skip-tls-verify': true }));
    await until(() => store.connection().phase === 'connected' && store.services().some((s) => s.name === 'jukebox' && !s.missing), 'connected with data');
    const warnings = log.filter((l) => l.level === 'warn' && /TLS verification is OFF/i.test(l.message));
    assert.equal(warnings.length, 1, JSON.stringify(log));
    assert.ok(warnings[0]!.message.includes(sb.server), warnings[0]!.message);
    assert.match(warnings[0]!.message, /insecure-skip-tls-verify/);
    store.dispose();
  });

  it('a verified connection logs no such warning', async () => {
    const { store, log } = await open(sb.kubeconfigPath);
    await until(() => store.connection().phase === 'connected' && store.services().length > 0, 'connected');
    assert.deepEqual(
      log.filter((l) => /TLS verification/i.test(l.message)),
      [],
    );
    store.dispose();
  });
});
