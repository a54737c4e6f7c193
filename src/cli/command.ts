/**
 * The shape of one CLI sub-command. Each lives in src/cli/commands/<name>.ts and is
 * listed in src/cli/commands/index.ts; src/cli/main.ts dispatches on the first word.
 */
import type { ParseArgsConfig } from 'node:util';

export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Current folder (for --gitops discovery). */
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Aborted on SIGINT/SIGTERM. */
  signal: AbortSignal;
  /** True when stdout is a terminal (colours, redraws). */
  isTTY: boolean;
}

export interface CliCommand {
  name: string;
  /** Every option it accepts (node:util parseArgs spec), for shell completion. */
  options: NonNullable<ParseArgsConfig['options']>;
  /** One line for the top-level --help. */
  summary: string;
  /** Full text for `kserve-canary <name> --help`. */
  usage: string;
  /** Returns the exit code: 0 success, 2 bad input, 1 other failure. Throw CanaryError for errors. */
  run(argv: string[], io: CliIO): Promise<number>;
}
