// Types of scripts/start.mjs for the TypeScript browser tests (test/e2e).
import type { SandboxHandle } from './lib/sandbox.mjs';

export interface Launched {
  url: string;
  workspace: string;
  sandbox: SandboxHandle;
  codeServer: { url: string; port: number; stop(): Promise<void> };
  vsix: string;
  runDir: string;
}

export function prerequisites(): string[];
/** `inference`: the sandbox serves inference and Prometheus, and the user settings point kserveCanary.prometheus.url at it. */
export function launch(options: {
  runDir: string;
  port: number;
  sandboxPort?: number;
  log?: (msg: string) => void;
  echo?: boolean;
  inference?: boolean;
}): Promise<Launched>;
