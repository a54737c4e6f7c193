/**
 * The upstream of a branch read from the repository's own config file (.git/config), without a
 * git process, so that publishing can start the fetch beside `git status` instead of after it.
 * Only a guess: publish.ts checks it against the upstream `git status` reports and asks git
 * (for-each-ref) whenever the two differ. It gives up (undefined) on anything it does not read
 * exactly as git does: include directives, per-worktree config, old-style subsections, quoted
 * or escaped values, continued lines, a repeated branch.<name>.merge, negative or unusual
 * refspecs, a remote that is '.', a URL or not defined in this file, a name git would read as
 * an option.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Upstream } from './gitstate';

interface Section {
  /** Lower case, e.g. 'branch'. */
  name: string;
  /** Case as written, e.g. 'main'; undefined for `[core]`. */
  sub: string | undefined;
}

/** One `key = value` line: the section it is in, the key in lower case and the raw value. */
interface Entry extends Section {
  key: string;
  value: string;
}

const SECTION = /^\[\s*([A-Za-z0-9-]+)(?:\s+"((?:[^"\\\n]|\\.)*)")?\s*\](.*)$/;
const ENTRY = /^([A-Za-z][A-Za-z0-9-]*)\s*(?:=\s*(.*))?$/;

/** The entries of a config file, or undefined when it holds anything that needs git's own reader. */
export function parseGitConfig(text: string): Entry[] | undefined {
  const entries: Entry[] = [];
  let section: Section | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '').trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.endsWith('\\')) return undefined; // a continued line
    const head = SECTION.exec(line);
    if (line.startsWith('[')) {
      if (!head) return undefined; // `[branch.main]` and other forms
      const name = head[1]!.toLowerCase();
      if (name === 'include' || name === 'includeif') return undefined;
      if (head[2]?.includes('\\')) return undefined;
      section = { name, sub: head[2] };
      const rest = head[3]!.trim();
      if (rest === '' || rest.startsWith('#') || rest.startsWith(';')) continue;
      return undefined; // `[core] bare = false` on one line
    }
    const m = ENTRY.exec(line);
    if (!m || !section) return undefined;
    entries.push({ ...section, key: m[1]!.toLowerCase(), value: m[2] ?? '' });
  }
  return entries;
}

/** A value as git reads it when it is plain: the text before a comment, trimmed; undefined when quoted or escaped. */
function plainValue(value: string): string | undefined {
  const v = value.replace(/\s[#;].*$/, '').trim();
  return /["\\]/.test(v) || /^[#;]/.test(v) ? undefined : v;
}

/** Maps a remote ref through one fetch refspec (`+refs/heads/*:refs/remotes/origin/*`), or undefined. */
function mapRefspec(spec: string, ref: string): string | undefined {
  const s = spec.startsWith('+') ? spec.slice(1) : spec;
  const parts = s.split(':');
  if (parts.length !== 2) return undefined;
  const [src, dst] = parts as [string, string];
  const star = src.indexOf('*');
  if (star < 0) return src === ref && dst ? dst : undefined;
  if (src.indexOf('*', star + 1) >= 0 || dst.split('*').length !== 2) return undefined;
  const pre = src.slice(0, star);
  const post = src.slice(star + 1);
  if (!ref.startsWith(pre) || !ref.endsWith(post) || ref.length < pre.length + post.length) return undefined;
  return dst.replace('*', ref.slice(pre.length, ref.length - post.length));
}

const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._/-]*$/;
const SAFE_REF = /^refs\/[A-Za-z0-9._/-]+$/;

/** The upstream branch.<branch>.remote/merge name in `<gitDir>/config`, or undefined (see the header). */
export function upstreamFromConfig(gitDir: string, branch: string): Upstream | undefined {
  if (existsSync(path.join(gitDir, 'commondir')) || existsSync(path.join(gitDir, 'config.worktree'))) return undefined;
  let text: string;
  try {
    text = readFileSync(path.join(gitDir, 'config'), 'utf8');
  } catch {
    return undefined;
  }
  const entries = parseGitConfig(text);
  if (!entries || entries.some((e) => e.name === 'extensions' && e.key === 'worktreeconfig')) return undefined;
  const values = (name: string, sub: string, key: string) =>
    entries.filter((e) => e.name === name && e.sub === sub && e.key === key).map((e) => plainValue(e.value));
  const remotes = values('branch', branch, 'remote');
  const merges = values('branch', branch, 'merge');
  const remote = remotes[remotes.length - 1]; // the last one wins
  const remoteRef = merges[0];
  if (!remote || !remoteRef || merges.length !== 1 || remote === '.' || !SAFE_NAME.test(remote) || !SAFE_REF.test(remoteRef)) return undefined;
  if (!entries.some((e) => e.name === 'remote' && e.sub === remote)) return undefined; // a URL, or defined elsewhere
  const specs = values('remote', remote, 'fetch');
  if (specs.some((spec) => !spec || spec.startsWith('^'))) return undefined; // a negative refspec excludes, wherever it is
  let trackingRef: string | undefined;
  for (const spec of specs as string[]) {
    trackingRef = mapRefspec(spec, remoteRef);
    if (trackingRef) break;
  }
  if (!trackingRef?.startsWith('refs/remotes/') || !SAFE_REF.test(trackingRef)) return undefined;
  return { remote, remoteRef, trackingRef, short: trackingRef.slice('refs/remotes/'.length) };
}
