/**
 * The Grafana Route (route.openshift.io/v1) → its URL (domain.md §5): `https://` + spec.host
 * (+ spec.path) when spec.tls is set, else `http://`; status.ingress[].host when spec.host is empty.
 */
import type { GrafanaRoute } from './api';

const HOST = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:\d{1,5})?$/;

const SAFE_PATH = /^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/;

export function grafanaRouteUrl(route: unknown): GrafanaRoute | undefined {
  if (!route || typeof route !== 'object') return undefined;
  const r = route as { spec?: { host?: unknown; path?: unknown; tls?: unknown }; status?: { ingress?: { host?: unknown }[] } };
  let host = typeof r.spec?.host === 'string' ? r.spec.host : '';
  if (!host && Array.isArray(r.status?.ingress)) {
    const first = r.status.ingress.find((i) => i && typeof i.host === 'string' && i.host);
    host = first ? String(first.host) : '';
  }
  // A host is a host: anything else (a scheme, a userinfo, spaces) is refused rather than opened.
  if (!host || !HOST.test(host)) return undefined;
  let path = typeof r.spec?.path === 'string' && SAFE_PATH.test(r.spec.path) ? r.spec.path : undefined;
  if (path === '/') path = undefined;
  const tls = r.spec?.tls !== undefined && r.spec.tls !== null && r.spec.tls !== false;
  const url = `${tls ? 'https' : 'http'}://${host}${path ?? ''}`;
  const out: GrafanaRoute = { host, tls, url };
  if (path) out.path = path;
  return out;
}
