// `npm start`: the extension in code-server, on the sandbox cluster, in one command.
//
//   npm start [-- --port 8080] [-- --fresh] [-- --no-inference]
//
// Builds and packages the extension, installs code-server once (.cache/code-server/), starts the
// sandbox, installs the .vsix into code-server and serves the workbench on 127.0.0.1:<port> with
// KUBECONFIG pointing at the sandbox and its gitops clone as the workspace. Everything lives in
// .run/ (git-ignored); --fresh starts from an empty one. Ctrl-C stops every process it started.
// By default the sandbox also serves inference on loopback and its Prometheus API, and code-server's
// user settings point kserveCanary.prometheus.url at it (the canary dashboard, Send test traffic).
// User settings, not the checkout's .vscode/settings.json: a URL from the workspace is a
// repository's choice and the extension asks before sending the kubeconfig token there
// (src/ui/prometheus-trust.ts); this one is the launcher's, i.e. the user's. The port changes
// from run to run, so every start rewrites that one setting and keeps the others.
//
// The browser tests use launch() to get the same setup in a temporary folder; launch() leaves
// inference off unless asked (`inference: true`, which also sets the Prometheus URL).
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { codeServerPrerequisites, ensureCodeServer, installExtension, startCodeServer } from './codeserver.mjs';
import { packageVsix } from './lib/package.mjs';
import { onPath, portInUse } from './lib/proc.mjs';
import { exitOnSignals, onShutdown, removeDir, root, secondsSince, shutdown, useRunTmp } from './lib/run.mjs';
import { startSandbox } from './lib/sandbox.mjs';

/** Everything missing to run `npm start`, each line saying what to install. */
export function prerequisites() {
  const missing = [];
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 20 || (major === 20 && minor < 19)) missing.push(`Node.js 20.19 or newer (this is ${process.versions.node}): https://nodejs.org/`);
  if (!onPath('git')) missing.push('git, for the gitops repository: apt-get install -y git');
  if (!existsSync(path.join(root, 'node_modules', '@vscode', 'vsce'))) missing.push('the project dependencies: npm install');
  missing.push(...codeServerPrerequisites());
  return missing;
}

/**
 * Builds, packages and starts sandbox + code-server with the extension installed.
 * Returns { url, workspace, sandbox, codeServer, vsix, runDir }; stop everything with shutdown().
 */
export async function launch({ runDir, port, sandboxPort, log = (m) => console.log(m), echo = false, inference = false }) {
  const t0 = Date.now();
  const step = (msg) => log(`start: ${msg} (${secondsSince(t0)} s)`);
  mkdirSync(runDir, { recursive: true });
  useRunTmp(runDir);
  const logs = path.join(runDir, 'logs');
  mkdirSync(logs, { recursive: true });

  // port 0: code-server binds whatever port the system gives it (the tests; `--port 0`).
  if (port !== 0 && (await portInUse(port))) {
    throw new Error(`port ${port} on 127.0.0.1 is taken; stop what uses it or pick another: npm start -- --port <N>`);
  }

  const vsix = path.join(runDir, 'kserve-canary.vsix');
  const [pkg] = await Promise.all([packageVsix(vsix, { logFile: path.join(logs, 'package.log') }), ensureCodeServer()]);
  step(`built and packaged ${path.relative(root, vsix) || vsix} (${(pkg.bytes / 1024).toFixed(0)} KiB)`);

  const sandboxDir = path.join(runDir, 'sandbox');
  const readyFile = path.join(runDir, 'sandbox.json');
  const sandbox = await startSandbox({
    dir: sandboxDir,
    port: sandboxPort ?? 0, // 0: the sandbox binds a port the system picks, and reports it
    readyFile,
    logFile: path.join(logs, 'sandbox.log'),
    echoPrefix: echo ? 'sandbox | ' : undefined,
    // Inference endpoints on loopback and the Prometheus API (the dashboard's browser test).
    inference,
  });
  onShutdown(() => sandbox.stop());
  step(`sandbox cluster at ${sandbox.info.server}`);

  const csDir = path.join(runDir, 'code-server');
  const extensionsDir = path.join(csDir, 'extensions');
  const userDataDir = path.join(csDir, 'user-data');
  await installExtension({ vsix, extensionsDir, userDataDir, runDir: csDir });
  const codeServer = await startCodeServer({
    port,
    workspace: sandbox.info.gitopsClone,
    extensionsDir,
    userDataDir,
    runDir: csDir,
    env: { KUBECONFIG: sandbox.info.kubeconfig },
    settings: prometheusSettings(sandbox.info, inference),
  });
  onShutdown(() => codeServer.stop());
  step(`code-server serving ${codeServer.url}`);
  return { url: codeServer.url, workspace: sandbox.info.gitopsClone, sandbox, codeServer, vsix, runDir };
}

/** The user setting that points the extension at the sandbox's Prometheus (none without inference). */
function prometheusSettings(info, inference) {
  if (!inference) return {};
  if (!info.prometheusUrl) throw new Error('the sandbox was started with inference but reports no Prometheus URL; see .run/logs/sandbox.log');
  return { 'kserveCanary.prometheus.url': info.prometheusUrl };
}

let stopping = false;

async function main() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8080' },
      fresh: { type: 'boolean', default: false },
      'no-inference': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(
      [
        'usage: npm start [-- --port N] [-- --fresh] [-- --no-inference]',
        '  --port N         serve code-server on 127.0.0.1:N (default 8080; 0: any free port)',
        '  --fresh          forget the previous run (sandbox state, workbench settings) in .run/',
        '  --no-inference   no inference endpoints nor Prometheus in the sandbox (no observed split, no dashboard charts)',
      ].join('\n'),
    );
    return 0;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port must be a TCP port number (1-65535, or 0 for any free one), got ${values.port}`);
  const missing = prerequisites();
  if (missing.length) throw new Error(`this machine lacks what npm start needs:\n  - ${missing.join('\n  - ')}\nInstall them and run npm start again.`);

  const runDir = path.join(root, '.run');
  if (values.fresh) removeDir(runDir);

  const started = Date.now();
  // The sandbox takes any free port; it rewrites .run/sandbox/kubeconfig on every start.
  const inference = !values['no-inference'];
  const env = await launch({ runDir, port, inference });
  const kubeconfig = env.sandbox.info.kubeconfig;
  console.log(`
KServe Canary is running in code-server (ready in ${secondsSince(started)} s):

    ${env.url}

  The workspace is the sandbox's gitops checkout: ${path.relative(root, env.workspace)}
  Things to try:
    - open the "KServe Canary" view in the activity bar: environments test and prod,
      jukebox at "prev 80% · latest 20%"; click it to follow it in the status bar
${
  inference
    ? `    - with test/jukebox selected: F1 -> "KServe Canary: Open canary dashboard", then its
      Send test traffic button; the observed split follows (Prometheus: ${env.sandbox.info.prometheusUrl})
`
    : ''
}    - F1 -> "KServe Canary: Set canary traffic" -> jukebox / test -> 35, and watch the
      status bar follow the change through git and the cluster
    - from a terminal:  KUBECONFIG=${path.relative(process.cwd(), kubeconfig)} node bin/kserve-canary.js status --gitops ${path.relative(process.cwd(), env.workspace)}

  Logs: ${path.relative(process.cwd(), path.join(runDir, 'logs'))}/ and ${path.relative(process.cwd(), path.join(runDir, 'code-server', 'code-server.log'))}
  Press Ctrl-C to stop everything.`);

  // Keep running until a signal, or until one of the two servers dies on its own.
  const died = await Promise.race([env.codeServer.process.exited.then((e) => ['code-server', e]), env.sandbox.exited.then((e) => ['the sandbox', e])]);
  if (stopping) return new Promise(() => {}); // the signal handler is shutting down and exits
  throw new Error(`${died[0]} stopped unexpectedly (exit ${died[1].code ?? died[1].signal}); see the logs in .run/`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  exitOnSignals(() => {
    stopping = true;
    console.log('\nstart: stopping sandbox and code-server...');
  });
  // No top-level await: the browser tests load this module from CommonJS.
  main().then(
    () => shutdown().then(() => process.exit(0)),
    (err) => {
      console.error(`start: ${err.message}`);
      return shutdown().then(() => process.exit(1));
    },
  );
}
