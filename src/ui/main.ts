/**
 * The workbench UI proper (dist/ui.js), loaded by extension.ts right after activate() has
 * returned: the log, the controller (gitops checkout + cluster store), the tree provider
 * behind the view's proxy, the status bar item and the command handlers.
 */
// `import =` compiles to a plain require: `import * as` would make esbuild copy every property
// of the vscode API into a namespace object per module, which costs milliseconds at load.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import vscode = require('vscode');
import { Commands } from './commands';
import { createDashboardEventLog } from '../core/dashboard-series';
import { Controller } from './controller';
import { dashboardCommands } from './dashboard-commands';
import type { CommandId } from './ids';
import { createLog } from './log';
import { recentNotices } from './notify';
import { runningSandbox, overrideFor, startSandbox, stopSandbox } from './sandbox';
import { CanaryStatusBar } from './statusbar';
import type { KserveCanaryApi, TreeRow } from './testapi';
import { CanaryTreeProvider, type Node } from './tree';
import { ProposalCache } from './proposals';

/** What extension.ts hands over: the view it created in activate() and its provider proxy. */
export interface Shell {
  view: vscode.TreeView<unknown>;
  attach(provider: vscode.TreeDataProvider<unknown>): void;
  /** Duration of activate() itself. */
  activateMs: number;
}

export interface Ui extends vscode.Disposable {
  run(id: CommandId, args: unknown[]): unknown;
  /** A dashboard panel VS Code restored after a window reload (the serializer is registered in activate()). */
  restoreDashboard(panel: vscode.WebviewPanel, state: unknown): Promise<void>;
  test: Omit<KserveCanaryApi['test'], 'activateMs'>;
}

/** The service a tree row belongs to (a service row or one of its detail rows). */
function serviceKey(n: Node | undefined): string | undefined {
  return n && 'key' in n ? n.key : undefined;
}

function enabledCommands(t: unknown): readonly string[] | undefined {
  const trusted = t instanceof vscode.MarkdownString ? t.isTrusted : undefined;
  return typeof trusted === 'object' ? trusted.enabledCommands : undefined;
}

export function boot(context: vscode.ExtensionContext, shell: Shell): Ui {
  const t0 = performance.now();
  const log = createLog();
  const ctl = new Controller(log, context.globalState);
  const tree = new CanaryTreeProvider(ctl);
  const view = shell.view as vscode.TreeView<Node>;
  tree.view = view;
  shell.attach(tree as vscode.TreeDataProvider<unknown>);
  const statusBar = new CanaryStatusBar(ctl, context.workspaceState);
  tree.pinned = () => statusBar.pinned();
  const proposals = new ProposalCache(ctl, log);
  tree.proposals = (env, model) => proposals.rows(env, model);
  proposals.onChange = (env, model) => {
    const s = ctl.store?.find(env, model);
    if (s) tree.refreshServices([s.key]);
  };
  statusBar.publishPin();
  let trustOverride: boolean | undefined;
  const trusted = () => trustOverride ?? vscode.workspace.isTrusted;
  ctl.trusted = trusted;
  const rolloutMarkers = createDashboardEventLog();
  const commands = new Commands({
    ctl,
    log,
    statusBar,
    startSandbox: () => startSandbox(context, ctl, log),
    stopSandbox: () => stopSandbox(context, ctl, log),
    trusted,
    onRolloutEvent: (service, e) => rolloutMarkers.record(service, e),
    proposals,
  });
  const dashboards = dashboardCommands({ context, ctl, log, commands, statusBar, trusted, events: rolloutMarkers });
  const handlers = { ...commands.handlers(), ...dashboards.handlers };
  const disposables: vscode.Disposable[] = [
    log.channel,
    dashboards,
    ctl,
    tree,
    statusBar,
    view.onDidChangeSelection((e) => statusBar.select(serviceKey(e.selection[0]))),
    // A row clicked while a refresh had the host forget it arrives above as no selection.
    tree.onDidFetchRows(() => {
      const key = serviceKey(view.selection[0]);
      if (key && key !== statusBar.selected) statusBar.select(key);
    }),
    statusBar.onDidChangePin((keys) => tree.refreshServices(keys)),
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      log.info("workspace trusted: canary changes enabled, and the workspace's connection settings apply");
      ctl.reloadSettings();
    }),
  ];
  const sb = runningSandbox(context);
  if (sb) {
    log.info(`sandbox still running at ${sb.server}: using it`);
    void ctl.setOverride(overrideFor(sb));
  } else {
    void ctl.restart();
  }
  // The open proposals as the remote-tracking refs have them: the rows survive a window reload.
  void ctl.whenStarted().then(() => proposals.loadAll());
  log.info(
    `activated in ${shell.activateMs.toFixed(1)} ms; UI loaded in ${(performance.now() - t0).toFixed(1)} ms after it` +
      (vscode.workspace.isTrusted ? '' : ' (untrusted workspace: read-only)'),
  );

  const rows = async (parent: Node | undefined, depth: number): Promise<TreeRow[]> => {
    const out: TreeRow[] = [];
    for (const n of tree.getChildren(parent)) {
      const item = tree.getTreeItem(n);
      const label = typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
      const tooltip = item.tooltip instanceof vscode.MarkdownString ? item.tooltip.value : item.tooltip;
      out.push({
        id: item.id ?? n.id,
        depth,
        label,
        description: typeof item.description === 'string' ? item.description : undefined,
        contextValue: item.contextValue,
        tooltip,
        tooltipCommands: enabledCommands(item.tooltip),
        icon: item.iconPath instanceof vscode.ThemeIcon ? item.iconPath.id : undefined,
      });
      if (depth < 3) out.push(...(await rows(n, depth + 1)));
    }
    return out;
  };

  return {
    run: (id, args) => handlers[id](...args),
    restoreDashboard: (panel, state) => dashboards.panels.restore(panel, state),
    dispose: () => {
      for (const d of disposables) d.dispose();
    },
    test: {
      whenStarted: () => ctl.whenStarted(),
      state: () => ctl.state(),
      connection: () => ctl.connection(),
      rows: () => rows(undefined, 0),
      viewMessage: () => view.message,
      statusBar: () => ({
        text: statusBar.item.text,
        visible: statusBar.visible,
        tooltip: statusBar.item.tooltip instanceof vscode.MarkdownString ? statusBar.item.tooltip.value : statusBar.item.tooltip,
        tooltipCommands: enabledCommands(statusBar.item.tooltip),
        warning: statusBar.item.backgroundColor !== undefined,
        accessibility: statusBar.item.accessibilityInformation?.label,
        command: typeof statusBar.item.command === 'string' ? statusBar.item.command : statusBar.item.command?.command,
      }),
      select: (key) => statusBar.select(key),
      setTrustOverride: (v) => {
        trustOverride = v;
        ctl.reloadSettings();
      },
      settings: () => ({ ...ctl.settings }),
      notices: () => recentNotices(),
      services: () => ctl.services(),
      gitopsRoot: () => ctl.root,
      logDir: () => context.logUri.fsPath,
      refreshes: () => [...tree.refreshes],
      dashboards: () => dashboards.panels.snapshot(),
      dashboardResources: () => ({ ...dashboards.panels.resources }),
    },
  };
}
