// Progressive rollout and test traffic commands against the sandbox (started without
// inference endpoints and without Prometheus): the rollout runs without metric gates, one
// commit per step on the sandbox's remote. Inputs are injected by stubbing vscode.window.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { api, git, keyOf, remoteCommits, sandbox, serviceRow, Stubs, until, type Api } from './canary-helpers';

describe('KServe Canary progressive rollout', function () {
  this.timeout(240_000);
  let a: Api;
  const stubs = new Stubs();
  const cfg = () => vscode.workspace.getConfiguration('kserveCanary');
  before(async () => {
    a = await api();
    await until('jukebox in test', async () => (await serviceRow(a, 'test', 'jukebox'))?.description);
  });
  afterEach(async () => {
    stubs.restore();
    a.setTrustOverride(undefined);
    for (const k of ['rollout.steps', 'rollout.pause']) await cfg().update(k, undefined, vscode.ConfigurationTarget.Global);
  });

  it('is refused in an untrusted workspace, with nothing committed', async () => {
    const before = await remoteCommits();
    const warned: string[] = [];
    stubs.set(vscode.window, 'showWarningMessage', (async (m: string) => {
      warned.push(m);
      return undefined;
    }) as typeof vscode.window.showWarningMessage);
    a.setTrustOverride(false);
    await vscode.commands.executeCommand('kserveCanary.startRollout', keyOf(a, 'test', 'jukebox'));
    assert.equal(warned.length, 1, JSON.stringify(warned));
    assert.match(warned[0]!, /not trusted/);
    assert.equal(await remoteCommits(), before);
  });

  it('a 2-step plan (50,100 with 1s pauses) without Prometheus: modal naming the steps, two commits, latest 100% at the end', async () => {
    // A known start: rolled back to 0%.
    await vscode.commands.executeCommand('kserveCanary.rollback', keyOf(a, 'test', 'jukebox'));
    await until('the tree at 100/0', async () => (await serviceRow(a, 'test', 'jukebox'))?.description === 'prev 100% · latest 0%');
    await cfg().update('rollout.steps', '50,100', vscode.ConfigurationTarget.Global);
    await cfg().update('rollout.pause', '1s', vscode.ConfigurationTarget.Global);
    const before = await remoteCommits();
    const asked: { message: string; modal: boolean; detail: string }[] = [];
    stubs.set(vscode.window, 'showWarningMessage', (async (message: string, ...rest: unknown[]) => {
      const opts = rest[0] as vscode.MessageOptions | undefined;
      const modal = typeof opts === 'object' && opts !== null && opts.modal === true;
      asked.push({ message, modal, detail: modal ? (opts.detail ?? '') : '' });
      return modal ? 'Start rollout' : undefined;
    }) as typeof vscode.window.showWarningMessage);
    const result = (await vscode.commands.executeCommand('kserveCanary.startRollout', keyOf(a, 'test', 'jukebox'))) as { outcome: string; commits: unknown[] } | undefined;
    assert.equal(asked.length, 1, JSON.stringify(asked));
    assert.equal(asked[0]!.modal, true);
    assert.match(asked[0]!.message, /jukebox in test/);
    assert.match(asked[0]!.message, /50/);
    assert.match(asked[0]!.message, /100/);
    assert.match(asked[0]!.detail, /No metric gates/);
    assert.equal(result?.outcome, 'completed', JSON.stringify(result));
    assert.equal(await remoteCommits(), before + 2, 'one commit per step on the remote');
    const messages = (await git(['--git-dir', sandbox().gitopsRemote, 'log', '-2', '--format=%B%x00', 'main'])).split('\0').map((m) => m.trim()).filter(Boolean);
    assert.equal(messages.length, 2);
    for (const m of messages) assert.match(m, /Canary-Rollout:/, m);
    await until('the tree at latest 100%', async () => (await serviceRow(a, 'test', 'jukebox'))?.description === 'latest 100%');
  });

  it('Send test traffic validates the rate and the duration; a cancelled input sends nothing', async () => {
    const validators: NonNullable<vscode.InputBoxOptions['validateInput']>[] = [];
    let calls = 0;
    stubs.set(vscode.window, 'showInputBox', (async (o?: vscode.InputBoxOptions) => {
      if (o?.validateInput) validators.push(o.validateInput);
      calls++;
      return calls === 1 ? '5' : undefined;
    }) as typeof vscode.window.showInputBox);
    const res = await vscode.commands.executeCommand('kserveCanary.sendTraffic', keyOf(a, 'test', 'jukebox'));
    assert.equal(res, undefined);
    assert.equal(validators.length, 2, 'rate and duration inputs, both validated');
    const text = async (i: number, v: string) => {
      const m = await validators[i]!(v);
      return typeof m === 'string' ? m : m?.message;
    };
    for (const bad of ['abc', '0', '-1', '', '100000']) assert.ok(await text(0, bad), `rate ${JSON.stringify(bad)} must be refused`);
    for (const good of ['1', '10', '0.5']) assert.ok(!(await text(0, good)), `rate ${good} must be accepted`);
    for (const bad of ['abc', '0s', '', '10 parsecs']) assert.ok(await text(1, bad), `duration ${JSON.stringify(bad)} must be refused`);
    for (const good of ['30s', '2m']) assert.ok(!(await text(1, good)), `duration ${good} must be accepted`);
  });
});
