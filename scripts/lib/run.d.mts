// Types of scripts/lib/run.mjs.
export const root: string;
export function tempRunDir(prefix: string): string;
export function useRunTmp(dir: string): void;
export function onShutdown(fn: () => unknown): void;
export function shutdown(): Promise<void>;
export function exitOnSignals(onSignal?: (signal: string) => void): void;
export function removeDir(dir: string): void;
export function writeSummary(summary: { passed: number; failed: number; skipped: number }): void;
export function readJson(file: string): unknown;
export function secondsSince(t0: number): string;
