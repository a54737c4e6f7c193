/**
 * The extension's settings (contributes.configuration in package.json), read in one place.
 * In an untrusted workspace VS Code ignores workspace values of the settings listed in
 * capabilities.untrustedWorkspaces.restrictedConfigurations (kubeconfig, context, Grafana URL
 * template, gitops root): `get` then returns the user's value.
 */
// `import =` compiles to a plain require: `import * as` would make esbuild copy every property
// of the vscode API into a namespace object per module, which costs milliseconds at activation.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import vscode = require('vscode');
import { settingSource } from './prometheus-trust';

export const SECTION = 'kserveCanary';

export interface Settings {
  gitopsRoot: string;
  deploymentsDir: string;
  environments: string[];
  namespacePattern: string;
  user: string;
  toolingsNamespace: string;
  kubeconfig: string;
  context: string;
  grafanaUrlTemplate: string;
  grafanaDashboardUid: string;
  commitMessageTemplate: string;
  pushMode: 'push' | 'commit';
  confirmEnvironments: string[];
  followTimeoutSeconds: number;
  statusBarVisible: boolean;
  prometheusUrl: string;
  /** `workspace`: the URL comes from the workspace (the kubeconfig token then needs a confirmed host). */
  prometheusUrlSource: 'user' | 'workspace';
  prometheusUseKubeconfigToken: boolean;
  trafficPayload: string;
  rolloutSteps: string;
  rolloutPause: string;
  rolloutMaxErrorRate: string;
}

function str(c: vscode.WorkspaceConfiguration, key: string, dflt = ''): string {
  const v = c.get<unknown>(key);
  return typeof v === 'string' ? v.trim() : dflt;
}

function list(c: vscode.WorkspaceConfiguration, key: string, dflt: string[]): string[] {
  const v = c.get<unknown>(key);
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x.trim() !== '').map((x) => x.trim()) : dflt;
}

export function readSettings(): Settings {
  const c = vscode.workspace.getConfiguration(SECTION);
  const timeout = c.get<unknown>('followTimeoutSeconds');
  return {
    gitopsRoot: str(c, 'gitopsRoot'),
    deploymentsDir: str(c, 'deploymentsDir') || 'model-deployments',
    environments: list(c, 'environments', []),
    namespacePattern: str(c, 'namespacePattern') || '{user}-{env}',
    user: str(c, 'user'),
    toolingsNamespace: str(c, 'toolingsNamespace'),
    kubeconfig: str(c, 'kubeconfig'),
    context: str(c, 'context'),
    grafanaUrlTemplate: str(c, 'grafanaUrlTemplate'),
    grafanaDashboardUid: str(c, 'grafanaDashboardUid'),
    commitMessageTemplate: str(c, 'commitMessageTemplate'),
    pushMode: c.get<unknown>('pushMode') === 'commit' ? 'commit' : 'push',
    confirmEnvironments: list(c, 'confirmEnvironments', ['prod']),
    followTimeoutSeconds: typeof timeout === 'number' && Number.isFinite(timeout) && timeout > 0 ? timeout : 300,
    statusBarVisible: c.get<unknown>('statusBar.visible') !== false,
    prometheusUrl: str(c, 'prometheus.url'),
    prometheusUrlSource: settingSource(c.inspect<unknown>('prometheus.url'), str(c, 'prometheus.url')),
    prometheusUseKubeconfigToken: c.get<unknown>('prometheus.useKubeconfigToken') !== false,
    trafficPayload: str(c, 'traffic.payload'),
    rolloutSteps: str(c, 'rollout.steps'),
    rolloutPause: str(c, 'rollout.pause'),
    rolloutMaxErrorRate: str(c, 'rollout.maxErrorRate'),
  };
}

/** Settings whose change needs a new cluster connection / a new look at the gitops checkout. */
export const CONNECTION_KEYS = [
  'gitopsRoot', 'deploymentsDir', 'environments', 'namespacePattern', 'user', 'toolingsNamespace', 'kubeconfig', 'context',
].map((k) => `${SECTION}.${k}`);

/** Settings whose change needs a new Prometheus client for the observed split. */
export const METRICS_KEYS = ['prometheus.url', 'prometheus.useKubeconfigToken'].map((k) => `${SECTION}.${k}`);
