// VS Code's real restricted mode (no test hook): run by `node scripts/test-exthost.mjs --restricted`,
// which starts code-server with workspace trust on, so the sandbox clone, trusted by nobody,
// opens untrusted. Writing commands refuse with nothing committed, and the restricted settings
// of .vscode/settings.json are ignored (by VS Code and by the extension) while others apply.
// Skipped in the ordinary run, where code-server starts with --disable-workspace-trust.
import * as assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { api, keyOf, remoteCommits, sandbox, serviceRow, Stubs, until, type Api } from './canary-helpers';

describe('restricted mode (workspace not trusted by code-server)', function () {
  this.timeout(120_000);
  let a: Api;
  const stubs = new Stubs();
  before(async function () {
    if (process.env.KSC_EXTHOST_RESTRICTED !== '1') this.skip();
    a = await api();
    await until('jukebox in test', async () => (await serviceRow(a, 'test', 'jukebox'))?.description, 60_000);
  });
  afterEach(() => stubs.restore());

  it('the workspace really is untrusted: VS Code says so, with trust enabled', () => {
    assert.equal(vscode.workspace.isTrusted, false, 'code-server was started with workspace trust and nothing trusts this folder');
  });

  it('every writing command refuses with a "not trusted" warning, asks for nothing and commits nothing', async () => {
    const before = await remoteCommits();
    const warned: string[] = [];
    let asked = 0;
    stubs.set(vscode.window, 'showWarningMessage', (async (m: string, ...rest: unknown[]) => {
      const o = rest[0] as vscode.MessageOptions | undefined;
      if (typeof o === 'object' && o?.modal) asked++;
      warned.push(m);
      return undefined;
    }) as typeof vscode.window.showWarningMessage);
    stubs.set(vscode.window, 'showInputBox', (async () => {
      asked++;
      return '50';
    }) as typeof vscode.window.showInputBox);
    const key = keyOf(a, 'test', 'jukebox');
    const commands = ['kserveCanary.setTraffic', 'kserveCanary.promote', 'kserveCanary.rollback', 'kserveCanary.startRollout', 'kserveCanary.sendTraffic'];
    for (const c of commands) await vscode.commands.executeCommand(c, key);
    assert.equal(asked, 0, 'no input box, no confirmation');
    assert.equal(warned.length, commands.length, JSON.stringify(warned));
    for (const w of warned) assert.match(w, /not trusted/);
    assert.equal(await remoteCommits(), before);
  });

  it('restricted settings from .vscode/settings.json are ignored; an unrestricted one applies', async () => {
    const dir = path.join(sandbox().gitopsClone, '.vscode');
    mkdirSync(dir, { recursive: true });
    const cfg = () => vscode.workspace.getConfiguration('kserveCanary');
    try {
      writeFileSync(
        path.join(dir, 'settings.json'),
        `${JSON.stringify(
          {
            'kserveCanary.user': 'user2',
            'kserveCanary.kubeconfig': '/nonexistent/kubeconfig',
            'kserveCanary.context': 'elsewhere',
            'kserveCanary.rollout.steps': '10,100',
          },
          null,
          2,
        )}\n`,
      );
      // The file is read: the unrestricted setting shows up.
      await until('the workspace settings read', () => cfg().inspect('rollout.steps')?.workspaceValue === '10,100');
      // VS Code itself leaves restricted values of an untrusted workspace out, even of inspect().
      for (const k of ['user', 'kubeconfig', 'context']) assert.equal(cfg().inspect(k)?.workspaceValue, undefined, k);
      assert.notEqual(cfg().get('user'), 'user2');
      const s = a.settings();
      assert.equal(s.user, '');
      assert.equal(s.kubeconfig, '');
      assert.equal(s.context, '');
      assert.equal(s.rolloutSteps, '10,100');
      // The settings change makes the extension reconnect: wait for it, through the sandbox context still.
      await until(
        'reconnected through the sandbox context',
        async () => a.state() === 'ok' && a.connection()?.context === 'sandbox' && (await serviceRow(a, 'test', 'jukebox'))?.description,
        60_000,
      );
      assert.ok(
        a.services().every((x) => x.namespace.startsWith('user1-')),
        a
          .services()
          .map((x) => x.key)
          .join(', '),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
