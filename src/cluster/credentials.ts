/**
 * The kubeconfig user's credentials through @kubernetes/client-node's own machinery (token,
 * token file, exec plugin, OIDC and the other auth providers, client certificate, basic auth),
 * for the API server (transport.ts) and, bearer tokens only, for Prometheus (metrics.ts).
 *
 * Failures never carry the plugin's or the parser's text: client-node rejects with an exec
 * plugin's whole stderr, or with JSON.parse's message, which quotes what the plugin printed —
 * both may hold the very credential. They become a CredentialError that says which mechanism
 * failed and how (could not start, exit with an error, output not an ExecCredential), nothing more.
 */
import type * as https from 'node:https';
import * as path from 'node:path';
import type { KubeConfig, User } from '@kubernetes/client-node';

/** How the current user authenticates, in words (no value): `exec plugin "oc"`, `token file`, … */
export function describeAuth(user: User | null): string {
  if (!user) return 'no user';
  const exec = user.exec ?? (user.authProvider?.config as { exec?: { command?: string } } | undefined)?.exec;
  if (exec) return `exec plugin ${JSON.stringify(path.basename(String(exec.command ?? '?')))}`;
  if (user.authProvider) {
    const cfg = user.authProvider.config as Record<string, unknown> | undefined;
    return cfg?.tokenFile ? 'token file' : `auth provider ${JSON.stringify(String(user.authProvider.name ?? '?'))}`;
  }
  if (user.token) return 'token';
  if (user.certData || user.certFile) return 'client certificate';
  if (user.username) return 'user name and password';
  return 'no credentials';
}

/** Getting the kubeconfig user's credentials failed; message and hint hold no credential text. */
export class CredentialError extends Error {
  readonly code = 'ECREDENTIALS';
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
    this.name = 'CredentialError';
  }
}

function nodeCode(e: unknown): string | undefined {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(c) ? c : undefined;
}

/** The safe form of a failure of client-node's authenticators for `user`. */
export function credentialFailure(e: unknown, user: User | null): CredentialError {
  if (e instanceof CredentialError) return e;
  const who = user?.name ? ` of the kubeconfig user ${JSON.stringify(user.name.slice(0, 80))}` : '';
  const how = describeAuth(user);
  const code = nodeCode(e);
  if (how.startsWith('exec plugin')) {
    if (e instanceof SyntaxError) {
      return new CredentialError(
        `The ${how}${who} printed something that is not an ExecCredential (not valid JSON); what it printed is not shown, it may hold credentials.`,
        'Run the command of users[].user.exec yourself to see what it prints; log in again if it asks to.',
      );
    }
    if (code && (code === 'ENOENT' || code === 'EACCES' || code === 'EPERM')) {
      return new CredentialError(`The ${how}${who} could not be started (${code}).`, 'Install it, or fix users[].user.exec.command in the kubeconfig.');
    }
    return new CredentialError(
      `The ${how}${who} failed; its error output is not shown, it may hold credentials.`,
      'Run the command of users[].user.exec yourself to see why (an expired login? log in again).',
    );
  }
  return new CredentialError(
    `Getting the credentials (${how})${who} failed${code ? ` (${code})` : e instanceof Error && /^[A-Za-z]+$/.test(e.name) ? ` (${e.name})` : ''}.`,
    'Check the kubeconfig user entry (token file readable? identity provider reachable?) or log in again.',
  );
}

/** kc.applyToHTTPSOptions (headers, CA, client certificate, TLS flags), failures made safe. */
export async function applyKubeCredentials(kc: KubeConfig, opts: https.RequestOptions): Promise<void> {
  try {
    await kc.applyToHTTPSOptions(opts);
  } catch (e) {
    throw credentialFailure(e, kc.getCurrentUser());
  }
}

/**
 * What the kubeconfig user can show to a server other than the API server: its bearer token
 * (from a token, token file, exec plugin, OIDC, …), fresh per call (plugins and files rotate),
 * and the cluster's CA. Client certificates and basic-auth passwords are never included: a
 * client certificate is the user's identity for the API server only (OpenShift's Thanos
 * querier, behind its oauth / kube-rbac proxy, takes bearer tokens).
 */
export async function kubeBearer(kc: KubeConfig): Promise<{ token: string | undefined; ca: Buffer | undefined }> {
  const o: https.RequestOptions = {};
  await applyKubeCredentials(kc, o);
  const h = o.headers as Record<string, unknown> | undefined;
  const raw = h?.Authorization ?? h?.authorization;
  const m = typeof raw === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(raw.trim()) : null;
  const ca = o.ca === undefined ? undefined : Buffer.isBuffer(o.ca) ? o.ca : Buffer.from(String(o.ca));
  return { token: m?.[1], ca };
}
