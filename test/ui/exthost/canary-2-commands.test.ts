// Commands against the sandbox: each one's effect on git (the sandbox's remote) and on the
// cluster as the tree and the status bar show it. Inputs are injected by stubbing
// vscode.window.showQuickPick / showInputBox / showWarningMessage and vscode.env.openExternal.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { api, atSeedSplit, keyOf, remoteCommits, remoteHeadMessage, sandbox, serviceRow, Stubs, until, type Api } from './canary-helpers';

type Validate = NonNullable<vscode.InputBoxOptions['validateInput']>;

describe('KServe Canary commands', function () {
  // Each test waits on git, Argo CD and KServe round trips: generous on a loaded machine.
  this.timeout(150_000);
  let a: Api;
  const stubs = new Stubs();
  before(async () => {
    a = await api();
    await until('jukebox in test', async () => (await serviceRow(a, 'test', 'jukebox'))?.description);
    await atSeedSplit(a); // whatever the suites before left
  });
  afterEach(() => {
    stubs.restore();
    a.setTrustOverride(undefined);
  });

  it('Set canary traffic 50: quick pick, prefilled input, one commit, then 50/50 in the tree and status bar', async () => {
    const before = await remoteCommits();
    let pickedFrom: readonly vscode.QuickPickItem[] = [];
    let inputOptions: vscode.InputBoxOptions | undefined;
    stubs.set(vscode.window, 'showQuickPick', (async (items: readonly vscode.QuickPickItem[] | Thenable<readonly vscode.QuickPickItem[]>) => {
      pickedFrom = await items;
      return pickedFrom.find((i) => i.label === 'jukebox' && i.description?.startsWith('test'));
    }) as unknown as typeof vscode.window.showQuickPick);
    stubs.set(vscode.window, 'showInputBox', (async (o?: vscode.InputBoxOptions) => {
      inputOptions = o;
      return '50';
    }) as typeof vscode.window.showInputBox);
    const refreshesBefore = a.refreshes().length;
    await vscode.commands.executeCommand('kserveCanary.setTraffic');
    assert.ok(
      pickedFrom.some((i) => i.description === 'test · prev 80% · latest 20%'),
      JSON.stringify(pickedFrom),
    );
    assert.ok(
      pickedFrom.some((i) => i.description === 'prod · latest 100%'),
      JSON.stringify(pickedFrom),
    );
    assert.equal(inputOptions?.value, '20', 'prefilled with the current value');
    assert.equal(await remoteCommits(), before + 1, 'exactly one commit on the remote');
    assert.match(await remoteHeadMessage(), /jukebox.*test.*50%/);
    await until('the tree at 50/50', async () => (await serviceRow(a, 'test', 'jukebox'))?.description === 'prev 50% · latest 50%');
    // Live updates refresh that row, not the whole tree.
    const refreshes = a.refreshes().slice(refreshesBefore);
    assert.ok(refreshes.includes('svc:user1-test/jukebox'), JSON.stringify(refreshes));
    assert.ok(!refreshes.includes('*'), `the whole tree was refreshed: ${JSON.stringify(refreshes)}`);
    a.select(keyOf(a, 'test', 'jukebox'));
    await until('the status bar at 50/50', () => a.statusBar().text.endsWith('jukebox · test 50/50'));
  });

  it('refuses abc, -1, 101 and 12.5 in the input box, and a cancelled input changes nothing', async () => {
    const before = await remoteCommits();
    let validate: Validate | undefined;
    stubs.set(vscode.window, 'showInputBox', (async (o?: vscode.InputBoxOptions) => {
      validate = o?.validateInput;
      return undefined;
    }) as typeof vscode.window.showInputBox);
    await vscode.commands.executeCommand('kserveCanary.setTraffic', keyOf(a, 'test', 'jukebox'));
    assert.ok(validate, 'the input box validates as the user types');
    for (const bad of ['abc', '-1', '101', '12.5', '', '150']) {
      const msg = await validate(bad);
      const text = typeof msg === 'string' ? msg : msg?.message;
      assert.ok(text && text.length > 0, `${JSON.stringify(bad)} must be refused`);
    }
    for (const good of ['0', '35', '100']) assert.ok(!(await validate(good)), `${good} must be accepted`);
    assert.equal(await remoteCommits(), before, 'nothing committed');
  });

  it('Roll back canary: 0% to latest, one commit, then prev 100% · latest 0%', async () => {
    const before = await remoteCommits();
    await vscode.commands.executeCommand('kserveCanary.rollback', keyOf(a, 'test', 'jukebox'));
    assert.equal(await remoteCommits(), before + 1);
    assert.match(await remoteHeadMessage(), /[Rr]oll back/);
    await until('the tree at 100/0', async () => (await serviceRow(a, 'test', 'jukebox'))?.description === 'prev 100% · latest 0%');
    a.select(keyOf(a, 'test', 'jukebox'));
    await until('the status bar at 100/0', () => a.statusBar().text.endsWith('jukebox · test 100/0'));
  });

  it('Promote canary: 100% to latest, one commit, then latest 100%', async () => {
    const before = await remoteCommits();
    await vscode.commands.executeCommand('kserveCanary.promote', keyOf(a, 'test', 'jukebox'));
    assert.equal(await remoteCommits(), before + 1);
    assert.match(await remoteHeadMessage(), /[Pp]romote/);
    await until('the tree at latest 100%', async () => (await serviceRow(a, 'test', 'jukebox'))?.description === 'latest 100%');
    a.select(keyOf(a, 'test', 'jukebox'));
    await until('the status bar at latest 100%', () => a.statusBar().text.endsWith('jukebox · test latest 100%'));
  });

  it('asks a modal confirmation in prod, and changes nothing when declined', async () => {
    const before = await remoteCommits();
    const asked: { message: string; modal: boolean }[] = [];
    stubs.set(vscode.window, 'showWarningMessage', (async (message: string, ...rest: unknown[]) => {
      const opts = rest[0] as vscode.MessageOptions | undefined;
      asked.push({ message, modal: typeof opts === 'object' && opts !== null && opts.modal === true });
      return undefined;
    }) as typeof vscode.window.showWarningMessage);
    await vscode.commands.executeCommand('kserveCanary.rollback', keyOf(a, 'prod', 'jukebox'));
    assert.equal(asked.length, 1, JSON.stringify(asked));
    assert.equal(asked[0]!.modal, true);
    assert.match(asked[0]!.message, /jukebox in prod/);
    assert.equal(await remoteCommits(), before, 'declined: nothing committed');
    assert.equal((await serviceRow(a, 'prod', 'jukebox'))?.description, 'latest 100%');
  });

  it('Open Grafana dashboard opens the Route-based deep link with var-model_name', async () => {
    const opened: string[] = [];
    stubs.set(vscode.env, 'openExternal', (async (u: vscode.Uri) => {
      opened.push(u.toString(true));
      return true;
    }) as typeof vscode.env.openExternal);
    await vscode.commands.executeCommand('kserveCanary.openGrafana', keyOf(a, 'test', 'jukebox'));
    assert.equal(opened.length, 1);
    const u = new URL(opened[0]!);
    assert.equal(u.protocol, 'https:');
    assert.match(u.host, /^jukebox-grafana-route-user1-toolings\./);
    assert.equal(u.pathname, '/d/Bdb-6G4Vk-github/openvino-model-server-model-metrics');
    assert.equal(u.searchParams.get('var-model_name'), 'jukebox');
  });

  it('refuses a Grafana template pointing at another scheme, with an error and no browser', async () => {
    const opened: string[] = [];
    const errors: string[] = [];
    stubs.set(vscode.env, 'openExternal', (async (u: vscode.Uri) => {
      opened.push(u.toString());
      return true;
    }) as typeof vscode.env.openExternal);
    stubs.set(vscode.window, 'showErrorMessage', (async (m: string) => {
      errors.push(m);
      return undefined;
    }) as typeof vscode.window.showErrorMessage);
    const cfg = vscode.workspace.getConfiguration('kserveCanary');
    await cfg.update('grafanaUrlTemplate', 'file:///etc/passwd?${model}', vscode.ConfigurationTarget.Global);
    try {
      await until('the setting to apply', () => vscode.workspace.getConfiguration('kserveCanary').get('grafanaUrlTemplate') !== '');
      await vscode.commands.executeCommand('kserveCanary.openGrafana', keyOf(a, 'test', 'jukebox'));
    } finally {
      await cfg.update('grafanaUrlTemplate', undefined, vscode.ConfigurationTarget.Global);
    }
    assert.deepEqual(opened, []);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /only http and https/);
  });

  it('in an untrusted workspace, refuses every writing command with the reason and commits nothing', async () => {
    const before = await remoteCommits();
    a.setTrustOverride(false);
    const warnings: string[] = [];
    let prompted = false;
    stubs.set(vscode.window, 'showWarningMessage', (async (m: string) => {
      warnings.push(m);
      return undefined;
    }) as typeof vscode.window.showWarningMessage);
    stubs.set(vscode.window, 'showInputBox', (async () => {
      prompted = true;
      return '10';
    }) as typeof vscode.window.showInputBox);
    const key = keyOf(a, 'test', 'jukebox');
    for (const c of ['kserveCanary.setTraffic', 'kserveCanary.promote', 'kserveCanary.rollback']) await vscode.commands.executeCommand(c, key);
    assert.equal(prompted, false);
    assert.equal(warnings.length, 3);
    for (const w of warnings) assert.match(w, /not trusted/);
    assert.equal(await remoteCommits(), before);
    // The tree still works.
    assert.ok((await serviceRow(a, 'test', 'jukebox'))?.description);
  });

  it('declares the writing commands as needing a trusted workspace in its menus', () => {
    const pkg = vscode.extensions.getExtension('kserve-canary.kserve-canary')!.packageJSON;
    assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
    const items = pkg.contributes.menus['view/item/context'] as { command: string; when: string }[];
    for (const c of ['kserveCanary.setTraffic', 'kserveCanary.promote', 'kserveCanary.rollback']) {
      const entries = items.filter((i) => i.command === c);
      assert.ok(entries.length > 0 && entries.every((i) => i.when.includes('isWorkspaceTrusted')), c);
    }
  });

  it('Pin to status bar keeps showing the pinned service whatever is selected', async () => {
    await vscode.commands.executeCommand('kserveCanary.pin', keyOf(a, 'prod', 'jukebox'));
    a.select(keyOf(a, 'test', 'jukebox'));
    assert.match(a.statusBar().text, /jukebox · prod latest 100%$/);
    assert.ok(sandbox().server);
  });

  it('the pinned row offers Unpin; Unpin goes back to the selected service', async () => {
    const prod = keyOf(a, 'prod', 'jukebox');
    await until('the pinned row marked', async () => /\.pinned$/.test((await serviceRow(a, 'prod', 'jukebox'))?.contextValue ?? ''));
    assert.doesNotMatch((await serviceRow(a, 'test', 'jukebox'))?.contextValue ?? '', /\.pinned/);
    await vscode.commands.executeCommand('kserveCanary.unpin');
    assert.match(a.statusBar().text, /jukebox · test /, 'the selected service again');
    await until('the row unmarked', async () => !/\.pinned/.test((await serviceRow(a, 'prod', 'jukebox'))?.contextValue ?? 'x'));
    // Later suites expect the pin where it was.
    await vscode.commands.executeCommand('kserveCanary.pin', prod);
  });
});
