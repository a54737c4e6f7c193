/**
 * Which forge hosts a git remote, and the web page that opens a pull (merge) request for a
 * branch there, derived from the remote's configured URL alone: no forge API, no token.
 *
 * - URL forms: scp-like ssh (`git@host:group/sub/repo.git`), `ssh://[user@]host[:port]/path`,
 *   `git://`, `http(s)://[user[:password]@]host[:port]/path`. Credentials in the URL are never
 *   carried into the result; an ssh port is dropped (the web UI is https on the host), an
 *   https port is kept; the public forges' ssh-over-443 hosts (ssh.github.com,
 *   altssh.gitlab.com, altssh.bitbucket.org) become their web hosts.
 * - Forges: github.com, gitlab.com, bitbucket.org, codeberg.org (Forgejo), gitea.com by name;
 *   a self-hosted host by the caller's `forgeHosts` map (host or host:port → forge), else by a
 *   first DNS label of exactly `github`, `gitlab`, `gitea`, `forgejo` (e.g. gitlab.example.com).
 *   Anything else is 'unknown': the caller gets the branch name and a one-line hint instead.
 * - Pages, each the form the forge documents or links to itself after a push of a new branch:
 *   - GitHub `/compare/<base>...<branch>?expand=1`: the compare page with the pull-request form
 *     open (https://docs.github.com/en/pull-requests/reference/using-query-parameters-to-create-a-pull-request).
 *   - GitLab (subgroups kept) `/-/merge_requests/new?merge_request[source_branch]=…&merge_request[target_branch]=…`:
 *     the link GitLab's push prints, plus the target branch it reads
 *     (https://gitlab.com/gitlab-org/gitlab-foss/-/issues/28890, https://gitlab.com/gitlab-org/gitlab/-/issues/15964).
 *   - Gitea/Forgejo `/compare/<base>...<branch>`: the compare page its push hint links to
 *     (https://docs.gitea.com/usage/push, "Open PR through Push").
 *   - Bitbucket Cloud `/pull-requests/new?source=…&dest=…`: the page its push links to, with the
 *     destination branch (https://bitbucket.org/<workspace>/<repo>/pull-requests/new).
 *   Every path segment and query value is percent-encoded (a branch's '/' stays a '/' in
 *   GitHub/Gitea compare paths, which those forges read as one branch name).
 * - `forgeHosts` comes from the `kserveCanary.forgeHosts` setting or, in the CLI, from
 *   `$KSERVE_CANARY_FORGE_HOSTS` (a JSON object, read by parseForgeHosts: bad text is refused).
 */
import { CanaryError } from './errors';
import { checkExternalUrl, urlHost } from './grafana';

export type ForgeKind = 'github' | 'gitlab' | 'gitea' | 'bitbucket';
export const FORGE_KINDS: readonly ForgeKind[] = ['github', 'gitlab', 'gitea', 'bitbucket'];

/** A remote URL taken apart: host (lower-case, with an https port when one was given) and repository path. */
export interface RemoteLocation {
  /** 'https' for web-reachable forms (ssh, git, https), 'http' when the remote itself is plain http. */
  scheme: 'https' | 'http';
  host: string;
  /** Host name without a port, lower-case. */
  hostname: string;
  /** Repository path without leading '/' and without a trailing '.git', e.g. 'group/sub/repo'. */
  path: string;
}

const KNOWN_HOSTS: Record<string, ForgeKind> = {
  'github.com': 'github',
  'gitlab.com': 'gitlab',
  'bitbucket.org': 'bitbucket',
  'codeberg.org': 'gitea',
  'gitea.com': 'gitea',
};

/**
 * The public forges' ssh-over-port-443 hosts, whose web pages are on the main host
 * (https://docs.github.com/en/authentication/troubleshooting-ssh/using-ssh-over-the-https-port;
 * GitLab.com's altssh announcement https://gitlab.com/gitlab-com/www-gitlab-com/-/merge_requests/1536).
 */
const SSH_WEB_HOSTS: Record<string, string> = {
  'ssh.github.com': 'github.com',
  'altssh.gitlab.com': 'gitlab.com',
  'altssh.bitbucket.org': 'bitbucket.org',
};

function cleanPath(p: string): string | undefined {
  let s = p.replace(/^\/+/, '').replace(/\/+$/, '');
  if (s.endsWith('.git')) s = s.slice(0, -4);
  if (!s || s.split('/').some((seg) => seg === '' || seg === '.' || seg === '..')) return undefined;
  return s;
}

/** Parses a remote URL; undefined for local paths, file:// and anything unrecognised. */
export function parseRemoteUrl(url: string): RemoteLocation | undefined {
  const u = url.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(u);
  if (scheme) {
    const proto = scheme[1]!.toLowerCase();
    if (!['ssh', 'git+ssh', 'ssh+git', 'git', 'http', 'https'].includes(proto)) return undefined;
    // Dot segments are refused rather than resolved: the web page would name another repository.
    if (/\/\.\.?(\/|$)/.test(u.slice(scheme[0].length))) return undefined;
    let parsed: URL;
    try {
      parsed = new URL(u.replace(/^[^:]+:/, 'https:'));
    } catch {
      return undefined;
    }
    const web = proto === 'https' || proto === 'http';
    const hostname = web ? parsed.hostname.toLowerCase() : (SSH_WEB_HOSTS[parsed.hostname.toLowerCase()] ?? parsed.hostname.toLowerCase());
    if (!hostname) return undefined;
    const keepPort = web && parsed.port !== '';
    const p = cleanPath(decodeURIComponent(parsed.pathname));
    if (!p) return undefined;
    return { scheme: proto === 'http' ? 'http' : 'https', host: keepPort ? `${hostname}:${parsed.port}` : hostname, hostname, path: p };
  }
  // scp-like: [user@]host:path (no '/' before the ':', and not a Windows drive letter).
  const scp = /^(?:[^@/]+@)?(\[[^\]]+\]|[^:/]+):(.+)$/.exec(u);
  if (scp && !/^[a-z]$/i.test(scp[1]!)) {
    const raw = scp[1]!.replace(/^\[|\]$/g, '').toLowerCase();
    const hostname = SSH_WEB_HOSTS[raw] ?? raw;
    const p = cleanPath(scp[2]!);
    if (!p) return undefined;
    return { scheme: 'https', host: hostname, hostname, path: p };
  }
  return undefined;
}

/** The forge of a host: the caller's map first (host:port or host), then known hosts, then the first label. */
export function forgeOf(loc: RemoteLocation, forgeHosts: Record<string, string> = {}): ForgeKind | undefined {
  const mapped: Record<string, string> = {};
  for (const [k, v] of Object.entries(forgeHosts)) mapped[k.trim().toLowerCase()] = String(v).trim().toLowerCase();
  const pick = (v: string | undefined) => (v === 'forgejo' ? 'gitea' : (FORGE_KINDS as readonly string[]).includes(v ?? '') ? (v as ForgeKind) : undefined);
  const configured = pick(mapped[loc.host]) ?? pick(mapped[loc.hostname]);
  if (configured) return configured;
  const known = KNOWN_HOSTS[loc.hostname];
  if (known) return known;
  const first = loc.hostname.split('.')[0];
  return loc.hostname.includes('.') ? pick(first) : undefined;
}

const encSegments = (p: string) => p.split('/').map(encodeURIComponent).join('/');

/** The new-pull-request page for `branch` into `base` on that forge. */
export function newProposalUrl(forge: ForgeKind, loc: RemoteLocation, branch: string, base: string): string {
  const repo = `${loc.scheme}://${loc.host}/${encSegments(loc.path)}`;
  switch (forge) {
    case 'github':
      return `${repo}/compare/${encSegments(base)}...${encSegments(branch)}?expand=1`;
    case 'gitea':
      return `${repo}/compare/${encSegments(base)}...${encSegments(branch)}`;
    case 'gitlab': {
      const q = new URLSearchParams({ 'merge_request[source_branch]': branch, 'merge_request[target_branch]': base });
      return `${repo}/-/merge_requests/new?${q.toString()}`;
    }
    case 'bitbucket':
      return `${repo}/pull-requests/new?${new URLSearchParams({ source: branch, dest: base }).toString()}`;
  }
}

export interface ProposalLink {
  forge?: ForgeKind;
  url?: string;
  /** One line for an unknown forge (or a remote without a web address). */
  hint?: string;
}

/** Forge, URL, or a hint, for a pushed proposal branch. `remoteUrl` is remote.<name>.url as configured. */
export function proposalLink(remoteUrl: string | undefined, branch: string, base: string, forgeHosts?: Record<string, string>): ProposalLink {
  const loc = remoteUrl ? parseRemoteUrl(remoteUrl) : undefined;
  const forge = loc ? forgeOf(loc, forgeHosts) : undefined;
  if (loc && forge) return { forge, url: newProposalUrl(forge, loc, branch, base) };
  const where = loc ? `${loc.host} is not a known forge` : 'the remote has no web address';
  const map = loc ? `: for a link, set kserveCanary.forgeHosts or $${FORGE_HOSTS_ENV} to {"${loc.host}": "gitlab"} (or github, gitea, bitbucket)` : '';
  return { hint: `Open a pull request from ${branch} into ${base} on your git server (${where}${map}).` };
}

/** The CLI's environment variable for forgeHosts. */
export const FORGE_HOSTS_ENV = 'KSERVE_CANARY_FORGE_HOSTS';

/**
 * forgeHosts from JSON text (`{"git.example.com": "gitlab"}`): keys are hosts (host or host:port),
 * values one of github, gitlab, gitea, forgejo, bitbucket. Undefined for absent or blank text;
 * anything else that is not such an object throws, naming `source` and the bad entry.
 */
export function parseForgeHosts(text: string | undefined, source = FORGE_HOSTS_ENV): Record<string, string> | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const example = `For example: ${source}='{"git.example.com": "gitlab"}' (github, gitlab, gitea, forgejo, bitbucket).`;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new CanaryError('invalid-input', 'invalid-forge-hosts', `${source} is not JSON: it takes an object of host → forge.`, example);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new CanaryError('invalid-input', 'invalid-forge-hosts', `${source} is not a JSON object of host → forge.`, example);
  const out: Record<string, string> = {};
  for (const [host, forge] of Object.entries(v)) {
    const h = host.trim().toLowerCase();
    const f = typeof forge === 'string' ? forge.trim().toLowerCase() : '';
    if (!/^[a-z0-9.-]+(:\d+)?$/.test(h))
      throw new CanaryError('invalid-input', 'invalid-forge-hosts', `${source}: "${host.slice(0, 80)}" is not a host name (host or host:port).`, example);
    if (f !== 'forgejo' && !(FORGE_KINDS as readonly string[]).includes(f))
      throw new CanaryError('invalid-input', 'invalid-forge-hosts', `${source}: "${String(forge).slice(0, 40)}" for ${h} is not a forge.`, example);
    out[h] = f;
  }
  return out;
}

/** A forge page fit to open: http(s), no credentials, on the forge's own host; undefined otherwise. */
export function openableForgeUrl(url: string): string | undefined {
  try {
    return checkExternalUrl(url, [urlHost(url)]);
  } catch {
    return undefined;
  }
}
