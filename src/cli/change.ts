/**
 * Shared body of the commands that change a model (set, promote, rollback):
 * parse, publish through the core, print what happened.
 *
 * Extension point: CHANGE_EXTENSIONS. An extension adds options to all three commands
 * (and a paragraph to their --help) and runs after a successful publish with the
 * result, e.g. `--wait` following the rollout until the cluster serves the new split.
 * Add one by appending to the array below; the commands need no other change.
 */
import { existsSync } from 'node:fs';
import type { CanaryAction } from '../core/types';
import { CanaryError } from '../core/errors';
import { modelConfigPath } from '../core/layout';
import { validateName } from '../core/names';
import { publishCanaryChange, type PublishResult } from '../core/publish';
import { CHANGE_OPTIONS, parse, requireString, resolveGitopsRoot, type OptionSpec, type Parsed } from './args';
import type { CliCommand, CliIO } from './command';
import { usageError } from './output';
import { environmentOption, messageOption, readScope, SCOPE_USAGE } from './options';

export interface ChangeContext {
  command: string;
  root: string;
  env: string;
  model: string;
  action: CanaryAction;
  values: Parsed['values'];
  io: CliIO;
}

export interface ChangeExtension {
  options: OptionSpec;
  /** Lines appended to the Options section of --help. */
  usage: string;
  /** Checks its options before anything is written; throws a usage error (exit 2) for bad ones. */
  check(command: string, values: Parsed['values'], io: CliIO): void;
  /** Runs after publishing; returns an exit code to override 0, or undefined. */
  afterPublish(result: PublishResult, ctx: ChangeContext): Promise<number | undefined>;
}

export const CHANGE_EXTENSIONS: ChangeExtension[] = [];

const COMMON_USAGE = `Options:
  -e, --env <env>        environment folder under model-deployments/ (required, or -n)
      --gitops <dir>     gitops checkout (default: this folder or the nearest parent
                         holding model-deployments/)
      --no-push          commit only, do not push
  -m, --message <text>   commit message, not empty (default: "Set canary traffic for <model>
                         in <env> to N%")
${SCOPE_USAGE}
  -h, --help             show this help`;

export function changeUsage(synopsis: string, description: string, example: string): string {
  const extra = CHANGE_EXTENSIONS.map((x) => x.usage).filter(Boolean).join('\n');
  return `Usage: kserve-canary ${synopsis}\n\n${description}\n\n${COMMON_USAGE}${extra ? `\n${extra}` : ''}\n\nExample:\n  ${example}\n`;
}

function pct(n: number | undefined): string {
  return n === undefined ? 'no canary (100% latest)' : `${n}%`;
}

/** One line for the terminal: what changed and where it went. */
export function summarize(r: PublishResult, env: string, model: string): string {
  const where = `${env}/${model}`;
  if (!r.changed) {
    return `${where}: already ${pct(r.after.desiredPercent)}; ${r.pushed ? `pushed earlier local commit(s) to ${r.remote}/${r.branch}` : 'nothing to commit'}`;
  }
  const transition = `${pct(r.before.desiredPercent)} -> ${pct(r.after.desiredPercent)}`;
  const sink = r.pushed ? `committed ${r.sha.slice(0, 10)} and pushed to ${r.remote}/${r.branch}` : `committed ${r.sha.slice(0, 10)} on ${r.branch} (not pushed)`;
  return `${where}: canary ${transition}, ${sink}`;
}

export function makeChangeCommand(spec: {
  name: string;
  summary: string;
  synopsis: string;
  description: string;
  example: string;
  /** Positional arguments after <model>. */
  extra: string[];
  action(positionals: string[]): CanaryAction;
}): CliCommand {
  return {
    name: spec.name,
    summary: spec.summary,
    get usage() {
      return changeUsage(spec.synopsis, spec.description, spec.example);
    },
    get options() {
      return Object.assign({}, CHANGE_OPTIONS, ...CHANGE_EXTENSIONS.map((x) => x.options)) as OptionSpec;
    },
    async run(argv: string[], io: CliIO): Promise<number> {
      const p = parse(spec.name, argv, this.options, 1 + spec.extra.length);
      if (p.values.help) {
        io.stdout(this.usage);
        return 0;
      }
      const wanted = ['model', ...spec.extra];
      if (p.positionals.length < wanted.length) {
        const missing = wanted.slice(p.positionals.length).map((w) => `<${w}>`).join(' ');
        throw usageError(`${spec.name}: missing ${missing}.`, `For example: ${spec.example}`);
      }
      // Every option is checked here, before the first git command (fetch, commit, push).
      const example = spec.example.replace(/^kserve-canary /, '');
      const model = validateName('model', p.positionals[0]!);
      if (p.values.env === undefined && p.values.namespace === undefined) requireString(spec.name, p.values, 'env', example);
      const action = spec.action(p.positionals.slice(1));
      const scope = readScope(spec.name, p.values, io);
      const message = messageOption(spec.name, p.values);
      for (const ext of CHANGE_EXTENSIONS) ext.check(spec.name, p.values, io);
      const root = resolveGitopsRoot(p.values, io, scope.deploymentsDir);
      const env = (await environmentOption(spec.name, p.values, scope, root))!;
      // A mistyped model or environment is refused before the fetch writes into .git.
      const file = modelConfigPath(root, env, model, scope.deploymentsDir);
      if (!existsSync(file)) {
        throw new CanaryError('not-found', 'no-config', `No config.yaml for model "${model}" in environment "${env}" (${file}).`,
          'Check the names (`kserve-canary config` lists them); a model added on the remote needs a `git pull` first.');
      }
      const result = await publishCanaryChange({
        root, env, model, action,
        push: !p.values['no-push'],
        deploymentsDir: scope.deploymentsDir,
        ...(message !== undefined ? { message } : {}),
        signal: io.signal,
        processEnv: io.env,
        log: () => undefined,
      });
      io.stdout(`${summarize(result, env, model)}\n`);
      for (const s of result.steps) io.stdout(`  - ${s}\n`);
      const ctx: ChangeContext = { command: spec.name, root, env, model, action, values: p.values, io };
      let code = 0;
      for (const ext of CHANGE_EXTENSIONS) {
        const c = await ext.afterPublish(result, ctx);
        if (c !== undefined && c !== 0) code = c;
      }
      return code;
    },
  };
}
