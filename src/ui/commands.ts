/**
 * The command handlers by id (ids.ts lists them; extension.ts registers them). Each is a small
 * factory over the shared CommandContext (src/ui/command-context.ts): prompts, one call to a use
 * case of src/app (through the lazily loaded backend), presentation. The canary changes are in
 * commands-change.ts, the rollout in commands-rollout.ts, test traffic in commands-traffic.ts;
 * the small ones (Grafana, config.yaml, kubeconfig, context, pin) are here.
 */
// `import =` compiles to a plain require: `import * as` would make esbuild copy every property
// of the vscode API into a namespace object per module, which costs milliseconds at activation.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import vscode = require('vscode');
import { CanaryError } from '../core/errors';
import { dashboardUrl } from '../core/grafana';
import { CommandContext, type CommandDeps } from './command-context';
import { changeCommand, followProposal, setTraffic } from './commands-change';
import { startRollout } from './commands-rollout';
import { sendTraffic } from './commands-traffic';
import { chooseGrafanaPlace, openGrafanaAt } from './dashboard-grafana';
import type { CommandId } from './ids';
import { loadBackend } from './load';
import { pickOne } from './notify';
import { errorText } from './present';
import { SECTION } from './settings';

export type { CommandDeps, Target } from './command-context';

type Handler = (...args: unknown[]) => unknown;

export class Commands {
  private readonly ctx: CommandContext;

  constructor(deps: CommandDeps) {
    this.ctx = new CommandContext(deps);
  }

  /** Handlers by command id (ids.ts lists them; extension.ts registers them). */
  handlers(): Record<CommandId, Handler> {
    const ctx = this.ctx;
    const d = ctx.deps;
    const out = {} as Record<CommandId, Handler>;
    const r = (id: CommandId, fn: Handler) => {
      out[id] = fn;
    };
    r('kserveCanary.setTraffic', setTraffic(ctx));
    r('kserveCanary.promote', changeCommand(ctx, { kind: 'promote' }));
    r('kserveCanary.rollback', changeCommand(ctx, { kind: 'rollback' }));
    r('kserveCanary.openGrafana', (arg) => this.openGrafana(arg));
    r('kserveCanary.openConfig', (arg) => this.openConfig(arg));
    r('kserveCanary.refresh', () => ctx.guard('Refresh', () => d.ctl.refresh()));
    r('kserveCanary.selectKubeconfig', (arg) => this.selectKubeconfig(arg));
    r('kserveCanary.selectContext', (arg) => this.selectContext(arg));
    r('kserveCanary.pin', (arg) => this.pin(arg));
    r('kserveCanary.unpin', () => ctx.guard('Unpin', () => d.statusBar.pin(undefined)));
    r('kserveCanary.startSandbox', () => ctx.guard('Start sandbox', () => d.startSandbox()));
    r('kserveCanary.stopSandbox', () => ctx.guard('Stop sandbox', () => d.stopSandbox()));
    r('kserveCanary.showLog', () => d.log.show());
    r('kserveCanary.sendTraffic', sendTraffic(ctx));
    r('kserveCanary.startRollout', startRollout(ctx));
    r('kserveCanary.followProposal', followProposal(ctx));
    return out;
  }

  /** Target from a tree row, a service key, `{env, model}`, or a quick pick (the dashboard uses it too). */
  resolveTarget(arg: unknown, title: string): ReturnType<CommandContext['resolveTarget']> {
    return this.ctx.resolveTarget(arg, title);
  }

  async openGrafana(arg: unknown): Promise<string | undefined> {
    return this.ctx.guard('Open Grafana dashboard', async () => {
      const target = await this.ctx.resolveTarget(arg, 'Open Grafana dashboard');
      if (!target) return undefined;
      const s = this.ctx.ctl.settings;
      const url = dashboardUrl({
        route: this.ctx.ctl.store?.grafanaRoute(),
        model: target.state?.name ?? target.model,
        env: target.env,
        namespace: target.state?.namespace,
        template: s.grafanaUrlTemplate,
        uid: s.grafanaDashboardUid,
      });
      // Asked from a row, the palette or the dashboard: editor tab or outside (dashboard-grafana.ts).
      const where = await chooseGrafanaPlace(url, { trusted: this.ctx.trusted(), interactive: typeof arg !== 'string' });
      if (!where) {
        this.ctx.log.info(`not opening ${url}: declined`);
        return undefined;
      }
      this.ctx.log.info(`opening ${url} ${where === 'editor' ? 'in an editor tab' : 'outside'}`);
      await openGrafanaAt(url, where);
      return url;
    });
  }

  async openConfig(arg: unknown): Promise<void> {
    await this.ctx.guard('Open config.yaml', async () => {
      const target = await this.ctx.resolveTarget(arg, 'Open config.yaml');
      if (!target) return;
      const ctl = this.ctx.ctl;
      const file = ctl.configPath(target.env, target.model);
      if (!file || !ctl.root)
        throw new CanaryError(
          'not-found',
          'no-config',
          `No config.yaml for ${target.model} in ${target.env} in the gitops checkout.`,
          'Refresh the view after pulling.',
        );
      let line = 1;
      try {
        const backend = ctl.backend;
        if (backend) line = (await backend.readModelConfig(ctl.root, target.env, target.model, { deploymentsDir: ctl.settings.deploymentsDir })).canaryLine;
      } catch (e) {
        this.ctx.log.warn(`config.yaml of ${target.model}/${target.env}: ${errorText(e)}`);
      }
      const pos = new vscode.Position(Math.max(0, line - 1), 0);
      await vscode.window.showTextDocument(vscode.Uri.file(file), { selection: new vscode.Range(pos, pos), preview: false });
    });
  }

  async selectKubeconfig(arg: unknown): Promise<void> {
    await this.ctx.guard('Select kubeconfig', async () => {
      let file: string | undefined = typeof arg === 'string' ? arg : undefined;
      if (file === undefined) {
        const pick = await pickOne(
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
      this.ctx.log.info(`kubeconfig set to ${file || 'the default'}`);
    });
  }

  async selectContext(arg: unknown): Promise<void> {
    await this.ctx.guard('Select context', async () => {
      const ctl = this.ctx.ctl;
      let context: string | undefined = typeof arg === 'string' ? arg : undefined;
      if (context === undefined) {
        await ctl.whenStarted();
        const backend = ctl.backend ?? (await loadBackend());
        const list = await backend.listContexts(ctl.settings.kubeconfig || undefined, process.env);
        if (list.contexts.length === 0) {
          throw new CanaryError(
            'cluster',
            'no-contexts',
            'The kubeconfig has no contexts.',
            'Log in with `oc login` (or kubectl), or select another kubeconfig.',
          );
        }
        const active = ctl.settings.context || list.current;
        const pick = await pickOne(
          list.contexts.map((c) => ({
            label: c.name,
            description: [c.namespace, c.name === active ? '(active)' : ''].filter(Boolean).join(' '),
            detail: `cluster ${c.cluster}`,
          })),
          { title: 'Select context', placeHolder: `Contexts of ${list.files.join(', ')}` },
        );
        if (!pick) return;
        context = pick.label;
      }
      await vscode.workspace.getConfiguration(SECTION).update('context', context || undefined, vscode.ConfigurationTarget.Global);
      this.ctx.log.info(`context set to ${context || 'the current-context'}`);
    });
  }

  async pin(arg: unknown): Promise<void> {
    await this.ctx.guard('Pin to status bar', async () => {
      const target = await this.ctx.resolveTarget(arg, 'Pin to status bar');
      if (!target?.state) return;
      await this.ctx.deps.statusBar.pin(target.state.key);
    });
  }
}
