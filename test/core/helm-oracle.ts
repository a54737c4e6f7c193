/**
 * The fuzz test's oracle: what the chart renders from a config.yaml, written apart from
 * src/core (it shares no code with it, and works another way: the `yaml` parser's YAML 1.1
 * schema plus the few spellings where go-yaml v2 reads otherwise, then the template rule,
 * then the rendered manifest line parsed again). Checked against the real Helm engine's
 * results in fixtures/helm-render.json (test/core/helm-oracle.test.ts).
 *
 * Chart rule: `{{- if .Values.canary }} canaryTrafficPercent: {{ .Values.canary.trafficPercent }} {{- end }}`.
 */
import { isAlias, isMap, isScalar, isSeq, parseAllDocuments, parseDocument, type Document, type Node, type Scalar } from 'yaml';

export type Verdict =
  /** the yaml parser refuses the document: the oracle does not judge it */
  | { kind: 'unknown'; why: string }
  /** Helm fails, or the cluster would get something other than a whole number 0..100 */
  | { kind: 'invalid'; why: string }
  /** no canaryTrafficPercent (or a null one); `key`: a canary key is there */
  | { kind: 'none'; key: boolean }
  | { kind: 'percent'; value: number };

/**
 * Fixture cases where the parsers themselves differ (not a scalar rule), left out of the
 * comparisons: go-yaml v2 rejects a tag right before `}` in a flow map, yaml accepts it.
 */
export const PARSER_DIVERGENCES = new Set(['canary: {trafficPercent: !!str}\n']);

const BAD = Symbol('bad');
type Value = unknown; // JS value as Helm holds it, or BAD (Helm cannot read it)

/** A plain untagged scalar's source read the go-yaml v2 way: YAML 1.1 with its exceptions. */
function goPlain(source: string): Value {
  const prefixed = /^([-+]?)0([xXoObB])([0-9a-fA-F_]+)$/.exec(source);
  if (prefixed) {
    const digits = prefixed[3]!.replace(/_/g, '');
    const radix = ({ x: 16, o: 8, b: 2 } as const)[prefixed[2]!.toLowerCase() as 'x' | 'o' | 'b'];
    const ok = ({ 16: /^[0-9a-fA-F]+$/, 8: /^[0-7]+$/, 2: /^[01]+$/ } as const)[radix].test(digits);
    if (ok) return (prefixed[1] === '-' ? -1 : 1) * parseInt(digits, radix);
  }
  if (source.includes(':')) return source; // go-yaml has no base-60 numbers
  const v = (parseDocument(`v: ${source}\n`, { schema: 'yaml-1.1' }).toJS() as { v: unknown }).v;
  if (typeof v === 'number' && !Number.isFinite(v) && !/^[-+]?\.inf$/i.test(source)) return source; // overflow: a string
  if (typeof v === 'number' && Number.isNaN(v)) return BAD;
  if (typeof v === 'number' && !Number.isFinite(v)) return BAD; // JSON cannot hold it
  return v;
}

function nodeValue(node: unknown, doc: Document.Parsed): Value {
  if (isAlias(node)) return nodeValue(node.resolve(doc), doc);
  if (node === null || node === undefined) return null;
  if (isMap(node) || isSeq(node)) return (node as Node).toJS(doc, { maxAliasCount: 1000 });
  const s = node as Scalar;
  const src = typeof s.source === 'string' ? s.source : String(s.value);
  const tag = s.tag?.replace(/^tag:yaml\.org,2002:/, '!!');
  if (tag === '!!str') return src;
  const plain = s.type === 'PLAIN' ? goPlain(src) : src;
  if (!tag) return plain;
  const asPlain = goPlain(src);
  if (tag === '!!int') return typeof asPlain === 'number' && Number.isInteger(asPlain) ? asPlain : BAD;
  if (tag === '!!float') return typeof asPlain === 'number' ? asPlain : BAD;
  if (tag === '!!null') return asPlain === null ? null : BAD;
  if (tag === '!!bool') return typeof asPlain === 'boolean' ? asPlain : BAD;
  return BAD;
}

/** Go template `if` truthiness. */
function truthy(v: Value): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Map) return v.size > 0;
  if (typeof v === 'object' && !(v instanceof Date)) return Object.keys(v).length > 0;
  return true;
}

/** The rendered manifest's canaryTrafficPercent, read back as YAML (undefined: null / missing). */
function manifestValue(v: Value): Value {
  if (v === null || v === undefined) return undefined; // `<no value>`, erased by Helm
  let text: string;
  if (typeof v === 'number') text = Object.is(v, -0) ? '-0' : String(v);
  else if (typeof v === 'string') text = v;
  else if (typeof v === 'boolean') text = String(v);
  else return BAD; // maps print as `map[...]`, lists as `[...]`, times as times: never a number
  const manifest = `spec:\n  predictor:\n    canaryTrafficPercent: ${text}\n    x: 1\n`;
  const d = parseDocument(manifest, { schema: 'yaml-1.1', uniqueKeys: false });
  if (d.errors.length) return BAD;
  const pred = d.getIn(['spec', 'predictor'], true);
  if (!isMap(pred)) return BAD;
  const pair = pred.items.find((p) => isScalar(p.key) && p.key.value === 'canaryTrafficPercent');
  if (!pair || pred.items.length !== 2) return BAD;
  const got = nodeValue(pair.value, d as Document.Parsed);
  return got === null ? undefined : got;
}

function lastPair(map: unknown, key: string): { value: unknown } | undefined {
  if (!isMap(map)) return undefined;
  let found: { value: unknown } | undefined;
  for (const p of map.items) if (isScalar(p.key) && p.key.value === key) found = p;
  return found;
}

/** What the chart renders from this config.yaml text. */
export function helmVerdict(text: string): Verdict {
  return helmReading(text).verdict;
}

/**
 * The verdict, and the first document's values as Helm's YAML 1.1 reader holds them (for
 * comparing the values an edit must not change; undefined when the document is not a mapping).
 */
export function helmReading(text: string): { verdict: Verdict; values: Record<string, unknown> | undefined } {
  // The YAML 1.1 schema honours `<<` merge keys by itself.
  const docs = parseAllDocuments(text, { schema: 'yaml-1.1', uniqueKeys: false, logLevel: 'silent' });
  const doc = Array.isArray(docs) ? docs[0] : undefined;
  const unknown = (why: string): { verdict: Verdict; values: undefined } => ({ verdict: { kind: 'unknown', why }, values: undefined });
  if (!doc) return unknown('no document');
  if (doc.errors.length) return unknown(doc.errors[0]!.code);
  let js: unknown;
  try {
    js = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    return unknown((e as Error).message);
  }
  if (js === null || typeof js !== 'object' || Array.isArray(js)) return unknown('not a mapping');
  return { verdict: judge(doc, js as Record<string, unknown>), values: js as Record<string, unknown> };
}

function judge(doc: Document.Parsed, js: Record<string, unknown>): Verdict {
  const pair = lastPair(doc.contents, 'canary');
  const hasKey = Object.prototype.hasOwnProperty.call(js, 'canary');
  // A canary that only a merge key brings in: read it from the merged JS value.
  const canary: Value = pair ? nodeValue(pair.value, doc) : js.canary;
  if (canary === BAD) return { kind: 'invalid', why: 'Helm cannot read canary' };
  if (!truthy(canary)) return { kind: 'none', key: hasKey };
  if (typeof canary !== 'object' || Array.isArray(canary) || canary instanceof Date) return { kind: 'invalid', why: 'canary is not a map: the template fails' };
  const target = pair ? (isAlias(pair.value) ? pair.value.resolve(doc) : pair.value) : undefined;
  const pp = lastPair(target, 'trafficPercent');
  const percent: Value = pp ? nodeValue(pp.value, doc) : ((canary as Record<string, unknown>).trafficPercent ?? null);
  if (percent === BAD) return { kind: 'invalid', why: 'Helm cannot read trafficPercent' };
  const m = manifestValue(percent);
  if (m === undefined) return { kind: 'none', key: true };
  if (typeof m === 'number' && Number.isInteger(m) && m >= 0 && m <= 100) return { kind: 'percent', value: Math.abs(m) };
  return { kind: 'invalid', why: `the manifest gets ${JSON.stringify(m === BAD ? 'unreadable' : m)}` };
}

/** The chart renders this document fine (a whole-number percent, or no canary). */
export function rendersFine(v: Verdict): boolean {
  return v.kind === 'percent' || v.kind === 'none';
}

function walk(node: unknown, fn: (n: Node) => void): void {
  if (node === null || node === undefined || typeof node !== 'object') return;
  fn(node as Node);
  if (isMap(node))
    for (const p of node.items) {
      walk(p.key, fn);
      walk(p.value, fn);
    }
  if (isSeq(node)) for (const i of node.items) walk(i, fn);
}

/**
 * Why an edit of a document the chart renders fine cannot be made without changing
 * something else (so refusing it is right), or undefined.
 */
export function unavoidableRefusal(text: string, action: 'set' | 'promote' | 'rollback'): string | undefined {
  const doc = parseAllDocuments(text, { merge: true, uniqueKeys: false, logLevel: 'silent' })[0];
  if (!doc || !isMap(doc.contents)) return undefined;
  const isCanary = (p: { key: unknown }): boolean => isScalar(p.key) && p.key.value === 'canary';
  const top = doc.contents;
  if (action === 'promote' && top.items.every(isCanary)) return 'promote would leave no values (or let the next document count)';
  const canaries = top.items.filter(isCanary);
  if (action === 'promote') {
    // A `|+` / `>+` block scalar keeps the blank lines after it: removing the canary block
    // below it would hand it the blank lines that follow the block.
    const keeps = top.items.some((p, i) => {
      const prev = top.items[i - 1]?.value;
      return isCanary(p) && isScalar(prev) && /^[|>][0-9]*\+/.test(text.slice(prev.range?.[0] ?? 0).replace(/^([|>])([0-9])?(\+)?([0-9])?/, '$1$2$4$3'));
    });
    if (keeps) return 'a `|+` block scalar right above the canary would take in the lines below it';
  }
  const last = canaries[canaries.length - 1];
  if (!last) return undefined;
  if (action !== 'promote' && isAlias(last.value)) return 'canary is an alias: setting it would change the block it names';
  const inside = new Set<string>();
  for (const p of canaries)
    walk(p.value, (n) => {
      if ('anchor' in n && typeof n.anchor === 'string' && n.anchor) inside.add(n.anchor);
    });
  let shared = false;
  for (const p of top.items) {
    if (isCanary(p)) continue;
    walk(p.value, (n) => {
      if (isAlias(n) && inside.has(n.source)) shared = true;
    });
  }
  return shared ? 'an alias elsewhere names (part of) the canary block' : undefined;
}
