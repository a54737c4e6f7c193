// "Start progressive rollout" in pull-request mode (kserveCanary.pullRequestEnvironments) against
// the sandbox: each step is a proposal branch, the progress says it waits for the merge, a
// notification offers "Open pull request" (the page opens through the URL check), the suite merges
// the branch as a forge would and the sandbox's Argo CD picks it up; cancelling while a step waits
// stops the run, names the open pull request and leaves the workspace clone as it was.
// The workspace clone's remote is given a GitHub address (insteadOf to the sandbox's bare repo).
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import { api, git, keyOf, sandbox, serviceRow, Stubs, until, type Api } from './canary-helpers';

const GITHUB = 'https://github.com/acme/gitops.git';
const cfg = () => vscode.workspace.getConfiguration('kserveCanary');

/** The forge's merge button: the branch merged into main with a merge commit, then deleted. */
async function merge(branch: string): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ksc-exthost-forge-'));
  try {
    await git(['clone', '--quiet', sandbox().gitopsRemote, dir]);
    await git(['merge', '-q', '--no-ff', '-m', `Merge pull request from ${branch}`, `origin/${branch}`], dir);
    await git(['push', '-q', 'origin', 'main', `:${branch}`], dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('KServe Canary progressive rollout through pull requests', function () {
  this.timeout(240_000);
  let a: Api;
  let originalUrl = '';
  const stubs = new Stubs();
  const clone = () => sandbox().gitopsClone;
  const branches = async () =>
    (await git(['--git-dir', sandbox().gitopsRemote, 'for-each-ref', '--format=%(refname:short)', 'refs/heads/canary'])).split('\n').filter(Boolean);
  const state = async () => ({
    head: await git(['rev-parse', 'HEAD'], clone()),
    status: await git(['status', '--porcelain=v1', '--untracked-files=all'], clone()),
    index: readFileSync(path.join(clone(), '.git', 'index')).toString('base64'),
    heads: await git(['for-each-ref', '--format=%(refname) %(objectname)', 'refs/heads'], clone()),
  });
  /** Runs the command with the modal answered, and withProgress handing it `cts`'s token. */
  async function start(cts: vscode.CancellationTokenSource, progress: string[], details: string[]) {
    stubs.set(vscode.window, 'showWarningMessage', (async (_m: string, ...rest: unknown[]) => {
      const opts = rest[0] as vscode.MessageOptions | undefined;
      if (opts?.modal) details.push(opts.detail ?? '');
      return opts?.modal ? 'Start rollout' : undefined;
    }) as typeof vscode.window.showWarningMessage);
    stubs.set(vscode.window, 'withProgress', ((
      o: vscode.ProgressOptions,
      task: (p: vscode.Progress<{ message?: string }>, t: vscode.CancellationToken) => Thenable<unknown>,
    ) => {
      assert.equal(o.cancellable, true);
      return Promise.resolve(task({ report: (u) => void (u.message && progress.push(u.message)) }, cts.token));
    }) as typeof vscode.window.withProgress);
    return (await vscode.commands.executeCommand('kserveCanary.startRollout', keyOf(a, 'test', 'jukebox'))) as { outcome: string; reason: string } | undefined;
  }

  before(async () => {
    a = await api();
    await until('jukebox in test', async () => (await serviceRow(a, 'test', 'jukebox'))?.description);
    // a known start, pushed as usual: rolled back to 0%
    await vscode.commands.executeCommand('kserveCanary.rollback', keyOf(a, 'test', 'jukebox'));
    await until('the tree at 100/0', async () => (await serviceRow(a, 'test', 'jukebox'))?.description === 'prev 100% · latest 0%');
    originalUrl = await git(['config', '--get', 'remote.origin.url'], clone());
    await git(['config', 'remote.origin.url', GITHUB], clone());
    await git(['config', `url.${sandbox().gitopsRemote}.insteadOf`, GITHUB], clone());
    await cfg().update('pullRequestEnvironments', ['test'], vscode.ConfigurationTarget.Global);
    await cfg().update('rollout.pause', '1s', vscode.ConfigurationTarget.Global);
  });
  afterEach(() => stubs.restore());
  after(async () => {
    for (const k of ['pullRequestEnvironments', 'rollout.steps', 'rollout.pause']) await cfg().update(k, undefined, vscode.ConfigurationTarget.Global);
    await git(['config', 'remote.origin.url', originalUrl], clone());
    await git(['config', '--unset', `url.${sandbox().gitopsRemote}.insteadOf`], clone());
  });

  it('each step waits for its merge with an "Open pull request" button; merged, it is followed and the next one is proposed', async () => {
    await cfg().update('rollout.steps', '40,100', vscode.ConfigurationTarget.Global);
    const before = await state();
    const offered: { message: string; buttons: unknown[] }[] = [];
    const opened: string[] = [];
    stubs.set(vscode.env, 'openExternal', (async (u: vscode.Uri) => {
      opened.push(u.toString(true));
      return true;
    }) as typeof vscode.env.openExternal);
    stubs.set(vscode.window, 'showInformationMessage', (async (message: string, ...buttons: unknown[]) => {
      offered.push({ message, buttons });
      const branch = /proposed as (canary\/\S+) into main/.exec(message)?.[1];
      if (!branch) return undefined;
      await merge(branch);
      return 'Open pull request';
    }) as typeof vscode.window.showInformationMessage);
    const progress: string[] = [];
    const details: string[] = [];
    const result = await start(new vscode.CancellationTokenSource(), progress, details);
    assert.equal(result?.outcome, 'completed', JSON.stringify(result));
    assert.match(details[0] ?? '', /Each step is a pull request/);
    const asks = offered.filter((o) => o.buttons.includes('Open pull request'));
    assert.deepEqual(
      asks.map((o) => /proposed as (\S+)/.exec(o.message)?.[1]),
      ['canary/test-jukebox-40', 'canary/test-jukebox-promote'],
    );
    assert.ok(progress.includes('step 1/2: waiting for the merge of canary/test-jukebox-40 into main'), progress.join('\n'));
    await until('both pages opened', () => opened.length === 2);
    assert.deepEqual(
      opened,
      ['canary/test-jukebox-40', 'canary/test-jukebox-promote'].map((b) => `https://github.com/acme/gitops/compare/main...${b}?expand=1`),
    );
    assert.deepEqual(
      await git(['--git-dir', sandbox().gitopsRemote, 'log', '-2', '--first-parent', '--format=%s', 'main']),
      'Merge pull request from canary/test-jukebox-promote\nMerge pull request from canary/test-jukebox-40',
    );
    assert.deepEqual(await state(), before, 'the workspace clone is as it was');
    // the tree reads the checkout: once the user pulls the merges, it says what the cluster serves
    await git(['pull', '-q', '--ff-only'], clone());
    await until('the tree at latest 100%', async () => (await serviceRow(a, 'test', 'jukebox'))?.description === 'latest 100%');
  });

  it('Cancel while a step waits for its merge stops the run, names the open pull request, the clone as it was', async () => {
    await cfg().update('rollout.steps', '30,100', vscode.ConfigurationTarget.Global);
    const before = await state();
    const cts = new vscode.CancellationTokenSource();
    const infos: string[] = [];
    stubs.set(vscode.window, 'showInformationMessage', (async (message: string) => {
      infos.push(message);
      if (/proposed as canary\//.test(message)) cts.cancel();
      return undefined;
    }) as typeof vscode.window.showInformationMessage);
    const result = await start(cts, [], []);
    assert.equal(result?.outcome, 'stopped', JSON.stringify(result));
    assert.match(
      result?.reason ?? '',
      /while waiting for the merge of canary\/test-jukebox-30 \(https:\/\/github\.com\/acme\/gitops\/compare\/main\.\.\.canary\/test-jukebox-30\?expand=1\): that pull request is still open/,
    );
    assert.ok(
      infos.some((m) => m.includes('rollout stopped') && m.includes('canary/test-jukebox-30')),
      JSON.stringify(infos),
    );
    assert.deepEqual(await branches(), ['canary/test-jukebox-30']);
    assert.deepEqual(await state(), before);
    await git(['--git-dir', sandbox().gitopsRemote, 'branch', '-D', 'canary/test-jukebox-30']);
    await git(['update-ref', '-d', 'refs/remotes/origin/canary/test-jukebox-30'], clone());
  });
});
