/**
 * Finding and loading the kubeconfig (explicit path(s), $KUBECONFIG with several files,
 * ~/.kube/config, the in-cluster service account), noticing when it changes, and mapping
 * environments to namespaces.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { CanaryError } from '../core/errors';
import { isDnsLabel } from '../core/names';
import { redact } from '../core/redact';
import { watchFolders } from './fswatch';

type ClientModule = typeof import('@kubernetes/client-node');
let clientModule: Promise<ClientModule> | undefined;

/** @kubernetes/client-node is ESM-only and heavy: loaded on first use only. */
export function loadClient(): Promise<ClientModule> {
  clientModule ??= import('@kubernetes/client-node');
  return clientModule;
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeconfigSource {
  kind: 'files' | 'in-cluster';
  /** The files read, watched for changes: the kubeconfigs in precedence order, or in-cluster the token. */
  files: string[];
  /** In-cluster: the service account folder (token, ca.crt, namespace)… */
  serviceAccountDir?: string;
  /** …and the API server, https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT of the environment given. */
  server?: string;
}

/**
 * Which kubeconfig applies: explicit path(s), else $KUBECONFIG, else ~/.kube/config, else the
 * in-cluster service account (KUBERNETES_SERVICE_HOST and _PORT set, as in every pod, and a
 * token in the service account folder: /var/run/secrets/kubernetes.io/serviceaccount, or
 * $KSC_SERVICE_ACCOUNT_DIR).
 */
export function findKubeconfig(
  explicit: string | undefined,
  env: NodeJS.ProcessEnv,
  serviceAccountDir = env.KSC_SERVICE_ACCOUNT_DIR || SERVICE_ACCOUNT_DIR,
): KubeconfigSource | undefined {
  const split = (v: string) => v.split(path.delimiter).filter((f) => f.length > 0);
  if (explicit && explicit.trim()) return { kind: 'files', files: split(explicit.trim()) };
  if (env.KUBECONFIG && split(env.KUBECONFIG).length > 0) {
    // kubectl ignores files of the list that do not exist
    const files = split(env.KUBECONFIG).filter((f) => fs.existsSync(f));
    if (files.length > 0) return { kind: 'files', files };
  }
  const home = env.HOME ?? env.USERPROFILE;
  if (home) {
    const f = path.join(home, '.kube', 'config');
    if (fs.existsSync(f)) return { kind: 'files', files: [f] };
  }
  const host = env.KUBERNETES_SERVICE_HOST?.trim();
  const port = env.KUBERNETES_SERVICE_PORT?.trim();
  if (host && port && fs.existsSync(path.join(serviceAccountDir, 'token'))) {
    // like client-go's InClusterConfig: always https, IPv6 literals in brackets
    const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
    return { kind: 'in-cluster', files: [path.join(serviceAccountDir, 'token')], serviceAccountDir, server };
  }
  return undefined;
}

/**
 * The pod's service account as a kubeconfig. The token is read here, trimmed (a stray newline
 * would make an invalid header); the store watches the token file (source.files) and reloads
 * when the kubelet rotates it.
 */
function inClusterOptions(source: KubeconfigSource): Parameters<KubeConfig['loadFromOptions']>[0] {
  const dir = source.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const read = (name: string) => {
    try {
      return fs.readFileSync(path.join(dir, name), 'utf8').trim() || undefined;
    } catch {
      return undefined;
    }
  };
  const token = read('token');
  if (!token) {
    throw new CanaryError(
      'cluster',
      'bad-kubeconfig',
      `The service account token ${path.join(dir, 'token')} is empty or unreadable.`,
      'Check that the pod mounts its service account token (automountServiceAccountToken), or use a kubeconfig.',
    );
  }
  const namespace = read('namespace');
  const caFile = path.join(dir, 'ca.crt');
  return {
    clusters: [{ name: 'in-cluster', server: source.server ?? '', skipTLSVerify: false, ...(fs.existsSync(caFile) ? { caFile } : {}) }],
    users: [{ name: 'service-account', token }],
    contexts: [{ name: 'in-cluster', cluster: 'in-cluster', user: 'service-account', ...(namespace ? { namespace } : {}) }],
    currentContext: 'in-cluster',
  };
}

/**
 * Loads the kubeconfig. Several files merge like kubectl: the first file that sets a
 * current-context wins, and for clusters/users/contexts of the same name the first wins.
 */
export async function loadKubeconfig(source: KubeconfigSource, context: string | undefined): Promise<KubeConfig> {
  const k8s = await loadClient();
  const kc = new k8s.KubeConfig();
  const userTokenFiles = new Map<string, string>();
  if (source.kind === 'in-cluster') {
    kc.loadFromOptions(inClusterOptions(source));
  } else {
    const clusters: KubeConfig['clusters'] = [];
    const users: KubeConfig['users'] = [];
    const contexts: KubeConfig['contexts'] = [];
    let current = '';
    for (const file of source.files) {
      const one = new k8s.KubeConfig();
      try {
        one.loadFromFile(file);
      } catch (e) {
        throw new CanaryError(
          'cluster',
          'bad-kubeconfig',
          // the parser's first line only (later lines quote the file, tokens included), redacted
          `Could not read the kubeconfig ${file}: ${redact(e instanceof Error ? (e.message.split('\n')[0] ?? '') : String(e)).slice(0, 200)}`,
          'Fix or remove the file, or point the kubeconfig setting / --kubeconfig at another one.',
          { cause: e },
        );
      }
      for (const c of one.clusters) if (!clusters.some((x) => x.name === c.name)) clusters.push(c);
      const fileTokens = tokenFilesOf(file);
      for (const u of one.users) {
        if (users.some((x) => x.name === u.name)) continue;
        const tf = fileTokens.get(u.name);
        if (tf) userTokenFiles.set(u.name, tf);
        // client-node read the token file once, untrimmed: read it here, trimmed, like kubectl
        users.push(tf ? { ...u, token: readToken(tf) } : u);
      }
      for (const c of one.contexts) if (!contexts.some((x) => x.name === c.name)) contexts.push(c);
      if (!current && one.currentContext) current = one.currentContext;
    }
    kc.loadFromOptions({ clusters, users, contexts, currentContext: current });
  }
  if (context) {
    if (!kc.getContextObject(context)) {
      throw new CanaryError(
        'cluster',
        'unknown-context',
        `The kubeconfig has no context named "${context}".`,
        `Use one of: ${kc.contexts.map((c) => c.name).join(', ') || '(none)'}.`,
      );
    }
    kc.setCurrentContext(context);
  }
  if (!kc.getCurrentCluster()) {
    throw new CanaryError(
      'cluster',
      'no-current-context',
      'The kubeconfig has no current context (or it names a missing cluster).',
      'Log in (oc login) or run `kubectl config use-context <name>`, or pass --context.',
    );
  }
  const user = kc.getCurrentUser();
  const tf = user ? userTokenFiles.get(user.name) : undefined;
  if (tf) {
    if (!user?.token) {
      throw new CanaryError(
        'cluster',
        'bad-kubeconfig',
        `The token file ${tf} of the kubeconfig user ${JSON.stringify(user?.name ?? '').slice(0, 80)} is empty or unreadable.`,
        'Log in again, or fix users[].user.token-file in the kubeconfig.',
      );
    }
    tokenFileOf.set(kc, tf);
  }
  return kc;
}

/** The current user's token file (users[].user.token-file), absolute: watched like the kubeconfig, a rewrite reconnects. */
const tokenFileOf = new WeakMap<KubeConfig, string>();

export function currentTokenFile(kc: KubeConfig): string | undefined {
  return tokenFileOf.get(kc);
}

/** users[].user.token-file of one kubeconfig file (the users without a token), absolute. */
function tokenFilesOf(file: string): Map<string, string> {
  const out = new Map<string, string>();
  let doc: { users?: { name?: unknown; user?: { token?: unknown; 'token-file'?: unknown } }[] } | undefined;
  try {
    doc = parseYaml(fs.readFileSync(file, 'utf8')) as typeof doc;
  } catch {
    return out; // client-node read it: a file it can read but we cannot has no token file for us
  }
  for (const u of Array.isArray(doc?.users) ? doc.users : []) {
    const tf = u?.user?.['token-file'];
    // resolved as client-node reads it (from the working folder), so both read the same file
    if (typeof u?.name === 'string' && typeof tf === 'string' && tf && !u.user?.token) out.set(u.name, path.resolve(tf));
  }
  return out;
}

function readToken(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The namespace of the current context (in-cluster: the pod's namespace). */
export function contextNamespace(kc: KubeConfig): string | undefined {
  const ctx = kc.getContextObject(kc.getCurrentContext());
  const ns = ctx?.namespace?.trim();
  return ns || undefined;
}

/** Name of the user of the current context, without OpenShift's `/cluster` suffix. */
export function contextUserName(kc: KubeConfig): string | undefined {
  const u = kc.getCurrentUser()?.name;
  return u ? u.split('/')[0] : undefined;
}

/**
 * Refuses a name that is about to become a namespace (a path segment of every request) when it
 * is not a DNS-1123 label: `..`, `a/b`, `kube:admin-test`, upper case, too long. `from` says
 * where it came from, e.g. `the toolingsNamespace setting`; `fix` what to change.
 */
export function checkNamespaceName(ns: string, from: string, fix: string): string {
  if (isDnsLabel(ns)) return ns;
  throw new CanaryError(
    'invalid-input',
    'invalid-settings',
    `Invalid namespace ${JSON.stringify(ns).slice(0, 80)} (${from}): a namespace is a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters). Nothing was asked of the cluster.`,
    fix,
  );
}

// Pure namespace <-> environment mapping lives in src/core/namespace.ts (the CLI uses it too).
export { namespaceFor, parseNamespace } from '../core/namespace';

export function hashFiles(files: string[]): string {
  const h = createHash('sha256');
  for (const f of files) {
    h.update(f);
    try {
      h.update(fs.readFileSync(f));
    } catch {
      h.update('\0missing');
    }
  }
  return h.digest('hex');
}

/**
 * Calls onChange (debounced) when any of the files changes content. Watches their folders, so
 * files replaced by rename (how `oc login` and editors write) and files created later are seen.
 * onChecked, if given, is told after every debounced re-read whether the content had changed
 * (tests wait for it instead of sleeping).
 */
export function watchKubeconfigFiles(files: string[], debounceMs: number, onChange: () => void, onChecked?: (changed: boolean) => void): () => void {
  let last = hashFiles(files);
  // Any change in the folders (rename, lock file, the file itself) re-hashes after the burst.
  const dirs = [...new Set(files.map((f) => path.dirname(path.resolve(f))))];
  return watchFolders(
    dirs.map((dir) => ({ dir })),
    debounceMs,
    () => {
      const now = hashFiles(files);
      const changed = now !== last;
      if (changed) {
        last = now;
        onChange();
      }
      onChecked?.(changed);
    },
  );
}
