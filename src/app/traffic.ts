/**
 * The traffic use case: where test inference requests may go for a model (its InferenceService
 * URL, checked against the cluster's apps domain, or a loopback port-forward), sending them,
 * and background traffic for a rollout's gates. The extension's "Send test traffic", the CLI's
 * `traffic` and `rollout --traffic` call here. No vscode, no argv.
 */
import { CanaryError } from '../core/errors';
import { isLoopbackHost } from '../core/http';
import { inferUrl, LIMITS, sendTraffic, type TrafficOptions, type TrafficResult } from '../core/loadgen';
import { checkTrafficTarget, trafficClusterOf, type TrafficCluster, type TrafficTarget } from '../core/traffic-target';
import type { ClusterStore } from '../cluster/api';

export interface TrafficPlan {
  /** Where the requests go (the service URL, or the --url given). */
  base: string;
  /** The InferenceService's status.url (absent for a loopback --url with no cluster read). */
  serviceUrl?: string;
  cluster?: TrafficCluster;
  /** The model name KServe serves (the InferenceService name). */
  name: string;
  checked: TrafficTarget;
  /** The V2 infer URL. */
  target: URL;
}

/** Whether `url` points at this machine (a port-forward): then no cluster needs to be read. */
export function isLoopbackUrl(url: string): boolean {
  try {
    return isLoopbackHost(new URL(url).hostname);
  } catch {
    return false;
  }
}

function plan(base: string, name: string, serviceUrl?: string, cluster?: TrafficCluster): TrafficPlan {
  const checked = checkTrafficTarget({ url: base, ...(serviceUrl ? { serviceUrl } : {}), ...(cluster ? { cluster } : {}) });
  return { base, name, checked, target: inferUrl(base, name, serviceUrl, cluster), ...(serviceUrl ? { serviceUrl } : {}), ...(cluster ? { cluster } : {}) };
}

/** A loopback port-forward given by the user: no cluster involved. */
export function loopbackTrafficPlan(url: string, name: string): TrafficPlan {
  return plan(url, name);
}

/** The service's own URL from the cluster (or `given`, which must then be that service's origin). */
export function serviceTrafficPlan(store: ClusterStore, env: string, model: string, name = model, given?: string): TrafficPlan {
  const s = store.find(env, model) ?? store.find(env, name);
  if (!s || s.missing) {
    throw new CanaryError(
      'not-found',
      'no-such-service',
      `No InferenceService ${name} in environment ${env} on the cluster.`,
      'Check --env and the model name, or give --url of a port-forward.',
    );
  }
  if (!s.url) {
    throw new CanaryError(
      'cluster',
      'no-service-url',
      `InferenceService ${s.name} in ${s.namespace} has no status.url yet (not ready?).`,
      'Wait until it is Ready, or give --url of a port-forward.',
    );
  }
  return plan(given ?? s.url, s.name, s.url, trafficClusterOf(store));
}

export type SendOptions = Pick<TrafficOptions, 'rps' | 'durationMs' | 'payload' | 'timeoutMs' | 'concurrency' | 'signal' | 'onProgress' | 'progressEveryMs'>;

/** Sends the requests of a checked plan. */
export function sendTestTraffic(p: TrafficPlan, o: SendOptions): Promise<TrafficResult> {
  return sendTraffic({
    ...o,
    url: p.base,
    model: p.name,
    ...(p.serviceUrl ? { serviceUrl: p.serviceUrl } : {}),
    ...(p.cluster ? { cluster: p.cluster } : {}),
  });
}

export interface BackgroundTraffic {
  /** `Sending test traffic at 5 req/s to host (why)`. */
  description: string;
  /** Stops sending and resolves with what came back (once; later calls give the same). */
  stop(): Promise<TrafficResult>;
}

/** Traffic at `rps` to the service until stopped (at most LIMITS.maxDurationMs), for a rollout's gates. */
export function startBackgroundTraffic(store: ClusterStore, env: string, model: string, rps: number, payload: string): BackgroundTraffic {
  let p: TrafficPlan;
  try {
    p = serviceTrafficPlan(store, env, model);
  } catch (e) {
    if (e instanceof CanaryError && (e.code === 'no-such-service' || e.code === 'no-service-url')) {
      throw new CanaryError(
        'cluster',
        'no-service-url',
        `--traffic: InferenceService ${model} in ${env} has no URL to send to (missing or not ready).`,
        'Leave --traffic out and send traffic another way, or wait until it is Ready.',
      );
    }
    throw e;
  }
  const ctl = new AbortController();
  const sending = sendTestTraffic(p, { rps, durationMs: LIMITS.maxDurationMs, payload, signal: ctl.signal });
  sending.catch(() => undefined);
  return {
    description: `Sending test traffic at ${rps} req/s to ${p.checked.host} (${p.checked.why}) during the rollout`,
    stop: () => {
      ctl.abort();
      return sending;
    },
  };
}
