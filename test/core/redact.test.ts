/** redact(): every form a credential can take in text is hidden; ordinary messages stay readable. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { redact } from '../../src/core/redact';

const ocToken = `sha256~${randomBytes(32).toString('base64url')}`;
const opaque = randomBytes(24).toString('hex') + 'Zq';

test('token <value>, Bearer <value>, sha256~… anywhere', () => {
  for (const [text, secret] of [
    [`error: invalid token ${opaque}`, opaque],
    [`Token ${ocToken} expired`, ocToken],
    [`Authorization: Bearer ${opaque}`, opaque],
    [`authorization: bearer ${ocToken}`, ocToken],
    [`refused ${ocToken}.`, ocToken],
    [`"token":"${opaque}"`, opaque],
    [`token=${opaque}&x=1`, opaque],
    [`{"kind":"ExecCredential","status":{"token": "${opaque}"}}`, opaque],
  ] as const) {
    const out = redact(text);
    assert.ok(!out.includes(secret), `${text} → ${out}`);
    assert.ok(!out.includes(secret.slice(0, 16)), `a prefix leaks: ${out}`);
  }
  assert.equal(redact(`Token ${ocToken} expired`), 'Token sha256~*** expired');
  assert.equal(redact(`invalid token ${opaque}`), 'invalid token ***');
});

test('base64 and base64url forms of a token, a JWT, a PEM body line', () => {
  const jwt =
    ['{"alg":"RS256","kid":"k1"}', `{"sub":"system:serviceaccount:x:y","iat":${Date.now()}}`].map((p) => Buffer.from(p).toString('base64url')).join('.') +
    '.' +
    randomBytes(64).toString('base64url');
  const pemLine = randomBytes(48).toString('base64');
  const slashed = `/${randomBytes(30).toString('base64')}`.replace(/^\/[a-z0-9]*\//, '/Q/');
  for (const secret of [slashed, Buffer.from(ocToken).toString('base64'), Buffer.from(ocToken).toString('base64url'), jwt, pemLine]) {
    const out = redact(`the plugin printed: ${secret} (end)`);
    for (const part of secret.split('.')) assert.ok(!out.includes(part), `${secret} → ${out}`);
    assert.match(out, /^the plugin printed: .*\(end\)$/);
  }
});

test('ordinary messages are left alone: prose about tokens, names, paths, SHAs, URLs', () => {
  for (const text of [
    'The bearer token is not valid for it (expired? not allowed to read metrics?). Log in again or set another token.',
    'No token was sent: the kubeconfig token is only sent over https, and this URL is plain http.',
    'token file: /tmp/ksc-secrets-Ab12Cd/sandbox/token',
    'jukebox · test 80/20, revision jukebox-predictor-00002-deployment-6d8f9c7b5d-x2x9z',
    'commit 3f2c1a9e8b7d6c5f4e3d2c1b0a9f8e7d6c5b4a39 pushed to main',
    'request id 6f1c2d3e-4b5a-4c6d-8e9f-0a1b2c3d4e5f',
    'Prometheus at https://thanos-querier-openshift-monitoring.apps.example.com refused the query (HTTP 401).',
    'ERR_TLS_CERT_ALTNAME_INVALID UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'Could not read /home/user/.kube/config.d/ProductionClusterConfig2024',
    'Opening https://grafana.apps.example.com/d/Bdb-6G4Vk-github/openvino-model-server-model-metrics?orgId=1&var-model_name=jukebox',
    'Could not read /home/User1/Projects/MyGitopsRepo2024/ModelDeployments/Test/config.yaml',
  ]) {
    assert.equal(redact(text), text);
  }
});

test('URL credentials, passwords and private keys (kept from the first version)', () => {
  const out = redact('https://alice:s3cret@git.example.com/x.git password: hunter2 -----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----');
  for (const s of ['s3cret', 'hunter2', 'MHcCAQEE']) assert.ok(!out.includes(s), out);
  assert.match(out, /https:\/\/\*\*\*@git\.example\.com/);
});
