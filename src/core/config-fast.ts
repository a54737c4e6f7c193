/**
 * A short way for the most common edit: `set N` / `rollback` on a config.yaml that is a flat
 * block mapping of simple `key: value` lines with a `canary:` block holding only
 * `trafficPercent: <0-100>` (the workshop's files). Such a file is read and edited line by
 * line, without the yaml library: the CLI's `set` then never loads or runs it (on a cold
 * start, loading and running it costs more than git's own work on the file).
 *
 * It answers only for files whose every line it reads exactly as the full reader
 * (config-read.ts) does, and returns undefined for anything else, which then goes through
 * the full reader and editor: tabs, CR, a BOM, directives, a second document or `...`, an
 * indented top level, quoting, flow collections, anchors, aliases, tags, block scalars,
 * a `<<` key, a repeated key, a `name` or `version` that reads as null, a key without a value (but `canary:`), a value with anything
 * but ASCII letters, digits and `_ . / : = + -`, a canary with other keys or without
 * trafficPercent, a percent spelled other than 0..100 in plain decimal, and promote (its
 * rules on surrounding comment lines live in config-edit.ts). test/core/config-fast.test.ts
 * checks that, wherever it answers, the answer is the full path's, byte for byte.
 */
import type { CanaryAction, ModelConfig } from './types';

/** `key: value`, `key:` with an end-of-line comment or none. */
const TOP = /^([A-Za-z_][A-Za-z0-9_-]*):(?:( +)([A-Za-z0-9_./][A-Za-z0-9_./:=+-]*))?( +#.*| *)$/;
const CHILD = /^( +)trafficPercent:( +)(0|[1-9][0-9]?|100)( +#.*| *)$/;
const COMMENT = /^ *(#.*)?$/;
const NULL_WORD = /^(null|Null|NULL)$/;

interface FastRead {
  lines: string[];
  name: string | undefined;
  version: string | undefined;
  /** Index of the canary key's line, and of its trafficPercent line. */
  canaryAt: number;
  percentAt: number;
  percent: number;
}

function read(text: string): FastRead | undefined {
  if (/[\t\r\uFEFF]/.test(text)) return undefined;
  const lines = text.split('\n');
  const seen = new Set<string>();
  let name: string | undefined;
  let version: string | undefined;
  let canaryAt = -1;
  let percentAt = -1;
  let percent = -1;
  let started = false; // a key line was seen (a `---` may come only before)
  let inCanary = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (COMMENT.test(line)) continue;
    if (line === '---' && !started && canaryAt < 0 && seen.size === 0) {
      started = true;
      continue;
    }
    if (line.startsWith(' ')) {
      const c = inCanary && percentAt < 0 ? CHILD.exec(line) : null;
      if (!c) return undefined;
      percentAt = i;
      percent = Number(c[3]);
      continue;
    }
    const m = TOP.exec(line);
    if (!m) return undefined;
    const [, key, , value] = m;
    if (inCanary && percentAt < 0) return undefined; // canary: with nothing under it
    inCanary = false;
    started = true;
    if (seen.has(key!)) return undefined;
    seen.add(key!);
    if (value === undefined) {
      if (key !== 'canary') return undefined;
      canaryAt = i;
      inCanary = true;
      continue;
    }
    if (key === 'canary' || value.endsWith(':')) return undefined;
    if ((key === 'name' || key === 'version') && NULL_WORD.test(value)) return undefined;
    if (key === 'name') name = value;
    if (key === 'version') version = value;
  }
  if (inCanary && percentAt < 0) return undefined;
  if (canaryAt < 0 || seen.size === 0) return undefined;
  return { lines, name, version, canaryAt, percentAt, percent };
}

function config(r: FastRead, file: string, env: string, model: string, percent: number): ModelConfig {
  return {
    env,
    model,
    file,
    name: r.name ?? model,
    version: r.version,
    canary: { kind: 'percent', trafficPercent: percent },
    desiredPercent: percent,
    canaryLine: r.canaryAt + 1,
  };
}

/**
 * The edit of `text` by `action` when the file is one this short way reads (see the header),
 * else undefined. Same shape as planCanaryAction's outcome, with the model configs.
 */
export function fastCanaryEdit(
  text: string,
  action: CanaryAction,
  file: string,
  env: string,
  model: string,
): { text: string; changed: boolean; before: ModelConfig; after: ModelConfig } | undefined {
  if (action.kind !== 'set' && action.kind !== 'rollback') return undefined;
  const n = action.kind === 'rollback' ? 0 : action.percent;
  if (!Number.isInteger(n) || n < 0 || n > 100) return undefined;
  const r = read(text);
  if (!r) return undefined;
  const before = config(r, file, env, model, r.percent);
  if (r.percent === n) return { text, changed: false, before, after: before };
  const lines = [...r.lines];
  lines[r.percentAt] = lines[r.percentAt]!.replace(
    CHILD,
    (_all, indent: string, gap: string, _old: string, rest: string) => `${indent}trafficPercent:${gap}${n}${rest}`,
  );
  return { text: lines.join('\n'), changed: true, before, after: config(r, file, env, model, n) };
}
