/**
 * Argument parsing for every sub-command: node:util parseArgs in strict mode, with its
 * errors turned into `invalid-input` CanaryErrors (exit 2) that point at --help.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import path from 'node:path';
import { CanaryError } from '../core/errors';
import { findGitopsRoot, DEFAULT_DEPLOYMENTS_DIR } from '../core/layout';
import { usageError } from './output';
import { SCOPE_OPTIONS } from './options';
import type { CliIO } from './command';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** Options every command accepts. */
export const COMMON_OPTIONS: OptionSpec = {
  help: { type: 'boolean', short: 'h' },
  gitops: { type: 'string' },
};

/** Options of the commands that change a model (set, promote, rollback). */
export const CHANGE_OPTIONS: OptionSpec = {
  ...COMMON_OPTIONS,
  ...SCOPE_OPTIONS,
  env: { type: 'string', short: 'e' },
  'no-push': { type: 'boolean' },
  'pull-request': { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
  output: { type: 'string', short: 'o' },
  message: { type: 'string', short: 'm' },
};

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export function parse(command: string, argv: string[], options: OptionSpec, maxPositionals: number): Parsed {
  let result: ReturnType<typeof parseArgs>;
  try {
    result = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (e) {
    const msg = e instanceof Error ? e.message.replace(/\. To specify a positional argument.*$/s, '') : String(e);
    throw usageError(`${command}: ${msg.replace(/\.$/, '')}.`, `Run \`kserve-canary ${command} --help\` for the options.`);
  }
  const values = result.values as Record<string, string | boolean | undefined>;
  if (!values.help && result.positionals.length > maxPositionals) {
    throw usageError(
      `${command}: unexpected argument ${JSON.stringify(result.positionals[maxPositionals])}.`,
      `Run \`kserve-canary ${command} --help\` for the usage.`,
    );
  }
  return { values, positionals: result.positionals };
}

export function requireString(command: string, values: Parsed['values'], name: string, example: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') {
    throw usageError(`${command}: --${name} is required.`, `For example: kserve-canary ${example}`);
  }
  return v;
}

export function requirePositional(command: string, p: Parsed, index: number, what: string, example: string): string {
  const v = p.positionals[index];
  if (v === undefined || v === '') {
    throw usageError(`${command}: missing <${what}>.`, `For example: kserve-canary ${example}`);
  }
  return v;
}

/** --gitops, else the current folder or its nearest parent holding model-deployments/ (or `deploymentsDir`). */
export function resolveGitopsRoot(values: Parsed['values'], io: CliIO, deploymentsDir = DEFAULT_DEPLOYMENTS_DIR): string {
  const given = values.gitops;
  if (typeof given === 'string' && given !== '') return path.resolve(io.cwd, given);
  const found = findGitopsRoot(io.cwd, deploymentsDir);
  if (!found) {
    throw new CanaryError(
      'not-found',
      'no-gitops-root',
      `No ${deploymentsDir}/ folder in ${io.cwd} or any parent folder.`,
      'Run the command inside your gitops checkout, or pass --gitops <dir>.',
    );
  }
  return found;
}
