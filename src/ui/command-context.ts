/**
 * What every command handler shares: the controller, the log, the settings, one busy flag for
 * canary changes (behind exclusive()), failure reporting (guard), the workspace-trust check and
 * target resolution (a tree row, a service key, `{env, model}`, or a quick pick). Handlers are
 * small factories over this context (src/ui/commands*.ts); the use cases live in src/app.
 */
// `import =` compiles to a plain require: `import * as` would make esbuild copy every property
// of the vscode API into a namespace object per module, which costs milliseconds at activation.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import vscode = require('vscode');
import type { ServiceState } from '../cluster';
import { CanaryError } from '../core/errors';
import type { RolloutEvent } from '../core/rollout';
import type { Controller } from './controller';
import type { Log } from './log';
import type { ProposalCache } from './proposals';
import { pickOne, showError, showWarning } from './notify';
import { errorText, serviceLabel, servicePickItem } from './present';
import type { Settings } from './settings';
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
  /** The open pull-request proposals the tree shows (refreshed after a change proposes one). */
  proposals?: ProposalCache;
  /** Each event of a progressive rollout, for the dashboard's markers (`env/model`). */
  onRolloutEvent?: (service: string, e: RolloutEvent) => void;
}

function isNode(arg: unknown): arg is Node {
  return typeof arg === 'object' && arg !== null && 'kind' in arg && 'id' in arg;
}

/** Canary splitting only works in Serverless mode: say so instead of editing a number KServe ignores. */
export function requireCanary(target: Target): void {
  if (target.state && !target.state.canarySupported) {
    throw new CanaryError(
      'invalid-input',
      'canary-unsupported',
      `${target.model} in ${target.env} runs in ${target.state.deploymentMode} mode, where KServe ignores canaryTrafficPercent.`,
      'Canary splitting needs Serverless (Knative) mode.',
    );
  }
}

export class CommandContext {
  private busy = false;
  /** What the running change is doing now, when it says so (e.g. waiting for a merge). */
  private busyNote: string | undefined;

  constructor(private readonly d: CommandDeps) {}

  get ctl(): Controller {
    return this.d.ctl;
  }

  get log(): Log {
    return this.d.log;
  }

  get settings(): Settings {
    return this.d.ctl.settings;
  }

  get deps(): CommandDeps {
    return this.d;
  }

  trusted(): boolean {
    return this.d.trusted();
  }

  /** Runs `fn`, turning a failure into an error notification with a "Show log" button. */
  async guard<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (e) {
      void this.fail(what, e);
      return undefined;
    }
  }

  /** Logs the failure (with its code or stack) and shows it; `actions` are extra buttons, the chosen one is returned. */
  fail(what: string, e: unknown, ...actions: string[]): Thenable<string | undefined> {
    const text = errorText(e);
    this.d.log.error(`${what} failed: ${text}${e instanceof CanaryError ? ` [${e.kind}/${e.code}]` : e instanceof Error && e.stack ? `\n${e.stack}` : ''}`);
    return showError(`${what}: ${text}`, ...actions, 'Show log').then((choice) => {
      if (choice === 'Show log') this.d.log.show();
      return choice === 'Show log' ? undefined : choice;
    });
  }

  /** One canary change (or rollout) at a time. */
  async exclusive<T>(fn: () => Thenable<T>): Promise<T> {
    if (this.busy && this.busyNote)
      throw new CanaryError(
        'invalid-input',
        'busy',
        `Another canary change is still in progress: ${this.busyNote}.`,
        'Cancel it in its notification (a pull request stays open), or wait for it, then try again.',
      );
    if (this.busy)
      throw new CanaryError('invalid-input', 'busy', 'Another canary change is still being published.', 'Wait for its notification, then try again.');
    this.busy = true;
    try {
      return await fn();
    } finally {
      this.busy = false;
      this.busyNote = undefined;
    }
  }

  /** Says what the running change is doing, for the refusal of another one meanwhile. */
  noteBusy(text: string): void {
    if (this.busy) this.busyNote = text;
  }

  /** Writing commands are refused in an untrusted workspace, with the reason. */
  checkTrusted(what: string): boolean {
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

  /** The loaded backend and gitops checkout, or a clear error. */
  need(): { backend: NonNullable<Controller['backend']>; root: string } {
    const { backend, root } = this.d.ctl;
    if (!root || !backend) throw new CanaryError('not-found', 'no-gitops', 'No gitops checkout is open.', 'Open the folder holding model-deployments/.');
    return { backend, root };
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
      if (!state)
        throw new CanaryError('not-found', 'no-service', `No InferenceService ${key} is known.`, 'Refresh the view, or pick the model from the list.');
      return { env: state.env, model: serviceLabel(state), state };
    }
    type Item = vscode.QuickPickItem & { target: Target };
    const services = ctl.services().filter((s) => !filter || filter(s));
    const items: Item[] = services.map((s) => ({ ...servicePickItem(s), target: { env: s.env, model: serviceLabel(s), state: s } }));
    // Models only git knows (cluster not reachable yet): still pickable.
    for (const m of ctl.gitModels()) {
      if (!items.some((i) => i.target.env === m.env && i.target.model === m.model)) {
        items.push({
          label: m.model,
          description: `${m.env} · not on the cluster (or not connected)`,
          target: { env: m.env, model: m.model, state: undefined },
        });
      }
    }
    if (items.length === 0) {
      throw new CanaryError(
        'not-found',
        'no-models',
        'No models found: the gitops checkout has no model-deployments/<env>/<model>/config.yaml.',
        'Open the gitops checkout, or set kserveCanary.gitopsRoot.',
      );
    }
    const picked = await pickOne(items, { title, placeHolder: 'Pick a model (environment · current split)', matchOnDescription: true });
    return picked?.target;
  }
}
