/**
 * Whose choice the Prometheus URL is, and the once-per-host question before the kubeconfig
 * token goes to a host a workspace named. A repository's .vscode/settings.json can set
 * `kserveCanary.prometheus.url` (a trusted workspace's values apply): sending the user's
 * cluster login there without asking would hand it to whoever wrote the repository. A URL from
 * the user settings is the user's own choice and needs no question.
 *
 * The answer "send" is remembered per origin (scheme, host, port) in the extension's global
 * state; any other answer lasts for the session (no token then, and no second question).
 * No runtime vscode import: the dialog comes in as a function, so this is unit-tested.
 */
import type * as vscode from 'vscode';

/** What WorkspaceConfiguration.inspect returns, as far as it matters here. */
export interface Inspected {
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
  workspaceLanguageValue?: unknown;
  workspaceFolderLanguageValue?: unknown;
}

/**
 * `workspace` when the value in effect comes from the workspace or a folder (and the user
 * settings do not hold the same value), else `user`.
 */
export function settingSource(i: Inspected | undefined, effective: string): 'user' | 'workspace' {
  if (!i) return 'user';
  const norm = (v: unknown) => (typeof v === 'string' ? v.trim() : undefined);
  const fromWorkspace = [i.workspaceFolderLanguageValue, i.workspaceFolderValue, i.workspaceLanguageValue, i.workspaceValue].some((v) => norm(v) === effective);
  if (!fromWorkspace) return 'user';
  return norm(i.globalValue) === effective ? 'user' : 'workspace';
}

export const TRUSTED_HOSTS_KEY = 'kserveCanary.prometheus.tokenHosts';

/** Asks the user; resolves true only for an explicit "send". */
export type AskSend = (origin: string) => Promise<boolean>;

export class PrometheusHostTrust {
  /** This session's answers (and questions still open: one dialog per host at a time). */
  private readonly session = new Map<string, Promise<boolean>>();

  constructor(
    private readonly memento: Pick<vscode.Memento, 'get' | 'update'> | undefined,
    private readonly ask: AskSend,
  ) {}

  private remembered(): string[] {
    const v = this.memento?.get<unknown>(TRUSTED_HOSTS_KEY);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  }

  /** Whether the kubeconfig token may go to `origin`: remembered, else asked once. */
  confirm(origin: string): Promise<boolean> {
    if (this.remembered().includes(origin)) return Promise.resolve(true);
    let p = this.session.get(origin);
    if (!p) {
      p = this.ask(origin).then(
        async (send) => {
          if (send) await this.memento?.update(TRUSTED_HOSTS_KEY, [...new Set([...this.remembered(), origin])]);
          return send;
        },
        () => false,
      );
      this.session.set(origin, p);
    }
    return p;
  }
}

/** The modal question (the notify door passed in, so that this file loads without vscode). */
export function modalAsk(ask: (text: string, detail: string, ...items: string[]) => Thenable<string | undefined>): AskSend {
  return async (origin) => {
    const send = 'Send my token';
    const choice = await ask(
      `The workspace settings set kserveCanary.prometheus.url to ${origin}. Send your kubeconfig token (your cluster login) to it, to read the observed split and rollout gates?`,
      'Whoever runs that host could act on the cluster as you. Send it only if you trust this repository and this host. The answer is remembered for this host; otherwise metrics are asked for without a token. A URL in your user settings is never questioned.',
      send,
    );
    return choice === send;
  };
}
