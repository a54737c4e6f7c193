// code-server for `npm start` and the workbench tests, installed once into .cache/code-server/
// (git-ignored) so that it works offline here: only the npm registry and Debian packages are reachable.
//
//   node scripts/codeserver.mjs        install (no-op when already installed) and print where
//
// As a module:
//   ensureCodeServer()  -> { version, dir, entry }         idempotent, locked against concurrent runs
//   startCodeServer({ port, workspace, extensionsDir, userDataDir, env, runDir, args, settings })
//                       -> { url, port, process, stop() }   loopback only, --auth none; port 0
//                          (the default): the port the system gives it when it binds
//   installExtension({ vsix, extensionsDir, userDataDir, runDir })
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, copyFileSync, chmodSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { onPath, runCommand, sleep, startProcess } from './lib/proc.mjs';

export const CODE_SERVER_VERSION = '4.100.3';
// The ripgrep build @vscode/ripgrep 1.15.11 (code-server 4.100.x) downloads in its postinstall.
const RIPGREP_PKG_VERSION = '1.15.11';
const RIPGREP_ASSET = 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const cacheDir = path.join(root, '.cache', 'code-server');
const installDir = path.join(cacheDir, CODE_SERVER_VERSION);
const stampFile = path.join(installDir, '.installed');
const lockDir = path.join(cacheDir, '.lock');
const entryFile = path.join(installDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');

// What the install scripts build; the workbench's terminal, logs and file watching need them.
const NATIVE_MODULES = [
  'node_modules/argon2/lib/binding/napi-v3/argon2.node',
  ...['node-pty/build/Release/pty.node', '@vscode/spdlog/build/Release/spdlog.node', 'native-watchdog/build/Release/watchdog.node'].map(
    (f) => `node_modules/code-server/lib/vscode/node_modules/${f}`,
  ),
];

const say = (msg) => console.log(`code-server: ${msg}`);

function installed() {
  try {
    return readFileSync(stampFile, 'utf8').trim() === CODE_SERVER_VERSION && existsSync(entryFile);
  } catch {
    return false;
  }
}

/** Takes .cache/code-server/.lock (a directory: mkdir is atomic); waits for another live holder. */
async function withLock(fn) {
  mkdirSync(cacheDir, { recursive: true });
  const pidFile = path.join(lockDir, 'pid');
  let announced = false;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(pidFile, String(process.pid));
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      let holder = NaN;
      try {
        holder = Number(readFileSync(pidFile, 'utf8'));
      } catch {
        /* being written */
      }
      let holderAlive;
      if (Number.isInteger(holder) && holder > 0) {
        try {
          process.kill(holder, 0);
          holderAlive = true;
        } catch {
          holderAlive = false;
        }
      } else {
        // No pid yet: a lock younger than 10 s is being taken right now.
        try {
          holderAlive = Date.now() - statSync(lockDir).mtimeMs < 10_000;
        } catch {
          holderAlive = false;
        }
      }
      if (!holderAlive) {
        rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (!announced) say(`another install is running (pid ${holder}); waiting for it`);
      announced = true;
      await sleep(1000);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

/**
 * What this machine lacks to install code-server: one line per missing piece, saying what to
 * install. Only a C++ toolchain: the install leaves out code-server's kerberos module (see
 * dropKerberos), the one native module that needs system headers (GSSAPI, libkrb5-dev).
 */
export function codeServerPrerequisites() {
  if (installed()) return [];
  const missing = [];
  for (const [tool, pkg] of [
    ['g++', 'g++'],
    ['make', 'make'],
    ['python3', 'python3'],
    ['tar', 'tar'],
  ]) {
    if (!onPath(tool)) missing.push(`${tool}, to build its native modules: apt-get install -y ${pkg}`);
  }
  return missing;
}

function checkPrerequisites() {
  const missing = codeServerPrerequisites();
  if (missing.length) {
    throw new Error(
      `code-server ${CODE_SERVER_VERSION} cannot be installed; this machine lacks:\n  - ${missing.join('\n  - ')}\nInstall them (as root) and run again.`,
    );
  }
  const [major] = process.versions.node.split('.').map(Number);
  if (major !== 20) {
    say(`warning: code-server ${CODE_SERVER_VERSION} is built for Node 20; this is Node ${process.versions.node}.`);
  }
}

/** npm without a shell: the npm-cli.js next to this node, else `npm` from PATH. */
function npmCommand() {
  const cli = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
  return existsSync(cli) ? [process.execPath, [cli]] : ['npm', []];
}

/** Runs npm with `args` in `cwd`; throws with the log's tail when it fails. */
async function npm(cwd, args, env, logFile) {
  const [cmd, pre] = npmCommand();
  const res = await runCommand(cmd, [...pre, ...args], { cwd, env, logFile });
  if (res.code !== 0) {
    const tailText = res.output.trimEnd().split('\n').slice(-25).join('\n');
    throw new Error(`npm ${args.join(' ')} failed (exit ${res.code}). Full log: ${logFile}\n${tailText}`);
  }
}

async function npmInstall(prefix, spec, env, logFile, extraArgs = []) {
  mkdirSync(prefix, { recursive: true });
  // An own package.json keeps npm from walking up into the project.
  writeFileSync(path.join(prefix, 'package.json'), `${JSON.stringify({ name: 'ksc-cache', private: true }, null, 2)}\n`);
  await npm(prefix, ['install', '--no-audit', '--no-fund', '--no-save', '--no-package-lock', '--prefix', prefix, ...extraArgs, spec], env, logFile);
}

/**
 * Package paths of a lockfile (`packages` keys) that `deps` of the root reach, following node's
 * lookup: a package's dependency is the nearest `node_modules/<name>` above it.
 */
function reachable(packages, deps) {
  const resolve = (from, name) => {
    for (let base = from; ; base = base.slice(0, Math.max(0, base.lastIndexOf('/node_modules/')))) {
      const candidate = `${base ? `${base}/` : ''}node_modules/${name}`;
      if (candidate in packages) return candidate;
      if (!base) return undefined;
    }
  };
  const seen = new Set();
  const queue = deps.map((name) => resolve('', name)).filter(Boolean);
  while (queue.length) {
    const at = queue.shift();
    if (seen.has(at)) continue;
    seen.add(at);
    const meta = packages[at];
    for (const name of Object.keys({ ...meta.dependencies, ...meta.optionalDependencies, ...meta.peerDependencies })) {
      const found = resolve(at, name);
      if (found) queue.push(found);
    }
  }
  return seen;
}

/**
 * Takes `kerberos` out of the VS Code server's dependencies (lib/vscode: package.json and
 * npm-shrinkwrap.json, with the packages only it needed) before code-server's postinstall
 * installs them. kerberos is the one native module that needs system headers (GSSAPI, from
 * libkrb5-dev); VS Code imports it lazily, only to answer a proxy's Kerberos (Negotiate)
 * challenge, so without it everything else works and only that proxy authentication is refused.
 */
function dropKerberos(vscodeDir) {
  const pkgFile = path.join(vscodeDir, 'package.json');
  const lockFile = path.join(vscodeDir, 'npm-shrinkwrap.json');
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
  const lock = JSON.parse(readFileSync(lockFile, 'utf8'));
  if (!pkg.dependencies?.kerberos) throw new Error(`${pkgFile} does not list kerberos; this install step expects code-server ${CODE_SERVER_VERSION}`);
  const rootDeps = (meta) => Object.keys({ ...meta.dependencies, ...meta.optionalDependencies, ...meta.devDependencies });
  const before = reachable(lock.packages, rootDeps(lock.packages['']));
  delete pkg.dependencies.kerberos;
  delete lock.packages[''].dependencies?.kerberos;
  for (const key of Object.keys(pkg.overrides ?? {})) if (/^kerberos(@|$)/.test(key)) delete pkg.overrides[key];
  const after = reachable(lock.packages, rootDeps(lock.packages['']));
  const dropped = [...before].filter((p) => !after.has(p));
  for (const p of dropped) delete lock.packages[p];
  writeFileSync(pkgFile, `${JSON.stringify(pkg, null, 2)}\n`);
  writeFileSync(lockFile, `${JSON.stringify(lock, null, 2)}\n`);
  return dropped;
}

/** Installs code-server once; returns { version, dir, entry }. */
export async function ensureCodeServer() {
  if (installed()) return { version: CODE_SERVER_VERSION, dir: installDir, entry: entryFile };
  checkPrerequisites();
  return withLock(async () => {
    if (installed()) return { version: CODE_SERVER_VERSION, dir: installDir, entry: entryFile };
    const started = Date.now();
    say(`installing ${CODE_SERVER_VERSION} into ${path.relative(root, installDir)} (once; about a minute with a warm npm cache)`);
    rmSync(installDir, { recursive: true, force: true });
    const tmp = path.join(cacheDir, 'tmp');
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    const logFile = path.join(cacheDir, 'install.log');
    rmSync(logFile, { force: true });
    const env = {
      ...process.env,
      TMPDIR: tmp,
      npm_config_unsafe_perm: 'true', // the postinstall refuses to run as root otherwise
      npm_config_yes: 'true', // node-pty runs `npx node-gyp`
      npm_config_update_notifier: 'false',
    };

    // @vscode/ripgrep downloads rg from GitHub in its postinstall; pre-seed its cache from npm.
    const rgPrefix = path.join(cacheDir, 'ripgrep');
    const rgBin = path.join(rgPrefix, 'node_modules', '@vscode', 'ripgrep-linux-x64', 'bin', 'rg');
    if (!existsSync(rgBin)) await npmInstall(rgPrefix, '@vscode/ripgrep-linux-x64', env, logFile);
    if (!existsSync(rgBin)) throw new Error(`@vscode/ripgrep-linux-x64 installed without bin/rg (looked at ${rgBin})`);
    const seed = path.join(tmp, `vscode-ripgrep-cache-${RIPGREP_PKG_VERSION}`);
    const stage = path.join(tmp, 'rg-stage');
    mkdirSync(seed, { recursive: true });
    mkdirSync(stage, { recursive: true });
    copyFileSync(rgBin, path.join(stage, 'rg'));
    chmodSync(path.join(stage, 'rg'), 0o755);
    const tar = await runCommand('tar', ['-czf', path.join(seed, RIPGREP_ASSET), '-C', stage, 'rg'], { logFile });
    if (tar.code !== 0) throw new Error(`could not pack ripgrep for the cache: ${tar.output}`);

    // Unpack code-server and its own dependencies without running their scripts, leave kerberos
    // out of the VS Code server's dependencies, then run every install script (code-server's
    // postinstall installs lib/vscode and its extensions, building node-pty, spdlog, watcher, ...).
    await npmInstall(installDir, `code-server@${CODE_SERVER_VERSION}`, env, logFile, ['--ignore-scripts']);
    const dropped = dropKerberos(path.join(installDir, 'node_modules', 'code-server', 'lib', 'vscode'));
    say(`left out kerberos and ${dropped.length - 1} packages only it needed (Kerberos proxy authentication, which would need libkrb5-dev to build)`);
    await npm(installDir, ['rebuild', '--foreground-scripts', '--no-audit', '--no-fund'], env, logFile);
    if (!existsSync(entryFile)) throw new Error(`code-server installed but ${entryFile} is missing; see ${logFile}`);
    const unbuilt = NATIVE_MODULES.filter((f) => !existsSync(path.join(installDir, f)));
    if (unbuilt.length) throw new Error(`code-server installed but its native modules were not built (${unbuilt.join(', ')}); see ${logFile}`);
    writeFileSync(stampFile, `${CODE_SERVER_VERSION}\n`);
    rmSync(tmp, { recursive: true, force: true });
    say(`installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return { version: CODE_SERVER_VERSION, dir: installDir, entry: entryFile };
  });
}

/** Environment that keeps code-server (and what it starts) inside `runDir`. */
function runEnv(runDir, extra) {
  const dirs = {
    TMPDIR: path.join(runDir, 'tmp'),
    XDG_RUNTIME_DIR: path.join(runDir, 'xdg', 'runtime'),
    XDG_CONFIG_HOME: path.join(runDir, 'xdg', 'config'),
    XDG_DATA_HOME: path.join(runDir, 'xdg', 'data'),
    XDG_CACHE_HOME: path.join(runDir, 'xdg', 'cache'),
  };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true, mode: 0o700 });
  const env = { ...process.env, ...dirs, ...extra };
  // Never hand our own test plumbing or a parent's VS Code session to the server by accident.
  delete env.VSCODE_IPC_HOOK_CLI;
  delete env.ELECTRON_RUN_AS_NODE;
  return env;
}

function baseArgs({ runDir, extensionsDir, userDataDir }) {
  const config = path.join(runDir, 'code-server.yaml');
  // An explicit config keeps code-server from writing ~/.config/code-server/config.yaml.
  writeFileSync(config, 'auth: none\ncert: false\n');
  return ['--config', config, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];
}

/**
 * A quiet first window, kept offline: no welcome page, no telemetry, no marketplace checks.
 * Written only when the user-data folder has no settings yet (a reused run keeps the user's).
 */
function writeDefaultSettings(userDataDir) {
  const file = path.join(userDataDir, 'User', 'settings.json');
  if (existsSync(file)) return;
  mkdirSync(path.dirname(file), { recursive: true });
  const settings = {
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'extensions.ignoreRecommendations': true,
    'update.mode': 'none',
  };
  writeFileSync(file, `${JSON.stringify(settings, null, 2)}\n`);
}

/**
 * Sets these user settings on every start, keeping the others (values that change from run to
 * run, such as the sandbox Prometheus' port). The file is the plain JSON written above.
 */
function mergeUserSettings(userDataDir, settings) {
  if (Object.keys(settings).length === 0) return;
  const file = path.join(userDataDir, 'User', 'settings.json');
  let now;
  try {
    now = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot update ${file} (${err.message}); fix or delete it, or start with --fresh`, { cause: err });
  }
  writeFileSync(file, `${JSON.stringify({ ...now, ...settings }, null, 2)}\n`);
}

/** Installs a .vsix into `extensionsDir` (offline). */
export async function installExtension({ vsix, extensionsDir, userDataDir, runDir }) {
  const { entry } = await ensureCodeServer();
  mkdirSync(extensionsDir, { recursive: true });
  mkdirSync(userDataDir, { recursive: true });
  const logFile = path.join(runDir, 'install-extension.log');
  const res = await runCommand(process.execPath, [entry, ...baseArgs({ runDir, extensionsDir, userDataDir }), '--install-extension', vsix, '--force'], {
    cwd: runDir,
    env: runEnv(runDir, {}),
    logFile,
  });
  if (res.code !== 0 || !/successfully installed/i.test(res.output)) {
    throw new Error(`code-server could not install ${vsix} (exit ${res.code}); log: ${logFile}\n${res.output.trim().split('\n').slice(-10).join('\n')}`);
  }
}

/**
 * Starts code-server on 127.0.0.1:port with `workspace` open. Everything it writes goes under
 * runDir (config, user data and extensions unless given, TMPDIR, XDG_*). stop() ends every
 * process it started.
 */
export async function startCodeServer({
  port = 0,
  workspaceTrust = false,
  workspace,
  extensionsDir,
  userDataDir,
  env = {},
  runDir,
  args = [],
  echoPrefix,
  readyTimeoutMs = 60_000,
  settings = {},
}) {
  if (!runDir) throw new Error('startCodeServer: runDir is required');
  const { entry } = await ensureCodeServer();
  mkdirSync(runDir, { recursive: true });
  extensionsDir ??= path.join(runDir, 'extensions');
  userDataDir ??= path.join(runDir, 'user-data');
  mkdirSync(extensionsDir, { recursive: true });
  writeDefaultSettings(userDataDir);
  mergeUserSettings(userDataDir, settings);
  const argv = [
    entry,
    '--auth',
    'none', // loopback only, see --bind-addr
    '--bind-addr',
    `127.0.0.1:${port}`,
    ...baseArgs({ runDir, extensionsDir, userDataDir }),
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    // workspaceTrust: VS Code's own trust (a folder nothing trusted yet opens in restricted mode).
    ...(workspaceTrust ? [] : ['--disable-workspace-trust']),
    '--ignore-last-opened',
    ...args,
  ];
  if (workspace) argv.push(workspace);
  const proc = startProcess(process.execPath, argv, {
    cwd: runDir,
    env: runEnv(runDir, env),
    logFile: path.join(runDir, 'code-server.log'),
    echoPrefix,
    name: 'code-server',
  });
  let bound;
  try {
    // The address it bound (with port 0, the one the system picked: no other process can take it
    // between choosing and binding, as with a port probed free beforehand).
    const [, url] = await proc.waitFor(/HTTP server listening on (http:\/\/127\.0\.0\.1:\d+)\//, readyTimeoutMs, "'HTTP server listening on'");
    bound = Number(new URL(url).port);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { url: `http://127.0.0.1:${bound}/`, port: bound, process: proc, stop: () => proc.stop() };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  // No top-level await: CommonJS code (the browser tests, through start.mjs) loads this module.
  const started = Date.now();
  ensureCodeServer().then(
    ({ dir, version }) => say(`${version} ready in ${path.relative(root, dir) || dir} (${((Date.now() - started) / 1000).toFixed(1)} s)`),
    (err) => {
      console.error(`code-server: ${err.message}`);
      process.exit(1);
    },
  );
}
