/**
 * `kserve-canary sandbox`: runs the local fake cluster (KServe + Argo CD behaviour, real
 * Kubernetes API) until SIGINT/SIGTERM. Prints where the kubeconfig, the token file and the
 * gitops clone are (never the token). `--ready-file F` gets a JSON description once it serves.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CanaryError } from '../../core/errors';
import { parse, COMMON_OPTIONS, type OptionSpec } from '../args';
import { durationOption } from '../options';
import { usageError } from '../output';
import type { CliCommand, CliIO } from '../command';
import type { KubeSandbox, Sandbox } from '../../sandbox/index';
import { SUMMARIES } from './summaries';

const USAGE = `Usage: kserve-canary sandbox [--backend embedded|kube-apiserver] [--port N] [--dir D] [--sync-delay D] [--rollout-delay D] [--inference] [--kserve-dialect current|legacy] [--ready-file F]

Starts a local Kubernetes API (HTTPS on 127.0.0.1) that behaves like KServe and Argo CD for
InferenceServices, Applications and Routes, seeded with the workshop's jukebox model
(test: prev 80 / latest 20, prod: 100% latest), a gitops bare repository and a working clone.
Runs until Ctrl+C (SIGINT) or SIGTERM. Restarting on the same --dir resumes the same state.

Options:
  --backend B         embedded (default): the sandbox's own API server, starts in a second;
                      kube-apiserver: a real Kubernetes API server with etcd (built once per
                      machine with Go by scripts/build-apiserver.mjs), the same CRDs, seed,
                      kubeconfig and ready file; user1 has the workshop's RoleBindings only
  --port N            port on 127.0.0.1 (default: any free port)
  --dir D             data folder: kubeconfig, token, CA, gitops repo and clone, state
                      (default: a new temporary folder)
  --sync-delay D      Argo CD: time from noticing a push to Synced (default 1.5s)
  --rollout-delay D   KServe: time from a spec change to the new status (default 1s)
  --poll D            Argo CD: how often the gitops branch is read (default 200ms)
                      (durations: 90 = seconds, 1.5s, 500ms, 2m; at most 1h)
  --inference         serve inference per revision (status.url becomes a loopback http URL)
                      and a Prometheus query API over the requests served
  --kserve-dialect D  how KServe names deployment modes in status.deploymentMode: current
                      (0.16+: Knative, Standard) or legacy (Serverless, RawDeployment);
                      the annotation accepts both (default legacy)
  --ready-file F      when ready, write {server, port, kubeconfig, gitopsClone, gitopsRemote,
                      tokenFile, dir, pid} as JSON to F (plus prometheusUrl with --inference)
  -h, --help          show this help

Example:
  kserve-canary sandbox --dir ~/.cache/kserve-canary-sandbox
  export KUBECONFIG=~/.cache/kserve-canary-sandbox/kubeconfig
  kubectl get isvc -n user1-test
`;

function nonNegativeInt(values: Record<string, string | boolean | undefined>, name: string, max: number): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^\d+$/.test(v) || Number(v) > max) {
    throw usageError(
      `sandbox: --${name} must be a whole number from 0 to ${max}, got ${JSON.stringify(v)}.`,
      'Run `kserve-canary sandbox --help` for the options.',
    );
  }
  return Number(v);
}

const OPTIONS: OptionSpec = {
  ...COMMON_OPTIONS,
  port: { type: 'string' },
  dir: { type: 'string' },
  'sync-delay': { type: 'string' },
  'rollout-delay': { type: 'string' },
  poll: { type: 'string' },
  'ready-file': { type: 'string' },
  inference: { type: 'boolean' },
  'kserve-dialect': { type: 'string' },
  backend: { type: 'string' },
};

function writeReadyFile(file: string, info: Record<string, unknown>): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(info, null, 2) + '\n');
  renameSync(tmp, file);
}

async function run(argv: string[], io: CliIO): Promise<number> {
  const { values } = parse('sandbox', argv, OPTIONS, 0);
  if (values.help) {
    io.stdout(USAGE);
    return 0;
  }
  const port = nonNegativeInt(values, 'port', 65535);
  const delay = (name: string) => durationOption('sandbox', values, name, undefined, { min: 0, max: 3_600_000 });
  const syncDelayMs = delay('sync-delay');
  const rolloutDelayMs = delay('rollout-delay');
  const pollMs = delay('poll');
  const dir = typeof values.dir === 'string' && values.dir ? path.resolve(io.cwd, values.dir) : undefined;
  const readyFile = typeof values['ready-file'] === 'string' && values['ready-file'] ? path.resolve(io.cwd, values['ready-file']) : undefined;
  const dialect = values['kserve-dialect'];
  if (dialect !== undefined && dialect !== 'current' && dialect !== 'legacy') {
    throw usageError(
      `sandbox: --kserve-dialect must be current or legacy, got ${JSON.stringify(dialect)}.`,
      'Run `kserve-canary sandbox --help` for the options.',
    );
  }
  const backend = values.backend ?? 'embedded';
  if (backend !== 'embedded' && backend !== 'kube-apiserver') {
    throw usageError(
      `sandbox: --backend must be embedded or kube-apiserver, got ${JSON.stringify(backend)}.`,
      'Run `kserve-canary sandbox --help` for the options.',
    );
  }
  if (io.signal.aborted) return 0;

  const { startSandbox, SandboxBusyError } = await import('../../sandbox/index');
  let sb: Sandbox | KubeSandbox;
  try {
    const common = {
      dir,
      port,
      syncDelayMs,
      rolloutDelayMs,
      pollMs: pollMs === 0 ? 1 : pollMs,
      inference: values.inference === true,
      ...(dialect ? ({ kserveDialect: dialect } as const) : {}),
    };
    sb = await startSandbox(backend === 'kube-apiserver' ? { ...common, backend } : common);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (e instanceof SandboxBusyError) {
      throw new CanaryError('invalid-input', 'sandbox-busy', msg, `Stop that one first (kill ${e.pid}), or pass another --dir.`);
    }
    if (/EADDRINUSE/.test(msg)) {
      throw new CanaryError(
        'invalid-input',
        'port-in-use',
        `Port ${port} on 127.0.0.1 is already in use.`,
        'Pick another --port, or leave it out to use any free port.',
      );
    }
    throw new CanaryError(
      'internal',
      'sandbox-start',
      `The sandbox did not start: ${msg}`,
      'Check that git is installed and that the --dir folder is writable.',
      { cause: e },
    );
  }
  const stopped = new Promise<void>((resolve) => {
    if (io.signal.aborted) resolve();
    else io.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  try {
    io.stdout(
      [
        `KServe Canary sandbox is running (${'backend' in sb ? 'real kube-apiserver' : 'embedded'} backend, user ${sb.user}, KServe ${sb.kserveDialect} mode names).`,
        `  server:        ${sb.server}`,
        `  kubeconfig:    ${sb.kubeconfigPath}   (context ${sb.context}, namespace ${sb.user}-test)`,
        `  token file:    ${sb.tokenFile}`,
        `  gitops clone:  ${sb.gitopsClone}`,
        `  gitops remote: ${sb.gitopsRemote}`,
        `  data folder:   ${sb.dir}`,
        ...(sb.prometheusUrl ? [`  prometheus:    ${sb.prometheusUrl}   (bearer token: the token file)`] : []),
        '',
        'Try:',
        `  export KUBECONFIG=${sb.kubeconfigPath}`,
        `  kubectl get isvc -n ${sb.user}-test`,
        `  cd ${sb.gitopsClone} && kserve-canary set jukebox 50 --env test`,
        '',
        'Press Ctrl+C to stop.',
        '',
      ].join('\n'),
    );
    if (readyFile) {
      writeReadyFile(readyFile, {
        server: sb.server,
        port: sb.port,
        kubeconfig: sb.kubeconfigPath,
        gitopsClone: sb.gitopsClone,
        gitopsRemote: sb.gitopsRemote,
        tokenFile: sb.tokenFile,
        dir: sb.dir,
        pid: process.pid,
        ...(sb.prometheusUrl ? { prometheusUrl: sb.prometheusUrl } : {}),
      });
    }
    await stopped;
  } finally {
    await sb.stop();
    if (readyFile) rmSync(readyFile, { force: true });
  }
  io.stdout('Sandbox stopped; its state is saved in the data folder.\n');
  return 0;
}

export const sandboxCommand: CliCommand = {
  name: 'sandbox',
  summary: SUMMARIES.sandbox,
  usage: USAGE,
  options: OPTIONS,
  run,
};
