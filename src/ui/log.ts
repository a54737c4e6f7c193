/**
 * The "KServe Canary" log (a LogOutputChannel). Every line passes through `redact` first:
 * the layers below promise never to hand us a secret, and this is the second lock.
 */
import * as vscode from 'vscode';

/** Secrets that may hide in text: bearer tokens, `token=`/`password:` values, credentials in URLs, PEM blocks. */
export function redact(text: string): string {
  return text
    .replace(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, '[private key redacted]')
    .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 ***')
    .replace(/\b(token|password|passwd|secret|client-key-data|client-certificate-data)(["']?\s*[:=]\s*["']?)[^\s"',;}]+/gi, '$1$2***')
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, '$1***@');
}

export interface Log {
  readonly channel: vscode.LogOutputChannel;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug(message: string): void;
  show(): void;
}

export function createLog(): Log {
  const channel = vscode.window.createOutputChannel('KServe Canary', { log: true });
  return {
    channel,
    info: (m) => channel.info(redact(m)),
    warn: (m) => channel.warn(redact(m)),
    error: (m) => channel.error(redact(m)),
    debug: (m) => channel.debug(redact(m)),
    show: () => channel.show(true),
  };
}
