/**
 * The sandbox: a local Kubernetes API server that behaves like KServe and Argo CD for the
 * objects this product uses, for `npm start`, the CLI (`kserve-canary sandbox`) and tests.
 *
 *   const sb = await startSandbox();            // fresh temp dir, ephemeral port, seeded
 *   process.env.KUBECONFIG = sb.kubeconfigPath; // context `sandbox`, namespace user1-test
 *   ...
 *   await sb.stop();                            // persists state to sb.dir; nothing left running
 *
 * Data dir layout: tls/ (CA + server cert, reused), token (0600), kubeconfig (0600),
 * gitops.git (bare, branch main), mlops-gitops (working clone), state.json (on stop),
 * sandbox.pid (one live process per dir), ci-clone (pipelinePush, created on first use).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ArgoSnapshot } from './argocd';
import { startControllers, type RunningControllers } from './controllers';
import { DEPLOYMENT_MODE_ANNOTATION, TAG_ROUTING_ANNOTATION, type KServeSnapshot } from './kserve';
import { newFaultState, type AccessList } from './faults';
import { INFERENCE_SERVICES } from './resources';
import { InferenceServer, type InferencePorts } from './inference';
import { withInferenceView, type InferenceView } from './inference-view';
import { ApiServer } from './server';
import { pipelinePush } from './pipeline';
import { seedGitops } from './seed';
import { ObjectStore, type StoreSnapshot } from './store';
import { ensureToken, lockDir, writeKubeconfig } from './data-dir';
import { ensureTls } from './tls';
import type { KubeSandbox, KubeSandboxOptions } from './kube-backend';
import type { Sandbox, SandboxOptions } from './sandbox-api';

export { SEED_VERSION, OLD_VERSION, configYaml } from './seed';
export { SandboxBusyError } from './data-dir';
export { startControllers, type ControllersOptions, type RunningControllers } from './controllers';
export { REFRESH_ANNOTATION } from './argocd';
export { DEPLOYMENT_MODE_ANNOTATION, TAG_ROUTING_ANNOTATION, type KServeDialect } from './kserve';
export type { KObject } from './types';
export type { PipelineChange } from './pipeline';
export type { PrometheusAuthRecord, RevisionBehavior } from './inference';

export type { SandboxOptions, SandboxFaults, SandboxControls, Sandbox } from './sandbox-api';

interface PersistedState extends InferencePorts {
  store: StoreSnapshot;
  kserve: KServeSnapshot;
  argo: ArgoSnapshot;
}

const DOMAIN = 'apps.sandbox.example';

export type SandboxBackend = 'embedded' | 'kube-apiserver';
export const SANDBOX_BACKENDS: readonly SandboxBackend[] = ['embedded', 'kube-apiserver'];
export type { KubeSandbox, KubeSandboxOptions } from './kube-backend';

/**
 * `backend: 'embedded'` (default): this module's API server. `backend: 'kube-apiserver'`: a real
 * kube-apiserver with etcd (kube-backend.ts), set up the same way.
 */
export function startSandbox(opts?: SandboxOptions & { backend?: 'embedded' }): Promise<Sandbox>;
export function startSandbox(opts: KubeSandboxOptions & { backend: 'kube-apiserver' }): Promise<KubeSandbox>;
export function startSandbox(
  opts: (SandboxOptions & { backend?: 'embedded' }) | (KubeSandboxOptions & { backend: 'kube-apiserver' }),
): Promise<Sandbox | KubeSandbox>;
export async function startSandbox(
  opts: (SandboxOptions & { backend?: 'embedded' }) | (KubeSandboxOptions & { backend: 'kube-apiserver' }) = {},
): Promise<Sandbox | KubeSandbox> {
  if (opts.backend === 'kube-apiserver') {
    const { startKubeSandbox } = await import('./kube-backend');
    return startKubeSandbox(opts);
  }
  return startEmbeddedSandbox(opts);
}

async function startEmbeddedSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const dir = path.resolve(opts.dir ?? mkdtempSync(path.join(os.tmpdir(), 'kserve-canary-sandbox-')));
  mkdirSync(dir, { recursive: true });
  const user = opts.user ?? 'user1';
  const tls = ensureTls(dir);
  const caFile = path.join(dir, 'tls', 'ca.crt');
  const tokenFile = path.join(dir, 'token');
  let token = ensureToken(tokenFile);
  const kubeconfigPath = path.join(dir, 'kubeconfig');
  const stateFile = path.join(dir, 'state.json');
  const gitopsRemote = path.join(dir, 'gitops.git');
  const gitopsClone = path.join(dir, 'mlops-gitops');
  const unlock = lockDir(dir);
  const faults = newFaultState();
  // the workshop's RoleBindings (kube-backend-setup.ts): view, not edit, in the toolings namespace
  const access: AccessList = {
    forbiddenNamespaces: new Set(opts.forbiddenNamespaces ?? []),
    viewOnlyNamespaces: new Set(opts.viewOnlyNamespaces ?? [`${user}-toolings`]),
    clusterWide: true,
  };

  // the controllers' identity: a cluster admin, its token never written anywhere nor rotated
  const adminToken = `sandbox-controllers~${randomBytes(24).toString('base64url')}`;
  let store!: ObjectStore;
  let controllers!: RunningControllers;
  let api!: ApiServer;
  let running = false;
  const inference = opts.inference
    ? new InferenceServer(
        (ns, name) => store?.get(INFERENCE_SERVICES, ns, name),
        () => token,
        { tls, clusterWide: () => access.clusterWide },
      )
    : undefined;

  const boot = async (port: number): Promise<number> => {
    const saved = existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, 'utf8')) as PersistedState) : undefined;
    // the same ports as before when possible, so that status.url stays valid
    await inference?.resume(saved);
    store = new ObjectStore(opts.watchWindow ?? 1000);
    let seed = false;
    if (saved) store.load(saved.store);
    else if (opts.seed ?? true) {
      // state lost (killed without stop) but the repo is there: rebuild from git with versions
      // above any a client may still hold, so that their watches get 410 and relist
      if (existsSync(gitopsRemote)) store.advanceTo(Date.now());
      await seedGitops(dir, user, gitopsRemote, gitopsClone);
      seed = true;
    }
    api = new ApiServer({ tls, token: () => token, adminToken: () => adminToken, user, store, faults, access, bookmarkMs: opts.bookmarkMs ?? 5000 });
    const p = await api.listen(port);
    try {
      // KServe and Argo CD as clients of the API just opened, as they would be of a real one
      controllers = await startControllers({
        apiUrl: `https://127.0.0.1:${p}`,
        ca: tls.caCert,
        token: adminToken,
        gitopsRemote,
        user,
        domain: DOMAIN,
        rolloutDelayMs: opts.rolloutDelayMs ?? 1000,
        syncDelayMs: opts.syncDelayMs ?? 1500,
        pollMs: opts.pollMs ?? 200,
        selfHeal: opts.selfHeal ?? true,
        kserveDialect: opts.kserveDialect ?? 'legacy',
        ...(inference ? { serviceUrl: (ns: string, name: string) => inference.serviceUrl(ns, name) } : {}),
        ...(saved ? { restore: { kserve: saved.kserve, argo: saved.argo } } : {}),
        seed,
      });
    } catch (e) {
      await api.close();
      throw e;
    }
    running = true;
    return p;
  };

  const shutdown = async (): Promise<void> => {
    if (!running) return;
    running = false;
    await controllers.stop();
    await api.close();
    await inference?.close();
    const state: PersistedState = { store: store.snapshot(), ...controllers.snapshot(), ...(inference ? inference.ports : {}) };
    writeFileSync(`${stateFile}.tmp`, JSON.stringify(state));
    renameSync(`${stateFile}.tmp`, stateFile);
  };

  let port: number;
  try {
    port = await boot(opts.port ?? 0);
  } catch (e) {
    await inference?.close();
    unlock();
    throw e;
  }
  const server = `https://127.0.0.1:${port}`;
  writeKubeconfig(kubeconfigPath, server, tls.caCert, token, user);

  const handle: Omit<Sandbox, keyof InferenceView> = {
    server,
    port,
    dir,
    kubeconfigPath,
    tokenFile,
    caFile,
    gitopsRemote,
    gitopsClone,
    user,
    context: 'sandbox',
    kserveDialect: opts.kserveDialect ?? 'legacy',
    get store() {
      return store;
    },
    faults: {
      dropWatches: (o) => api.dropWatches(o?.abrupt ?? false),
      failRequests: (seconds) => {
        faults.failUntil = Date.now() + seconds * 1000;
      },
      setDelay: (ms) => {
        faults.delayMs = ms;
      },
      expireResourceVersions: (o) => {
        store.expire();
        if (o?.dropWatches ?? true) api.dropWatches(false);
      },
      silentWatches: (on) => {
        faults.silentWatches = on;
      },
      injectMalformedWatchEvent: () => api.injectWatchGarbage(),
      rotateToken: (o) => {
        rmSync(tokenFile, { force: true });
        token = ensureToken(tokenFile);
        if (o?.rewriteKubeconfig ?? true) writeKubeconfig(kubeconfigPath, server, tls.caCert, token, user);
      },
      refreshKubeconfig: () => writeKubeconfig(kubeconfigPath, server, tls.caCert, token, user),
      addLargeObject: (namespace, name, bytes = 1024 * 1024) =>
        store.create(INFERENCE_SERVICES, {
          metadata: { name, namespace, annotations: { 'sandbox.example/padding': 'x'.repeat(bytes) } },
          spec: { predictor: { model: { modelFormat: { name: 'onnx' }, storageUri: `oci://example.invalid/${name}:0000000000` } } },
        }),
      outage: async (ms) => {
        await shutdown();
        await new Promise((r) => setTimeout(r, ms));
        await boot(port);
      },
      get openWatches() {
        return api.openWatches;
      },
      reset: () => {
        faults.delayMs = 0;
        faults.failUntil = 0;
        faults.silentWatches = false;
      },
    },
    controller: {
      get kserve() {
        return controllers.kserve;
      },
      get argo() {
        return controllers.argo;
      },
      get store() {
        return store;
      },
      failRevision: (ns, name, message) => controllers.kserve.failRevisions(ns, name, message),
      healRevision: (ns, name) => controllers.kserve.healRevisions(ns, name),
      setDeploymentMode: (ns, name, mode) => annotate(store, ns, name, DEPLOYMENT_MODE_ANNOTATION, mode),
      setTagRouting: (ns, name, on) => annotate(store, ns, name, TAG_ROUTING_ANNOTATION, on ? 'true' : undefined),
      forbid: (ns, on = true) => {
        if (on) access.forbiddenNamespaces.add(ns);
        else access.forbiddenNamespaces.delete(ns);
      },
      viewOnly: (ns, on = true) => {
        if (on) access.viewOnlyNamespaces!.add(ns);
        else access.viewOnlyNamespaces!.delete(ns);
      },
      allowClusterWide: (on) => {
        access.clusterWide = on;
      },
      pollGit: () => controllers.argo.poll(),
      pauseArgo: (on) => {
        controllers.argo.paused = on;
      },
      pipelinePush: (env, model, change) => pipelinePush(dir, gitopsRemote, env, model, change),
      setRevisionBehavior: (ns, revision, behavior) => sandbox.setRevisionBehavior(ns, revision, behavior),
    },
    stop: async () => {
      await shutdown();
      unlock();
    },
    restart: async () => {
      await shutdown();
      await boot(port);
    },
  };
  const sandbox: Sandbox & InferenceView = withInferenceView(handle, inference);
  return sandbox;
}

function annotate(store: ObjectStore, ns: string, name: string, key: string, value: string | undefined): void {
  const o = store.mustGet(INFERENCE_SERVICES, ns, name);
  const a = { ...(o.metadata.annotations ?? {}) };
  if (value === undefined) delete a[key];
  else a[key] = value;
  o.metadata.annotations = a;
  delete o.metadata.resourceVersion;
  store.update(INFERENCE_SERVICES, o, ns);
}
