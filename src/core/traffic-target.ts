/**
 * Where test traffic may go (issue 12 §3). The InferenceService's `status.url` is cluster
 * data, so it is not trusted as it is: its host must be on the cluster's own ingress (apps)
 * domain, derived from what the user trusts (the kubeconfig's API server, OpenShift's
 * `api.<cluster>` → `apps.<cluster>`) or corroborated cluster data (the host of the
 * toolings Route, e.g. `jukebox-grafana-route-user1-toolings.apps.cluster.example`).
 *
 * Never: a metadata service (169.254.169.254, fd00:ec2::254, metadata.google.internal…),
 * link-local (169.254/16, fe80::/10), the unspecified address (0.0.0.0, ::); loopback only
 * when the cluster itself is on loopback (the local sandbox) or the user typed the URL of
 * a local port-forward. IPv4 written as IPv6 (::ffff:…, NAT64 64:ff9b::…) is judged as the
 * IPv4 address it carries. Pure: no network, no DNS (checkAddress judges what a name
 * resolves to, at connect time — see loadgen.ts).
 */
import { isIP } from 'node:net';
import { CanaryError } from './errors';

/** What the cluster tells about its own ingress, as far as known. */
export interface TrafficCluster {
  /** The API server URL from the kubeconfig; on loopback means the local sandbox. */
  apiServer?: string;
  /** Host of a Route in the toolings namespace (the Grafana Route). */
  routeHost?: string;
  /** KServe's ingress domain (inferenceservice-config `ingress.ingressDomain`), when readable. */
  ingressDomain?: string;
}

export type HostClass = 'metadata' | 'link-local' | 'loopback' | 'unspecified' | 'ip' | 'name';

/** A checked target: the base URL, its host, and why it is allowed (for the confirmation). */
export interface TrafficTarget {
  base: URL;
  host: string;
  why: string;
}

const METADATA_V4 = new Set(['169.254.169.254', '169.254.170.2', '169.254.170.23', '100.100.100.200']);
const METADATA_NAMES = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
  'metadata.azure.internal',
]);

function v4Class(a: number[]): HostClass {
  const s = a.join('.');
  if (METADATA_V4.has(s)) return 'metadata';
  if (a[0] === 169 && a[1] === 254) return 'link-local';
  if (a[0] === 127) return 'loopback';
  if (a[0] === 0) return 'unspecified';
  return 'ip';
}

/** The eight 16-bit groups of an IPv6 address (with an embedded dotted IPv4 tail). */
function v6Groups(ip: string): number[] {
  let text = ip.toLowerCase().replace(/%.*$/, '');
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const mid = tail === undefined ? [] : Array<string>(8 - h.length - t.length).fill('0');
  return [...h, ...mid, ...t].map((g) => parseInt(g, 16));
}

/** What kind of host a URL hostname (or a resolved address) is. */
export function classifyHost(hostname: string): HostClass {
  const h = hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();
  const fam = isIP(h);
  if (fam === 4) return v4Class(h.split('.').map(Number));
  if (fam === 6) {
    const g = v6Groups(h);
    const embedded = [g[6]! >> 8, g[6]! & 255, g[7]! >> 8, g[7]! & 255];
    const zeroTo = (n: number) => g.slice(0, n).every((x) => x === 0);
    if (zeroTo(5) && g[5] === 0xffff) return v4Class(embedded); // ::ffff:a.b.c.d
    if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return v4Class(embedded); // NAT64
    if (zeroTo(7) && g[7] === 1) return 'loopback';
    if (zeroTo(8)) return 'unspecified';
    if (g[0] === 0xfd00 && g[1] === 0x0ec2 && g.slice(2, 7).every((x) => x === 0) && g[7] === 0x254) return 'metadata';
    if ((g[0]! & 0xffc0) === 0xfe80) return 'link-local';
    return 'ip';
  }
  if (h === 'localhost' || h.endsWith('.localhost')) return 'loopback';
  if (METADATA_NAMES.has(h)) return 'metadata';
  return 'name';
}

const LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

function domainOk(d: string | undefined, minLabels: number): string | undefined {
  const v = d?.toLowerCase().replace(/\.$/, '');
  if (!v || isIP(v) || classifyHost(v) !== 'name') return undefined;
  const labels = v.split('.');
  return labels.length >= minLabels && labels.every((l) => LABEL.test(l)) ? v : undefined;
}

/**
 * The cluster's apps domains, best first: KServe's ingress domain; from an OpenShift API
 * server `api.<cluster>` the domain `apps.<cluster>`; from the Route host without its first
 * label — only when it lies under the API server's cluster domain, or (no `api.` server
 * name to compare with) has at least three labels, so a Route with a custom host cannot
 * widen the allowance to a whole registrable domain such as `example.com`.
 */
export function appsDomains(c: TrafficCluster | undefined): string[] {
  const out: string[] = [];
  const ingress = domainOk(c?.ingressDomain, 2);
  if (ingress) out.push(ingress);
  let base: string | undefined;
  try {
    const h = c?.apiServer ? new URL(c.apiServer).hostname.toLowerCase() : '';
    if (h.startsWith('api.')) base = domainOk(h.slice(4), 2);
  } catch {
    base = undefined;
  }
  if (base) out.push(`apps.${base}`);
  const fromRoute = domainOk(c?.routeHost?.replace(/:\d+$/, '').split('.').slice(1).join('.'), base ? 2 : 3);
  if (fromRoute && (!base || fromRoute === base || fromRoute.endsWith(`.${base}`))) out.push(fromRoute);
  return [...new Set(out)];
}

/** True when the API server is on loopback: the local sandbox, where services answer on 127.0.0.1. */
export function clusterIsLoopback(c: TrafficCluster | undefined): boolean {
  try {
    return !!c?.apiServer && classifyHost(new URL(c.apiServer).hostname) === 'loopback';
  } catch {
    return false;
  }
}

function refuse(code: string, message: string, hint: string): CanaryError {
  return new CanaryError('invalid-input', code, message, hint);
}

const HINT =
  'Use a local port-forward instead (`oc port-forward` / `kubectl port-forward`, then --url http://127.0.0.1:<port>), or check the InferenceService.';

function parse(url: string, what: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw refuse(
      'bad-url',
      `${JSON.stringify(url).slice(0, 200)} (${what}) is not a URL.`,
      'Give the InferenceService URL, e.g. https://jukebox-user1-test.apps.example.com.',
    );
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw refuse('bad-url', `Test traffic goes over http or https only, not ${u.protocol} (${what}).`, 'Give the InferenceService URL (status.url).');
  }
  if (u.username || u.password) {
    throw refuse('bad-url', `The traffic URL must not hold a user name or password (${what}).`, 'Pass credentials as a header instead.');
  }
  return u;
}

/** Refuses metadata, link-local and unspecified hosts whatever else is said. */
function refuseNever(u: URL, what: string): HostClass {
  const cls = classifyHost(u.hostname);
  const names: Partial<Record<HostClass, string>> = {
    metadata: 'a cloud metadata service',
    'link-local': 'a link-local address',
    unspecified: 'the unspecified address (this machine)',
  };
  const n = names[cls];
  if (n) throw refuse(`target-${cls}`, `Refusing to send test traffic to ${u.host} (${what}): it is ${n}, never a model.`, HINT);
  return cls;
}

/**
 * Checks where test traffic may go and returns the base URL with the reason it is allowed.
 * `serviceUrl` is the InferenceService's status.url (cluster data, checked against the
 * cluster's apps domain); `url` what to send to: the service URL itself, a URL with the
 * same origin, or a loopback port-forward the user gave. Without `serviceUrl` only a
 * loopback port-forward is accepted. Refusals are `invalid-input` CanaryErrors:
 * `target-metadata`, `target-link-local`, `target-unspecified`, `target-loopback`,
 * `target-no-domain`, `target-off-domain`, `target-not-allowed`, `bad-url`.
 */
export function checkTrafficTarget(input: { url: string; serviceUrl?: string; cluster?: TrafficCluster }): TrafficTarget {
  const u = parse(input.url, input.url === input.serviceUrl ? 'the InferenceService status.url' : 'the URL given');
  const cls = refuseNever(u, input.url === input.serviceUrl ? 'status.url' : 'the URL given');
  const given = input.serviceUrl === undefined || input.url !== input.serviceUrl;
  if (given && cls === 'loopback') return { base: u, host: u.host, why: 'a local port-forward you gave' };
  if (input.serviceUrl === undefined) {
    throw refuse(
      'target-not-allowed',
      `Test traffic may only go to the InferenceService's own URL or to a loopback address, not ${u.origin}.`,
      'Leave the URL out to use the service URL the cluster reports, or use a local port-forward (http://127.0.0.1:<port>).',
    );
  }
  const svc = parse(input.serviceUrl, 'the InferenceService status.url');
  if (given && svc.origin !== u.origin) {
    throw refuse(
      'target-not-allowed',
      `Test traffic may only go to the InferenceService's own URL (${svc.origin}) or to a loopback address, not ${u.origin}.`,
      'Leave the URL out to use the service URL the cluster reports, or use a local port-forward (http://127.0.0.1:<port>).',
    );
  }
  const svcCls = refuseNever(svc, 'status.url');
  if (svcCls === 'loopback') {
    if (clusterIsLoopback(input.cluster)) return { base: u, host: u.host, why: 'the local sandbox (its API server is on loopback too)' };
    throw refuse(
      'target-loopback',
      `The InferenceService's status.url points at this machine (${svc.host}), but the cluster (${input.cluster?.apiServer ?? 'unknown API server'}) is not local: refused.`,
      HINT,
    );
  }
  const domains = appsDomains(input.cluster);
  if (domains.length === 0) {
    throw refuse(
      'target-no-domain',
      `Cannot tell the cluster's apps domain (no toolings Route such as jukebox-grafana-route, and the API server ${input.cluster?.apiServer ?? '(unknown)'} is not named api.<cluster domain>), so status.url ${svc.host} cannot be checked: refused.`,
      HINT,
    );
  }
  const host = svc.hostname.toLowerCase().replace(/\.$/, '');
  const domain = domains.find((d) => host.endsWith(`.${d}`));
  if (!domain) {
    throw refuse(
      'target-off-domain',
      `The InferenceService's status.url host ${svc.host} is not on the cluster's apps domain (${domains.join(', ')}): refused.`,
      HINT,
    );
  }
  return { base: u, host: u.host, why: `the service's URL on the cluster's apps domain ${domain}` };
}

/**
 * What a resolved address may be at connect time (against DNS rebinding: a name on the apps
 * domain that resolves to a metadata or link-local address). Returns the refusal reason,
 * undefined when fine. Loopback is fine only when `allowLoopback`.
 */
export function checkAddress(address: string, allowLoopback: boolean): string | undefined {
  const cls = classifyHost(address);
  if (cls === 'metadata' || cls === 'link-local' || cls === 'unspecified')
    return `${address} is ${cls === 'metadata' ? 'a cloud metadata service' : cls === 'link-local' ? 'link-local' : 'the unspecified address'}`;
  if (cls === 'loopback' && !allowLoopback) return `${address} is loopback but the target is not local`;
  return undefined;
}

/** The cluster facts a store knows (structural: any ClusterStore fits). */
export function trafficClusterOf(
  store: { connection(): { server?: string | undefined }; grafanaRoute(): { host: string } | undefined } | undefined,
): TrafficCluster {
  const server = store?.connection().server;
  const host = store?.grafanaRoute()?.host;
  return { ...(server ? { apiServer: server } : {}), ...(host ? { routeHost: host } : {}) };
}

/** The confirmation line: host, rate, duration and why the host is allowed. */
export function describeTarget(t: TrafficTarget, rps: number, durationMs: number): string {
  const secs = durationMs < 10000 ? String(Math.round(durationMs / 100) / 10) : String(Math.round(durationMs / 1000));
  return `${rps} req/s for ${secs} s (${Math.max(1, Math.round((rps * durationMs) / 1000))} requests) to ${t.host} — ${t.why}`;
}
