/**
 * Loads the CLI's group bundles (dist/cli-git.js for set/promote/rollback/config, dist/cli-cluster.js)
 * with a V8 code cache, so a command does not parse and compile its ~400 KB of JavaScript (and
 * the functions it runs) afresh on every start. Node 20 has no module compile cache of its own
 * (module.enableCompileCache arrived in Node 22), so this is done with vm.Script's cachedData:
 *
 * - The cache of a bundle is one file, <dir>/<bundle>-<place>-<key>-<node version>-<arch>.bin:
 *   the place a hash of the bundle's path, the key one of its device, inode, size, mtime and
 *   ctime. Any write of the file (a rebuild, an upgrade, even one that keeps the mtime, as npm's
 *   extraction does) changes its ctime, so a changed bundle or another Node never gets a stale
 *   cache (V8 itself checks only the source's length and its own version and flags; a cache it
 *   refuses is replaced). No content hash: node:crypto alone takes longer to load than the rest.
 * - It is written when the process exits, only when there was none or V8 refused it, after the
 *   command ran: it then holds the bytecode of the functions that ran too. A run that only prints
 *   help writes none (src/cli/cache-writes.ts): its cache would hold little of what a command runs.
 *   Written to a temporary name and renamed, so concurrent runs never read half a file; then the
 *   older caches of the same bundle file (place, Node, arch) are removed, and any cache not
 *   written for 30 days (a removed install, a test's temporary build); two installs in use keep
 *   one each. Any failure to read or write it only means no cache.
 * - <dir>: $KSC_COMPILE_CACHE, else the user's cache folder ($XDG_CACHE_HOME or ~/.cache,
 *   ~/Library/Caches on macOS, %LOCALAPPDATA% on Windows) + kserve-canary/v8.
 *   KSC_COMPILE_CACHE=off (or 0, false, no) or Node's NODE_DISABLE_COMPILE_CACHE=1 turn it off.
 * - A bundle holding an import() (dist/cli-cluster.js: @kubernetes/client-node is ESM only) is
 *   required as usual: Node 20 runs an import() inside a vm.Script only with --experimental-vm-modules.
 *
 * The build (scripts/lib/cli-build.mjs) makes every import of a group module a call of
 * loadBundle(); the module is registered in require's cache under its path before it runs, so
 * each bundle exists once in the process whichever way it was reached. From source (tsx, the
 * tests of main()) nothing goes through here.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';
import { cacheWritesAllowed } from './cache-writes';

interface NodeModule {
  exports: unknown;
  filename: string;
  loaded: boolean;
  paths: string[];
}
interface ModuleInternals {
  new (id: string, parent?: unknown): NodeModule;
  _cache: Record<string, NodeModule | undefined>;
  _nodeModulePaths(dir: string): string[];
  wrap(source: string): string;
}
const M = Module as unknown as ModuleInternals;

/** The folder of the code caches, or undefined when caching is off or there is no home. */
export function compileCacheDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string | undefined {
  const set = env.KSC_COMPILE_CACHE;
  if (set !== undefined && set !== '') return /^(0|off|false|no)$/i.test(set) ? undefined : path.resolve(set);
  if (env.NODE_DISABLE_COMPILE_CACHE) return undefined;
  const home = env.HOME || env.USERPROFILE;
  const absolute = (p: string | undefined) => (p && path.isAbsolute(p) ? p : undefined);
  const base =
    platform === 'win32'
      ? absolute(env.LOCALAPPDATA)
      : platform === 'darwin'
        ? home
          ? path.join(home, 'Library', 'Caches')
          : undefined
        : (absolute(env.XDG_CACHE_HOME) ?? (home ? path.join(home, '.cache') : undefined));
  return base ? path.join(base, 'kserve-canary', 'v8') : undefined;
}

/** Caches to write when the process exits. */
const pending: { script: vm.Script; dir: string; file: string; older: RegExp }[] = [];

function writePending(): void {
  if (!cacheWritesAllowed()) return;
  for (const { script, dir, file, older } of pending.splice(0)) {
    const tmp = path.join(dir, `.${file}.${process.pid}.tmp`);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
      renameSync(tmp, path.join(dir, file));
      const stale = Date.now() - STALE_MS;
      for (const old of readdirSync(dir)) {
        if (old === file || !old.endsWith('.bin')) continue;
        const p = path.join(dir, old);
        if (older.test(old) || statSync(p).mtimeMs < stale) rmSync(p, { force: true });
      }
    } catch {
      rmSync(tmp, { force: true });
    }
  }
}

const STALE_MS = 30 * 24 * 3600 * 1000;

/** An import() call in esbuild's output (written so that this line does not match itself). */
const DYNAMIC_IMPORT = /\bimport\(\s*[\w$"'`]/;

/** FNV-1a, 64 bits, as 16 hex digits (a file name, not a secret). */
function fnv1a64(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(text, 'utf8')) h = BigInt.asUintN(64, (h ^ BigInt(byte)) * 0x100000001b3n);
  return h.toString(16).padStart(16, '0');
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The exports of the bundle at `file` (an absolute path), loaded once per process. */
export function loadBundle(file: string): unknown {
  const known = M._cache[file];
  if (known) return known.exports;
  const dir = compileCacheDir();
  if (!dir) return createRequire(file)(file);

  // Stat before reading: were the file replaced in between, the cache would be kept under the
  // old file's key, which no file has any more (never the old code under the new file's key).
  const st = statSync(file, { bigint: true });
  const source = readFileSync(file, 'utf8');
  // An import() in a vm.Script needs --experimental-vm-modules on Node 20: a bundle with one
  // (cli-cluster.js: @kubernetes/client-node is ESM only) is required as usual.
  if (DYNAMIC_IMPORT.test(source)) return createRequire(file)(file);
  const name = path.basename(file, '.js');
  const suffix = `-${process.version}-${process.arch}.bin`;
  const place = `${name}-${fnv1a64(file).slice(0, 8)}-`;
  const cacheFile = `${place}${fnv1a64([st.dev, st.ino, st.size, st.mtimeNs, st.ctimeNs].join(':'))}${suffix}`;
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(path.join(dir, cacheFile));
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(M.wrap(source), {
    filename: file,
    ...(cachedData ? { cachedData } : {}),
  });
  if (!cachedData || script.cachedDataRejected) {
    if (!pending.length) process.once('exit', writePending);
    pending.push({ script, dir, file: cacheFile, older: new RegExp(`^${escapeRe(place)}[0-9a-f]{16}${escapeRe(suffix)}$`) });
  }

  const mod = new M(file, require.main);
  mod.filename = file;
  mod.paths = M._nodeModulePaths(path.dirname(file));
  M._cache[file] = mod;
  try {
    const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
    wrapper.call(mod.exports, mod.exports, createRequire(file), mod, file, path.dirname(file));
  } catch (e) {
    delete M._cache[file];
    throw e;
  }
  mod.loaded = true;
  return mod.exports;
}
