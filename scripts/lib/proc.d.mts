// Types of scripts/lib/proc.mjs (the parts the TypeScript tests use).
export function freePort(): Promise<number>;
export function portInUse(port: number): Promise<boolean>;
export function pollUntil<T>(fn: () => T | Promise<T>, timeoutMs: number, what: string, intervalMs?: number): Promise<T>;
export function runCommand(cmd: string, args: string[], options?: { cwd?: string; env?: NodeJS.ProcessEnv; logFile?: string; echo?: boolean }): Promise<{ code: number; output: string }>;
export function sleep(ms: number): Promise<void>;
