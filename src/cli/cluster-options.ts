/**
 * The --kubeconfig / --context / --prometheus options shared by the commands that reach a
 * cluster (and by `--wait` on set / promote / rollback), apart from the cluster code so those
 * parse without it, and their up-front check: the kubeconfig files exist, are readable and are
 * YAML; --context names a context in them; the Prometheus URL is http(s) and its CA file
 * readable. Files only: nothing here contacts a cluster (that happens after the checks, and for
 * set / promote / rollback only after the push).
 */
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { OptionSpec, Parsed } from './args';
import type { CliIO } from './command';
import { usageError } from './output';

export const CLUSTER_OPTIONS: OptionSpec = {
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
};

export const CLUSTER_USAGE = `      --kubeconfig <f>   kubeconfig file(s) (default: $KUBECONFIG, ~/.kube/config, in-cluster)
      --context <c>      kubeconfig context (default: its current-context)`;

export const PROMETHEUS_ENV = { url: 'KSERVE_CANARY_PROMETHEUS_URL', token: 'KSERVE_CANARY_PROMETHEUS_TOKEN', ca: 'KSERVE_CANARY_PROMETHEUS_CA' } as const;

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

function given(values: Parsed['values'], name: string, command: string): string | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.trim() === '')
    throw usageError(`${command}: --${name} needs a value.`, `Run \`kserve-canary ${command} --help\` for the options.`);
  return v;
}

/** Context names of one kubeconfig file; refuses a file that is missing, unreadable or not a kubeconfig. */
function contextsOf(command: string, file: string, source: string): string[] {
  const blame = `${command}: ${source} ${file}`;
  if (!existsSync(file)) throw usageError(`${blame}: no such file.`, 'Give the path of a kubeconfig file (oc login writes ~/.kube/config).');
  if (!statSync(file).isFile()) throw usageError(`${blame}: not a file.`, 'Give the path of a kubeconfig file.');
  let text: string;
  try {
    accessSync(file, constants.R_OK);
    text = readFileSync(file, 'utf8');
  } catch {
    throw usageError(`${blame}: cannot be read (permissions).`, 'Make it readable for your user, or point --kubeconfig at another file.');
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw usageError(
      `${blame}: not a kubeconfig (${(e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 120)}).`,
      'Fix the file or give another one.',
    );
  }
  if (doc === null || doc === undefined) return [];
  if (typeof doc !== 'object' || Array.isArray(doc)) throw usageError(`${blame}: not a kubeconfig (not a YAML mapping).`, 'Fix the file or give another one.');
  const contexts = (doc as { contexts?: unknown }).contexts;
  return Array.isArray(contexts)
    ? contexts.flatMap((c) => (c && typeof c === 'object' && typeof (c as { name?: unknown }).name === 'string' ? [(c as { name: string }).name] : []))
    : [];
}

/**
 * Checks --kubeconfig and --context against the files (the same precedence as the cluster layer:
 * --kubeconfig, else the existing files of $KUBECONFIG, else ~/.kube/config, else in-cluster).
 * `needCluster`: refuse when no kubeconfig is found at all, or a found one is broken (for
 * --wait, before the push).
 */
export function checkClusterOptions(command: string, values: Parsed['values'], io: CliIO, needCluster = false): void {
  const explicit = given(values, 'kubeconfig', command);
  const context = given(values, 'context', command);
  const split = (v: string) => v.split(path.delimiter).filter((f) => f !== '');
  let files: { file: string; source: string }[];
  if (explicit !== undefined) {
    files = split(explicit).map((f) => ({ file: path.resolve(io.cwd, f), source: '--kubeconfig' }));
  } else {
    files = split(io.env.KUBECONFIG ?? '')
      .filter((f) => existsSync(f))
      .map((file) => ({ file, source: '$KUBECONFIG' }));
    const home = io.env.HOME ?? io.env.USERPROFILE;
    const homeConfig = home ? path.join(home, '.kube', 'config') : undefined;
    if (files.length === 0 && homeConfig && existsSync(homeConfig)) files = [{ file: homeConfig, source: 'kubeconfig' }];
  }
  const inCluster = files.length === 0 && !!io.env.KUBERNETES_SERVICE_HOST && existsSync(SERVICE_ACCOUNT_TOKEN);
  if (files.length === 0 && !inCluster && (needCluster || context !== undefined)) {
    throw usageError(
      `${command}: ${context !== undefined ? `--context ${context}` : '--wait'}: no kubeconfig found (--kubeconfig, $KUBECONFIG, ~/.kube/config) and not running in a pod.`,
      'Log in first (oc login), or pass --kubeconfig <file>.',
    );
  }
  // The files are read when the command names them or needs them (a broken $KUBECONFIG does
  // not stop `set` without --wait).
  if (explicit === undefined && context === undefined && !needCluster) return;
  const contexts = files.flatMap((f) => contextsOf(command, f.file, f.source));
  if (context !== undefined && !inCluster && !contexts.includes(context)) {
    throw usageError(
      `${command}: --context ${JSON.stringify(context).slice(0, 60)} is not a context of ${files.map((f) => f.file).join(', ')}.`,
      contexts.length
        ? `Contexts there: ${contexts.slice(0, 10).join(', ')}${contexts.length > 10 ? ', …' : ''}.`
        : 'That kubeconfig has no contexts; log in first (oc login).',
    );
  }
}

/** --prometheus, else $KSERVE_CANARY_PROMETHEUS_URL: an http(s) URL; the CA file, when named, readable. */
export function checkPrometheusOptions(command: string, values: Parsed['values'], io: CliIO): void {
  const opt = given(values, 'prometheus', command);
  const url = opt ?? (io.env[PROMETHEUS_ENV.url] || undefined);
  const source = opt !== undefined ? '--prometheus' : `$${PROMETHEUS_ENV.url}`;
  if (url !== undefined) {
    let u: URL | undefined;
    try {
      u = new URL(url);
    } catch {
      u = undefined;
    }
    if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) {
      throw usageError(
        `${command}: ${source} ${JSON.stringify(url).slice(0, 80)}: the URL must be http or https.`,
        'For example --prometheus https://thanos-querier.example.com',
      );
    }
    if (u.username || u.password)
      throw usageError(`${command}: ${source} must not carry credentials in the URL.`, `Put the token in $${PROMETHEUS_ENV.token} instead.`);
  }
  const ca = io.env[PROMETHEUS_ENV.ca];
  if (url !== undefined && ca) {
    try {
      accessSync(path.resolve(io.cwd, ca), constants.R_OK);
    } catch {
      throw usageError(`${command}: $${PROMETHEUS_ENV.ca} ${ca}: no such readable file.`, 'Point it at the PEM file of the Prometheus CA, or unset it.');
    }
  }
}
