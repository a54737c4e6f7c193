/**
 * Credential failures of the kubeconfig user (credentials.ts) and their classification
 * (classify.ts): an exec plugin's stderr, JSON.parse's message quoting the plugin's output and
 * a library's own text never reach a ClusterProblem; the mechanism and how it failed do.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { User } from '@kubernetes/client-node';
import { classifyError, RequestError } from '../../src/cluster/classify';
import { CredentialError, credentialFailure, describeAuth, kubeBearer } from '../../src/cluster/credentials';
import { loadKubeconfig } from '../../src/cluster/kubeconfig';
import { stringify as toYaml } from 'yaml';
import { writeExecPlugin } from './kube-users';

const SECRET = 'sha256~ExecSecretAbCdEf0123456789xyzQRSTuv';
const execUser = { name: 'dev/api-example', exec: { command: '/usr/local/bin/kubelogin', args: ['get-token'] } } as unknown as User;

function parseError(text: string): SyntaxError {
  try {
    JSON.parse(text);
  } catch (e) {
    return e as SyntaxError;
  }
  throw new Error('parsed');
}

test('describeAuth names the mechanism, never a value', () => {
  assert.equal(describeAuth(execUser), 'exec plugin "kubelogin"');
  assert.equal(describeAuth({ name: 'u', token: SECRET } as unknown as User), 'token');
  assert.equal(describeAuth({ name: 'u', authProvider: { name: 'oidc', config: { 'id-token': SECRET } } } as unknown as User), 'auth provider "oidc"');
  assert.equal(describeAuth({ name: 'u', authProvider: { name: 'tokenFile', config: { tokenFile: '/x' } } } as unknown as User), 'token file');
  assert.equal(describeAuth({ name: 'u', certData: 'AAAA' } as unknown as User), 'client certificate');
  assert.equal(describeAuth(null), 'no user');
});

test('exec plugin failures: stderr, non-JSON output, could not start — no plugin text in message or hint', () => {
  const cases: [unknown, RegExp][] = [
    [
      new Error(`error: token ${SECRET} has expired\n`),
      /exec plugin "kubelogin" of the kubeconfig user "dev\/api-example" failed; its error output is not shown/,
    ],
    [parseError(`token ${SECRET}`), /printed something that is not an ExecCredential \(not valid JSON\)/],
    [Object.assign(new Error(`spawn /usr/local/bin/kubelogin ENOENT ${SECRET}`), { code: 'ENOENT' }), /could not be started \(ENOENT\)/],
  ];
  for (const [raw, re] of cases) {
    const c = credentialFailure(raw, execUser);
    assert.ok(c instanceof CredentialError);
    assert.match(c.message, re);
    const p = classifyError(c, 'https://api.example.com:6443');
    assert.equal(p.kind, 'unauthorized');
    const shown = `${p.message} ${p.hint}`;
    assert.ok(!shown.includes(SECRET) && !shown.includes(SECRET.slice(7, 20)), shown);
  }
});

test('other credential failures name the mechanism and a Node code only', () => {
  const oidc = { name: 'u', authProvider: { name: 'oidc', config: {} } } as unknown as User;
  const c = credentialFailure(Object.assign(new Error(`refresh failed: refresh_token=${SECRET}`), { code: 'ECONNREFUSED' }), oidc);
  assert.equal(c.message, 'Getting the credentials (auth provider "oidc") of the kubeconfig user "u" failed (ECONNREFUSED).');
  assert.ok(!c.message.includes(SECRET));
});

test('classifyError never shows a library message; our RequestErrors stay readable (redacted)', () => {
  const leaky = classifyError(new Error(`invalid character in header: Bearer ${SECRET}`), 'https://api.example.com:6443');
  assert.equal(leaky.kind, 'other');
  assert.ok(!leaky.message.includes(SECRET), leaky.message);
  assert.match(leaky.message, /failed: an unexpected Error\./);
  const parse = classifyError(parseError(`{"token":"${SECRET}`), undefined);
  assert.match(parse.message, /not valid JSON/);
  assert.ok(!parse.message.includes(SECRET));
  const ours = classifyError(new RequestError('Refusing the namespace "..": it would change the request\'s path.', undefined, 'INVALID_NAME'), undefined);
  assert.match(ours.message, /Refusing the namespace/);
});

test('kubeBearer: an exec plugin whose token is read fresh; a failing one becomes a CredentialError', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ksc-cred-'));
  try {
    const tokenFile = path.join(dir, 'token');
    writeFileSync(tokenFile, 'first-token-0001\n');
    const kcFile = (name: string, user: Record<string, unknown>) => {
      const f = path.join(dir, name);
      writeFileSync(
        f,
        toYaml({
          apiVersion: 'v1',
          kind: 'Config',
          'current-context': 'c',
          clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1', 'certificate-authority-data': Buffer.from('not a real CA').toString('base64') } }],
          users: [{ name: 'u', user }],
          contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
        }),
      );
      return f;
    };
    const ok = await loadKubeconfig(
      { kind: 'files', files: [kcFile('ok', { exec: { command: process.execPath, args: [writeExecPlugin(dir, 'ok', 'ok', { tokenFile })] } })] },
      undefined,
    );
    const b1 = await kubeBearer(ok);
    assert.equal(b1.token, 'first-token-0001');
    assert.equal(b1.ca?.toString(), 'not a real CA');
    writeFileSync(tokenFile, 'second-token-0002\n');
    assert.equal((await kubeBearer(ok)).token, 'second-token-0002', 'no expiry: the plugin runs again');
    const bad = await loadKubeconfig(
      { kind: 'files', files: [kcFile('bad', { exec: { command: process.execPath, args: [writeExecPlugin(dir, 'bad', 'stderr', { secret: SECRET })] } })] },
      undefined,
    );
    await assert.rejects(kubeBearer(bad), (e: Error) => e instanceof CredentialError && !e.message.includes(SECRET));
    const basic = await loadKubeconfig({ kind: 'files', files: [kcFile('basic', { username: 'alice', password: SECRET })] }, undefined);
    assert.equal((await kubeBearer(basic)).token, undefined, 'a password is never turned into a bearer token');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
