// Pull-request mode in the UI (issue 15): a set in an environment of kserveCanary.pullRequestEnvironments
// pushes a canary/test-jukebox-<n> branch, the tree shows its `proposed n% · …` row, the change's
// notification waits for the merge ("Open pull request" opens the forge's page), and once this
// suite merges the branch in the sandbox's bare gitops remote the same notification follows it
// until the cluster serves it (the tree live at n%, the row gone). Cancelling the wait leaves the
// proposal open, and "Follow proposal" on its row (what a window reload leaves) waits again; a
// branch deleted unmerged ends with the pull request closed; a push refused by a protected main
// offers "Propose a pull request", which takes the same path.
// The clone's origin is given a GitHub URL (git's insteadOf leads it to the bare remote) so that
// the forge's page is known. vscode.window.withProgress is replaced by one handing the command a
// token this suite cancels (the Cancel button cannot be clicked from the extension host).
import * as assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { api, atSeedSplit, git, keyOf, sandbox, serviceRow, Stubs, until, type Api } from './canary-helpers';

const GITHUB = 'https://github.com/acme/gitops.git';
const OPEN_PR = 'Open pull request';
const cfg = () => vscode.workspace.getConfiguration('kserveCanary');

/** The reviewer, in the bare remote: a merge commit of `branch` on main, or the branch deleted. */
const remoteGit = (args: string[]) => git(['--git-dir', sandbox().gitopsRemote, ...args]);
async function merge(branch: string): Promise<void> {
  const tree = await remoteGit(['rev-parse', `${branch}^{tree}`]);
  const commit = await remoteGit(['commit-tree', tree, '-p', 'main', '-p', branch, '-m', `Merge pull request ${branch}`]);
  await remoteGit(['update-ref', 'refs/heads/main', commit]);
  await remoteGit(['update-ref', '-d', `refs/heads/${branch}`]);
}

describe('pull-request mode: the UI waits for the merge, then follows', function () {
  this.timeout(240_000);
  const stubs = new Stubs();
  const clone = () => sandbox().gitopsClone;
  let a: Api;
  let originUrl = '';
  let infos: { text: string; items: string[] }[] = [];
  let progress: string[] = [];
  let opened: string[] = [];
  let cts: vscode.CancellationTokenSource;

  before(async () => {
    a = await api();
    await until('the seeded jukebox row in test', () => serviceRow(a, 'test', 'jukebox').then((r) => r?.description));
    await atSeedSplit(a);
    originUrl = await git(['config', '--get', 'remote.origin.url'], clone());
    await git(['config', 'remote.origin.url', GITHUB], clone());
    await git(['config', `url.${sandbox().gitopsRemote}.insteadOf`, GITHUB], clone());
    await cfg().update('pullRequestEnvironments', ['test'], vscode.ConfigurationTarget.Global);
    await until('the setting read', () => a.settings().pullRequestEnvironments.includes('test'));
  });
  after(async () => {
    await cfg().update('pullRequestEnvironments', undefined, vscode.ConfigurationTarget.Global);
    await git(['config', '--unset', `url.${sandbox().gitopsRemote}.insteadOf`], clone());
    await git(['config', 'remote.origin.url', originUrl], clone());
    // The merges left the clone behind main: where the suites after this one expect it.
    await git(['pull', '-q', '--ff-only'], clone());
    // The seed's 80/20 again, for the suites after this one (canary-16-dashboard starts from it).
    await atSeedSplit(a);
  });
  /** Progress, information messages (answering "Open pull request" when offered) and opened pages, recorded. */
  const stubUi = () => {
    infos = [];
    progress = [];
    opened = [];
    cts = new vscode.CancellationTokenSource();
    stubs.set(vscode.window, 'withProgress', ((
      options: vscode.ProgressOptions,
      task: (p: vscode.Progress<{ message?: string }>, t: vscode.CancellationToken) => Thenable<unknown>,
    ) => {
      assert.equal(options.cancellable, true, 'the wait is cancellable');
      return Promise.resolve(
        task(
          {
            report: (u) => {
              if (u.message) progress.push(u.message);
            },
          },
          cts.token,
        ),
      );
    }) as typeof vscode.window.withProgress);
    stubs.set(vscode.window, 'showInformationMessage', (async (text: string, ...items: string[]) => {
      infos.push({ text, items });
      return items.includes(OPEN_PR) ? OPEN_PR : undefined;
    }) as unknown as typeof vscode.window.showInformationMessage);
    stubs.set(vscode.env, 'openExternal', (async (u: vscode.Uri) => {
      opened.push(u.toString(true));
      return true;
    }) as typeof vscode.env.openExternal);
  };
  beforeEach(stubUi);
  afterEach(() => {
    stubs.restore();
    cts.dispose();
  });

  const proposalRow = async (branch: string) => {
    const r = (await a.rows()).find((x) => x.id === `svc:${keyOf(a, 'test', 'jukebox')}/proposal/${branch}`);
    if (r) assert.equal(r.label, `proposed ${branch.split('-').pop()}% · ${branch}`);
    return r;
  };
  const setTo = (percent: number) => {
    stubs.set(vscode.window, 'showInputBox', (async () => String(percent)) as typeof vscode.window.showInputBox);
    return vscode.commands.executeCommand('kserveCanary.setTraffic', keyOf(a, 'test', 'jukebox'));
  };

  it('set 35: the proposal row waits for the merge; merged in the remote, the same notification follows until 35% is live', async () => {
    const mainBefore = await remoteGit(['rev-parse', 'main']);
    const branch = 'canary/test-jukebox-35';
    const run = setTo(35);
    const waiting = await until('the proposal row, waiting for the merge', async () => {
      const r = await proposalRow(branch);
      return r?.description === 'waiting for merge' ? r : undefined;
    });
    assert.equal(waiting.contextValue, 'proposal.following', '"Follow proposal" is not offered while it is followed');
    assert.equal(waiting.icon, 'git-pull-request');
    await until('the notification waiting for the merge', () => progress.includes(`Waiting for the merge of ${branch} into main…`));
    assert.equal(await remoteGit(['rev-parse', 'main']), mainBefore, 'main is untouched until the merge');
    const announced = infos.find((i) => i.text.includes(`pushed the branch ${branch} for a pull request`));
    assert.ok(announced, JSON.stringify(infos));
    assert.deepEqual(announced.items, [OPEN_PR]);
    await until('the pull request page opened from its button', () => opened.length === 1);
    assert.equal(opened[0], `https://github.com/acme/gitops/compare/main...${branch}?expand=1`);
    assert.equal((await serviceRow(a, 'test', 'jukebox'))?.description, 'prev 80% · latest 20%', 'the cluster still serves the seed split');

    await merge(branch);
    await run;
    assert.ok(
      progress.some((m) => /^Merged into main at [0-9a-f]{7}; following…$/.test(m)),
      JSON.stringify(progress),
    );
    // Live; the clone is as it was (pull-request mode never touches it), and the message says so.
    assert.ok(
      infos.some(
        (i) => i.text === "jukebox · test is live: prev 65% · latest 35%. Your checkout's config.yaml still says 20%: pull main to have the merged change.",
      ),
      JSON.stringify(infos),
    );
    assert.equal((await serviceRow(a, 'test', 'jukebox'))?.description, 'prev 65% · latest 35% ≠ git 20%');
    await until('the proposal row gone', async () => (await proposalRow(branch)) === undefined);
  });

  it('cancelled while waiting, the proposal stays open; "Follow proposal" on its row waits again, then follows until 45% is live', async () => {
    const branch = 'canary/test-jukebox-45';
    const run = setTo(45);
    await until('the proposal row, waiting for the merge', async () => (await proposalRow(branch))?.description === 'waiting for merge');
    cts.cancel();
    await run;
    assert.ok(
      infos.some((i) => i.text.includes(`stopped waiting for the merge of ${branch}. The pull request stays open`)),
      JSON.stringify(infos),
    );
    assert.ok(await remoteGit(['rev-parse', '--verify', `refs/heads/${branch}`]), 'the branch is still on the remote');
    const open = await until('the row without a follow', async () => {
      const r = await proposalRow(branch);
      return r && r.description === undefined ? r : undefined;
    });
    assert.equal(open.contextValue, 'proposal', '"Follow proposal" is offered on it');

    // Another command, as after a window reload: fresh notifications.
    stubs.restore();
    cts.dispose();
    stubUi();
    const node = { kind: 'proposal', id: open.id, key: keyOf(a, 'test', 'jukebox'), branch };
    const follow = vscode.commands.executeCommand('kserveCanary.followProposal', node);
    await until('the row waiting again', async () => (await proposalRow(branch))?.description === 'waiting for merge');
    await merge(branch);
    await follow;
    assert.ok(
      infos.some((i) => i.text.startsWith('jukebox · test is live: prev 55% · latest 45%.')),
      JSON.stringify(infos),
    );
    assert.equal((await serviceRow(a, 'test', 'jukebox'))?.description, 'prev 55% · latest 45% ≠ git 20%');
    await until('the proposal row gone', async () => (await proposalRow(branch)) === undefined);
  });

  it('a branch deleted unmerged: the wait ends saying the pull request was closed, and the row goes', async () => {
    const branch = 'canary/test-jukebox-55';
    const errors: string[] = [];
    stubs.set(vscode.window, 'showErrorMessage', (async (m: string) => {
      errors.push(m);
      return undefined;
    }) as typeof vscode.window.showErrorMessage);
    const run = setTo(55);
    await until('the proposal row, waiting for the merge', async () => (await proposalRow(branch))?.description === 'waiting for merge');
    await remoteGit(['update-ref', '-d', `refs/heads/${branch}`]);
    await run;
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.match(errors[0]!, new RegExp(`${branch} was deleted on origin without its change reaching origin/main: the pull request was closed`));
    await until('the proposal row gone', async () => (await proposalRow(branch)) === undefined);
    assert.equal((await serviceRow(a, 'test', 'jukebox'))?.description, 'prev 55% · latest 45% ≠ git 20%', 'nothing else changed');
  });

  it('a push refused by a protected main: "Propose a pull request" pushes the branch and waits the same way, then 60% is live', async () => {
    await cfg().update('pullRequestEnvironments', undefined, vscode.ConfigurationTarget.Global);
    await until('the setting cleared', () => !a.settings().pullRequestEnvironments.includes('test'));
    const hook = path.join(sandbox().gitopsRemote, 'hooks', 'pre-receive');
    // main takes pull requests only; proposal branches are accepted.
    writeFileSync(
      hook,
      '#!/bin/sh\nwhile read old new ref; do\n  if [ "$ref" = refs/heads/main ]; then echo "protected branch: main takes pull requests only" >&2; exit 1; fi\ndone\nexit 0\n',
      { mode: 0o755 },
    );
    const errors: { message: string; items: string[] }[] = [];
    stubs.set(vscode.window, 'showErrorMessage', (async (message: string, ...items: string[]) => {
      errors.push({ message, items });
      return items.includes('Propose a pull request') ? 'Propose a pull request' : undefined;
    }) as unknown as typeof vscode.window.showErrorMessage);
    const branch = 'canary/test-jukebox-60';
    try {
      const run = setTo(60);
      await until('the proposal row, waiting for the merge', async () => (await proposalRow(branch))?.description === 'waiting for merge');
      assert.equal(errors.length, 1, JSON.stringify(errors));
      assert.deepEqual(errors[0]!.items, ['Propose a pull request', 'Show log']);
      assert.ok(progress.includes(`Waiting for the merge of ${branch} into main…`), JSON.stringify(progress));
      await merge(branch);
      await run;
    } finally {
      rmSync(hook, { force: true });
    }
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.ok(
      infos.some((i) => i.text.startsWith('jukebox · test is live: prev 40% · latest 60%.')),
      JSON.stringify(infos),
    );
    assert.match((await serviceRow(a, 'test', 'jukebox'))?.description ?? '', /^prev 40% · latest 60%/);
    await until('the proposal row gone', async () => (await proposalRow(branch)) === undefined);
  });
});
