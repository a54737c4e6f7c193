/**
 * The `kserve-canary` CLI: dispatches on the first word to src/cli/commands/*.
 * Only the chosen command's module is loaded (src/cli/commands/index.ts).
 * `main(argv, io)` is the whole program, testable in-process; the bottom of this file
 * runs it when this module is the entry point (node dist/cli.js, bin/kserve-canary.js,
 * or tsx src/cli/main.ts).
 */
import path from 'node:path';
import { version } from '../../package.json';
import { COMMANDS, type CommandEntry } from './commands';
import { skipCacheWrites } from './cache-writes';
import { reportError, terminalGuard, usageError } from './output';
import type { CliIO } from './command';

function topUsage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `Usage: kserve-canary <command> [options]

Change KServe canary traffic through GitOps: edits model-deployments/<env>/<model>/config.yaml,
commits only that file and pushes it; Argo CD does the rest.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}   ${c.summary}`).join('\n')}
  ${'help'.padEnd(width)}   Show help for a command

Options:
  -h, --help      show this help
  -v, --version   print the version

Run \`kserve-canary <command> --help\` for a command's options.
Exit codes: 0 success, 2 bad input, 1 any other failure.
`;
}

function find(name: string): CommandEntry | undefined {
  return COMMANDS.find((c) => c.name === name);
}

function unknownCommand(name: string): Error {
  return usageError(`unknown command ${JSON.stringify(name)}.`, `Commands: ${COMMANDS.map((c) => c.name).join(', ')}. Run \`kserve-canary --help\`.`);
}

export async function main(argv: string[], rawIO: CliIO): Promise<number> {
  // Every byte the commands write passes the terminal sanitiser (src/cli/output.ts).
  const io = terminalGuard(rawIO);
  try {
    const [first, ...rest] = argv;
    if (first === undefined) {
      io.stderr(topUsage());
      return 2;
    }
    if (first === '--help' || first === '-h') {
      io.stdout(topUsage());
      return 0;
    }
    if (first === '--version' || first === '-v') {
      io.stdout(`${version}\n`);
      return 0;
    }
    // Help only: the code cache of the command's bundle is left to a run of the command itself.
    if (first === 'help' || rest.includes('--help') || rest.includes('-h')) skipCacheWrites();
    if (first === 'help') {
      if (rest[0] === undefined) {
        io.stdout(topUsage());
        return 0;
      }
      const cmd = find(rest[0]);
      if (!cmd) throw unknownCommand(rest[0]);
      io.stdout((await cmd.load()).usage);
      return 0;
    }
    if (first.startsWith('-')) {
      throw usageError(`unknown option ${JSON.stringify(first)} before the command.`, 'Run `kserve-canary --help`.');
    }
    const cmd = find(first);
    if (!cmd) throw unknownCommand(first);
    return await (await cmd.load()).run(rest, io);
  } catch (e) {
    return reportError(io, e);
  }
}

/** Runs main() with the real process and exits with its code. */
export async function runAsProcess(): Promise<void> {
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const code = await main(process.argv.slice(2), {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    cwd: process.cwd(),
    env: process.env,
    signal: controller.signal,
    isTTY: Boolean(process.stdout.isTTY),
  });
  process.exitCode = code;
}

function isEntry(): boolean {
  const entry = require.main;
  if (!entry) return false;
  if (entry === module) return true;
  // bin/kserve-canary.js requires the bundle: it is the entry then.
  return path.basename(entry.filename) === 'kserve-canary.js';
}

if (isEntry()) void runAsProcess();
