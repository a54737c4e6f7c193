// Types of scripts/lib/proc.mjs (the parts the TypeScript tests use).
export function freePort(): Promise<number>;
export function portInUse(port: number): Promise<boolean>;
export function pollUntil<T>(fn: () => T | Promise<T>, timeoutMs: number, what: string, intervalMs?: number): Promise<T>;
export function runCommand(
  cmd: string,
  args: string[],
  options?: { cwd?: string; env?: NodeJS.ProcessEnv; logFile?: string; echo?: boolean },
): Promise<{ code: number; output: string }>;
export function sleep(ms: number): Promise<void>;
export function descendants(pid: number): number[];
export function killTree(pid: number, graceMs?: number): Promise<void>;
export function killProcessesMentioning(marker: string): Promise<number>;
export function onPath(tool: string): boolean;

export interface Started {
  child: import('node:child_process').ChildProcess;
  pid: number | undefined;
  name: string;
  exited: Promise<{ code: number | null; signal: string | null; error?: Error }>;
  output(): string;
  waitFor(re: RegExp, timeoutMs: number, what?: string): Promise<RegExpMatchArray>;
  stop(): Promise<void>;
}
export function startProcess(
  cmd: string,
  args: string[],
  options?: { cwd?: string; env?: NodeJS.ProcessEnv; logFile?: string; echoPrefix?: string; name?: string },
): Started;
