/**
 * Seed data: the workshop's state after "enable canary" in test. Namespaces
 * `<user>-test`, `<user>-prod`, `<user>-toolings`; the Grafana route; the gitops bare repo
 * with two commits (jukebox at an older version, then the new version with
 * `canary: {trafficPercent: 20}` in test) and a working clone. The cluster state is built
 * by replaying the branch history through the Argo CD and KServe controllers (all of it through
 * the Kubernetes API, so a real kube-apiserver is seeded the same way), so what the
 * cluster shows is exactly what the controllers make of the repo: test jukebox at
 * prev 80 (00001) / latest 20 (00002), prod jukebox at 100% latest.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ArgoController } from './argocd';
import { git } from './git';
import type { KServeController } from './kserve';
import type { Informer } from './informer';
import { isStatus, type ApiResource, type KubeClient } from './kube-client';
import { NAMESPACES, ROUTES } from './resources';
import type { KObject } from './types';

export const OLD_VERSION = '0d3e8b51a7';
export const SEED_VERSION = '4562a17c17';

export function configYaml(user: string, env: string, version: string, canary: boolean): string {
  const lines = [
    '---',
    'chart_path: charts/model-deployment/music-transformer',
    'name: jukebox',
    `version: ${version}`,
    'image_repository: image-registry.openshift-image-registry.svc:5000',
    `image_namespace: ${user}-${env === 'prod' ? 'test' : env}`,
    'autoscaling: true',
  ];
  if (canary) lines.push('canary:  # 👈 add this', '  trafficPercent: 20 # 👈 add this');
  return lines.join('\n') + '\n';
}

function write(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
}

/** Create the bare repo and the working clone (when the bare repo does not exist yet). */
export async function seedGitops(dir: string, user: string, remote: string, clone: string): Promise<void> {
  if (existsSync(remote)) return;
  await git(dir, ['init', '--quiet', '--bare', '--initial-branch=main', remote]);
  await git(dir, ['clone', '--quiet', remote, clone]);
  await git(clone, ['config', 'user.name', user]);
  await git(clone, ['config', 'user.email', `${user}@example.invalid`]);
  await git(clone, ['checkout', '--quiet', '-B', 'main']);
  const file = (env: string) => path.join(clone, 'model-deployments', env, 'jukebox', 'config.yaml');
  write(file('test'), configYaml(user, 'test', OLD_VERSION, false));
  write(file('prod'), configYaml(user, 'prod', SEED_VERSION, false));
  await git(clone, ['add', '--all']);
  await git(clone, ['commit', '--quiet', '-m', '🎵 jukebox deployed to test and prod']);
  write(file('test'), configYaml(user, 'test', SEED_VERSION, true));
  await git(clone, ['add', '--all']);
  await git(clone, ['commit', '--quiet', '-m', '🦜 UPDATE - canary deployment enabled 🦜']);
  await git(clone, ['push', '--quiet', '--set-upstream', 'origin', 'main']);
}

/** Create the namespaces and the Grafana route through the API (what exists already is kept). */
export async function seedNamespaces(client: KubeClient, user: string, domain: string): Promise<void> {
  const createMissing = async (t: ApiResource, o: KObject): Promise<KObject | undefined> => {
    try {
      return await client.create(t, o);
    } catch (e) {
      if (isStatus(e, 409)) return undefined;
      throw e;
    }
  };
  for (const env of ['test', 'prod', 'toolings']) {
    const name = `${user}-${env}`;
    await createMissing(NAMESPACES, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name, labels: { 'kubernetes.io/metadata.name': name, 'modelmesh-enabled': 'false' } },
    });
  }
  const ns = `${user}-toolings`;
  const host = `jukebox-grafana-route-${ns}.${domain}`;
  const route = await createMissing(ROUTES, {
    apiVersion: 'route.openshift.io/v1',
    kind: 'Route',
    metadata: { name: 'jukebox-grafana-route', namespace: ns, labels: { app: 'jukebox-grafana' } },
    spec: {
      host,
      to: { kind: 'Service', name: 'jukebox-grafana-service', weight: 100 },
      port: { targetPort: 'grafana' },
      tls: { termination: 'edge', insecureEdgeTerminationPolicy: 'Redirect' },
      wildcardPolicy: 'None',
    },
  });
  if (!route) return;
  // the read resourceVersion goes with the PUT (the real server refuses a Route /status without one); 409: read again
  const status = {
    ingress: [
      {
        host,
        routerName: 'default',
        routerCanonicalHostname: `router-default.${domain}`,
        wildcardPolicy: 'None',
        conditions: [{ type: 'Admitted', status: 'True', lastTransitionTime: route.metadata.creationTimestamp }],
      },
    ],
  };
  await client.modify(ROUTES, ns, route.metadata.name!, (o) => ({ ...o, status }), { status: true, initial: route });
}

/** Replay the branch history: each commit synced by Argo CD, then reconciled by KServe. */
export async function seedCluster(branch: string, argo: ArgoController, kserve: KServeController, isvcs: Informer): Promise<void> {
  const { stdout } = await git(argo.options.bareRepo, ['rev-list', '--reverse', branch]);
  for (const sha of stdout.split('\n').filter(Boolean)) {
    await argo.syncAllNow(sha);
    for (const o of isvcs.list()) await kserve.reconcile(o.metadata.namespace!, o.metadata.name!);
  }
  // Applications report the health reached at the end of the replay.
  await argo.recomputeHealth();
}
