// Failures of the git side as the user sees them: a push the remote's pre-receive hook declines
// (a protected branch) gives an error notification with the classified message, "Propose a pull
// request" and "Show log", nothing lands on the remote and the local branch is as it was; push mode "commit" commits locally and says it did not push. Last suite: it leaves
// local commits that are not on the remote.
import * as assert from 'node:assert/strict';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { api, git, keyOf, remoteCommits, sandbox, serviceRow, Stubs, until, type Api } from './canary-helpers';

describe('publish failures', function () {
  // Each test waits on git, Argo CD and KServe round trips: generous on a loaded machine.
  this.timeout(150_000);
  let a: Api;
  const stubs = new Stubs();
  const hook = () => path.join(sandbox().gitopsRemote, 'hooks', 'pre-receive');
  before(async () => {
    a = await api();
    await until('jukebox in test', async () => (await serviceRow(a, 'test', 'jukebox'))?.description);
  });
  afterEach(async () => {
    stubs.restore();
    rmSync(hook(), { force: true });
    await vscode.workspace.getConfiguration('kserveCanary').update('pushMode', undefined, vscode.ConfigurationTarget.Global);
  });

  function answer(value: string): void {
    stubs.set(vscode.window, 'showInputBox', (async () => value) as typeof vscode.window.showInputBox);
  }

  it('a push the remote refuses: error notification with the reason, "Propose a pull request" and "Show log", nothing on the remote', async () => {
    writeFileSync(hook(), '#!/bin/sh\necho "pushes are frozen for the release" >&2\nexit 1\n');
    chmodSync(hook(), 0o755);
    const before = await remoteCommits();
    const head = (await git(['rev-parse', 'HEAD'], sandbox().gitopsClone)).trim();
    const errors: { message: string; items: string[] }[] = [];
    stubs.set(vscode.window, 'showErrorMessage', (async (message: string, ...items: unknown[]) => {
      errors.push({ message, items: items.filter((i): i is string => typeof i === 'string') });
      return undefined;
    }) as typeof vscode.window.showErrorMessage);
    answer('30');
    await vscode.commands.executeCommand('kserveCanary.setTraffic', keyOf(a, 'test', 'jukebox'));
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.match(errors[0]!.message, /^Set canary traffic: /);
    assert.match(errors[0]!.message, /refused|rejected/i, 'the classified reason, not a raw stack');
    // a hook's decline of main is a protected branch: the pull-request path is offered (issue 15)
    assert.deepEqual(errors[0]!.items, ['Propose a pull request', 'Show log']);
    assert.equal(await remoteCommits(), before, 'nothing on the remote');
    assert.equal((await git(['rev-parse', 'HEAD'], sandbox().gitopsClone)).trim(), head, 'our commit is taken back: the branch is as it was');
  });

  it('push mode "commit": commits locally, says it did not push, the remote is unchanged', async () => {
    await vscode.workspace.getConfiguration('kserveCanary').update('pushMode', 'commit', vscode.ConfigurationTarget.Global);
    await until('the setting', () => vscode.workspace.getConfiguration('kserveCanary').get('pushMode') === 'commit');
    const before = await remoteCommits();
    const infos: string[] = [];
    stubs.set(vscode.window, 'showInformationMessage', (async (m: string) => {
      infos.push(m);
      return undefined;
    }) as typeof vscode.window.showInformationMessage);
    answer('40');
    await vscode.commands.executeCommand('kserveCanary.setTraffic', keyOf(a, 'test', 'jukebox'));
    assert.ok(
      infos.some((m) => /committed [0-9a-f]{7}.*Not pushed/.test(m)),
      JSON.stringify(infos),
    );
    assert.equal(await remoteCommits(), before);
    assert.match(await git(['log', '-1', '--format=%s'], sandbox().gitopsClone), /40%/);
  });
});
