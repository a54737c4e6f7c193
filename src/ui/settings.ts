/**
 * The extension's settings (contributes.configuration in package.json), read in one place.
 * In an untrusted workspace the workspace's (and its folders') values of the settings listed in
 * capabilities.untrustedWorkspaces.restrictedConfigurations — every one that chooses the
 * cluster, namespaces, hosts or URLs — are ignored: VS Code already leaves them out of `get`,
 * and readSettings reads only the user's value or the default for them itself, so the rule holds
 * whatever the host does (and under the tests' trust override).
 */
// `import =` compiles to a plain require: `import * as` would make esbuild copy every property
// of the vscode API into a namespace object per module, which costs milliseconds at activation.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import vscode = require('vscode');
import { settingSource } from './prometheus-trust';
import { capabilities } from '../../package.json';

export const SECTION = 'kserveCanary';

/** Full keys whose workspace values an untrusted workspace may not set (from package.json). */
export const RESTRICTED_KEYS: readonly string[] = capabilities.untrustedWorkspaces.restrictedConfigurations;

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
  /** Environments whose changes are proposed as pull requests (src/app/policy.ts decides). */
  pullRequestEnvironments: string[];
  /** Self-hosted forge hosts → forge type, for the pull request's page. */
  forgeHosts: Record<string, string>;
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

/** Reads one key of the section; the user's value or the default only, for restricted keys when untrusted. */
interface Reader {
  get(key: string): unknown;
}

function reader(c: vscode.WorkspaceConfiguration, trusted: boolean): Reader {
  return {
    get: (key) => {
      if (trusted || !RESTRICTED_KEYS.includes(`${SECTION}.${key}`)) return c.get<unknown>(key);
      const i = c.inspect<unknown>(key);
      return i?.globalValue ?? i?.defaultValue;
    },
  };
}

function str(c: Reader, key: string, dflt = ''): string {
  const v = c.get(key);
  return typeof v === 'string' ? v.trim() : dflt;
}

function list(c: Reader, key: string, dflt: string[]): string[] {
  const v = c.get(key);
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x.trim() !== '').map((x) => x.trim()) : dflt;
}

function hosts(v: unknown): Record<string, string> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return {};
  return Object.fromEntries(
    Object.entries(v)
      .filter((e): e is [string, string] => typeof e[1] === 'string' && e[0].trim() !== '')
      .map(([h, f]) => [h.trim().toLowerCase(), f.trim().toLowerCase()]),
  );
}

export function readSettings(trusted: boolean = vscode.workspace.isTrusted): Settings {
  const raw = vscode.workspace.getConfiguration(SECTION);
  const c = reader(raw, trusted);
  const timeout = c.get('followTimeoutSeconds');
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
    pushMode: c.get('pushMode') === 'commit' ? 'commit' : 'push',
    pullRequestEnvironments: list(c, 'pullRequestEnvironments', []),
    forgeHosts: hosts(c.get('forgeHosts')),
    confirmEnvironments: list(c, 'confirmEnvironments', ['prod']),
    followTimeoutSeconds: typeof timeout === 'number' && Number.isFinite(timeout) && timeout > 0 ? timeout : 300,
    statusBarVisible: c.get('statusBar.visible') !== false,
    prometheusUrl: str(c, 'prometheus.url'),
    prometheusUrlSource: settingSource(raw.inspect<unknown>('prometheus.url'), str(c, 'prometheus.url')),
    prometheusUseKubeconfigToken: c.get('prometheus.useKubeconfigToken') !== false,
    trafficPayload: str(c, 'traffic.payload'),
    rolloutSteps: str(c, 'rollout.steps'),
    rolloutPause: str(c, 'rollout.pause'),
    rolloutMaxErrorRate: str(c, 'rollout.maxErrorRate'),
  };
}

/** Settings whose change needs a new cluster connection / a new look at the gitops checkout. */
export const CONNECTION_KEYS = ['gitopsRoot', 'deploymentsDir', 'environments', 'namespacePattern', 'user', 'toolingsNamespace', 'kubeconfig', 'context'].map(
  (k) => `${SECTION}.${k}`,
);

/** Settings whose change needs a new Prometheus client for the observed split. */
export const METRICS_KEYS = ['prometheus.url', 'prometheus.useKubeconfigToken'].map((k) => `${SECTION}.${k}`);

/** Field of Settings for each full key that CONNECTION_KEYS / METRICS_KEYS name. */
const FIELDS: Record<string, keyof Settings> = {
  gitopsRoot: 'gitopsRoot',
  deploymentsDir: 'deploymentsDir',
  environments: 'environments',
  namespacePattern: 'namespacePattern',
  user: 'user',
  toolingsNamespace: 'toolingsNamespace',
  kubeconfig: 'kubeconfig',
  context: 'context',
  'prometheus.url': 'prometheusUrl',
  'prometheus.useKubeconfigToken': 'prometheusUseKubeconfigToken',
};

/** The value in `s` of a full key such as `kserveCanary.user` (undefined for keys not listed above). */
export function settingValue(s: Settings, fullKey: string): unknown {
  const field = FIELDS[fullKey.slice(SECTION.length + 1)];
  return field ? s[field] : undefined;
}
