/**
 * The "KServe Canary" log (a LogOutputChannel). Every line passes through `redact` first:
 * the layers below promise never to hand us a secret, and this is the second lock.
 */
// `import =` compiles to a plain require: `import * as` would make esbuild copy every property
// of the vscode API into a namespace object per module, which costs milliseconds at activation.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import vscode = require('vscode');
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
