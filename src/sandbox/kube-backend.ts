/**
 * The `kube-apiserver` sandbox backend: a real kube-apiserver with etcd embedded
 * (tools/kube-apiserver, built once per machine by scripts/build-apiserver.mjs) on 127.0.0.1,
 * set up like the embedded sandbox: namespaces, CRDs, the workshop user's RoleBindings, the seed
 * objects and the gitops remote (kube-backend-setup.ts), the same kubeconfig and token files.
 *
 *   const sb = await startKubeSandbox();   // or startSandbox({ backend: 'kube-apiserver' })
 *   kubectl --kubeconfig sb.kubeconfigPath get isvc -n user1-test
 *   await sb.stop();                       // SIGTERM to the server's process group; nothing left running
 *
 * Data dir: tls/ (CA + server cert, as the embedded backend), token (user1's, 0600), kubeconfig
 * (user1, context sandbox), admin.kubeconfig (system:masters), tokens.csv (--token-auth-file),
 * sa.key/sa.pub (service-account keys), etcd/ (data), apiserver.log, gitops.git, mlops-gitops.
 * controllers.json (the controllers' memory, on stop), inference.json (the inference and
 * Prometheus ports, with `inference: true`). Restarting on the same dir (restart(), or a new
 * start) keeps etcd's data and the ports. The KServe and Argo CD controllers run in this
 * process as API clients of the server (controllers.ts), as they do for the embedded backend;
 * so does the inference server (inference.ts, the embedded backend's), which splits requests
 * as the InferenceService's status on the real server says, read through the controllers'
 * list+watch cache.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { stringify as toYaml } from 'yaml';
import { startControllers, type ControllersSnapshot, type RunningControllers } from './controllers';
import { ensureToken, writeKubeconfig } from './data-dir';
import type { Sandbox, SandboxOptions } from './index';
import { InferenceServer, type InferencePorts } from './inference';
import { withInferenceView, type InferenceView } from './inference-view';
import type { KServeDialect } from './kserve';
import { kubeRequest, type KubeClient } from './kube-backend-http';
import { setUpCluster } from './kube-backend-setup';
import { seedGitops } from './seed';
import { ensureTls } from './tls';

export interface KubeSandboxOptions extends Pick<SandboxOptions, 'inference'> {
  /** Data dir; default a fresh temp dir. */
  dir?: string;
  /** 0 / undefined = a free port. */
  port?: number;
  /** Default `user1`. */
  user?: string;
  /** Seed the gitops repo and the objects on a new dir. Default true. */
  seed?: boolean;
  kserveDialect?: KServeDialect;
  /** More kube-apiserver flags, e.g. `--max-requests-inflight=1`, `--etcd-compaction-interval=5s`. */
  apiserverFlags?: string[];
  /** etcd's watch progress-notify interval (Go duration). Default `2s`. */
  etcdProgressNotify?: string;
  /** The kube-apiserver binary; default $KSC_KUBE_APISERVER_BIN, else scripts/build-apiserver.mjs builds or finds it. */
  binary?: string;
  /** KServe: delay between a spec change and the status (default 1000); Argo CD: sync delay (default 1500) and poll (default 200). */
  rolloutDelayMs?: number;
  syncDelayMs?: number;
  pollMs?: number;
  /** Argo CD selfHeal (spec drift put back to git). Default true. */
  selfHeal?: boolean;
  /** How long to wait for /readyz. Default 120 s. */
  readyTimeoutMs?: number;
}

/** The same places and names as the embedded sandbox (so the CLI writes the same ready file). */
type SameAsEmbedded = Pick<
  Sandbox,
  'server' | 'port' | 'dir' | 'kubeconfigPath' | 'tokenFile' | 'caFile' | 'gitopsRemote' | 'gitopsClone' | 'user' | 'context' | 'kserveDialect'
>;

/** The inference members (InferenceView) with `inference: true`: setRevisionBehavior is the embedded backend's `controller.setRevisionBehavior`. */
export interface KubeSandbox extends SameAsEmbedded, InferenceView {
  backend: 'kube-apiserver';
  /** KServe and Argo CD (controllers.ts), clients of this server as its admin. */
  readonly controllers: RunningControllers;
  /** Kubeconfig of the admin (group system:masters). */
  adminKubeconfigPath: string;
  /** The --token-auth-file. */
  tokenAuthFile: string;
  binary: string;
  /** The server's process id (changes on restart). */
  readonly pid: number | undefined;
  /** Requests as the admin / as the workshop user (its current token). */
  admin(): KubeClient;
  asUser(): KubeClient;
  /**
   * A new token for the user in the token auth file and the token file (the server reads the
   * file at start: restart() to make the old one 401); the kubeconfig too unless
   * `rewriteKubeconfig: false` (then `refreshKubeconfig()` later, like `oc login`).
   */
  rotateUserToken(opts?: { rewriteKubeconfig?: boolean }): string;
  refreshKubeconfig(): void;
  /** The server's log so far (for failure messages). */
  log(): string;
  /** Stop and start the server on the same port and data (etcd's too). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const DOMAIN = 'apps.sandbox.example';
const live = new Set<ChildProcess>();
let exitHook = false;

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // gone
    }
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** The package root: the folder above this file that holds tools/kube-apiserver. */
function packageRoot(): string {
  for (let d = __dirname; ; d = path.dirname(d)) {
    if (existsSync(path.join(d, 'tools', 'kube-apiserver', 'go.mod'))) return d;
    if (path.dirname(d) === d) throw new Error(`tools/kube-apiserver not found above ${__dirname}: pass the binary (KSC_KUBE_APISERVER_BIN)`);
  }
}

/** Builds (once per machine) or finds the kube-apiserver binary; build progress goes to stderr. */
export function kubeApiserverBinary(): string {
  if (process.env.KSC_KUBE_APISERVER_BIN) return process.env.KSC_KUBE_APISERVER_BIN;
  const script = path.join(packageRoot(), 'scripts', 'build-apiserver.mjs');
  const cached = spawnSync(process.execPath, [script, '--path'], { encoding: 'utf8' });
  if (cached.status === 0 && existsSync(cached.stdout.trim())) return cached.stdout.trim();
  process.stderr.write('kube-apiserver: not built on this machine yet; building it once (a cold build takes about 20 minutes on 2 cores)\n');
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  process.stderr.write(r.stderr ?? '');
  const out = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !out || !existsSync(out)) {
    const why = (r.stderr ?? '').trim().split('\n').pop() || `node scripts/build-apiserver.mjs exited ${r.status}`;
    throw new Error(`the kube-apiserver binary could not be built: ${why}`);
  }
  return out;
}

/** `token,user,uid,"groups"` lines for --token-auth-file. */
function tokenCsv(adminToken: string, user: string, userToken: string): string {
  return `${adminToken},kserve-canary-admin,uid-admin,"system:masters"\n${userToken},${user},uid-${user}\n`;
}

function ensureServiceAccountKeys(dir: string): { key: string; pub: string } {
  const key = path.join(dir, 'sa.key');
  const pub = path.join(dir, 'sa.pub');
  if (!existsSync(key) || !existsSync(pub)) {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(key, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    writeFileSync(pub, pair.publicKey.export({ type: 'spki', format: 'pem' }));
  }
  return { key, pub };
}

function writeAdminKubeconfig(file: string, server: string, ca: string, token: string): void {
  const cfg = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'sandbox', cluster: { server, 'certificate-authority-data': Buffer.from(ca).toString('base64') } }],
    users: [{ name: 'admin', user: { token } }],
    contexts: [{ name: 'sandbox-admin', context: { cluster: 'sandbox', user: 'admin', namespace: 'default' } }],
    'current-context': 'sandbox-admin',
  };
  writeFileSync(file, toYaml(cfg), { mode: 0o600 });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startKubeSandbox(opts: KubeSandboxOptions = {}): Promise<KubeSandbox> {
  const dir = path.resolve(opts.dir ?? mkdtempSync(path.join(os.tmpdir(), 'kserve-canary-kube-')));
  mkdirSync(dir, { recursive: true });
  const user = opts.user ?? 'user1';
  const binary = opts.binary ?? kubeApiserverBinary();
  const tls = ensureTls(dir);
  const caFile = path.join(dir, 'tls', 'ca.crt');
  const tokenFile = path.join(dir, 'token');
  const tokenAuthFile = path.join(dir, 'tokens.csv');
  const kubeconfigPath = path.join(dir, 'kubeconfig');
  const adminKubeconfigPath = path.join(dir, 'admin.kubeconfig');
  const logFile = path.join(dir, 'apiserver.log');
  const etcdDir = path.join(dir, 'etcd');
  const fresh = !existsSync(path.join(etcdDir, 'member'));
  let token = ensureToken(tokenFile);
  const adminTokenFile = path.join(dir, 'admin-token');
  const adminToken = ensureToken(adminTokenFile);
  if (!existsSync(tokenAuthFile)) writeFileSync(tokenAuthFile, tokenCsv(adminToken, user, token), { mode: 0o600 });
  const sa = ensureServiceAccountKeys(dir);
  const portFile = path.join(dir, 'port');
  let port = opts.port || (existsSync(portFile) ? Number(readFileSync(portFile, 'utf8')) : 0) || (await freePort());
  let child: ChildProcess | undefined;
  const server = () => `https://127.0.0.1:${port}`;
  const admin = (): KubeClient => ({ server: server(), ca: tls.caCert, token: adminToken });

  const flags = () => [
    `--secure-port=${port}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--cert-dir=${path.join(dir, 'apiserver-certs')}`,
    `--tls-cert-file=${path.join(dir, 'tls', 'server.crt')}`,
    `--tls-private-key-file=${path.join(dir, 'tls', 'server.key')}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    '--authorization-mode=RBAC',
    `--token-auth-file=${tokenAuthFile}`,
    `--service-account-issuer=https://127.0.0.1:${port}/`,
    `--service-account-key-file=${sa.pub}`,
    `--service-account-signing-key-file=${sa.key}`,
    '--disable-admission-plugins=ServiceAccount',
    '--endpoint-reconciler-type=none',
    '--profiling=false',
    ...(opts.apiserverFlags ?? []),
  ];

  const launch = async (): Promise<void> => {
    const fd = openSync(logFile, 'a');
    const c = spawn(binary, [`--etcd-data-dir=${etcdDir}`, `--etcd-progress-notify=${opts.etcdProgressNotify ?? '2s'}`, '--', ...flags()], {
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    child = c;
    live.add(c);
    c.on('exit', () => live.delete(c));
    if (!exitHook) {
      exitHook = true;
      process.on('exit', () => {
        for (const p of live) killGroup(p, 'SIGKILL');
      });
    }
    const end = Date.now() + (opts.readyTimeoutMs ?? 120000);
    for (;;) {
      if (c.exitCode !== null || c.signalCode !== null)
        throw new Error(`kube-apiserver exited (${c.exitCode ?? c.signalCode}) before it was ready; the end of ${logFile}:\n${tail()}`);
      const ok = await kubeRequest(admin(), 'GET', '/readyz', undefined, { timeoutMs: 5000 }).then(
        (a) => a.status === 200,
        () => false,
      );
      if (ok) return;
      if (Date.now() > end) {
        killGroup(c, 'SIGKILL');
        throw new Error(`kube-apiserver not ready after ${opts.readyTimeoutMs ?? 120000} ms; the end of ${logFile}:\n${tail()}`);
      }
      await sleep(200);
    }
  };

  const halt = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    killGroup(c, 'SIGTERM');
    const timer = setTimeout(() => killGroup(c, 'SIGKILL'), 20000);
    await exited;
    clearTimeout(timer);
  };

  const tail = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-25).join('\n') : '');

  // a port taken between choosing it and binding it: choose again (only when none was asked for)
  for (let attempt = 0; ; attempt++) {
    try {
      await launch();
      break;
    } catch (e) {
      await halt();
      if (opts.port || attempt >= 2 || !/address already in use/.test(String(e))) throw e;
      port = await freePort();
    }
  }
  writeFileSync(portFile, `${port}\n`);
  const gitopsRemote = path.join(dir, 'gitops.git');
  const gitopsClone = path.join(dir, 'mlops-gitops');
  const dialect = opts.kserveDialect ?? 'legacy';
  const memoryFile = path.join(dir, 'controllers.json');
  const seed = fresh && (opts.seed ?? true);
  let controllers: RunningControllers | undefined;
  // the user's token opens the Prometheus API and the control routes, as on the embedded backend
  const inference = opts.inference
    ? new InferenceServer(
        (ns, name) => controllers?.informers.isvcs.get(ns, name),
        () => token,
        { tls },
      )
    : undefined;
  const portsFile = path.join(dir, 'inference.json');
  const runControllers = async (restore: boolean): Promise<RunningControllers> =>
    startControllers({
      apiUrl: server(),
      ca: tls.caCert,
      token: adminToken,
      gitopsRemote,
      user,
      domain: DOMAIN,
      kserveDialect: dialect,
      ...(opts.rolloutDelayMs === undefined ? {} : { rolloutDelayMs: opts.rolloutDelayMs }),
      ...(opts.syncDelayMs === undefined ? {} : { syncDelayMs: opts.syncDelayMs }),
      ...(opts.pollMs === undefined ? {} : { pollMs: opts.pollMs }),
      ...(opts.selfHeal === undefined ? {} : { selfHeal: opts.selfHeal }),
      ...(inference ? { serviceUrl: (ns: string, name: string) => inference.serviceUrl(ns, name) } : {}),
      ...(restore && existsSync(memoryFile) ? { restore: JSON.parse(readFileSync(memoryFile, 'utf8')) as ControllersSnapshot } : { seed }),
    });
  const stopControllers = async (): Promise<void> => {
    const c = controllers;
    controllers = undefined;
    if (c) {
      await c.stop();
      writeFileSync(memoryFile, JSON.stringify(c.snapshot()));
    }
    await inference?.close();
  };
  try {
    // the same ports as before when possible, so that status.url stays valid
    if (inference) {
      await inference.resume(existsSync(portsFile) ? (JSON.parse(readFileSync(portsFile, 'utf8')) as InferencePorts) : {});
      writeFileSync(portsFile, JSON.stringify(inference.ports));
    }
    if (fresh) await setUpCluster(admin(), user);
    if (seed) await seedGitops(dir, user, gitopsRemote, gitopsClone);
    controllers = await runControllers(!fresh);
  } catch (e) {
    await stopControllers().catch(() => undefined);
    await halt();
    throw e;
  }
  writeKubeconfig(kubeconfigPath, server(), tls.caCert, token, user);
  writeAdminKubeconfig(adminKubeconfigPath, server(), tls.caCert, adminToken);

  const handle: Omit<KubeSandbox, keyof InferenceView> = {
    backend: 'kube-apiserver',
    server: server(),
    port,
    ...{ dir, kubeconfigPath, tokenFile, caFile, gitopsRemote, gitopsClone },
    user,
    context: 'sandbox',
    kserveDialect: dialect,
    adminKubeconfigPath,
    tokenAuthFile,
    binary,
    get pid() {
      return child?.pid;
    },
    admin,
    asUser: () => ({ server: server(), ca: tls.caCert, token }),
    rotateUserToken: (o) => {
      token = `sha256~${randomBytes(24).toString('base64url')}`;
      writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
      writeFileSync(tokenAuthFile, tokenCsv(adminToken, user, token), { mode: 0o600 });
      if (o?.rewriteKubeconfig ?? true) writeKubeconfig(kubeconfigPath, server(), tls.caCert, token, user);
      return token;
    },
    refreshKubeconfig: () => writeKubeconfig(kubeconfigPath, server(), tls.caCert, token, user),
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
    get controllers() {
      if (!controllers) throw new Error('the kube-apiserver sandbox is stopped');
      return controllers;
    },
    restart: async () => {
      // the controllers and the inference server keep running, as they would beside a real cluster's API server restart
      await halt();
      await launch();
    },
    stop: async () => {
      await stopControllers();
      await halt();
    },
  };
  return withInferenceView(handle, inference);
}
