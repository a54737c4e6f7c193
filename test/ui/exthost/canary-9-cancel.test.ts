// Cancelling from the progress notification: a publish cancelled between its commit and its push
// takes the commit back (nothing on the remote, the clone as it was), and a rollout cancelled
// while it watches a step stops there (one commit, no further step).
// The notification's Cancel button cannot be clicked from the extension host, so
// vscode.window.withProgress is replaced by one that hands the command a token this suite cancels:
// the same token the real notification would cancel. The suite also checks the notification is
// offered as cancellable.
import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { api, git, keyOf, remoteCommits, sandbox, serviceRow, Stubs, until, type Api } from './canary-helpers';

/** Replaces withProgress: the task runs with `cts.token`; `onReport` sees every progress message. */
function cancellableProgress(stubs: Stubs, cts: vscode.CancellationTokenSource, onReport: (message: string) => void): { cancellable: boolean[] } {
  const seen = { cancellable: [] as boolean[] };
  stubs.set(vscode.window, 'withProgress', ((
    options: vscode.ProgressOptions,
    task: (p: vscode.Progress<{ message?: string }>, t: vscode.CancellationToken) => Thenable<unknown>,
  ) => {
    seen.cancellable.push(options.cancellable === true);
    return Promise.resolve(
      task(
        {
          report: (u) => {
            if (u.message) onReport(u.message);
          },
        },
        cts.token,
      ),
    );
  }) as typeof vscode.window.withProgress);
  return seen;
}

const cfg = () => vscode.workspace.getConfiguration('kserveCanary');

describe('cancelling from the progress notification', function () {
  this.timeout(240_000);
  const stubs = new Stubs();
  let a: Api;
  before(async () => {
    a = await api();
    await until('the seeded jukebox row in test', () => serviceRow(a, 'test', 'jukebox').then((r) => r?.description));
  });
  afterEach(async () => {
    stubs.restore();
    for (const k of ['rollout.steps', 'rollout.pause']) await cfg().update(k, undefined, vscode.ConfigurationTarget.Global);
  });

  it('a publish cancelled after its commit takes the commit back: nothing on the remote, the clone as it was', async () => {
    const clone = sandbox().gitopsClone;
    const hooks = path.resolve(clone, await git(['rev-parse', '--git-path', 'hooks'], clone));
    mkdirSync(hooks, { recursive: true });
    const hook = path.join(hooks, 'pre-commit');
    const started = path.join(hooks, 'ksc-started');
    const release = path.join(hooks, 'ksc-release');
    // The commit waits for the suite: it has begun once `started` exists, and ends once `release` does.
    writeFileSync(hook, `#!/bin/sh\ntouch '${started}'\nwhile [ ! -f '${release}' ]; do sleep 0.05; done\nexit 0\n`, { mode: 0o755 });
    const headBefore = await git(['rev-parse', 'HEAD'], clone);
    const remoteBefore = await remoteCommits();
    const current = (await serviceRow(a, 'test', 'jukebox'))?.description ?? '';
    const percent = current.includes('latest 37%') ? '38' : '37';
    const errors: string[] = [];
    stubs.set(vscode.window, 'showErrorMessage', (async (m: string) => {
      errors.push(m);
      return undefined;
    }) as typeof vscode.window.showErrorMessage);
    stubs.set(vscode.window, 'showInputBox', (async () => percent) as typeof vscode.window.showInputBox);
    const cts = new vscode.CancellationTokenSource();
    const seen = cancellableProgress(stubs, cts, () => undefined);
    try {
      const run = vscode.commands.executeCommand('kserveCanary.setTraffic', keyOf(a, 'test', 'jukebox'));
      await until('the commit under way (pre-commit hook running)', () => existsSync(started), 60_000);
      cts.cancel();
      writeFileSync(release, '');
      await run;
    } finally {
      for (const f of [hook, started, release]) rmSync(f, { force: true });
      cts.dispose();
    }
    assert.deepEqual(seen.cancellable, [true], 'one progress notification, offered with Cancel');
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.match(errors[0]!, /Cancelled before pushing: the commit was taken back/);
    assert.equal(await remoteCommits(), remoteBefore, 'nothing reached the remote');
    assert.equal(await git(['rev-parse', 'HEAD'], clone), headBefore, "the clone's HEAD is where it was");
    assert.equal(await git(['status', '--porcelain', '--', 'model-deployments'], clone), '', 'config.yaml as it was');
  });

  it('a rollout cancelled while it watches step 1 stops there: one commit, outcome "stopped", no step 2', async () => {
    await cfg().update('rollout.steps', '50,100', vscode.ConfigurationTarget.Global);
    await cfg().update('rollout.pause', '10m', vscode.ConfigurationTarget.Global);
    stubs.set(vscode.window, 'showWarningMessage', (async (_m: string, ...rest: unknown[]) => {
      const opts = rest[0] as vscode.MessageOptions | undefined;
      return typeof opts === 'object' && opts !== null && opts.modal === true ? 'Start rollout' : undefined;
    }) as typeof vscode.window.showWarningMessage);
    await vscode.commands.executeCommand('kserveCanary.rollback', keyOf(a, 'test', 'jukebox'));
    await until('the tree at 100/0', async () => (await serviceRow(a, 'test', 'jukebox'))?.description === 'prev 100% · latest 0%');
    const before = await remoteCommits();
    const messages: string[] = [];
    const cts = new vscode.CancellationTokenSource();
    const seen = cancellableProgress(stubs, cts, (m) => {
      messages.push(m);
      // The 10 minute pause of step 1 has begun: cancel as the user would.
      if (/step 1\/2: .*watching for/i.test(m)) cts.cancel();
    });
    try {
      const result = (await vscode.commands.executeCommand('kserveCanary.startRollout', keyOf(a, 'test', 'jukebox'))) as
        { outcome: string; step: number } | undefined;
      assert.deepEqual(seen.cancellable, [true], 'the rollout notification offers Cancel');
      assert.ok(cts.token.isCancellationRequested, `never reached the pause of step 1: ${JSON.stringify(messages)}`);
      assert.equal(result?.outcome, 'stopped', JSON.stringify(result));
      assert.equal(result.step, 1);
    } finally {
      cts.dispose();
    }
    assert.equal(await remoteCommits(), before + 1, 'the 50% step only');
    assert.match(await git(['--git-dir', sandbox().gitopsRemote, 'show', 'main:model-deployments/test/jukebox/config.yaml']), /trafficPercent: 50\b/);
    await until('the tree at latest 50%', async () => /latest 50%/.test((await serviceRow(a, 'test', 'jukebox'))?.description ?? ''));
  });
});
