/**
 * What the chart makes of a config.yaml's `canary` block: Helm's reading of a values scalar
 * and the InferenceService template's rule, so the tool reads the value as the chart renders it.
 *
 * The chart (rhoai-mlops/mlops-helmcharts, model-deployment charts) renders
 *     {{- if .Values.canary }}
 *     canaryTrafficPercent: {{ .Values.canary.trafficPercent }}
 *     {{- end }}
 * and Helm reads the values file with sigs.k8s.io/yaml (go-yaml v2, YAML 1.1 scalars, every
 * number becomes a float64), text/template prints the value with %v (`<no value>` for a
 * missing key, which Helm erases), and Argo CD reads the rendered manifest with the same YAML
 * reader. So:
 * - `canary` absent, null, false, 0, "", [] or {} is falsy: nothing is rendered;
 * - any other non-map `canary` makes the template fail;
 * - a map without `trafficPercent`, or with a null / empty one, renders
 *   `canaryTrafficPercent:` with nothing after it: null, the same as no canary;
 * - a number renders as itself (30.0, 3e1, 0x1E, +30, 036 (octal), 3_0 all read as 30);
 *   a string renders bare and is read again ("30", '0x1E', "30.0" → 30; "null" → null).
 * The cases were checked against the real Helm engine: test/core/fixtures/helm-render.json.
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type Scalar } from 'yaml';

/** A scalar as go-yaml v2 resolves it. */
export type HelmScalar =
  { kind: 'null' } | { kind: 'bool'; value: boolean } | { kind: 'number'; value: number } | { kind: 'string'; value: string } | { kind: 'error'; why: string };

const NULLS = new Set(['', '~', 'null', 'Null', 'NULL']);
const TRUES = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'on', 'On', 'ON', 'true', 'True', 'TRUE']);
const FALSES = new Set(['n', 'N', 'no', 'No', 'NO', 'off', 'Off', 'OFF', 'false', 'False', 'FALSE']);
const SPECIAL_FLOATS = new Set(['.nan', '.NaN', '.NAN', '.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF', '-.inf', '-.Inf', '-.INF']);
/** go-yaml's float syntax (after `_` are removed). */
const YAML_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
/** Go's strconv.ParseInt(s, 0, 64) syntax: sign, then 0x / 0o / 0b / leading-0 octal / decimal. */
const GO_INT = /^([-+]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/;

function goInt(s: string): number | undefined {
  const m = GO_INT.exec(s);
  if (!m) return undefined;
  const body = m[2]!;
  let v: number;
  if (/^0[xXoObB]/.test(body)) v = Number(`0${body[1]!.toLowerCase()}${body.slice(2)}`);
  else if (body.length > 1 && body.startsWith('0')) v = parseInt(body.slice(1), 8);
  else v = Number(body);
  return m[1] === '-' ? -v : v;
}

/** An untagged plain scalar's text as go-yaml v2 resolves it (its `resolve` with no tag). */
export function resolvePlain(text: string): HelmScalar {
  if (NULLS.has(text)) return { kind: 'null' };
  if (TRUES.has(text)) return { kind: 'bool', value: true };
  if (FALSES.has(text)) return { kind: 'bool', value: false };
  if (SPECIAL_FLOATS.has(text)) return { kind: 'error', why: 'infinity and NaN cannot be rendered' };
  const first = text[0]!;
  if (first === '.') {
    return /^\.[0-9]+([eE][-+]?[0-9]+)?$/.test(text) ? finite(Number(text), text) : { kind: 'string', value: text };
  }
  if (!/[-+0-9]/.test(first)) return { kind: 'string', value: text };
  const digits = text.replace(/_/g, '');
  const int = goInt(digits);
  if (int !== undefined) return { kind: 'number', value: int };
  if (YAML_FLOAT.test(digits)) return finite(Number(digits), text);
  return { kind: 'string', value: text };
}

/** Go's ParseFloat fails on overflow, and go-yaml then keeps the text as a string. */
function finite(v: number, text: string): HelmScalar {
  return Number.isFinite(v) ? { kind: 'number', value: v } : { kind: 'string', value: text };
}

const TAG_PREFIX = 'tag:yaml.org,2002:';

/**
 * A plain scalar's text as go-yaml sees it: a lone CR is a line break there (YAML 1.1), which
 * the yaml parser keeps inside the scalar; it folds into a space and trims like one.
 */
function plainText(text: string): string {
  return text.includes('\r')
    ? text
        .split('\r')
        .map((s) => s.trim())
        .filter((s) => s !== '')
        .join(' ')
    : text;
}

/** A scalar node (plain, quoted or block, maybe tagged) as Helm reads it. */
export function helmScalar(node: Scalar): HelmScalar {
  const text = typeof node.source === 'string' ? node.source : String(node.value ?? '');
  const plain = node.type === 'PLAIN' || node.type === undefined;
  const tag = node.tag;
  if (!tag) return plain ? resolvePlain(plainText(text)) : { kind: 'string', value: text };
  const short = tag.startsWith(TAG_PREFIX) ? tag.slice(TAG_PREFIX.length) : tag.startsWith('!!') ? tag.slice(2) : undefined;
  if (short === 'str') return { kind: 'string', value: text };
  const r = resolvePlain(plain ? plainText(text) : text);
  if (short === 'int' || short === 'float' || short === 'null' || short === 'bool') {
    const want = short === 'int' || short === 'float' ? 'number' : short;
    if (r.kind === want && (short !== 'int' || Number.isInteger((r as { value: number }).value))) return r;
    return { kind: 'error', why: `not a valid !!${short}` };
  }
  return { kind: 'error', why: `the tag ${tag} is not one Helm resolves to a number` };
}

/** Helm's reading of a rendered string: `canaryTrafficPercent: <s>` read back as YAML. */
function reread(s: string): HelmScalar {
  // Blanks around it, a `# comment` after a blank and trailing line breaks fall away.
  const m = /^[ \t]*([^ \t\n#][^ \t\n]*)?(?:[ \t]+#[^\n]*)?[ \t]*\n*$/.exec(s);
  if (!m) return { kind: 'string', value: s };
  return resolvePlain(m[1] ?? '');
}

/** What `canaryTrafficPercent: {{ .Values.canary.trafficPercent }}` comes out as. */
export type Rendered =
  | { kind: 'none' }
  | { kind: 'percent'; value: number }
  /** `what`: why not, as a phrase after "canary.trafficPercent" (`"30.5" is not a whole number (Helm reads 30.5)`). */
  | { kind: 'invalid'; what: string };

/** The rendering of a trafficPercent node (undefined: the key is missing). */
export function renderPercent(node: unknown, doc: Document.Parsed): Rendered {
  const target = isAlias(node) ? node.resolve(doc) : node;
  if (target === undefined || target === null) return { kind: 'none' };
  if (!isScalar(target)) return { kind: 'invalid', what: `is ${isMap(target) ? 'a mapping' : isSeq(target) ? 'a list' : 'not a scalar'}, not a number` };
  const shown = JSON.stringify(typeof target.source === 'string' ? target.source : String(target.value));
  let r = helmScalar(target);
  if (r.kind === 'string') r = reread(r.value);
  switch (r.kind) {
    case 'null':
      return { kind: 'none' };
    case 'number':
      if (Number.isInteger(r.value) && r.value >= 0 && r.value <= 100) return { kind: 'percent', value: Math.abs(r.value) };
      return { kind: 'invalid', what: `${shown} ${Number.isInteger(r.value) ? 'is outside 0 to 100' : 'is not a whole number'} (Helm reads ${r.value})` };
    case 'bool':
      return { kind: 'invalid', what: `${shown} is not a number (Helm reads ${r.value})` };
    case 'string':
      return { kind: 'invalid', what: `${shown} is not a number` };
    case 'error':
      return { kind: 'invalid', what: `${shown} cannot be rendered by Helm (${r.why})` };
  }
}

/** Go template truthiness of the `canary` value: false when the chart renders no canary. */
export function canaryTruthy(node: unknown, doc: Document.Parsed): boolean | 'error' {
  const target = isAlias(node) ? node.resolve(doc) : node;
  if (target === undefined || target === null) return false;
  if (isMap(target) || isSeq(target)) return target.items.length > 0;
  if (!isScalar(target)) return 'error';
  const r = helmScalar(target);
  switch (r.kind) {
    case 'null':
      return false;
    case 'bool':
      return r.value;
    case 'number':
      return r.value !== 0;
    case 'string':
      return r.value !== '';
    case 'error':
      return 'error';
  }
}
