// The canary dashboard panel's life (issue 16): one panel per service, revealed on a second open,
// disposed on close, no model loaded while hidden, nothing left behind after 50 open/close; the
// tooltips' trusted link; Open Grafana's editor-tab choice. Models are counted through the
// extension's test API (dashboards(): loads per panel; dashboardResources(): panels, timers, listeners).
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { api, keyOf, serviceRow, Stubs, until, type Api } from './canary-helpers';

const VIEW_TYPE = 'kserveCanary.dashboard';

function dashboardTabs(): vscode.Tab[] {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith(VIEW_TYPE));
}

async function closeDashboards(): Promise<void> {
  const tabs = dashboardTabs();
  if (tabs.length) await vscode.window.tabGroups.close(tabs);
}

describe('KServe Canary dashboard panel', function () {
  this.timeout(150_000);
  let a: Api;
  let key: string;
  const stubs = new Stubs();
  const id = () => `test/${key}`;
  const panel = () => a.dashboards().find((d) => d.id === id());

  before(async () => {
    a = await api();
    await until('jukebox in test', async () => (await serviceRow(a, 'test', 'jukebox'))?.description);
    key = keyOf(a, 'test', 'jukebox');
    await closeDashboards();
  });
  afterEach(() => stubs.restore());
  after(async () => {
    await closeDashboards();
    a.select(undefined);
  });

  it('opens one panel for jukebox in test that shows both revisions at 80/20', async () => {
    await vscode.commands.executeCommand('kserveCanary.openDashboard', key);
    const p = await until('the first model, loaded once the webview asked for it', () => panel()?.model);
    const revs = p.header.revisions.map((r) => `${r.name} ${r.percent}`).sort();
    assert.deepEqual(revs, ['jukebox-predictor-00001 80', 'jukebox-predictor-00002 20']);
    assert.equal(p.header.service, 'jukebox');
    assert.equal(p.header.env, 'test');
    assert.equal(dashboardTabs().length, 1);
    assert.equal(dashboardTabs()[0]!.label, 'Canary · jukebox · test');
    assert.ok(panel()!.visible);
    await until('the next refresh scheduled while visible', () => panel()?.timer);
  });

  it('a second open reveals the same panel; the palette takes the selected service', async () => {
    // Another editor in front of it, then open again: the same panel comes back.
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument({ content: 'in front' }), {
      viewColumn: vscode.ViewColumn.Active,
      preview: false,
    });
    await until('the panel hidden behind the editor', () => panel()?.visible === false);
    await vscode.commands.executeCommand('kserveCanary.openDashboard', key);
    await until('the panel revealed', () => panel()?.visible);
    assert.equal(a.dashboards().length, 1);
    assert.equal(dashboardTabs().length, 1);
    // From the palette (no argument): the selected service, no question.
    let asked = 0;
    stubs.set(vscode.window, 'showQuickPick', (async () => {
      asked++;
      return undefined;
    }) as unknown as typeof vscode.window.showQuickPick);
    a.select(key);
    await vscode.commands.executeCommand('kserveCanary.openDashboard');
    assert.equal(asked, 0, 'the selected service was used');
    assert.equal(a.dashboards().length, 1);
    // Another service: its own panel.
    const prod = keyOf(a, 'prod', 'jukebox');
    await vscode.commands.executeCommand('kserveCanary.openDashboard', prod);
    assert.deepEqual(
      a
        .dashboards()
        .map((d) => d.id)
        .sort(),
      [`prod/${prod}`, id()].sort(),
    );
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('disposed on close: no panel, no timer, no listener left', async () => {
    await until('all closed', () => a.dashboards().length === 0);
    assert.deepEqual(a.dashboardResources(), { panels: 0, timers: 0, listeners: 0 });
  });

  it('loads no model while hidden; loads again once shown', async () => {
    await vscode.commands.executeCommand('kserveCanary.openDashboard', key);
    await until('the first model', () => panel()?.model);
    // Refresh reloads a visible panel at once (the load starts before the command returns)…
    const visibleBefore = panel()!.loads;
    await vscode.commands.executeCommand('kserveCanary.refresh');
    await until('a load on Refresh while visible', () => panel()!.loads > visibleBefore);
    // …but not a hidden one, and a hidden one has no refresh scheduled.
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument({ content: 'in front' }), {
      viewColumn: vscode.ViewColumn.Active,
      preview: false,
    });
    await until('hidden', () => panel()?.visible === false);
    await until('no refresh scheduled while hidden', () => panel()?.timer === false);
    const hidden = panel()!.loads;
    await vscode.commands.executeCommand('kserveCanary.refresh');
    await vscode.commands.executeCommand('kserveCanary.refresh');
    assert.equal(panel()!.loads, hidden, 'no model loaded while hidden');
    assert.equal(panel()!.timer, false);
    await vscode.commands.executeCommand('kserveCanary.openDashboard', key);
    await until('loaded again once shown', () => panel()!.loads > hidden);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await until('closed', () => a.dashboards().length === 0);
  });

  it('50 opens and closes leave no panel, timer or listener behind', async () => {
    for (let i = 0; i < 50; i++) {
      await vscode.commands.executeCommand('kserveCanary.openDashboard', key);
      await until(`panel ${i + 1} open`, () => dashboardTabs().length === 1 && a.dashboards().length === 1);
      await closeDashboards();
      await until(`panel ${i + 1} disposed`, () => a.dashboards().length === 0);
    }
    assert.deepEqual(a.dashboardResources(), { panels: 0, timers: 0, listeners: 0 });
    assert.equal(dashboardTabs().length, 0);
  });

  it('the service tooltip and the status bar link to the dashboard, trusted for that command only', async () => {
    const r = (await serviceRow(a, 'test', 'jukebox'))!;
    const link = `[Open canary dashboard](command:kserveCanary.openDashboard?${encodeURIComponent(JSON.stringify([key]))})`;
    assert.ok(r.tooltip?.endsWith(link), r.tooltip);
    assert.deepEqual(r.tooltipCommands, ['kserveCanary.openDashboard']);
    a.select(key);
    await vscode.commands.executeCommand('kserveCanary.unpin');
    await until('the status bar on jukebox · test', () => /jukebox · test/.test(a.statusBar().text));
    assert.ok(a.statusBar().tooltip?.endsWith(link), a.statusBar().tooltip);
    assert.deepEqual(a.statusBar().tooltipCommands, ['kserveCanary.openDashboard']);
  });

  it('Open Grafana from a row or the dashboard offers an editor tab, explaining allow_embedding', async () => {
    const asked: { message: string; detail: string; items: string[] }[] = [];
    stubs.set(vscode.window, 'showWarningMessage', (async (message: string, ...rest: unknown[]) => {
      const o = rest[0] as vscode.MessageOptions;
      asked.push({ message, detail: o.detail ?? '', items: rest.slice(1) as string[] });
      return 'Open in editor tab';
    }) as typeof vscode.window.showWarningMessage);
    const run: { id: string; args: unknown[] }[] = [];
    const original = vscode.commands.executeCommand;
    stubs.set(vscode.commands, 'executeCommand', (async (cmd: string, ...args: unknown[]) => {
      if (cmd.startsWith('simpleBrowser.')) {
        run.push({ id: cmd, args });
        return undefined;
      }
      return original(cmd, ...args);
    }) as typeof vscode.commands.executeCommand);
    const opened: string[] = [];
    stubs.set(vscode.env, 'openExternal', (async (u: vscode.Uri) => {
      opened.push(u.toString(true));
      return true;
    }) as typeof vscode.env.openExternal);
    const url = await vscode.commands.executeCommand<string>('kserveCanary.openGrafana', { env: 'test', model: 'jukebox' });
    assert.equal(asked.length, 1, JSON.stringify(asked));
    assert.deepEqual(asked[0]!.items, ['Open in editor tab', 'Open']);
    assert.match(asked[0]!.detail, /allow_embedding = true/);
    assert.match(asked[0]!.detail, /blank tab/);
    assert.equal(run.length, 1, JSON.stringify(run));
    assert.equal(run[0]!.id, 'simpleBrowser.api.open');
    assert.equal((run[0]!.args[0] as vscode.Uri).toString(true), url);
    assert.deepEqual(opened, [], 'not opened outside as well');
  });
});
