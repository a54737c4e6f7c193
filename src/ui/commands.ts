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
import type { ApprovalAnswer, ApprovalRequest, RolloutEvent, RolloutResult } from '../core/rollout';
import type { TrafficResult } from '../core/loadgen';
import path from 'node:path';
import type { Controller } from './controller';
import { chooseGrafanaPlace, openGrafanaAt } from './dashboard-grafana';
import type { CommandId } from './ids';
import { loadBackend } from './load';
import type { Log } from './log';
import { askModal, pickOne, showError, showInfo, showWarning, withNotificationProgress } from './notify';
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
  stopSandbox: () => Promise<unknown>;
  /** Test-only override of vscode.workspace.isTrusted. */
  trusted: () => boolean;
  /** Each event of a progressive rollout, for the dashboard's markers (`env/model`). */
  onRolloutEvent?: (service: string, e: RolloutEvent) => void;
}

type Handler = (...args: unknown[]) => unknown;

function isNode(arg: unknown): arg is Node {
  return typeof arg === 'object' && arg !== null && 'kind' in arg && 'id' in arg;
}

/** Canary splitting only works in Serverless mode: say so instead of editing a number KServe ignores. */
function requireCanary(target: Target): void {
  if (target.state && !target.state.canarySupported) {
    throw new CanaryError('invalid-input', 'canary-unsupported', `${target.model} in ${target.env} runs in ${target.state.deploymentMode} mode, where KServe ignores canaryTrafficPercent.`, 'Canary splitting needs Serverless (Knative) mode.');
  }
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
    r('kserveCanary.unpin', () => this.guard('Unpin', () => this.d.statusBar.pin(undefined)));
    r('kserveCanary.startSandbox', () => this.guard('Start sandbox', () => this.d.startSandbox()));
    r('kserveCanary.stopSandbox', () => this.guard('Stop sandbox', () => this.d.stopSandbox()));
    r('kserveCanary.showLog', () => this.d.log.show());
    r('kserveCanary.sendTraffic', (arg) => this.sendTraffic(arg));
    r('kserveCanary.startRollout', (arg) => this.startRollout(arg));
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
    void showError(`${what}: ${text}`, 'Show log').then((choice) => {
      if (choice === 'Show log') this.d.log.show();
    });
  }

  /** Writing commands are refused in an untrusted workspace, with the reason. */
  private checkTrusted(what: string): boolean {
    if (this.d.trusted()) return true;
    this.d.log.warn(`${what} refused: the workspace is not trusted`);
    void showWarning(
      `${what} is disabled: this workspace is not trusted, and changing traffic edits, commits and pushes its files. Trust the workspace to enable it.`,
      'Manage Workspace Trust',
    ).then((choice) => {
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
    const picked = await pickOne(items, { title, placeHolder: 'Pick a model (environment · current split)', matchOnDescription: true });
    return picked?.target;
  }

  async setTraffic(arg: unknown): Promise<void> {
    if (!this.checkTrusted('Set canary traffic')) return;
    await this.guard('Set canary traffic', async () => {
      const target = await this.resolveTarget(arg, 'Set canary traffic', (s) => s.canarySupported);
      if (!target) return;
      requireCanary(target);
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
    const choice = await askModal(
      `${describeAction(action)[0]!.toUpperCase()}${describeAction(action).slice(1)} for ${target.model} in ${target.env}?`,
      `${target.env} is listed in kserveCanary.confirmEnvironments. This edits config.yaml, commits${this.d.ctl.settings.pushMode === 'push' ? ' and pushes' : ''}.`,
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
      await withNotificationProgress(`${target.model} · ${target.env}`, true, async (report, token) => {
          const abort = new AbortController();
          const sub = token.onCancellationRequested(() => abort.abort());
          try {
            report({ message: `${describeAction(action)}: editing config.yaml…` });
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
              void showInfo(`${target.model} · ${target.env}: already so in git (${describeAction(action)}); nothing to commit.`);
              return;
            }
            const sha = res.sha.slice(0, 7);
            if (!res.pushed) {
              void showInfo(`${target.model} · ${target.env}: committed ${sha} (${res.message}). Not pushed: push mode is "commit".`);
              return;
            }
            if (!ctl.store) {
              void showInfo(`${target.model} · ${target.env}: pushed ${sha}. Not connected to a cluster, so it is not followed.`);
              return;
            }
            report({ message: `pushed ${sha}; waiting for Argo CD to sync…` });
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
                  report({ message: st.message });
                },
              });
              void showInfo(liveText(final));
            } catch (e) {
              if (abort.signal.aborted) {
                void showInfo(`Stopped following ${target.model} · ${target.env}: ${sha} is pushed and Argo CD will still apply it.`);
                return;
              }
              throw e;
            }
          } finally {
            sub.dispose();
          }
      });
    } finally {
      this.busy = false;
    }
  }

  /** The loaded backend and gitops checkout, or a clear error. */
  private need(): { backend: NonNullable<Controller['backend']>; root: string } {
    const { backend, root } = this.d.ctl;
    if (!root || !backend) throw new CanaryError('not-found', 'no-gitops', 'No gitops checkout is open.', 'Open the folder holding model-deployments/.');
    return { backend, root };
  }

  /** The request body from kserveCanary.traffic.payload: inline JSON, a file (relative to the checkout), or the default. */
  private async payload(backend: NonNullable<Controller['backend']>, root: string): Promise<string | undefined> {
    const p = this.d.ctl.settings.trafficPayload;
    if (!p) return undefined;
    if (p.startsWith('{') || p.startsWith('[')) return backend.checkPayload(p, 'the setting kserveCanary.traffic.payload');
    return backend.readPayloadFile(path.resolve(root, p));
  }

  async sendTraffic(arg: unknown): Promise<TrafficResult | undefined> {
    if (!this.checkTrusted('Send test traffic')) return undefined;
    return this.guard('Send test traffic', async () => {
      const target = await this.resolveTarget(arg, 'Send test traffic', (s) => !s.missing && !!s.url);
      if (!target) return undefined;
      const { backend, root } = this.need();
      const st = target.state;
      if (!st?.url) {
        throw new CanaryError('not-found', 'no-url', `${target.model} in ${target.env} has no URL on the cluster (status.url), so there is nowhere to send requests.`, 'Wait until the InferenceService is ready, then try again.');
      }
      const max = backend.TRAFFIC_LIMITS;
      const rpsText = await vscode.window.showInputBox({
        title: `Send test traffic · ${target.model} in ${target.env}`,
        prompt: `Requests per second (up to ${max.maxRps})`,
        value: '10',
        validateInput: (v) => {
          const n = Number(v.trim());
          return v.trim() !== '' && Number.isFinite(n) && n > 0 && n <= max.maxRps ? undefined : `A number of requests per second, more than 0 and at most ${max.maxRps}.`;
        },
        ignoreFocusOut: true,
      });
      if (rpsText === undefined) return undefined;
      const durText = await vscode.window.showInputBox({
        title: `Send test traffic · ${target.model} in ${target.env}`,
        prompt: 'For how long, e.g. 30s, 2m',
        value: '30s',
        validateInput: (v) => {
          const ms = backend.parseDuration(v.trim());
          return ms !== undefined && ms > 0 && ms <= max.maxDurationMs ? undefined : `A duration such as 30s or 2m, at most ${backend.formatDuration(max.maxDurationMs)}.`;
        },
        ignoreFocusOut: true,
      });
      if (durText === undefined) return undefined;
      const rps = Number(rpsText.trim());
      const durationMs = backend.parseDuration(durText.trim())!;
      const payload = await this.payload(backend, root);
      const label = `${target.model} · ${target.env}`;
      // status.url is cluster data: checked against the cluster's apps domain, then confirmed naming host and rate.
      const cluster = backend.trafficClusterOf(this.d.ctl.store);
      const checked = backend.checkTrafficTarget({ url: st.url, serviceUrl: st.url, cluster });
      const go = await askModal(`Send test traffic to ${label}?`, `${backend.describeTarget(checked, rps, durationMs)}.`, 'Send');
      if (go !== 'Send') return undefined;
      const result = await withNotificationProgress(`Test traffic to ${label}`, true, async (report, token) => {
          const abort = new AbortController();
          const sub = token.onCancellationRequested(() => abort.abort());
          let done = 0;
          try {
            return await backend.sendTraffic({
              url: st.url!,
              serviceUrl: st.url!,
              cluster,
              model: st.name,
              rps,
              durationMs,
              ...(payload ? { payload } : {}),
              signal: abort.signal,
              onProgress: (p) => {
                const pct = p.total ? Math.floor((p.completed / p.total) * 100) : 0;
                report({ increment: Math.max(0, pct - done), message: `${p.completed}/${p.total} answered · ${p.errors} without answer${p.phase === 'draining' ? ' · waiting for the last answers' : ''}` });
                done = Math.max(done, pct);
              },
            });
          } finally {
            sub.dispose();
          }
      });
      const lines = backend.describeTraffic(result);
      for (const l of lines) this.d.log.info(`traffic ${label}: ${l}`);
      void showInfo(`${label}: ${lines.join(' · ')}`);
      return result;
    });
  }

  /** Asks for an approval with a notification (manual gate, or gates that could not be judged). */
  private askApproval(label: string, req: ApprovalRequest, signal: AbortSignal): Promise<ApprovalAnswer> {
    return new Promise<ApprovalAnswer>((resolve) => {
      const onAbort = () => resolve('wait');
      signal.addEventListener('abort', onAbort, { once: true });
      void showInfo(`${label}: ${req.message}`, 'Approve', 'Roll back').then((choice) => {
        signal.removeEventListener('abort', onAbort);
        resolve(choice === 'Approve' ? 'approve' : choice === 'Roll back' ? 'rollback' : 'wait');
      });
    });
  }

  async startRollout(arg: unknown): Promise<RolloutResult | undefined> {
    if (!this.checkTrusted('Start progressive rollout')) return undefined;
    return this.guard('Start progressive rollout', async () => {
      const target = await this.resolveTarget(arg, 'Start progressive rollout', (s) => s.canarySupported);
      if (!target) return undefined;
      requireCanary(target);
      const { ctl, log } = this.d;
      const { backend, root } = this.need();
      const store = ctl.store;
      if (!store) throw new CanaryError('cluster', 'not-connected', 'Not connected to a cluster: a rollout follows every step until it is live.', 'Check the connection (Show log), then try again.');
      if (this.busy) throw new CanaryError('invalid-input', 'busy', 'Another canary change is still being published.', 'Wait for its notification, then try again.');
      const s = ctl.settings;
      const defaults = {
        ...(s.rolloutSteps ? { steps: s.rolloutSteps } : {}),
        ...(s.rolloutPause ? { pause: s.rolloutPause } : {}),
        ...(s.rolloutMaxErrorRate ? { maxErrorRate: s.rolloutMaxErrorRate } : {}),
      };
      const plan = await backend.resolvePlan({ root, env: target.env, model: target.model, deploymentsDir: s.deploymentsDir, defaults });
      const metrics = await ctl.metricsClient();
      const gates = backend.describeGates(plan.gates);
      const gatesText = metrics ? `Gates: ${gates}, measured from ${s.prometheusUrl}.` : 'No metric gates: no Prometheus URL is configured (kserveCanary.prometheus.url), so each step only waits for its pause (and manual gates).';
      const go = 'Start rollout';
      const choice = await askModal(
        `Start a progressive rollout of ${target.model} in ${target.env}: ${backend.describePlan(plan)}?`,
        `Plan from ${path.isAbsolute(plan.source) ? path.relative(root, plan.source) : plan.source}. Each step edits config.yaml and commits${s.pushMode === 'push' ? ' and pushes' : ''}, then follows it until live. ${gatesText} Cancel stops where it stands; the state stays in git and a new start resumes.`,
        go,
      );
      if (choice !== go) return undefined;
      const label = `${target.model} · ${target.env}`;
      this.busy = true;
      try {
        const result = await withNotificationProgress(`Rollout ${label}`, true, async (report, token) => {
            const abort = new AbortController();
            const sub = token.onCancellationRequested(() => abort.abort());
            try {
              const run = backend.startRollout({
                env: target.env,
                model: target.model,
                plan,
                ignoreGates: !metrics,
                signal: abort.signal,
                ports: backend.rolloutPorts({
                  root,
                  env: target.env,
                  model: target.model,
                  deploymentsDir: s.deploymentsDir,
                  push: s.pushMode === 'push',
                  log: (line) => log.info(`git: ${line}`),
                  store,
                  metrics,
                  followTimeoutMs: s.followTimeoutSeconds * 1000,
                  approve: (req, signal) => this.askApproval(label, req, signal),
                }),
                onEvent: (e) => {
                  this.d.onRolloutEvent?.(`${target.env}/${target.model}`, e);
                  log.info(`rollout ${target.model}/${target.env}: ${e.message}`);
                  report({ message: e.step ? `step ${e.step}/${plan.steps.length}: ${e.message}` : e.message });
                },
              });
              return await run.result;
            } finally {
              sub.dispose();
            }
        });
        await store.reloadDesired().catch(() => undefined);
        const text = `${label}: rollout ${result.outcome} at step ${result.step}/${result.of}. ${result.reason}`;
        log.info(text);
        if (result.outcome === 'rolled-back' || result.outcome === 'changed-outside') void showWarning(text);
        else void showInfo(text);
        return result;
      } finally {
        this.busy = false;
      }
    });
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
      // Asked from a row, the palette or the dashboard: editor tab or outside (dashboard-grafana.ts).
      const where = await chooseGrafanaPlace(url, { trusted: this.d.trusted(), interactive: typeof arg !== 'string' });
      if (!where) {
        this.d.log.info(`not opening ${url}: declined`);
        return undefined;
      }
      this.d.log.info(`opening ${url} ${where === 'editor' ? 'in an editor tab' : 'outside'}`);
      await openGrafanaAt(url, where);
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
        const pick = await pickOne(
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
