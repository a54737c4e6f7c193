/**
 * Checking option values, in one place, before a command writes anything (a commit, a push, a
 * request): durations (one syntax for every time option, src/core/duration.ts), numbers,
 * --message, -o/--output, and the settings that shape namespaces and paths (--namespace-pattern,
 * --user, --toolings-namespace, --deployments-dir, --environments and their KSERVE_CANARY_*
 * variables) with -n/--namespace mapped to its environment. Every refusal is a usage error (exit 2) naming the
 * option and why. Reads files (the checkout's folders) but never writes and never reaches a cluster.
 */
import { stringify as toYaml } from 'yaml';
import { CanaryError, isCanaryError } from '../core/errors';
import { DURATION_SYNTAX, describeDuration, parseDuration } from '../core/duration';
import { checkDeploymentsDir, discoverLayout, DEFAULT_DEPLOYMENTS_DIR } from '../core/layout';
import { isDnsLabel, validateName } from '../core/names';
import { DEFAULT_NAMESPACE_PATTERN, environmentForNamespace, namespacePatternProblem } from '../core/namespace';
import type { OptionSpec, Parsed } from './args';
import type { CliIO } from './command';
import { usageError } from './output';

type Values = Parsed['values'];

function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/**
 * A time option in the one duration syntax, in ms; `fallback` when absent. `min` (default 1 ms:
 * zero refused) and `max` bound it.
 */
export function durationOption(
  command: string,
  values: Values,
  name: string,
  fallback: number | undefined,
  bounds: { min?: number; max?: number } = {},
): number | undefined {
  const v = str(values, name);
  if (v === undefined) return fallback;
  const ms = parseDuration(v);
  if (ms === undefined) throw usageError(`${command}: --${name} ${JSON.stringify(v).slice(0, 40)} is not a duration.`, `Durations: ${DURATION_SYNTAX}.`);
  const min = bounds.min ?? 1;
  if (ms < min)
    throw usageError(
      `${command}: --${name} ${v} is too short: ${min <= 1 ? 'it must be more than 0' : `at least ${describeDuration(min)}`}.`,
      `For example --${name} 30s.`,
    );
  if (bounds.max !== undefined && ms > bounds.max)
    throw usageError(`${command}: --${name} ${v} is too long: at most ${describeDuration(bounds.max)}.`, `For example --${name} 30s.`);
  return ms;
}

/** A number option (`10`, `2.5`); `whole` refuses fractions; `min`/`max` bound it. */
export function numberOption(
  command: string,
  values: Values,
  name: string,
  fallback: number | undefined,
  o: { whole?: boolean; min?: number; max?: number } = {},
): number | undefined {
  const v = str(values, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  const shape = o.whole ? /^\d+$/ : /^\d+(\.\d+)?$/;
  if (!shape.test(v.trim()) || !Number.isFinite(n)) {
    throw usageError(`${command}: --${name} ${JSON.stringify(v).slice(0, 40)} is not a ${o.whole ? 'whole ' : ''}number.`, `For example --${name} 10.`);
  }
  if ((o.min !== undefined && n < o.min) || (o.max !== undefined && n > o.max)) {
    throw usageError(
      `${command}: --${name} ${v} is outside ${o.min ?? 0}..${o.max ?? '∞'}.`,
      `For example --${name} ${o.min !== undefined && o.min > 10 ? o.min : 10}.`,
    );
  }
  return n;
}

/** --message: not empty, no NUL (git would cut it there), undefined when absent. */
export function messageOption(command: string, values: Values): string | undefined {
  const v = str(values, 'message');
  if (v === undefined) return undefined;
  if (v.trim() === '') throw usageError(`${command}: --message is empty.`, 'Give the commit message text, or leave --message out for the default.');
  if (v.includes('\0')) throw usageError(`${command}: --message contains a NUL character.`, 'Give plain text.');
  return v;
}

// ---- -o/--output ---------------------------------------------------------------------------

export type OutputFormat = 'text' | 'json' | 'yaml' | 'wide';

export const OUTPUT_OPTIONS: OptionSpec = {
  json: { type: 'boolean' },
  output: { type: 'string', short: 'o' },
};

export const OUTPUT_USAGE = `  -o, --output <f>       json | yaml | wide (more columns); --json is -o json`;

export function outputOption(command: string, values: Values): OutputFormat {
  const o = str(values, 'output');
  if (o === undefined) return values.json === true ? 'json' : 'text';
  if (o !== 'json' && o !== 'yaml' && o !== 'wide')
    throw usageError(`${command}: --output ${JSON.stringify(o).slice(0, 40)} is not a format.`, 'Use -o json, -o yaml or -o wide.');
  if (values.json === true && o !== 'json') throw usageError(`${command}: --json and -o ${o} exclude each other.`, 'Give one of them.');
  return o;
}

/** A document as JSON (indented unless `compact`) or YAML (`---` first when `compact`, for streams). */
export function formatDocument(format: 'json' | 'yaml', doc: unknown, compact = false): string {
  if (format === 'json') return `${JSON.stringify(doc, null, compact ? 0 : 2)}\n`;
  return `${compact ? '---\n' : ''}${toYaml(doc, { lineWidth: 0 })}`;
}

// ---- namespaces and paths ------------------------------------------------------------------

export const SCOPE_ENV = {
  'namespace-pattern': 'KSERVE_CANARY_NAMESPACE_PATTERN',
  user: 'KSERVE_CANARY_USER',
  'toolings-namespace': 'KSERVE_CANARY_TOOLINGS_NAMESPACE',
  'deployments-dir': 'KSERVE_CANARY_DEPLOYMENTS_DIR',
  environments: 'KSERVE_CANARY_ENVIRONMENTS',
} as const;

export const SCOPE_OPTIONS: OptionSpec = {
  namespace: { type: 'string', short: 'n' },
  'namespace-pattern': { type: 'string' },
  user: { type: 'string' },
  'toolings-namespace': { type: 'string' },
  'deployments-dir': { type: 'string' },
  environments: { type: 'string' },
};

export const SCOPE_USAGE = `  -n, --namespace <ns>   instead of --env: the environment whose namespace this is
                         (user1-test → test, with the namespace pattern)
      --namespace-pattern <p>
                         namespace of an environment (default {user}-{env};
                         $${SCOPE_ENV['namespace-pattern']})
      --user <u>         {user} in namespaces (default: from the context's namespace;
                         $${SCOPE_ENV.user})
      --toolings-namespace <ns>
                         namespace of the Argo CD Applications (default {user}-toolings,
                         else {user}-mlops; $${SCOPE_ENV['toolings-namespace']})
      --deployments-dir <d>
                         folder of <env>/<model>/config.yaml in the checkout
                         (default ${DEFAULT_DEPLOYMENTS_DIR}; $${SCOPE_ENV['deployments-dir']})
      --environments <a,b>
                         the environments to watch and to map -n to (default: the
                         checkout's folders; $${SCOPE_ENV.environments})`;

/** The settings the extension reads from kserveCanary.* (namespacePattern, user, ...), checked. */
export interface Scope {
  deploymentsDir: string;
  namespacePattern?: string;
  user?: string;
  toolingsNamespace?: string;
  /** Environments to watch (the extension's `environments`); default: the checkout's folders. */
  environments?: string[];
}

/** An option, else its KSERVE_CANARY_* variable; the name to blame when it is bad. */
function fromOptionOrEnv(values: Values, io: CliIO, name: keyof typeof SCOPE_ENV): { value: string; source: string } | undefined {
  const v = str(values, name);
  if (v !== undefined) return { value: v, source: `--${name}` };
  const e = io.env[SCOPE_ENV[name]];
  return e !== undefined && e !== '' ? { value: e, source: `$${SCOPE_ENV[name]}` } : undefined;
}

export function readScope(command: string, values: Values, io: CliIO): Scope {
  const pattern = fromOptionOrEnv(values, io, 'namespace-pattern');
  const user = fromOptionOrEnv(values, io, 'user');
  const toolings = fromOptionOrEnv(values, io, 'toolings-namespace');
  const dd = fromOptionOrEnv(values, io, 'deployments-dir');
  const envs = fromOptionOrEnv(values, io, 'environments');
  const scope: Scope = { deploymentsDir: DEFAULT_DEPLOYMENTS_DIR };
  if (pattern) {
    const problem = namespacePatternProblem(pattern.value);
    if (problem)
      throw usageError(
        `${command}: ${pattern.source} ${JSON.stringify(pattern.value).slice(0, 60)}: ${problem}.`,
        'For example {user}-{env} (user1-test) or team-{env}.',
      );
    scope.namespacePattern = pattern.value;
  }
  if (user) {
    if (!isDnsLabel(user.value))
      throw usageError(
        `${command}: ${user.source} ${JSON.stringify(user.value).slice(0, 60)} is not a valid user: it becomes part of namespaces (lower-case letters, digits, '-').`,
        'For example --user user1.',
      );
    scope.user = user.value;
  }
  if (toolings) {
    if (!isDnsLabel(toolings.value))
      throw usageError(
        `${command}: ${toolings.source} ${JSON.stringify(toolings.value).slice(0, 60)} is not a namespace name (lower-case letters, digits, '-', at most 63).`,
        'For example --toolings-namespace user1-toolings.',
      );
    scope.toolingsNamespace = toolings.value;
  }
  if (dd) {
    try {
      scope.deploymentsDir = checkDeploymentsDir(dd.value);
    } catch (e) {
      if (!isCanaryError(e)) throw e;
      throw usageError(`${command}: ${dd.source}: ${e.message}`, e.hint ?? 'Use a folder inside the gitops checkout.');
    }
  }
  if (envs) {
    const list = envs.value.split(',').map((e) => e.trim());
    const bad = list.find((e) => !isDnsLabel(e));
    if (bad !== undefined)
      throw usageError(
        `${command}: ${envs.source} ${JSON.stringify(envs.value).slice(0, 60)}: ${bad === '' ? 'an empty name' : `${JSON.stringify(bad).slice(0, 40)} is not an environment name`}.`,
        'A comma-separated list of environment folder names, e.g. test,prod.',
      );
    scope.environments = [...new Set(list)];
  }
  return scope;
}

/**
 * The environment from --env or -n/--namespace (mapped with the pattern and user to the
 * checkout's environment folders); both given must agree. Undefined when neither is given.
 */
export async function environmentOption(command: string, values: Values, scope: Scope, root: string | undefined): Promise<string | undefined> {
  const envText = str(values, 'env');
  if (envText === '') throw usageError(`${command}: --env needs a value.`, 'For example --env test.');
  const env = envText !== undefined ? validateName('environment', envText) : undefined;
  const ns = str(values, 'namespace');
  if (ns === undefined) return env;
  if (!isDnsLabel(ns))
    throw usageError(`${command}: --namespace ${JSON.stringify(ns).slice(0, 60)} is not a namespace name.`, 'For example -n user1-test, or --env test.');
  let envs = scope.environments;
  if (!envs) {
    if (!root)
      throw usageError(
        `${command}: --namespace ${ns} needs the gitops checkout (or --environments) to know the environments.`,
        'Run it inside the checkout, pass --gitops <dir> or --environments, or give --env.',
      );
    try {
      envs = (await discoverLayout(root, { deploymentsDir: scope.deploymentsDir })).environments.map((e) => e.name);
    } catch (e) {
      if (!isCanaryError(e)) throw e;
      throw new CanaryError('invalid-input', e.code, `${command}: --namespace ${ns}: ${e.message}`, e.hint);
    }
  }
  let mapped: string;
  try {
    mapped = environmentForNamespace(ns, {
      pattern: scope.namespacePattern ?? DEFAULT_NAMESPACE_PATTERN,
      envs,
      ...(scope.user !== undefined ? { user: scope.user } : {}),
    });
  } catch (e) {
    if (!isCanaryError(e)) throw e;
    throw usageError(`${command}: --namespace: ${e.message}`, e.hint ?? 'Give --env.');
  }
  if (env !== undefined && env !== mapped)
    throw usageError(`${command}: --env ${env} and --namespace ${ns} (environment ${mapped}) disagree.`, 'Give one of them.');
  return mapped;
}
