/**
 * The Grafana dashboard link of a model (domain.md §5), and the rule for which URLs the
 * product may open at all: only `http:`/`https:`, and only hosts that come from the Grafana
 * Route on the cluster or from the user's own URL template setting.
 * Pure: no I/O, no vscode.
 */
import { CanaryError } from './errors';

/** "OpenVINO Model Server - Model Metrics" in the workshop's Grafana chart. */
export const DEFAULT_DASHBOARD_UID = 'Bdb-6G4Vk-github';

/**
 * Default deep link. Placeholders: `${base}` (the Route's URL, no trailing slash), `${uid}`,
 * `${model}`, `${env}`, `${namespace}`; every value is URL-encoded when substituted.
 */
export const DEFAULT_URL_TEMPLATE = '${base}/d/${uid}/openvino-model-server-model-metrics?orgId=1&var-model_name=${model}&from=now-15m&to=now&refresh=5s';

const PLACEHOLDERS = ['base', 'uid', 'model', 'env', 'namespace'] as const;
type Placeholder = (typeof PLACEHOLDERS)[number];

/** The part of a Grafana Route the link needs (src/cluster's GrafanaRoute fits). */
export interface GrafanaRouteLike {
  host: string;
  /** `https://host/path` or `http://host/path`, as read from the Route. */
  url: string;
}

export interface DashboardRequest {
  /** The Grafana Route found on the cluster, if any. */
  route: GrafanaRouteLike | undefined;
  /** InferenceService / model name: `var-model_name`. */
  model: string;
  env?: string;
  namespace?: string;
  /** The user's template (setting); empty or undefined = DEFAULT_URL_TEMPLATE. */
  template?: string;
  /** Dashboard uid (setting); empty or undefined = DEFAULT_DASHBOARD_UID. */
  uid?: string;
}

const PLACEHOLDER_RE = /\$\{([^}]*)\}/g;

function isPlaceholder(name: string): name is Placeholder {
  return (PLACEHOLDERS as readonly string[]).includes(name);
}

function parseHttpUrl(text: string): URL | undefined {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return undefined;
  }
  return u.protocol === 'http:' || u.protocol === 'https:' ? u : undefined;
}

/**
 * Checks a URL before it is opened: it must parse, use http or https, carry no credentials,
 * and its host must be one of `allowedHosts` (compared case-insensitively, port included
 * when the allowed entry names one). Returns the normalised URL text.
 */
export function checkExternalUrl(url: string, allowedHosts: readonly string[]): string {
  const u = parseHttpUrl(url);
  if (!u) {
    throw new CanaryError(
      'invalid-input',
      'url-scheme',
      `Refusing to open ${JSON.stringify(url.slice(0, 200))}: only http and https URLs are opened.`,
      'Check the setting kserveCanary.grafanaUrlTemplate: it must start with https:// or http:// (or ${base}).',
    );
  }
  if (u.username || u.password) {
    throw new CanaryError(
      'invalid-input',
      'url-credentials',
      `Refusing to open a URL for ${u.host} that embeds a user name or password.`,
      'Remove the credentials from kserveCanary.grafanaUrlTemplate; Grafana asks for them itself.',
    );
  }
  const allowed = allowedHosts.map((h) => h.toLowerCase());
  const host = u.host.toLowerCase();
  const hostname = u.hostname.toLowerCase();
  if (!allowed.includes(host) && !allowed.includes(hostname)) {
    throw new CanaryError(
      'invalid-input',
      'url-host',
      `Refusing to open ${u.origin}: its host is neither the Grafana Route's nor the one in your URL template setting.`,
      allowed.length
        ? `Allowed hosts: ${allowed.join(', ')}. Put the host you want in kserveCanary.grafanaUrlTemplate.`
        : 'No Grafana Route was found on the cluster; set kserveCanary.grafanaUrlTemplate to your dashboard URL.',
    );
  }
  return u.toString();
}

/** The host (and port) of a URL, '' when it is not one (checkExternalUrl then refuses it). */
export function urlHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '';
  }
}

/** Placeholders used by a template; throws on an unknown one (a typo would silently drop a value). */
export function templatePlaceholders(template: string): Placeholder[] {
  const found: Placeholder[] = [];
  for (const m of template.matchAll(PLACEHOLDER_RE)) {
    const name = m[1] ?? '';
    if (!isPlaceholder(name)) {
      throw new CanaryError(
        'invalid-config',
        'url-template',
        `The Grafana URL template uses an unknown placeholder \${${name.slice(0, 40)}}.`,
        `Use only ${PLACEHOLDERS.map((p) => '${' + p + '}').join(', ')} in kserveCanary.grafanaUrlTemplate.`,
      );
    }
    if (!found.includes(name)) found.push(name);
  }
  return found;
}

/**
 * The host a user's template names literally (not through `${base}`), if any: that host is
 * allowed because the user wrote it. A template starting with `${base}` names no host.
 */
export function templateHost(template: string): string | undefined {
  const trimmed = template.trim();
  if (trimmed === '' || trimmed.startsWith('${base}')) return undefined;
  // Parse with neutral values so placeholders in the path or query do not break parsing;
  // a placeholder inside the authority makes the host unknowable: no host is allowed from it.
  const authority = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/([^/?#]*)/.exec(trimmed)?.[1];
  if (authority === undefined || authority.includes('${')) return undefined;
  return parseHttpUrl(trimmed.replace(PLACEHOLDER_RE, 'x'))?.host.toLowerCase();
}

/**
 * Builds the dashboard URL for a model and checks it may be opened.
 * Throws CanaryError (`not-found` when the template needs the Route and there is none,
 * `invalid-config` for a bad template, `invalid-input` for a URL that is not allowed).
 */
export function dashboardUrl(req: DashboardRequest): string {
  const template = req.template?.trim() ? req.template.trim() : DEFAULT_URL_TEMPLATE;
  const used = templatePlaceholders(template);
  const routeUrl = req.route ? parseHttpUrl(req.route.url) : undefined;
  if (used.includes('base') && !routeUrl) {
    throw new CanaryError(
      'not-found',
      'no-grafana-route',
      req.route
        ? `The Grafana Route's URL ${JSON.stringify(req.route.url.slice(0, 200))} is not an http(s) URL.`
        : 'No Grafana Route was found in the toolings namespace, so the dashboard address is unknown.',
      'Deploy the Grafana chart (Route jukebox-grafana-route), or set kserveCanary.grafanaUrlTemplate to your dashboard URL.',
    );
  }
  const values: Record<Placeholder, string> = {
    base: routeUrl ? routeUrl.toString().replace(/\/+$/, '') : '',
    uid: encodeURIComponent(req.uid?.trim() ? req.uid.trim() : DEFAULT_DASHBOARD_UID),
    model: encodeURIComponent(req.model),
    env: encodeURIComponent(req.env ?? ''),
    namespace: encodeURIComponent(req.namespace ?? ''),
  };
  const url = template.replace(PLACEHOLDER_RE, (_m, name: string) => values[name as Placeholder]);
  const allowed: string[] = [];
  if (routeUrl) allowed.push(routeUrl.host);
  if (req.route?.host) allowed.push(req.route.host);
  const fromTemplate = templateHost(template);
  if (fromTemplate) allowed.push(fromTemplate);
  return checkExternalUrl(url, allowed);
}
