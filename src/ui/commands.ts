/**
 * Command handlers. Each resolves its target (a tree row, a service key, or a quick pick),
 * asks what it needs, and hands the work to core (publish) and cluster (follow).
 */
// `import =` compiles to a plain require: `import * as` would make esbuild copy every property
// of the vscode API into a namespace object per module, which costs milliseconds at activation.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import vscode = require('vscode');
import type { ServiceState } from '../cluster';
import { CanaryError } from '../core/errors';
import { dashboardUrl } from '../core/grafana';
import { actionPercent, describeAction, parsePercent, percentInputError } from '../core/traffic';
import type { CanaryAction } from '../core/types';
import type { Controller } from './controller';
import type { CommandId } from './ids';
import { loadBackend } from './load';
import type { Log } from './log';
import { errorText, liveText, serviceLabel, servicePickItem } from './present';
import { SECTION } from './settings';
import type { CanaryStatusBar } from './statusbar';
import type { Node } from './tree';

/** A model to act on: from the cluster (state) or only from git. */
export interface Target {
  env: string;
  model: string;
  state: ServiceState | undefined;
}

export interface CommandDeps {
  ctl: Controller;
  log: Log;
  statusBar: CanaryStatusBar;
  startSandbox: () => Promise<unknown>;
  /** Test-only override of vscode.workspace.isTrusted. */
  trusted: () => boolean;
}

type Handler = (...args: unknown[]) => unknown;

function isNode(arg: unknown): arg is Node {
  return typeof arg === 'object' && arg !== null && 'kind' in arg && 'id' in arg;
}

export class Commands {
  private busy = false;

  constructor(private readonly d: CommandDeps) {}

  /** Handlers by command id (ids.ts lists them; extension.ts registers them). */
  handlers(): Record<CommandId, Handler> {
    const out = {} as Record<CommandId, Handler>;
    const r = (id: CommandId, fn: Handler) => {
      out[id] = fn;
    };
    r('kserveCanary.setTraffic', (arg) => this.setTraffic(arg));
    r('kserveCanary.promote', (arg) => this.change(arg, { kind: 'promote' }));
    r('kserveCanary.rollback', (arg) => this.change(arg, { kind: 'rollback' }));
    r('kserveCanary.openGrafana', (arg) => this.openGrafana(arg));
    r('kserveCanary.openConfig', (arg) => this.openConfig(arg));
    r('kserveCanary.refresh', () => this.guard('Refresh', () => this.d.ctl.refresh()));
    r('kserveCanary.selectKubeconfig', (arg) => this.selectKubeconfig(arg));
    r('kserveCanary.selectContext', (arg) => this.selectContext(arg));
    r('kserveCanary.pin', (arg) => this.pin(arg));
    r('kserveCanary.startSandbox', () => this.guard('Start sandbox', () => this.d.startSandbox()));
    r('kserveCanary.showLog', () => this.d.log.show());
    return out;
  }

  /** Runs `fn`, turning a failure into an error notification with a "Show log" button. */
  private async guard<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (e) {
      this.fail(what, e);
      return undefined;
    }
  }

  private fail(what: string, e: unknown): void {
    const text = errorText(e);
    this.d.log.error(`${what} failed: ${text}${e instanceof CanaryError ? ` [${e.kind}/${e.code}]` : e instanceof Error && e.stack ? `\n${e.stack}` : ''}`);
    void vscode.window.showErrorMessage(`${what}: ${text}`, 'Show log').then((choice) => {
      if (choice === 'Show log') this.d.log.show();
    });
  }

  /** Writing commands are refused in an untrusted workspace, with the reason. */
  private checkTrusted(what: string): boolean {
    if (this.d.trusted()) return true;
    this.d.log.warn(`${what} refused: the workspace is not trusted`);
    void vscode.window
      .showWarningMessage(
        `${what} is disabled: this workspace is not trusted, and changing traffic edits, commits and pushes its files. Trust the workspace to enable it.`,
        'Manage Workspace Trust',
      )
      .then((choice) => {
        if (choice) void vscode.commands.executeCommand('workbench.trust.manage');
      });
    return false;
  }

  /** Target from a tree row, a service key (`ns/name`), `{env, model}`, or a quick pick. */
  async resolveTarget(arg: unknown, title: string, filter?: (s: ServiceState) => boolean): Promise<Target | undefined> {
    const ctl = this.d.ctl;
    await ctl.whenStarted();
    let key: string | undefined;
    if (isNode(arg) && 'key' in arg) key = arg.key;
    else if (typeof arg === 'string') key = arg;
    else if (typeof arg === 'object' && arg !== null && 'env' in arg && 'model' in arg) {
      const { env, model } = arg as { env: string; model: string };
      const state = ctl.store?.find(env, model);
      return { env, model, state };
    }
    if (key) {
      const state = ctl.get(key);
      if (!state) throw new CanaryError('not-found', 'no-service', `No InferenceService ${key} is known.`, 'Refresh the view, or pick the model from the list.');
      return { env: state.env, model: serviceLabel(state), state };
    }
    type Item = vscode.QuickPickItem & { target: Target };
    const services = ctl.services().filter((s) => !filter || filter(s));
    const items: Item[] = services.map((s) => ({ ...servicePickItem(s), target: { env: s.env, model: serviceLabel(s), state: s } }));
    // Models only git knows (cluster not reachable yet): still pickable.
    for (const m of ctl.gitModels()) {
      if (!items.some((i) => i.target.env === m.env && i.target.model === m.model)) {
        items.push({ label: m.model, description: `${m.env} · not on the cluster (or not connected)`, target: { env: m.env, model: m.model, state: undefined } });
      }
    }
    if (items.length === 0) {
      throw new CanaryError('not-found', 'no-models', 'No models found: the gitops checkout has no model-deployments/<env>/<model>/config.yaml.', 'Open the gitops checkout, or set kserveCanary.gitopsRoot.');
    }
    const picked = await vscode.window.showQuickPick(items, { title, placeHolder: 'Pick a model (environment · current split)', matchOnDescription: true });
    return picked?.target;
  }

  async setTraffic(arg: unknown): Promise<void> {
    if (!this.checkTrusted('Set canary traffic')) return;
    await this.guard('Set canary traffic', async () => {
      const target = await this.resolveTarget(arg, 'Set canary traffic', (s) => s.canarySupported);
      if (!target) return;
      if (target.state && !target.state.canarySupported) {
        throw new CanaryError('invalid-input', 'canary-unsupported', `${target.model} in ${target.env} runs in ${target.state.deploymentMode} mode, where KServe ignores canaryTrafficPercent.`, 'Canary splitting needs Serverless (Knative) mode.');
      }
      const current = target.state?.desired ? (target.state.desired.percent ?? 100) : target.state?.latestPercent;
      const input = await vscode.window.showInputBox({
        title: `Set canary traffic · ${target.model} in ${target.env}`,
        prompt: 'Share of the traffic for the latest revision (0–100). The rest stays on the previous revision.',
        value: current === undefined ? '' : String(current),
        valueSelection: current === undefined ? undefined : [0, String(current).length],
        validateInput: percentInputError,
        ignoreFocusOut: true,
      });
      if (input === undefined) return;
      await this.publishAndFollow(target, { kind: 'set', percent: parsePercent(input) });
    });
  }

  async change(arg: unknown, action: CanaryAction): Promise<void> {
    const what = action.kind === 'promote' ? 'Promote canary' : 'Roll back canary';
    if (!this.checkTrusted(what)) return;
    await this.guard(what, async () => {
      const target = await this.resolveTarget(arg, what, (s) => s.canarySupported);
      if (!target) return;
      await this.publishAndFollow(target, action);
    });
  }

  private async confirm(target: Target, action: CanaryAction): Promise<boolean> {
    if (!this.d.ctl.settings.confirmEnvironments.includes(target.env)) return true;
    const go = action.kind === 'promote' ? 'Promote' : action.kind === 'rollback' ? 'Roll back' : 'Set traffic';
    const choice = await vscode.window.showWarningMessage(
      `${describeAction(action)[0]!.toUpperCase()}${describeAction(action).slice(1)} for ${target.model} in ${target.env}?`,
      { modal: true, detail: `${target.env} is listed in kserveCanary.confirmEnvironments. This edits config.yaml, commits${this.d.ctl.settings.pushMode === 'push' ? ' and pushes' : ''}.` },
      go,
    );
    return choice === go;
  }

  /** Edit, commit, push under a progress notification; then follow until live. */
  private async publishAndFollow(target: Target, action: CanaryAction): Promise<void> {
    const { ctl, log } = this.d;
    if (!(await this.confirm(target, action))) return;
    if (this.busy) {
      throw new CanaryError('invalid-input', 'busy', 'Another canary change is still being published.', 'Wait for its notification, then try again.');
    }
    if (!ctl.root || !ctl.backend) throw new CanaryError('not-found', 'no-gitops', 'No gitops checkout is open.', 'Open the folder holding model-deployments/.');
    const backend = ctl.backend;
    const root = ctl.root;
    const s = ctl.settings;
    this.busy = true;
    try {
      await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `${target.model} · ${target.env}`, cancellable: true },
        async (progress, token) => {
          const abort = new AbortController();
          const sub = token.onCancellationRequested(() => abort.abort());
          try {
            progress.report({ message: `${describeAction(action)}: editing config.yaml…` });
            log.info(`${target.model}/${target.env}: ${describeAction(action)}`);
            const res = await backend.publishCanaryChange({
              root,
              env: target.env,
              model: target.model,
              action,
              push: s.pushMode === 'push',
              messageTemplate: s.commitMessageTemplate || undefined,
              deploymentsDir: s.deploymentsDir,
              log: (line) => log.info(`git: ${line}`),
              signal: abort.signal,
            });
            await ctl.store?.reloadDesired().catch(() => undefined);
            if (!res.changed) {
              void vscode.window.showInformationMessage(`${target.model} · ${target.env}: already so in git (${describeAction(action)}); nothing to commit.`);
              return;
            }
            const sha = res.sha.slice(0, 7);
            if (!res.pushed) {
              void vscode.window.showInformationMessage(`${target.model} · ${target.env}: committed ${sha} (${res.message}). Not pushed: push mode is "commit".`);
              return;
            }
            if (!ctl.store) {
              void vscode.window.showInformationMessage(`${target.model} · ${target.env}: pushed ${sha}. Not connected to a cluster, so it is not followed.`);
              return;
            }
            progress.report({ message: `pushed ${sha}; waiting for Argo CD to sync…` });
            try {
              const final = await ctl.store.follow({
                env: target.env,
                model: target.model,
                sha: res.sha,
                percent: actionPercent(action),
                timeoutMs: s.followTimeoutSeconds * 1000,
                signal: abort.signal,
                onStep: (st) => {
                  log.info(`follow ${target.model}/${target.env}: ${st.message}`);
                  progress.report({ message: st.message });
                },
              });
              void vscode.window.showInformationMessage(liveText(final));
            } catch (e) {
              if (abort.signal.aborted) {
                void vscode.window.showInformationMessage(`Stopped following ${target.model} · ${target.env}: ${sha} is pushed and Argo CD will still apply it.`);
                return;
              }
              throw e;
            }
          } finally {
            sub.dispose();
          }
        },
      );
    } finally {
      this.busy = false;
    }
  }

  async openGrafana(arg: unknown): Promise<string | undefined> {
    return this.guard('Open Grafana dashboard', async () => {
      const target = await this.resolveTarget(arg, 'Open Grafana dashboard');
      if (!target) return undefined;
      const s = this.d.ctl.settings;
      const url = dashboardUrl({
        route: this.d.ctl.store?.grafanaRoute(),
        model: target.state?.name ?? target.model,
        env: target.env,
        namespace: target.state?.namespace,
        template: s.grafanaUrlTemplate,
        uid: s.grafanaDashboardUid,
      });
      this.d.log.info(`opening ${url}`);
      await vscode.env.openExternal(vscode.Uri.parse(url, true));
      return url;
    });
  }

  async openConfig(arg: unknown): Promise<void> {
    await this.guard('Open config.yaml', async () => {
      const target = await this.resolveTarget(arg, 'Open config.yaml');
      if (!target) return;
      const ctl = this.d.ctl;
      const file = ctl.configPath(target.env, target.model);
      if (!file || !ctl.root) throw new CanaryError('not-found', 'no-config', `No config.yaml for ${target.model} in ${target.env} in the gitops checkout.`, 'Refresh the view after pulling.');
      let line = 1;
      try {
        const backend = ctl.backend;
        if (backend) line = (await backend.readModelConfig(ctl.root, target.env, target.model, { deploymentsDir: ctl.settings.deploymentsDir })).canaryLine;
      } catch (e) {
        this.d.log.warn(`config.yaml of ${target.model}/${target.env}: ${errorText(e)}`);
      }
      const pos = new vscode.Position(Math.max(0, line - 1), 0);
      await vscode.window.showTextDocument(vscode.Uri.file(file), { selection: new vscode.Range(pos, pos), preview: false });
    });
  }

  async selectKubeconfig(arg: unknown): Promise<void> {
    await this.guard('Select kubeconfig', async () => {
      let file: string | undefined = typeof arg === 'string' ? arg : undefined;
      if (file === undefined) {
        const pick = await vscode.window.showQuickPick(
          [
            { label: 'Browse…', id: 'browse' },
            { label: 'Use the default', description: '$KUBECONFIG, then ~/.kube/config', id: 'default' },
          ],
          { title: 'Select kubeconfig' },
        );
        if (!pick) return;
        if (pick.id === 'default') file = '';
        else {
          const uris = await vscode.window.showOpenDialog({ title: 'Select kubeconfig', canSelectMany: false, openLabel: 'Use this kubeconfig' });
          if (!uris?.[0]) return;
          file = uris[0].fsPath;
        }
      }
      const cfg = vscode.workspace.getConfiguration(SECTION);
      await cfg.update('kubeconfig', file || undefined, vscode.ConfigurationTarget.Global);
      await cfg.update('context', undefined, vscode.ConfigurationTarget.Global);
      this.d.log.info(`kubeconfig set to ${file || 'the default'}`);
    });
  }

  async selectContext(arg: unknown): Promise<void> {
    await this.guard('Select context', async () => {
      const ctl = this.d.ctl;
      let context: string | undefined = typeof arg === 'string' ? arg : undefined;
      if (context === undefined) {
        await ctl.whenStarted();
        const backend = ctl.backend ?? (await loadBackend());
        const list = await backend.listContexts(ctl.settings.kubeconfig || undefined, process.env);
        if (list.contexts.length === 0) {
          throw new CanaryError('cluster', 'no-contexts', 'The kubeconfig has no contexts.', 'Log in with `oc login` (or kubectl), or select another kubeconfig.');
        }
        const active = ctl.settings.context || list.current;
        const pick = await vscode.window.showQuickPick(
          list.contexts.map((c) => ({ label: c.name, description: [c.namespace, c.name === active ? '(active)' : ''].filter(Boolean).join(' '), detail: `cluster ${c.cluster}` })),
          { title: 'Select context', placeHolder: `Contexts of ${list.files.join(', ')}` },
        );
        if (!pick) return;
        context = pick.label;
      }
      await vscode.workspace.getConfiguration(SECTION).update('context', context || undefined, vscode.ConfigurationTarget.Global);
      this.d.log.info(`context set to ${context || 'the current-context'}`);
    });
  }

  async pin(arg: unknown): Promise<void> {
    await this.guard('Pin to status bar', async () => {
      const target = await this.resolveTarget(arg, 'Pin to status bar');
      if (!target?.state) return;
      await this.d.statusBar.pin(target.state.key);
    });
  }
}
