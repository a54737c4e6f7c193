/**
 * The cluster's own controllers, KServe (kserve.ts) and Argo CD (argocd.ts), started as clients
 * of a Kubernetes API: one client (kube-client.ts) with the CA and an admin token, one shared
 * informer per resource type (informer.ts), both controllers on them. The embedded backend
 * (index.ts) calls it against its own ApiServer; the kube-apiserver backend against the real
 * server. Seeding (seed.ts: namespaces, route, the replay of the gitops history) goes through
 * the same API.
 */
import { existsSync } from 'node:fs';
import { ArgoController, type ArgoSnapshot } from './argocd';
import { Informer } from './informer';
import { KServeController, type KServeDialect, type KServeSnapshot } from './kserve';
import { KubeClient } from './kube-client';
import { APPLICATIONS, INFERENCE_SERVICES } from './resources';
import { seedCluster, seedNamespaces } from './seed';

export interface ControllersOptions {
  /** `https://host:port` of the API server. */
  apiUrl: string;
  /** PEM of its CA. */
  ca: string | Buffer;
  /** A token with cluster-admin rights (read on every request). */
  token: string | (() => string);
  /** The gitops bare repo Argo CD follows (Argo CD starts only when it exists). */
  gitopsRemote: string;
  /** Branch followed. Default `main`. */
  branch?: string;
  /** User name: namespaces `<user>-test`, `<user>-prod`, `<user>-toolings`. */
  user: string;
  /** Base domain of the URLs in status. Default `apps.sandbox.example`. */
  domain?: string;
  /** KServe: delay between a spec change and the status catching up. Default 1000. */
  rolloutDelayMs?: number;
  /** Argo CD: delay between noticing a commit (OutOfSync, Running) and Synced. Default 1500. */
  syncDelayMs?: number;
  /** Argo CD: how often the branch head is read. Default 200. */
  pollMs?: number;
  /** Argo CD selfHeal. Default true. */
  selfHeal?: boolean;
  /** Spelling of status.deploymentMode. Default `legacy`. */
  kserveDialect?: KServeDialect;
  /** `status.url` of a service (the sandbox's inference endpoint). */
  serviceUrl?: (namespace: string, name: string) => string;
  /** Memory saved by snapshot() at an earlier stop: revisions, failing services, synced commit. */
  restore?: ControllersSnapshot;
  /**
   * A new cluster: create the namespaces and the Grafana route, then replay the branch history
   * through both controllers (seed.ts). Default false.
   */
  seed?: boolean;
}

export interface ControllersSnapshot {
  kserve: KServeSnapshot;
  argo: ArgoSnapshot;
}

export interface RunningControllers {
  kserve: KServeController;
  argo: ArgoController;
  client: KubeClient;
  informers: { isvcs: Informer; apps: Informer };
  /** Stop both controllers (work in flight finishes) and their watches. */
  stop(): Promise<void>;
  /** What restore takes at the next start. */
  snapshot(): ControllersSnapshot;
}

export const DEFAULT_DOMAIN = 'apps.sandbox.example';

export async function startControllers(o: ControllersOptions): Promise<RunningControllers> {
  const client = new KubeClient({ server: o.apiUrl, ca: o.ca, token: o.token });
  const isvcs = new Informer(client, INFERENCE_SERVICES);
  const apps = new Informer(client, APPLICATIONS, { namespace: `${o.user}-toolings` });
  const domain = o.domain ?? DEFAULT_DOMAIN;
  const stopInformers = async () => {
    await Promise.all([isvcs.stop(), apps.stop()]);
    client.destroy();
  };
  try {
    if (o.seed) await seedNamespaces(client, o.user, domain);
    await Promise.all([isvcs.start(), apps.start()]);
  } catch (e) {
    await stopInformers();
    throw e;
  }
  const kserve = new KServeController(
    { client, isvcs },
    {
      rolloutDelayMs: o.rolloutDelayMs ?? 1000,
      dialect: o.kserveDialect ?? 'legacy',
      domain,
      ...(o.serviceUrl ? { serviceUrl: o.serviceUrl } : {}),
    },
  );
  const argo = new ArgoController(
    { client, isvcs, apps },
    {
      bareRepo: o.gitopsRemote,
      branch: o.branch ?? 'main',
      toolingsNamespace: `${o.user}-toolings`,
      user: o.user,
      pollMs: o.pollMs ?? 200,
      syncDelayMs: o.syncDelayMs ?? 1500,
      selfHeal: o.selfHeal ?? true,
    },
  );
  const gitops = existsSync(o.gitopsRemote);
  try {
    if (o.restore) {
      kserve.load(o.restore.kserve);
      argo.load(o.restore.argo);
      const sha = argo.revision;
      if (sha && gitops) await argo.adopt(sha).catch(() => undefined);
    } else if (o.seed && gitops) {
      await seedCluster(o.branch ?? 'main', argo, kserve, isvcs);
    }
  } catch (e) {
    await stopInformers();
    throw e;
  }
  kserve.start();
  if (gitops) {
    argo.start();
    // finish what a stop interrupted (a sync in progress, drift): compare every Application
    void argo.resync();
  }
  return {
    kserve,
    argo,
    client,
    informers: { isvcs, apps },
    stop: async () => {
      await argo.stop();
      await kserve.stop();
      await stopInformers();
    },
    snapshot: () => ({ kserve: kserve.snapshot(), argo: argo.snapshot() }),
  };
}
