/**
 * Entry point of the extension (dist/extension.js). activate() only registers: the view,
 * the status bar item and the commands. Everything with I/O (finding the gitops checkout,
 * loading dist/backend.js with the Kubernetes client, connecting) starts right after it
 * returns. It logs its own duration.
 */
// `import =` compiles to a plain require: `import * as` would make esbuild copy every property
// of the vscode API into a namespace object per module, which costs milliseconds at activation.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import vscode = require('vscode');
import { Commands } from './commands';
import { Controller } from './controller';
import { createLog } from './log';
import { runningSandbox, overrideFor, startSandbox } from './sandbox';
import { CanaryStatusBar } from './statusbar';
import type { KserveCanaryApi, TreeRow } from './testapi';
import { CanaryTreeProvider, type Node } from './tree';

let controller: Controller | undefined;

export function activate(context: vscode.ExtensionContext): KserveCanaryApi {
  const t0 = performance.now();
  const log = createLog();
  const ctl = new Controller(log);
  controller = ctl;
  const tree = new CanaryTreeProvider(ctl);
  const view = vscode.window.createTreeView('kserveCanary.deployments', { treeDataProvider: tree, showCollapseAll: true });
  tree.view = view;
  const statusBar = new CanaryStatusBar(ctl, context.workspaceState);
  let trustOverride: boolean | undefined;
  const commands = new Commands({
    ctl,
    log,
    statusBar,
    startSandbox: () => startSandbox(context, ctl, log),
    trusted: () => trustOverride ?? vscode.workspace.isTrusted,
  });
  context.subscriptions.push(
    log.channel,
    ctl,
    tree,
    view,
    statusBar,
    ...commands.register(),
    view.onDidChangeSelection((e) => {
      const n = e.selection[0];
      statusBar.select(n && 'key' in n ? n.key : undefined);
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => log.info('workspace trusted: canary changes enabled')),
  );
  void vscode.commands.executeCommand('setContext', 'kserveCanary.state', 'loading');
  // I/O starts after activation.
  setImmediate(() => {
    const sb = runningSandbox(context);
    if (sb) {
      log.info(`sandbox still running at ${sb.server}: using it`);
      void ctl.setOverride(overrideFor(sb));
    } else if (!ctl.isStarting()) {
      void ctl.restart();
    }
  });
  const activateMs = performance.now() - t0;
  log.info(`activated in ${activateMs.toFixed(1)} ms${vscode.workspace.isTrusted ? '' : ' (untrusted workspace: read-only)'}`);

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
        icon: item.iconPath instanceof vscode.ThemeIcon ? item.iconPath.id : undefined,
      });
      if (depth < 3) out.push(...(await rows(n, depth + 1)));
    }
    return out;
  };

  return {
    test: {
      activateMs: () => activateMs,
      whenStarted: () => ctl.whenStarted(),
      state: () => ctl.state(),
      connection: () => ctl.connection(),
      rows: () => rows(undefined, 0),
      viewMessage: () => view.message,
      statusBar: () => ({
        text: statusBar.item.text,
        visible: statusBar.visible,
        tooltip: statusBar.item.tooltip instanceof vscode.MarkdownString ? statusBar.item.tooltip.value : statusBar.item.tooltip,
        warning: statusBar.item.backgroundColor !== undefined,
        accessibility: statusBar.item.accessibilityInformation?.label,
        command: typeof statusBar.item.command === 'string' ? statusBar.item.command : statusBar.item.command?.command,
      }),
      select: (key) => statusBar.select(key),
      setTrustOverride: (v) => {
        trustOverride = v;
      },
      services: () => ctl.services(),
      gitopsRoot: () => ctl.root,
      logDir: () => context.logUri.fsPath,
      refreshes: () => [...tree.refreshes],
    },
  };
}

export function deactivate(): void {
  controller?.dispose();
  controller = undefined;
}
