/**
 * The "KServe Canary" log (a LogOutputChannel). Every line passes through `redact` first:
 * the layers below promise never to hand us a secret, and this is the second lock.
 */
import * as vscode from 'vscode';
import { redact } from './present';

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
