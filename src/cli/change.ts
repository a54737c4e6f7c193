/**
 * Shared body of the commands that change a model (set, promote, rollback): parse and check
 * every option, make ONE call to the change use case (src/app/change.ts; src/app/preview.ts for
 * --dry-run), print what happened (src/cli/change-print.ts) as text or as a ChangeResult document.
 *
 * Extension point: CHANGE_EXTENSIONS. An extension adds options to all three commands (and a
 * paragraph to their --help), checks them before anything is written, and may hand the use
 * case a way to follow the change (`--wait`, src/cli/wait.ts). Add one by appending to the array.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { CanaryAction } from '../core/types';
import { CanaryError } from '../core/errors';
import { FORGE_HOSTS_ENV, parseForgeHosts } from '../core/forge';
import { modelConfigPath } from '../core/layout';
import { validateName } from '../core/names';
import { changeCanary, isProtectedBranchRefusal, type FollowOptions, type Published } from '../app/change';
import { publishPolicy } from '../app/policy';
import { previewChange } from '../app/preview';
import { changeDocument, previewDocument } from '../app/result';
import { CHANGE_OPTIONS, parse, requireString, resolveGitopsRoot, type OptionSpec, type Parsed } from './args';
import { printOutcome, printPreview, printPublished, retryCommand } from './change-print';
import type { CliCommand, CliIO } from './command';
import { usageError } from './output';
import { environmentOption, formatDocument, messageOption, outputOption, readScope, SCOPE_USAGE } from './options';

export interface ChangeContext {
  command: string;
  root: string;
  env: string;
  model: string;
  action: CanaryAction;
  values: Parsed['values'];
  io: CliIO;
  /** -o json|yaml: no progress lines on stdout, one document at the end. */
  document: boolean;
}

export interface ChangeExtension {
  options: OptionSpec;
  /** Lines appended to the Options section of --help. */
  usage: string;
  /** Checks its options before anything is written; throws a usage error (exit 2) for bad ones. */
  check(command: string, values: Parsed['values'], io: CliIO): void;
  /** How to follow the published change, when this extension's options ask for it. */
  follow?(ctx: ChangeContext): FollowOptions | undefined;
}

export const CHANGE_EXTENSIONS: ChangeExtension[] = [];

const COMMON_USAGE = `Options:
  -e, --env <env>        environment folder under model-deployments/ (required, or -n)
      --gitops <dir>     gitops checkout (default: this folder or the nearest parent
                         holding model-deployments/)
      --no-push          commit only, do not push
      --pull-request     commit on a new branch made from the upstream head, push that
                         branch and print the forge's new-pull-request page; your branch,
                         HEAD and working tree stay as they are (for protected branches)
      --dry-run          print the diff of config.yaml and the commit message that would
                         be made; change nothing (no fetch, no edit, no commit, no push)
  -o, --output <f>       json | yaml: one ChangeResult document (see README); --json is -o json
  -m, --message <text>   commit message, not empty (default: "Set canary traffic for <model>
                         in <env> to N%")
${SCOPE_USAGE}
  -h, --help             show this help`;

export function changeUsage(synopsis: string, description: string, example: string): string {
  const extra = CHANGE_EXTENSIONS.map((x) => x.usage)
    .filter(Boolean)
    .join('\n');
  return `Usage: kserve-canary ${synopsis}\n\n${description}\n\n${COMMON_USAGE}${extra ? `\n${extra}` : ''}\n\nExample:\n  ${example}\n`;
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
        const missing = wanted
          .slice(p.positionals.length)
          .map((w) => `<${w}>`)
          .join(' ');
        throw usageError(`${spec.name}: missing ${missing}.`, `For example: ${spec.example}`);
      }
      // Every option is checked here, before the first git command (fetch, commit, push).
      const example = spec.example.replace(/^kserve-canary /, '');
      const model = validateName('model', p.positionals[0]!);
      if (p.values.env === undefined && p.values.namespace === undefined) requireString(spec.name, p.values, 'env', example);
      const action = spec.action(p.positionals.slice(1));
      const scope = readScope(spec.name, p.values, io);
      const message = messageOption(spec.name, p.values);
      const format = outputOption(spec.name, p.values);
      if (format === 'wide') throw usageError(`${spec.name}: -o wide does not apply: there is no table.`, 'Use -o json or -o yaml.');
      const dryRun = p.values['dry-run'] === true;
      if (dryRun && p.values.wait === true)
        throw usageError(`${spec.name}: --dry-run and --wait exclude each other: a dry run publishes nothing to follow.`, 'Leave one of them out.');
      for (const ext of CHANGE_EXTENSIONS) ext.check(spec.name, p.values, io);
      const forgeHosts = parseForgeHosts(io.env[FORGE_HOSTS_ENV]);
      const root = resolveGitopsRoot(p.values, io, scope.deploymentsDir);
      const env = (await environmentOption(spec.name, p.values, scope, root))!;
      let policy;
      try {
        policy = publishPolicy({ env, pullRequest: p.values['pull-request'] === true, noPush: p.values['no-push'] === true });
      } catch (e) {
        throw usageError(`${spec.name}: ${(e as Error).message}`, (e as CanaryError).hint ?? 'Leave one of them out.');
      }
      // A mistyped model or environment is refused before the fetch writes into .git.
      const file = modelConfigPath(root, env, model, scope.deploymentsDir);
      if (!existsSync(file)) {
        throw new CanaryError(
          'not-found',
          'no-config',
          `No config.yaml for model "${model}" in environment "${env}" (${file}).`,
          'Check the names (`kserve-canary config` lists them); a model added on the remote needs a `git pull` first.',
        );
      }
      const doc = format === 'json' || format === 'yaml' ? format : undefined;
      const docCtx = { command: spec.name, env, model, action };
      const req = {
        root,
        env,
        model,
        action,
        policy,
        deploymentsDir: scope.deploymentsDir,
        ...(message !== undefined ? { message } : {}),
        ...(forgeHosts ? { forgeHosts } : {}),
      };
      if (dryRun) {
        const preview = await previewChange(req);
        if (doc) io.stdout(formatDocument(doc, previewDocument(docCtx, preview)));
        else printPreview(io, preview, env, model);
        return 0;
      }
      const ctx: ChangeContext = { command: spec.name, root, env, model, action, values: p.values, io, document: doc !== undefined };
      const follow = {
        ...CHANGE_EXTENSIONS.map((x) => x.follow?.(ctx)).find((f) => f !== undefined),
        ...(doc ? {} : { onPublished: (r: Published) => printPublished(io, r, env, model) }),
      };
      let outcome;
      try {
        outcome = await changeCanary({ ...req, signal: io.signal, processEnv: io.env, log: () => undefined }, follow);
      } catch (e) {
        if (!isProtectedBranchRefusal(e)) throw e;
        const err = e as CanaryError;
        throw new CanaryError(err.kind, err.code, err.message, `Propose it as a pull request instead: ${retryCommand(spec.name, argv)}`, { cause: e });
      }
      if (doc) io.stdout(formatDocument(doc, changeDocument(docCtx, outcome, path.relative(root, outcome.published.file).split(path.sep).join('/'))));
      else printOutcome(io, outcome, env, model);
      return outcome.status === 'stopped' ? 1 : 0;
    },
  };
}
