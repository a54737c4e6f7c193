import { existsSync, realpathSync, statSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { CanaryError } from './errors';
import { isDnsLabel, validateName } from './names';
import type { EnvironmentEntry, Layout, ModelEntry } from './types';

export const DEFAULT_DEPLOYMENTS_DIR = 'model-deployments';
export const CONFIG_FILE = 'config.yaml';

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
    typeof dd !== 'string' || dd.trim() === '' || dd.includes('\0') || path.isAbsolute(dd) || /^[a-zA-Z]:/.test(dd) ||
    norm === '.' || norm === '..' || norm.startsWith('../') || norm.startsWith('/')
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

async function realOrUndefined(p: string): Promise<string | undefined> {
  try {
    return await fs.realpath(p);
  } catch {
    return undefined;
  }
}

const byName = <T extends { name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * Lists environments (folders under `<root>/<deploymentsDir>/`) and their models (subfolders
 * holding a `config.yaml`). Stray files, folders without a config.yaml, names that are not
 * DNS-1123 labels and folders that are symlinks leading outside the root are skipped and
 * listed in `ignored`, never fatal. Only a missing deployments folder is an error
 * (`not-found` / `no-deployments-dir`). Everything is sorted by name.
 */
export async function discoverLayout(root: string, opts?: { deploymentsDir?: string }): Promise<Layout> {
  const absRoot = path.resolve(root);
  const dd = checkDeploymentsDir(opts?.deploymentsDir);
  const base = path.join(absRoot, dd);
  const realRoot = (await realOrUndefined(absRoot)) ?? absRoot;
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

  const folderOrReason = (p: string): Promise<string | undefined> => entryOrReason(p, realRoot, 'folder');

  for (const envName of envNames.sort()) {
    const envDir = path.join(base, envName);
    const rel = path.join(dd, envName);
    const why = await folderOrReason(envDir);
    if (why) { ignored.push({ path: rel, reason: why }); continue; }
    if (!isDnsLabel(envName)) { ignored.push({ path: rel, reason: 'environment name is not a DNS-1123 label' }); continue; }
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
      const mwhy = await folderOrReason(modelDir);
      if (mwhy) { ignored.push({ path: mrel, reason: mwhy }); continue; }
      if (!isDnsLabel(modelName)) { ignored.push({ path: mrel, reason: 'model name is not a DNS-1123 label' }); continue; }
      const configPath = path.join(modelDir, CONFIG_FILE);
      const cwhy = await entryOrReason(configPath, realRoot, 'file');
      if (cwhy) { ignored.push({ path: mrel, reason: cwhy }); continue; }
      models.push({ name: modelName, configPath });
    }
    environments.push({ name: envName, dir: envDir, models: models.sort(byName) });
  }
  return { root: absRoot, deploymentsDir: dd, environments: environments.sort(byName), ignored };
}

/**
 * Why an entry is skipped (undefined when it is usable): missing or unreadable, the wrong
 * kind (a file where a folder is expected or the reverse), or a link leading outside the
 * gitops repository.
 */
async function entryOrReason(p: string, realRoot: string, want: 'folder' | 'file'): Promise<string | undefined> {
  const what = want === 'file' ? `${CONFIG_FILE} ` : '';
  let st;
  try {
    st = await fs.stat(p);
  } catch {
    return want === 'file' ? `no ${CONFIG_FILE}` : 'unreadable or a broken link';
  }
  if (want === 'folder' ? !st.isDirectory() : !st.isFile()) return `${what}${want === 'file' ? 'is not a file' : 'not a folder'}`;
  const real = await realOrUndefined(p);
  if (real === undefined || !isInside(realRoot, real)) return `${what}${want === 'file' ? 'is ' : ''}a link leading outside the gitops repository`;
  return undefined;
}

/**
 * Absolute path of `<root>/<deploymentsDir>/<env>/<model>/config.yaml`. Both names are
 * validated first (DNS-1123), the deployments folder must stay inside the root, and when
 * the model folder or its config.yaml already exist they must not be links leading outside
 * the root (CanaryError `invalid-input` / `outside-root`).
 */
export function modelConfigPath(root: string, env: string, model: string, deploymentsDir?: string): string {
  validateName('environment', env);
  validateName('model', model);
  const dd = checkDeploymentsDir(deploymentsDir);
  const absRoot = path.resolve(root);
  const file = path.join(absRoot, dd, env, model, CONFIG_FILE);
  if (!isInside(absRoot, file)) throw outsideRoot(file);
  if (existsSync(path.dirname(file))) {
    let realRoot = absRoot;
    try { realRoot = realpathSync(absRoot); } catch { /* keep the lexical root */ }
    for (const p of [path.dirname(file), file]) {
      let real: string;
      try {
        real = realpathSync(p);
      } catch {
        continue; // does not exist (yet): nothing to follow
      }
      if (!isInside(realRoot, real)) throw outsideRoot(p);
    }
  }
  return file;
}

function outsideRoot(p: string): CanaryError {
  return new CanaryError(
    'invalid-input',
    'outside-root',
    `${p} leads outside the gitops repository (a symbolic link?).`,
    'Keep every environment and model folder inside the gitops repository; replace the link with a real folder.',
  );
}
