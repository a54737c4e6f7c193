/**
 * The store's namespace mapping: environments → namespaces (from the settings, the context's
 * namespace and the checkout's folders), the reverse map the sinks filter by, and the toolings
 * namespace (Argo CD Applications, Grafana Route) with its `{user}-toolings` / `{user}-mlops`
 * probe. Every name that becomes a namespace is checked before it reaches a URL.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { isDnsLabel } from '../core/names';
import type { ClusterLogger, ClusterSettings, EnvironmentInfo } from './api';
import { checkNamespaceName, contextNamespace, contextUserName, namespaceFor, parseNamespace } from './kubeconfig';
import { APPLICATION, type Transport } from './transport';

const DEFAULT_PATTERN = '{user}-{env}';

export interface NamespacePlan {
  envs: EnvironmentInfo[];
  /** The toolings namespace, or the candidates probed in order (`{user}-toolings`, `{user}-mlops`). */
  toolingsChoice: string[];
}

/**
 * Environments → namespaces, and the toolings namespace candidates. Every name that becomes
 * a namespace (a path segment of the requests) is checked first: a setting giving `..` or
 * `kube:admin-test` is refused here (CanaryError) and never reaches a URL.
 */
export function planNamespaces(settings: ClusterSettings, kc: KubeConfig, desiredEnvs: string[]): NamespacePlan {
  const pattern = settings.namespacePattern ?? DEFAULT_PATTERN;
  const ctxNs = contextNamespace(kc);
  for (const env of settings.environments ?? []) {
    if (!isDnsLabel(env))
      checkNamespaceName(
        env,
        'an entry of the environments setting',
        'Fix the environments setting: environment names are folder names under model-deployments/, e.g. "test".',
      );
  }
  if (settings.user !== undefined && !isDnsLabel(settings.user)) {
    checkNamespaceName(settings.user, 'the user setting', 'Fix the user setting: it is the {user} part of namespaces like user1-test.');
  }
  const known = settings.environments ?? desiredEnvs;
  const parsed = ctxNs ? parseNamespace(pattern, ctxNs, known) : undefined;
  const user = settings.user ?? (parsed?.user || undefined) ?? contextUserName(kc) ?? '';
  const userFrom =
    settings.user !== undefined ? 'the user setting' : parsed?.user ? `the context namespace ${ctxNs}` : `the kubeconfig user ${JSON.stringify(user)}`;
  let names = settings.environments ?? (desiredEnvs.length ? desiredEnvs : parsed?.env ? [parsed.env] : []);
  names = [...new Set(names)];
  const context = kc.getCurrentContext();
  const fixPattern = 'Check the namespace pattern and user settings (e.g. pattern {user}-{env}, user user1).';
  const envs = names.map((env) => ({
    env,
    namespace: checkNamespaceName(namespaceFor(pattern, user, env), `pattern ${pattern} with user from ${userFrom}, environment ${env}`, fixPattern),
    context,
  }));
  let toolingsChoice: string[];
  if (settings.toolingsNamespace !== undefined) {
    toolingsChoice = [
      checkNamespaceName(
        settings.toolingsNamespace,
        'the toolingsNamespace setting',
        'Fix the toolings namespace setting (the namespace of the Argo CD Applications, e.g. user1-toolings), or clear it.',
      ),
    ];
  } else if (user) {
    const fix = 'Set the toolings namespace setting (the namespace of the Argo CD Applications), or the user setting.';
    toolingsChoice = [checkNamespaceName(`${user}-toolings`, `the default {user}-toolings with user from ${userFrom}`, fix), `${user}-mlops`].filter(
      isDnsLabel,
    );
  } else {
    toolingsChoice = [];
  }
  return { envs, toolingsChoice };
}

/** The first candidate that holds an Argo CD Application (the primary when none does). */
export async function pickToolings(transport: Transport, [primary, legacy]: string[], log: ClusterLogger): Promise<string> {
  const has = async (ns: string) => {
    try {
      return (await transport.list(APPLICATION, ns)).items.length > 0;
    } catch {
      return false;
    }
  };
  if (await has(primary)) return primary;
  if (await has(legacy)) {
    log.info(`Using ${legacy} as the toolings namespace (${primary} holds no Argo CD Application).`);
    return legacy;
  }
  return primary;
}

/** The mapping in use by the current connection. */
export class NamespaceMap {
  private envs: EnvironmentInfo[] = [];
  private nsToEnv = new Map<string, string>();
  private choice: string[] = [];
  private toolings: string | undefined;

  /** Maps the environments; throws (CanaryError) when a setting gives no valid namespace, leaving the map as it was. */
  map(settings: ClusterSettings, kc: KubeConfig, desiredEnvs: string[]): void {
    const plan = planNamespaces(settings, kc, desiredEnvs);
    this.envs = plan.envs;
    this.nsToEnv = new Map(plan.envs.map((e) => [e.namespace, e.env]));
    this.choice = plan.toolingsChoice;
  }

  /** No valid mapping: nothing is watched. */
  clear(): void {
    this.envs = [];
    this.nsToEnv = new Map();
    this.toolings = undefined;
  }

  /** The environments in order (the live array: copy before handing it out). */
  environments(): readonly EnvironmentInfo[] {
    return this.envs;
  }

  /** Every watched namespace, in the environments' order. */
  namespaces(): string[] {
    return [...this.nsToEnv.keys()];
  }

  namespaceOf(env: string): string | undefined {
    return this.envs.find((e) => e.env === env)?.namespace;
  }

  envOf(namespace: string): string | undefined {
    return this.nsToEnv.get(namespace);
  }

  watches(namespace: string): boolean {
    return this.nsToEnv.has(namespace);
  }

  /** The toolings namespace candidates of the last mapping. */
  toolingsChoice(): string[] {
    return this.choice;
  }

  /** Toolings namespace in use (after the `-toolings` / `-mlops` fallback). */
  get toolingsNamespace(): string | undefined {
    return this.toolings;
  }

  useToolings(namespace: string | undefined): void {
    this.toolings = namespace;
  }
}
