// Types of scripts/lib/sandbox.mjs.
export interface SandboxInfo {
  server: string;
  port: number;
  kubeconfig: string;
  gitopsClone: string;
  gitopsRemote: string;
  tokenFile: string;
  dir: string;
  pid: number;
  /** With `inference: true`: the Prometheus query API (bearer token: the token file). */
  prometheusUrl?: string;
}

export interface SandboxHandle {
  readonly info: SandboxInfo;
  readonly pid: number | undefined;
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  stop(): Promise<void>;
  /** Stops it and starts it again on the same port and folder. */
  restart(): Promise<SandboxInfo>;
}

export function startSandbox(options: {
  dir: string;
  port?: number;
  readyFile: string;
  logFile?: string;
  echoPrefix?: string;
  timeoutMs?: number;
  inference?: boolean;
  backend?: 'embedded' | 'kube-apiserver';
  env?: Record<string, string>;
}): Promise<SandboxHandle>;
