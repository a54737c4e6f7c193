/**
 * Reading and changing the `canary` block of a model's config.yaml, on disk. The pieces:
 * config-helm.ts (what the chart renders from a value), config-read.ts (parsing, the desired
 * state), config-edit.ts (the text edits). Edits are spliced into the original text, never
 * re-stringified, and re-parsed to check them.
 *
 * The canary is read as the chart renders it (`{{- if .Values.canary }}` around
 * `canaryTrafficPercent: {{ .Values.canary.trafficPercent }}`, values read by Helm's YAML 1.1
 * reader): `30`, `30.0`, `3e1`, `0x1E`, `+30`, `036`, `3_0`, `"30"`, `'30'`, `!!str 30` all
 * read as 30; `canary` null, {}, 0, false, "" or [] and a trafficPercent that is missing,
 * null, empty, `""` or `"null"` render no canary (kind `empty`). Helm also ignores YAML
 * documents after the first and lets a repeated key's last value win; so does the tool.
 *
 * Decisions (golden-tested in test/core/config.golden.test.ts):
 * - set N on `canary: {trafficPercent: M}` (block or flow) replaces only the M token in its
 *   own style (`"30"` → `"40"`, `'30'` → `'40'`, `!!int 30` → `!!int 40`, `0x1E` → `40`,
 *   `trafficPercent:` (empty) → `trafficPercent: 40`); a comment on that line stays. Same
 *   value (as the chart reads it) → unchanged, text identical.
 * - set N on a canary map without trafficPercent: flow map → `, trafficPercent: N` is
 *   added after its last item (inside `{}` when empty); block map → a `trafficPercent: N`
 *   line is added before its first key, at that key's indentation.
 * - set N on `canary:` with nothing after it (null, maybe a comment) → a child line
 *   `trafficPercent: N` under it, indented by the document's indentation unit (detected
 *   from its nested block maps, default 2); on a falsy token (`~`, `null`, `0`, `false`,
 *   `""`, `[]`) the token is replaced by `{trafficPercent: N}`.
 * - set N with no canary key → `canary:` + `  trafficPercent: N` appended as the last
 *   top-level key at the end of the first document (after any trailing comments; before a
 *   `...` marker or a second document); a file without a final newline still has none
 *   afterwards. In a flow top-level map, `, canary: {trafficPercent: N}` is added after its
 *   last item. A repeated key: the last copy (the one Helm reads) is changed.
 * - promote removes the whole `canary` pair (every copy of a repeated key): from the start
 *   of its key line to the end of the line where its value ends (end-of-line comments on
 *   those lines included); comment or blank lines after it stay. Promote of `canary: {}` /
 *   `canary:` removes them too (same rendering, tidier file); promote with no canary →
 *   unchanged.
 * - rollback is set 0.
 * Refused with CanaryError kind `invalid-config` and the file:line in the message:
 * `parse-error` (yaml errors in the first document: syntax, tab indentation...),
 * `not-a-map` (empty document or top level not a mapping), `bad-canary` (canary a truthy
 * scalar or a non-empty list: the template fails), `bad-percent` (trafficPercent renders as
 * something other than a whole number 0..100, e.g. `config.yaml:7: canary.trafficPercent
 * "30.5" reads as 30.5, not a whole number from 0 to 100.`; on reading AND on editing),
 * `anchored-canary` (set on a canary that is an alias, or the top-level map anchored),
 * `merged-canary` (a `<<` merge key brings in a canary or sits inside it), `unsafe-edit`
 * (an empty tagged canary such as `canary: !!null`, one in a flow top-level map, or the
 * re-parse check failed: e.g. an anchor inside canary used by an alias elsewhere, or a `|+`
 * block scalar just above a removed canary would grow).
 * On disk also: `not-found`/`no-config`, `invalid-config`/`not-utf8`, `unreadable`,
 * `changed-on-disk`; names are checked first (`invalid-input`/`invalid-name`).
 */
import { promises as fs, readFileSync } from 'node:fs';
import { CanaryError } from './errors';
import { writeFileAtomic } from './fsutil';
import { checkDeploymentsDir, modelConfigPath } from './layout';
import { checkAction, planCanaryAction } from './config-edit';
import { fastCanaryEdit } from './config-fast';
import { FIX_HINT, parseModelConfig, toModelConfig } from './config-read';
import type { CanaryAction, ModelConfig } from './types';

export { applyCanaryAction } from './config-edit';
export { parseModelConfig } from './config-read';

// ---- files ---------------------------------------------------------------------------------

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The file's text; missing, unreadable and not-UTF-8 files are CanaryErrors. */
async function readConfigText(file: string, env: string, model: string): Promise<string> {
  return configText(file, await fs.readFile(file).catch((e: unknown) => unreadable(file, env, model, e)));
}

function readConfigTextSync(file: string, env: string, model: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    unreadable(file, env, model, e);
  }
  return configText(file, bytes);
}

function unreadable(file: string, env: string, model: string, e: unknown): never {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    throw new CanaryError(
      'not-found',
      'no-config',
      `No config.yaml for model "${model}" in environment "${env}" (${file}).`,
      'Check the model and environment names (`kserve-canary config` lists them).',
      { cause: e },
    );
  }
  throw new CanaryError('invalid-config', 'unreadable', `Cannot read ${file}: ${code ?? (e as Error).message}.`, 'Check the file permissions.', { cause: e });
}

function configText(file: string, bytes: Buffer): string {
  try {
    return decoder.decode(bytes);
  } catch (e) {
    throw new CanaryError('invalid-config', 'not-utf8', `${file}:1: the file is not valid UTF-8.`, FIX_HINT, { cause: e });
  }
}

/** Reads `<root>/<deploymentsDir>/<env>/<model>/config.yaml` (names validated first). */
export async function readModelConfig(root: string, env: string, model: string, opts?: { deploymentsDir?: string }): Promise<ModelConfig> {
  const file = modelConfigPath(root, env, model, checkDeploymentsDir(opts?.deploymentsDir));
  const text = await readConfigText(file, env, model);
  return parseModelConfig(text, file, env, model);
}

/** An edit worked out in memory from the text it was read from (see draftModelEdit). */
export interface EditDraft {
  file: string;
  action: CanaryAction;
  text: string;
  before: ModelConfig;
  result: { changed: boolean; text: string };
  after: ModelConfig;
}

function draftFrom(file: string, text: string, env: string, model: string, action: CanaryAction): EditDraft {
  // The workshop's simple files are edited line by line, without the yaml library (config-fast.ts).
  const fast = fastCanaryEdit(text, action, file, env, model);
  if (fast) return { file, action, text, before: fast.before, result: { changed: fast.changed, text: fast.text }, after: fast.after };
  // Else one parse of each text: the edit's own analyses are the model configs before and after.
  const plan = planCanaryAction(text, action, file);
  const before = toModelConfig(plan.before, env, model);
  const after = plan.changed ? toModelConfig(plan.after, env, model) : before;
  return { file, action, text, before, result: { changed: plan.changed, text: plan.text }, after };
}

/**
 * Works the edit out without writing: reads the file, parses it, applies the action and checks
 * the result. Synchronous on purpose: publishing runs it right after starting git, and it is
 * all the work this process has while git runs. The draft goes to editModelConfig, which uses
 * it only when the file still holds exactly the text it was made from.
 */
export function draftModelEdit(root: string, env: string, model: string, action: CanaryAction, opts?: { deploymentsDir?: string }): EditDraft {
  checkAction(action);
  const file = modelConfigPath(root, env, model, checkDeploymentsDir(opts?.deploymentsDir));
  return draftFrom(file, readConfigTextSync(file, env, model), env, model, action);
}

/**
 * Applies the action to the model's config.yaml on disk. Writes (atomically, keeping the
 * file mode, through a symlink to its target) only when the text changes; on refusal the
 * file is untouched. Refuses with `invalid-config`/`changed-on-disk` if the file changed while editing.
 * `draft` (from draftModelEdit) saves the parsing when the file still reads as it did then.
 */
export async function editModelConfig(
  root: string,
  env: string,
  model: string,
  action: CanaryAction,
  opts?: { deploymentsDir?: string; draft?: EditDraft },
): Promise<{ file: string; changed: boolean; before: ModelConfig; after: ModelConfig }> {
  checkAction(action);
  const file = modelConfigPath(root, env, model, checkDeploymentsDir(opts?.deploymentsDir));
  const text = await readConfigText(file, env, model);
  const d = opts?.draft;
  const drafted = d !== undefined && d.file === file && d.action === action && d.text === text;
  const { before, result, after } = drafted ? d : draftFrom(file, text, env, model, action);
  if (!result.changed) return { file, changed: false, before, after: before };
  const target = await fs.realpath(file);
  // Parsing took a while: read again, and write nothing when the file changed meanwhile. (A draft
  // was parsed before the read above, which found the text it was made from.)
  if (!drafted && (await readConfigText(file, env, model)) !== text) {
    throw new CanaryError('invalid-config', 'changed-on-disk', `${file} changed on disk while it was being edited; nothing was written.`, 'Try again.');
  }
  await writeFileAtomic(target, result.text);
  return { file, changed: true, before, after };
}
