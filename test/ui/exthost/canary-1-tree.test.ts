// The Canary Deployments tree and the status bar against the seeded sandbox:
// test jukebox at prev 80 / latest 20, prod jukebox at latest 100.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { api, atSeedSplit, keyOf, row, serviceRow, until, type Api } from './canary-helpers';

describe('Canary Deployments tree', function () {
  // Each test waits on git, Argo CD and KServe round trips: generous on a loaded machine.
  this.timeout(150_000);
  let a: Api;
  before(async () => {
    a = await api();
    await until('jukebox in test', async () => (await serviceRow(a, 'test', 'jukebox'))?.description);
    await atSeedSplit(a); // whatever the suites before left
    await until(
      'the jukebox rows',
      async () => (await serviceRow(a, 'test', 'jukebox'))?.description === 'prev 80% · latest 20%' && (await serviceRow(a, 'prod', 'jukebox')),
    );
  });

  it('shows the test and prod environments with their namespaces', async () => {
    const roots = (await a.rows()).filter((r) => r.depth === 0);
    assert.deepEqual(
      roots.map((r) => [r.label, r.description]),
      [
        ['prod', 'user1-prod'],
        ['test', 'user1-test'],
      ],
    );
    assert.equal(a.state(), 'ok');
  });

  it('shows jukebox in test at `prev 80% · latest 20%`, live, with a markdown tooltip', async () => {
    const r = await serviceRow(a, 'test', 'jukebox');
    assert.ok(r);
    assert.equal(r.description, 'prev 80% · latest 20%');
    assert.equal(r.icon, 'pass-filled');
    assert.equal(r.contextValue, 'service.canary.live.split');
    assert.match(r.tooltip ?? '', /\*\*Live\*\*/);
    assert.match(r.tooltip ?? '', /\| prev \| jukebox\\-predictor\\-00001 \| 80% \|/);
    assert.match(r.tooltip ?? '', /git: canary 20%/);
  });

  it('shows jukebox in prod at `latest 100%`', async () => {
    assert.equal((await serviceRow(a, 'prod', 'jukebox'))?.description, 'latest 100%');
  });

  it('lists traffic targets, URL, Argo CD Application and config.yaml under a service', async () => {
    const rows = await a.rows();
    const svc = rows.findIndex(
      (r) =>
        r.label === 'jukebox' &&
        rows
          .slice(0, rows.indexOf(r))
          .reverse()
          .find((p) => p.depth === 0)?.label === 'test',
    );
    const children: typeof rows = [];
    for (let i = svc + 1; i < rows.length && rows[i]!.depth > rows[svc]!.depth; i++) children.push(rows[i]!);
    const byDesc = (d: string) => children.find((c) => c.description === d);
    assert.equal(byDesc('80% · prev')?.label, 'jukebox-predictor-00001');
    assert.ok(
      children.find((c) => c.description?.startsWith('20%') && c.label === 'jukebox-predictor-00002'),
      JSON.stringify(children),
    );
    assert.ok(children.find((c) => c.description === 'URL' && /^https?:\/\/.*jukebox/.test(c.label)));
    assert.equal(children.find((c) => c.label === 'Argo CD jukebox-test')?.description, 'Synced · Healthy');
    assert.equal(children.find((c) => c.label === 'config.yaml')?.description, 'canary 20%');
  });

  it('gives every row a stable, unique id', async () => {
    const first = (await a.rows()).map((r) => r.id);
    const second = (await a.rows()).map((r) => r.id);
    assert.deepEqual(second, first);
    assert.equal(new Set(first).size, first.length);
    assert.ok(first.includes('svc:user1-test/jukebox'), first.join(' '));
  });

  it('shows the selected service in the status bar: `jukebox · test 80/20`', async () => {
    a.select(keyOf(a, 'test', 'jukebox'));
    const sb = a.statusBar();
    assert.equal(sb.visible, true);
    assert.match(sb.text, /^\$\([a-z~-]+\) jukebox · test 80\/20$/);
    assert.equal(sb.warning, false);
    assert.equal(sb.command, 'kserveCanary.setTraffic');
    assert.match(sb.accessibility ?? '', /previous revision 80 percent, latest revision 20 percent/);
    assert.match(sb.tooltip ?? '', /Click to set canary traffic/);
  });

  it('hides the status bar item when the setting says so, and shows it again', async () => {
    const cfg = vscode.workspace.getConfiguration('kserveCanary');
    await cfg.update('statusBar.visible', false, vscode.ConfigurationTarget.Global);
    try {
      await until('the status bar item to hide', () => !a.statusBar().visible);
    } finally {
      await cfg.update('statusBar.visible', undefined, vscode.ConfigurationTarget.Global);
    }
    await until('the status bar item to show again', () => a.statusBar().visible);
  });

  it('opens config.yaml at the canary line', async () => {
    await vscode.commands.executeCommand('kserveCanary.openConfig', keyOf(a, 'test', 'jukebox'));
    const ed = await until('an editor on config.yaml', () =>
      vscode.window.activeTextEditor?.document.fileName.endsWith('config.yaml') ? vscode.window.activeTextEditor : undefined,
    );
    assert.match(ed.document.fileName, /model-deployments[\\/]test[\\/]jukebox[\\/]config\.yaml$/);
    assert.match(ed.document.lineAt(ed.selection.active.line).text, /^canary:/);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('registers every command it contributes, all under the KServe Canary category', async () => {
    // The titles themselves are test/ui/manifest.test.ts's; here: the running extension has a
    // handler for each contributed command (a command only in package.json fails when run).
    const ext = vscode.extensions.getExtension('kserve-canary.kserve-canary')!;
    const cmds = ext.packageJSON.contributes.commands as { command: string; title: string; category: string }[];
    const registered = new Set(await vscode.commands.getCommands(true));
    assert.ok(cmds.length > 10, `${cmds.length} commands`);
    assert.deepEqual(
      cmds.filter((c) => !registered.has(c.command)).map((c) => c.command),
      [],
    );
    assert.ok(cmds.every((c) => c.category === 'KServe Canary'));
  });

  it('Refresh keeps the rows', async () => {
    await vscode.commands.executeCommand('kserveCanary.refresh');
    assert.equal(row(await a.rows(), 'jukebox', 'test')?.description, 'prev 80% · latest 20%');
  });
});
