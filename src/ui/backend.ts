/**
 * The heavy half of the extension, bundled separately (dist/backend.js) and loaded after
 * activate() returns: the cluster layer (@kubernetes/client-node), git publishing (git run
 * directly, core/git.ts) and config editing (yaml). Loading it costs tens of milliseconds,
 * which activation must not pay. Nothing here imports vscode.
 */
import { findKubeconfig, loadKubeconfig } from '../cluster/kubeconfig';

export { createClusterStore } from '../cluster';
export { readModelConfig } from '../core/config';
export { createObservedTracker } from '../cluster/observed';
export { metricsFromSettings } from '../cluster/metrics';
export { describePlan, describeGates, parseDuration, formatDuration } from '../core/plan';
export { describeTraffic, readPayloadFile, checkPayload, LIMITS as TRAFFIC_LIMITS } from '../core/loadgen';
export { describeTarget } from '../core/traffic-target';
export { formatObserved, describeObserved, formatConfiguredVsObserved } from '../core/observed';
export { loadDashboard } from '../cluster/dashboard';
export { createTrafficHistory } from '../cluster/dashboard-history';
// The use cases (src/app): the commands make one call each; publish, follow, rollout and
// traffic reach the UI only through them.
export { changeCanary, followProposal, isProtectedBranchRefusal } from '../app/change';
export { publishPolicy, describePolicy } from '../app/policy';
export { loadRolloutPlan, runRollout } from '../app/rollout';
export { serviceTrafficPlan, sendTestTraffic } from '../app/traffic';
export { openProposals, openProposalsOfModels } from '../app/proposals';

export interface ContextList {
  /** Kubeconfig files read, in precedence order (empty: in-cluster or none found). */
  files: string[];
  contexts: { name: string; cluster: string; namespace: string | undefined }[];
  current: string | undefined;
}

/** The contexts of the kubeconfig the extension would use (for "Select context"). */
export async function listContexts(kubeconfig: string | undefined, env: NodeJS.ProcessEnv): Promise<ContextList> {
  const source = findKubeconfig(kubeconfig, env);
  if (!source || source.kind !== 'files') return { files: [], contexts: [], current: undefined };
  const kc = await loadKubeconfig(source, undefined).catch(async (e: unknown) => {
    // A kubeconfig without a usable current context still lists its contexts.
    if ((e as { code?: string }).code !== 'no-current-context') throw e;
    const k8s = await import('@kubernetes/client-node');
    const one = new k8s.KubeConfig();
    one.loadFromFile(source.files[0]!);
    return one;
  });
  return {
    files: source.files,
    contexts: kc.getContexts().map((c) => ({ name: c.name, cluster: c.cluster, namespace: c.namespace })),
    current: kc.getCurrentContext() || undefined,
  };
}
