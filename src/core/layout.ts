import { lstatSync, realpathSync, statSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { CanaryError } from './errors';
import { isDnsLabel, validateName } from './names';
import type { EnvironmentEntry, Layout, ModelEntry } from './types';

export const DEFAULT_DEPLOYMENTS_DIR = 'model-deployments';
export const CONFIG_FILE = 'config.yaml';

/**
 * Largest config.yaml read or edited. A real one is well under 1 KiB; the cap keeps a hostile
 * checkout (a 40 MB file) from costing seconds and gigabytes in the YAML parser: the size is
 * checked with stat before a byte is read.
 */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** True when `child` is `parent` or lies below it (both absolute, normalised). */
export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Checks the configured deployments folder: a relative path that stays inside the gitops
 * root (`model-deployments`, `gitops/model-deployments`), never absolute nor climbing out
 * with `..`. Returns it normalised with forward slashes.
 */
export function checkDeploymentsDir(deploymentsDir: string | undefined): string {
  const dd = deploymentsDir ?? DEFAULT_DEPLOYMENTS_DIR;
  const norm = typeof dd === 'string' ? path.posix.normalize(dd.replace(/\\/g, '/')).replace(/\/+$/, '') : '';
  if (
    typeof dd !== 'string' ||
    dd.trim() === '' ||
    dd.includes('\0') ||
    path.isAbsolute(dd) ||
    /^[a-zA-Z]:/.test(dd) ||
    norm === '.' ||
    norm === '..' ||
    norm.startsWith('../') ||
    norm.startsWith('/')
  ) {
    throw new CanaryError(
      'invalid-input',
      'invalid-deployments-dir',
      `Invalid deployments folder ${JSON.stringify(String(dd)).slice(0, 120)}: it must be a relative path inside the gitops repository.`,
      `Use a folder of the repository such as "${DEFAULT_DEPLOYMENTS_DIR}".`,
    );
  }
  return norm;
}

/**
 * The gitops root: `start` itself or its nearest parent holding a `<deploymentsDir>/` folder;
 * undefined when there is none up to the filesystem root.
 */
export function findGitopsRoot(start: string, deploymentsDir?: string): string | undefined {
  const dd = checkDeploymentsDir(deploymentsDir);
  let dir = path.resolve(start);
  for (;;) {
    if (isDirSync(path.join(dir, dd))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function isDirSync(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

const byName = <T extends { name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * Lists environments (folders under `<root>/<deploymentsDir>/`) and their models (subfolders
 * holding a `config.yaml`). Stray files, folders without a config.yaml, names that are not
 * DNS-1123 labels are skipped and listed in `ignored`, never fatal; links leading into a git
 * directory or outside the root, special files and oversized config.yaml files too, marked
 * `refused` with their code (see inspectEntry). Only a missing deployments folder is an error
 * (`not-found` / `no-deployments-dir`). Everything is sorted by name.
 */
export async function discoverLayout(root: string, opts?: { deploymentsDir?: string }): Promise<Layout> {
  const absRoot = path.resolve(root);
  const dd = checkDeploymentsDir(opts?.deploymentsDir);
  const base = path.join(absRoot, dd);
  const realRoot = realOr(absRoot);
  const ignored: Layout['ignored'] = [];
  const environments: EnvironmentEntry[] = [];

  let envNames: string[];
  try {
    if (!(await fs.stat(base)).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    envNames = await fs.readdir(base);
  } catch (e) {
    throw new CanaryError(
      'not-found',
      'no-deployments-dir',
      `No ${dd}/ folder in ${absRoot} (${(e as NodeJS.ErrnoException).code ?? 'unreadable'}).`,
      `Open the gitops repository (the folder holding ${dd}/), or set the deployments folder in the settings.`,
      { cause: e },
    );
  }

  /** Records a problem; links and oversized or special files are marked `refused` (the UI and CLI show those). */
  const skip = (rel: string, p: EntryProblem | undefined): boolean => {
    if (!p) return false;
    ignored.push({ path: rel, reason: p.message, ...(REFUSED.has(p.code) ? { refused: p.code } : {}) });
    return true;
  };

  for (const envName of envNames.sort()) {
    const envDir = path.join(base, envName);
    const rel = path.join(dd, envName);
    if (skip(rel, inspectEntry(envDir, absRoot, realRoot, 'folder'))) continue;
    if (!isDnsLabel(envName)) {
      ignored.push({ path: rel, reason: 'environment name is not a DNS-1123 label' });
      continue;
    }
    const models: ModelEntry[] = [];
    let modelNames: string[];
    try {
      modelNames = await fs.readdir(envDir);
    } catch {
      ignored.push({ path: rel, reason: 'unreadable folder' });
      continue;
    }
    for (const modelName of modelNames.sort()) {
      const modelDir = path.join(envDir, modelName);
      const mrel = path.join(rel, modelName);
      if (skip(mrel, inspectEntry(modelDir, absRoot, realRoot, 'folder'))) continue;
      if (!isDnsLabel(modelName)) {
        ignored.push({ path: mrel, reason: 'model name is not a DNS-1123 label' });
        continue;
      }
      const configPath = path.join(modelDir, CONFIG_FILE);
      if (skip(mrel, inspectEntry(configPath, absRoot, realRoot, 'file'))) continue;
      models.push({ name: modelName, configPath });
    }
    environments.push({ name: envName, dir: envDir, models: models.sort(byName) });
  }
  return { root: absRoot, deploymentsDir: dd, environments: environments.sort(byName), ignored };
}

function realOr(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/** A problem with one entry of the layout: a stable code and a message naming the entry. */
export interface EntryProblem {
  code: 'missing' | 'broken-link' | 'not-a-folder' | 'not-a-file' | 'link-into-git' | 'outside-root' | 'config-too-large';
  message: string;
}

/** Problems that are refusals of hostile content, not mere strays. */
const REFUSED = new Set<EntryProblem['code']>(['broken-link', 'not-a-file', 'link-into-git', 'outside-root', 'config-too-large']);

const MIB = 1024 * 1024;

/** `1 MiB`, `40.0 MB`: sizes as people read them. */
export function formatBytes(n: number): string {
  if (n >= MIB && n % MIB === 0) return `${n / MIB} MiB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} bytes`;
}

/**
 * Where a resolved path lies relative to the (real) gitops root: `git` when any of its
 * folders is a `.git` (the repository's git directory, a submodule's or a worktree's
 * `.git`, a nested repository), `outside` when it is not below the root, else undefined.
 * `gitDirs` are further git directories to refuse (from `git rev-parse`, for a git dir
 * that is not called `.git`). Pure: no file system access.
 */
export function resolvedPlace(realRoot: string, real: string, gitDirs: readonly string[] = []): 'git' | 'outside' | undefined {
  if (gitDirs.some((g) => isInside(g, real))) return 'git';
  if (!isInside(realRoot, real)) return 'outside';
  const parts = path.relative(realRoot, real).split(path.sep);
  if (parts.some((p) => p.toLowerCase() === '.git')) return 'git';
  return undefined;
}

/**
 * Checks one environment folder, model folder or config.yaml without following it blindly:
 * `lstat` says whether it is a link, `realpath` where it (or any folder above it) leads.
 * Refused: a path that resolves into a git directory (writing through it would corrupt the
 * repository) or outside the gitops root; the wrong kind (a folder where a file is
 * expected, a FIFO or device as config.yaml); a config.yaml over MAX_CONFIG_BYTES. A link
 * that stays inside the work tree (e.g. `prod/jukebox -> ../test/jukebox`, two environments
 * sharing one file) is accepted: the file it leads to is the one git tracks and edits.
 * Undefined when the entry is usable.
 */
export function inspectEntry(p: string, root: string, realRoot: string, want: 'folder' | 'file', gitDirs: readonly string[] = []): EntryProblem | undefined {
  const name = toPosixRel(root, p);
  let lst;
  try {
    lst = lstatSync(p);
  } catch {
    return { code: 'missing', message: want === 'file' ? `no ${CONFIG_FILE}` : `${name} is unreadable` };
  }
  const isLink = lst.isSymbolicLink();
  let real: string;
  try {
    real = realpathSync(p);
  } catch {
    return { code: 'broken-link', message: `${name} is a broken link (or unreadable)` };
  }
  const where = resolvedPlace(realRoot, real, gitDirs);
  const shown = where === 'outside' ? real : toPosixRel(realRoot, real);
  const via = isLink ? `${name} is a link to ${shown}` : `${name} resolves to ${shown} (through a linked folder)`;
  if (where === 'git') return { code: 'link-into-git', message: `${via}, inside the git directory: refused, writing through it would corrupt the repository` };
  if (where === 'outside') return { code: 'outside-root', message: `${via}, outside the gitops repository: refused` };
  let st;
  try {
    st = isLink ? statSync(p) : lst;
  } catch {
    return { code: 'broken-link', message: `${name} is a broken link (or unreadable)` };
  }
  if (want === 'folder' && !st.isDirectory()) return { code: 'not-a-folder', message: `${name} is not a folder` };
  if (want === 'file' && !st.isFile())
    return { code: 'not-a-file', message: `${name} is not a file but ${st.isDirectory() ? 'a folder' : 'a FIFO, socket or device'}` };
  if (want === 'file' && st.size > MAX_CONFIG_BYTES) {
    return {
      code: 'config-too-large',
      message: `${name} is ${formatBytes(st.size)}, over the ${formatBytes(MAX_CONFIG_BYTES)} limit for a ${CONFIG_FILE}: refused without reading it`,
    };
  }
  return undefined;
}

function toPosixRel(root: string, p: string): string {
  const rel = path.relative(root, p);
  return rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? p : rel.split(path.sep).join('/');
}

/**
 * Absolute path of `<root>/<deploymentsDir>/<env>/<model>/config.yaml`. Both names are
 * validated first (DNS-1123), the deployments folder must stay inside the root, and when
 * the model folder or its config.yaml already exist they are checked with inspectEntry
 * before anything reads or writes them: a link (or linked folder) leading into a git
 * directory (`link-into-git`), outside the root (`outside-root`) or nowhere (`broken-link`)
 * is refused as `invalid-input`; a config.yaml that is not a regular file (`not-a-file`) or
 * is larger than MAX_CONFIG_BYTES (`config-too-large`) as `invalid-config`. A missing
 * folder or file is left to the reader (`not-found`).
 */
export function modelConfigPath(root: string, env: string, model: string, deploymentsDir?: string, opts?: { gitDirs?: readonly string[] }): string {
  validateName('environment', env);
  validateName('model', model);
  const dd = checkDeploymentsDir(deploymentsDir);
  const absRoot = path.resolve(root);
  const file = path.join(absRoot, dd, env, model, CONFIG_FILE);
  if (!isInside(absRoot, file)) throw outsideRoot(file);
  const realRoot = realOr(absRoot);
  const gitDirs = (opts?.gitDirs ?? []).map(realOr);
  for (const [p, want] of [
    [path.dirname(file), 'folder'],
    [file, 'file'],
  ] as const) {
    const problem = inspectEntry(p, absRoot, realRoot, want, gitDirs);
    if (!problem || problem.code === 'missing' || problem.code === 'not-a-folder') {
      if (problem) break; // nothing there to follow: the reader says what is missing
      continue;
    }
    throw entryError(problem, file);
  }
  return file;
}

/** The CanaryError for a refused entry (see modelConfigPath). */
export function entryError(problem: EntryProblem, file: string): CanaryError {
  const msg = `${problem.message}.`;
  switch (problem.code) {
    case 'config-too-large':
      return new CanaryError(
        'invalid-config',
        problem.code,
        msg,
        `A model's ${CONFIG_FILE} holds a few settings (name, version, canary); look at what was committed to ${file}.`,
      );
    case 'not-a-file':
      return new CanaryError('invalid-config', problem.code, msg, `Make ${file} a plain file.`);
    case 'outside-root':
      return new CanaryError(
        'invalid-input',
        problem.code,
        msg,
        'Keep every environment and model folder inside the gitops repository; replace the link with a real folder.',
      );
    default:
      return new CanaryError(
        'invalid-input',
        problem.code,
        msg,
        `Replace the link with the model's own folder and ${CONFIG_FILE} (\`git rm\` the link); nothing was read or written through it.`,
      );
  }
}

function outsideRoot(p: string): CanaryError {
  return new CanaryError(
    'invalid-input',
    'outside-root',
    `${p} leads outside the gitops repository (a symbolic link?).`,
    'Keep every environment and model folder inside the gitops repository; replace the link with a real folder.',
  );
}
