/**
 * How the CLI writes: errors as `error: <message>` and `hint: <hint>` on stderr, tables
 * padded into columns. Nothing here decides anything.
 */
import { CanaryError, exitCodeFor, isCanaryError } from '../core/errors';
import type { CliIO } from './command';

/** Prints an error (one line plus a hint line) and returns the exit code for it. */
export function reportError(io: CliIO, e: unknown): number {
  if (isCanaryError(e)) {
    io.stderr(`error: ${oneLine(e.message)}\n`);
    if (e.hint) io.stderr(`hint: ${oneLine(e.hint)}\n`);
  } else {
    const msg = e instanceof Error ? e.message : String(e);
    io.stderr(`error: internal error: ${oneLine(msg)}\n`);
    io.stderr('hint: this is a bug in kserve-canary; please report it with the command you ran.\n');
  }
  return exitCodeFor(e);
}

function oneLine(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/** Left-aligned columns separated by three spaces, like kubectl. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('   ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

export function usageError(message: string, hint: string): CanaryError {
  return new CanaryError('invalid-input', 'usage', message, hint);
}
