/**
 * Parsing one config.yaml into what an edit needs (the `canary` pair, its trafficPercent pair,
 * source ranges) and into the model's desired state, the canary read as the chart renders it
 * (src/core/config-helm.ts). Refusals (CanaryError `invalid-config`) name `file:line`.
 *
 * Like Helm (sigs.k8s.io/yaml): only the first YAML document counts (later ones are ignored),
 * a key given twice takes its last value, anchors, aliases and tags are resolved. A file is
 * refused only when the chart would not render it: YAML errors in the first document
 * (`parse-error`), no mapping (`not-a-map`), a truthy non-map canary (`bad-canary`), a
 * trafficPercent that does not render as a whole number 0–100 (`bad-percent`). Kept apart
 * because they are not edited automatically: an anchored top-level map, and a canary brought
 * in by a `<<` merge (`anchored-canary`, `merged-canary`).
 */
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseAllDocuments, type Document, type Pair, type YAMLMap } from 'yaml';
import { CanaryError } from './errors';
import { canaryTruthy, renderPercent } from './config-helm';
import type { CanaryBlock, ModelConfig } from './types';

const PARSE_OPTIONS = {
  keepSourceTokens: true,
  // Helm's reader lets a later key win over an earlier one; so do we (edits touch the last).
  uniqueKeys: false,
  // Helm reads values with a YAML 1.1 parser that honours `<<` merge keys; so do we.
  merge: true,
  prettyErrors: true,
  strict: true,
  // Warnings (e.g. collection keys) are not ours to print; errors are reported as refusals.
  logLevel: 'error',
} as const;

export const FIX_HINT = 'Fix the file by hand (or revert it with git), then try again.';

export type Range = [number, number, number];

/** Everything an edit needs to know about one parsed config.yaml. */
export interface Analysis {
  text: string;
  file: string;
  eol: string;
  lines: LineCounter;
  doc: Document.Parsed;
  /** Where the first document's text ends (the start of a second one, else the end of the file). */
  docLimit: number;
  top: YAMLMap<unknown, unknown>;
  /** The canary pair Helm reads (the last one when the key is repeated). */
  canaryPair: Pair<unknown, unknown> | undefined;
  /** Every top-level canary pair, in file order. */
  canaryPairs: Pair<unknown, unknown>[];
  /** The canary value is an alias of a node elsewhere. */
  canaryAlias: boolean;
  canary: CanaryBlock;
  /** The trafficPercent pair Helm reads inside a canary map, when there is one. */
  percentPair: Pair<unknown, unknown> | undefined;
  /** The plain JS value of the document without its canary key (for the re-parse check). */
  rest: Record<string, unknown>;
  /** The plain JS value of the canary key (undefined when absent). */
  canaryJs: unknown;
}

export function lineOf(lc: LineCounter, offset: number): number {
  return lc.linePos(offset).line;
}

export function refuse(code: string, file: string, line: number, what: string, hint = FIX_HINT): CanaryError {
  return new CanaryError('invalid-config', code, `${file}:${line}: ${what}`, hint);
}

export function rangeOf(node: unknown): Range | undefined {
  const r = (node as { range?: Range | null } | null | undefined)?.range;
  return Array.isArray(r) ? r : undefined;
}

/** The line ending the file uses (its first one); `\n` when it has none. */
function detectEol(text: string): string {
  const i = text.indexOf('\n');
  return i > 0 && text[i - 1] === '\r' ? '\r\n' : '\n';
}

/** A `<<` merge key (the parser, with `merge: true`, gives it a symbol value; a quoted "<<" stays a string). */
function isMergeKey(key: unknown): boolean {
  return isScalar(key) && typeof key.value === 'symbol';
}

function parseFirst(text: string, file: string, lines: LineCounter): { doc: Document.Parsed; docLimit: number } {
  const docs = parseAllDocuments(text, { ...PARSE_OPTIONS, lineCounter: lines });
  if (!Array.isArray(docs) || docs.length === 0) {
    throw refuse('not-a-map', file, 1, 'the file holds no YAML document (expected a mapping with chart_path, name, version...).');
  }
  const doc = docs[0]!;
  const err = doc.errors[0];
  if (err) {
    const line = err.linePos?.[0].line ?? lineOf(lines, err.pos[0]);
    const msg = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw refuse('parse-error', file, line, `not valid YAML: ${msg}.`);
  }
  return { doc, docLimit: docs[1] ? docs[1].range[0] : text.length };
}

/** Where the chart's reading of the canary block comes out. */
function readCanary(
  a: Pick<Analysis, 'file' | 'lines' | 'doc'>,
  pair: Pair<unknown, unknown>,
): { canary: CanaryBlock; percentPair: Pair<unknown, unknown> | undefined } {
  const { file, lines, doc } = a;
  const keyLine = lineOf(lines, rangeOf(pair.key)![0]);
  const v = isAlias(pair.value) ? pair.value.resolve(doc) : pair.value;
  const truthy = canaryTruthy(v, doc);
  if (truthy === false) return { canary: { kind: 'empty' }, percentPair: undefined };
  if (truthy === 'error' || !isMap(v)) {
    const what = isSeq(v) ? 'a list' : 'a scalar';
    throw refuse(
      'bad-canary',
      file,
      keyLine,
      `canary is ${what}, which the chart cannot render; it must be a mapping such as {trafficPercent: 20}, or absent.`,
    );
  }
  let percentPair: Pair<unknown, unknown> | undefined;
  for (const p of v.items) {
    if (isScalar(p.key) && p.key.value === 'trafficPercent') percentPair = p;
    if (isMergeKey(p.key))
      throw refuse('merged-canary', file, lineOf(lines, rangeOf(p.key)![0]), 'a `<<` merge key inside canary; it is not edited automatically.');
  }
  if (!percentPair) return { canary: { kind: 'empty' }, percentPair };
  const r = renderPercent(percentPair.value, doc);
  if (r.kind === 'none') return { canary: { kind: 'empty' }, percentPair };
  if (r.kind === 'invalid') {
    const at = rangeOf(percentPair.value) ?? rangeOf(percentPair.key)!;
    throw refuse('bad-percent', file, lineOf(lines, at[0]), `canary.trafficPercent ${r.what}; it must be a whole number from 0 to 100.`);
  }
  return { canary: { kind: 'percent', trafficPercent: r.value }, percentPair };
}

export function analyze(text: string, file: string): Analysis {
  const lines = new LineCounter();
  const { doc, docLimit } = parseFirst(text, file, lines);
  const top = doc.contents;
  if (!isMap(top)) {
    const r = rangeOf(top);
    const what = top === null || (isScalar(top) && top.value === null) ? 'the document is empty' : 'the top level is not a mapping';
    throw refuse('not-a-map', file, r ? lineOf(lines, r[0]) : 1, `${what} (expected keys such as chart_path, name, version).`);
  }
  if (top.anchor) {
    throw refuse(
      'anchored-canary',
      file,
      lineOf(lines, rangeOf(top)![0]),
      'the top-level mapping carries an anchor; it is not edited automatically so that no alias changes meaning.',
    );
  }

  let js: unknown;
  try {
    js = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    throw refuse('parse-error', file, 1, `the document cannot be resolved: ${(e as Error).message}.`);
  }
  const rest = { ...(js as Record<string, unknown>) };
  delete rest.canary;

  const canaryPairs: Pair<unknown, unknown>[] = [];
  for (const pair of top.items) {
    if (isScalar(pair.key) && pair.key.value === 'canary') canaryPairs.push(pair);
    if (isMergeKey(pair.key)) {
      const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
      for (const s of sources) {
        const target = isAlias(s) ? s.resolve(doc) : s;
        if (isMap(target) && target.has('canary')) {
          throw refuse(
            'merged-canary',
            file,
            lineOf(lines, rangeOf(pair.key)![0]),
            'a `<<` merge key brings in a canary block; it is not edited automatically.',
          );
        }
      }
    }
  }
  const canaryPair = canaryPairs[canaryPairs.length - 1];
  const hasJsCanary = Object.prototype.hasOwnProperty.call(js, 'canary');
  if (hasJsCanary !== (canaryPair !== undefined)) {
    throw refuse('anchored-canary', file, 1, 'the canary key comes from an alias; it is not edited automatically.');
  }

  const { canary, percentPair } = canaryPair
    ? readCanary({ file, lines, doc }, canaryPair)
    : { canary: { kind: 'absent' } as CanaryBlock, percentPair: undefined };
  const canaryJs = (js as Record<string, unknown>).canary;
  return {
    text,
    file,
    eol: detectEol(text),
    lines,
    doc,
    docLimit,
    top,
    canaryPair,
    canaryPairs,
    canaryAlias: !!canaryPair && isAlias(canaryPair.value),
    canary,
    percentPair,
    rest,
    canaryJs,
  };
}

/** A scalar as the user wrote it: strings as they are, `4562171717` or `1e10` as written, not re-formatted numbers. */
function scalarText(node: { value: unknown; source?: string; type?: string }): string {
  if (typeof node.value === 'string') return node.value;
  if (node.type === 'PLAIN' && typeof node.source === 'string') return node.source;
  return String(node.value);
}

/** A top-level value node as Helm reads it: the last pair with that key. */
function lastValue(top: YAMLMap<unknown, unknown>, key: string): unknown {
  let v: unknown;
  for (const p of top.items) if (isScalar(p.key) && p.key.value === key) v = p.value;
  return v;
}

export function toModelConfig(a: Analysis, env: string, model: string): ModelConfig {
  const nameNode = lastValue(a.top, 'name');
  const name = isScalar(nameNode) && nameNode.value !== null && nameNode.value !== '' ? scalarText(nameNode) : model;
  const versionNode = lastValue(a.top, 'version');
  const version = isScalar(versionNode) && versionNode.value !== null ? scalarText(versionNode) : undefined;
  const canaryLine = a.canaryPair ? lineOf(a.lines, rangeOf(a.canaryPair.key)![0]) : 1;
  return {
    env,
    model,
    file: a.file,
    name,
    version,
    canary: a.canary,
    desiredPercent: a.canary.kind === 'percent' ? a.canary.trafficPercent : undefined,
    canaryLine,
  };
}

/**
 * Reads a config.yaml's desired state as the chart renders it. Throws CanaryError
 * `invalid-config` (codes above) with `file:line` in the message for what the chart would not render.
 */
export function parseModelConfig(text: string, file: string, env: string, model: string): ModelConfig {
  return toModelConfig(analyze(text, file), env, model);
}
