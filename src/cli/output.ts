/**
 * How the CLI writes: errors as `error: <message>` and `hint: <hint>` on stderr, tables
 * padded into columns, and the terminal boundary: main() wraps its CliIO with `terminalGuard`,
 * so every text written (human or --json) goes through terminalText (src/core/sanitize.ts) and
 * no control character from the cluster, git or Prometheus reaches the terminal. The CLI's own
 * escapes (clear screen, clear line) go out only through `writeControl`. Nothing here decides anything.
 */
import { CanaryError, exitCodeFor, isCanaryError } from '../core/errors';
import { terminalText } from '../core/sanitize';
import type { CliIO } from './command';

/** The terminal escapes the CLI itself writes (only on a TTY). */
export const CLEAR_SCREEN = '\x1b[H\x1b[2J';
export const CLEAR_LINE = '\r\x1b[K';
export type TerminalControl = typeof CLEAR_SCREEN | typeof CLEAR_LINE;

/** The unguarded stdout behind each guarded CliIO. */
const rawStdout = new WeakMap<CliIO, (text: string) => void>();

/**
 * The same CliIO with stdout and stderr sanitised for the terminal. JSON stays exact: the
 * escapes written are JSON's own (`\u001b`), inside strings, the only place a control can be.
 */
export function terminalGuard(io: CliIO): CliIO {
  if (rawStdout.has(io)) return io;
  const guarded: CliIO = { ...io, stdout: (t) => io.stdout(terminalText(t)), stderr: (t) => io.stderr(terminalText(t)) };
  rawStdout.set(guarded, io.stdout);
  return guarded;
}

/** Writes one of the CLI's own terminal escapes, past the guard. */
export function writeControl(io: CliIO, seq: TerminalControl): void {
  (rawStdout.get(io) ?? io.stdout)(seq);
}

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
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('   ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

export function usageError(message: string, hint: string): CanaryError {
  return new CanaryError('invalid-input', 'usage', message, hint);
}
