/**
 * Entry point of the extension (dist/extension.js), kept tiny so activation is cheap:
 * activate() registers the commands and the tree view (with a proxy provider) and returns.
 * The UI itself (dist/ui.js, see main.ts) loads right after; the Kubernetes client and git
 * (dist/backend.js) load after that, when the controller starts. main.ts logs how long
 * activate() took.
 */
// `import =` compiles to a plain require: `import * as` would make esbuild copy every property
// of the vscode API into a namespace object, which costs milliseconds at activation.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import vscode = require('vscode');
import { createRequire } from 'node:module';
import path from 'node:path';
import { COMMAND_IDS, DASHBOARD_VIEW_TYPE, VIEW_ID } from './ids';
import type * as MainModule from './main';
import type { KserveCanaryApi } from './testapi';

/** Stands in for the tree provider until dist/ui.js has loaded (the view shows "loading" meanwhile). */
class ProxyTree implements vscode.TreeDataProvider<unknown>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<unknown>();
  readonly onDidChangeTreeData = this.emitter.event;
  private target: vscode.TreeDataProvider<unknown> | undefined;
  private subscription: vscode.Disposable | undefined;

  attach(target: vscode.TreeDataProvider<unknown>): void {
    this.target = target;
    this.subscription = target.onDidChangeTreeData?.((e) => this.emitter.fire(e));
    this.emitter.fire(undefined);
  }

  getTreeItem(e: unknown): vscode.TreeItem | Thenable<vscode.TreeItem> {
    return this.target!.getTreeItem(e);
  }

  getChildren(e?: unknown): vscode.ProviderResult<unknown[]> {
    return this.target ? this.target.getChildren(e) : [];
  }

  getParent(e: unknown): vscode.ProviderResult<unknown> {
    return this.target?.getParent?.(e);
  }

  dispose(): void {
    this.subscription?.dispose();
    this.emitter.dispose();
  }
}

let ui: MainModule.Ui | undefined;

export function activate(context: vscode.ExtensionContext): KserveCanaryApi {
  const t0 = performance.now();
  const proxy = new ProxyTree();
  const view = vscode.window.createTreeView(VIEW_ID, { treeDataProvider: proxy, showCollapseAll: true });
  let activateMs = 0;
  let loading: Promise<MainModule.Ui> | undefined;
  const load = (): Promise<MainModule.Ui> =>
    (loading ??= new Promise<MainModule.Ui>((resolve, reject) => {
      setImmediate(() => {
        try {
          const main = createRequire(__filename)(path.join(__dirname, 'ui.js')) as typeof MainModule;
          ui = main.boot(context, { view, attach: (p) => proxy.attach(p), activateMs });
          context.subscriptions.push(ui);
          resolve(ui);
        } catch (e) {
          reject(e);
        }
      });
    }));
  context.subscriptions.push(
    proxy,
    view,
    ...COMMAND_IDS.map((id) => vscode.commands.registerCommand(id, async (...args: unknown[]) => (await load()).run(id, args))),
    // Registered here, not when the UI has loaded: VS Code restores dashboard panels right after activation.
    vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel, state) => (await load()).restoreDashboard(panel, state),
    }),
  );
  void vscode.commands.executeCommand('setContext', 'kserveCanary.state', 'loading');
  void load();
  activateMs = performance.now() - t0;
  const t = () => ui!.test;
  // Test-only API (see testapi.ts): valid once whenStarted() has resolved.
  return {
    test: {
      activateMs: () => activateMs,
      whenStarted: async () => (await load()).test.whenStarted(),
      state: () => t().state(),
      connection: () => t().connection(),
      rows: () => t().rows(),
      viewMessage: () => t().viewMessage(),
      statusBar: () => t().statusBar(),
      select: (key) => t().select(key),
      setTrustOverride: (v) => t().setTrustOverride(v),
      services: () => t().services(),
      gitopsRoot: () => t().gitopsRoot(),
      logDir: () => t().logDir(),
      refreshes: () => t().refreshes(),
      settings: () => t().settings(),
      notices: () => t().notices(),
      dashboards: () => t().dashboards(),
      dashboardResources: () => t().dashboardResources(),
    },
  };
}

export function deactivate(): void {
  // The UI is in context.subscriptions: VS Code disposes it (store, watches, log) after this.
  ui = undefined;
}
