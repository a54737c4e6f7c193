// Select context and Select kubeconfig against a kubeconfig with two contexts: `sandbox` (user1,
// the seeded objects) and `other` (same API server, user2, namespace user2-test, so user2's
// namespaces, where this suite creates an InferenceService only user2 has). Picking a context,
// browsing to a kubeconfig and going back to the default each show in the tree: the rows are the
// other user's. user2 is a real second identity on the kube-apiserver backend (a ServiceAccount
// with the workshop user's rights in user2's namespaces, which user1 cannot read); the embedded
// API server has no RBAC and one token, which then stands for both users.
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { EDIT_ROLE, VIEW_ROLE } from '../../../src/sandbox/kube-backend-setup';
import { adminToken, api, backend, row, sandbox, serviceRow, Stubs, until, type Api } from './canary-helpers';

const ONLY_USER2 = 'only-user2';

interface Kubeconfig {
  clusters: { name: string; cluster: { server: string; 'certificate-authority-data': string } }[];
  users: { name: string; user: { token: string } }[];
  contexts: { name: string; context: { cluster: string; user: string; namespace?: string } }[];
  'current-context': string;
}

/** Sends `body` to the sandbox API server with the kubeconfig's CA and `token`; answers the status and parsed body. */
function call(kc: Kubeconfig, token: string, method: string, apiPath: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const url = new URL(apiPath, kc.clusters[0]!.cluster.server);
  const ca = Buffer.from(kc.clusters[0]!.cluster['certificate-authority-data'], 'base64').toString('utf8');
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ca, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as unknown) : undefined }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** POSTs `body`; 409 (exists) is fine. Answers the created object. */
async function post(kc: Kubeconfig, token: string, apiPath: string, body: unknown): Promise<unknown> {
  const r = await call(kc, token, 'POST', apiPath, body);
  if (r.status !== 201 && r.status !== 200 && r.status !== 409) throw new Error(`POST ${apiPath}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/**
 * user2's namespaces (created with canary-helpers' adminToken) and token. Embedded: the sandbox's
 * one token stands for user2. kube-apiserver: a ServiceAccount user2 in user2-test bound to the
 * workshop roles as the sandbox binds user1 (edit in -test/-prod, view in -toolings) and a token
 * for it (TokenRequest).
 */
async function user2Token(kc: Kubeconfig): Promise<string> {
  const admin = adminToken();
  for (const ns of ['user2-test', 'user2-prod', 'user2-toolings'])
    await post(kc, admin, '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  if (backend() === 'embedded') return admin;
  await post(kc, admin, '/api/v1/namespaces/user2-test/serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'user2' } });
  for (const [ns, role] of [
    ['user2-test', EDIT_ROLE],
    ['user2-prod', EDIT_ROLE],
    ['user2-toolings', VIEW_ROLE],
  ] as const) {
    await post(kc, admin, `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: `user2-${role}` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
      subjects: [{ kind: 'ServiceAccount', name: 'user2', namespace: 'user2-test' }],
    });
  }
  const tr = (await post(kc, admin, '/api/v1/namespaces/user2-test/serviceaccounts/user2/token', {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { expirationSeconds: 3600 },
  })) as { status?: { token?: string } };
  assert.ok(tr.status?.token, `a token for user2: ${JSON.stringify(tr)}`);
  const denied = await call(kc, kc.users[0]!.user.token, 'GET', '/apis/serving.kserve.io/v1beta1/namespaces/user2-test/inferenceservices');
  assert.equal(denied.status, 403, 'user1 may not read user2-test on the real server');
  return tr.status.token;
}

describe('Select context / Select kubeconfig with two contexts', function () {
  this.timeout(180_000);
  let a: Api;
  let dir: string;
  let twoContexts: string;
  const stubs = new Stubs();
  const cfg = () => vscode.workspace.getConfiguration('kserveCanary');

  const user2Shown = async () => !!row(await a.rows(), ONLY_USER2, 'test');
  const user1Back = async () => a.connection()?.context === 'sandbox' && !(await user2Shown()) && (await serviceRow(a, 'test', 'jukebox'))?.description;

  before(async () => {
    a = await api();
    dir = mkdtempSync(path.join(os.tmpdir(), 'ksc-exthost-ctx-'));
    const kc = parseYaml(readFileSync(sandbox().kubeconfig, 'utf8')) as Kubeconfig;
    assert.equal(kc['current-context'], 'sandbox');
    const token2 = await user2Token(kc);
    const base = kc.contexts[0]!.context;
    kc.users.push({ name: 'user2', user: { token: token2 } });
    kc.contexts.push({ name: 'other', context: { cluster: base.cluster, user: 'user2', namespace: 'user2-test' } });
    twoContexts = path.join(dir, 'two-contexts.kubeconfig');
    writeFileSync(twoContexts, toYaml(kc), { mode: 0o600 });
    await post(kc, token2, '/apis/serving.kserve.io/v1beta1/namespaces/user2-test/inferenceservices', {
      apiVersion: 'serving.kserve.io/v1beta1',
      kind: 'InferenceService',
      metadata: { name: ONLY_USER2, namespace: 'user2-test' },
      spec: { predictor: { model: { modelFormat: { name: 'onnx' }, storageUri: 'oci://registry.invalid/user2/only:1' } } },
    });
    await until('the seeded tree (user1)', user1Back, 60_000);
  });
  afterEach(() => stubs.restore());
  after(async () => {
    await cfg().update('kubeconfig', undefined, vscode.ConfigurationTarget.Global);
    await cfg().update('context', undefined, vscode.ConfigurationTarget.Global);
    rmSync(dir, { recursive: true, force: true });
  });

  const pickLabel = (label: string, offered: { items: readonly vscode.QuickPickItem[] }[]) => {
    stubs.set(vscode.window, 'showQuickPick', (async (items: readonly vscode.QuickPickItem[] | Thenable<readonly vscode.QuickPickItem[]>) => {
      const list = await items;
      offered.push({ items: list });
      return list.find((i) => i.label === label);
    }) as unknown as typeof vscode.window.showQuickPick);
  };

  it("Select context offers both contexts and picking `other` switches the tree to user2's objects; picking `sandbox` switches back", async () => {
    await vscode.commands.executeCommand('kserveCanary.selectKubeconfig', twoContexts);
    await until('connected through the two-context kubeconfig, still user1', user1Back, 60_000);
    assert.equal(await user2Shown(), false, "user2's InferenceService is not in user1's tree");

    const offered: { items: readonly vscode.QuickPickItem[] }[] = [];
    pickLabel('other', offered);
    await vscode.commands.executeCommand('kserveCanary.selectContext');
    assert.equal(offered.length, 1);
    assert.deepEqual(offered[0]!.items.map((i) => i.label).sort(), ['other', 'sandbox']);
    assert.match(offered[0]!.items.find((i) => i.label === 'sandbox')!.description ?? '', /user1-test.*\(active\)/);
    assert.doesNotMatch(offered[0]!.items.find((i) => i.label === 'other')!.description ?? '', /active/);
    assert.equal(cfg().get('context'), 'other');
    await until("the tree showing user2's InferenceService", user2Shown, 60_000);
    assert.equal(a.connection()?.context, 'other');
    assert.ok(
      a.services().every((s) => s.namespace.startsWith('user2-')),
      `only user2's namespaces: ${a
        .services()
        .map((s) => s.key)
        .join(', ')}`,
    );

    pickLabel('sandbox', offered);
    await vscode.commands.executeCommand('kserveCanary.selectContext');
    assert.match(offered[1]!.items.find((i) => i.label === 'other')!.description ?? '', /user2-test.*\(active\)/);
    await until("user1's tree back", user1Back, 60_000);
  });

  it('Select kubeconfig → Browse… uses the file picked in the open dialog (its current-context), and → Use the default goes back', async () => {
    const kc = parseYaml(readFileSync(twoContexts, 'utf8')) as Kubeconfig;
    kc['current-context'] = 'other';
    const browsed = path.join(dir, 'browsed.kubeconfig');
    writeFileSync(browsed, toYaml(kc), { mode: 0o600 });
    await cfg().update('kubeconfig', undefined, vscode.ConfigurationTarget.Global);
    await until('the default kubeconfig (user1)', user1Back, 60_000);

    const offered: { items: readonly vscode.QuickPickItem[] }[] = [];
    pickLabel('Browse…', offered);
    const dialogs: vscode.OpenDialogOptions[] = [];
    stubs.set(vscode.window, 'showOpenDialog', (async (o?: vscode.OpenDialogOptions) => {
      dialogs.push(o ?? {});
      return [vscode.Uri.file(browsed)];
    }) as typeof vscode.window.showOpenDialog);
    await vscode.commands.executeCommand('kserveCanary.selectKubeconfig');
    assert.deepEqual(
      offered[0]!.items.map((i) => i.label),
      ['Browse…', 'Use the default'],
    );
    assert.equal(dialogs.length, 1, 'the open dialog was shown once');
    assert.equal(dialogs[0]!.canSelectMany, false);
    assert.equal(cfg().get('kubeconfig'), browsed);
    await until('the tree from the browsed kubeconfig (current-context other)', user2Shown, 60_000);
    assert.equal(a.connection()?.context, 'other');

    // A cancelled open dialog changes nothing.
    stubs.set(vscode.window, 'showOpenDialog', (async () => undefined) as typeof vscode.window.showOpenDialog);
    await vscode.commands.executeCommand('kserveCanary.selectKubeconfig');
    assert.equal(cfg().get('kubeconfig'), browsed);

    pickLabel('Use the default', offered);
    await vscode.commands.executeCommand('kserveCanary.selectKubeconfig');
    assert.equal(cfg().inspect('kubeconfig')?.globalValue, undefined, 'the setting is cleared');
    assert.equal(process.env.KUBECONFIG, sandbox().kubeconfig, "the default is $KUBECONFIG: the sandbox's");
    await until("user1's tree back through $KUBECONFIG", user1Back, 60_000);
  });
});
