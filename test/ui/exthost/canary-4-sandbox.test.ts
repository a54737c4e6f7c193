// "Start sandbox": a second sandbox in its own process; the view follows it. "Stop sandbox"
// ends that process, and the view falls back to the default kubeconfig (the harness's sandbox).
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { api, sandbox, serviceRow, Stubs, until, type Api } from './canary-helpers';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('Start sandbox', () => {
  let a: Api;
  const stubs = new Stubs();
  let pid: number | undefined;
  before(async () => {
    a = await api();
  });
  after(async () => {
    stubs.restore();
    if (pid && alive(pid)) process.kill(pid, 'SIGTERM');
  });

  it('starts a sandbox process, shows its cluster; Stop sandbox ends it and the view falls back', async function () {
    // Starting a second cluster (TLS material, git repo, seeding) takes a while on a loaded machine.
    this.timeout(180_000);
    const infos: string[] = [];
    stubs.set(vscode.window, 'showInformationMessage', (async (m: string) => {
      infos.push(m);
      return undefined;
    }) as typeof vscode.window.showInformationMessage);
    const info = (await vscode.commands.executeCommand('kserveCanary.startSandbox')) as { server: string; pid: number } | undefined;
    assert.ok(info && info.pid > 0, 'the command returns the sandbox it started');
    pid = info.pid;
    assert.notEqual(info.server, sandbox().server, 'a second sandbox, not the harness one');
    await until(
      'the view on the new sandbox',
      async () => a.connection()?.server === info.server && a.state() === 'ok' && (await serviceRow(a, 'test', 'jukebox'))?.description,
    );
    // A freshly seeded cluster; git is still the workspace's checkout (earlier suites may have
    // changed it), so the description may also say where git wants it to go.
    assert.match((await serviceRow(a, 'test', 'jukebox'))?.description ?? '', /^prev 80% · latest 20%/, 'a freshly seeded cluster');
    assert.ok(
      infos.some((m) => m.includes(info.server)),
      JSON.stringify(infos),
    );

    assert.equal(await vscode.commands.executeCommand('kserveCanary.stopSandbox'), true, 'Stop sandbox stopped one');
    assert.ok(!alive(info.pid), 'the process has exited when the command resolves');
    assert.ok(
      infos.some((m) => /sandbox has stopped/.test(m)),
      JSON.stringify(infos),
    );
    assert.equal(await vscode.commands.executeCommand('kserveCanary.stopSandbox'), false, 'nothing left to stop');
    await until(
      'the view back on the default kubeconfig',
      async () => a.connection()?.server === sandbox().server && a.state() === 'ok' && (await serviceRow(a, 'test', 'jukebox'))?.description,
      60_000,
    );
  });
});
