/**
 * The fuzz test's document description (what config-fuzz-gen.ts generates) and its rendering
 * to config.yaml text, with the line span of the canary block so the test knows which lines
 * an edit may touch (test/core/config.fuzz.test.ts).
 */

// ---- document description ------------------------------------------------------------------

export type Scalar = string; // rendered scalar token, e.g. `abc`, `'it''s'`, `"\u00e9"`, `12`, `~`
export interface Val {
  /** rendered after `key:` on the key line (with its leading space), may be '' */
  inline: string;
  /** extra lines below the key line, already relative-indented by `depth` units (0-based level) */
  below: { level: number; text: string }[];
  flowOk: boolean;
}
export interface Entry {
  key: string;
  val: Val;
  comment: string;
  before: string[];
}
export type CanaryShape =
  | { kind: 'absent' }
  | { kind: 'block'; keyComment: string; items: { key: string; value: string; comment: string; before: string[] }[]; anchor: boolean; aliasUsed: boolean }
  | { kind: 'flow'; text: string; comment: string; parts: string[]; multiline: boolean; innerComments: string[] }
  | { kind: 'null'; token: string; comment: string }
  | { kind: 'other'; inline: string; below: string[] };
export interface Doc {
  eol: '\n' | '\r\n';
  bom: boolean;
  start: string | undefined; // '---' line
  end: boolean; // '...' line
  lead: string[];
  trail: string[];
  finalNewline: boolean;
  unit: number;
  topIndent: number;
  entries: Entry[];
  canary: CanaryShape;
  canaryAt: number;
  canaryKey: string;
  flowTop: boolean;
  damage:
    | { kind: 'none' }
    | { kind: 'insert'; at: number; ch: string }
    | { kind: 'delete'; at: number }
    | { kind: 'dup' }
    | { kind: 'dupCanary' }
    | { kind: 'multi' };
}

// ---- rendering, with the canary block's line span --------------------------------------------

export interface Rendered {
  text: string;
  eol: string;
  lineChecks: boolean;
  cs: number;
  ce: number;
}

export function renderDoc(d: Doc): Rendered {
  const lines: string[] = [];
  let cs = -1;
  let ce = -1;
  const top = ' '.repeat(d.topIndent);
  const ind = (level: number): string => top + ' '.repeat(d.unit * level);
  const anchorNames: string[] = [];
  if (d.start) lines.push(d.start);
  for (const l of d.lead) lines.push(l === '' ? '' : `${top}${l}`);

  const canaryKeyText = d.canaryKey;
  const canaryPos = Math.min(d.canaryAt, d.entries.length);
  let flowParts: string[] = [];

  const pushCanary = (): void => {
    const c = d.canary;
    if (c.kind === 'absent') return;
    const alias = anchorNames.length ? `*${anchorNames[anchorNames.length - 1]}` : '7';
    const sub = (t: string): string => t.replace('*ALIAS', alias);
    if (d.flowTop) {
      if (c.kind === 'flow') flowParts.push(`canary: ${sub(c.text)}`);
      else if (c.kind === 'null' && c.token !== '' && c.token !== '!!null') flowParts.push(`canary: ${c.token}`);
      else if (c.kind === 'other' && c.below.length === 0) flowParts.push(`canary:${c.inline}`);
      return;
    }
    const keyLines = canaryKeyText.split('\n');
    const key = keyLines.pop()!;
    cs = lines.length;
    for (const k of keyLines) lines.push(`${top}${k}`);
    if (c.kind === 'block') {
      lines.push(`${top}${key}${key.endsWith(':') ? '' : ':'}${c.anchor ? ' &cn' : ''}${c.keyComment}`);
      c.items.forEach((it) => {
        for (const b of it.before) lines.push(b === '' ? '' : `${ind(1)}${b}`);
        lines.push(`${ind(1)}${it.key}:${sub(it.value)}${it.comment}`);
      });
    } else if (c.kind === 'flow' && c.multiline) {
      // canary: {            one item per line, comments after the commas, closing brace indented
      lines.push(`${top}${key}${key.endsWith(':') ? '' : ':'} {${c.innerComments[3]}`);
      c.parts.forEach((p, i) => lines.push(`${ind(1)}${sub(p)}${i < c.parts.length - 1 ? ',' : ''}${c.innerComments[i] ?? ''}`));
      lines.push(`${ind(1)}}${c.comment}`);
    } else if (c.kind === 'flow') {
      lines.push(`${top}${key}${key.endsWith(':') ? '' : ':'} ${sub(c.text)}${c.comment}`);
    } else if (c.kind === 'null') {
      lines.push(`${top}${key}${key.endsWith(':') ? '' : ':'}${c.token ? ` ${c.token}` : ''}${c.comment}`);
    } else {
      lines.push(`${top}${key}${key.endsWith(':') ? '' : ':'}${c.inline}`);
      for (const b of c.below) lines.push(`${ind(1)}${b}`);
    }
    ce = lines.length;
  };

  d.entries.forEach((e, i) => {
    if (i === canaryPos) pushCanary();
    let inline = e.val.inline;
    let below = e.val.below;
    // Anchors and aliases elsewhere: every third scalar/flow value gets an anchor; later keys may alias it.
    if (e.val.below.length === 0 && inline.startsWith(' ') && !inline.startsWith(' |') && !inline.startsWith(' >')) {
      if (i % 3 === 1) {
        const n = `a${i}`;
        anchorNames.push(n);
        inline = ` &${n}${inline}`;
      } else if (i % 3 === 2 && anchorNames.length) inline = ` *${anchorNames[anchorNames.length - 1]}`;
    }
    if (d.flowTop) {
      if (e.val.flowOk) flowParts.push(`${e.key}:${inline}`);
      return;
    }
    for (const b of e.before) lines.push(b === '' ? '' : `${top}${b}`);
    const isBlockScalar = inline.startsWith(' |') || inline.startsWith(' >');
    lines.push(`${top}${e.key}:${inline}${isBlockScalar ? '' : e.comment}`);
    if (isBlockScalar && inline.startsWith(' |2')) below = below.map((b) => ({ ...b, level: 0 }));
    for (const b of below) lines.push(inline.startsWith(' |2') ? `${top}  ${b.text}` : `${ind(b.level)}${b.text}`);
  });
  if (canaryPos >= d.entries.length) pushCanary();
  // An alias of the anchored canary block, after it: the block cannot change alone.
  if (!d.flowTop && d.canary.kind === 'block' && d.canary.aliasUsed) lines.push(`${top}canary_copy: *cn`);

  if (d.flowTop) {
    lines.push(`${top}{${flowParts.join(', ')}}`);
    flowParts = [];
  }
  for (const l of d.trail) lines.push(l === '' ? '' : `${top}${l}`);
  const endMarkerAt = lines.length;
  if (d.end) lines.push('...');

  let text = (d.bom ? '\ufeff' : '') + lines.join(d.eol) + (d.finalNewline ? d.eol : '');
  if (d.canary.kind === 'absent') {
    // A new block goes before the `...` line, else after the last line (a text ending in a
    // line break splits into a last empty element, which stays the last one).
    const n = text.split(d.eol).length;
    cs = ce = d.end ? endMarkerAt : text.endsWith(d.eol) ? n - 1 : n;
  }
  let lineChecks = !d.flowTop && cs >= 0;
  switch (d.damage.kind) {
    case 'insert': {
      const at = d.damage.at % (text.length + 1);
      text = text.slice(0, at) + d.damage.ch + text.slice(at);
      lineChecks = false;
      break;
    }
    case 'delete': {
      if (text.length) {
        const at = d.damage.at % text.length;
        text = text.slice(0, at) + text.slice(at + 1);
      }
      lineChecks = false;
      break;
    }
    case 'dup':
      text += `${d.finalNewline ? '' : d.eol}${top}${d.entries[0]!.key}: dup${d.eol}`;
      lineChecks = false;
      break;
    case 'dupCanary':
      // The canary key again at the end: Helm reads this copy.
      text += `${d.finalNewline ? '' : d.eol}${top}canary: {trafficPercent: "33"}${d.eol}`;
      lineChecks = false;
      break;
    case 'multi':
      text += `${d.finalNewline ? '' : d.eol}---${d.eol}chart_path: other${d.eol}`;
      lineChecks = false;
      break;
    case 'none':
      break;
  }
  return { text, eol: d.eol, lineChecks, cs, ce };
}
