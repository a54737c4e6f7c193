/**
 * Environments ↔ namespaces with the namespace pattern (`{user}-{env}` by default): building a
 * namespace, reading user and environment back from one, and checking a pattern. Pure; the
 * cluster layer (src/cluster/store.ts) and the CLI's `-n/--namespace` share it.
 */
import { CanaryError } from './errors';

export const DEFAULT_NAMESPACE_PATTERN = '{user}-{env}';

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `{user}-{env}` with user1/test → `user1-test`. */
export function namespaceFor(pattern: string, user: string, env: string): string {
  return pattern.split('{user}').join(user).split('{env}').join(env);
}

/**
 * Reads `{user}` (and `{env}`) back from a namespace with the pattern: `user1-test` → user1/test.
 * With known environments, a namespace ending in one of them wins (users may contain dashes).
 */
export function parseNamespace(pattern: string, namespace: string, knownEnvs: string[] = []): { user: string; env: string } | undefined {
  const seg = pattern.split(/(\{user\}|\{env\})/).filter((x) => x !== '');
  const build = (envAlt: string) =>
    new RegExp(
      '^' + seg.map((x) => (x === '{user}' ? '(?<user>[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)' : x === '{env}' ? `(?<env>${envAlt})` : escapeRe(x))).join('') + '$',
    );
  const tries = knownEnvs.length ? [knownEnvs.map(escapeRe).join('|'), '[a-z0-9]+'] : ['[a-z0-9]+'];
  for (const alt of tries) {
    const m = build(alt).exec(namespace);
    if (m?.groups?.user !== undefined || m?.groups?.env !== undefined) return { user: m.groups?.user ?? '', env: m.groups?.env ?? '' };
  }
  return undefined;
}

/**
 * A namespace pattern must name `{env}` exactly once (else every environment would share one
 * namespace) and `{user}` at most once; anything else in braces is a typo. Returns the reason, or
 * undefined when it is fine.
 */
export function namespacePatternProblem(pattern: string): string | undefined {
  const count = (p: string) => pattern.split(p).length - 1;
  if (pattern.trim() === '') return 'it is empty';
  if (count('{env}') !== 1) return 'it must contain {env} exactly once';
  if (count('{user}') > 1) return 'it may contain {user} only once';
  const other = /\{[^}]*\}/g.exec(pattern.split('{env}').join('').split('{user}').join(''));
  if (other) return `${other[0]} is not a placeholder (only {user} and {env} are)`;
  return undefined;
}

/**
 * The environment whose namespace `namespace` is (kubectl's `-n user1-test` → `test`), among
 * `envs`. With `user` known, the namespace must be exactly that user's; without, any user
 * matches. Refuses with the namespaces it knows when none matches.
 */
export function environmentForNamespace(namespace: string, o: { pattern: string; envs: string[]; user?: string }): string {
  const parsed = parseNamespace(o.pattern, namespace, o.envs);
  const env =
    parsed && o.envs.includes(parsed.env) && (o.user === undefined || parsed.user === o.user || !o.pattern.includes('{user}')) ? parsed.env : undefined;
  if (env !== undefined) return env;
  const known = o.envs.map((e) =>
    o.user !== undefined || !o.pattern.includes('{user}') ? namespaceFor(o.pattern, o.user ?? '', e) : `${namespaceFor(o.pattern, '<user>', e)}`,
  );
  throw new CanaryError(
    'invalid-input',
    'unknown-namespace',
    `Namespace ${JSON.stringify(namespace).slice(0, 80)} is not the namespace of any environment (pattern ${o.pattern}${o.user !== undefined ? `, user ${o.user}` : ''}).`,
    known.length
      ? `Environments and their namespaces: ${o.envs.map((e, i) => `${e} = ${known[i]}`).join(', ')}. Or give --env.`
      : 'No environment folders were found in the gitops checkout; give --env.',
  );
}
