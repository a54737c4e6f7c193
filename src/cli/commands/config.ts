/**
 * `kserve-canary config [<model>] [--env <env>] [-o json|yaml|wide]`: the desired state in git.
 *
 * --json (-o json; -o yaml the same document as YAML) prints one object (stable shape, additive changes only):
 *   {
 *     "root": "/abs/gitops",                 // the gitops checkout
 *     "deploymentsDir": "model-deployments",
 *     "models": [                            // sorted by env, then model
 *       { "env": "test", "model": "jukebox", "name": "jukebox", "version": "4562a17c17" | null,
 *         "canary": { "kind": "absent" | "empty" } | { "kind": "percent", "trafficPercent": 20 },
 *         "desiredPercent": 20 | null,       // canaryTrafficPercent the chart renders; null: none (100% latest)
 *         "file": "/abs/.../config.yaml",
 *         "error": { "code": "parse-error", "message": "..." }   // only when the file cannot be read
 *       }
 *     ]
 *   }
 * Exit code 1 when any listed config.yaml cannot be read (it is still listed, with "error").
 */
import { discoverLayout } from '../../core/layout';
import { readModelConfig } from '../../core/config';
import { CanaryError, isCanaryError } from '../../core/errors';
import { validateName } from '../../core/names';
import type { CanaryBlock } from '../../core/types';
import { COMMON_OPTIONS, parse, resolveGitopsRoot } from '../args';
import { formatTable } from '../output';
import { environmentOption, formatDocument, outputOption, OUTPUT_OPTIONS, OUTPUT_USAGE, readScope, SCOPE_OPTIONS, SCOPE_USAGE } from '../options';
import path from 'node:path';
import type { CliCommand, CliIO } from '../command';
import { SUMMARIES } from './summaries';

interface Row {
  env: string;
  model: string;
  name: string;
  version: string | null;
  canary: CanaryBlock;
  desiredPercent: number | null;
  file: string;
  error?: { code: string; message: string };
}

function canaryCell(c: CanaryBlock): string {
  return c.kind === 'percent' ? `trafficPercent: ${c.trafficPercent}` : c.kind === 'empty' ? '{}' : '-';
}

function desiredCell(r: Row): string {
  if (r.error) return 'error';
  if (r.desiredPercent === null) return 'latest 100%';
  return `latest ${r.desiredPercent}% / prev ${100 - r.desiredPercent}%`;
}

export const configCommand: CliCommand = {
  name: 'config',
  summary: SUMMARIES.config,
  options: { ...COMMON_OPTIONS, ...SCOPE_OPTIONS, ...OUTPUT_OPTIONS, env: { type: 'string', short: 'e' } },
  usage: `Usage: kserve-canary config [<model>] [--env <env> | -n <namespace>] [--gitops <dir>] [-o json|yaml|wide]

Lists each model's version and canary block as committed in the gitops checkout,
and the split the chart asks for.

Options:
  -e, --env <env>        only this environment
      --gitops <dir>     gitops checkout (default: this folder or the nearest parent
                         holding model-deployments/)
      --json             machine-readable output (shape documented in src/cli/commands/config.ts)
${OUTPUT_USAGE}
                         (wide: NAME, FILE; yaml: the JSON document as YAML)
${SCOPE_USAGE}
  -h, --help             show this help

Example:
  kserve-canary config jukebox --env test
`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const p = parse('config', argv, this.options, 1);
    if (p.values.help) {
      io.stdout(this.usage);
      return 0;
    }
    const modelFilter = p.positionals[0] !== undefined ? validateName('model', p.positionals[0]) : undefined;
    const scope = readScope('config', p.values, io);
    const format = outputOption('config', p.values);
    const root = resolveGitopsRoot(p.values, io, scope.deploymentsDir);
    const envFilter = await environmentOption('config', p.values, scope, root);
    const layout = await discoverLayout(root, { deploymentsDir: scope.deploymentsDir });
    const envs = layout.environments.filter((e) => envFilter === undefined || e.name === envFilter);
    if (envFilter !== undefined && envs.length === 0) {
      throw new CanaryError(
        'not-found',
        'no-such-environment',
        `No environment "${envFilter}" under ${layout.deploymentsDir}/ in ${layout.root}.`,
        `Environments found: ${layout.environments.map((e) => e.name).join(', ') || 'none'}.`,
      );
    }
    const rows: Row[] = [];
    for (const e of envs) {
      for (const m of e.models) {
        if (modelFilter !== undefined && m.name !== modelFilter) continue;
        try {
          const c = await readModelConfig(layout.root, e.name, m.name, { deploymentsDir: layout.deploymentsDir });
          rows.push({
            env: e.name,
            model: m.name,
            name: c.name,
            version: c.version ?? null,
            canary: c.canary,
            desiredPercent: c.desiredPercent ?? null,
            file: c.file,
          });
        } catch (err) {
          if (!isCanaryError(err)) throw err;
          rows.push({
            env: e.name,
            model: m.name,
            name: m.name,
            version: null,
            canary: { kind: 'absent' },
            desiredPercent: null,
            file: m.configPath,
            error: { code: err.code, message: err.message },
          });
        }
      }
    }
    if (modelFilter !== undefined && rows.length === 0) {
      throw new CanaryError(
        'not-found',
        'no-such-model',
        `No model "${modelFilter}"${envFilter ? ` in environment "${envFilter}"` : ''} under ${layout.deploymentsDir}/ in ${layout.root}.`,
        'Run `kserve-canary config` to list the models.',
      );
    }
    if (format === 'json' || format === 'yaml') {
      io.stdout(formatDocument(format, { root: layout.root, deploymentsDir: layout.deploymentsDir, models: rows }));
    } else if (rows.length === 0) {
      io.stdout(`No models under ${layout.deploymentsDir}/ in ${layout.root}.\n`);
    } else {
      const wide = format === 'wide';
      // -o wide: the InferenceService name (when it differs from the folder) and the file
      io.stdout(
        formatTable(
          ['ENV', 'MODEL', 'VERSION', 'CANARY', 'DESIRED', ...(wide ? ['NAME', 'FILE'] : [])],
          rows.map((r) => [
            r.env,
            r.model,
            r.version ?? '-',
            r.error ? 'invalid' : canaryCell(r.canary),
            desiredCell(r),
            ...(wide ? [r.name, path.relative(layout.root, r.file)] : []),
          ]),
        ),
      );
    }
    const bad = rows.filter((r) => r.error);
    for (const r of bad) io.stderr(`warning: ${r.error!.message}\n`);
    // Hostile entries (a link into .git or out of the checkout, a huge config.yaml) are listed as refused, not skipped silently.
    const refused = layout.ignored.filter((i) => i.refused && (envFilter === undefined || i.path.split(/[\\/]/).includes(envFilter)));
    for (const i of refused) io.stderr(`warning: refused ${i.path}: ${i.reason}\n`);
    return bad.length || refused.length ? 1 : 0;
  },
};
