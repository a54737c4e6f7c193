/**
 * Turns any error of a request to the API server into one ClusterProblem: what happened for
 * the user, and what to do. Never includes a token or header: only status codes, error
 * codes, the server URL and namespace, our own messages, and credential failures in their
 * safe form (credentials.ts); a library's message text (an exec plugin's stderr, JSON.parse
 * quoting its input) is never shown.
 */
import { redact } from '../core/redact';
import { CredentialError } from './credentials';
import type { ClusterErrorKind, ClusterProblem } from './types';

/** An error of our HTTP transport: an HTTP status, or a Node error code. */
export class RequestError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly code?: string,
    /** Namespace the request was about (undefined: cluster-wide). */
    readonly namespace?: string,
    /** `reason` of a Kubernetes Status body (e.g. `Expired`, `Gone`). */
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);
const NET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

function errorCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 4 && cur && typeof cur === 'object'; i++) {
    const c = (cur as { code?: unknown }).code;
    if (typeof c === 'string') return c;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

export function classifyError(e: unknown, server: string | undefined): ClusterProblem {
  const where = server ? ` at ${server}` : '';
  const status = e instanceof RequestError ? e.status : undefined;
  const ns = e instanceof RequestError ? e.namespace : undefined;
  const code = errorCode(e);
  const mk = (kind: ClusterErrorKind, message: string, hint: string): ClusterProblem =>
    ns && kind === 'forbidden' ? { kind, message, hint, namespace: ns } : { kind, message, hint };
  // Before the Node-code checks: a credential failure carries ECREDENTIALS (and its cause an ENOENT).
  if (e instanceof CredentialError) return mk('unauthorized', e.message, e.hint);
  if (status === 401) {
    return mk(
      'unauthorized',
      `The cluster${where} refused the credentials: not logged in, or the token expired.`,
      'Log in again (oc login / kubectl config); the extension reconnects by itself when the kubeconfig changes.',
    );
  }
  if (status === 403) {
    return mk(
      'forbidden',
      ns ? `Forbidden: the current user may not watch this in namespace ${ns}.` : 'Forbidden: the current user may not list this cluster-wide.',
      ns ? `Ask for view access to ${ns}, or check the namespace pattern and user settings.` : 'Ask for view access, or check the settings.',
    );
  }
  if (
    code === 'ETIMEDOUT' ||
    code === 'ESOCKETTIMEDOUT' ||
    code === 'ABORT_ERR' ||
    code === 'TimeoutError' ||
    (e instanceof Error && e.name === 'TimeoutError')
  ) {
    return mk('timeout', `The cluster${where} did not answer in time.`, 'Check the VPN or network; the extension keeps retrying.');
  }
  if (code === 'EBADJSON' || code === 'ETOOBIG') {
    return mk(
      'other',
      `The cluster${where} sent data that could not be read (${code === 'EBADJSON' ? 'not valid JSON' : 'too large'}); re-listing.`,
      'Nothing to do unless it keeps happening; then check proxies between you and the cluster.',
    );
  }
  if (code && TLS_CODES.has(code)) {
    return mk(
      'tls',
      `The TLS certificate of the cluster${where} could not be verified (${code}).`,
      'Check certificate-authority(-data) in the kubeconfig; only a kubeconfig with insecure-skip-tls-verify turns verification off.',
    );
  }
  if (code && (NET_CODES.has(code) || code.startsWith('E'))) {
    return mk('unreachable', `The cluster${where} is unreachable (${code}).`, 'Check the VPN or network; the extension keeps retrying.');
  }
  if (status !== undefined && status >= 500) {
    return mk('server-error', `The cluster${where} answered with HTTP ${status}.`, 'The API server is in trouble; the extension keeps retrying.');
  }
  if (status !== undefined) {
    return mk('other', `The cluster${where} answered with HTTP ${status}.`, 'The extension keeps retrying.');
  }
  // Our own RequestErrors say what went wrong; any other text came from a library and may quote
  // what it parsed: only its class is shown (a parser's message can echo a credential).
  if (e instanceof RequestError)
    return mk('other', `Talking to the cluster${where} failed: ${redact(e.message).slice(0, 200)}`, 'The extension keeps retrying.');
  const what =
    e instanceof SyntaxError
      ? 'an answer that is not valid JSON'
      : e instanceof Error && /^[A-Za-z]{1,40}$/.test(e.name)
        ? `an unexpected ${e.name}`
        : 'an unexpected failure';
  return mk('other', `Talking to the cluster${where} failed: ${what}.`, 'The extension keeps retrying; details are not shown as they may quote credentials.');
}

/** Kinds that cut off the whole cluster (as opposed to one namespace). */
export function isDisconnecting(kind: ClusterErrorKind): boolean {
  return kind !== 'forbidden' && kind !== 'other';
}

/**
 * Key grouping problems into log lines: one line per kind per episode. A 403 in every watched
 * namespace is one problem (one episode, one line), not one per namespace.
 */
export function problemKey(p: ClusterProblem): string {
  return p.kind;
}

/**
 * The one log line of an episode for a problem. For a 403 it covers every namespace refused
 * until the episode ends (their rows name each one); when no watch works at all either (a fresh
 * connection, or every watch failing), it adds what the real kube-apiserver does right after a
 * restart: 403 for a moment while its RBAC caches fill, with the same body as a real denial.
 * A revoked token is not that case: it gets 401 (authentication comes before authorization).
 */
export function problemLine(p: ClusterProblem, nothingWorks: boolean): string {
  const restart =
    p.kind === 'forbidden' && nothingWorks
      ? ' Right after an API server restart this lasts a moment (its RBAC caches are still filling); the extension keeps retrying.'
      : '';
  return `${p.message} ${p.hint}${restart}`;
}
