// Losing the cluster and getting it back: a kubeconfig pointing at a closed port (chosen
// through "Select kubeconfig") empties the tree into the "cannot be reached" welcome view,
// and going back to the sandbox's kubeconfig brings the rows back.
import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import { api, sandbox, serviceRow, Stubs, until, type Api } from './canary-helpers';

function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

describe('connection loss', function () {
  // Each test waits on git, Argo CD and KServe round trips: generous on a loaded machine.
  this.timeout(150_000);
  let a: Api;
  let dir: string;
  const stubs = new Stubs();
  before(async () => {
    a = await api();
    dir = mkdtempSync(path.join(os.tmpdir(), 'ksc-exthost-'));
  });
  after(async () => {
    stubs.restore();
    const cfg = vscode.workspace.getConfiguration('kserveCanary');
    await cfg.update('kubeconfig', undefined, vscode.ConfigurationTarget.Global);
    await cfg.update('gitopsRoot', undefined, vscode.ConfigurationTarget.Global);
    await cfg.update('context', undefined, vscode.ConfigurationTarget.Global);
    rmSync(dir, { recursive: true, force: true });
  });

  const backToNormal = async () => {
    await until('the rows back', async () => a.state() === 'ok' && (await serviceRow(a, 'test', 'jukebox'))?.description, 60_000);
  };

  it('an unreachable cluster shows the welcome content, once notified, and the tree recovers', async () => {
    const warnings: string[] = [];
    stubs.set(vscode.window, 'showWarningMessage', (async (m: string) => {
      warnings.push(m);
      return undefined;
    }) as typeof vscode.window.showWarningMessage);
    const port = await closedPort();
    const kubeconfig = path.join(dir, 'unreachable.kubeconfig');
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        `- name: gone\n  cluster:\n    server: https://127.0.0.1:${port}`,
        'users:',
        '- name: someone\n  user:\n    token: not-a-real-token',
        'contexts:',
        '- name: gone\n  context:\n    cluster: gone\n    user: someone\n    namespace: user1-test',
        'current-context: gone',
        '',
      ].join('\n'),
    );
    await vscode.commands.executeCommand('kserveCanary.selectKubeconfig', kubeconfig);
    await until('the unreachable welcome state', () => a.state() === 'unreachable', 60_000);
    assert.deepEqual(await a.rows(), [], 'no rows: the welcome content shows');
    assert.equal(a.connection()?.phase, 'disconnected');
    await until('one warning about the cluster', () => warnings.length >= 1);
    assert.ok(
      warnings.every((w) => !w.includes('not-a-real-token')),
      'no token in notifications',
    );

    await vscode.commands.executeCommand('kserveCanary.selectKubeconfig', '');
    await backToNormal();
    assert.equal(warnings.length, 1, `one notification per episode: ${JSON.stringify(warnings)}`);
  });

  it('credentials the cluster refuses show the "not logged in" welcome, and no token anywhere', async () => {
    const warnings: string[] = [];
    stubs.set(vscode.window, 'showWarningMessage', (async (m: string) => {
      warnings.push(m);
      return undefined;
    }) as typeof vscode.window.showWarningMessage);
    const stale = 'sha256~expired-token-0123456789';
    const text = readFileSync(sandbox().kubeconfig, 'utf8').replace(/(token:\s*)\S+/, `$1${stale}`);
    assert.ok(text.includes(stale), 'the sandbox kubeconfig holds a token');
    const kubeconfig = path.join(dir, 'expired.kubeconfig');
    writeFileSync(kubeconfig, text);
    await vscode.commands.executeCommand('kserveCanary.selectKubeconfig', kubeconfig);
    await until('the unauthorized welcome state', () => a.state() === 'unauthorized', 60_000);
    assert.deepEqual(await a.rows(), []);
    await until('a warning', () => warnings.length >= 1);
    for (const w of warnings) assert.ok(!w.includes(stale), `token in a notification: ${w}`);
    await vscode.commands.executeCommand('kserveCanary.selectKubeconfig', '');
    await backToNormal();
  });

  it('a kubeconfig that is missing shows the "no kubeconfig" welcome, and the tree recovers', async () => {
    stubs.set(vscode.window, 'showWarningMessage', (async () => undefined) as typeof vscode.window.showWarningMessage);
    await vscode.commands.executeCommand('kserveCanary.selectKubeconfig', path.join(dir, 'no-such.kubeconfig'));
    await until('the no-kubeconfig welcome state', () => a.state() === 'no-kubeconfig', 60_000);
    assert.deepEqual(await a.rows(), [], 'no rows: the welcome content shows');
    await vscode.commands.executeCommand('kserveCanary.selectKubeconfig', '');
    await backToNormal();
  });

  it('a user setting that makes no valid namespace shows the "invalid settings" welcome, asks nothing of the cluster, and recovers', async () => {
    stubs.set(vscode.window, 'showWarningMessage', (async () => undefined) as typeof vscode.window.showWarningMessage);
    const config = vscode.workspace.getConfiguration('kserveCanary');
    await config.update('user', 'Not A Label', vscode.ConfigurationTarget.Workspace);
    try {
      await until('the invalid-settings welcome state', () => a.state() === 'invalid-settings', 60_000);
      assert.deepEqual(await a.rows(), []);
      assert.equal(a.connection()?.problem?.kind, 'invalid-settings');
    } finally {
      await config.update('user', undefined, vscode.ConfigurationTarget.Workspace);
    }
    await backToNormal();
  });

  it('no gitops checkout shows the "open folder" welcome', async () => {
    const empty = path.join(dir, 'not-a-checkout');
    mkdirSync(empty);
    await vscode.workspace.getConfiguration('kserveCanary').update('gitopsRoot', empty, vscode.ConfigurationTarget.Global);
    await until('the no-gitops welcome state', () => a.state() === 'no-gitops');
    assert.deepEqual(await a.rows(), []);
    assert.equal(a.gitopsRoot(), undefined);
    await vscode.workspace.getConfiguration('kserveCanary').update('gitopsRoot', undefined, vscode.ConfigurationTarget.Global);
    await backToNormal();
  });
});
