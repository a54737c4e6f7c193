/**
 * A KServe controller as a client of an embedded API server over a bare ObjectStore (no seed,
 * no Argo CD): what the rule-by-rule suites drive. `reconcile` goes through HTTP like the
 * sandbox's own; `close()` stops everything and removes the temp dir.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { newFaultState } from '../../src/sandbox/faults';
import { Informer } from '../../src/sandbox/informer';
import { KServeController, type KServeOptions } from '../../src/sandbox/kserve';
import { KubeClient } from '../../src/sandbox/kube-client';
import { INFERENCE_SERVICES, NAMESPACES } from '../../src/sandbox/resources';
import { ApiServer } from '../../src/sandbox/server';
import { ObjectStore } from '../../src/sandbox/store';
import { ensureTls } from '../../src/sandbox/tls';

export interface KServeOverApi {
  store: ObjectStore;
  kserve: KServeController;
  client: KubeClient;
  isvcs: Informer;
  api: ApiServer;
  close(): Promise<void>;
}

export async function kserveOverApi(namespace: string, options: Partial<KServeOptions> = {}): Promise<KServeOverApi> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ksc-kserve-api-'));
  const tls = ensureTls(dir);
  const store = new ObjectStore();
  store.create(NAMESPACES, { metadata: { name: namespace } });
  const admin = 'test-admin-token';
  const api = new ApiServer({
    tls,
    token: () => 'test-user-token',
    adminToken: () => admin,
    user: 'user1',
    store,
    faults: newFaultState(),
    access: { forbiddenNamespaces: new Set(), clusterWide: true },
    bookmarkMs: 5000,
  });
  const port = await api.listen(0);
  const client = new KubeClient({ server: `https://127.0.0.1:${port}`, ca: tls.caCert, token: admin });
  const isvcs = new Informer(client, INFERENCE_SERVICES);
  await isvcs.start();
  const kserve = new KServeController({ client, isvcs }, { rolloutDelayMs: 60_000, domain: 'apps.sandbox.example', ...options });
  return {
    store,
    kserve,
    client,
    isvcs,
    api,
    close: async () => {
      await kserve.stop();
      await isvcs.stop();
      client.destroy();
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
