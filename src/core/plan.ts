/**
 * Progressive rollout plans: which canary percentages to go through, how long to watch
 * each one, and which metric gates must hold.
 *
 * Where a plan comes from, first found wins:
 *   1. an explicit plan (CLI `--plan 10,25:manual,50:2m,100` or `--plan <file>`);
 *   2. `model-deployments/<env>/<model>/canary-plan.yaml`, next to config.yaml (the chart
 *      and the ApplicationSet read only config.yaml, so this file changes nothing in the cluster);
 *   3. the defaults from settings, then the built-in ones (10 → 25 → 50 → 100, 1 min each,
 *      error rate at most 5%).
 *
 * File shape (every key optional except `steps`):
 *
 *   steps:
 *     - percent: 10
 *       pause: 2m            # watch the gates this long before going on
 *     - percent: 50
 *       gate: manual         # then wait for someone to approve
 *     - percent: 100         # the last step must be 100: it promotes
 *   pause: 1m                # default pause of the steps that name none
 *   gates:
 *     maxErrorRate: 5%       # or 0.05: share of 5xx answers of the new revision
 *     maxP95: 500ms          # 95th percentile latency of the new revision
 *     window: 1m             # Prometheus range; default: the step's pause
 *
 * Mistakes are reported as `<file>:<line>: <what is wrong>` (CanaryError invalid-config).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode, type YAMLMap } from 'yaml';
import { CanaryError } from './errors';
import { DEFAULT_DEPLOYMENTS_DIR, modelConfigPath } from './layout';
import { formatDuration, parseDuration, parseRate } from './units';

// Durations and rates as the plan file writes them live in units.ts; imported from here too.
export { formatDuration, parseDuration, parseRate, promRange } from './units';

export const PLAN_FILE = 'canary-plan.yaml';

export interface PlanStep {
  /** Share of the latest revision at this step, 1..100. 100 is the last step (promotion). */
  percent: number;
  /** How long to watch the gates at this step before going on, in ms. */
  pauseMs: number;
  /** Wait for an approval after the pause. */
  manual: boolean;
}

export interface Gates {
  /** Highest acceptable share (0..1) of 5xx answers of the new revision. */
  maxErrorRate?: number;
  /** Highest acceptable 95th percentile latency of the new revision, in ms. */
  maxP95Ms?: number;
  /** Range of the Prometheus queries in ms; default: the pause of the step. */
  windowMs?: number;
}

export interface RolloutPlan {
  steps: PlanStep[];
  gates: Gates;
  /** Where it came from: a file path, `--plan`, `settings` or `built-in`. */
  source: string;
}

/** What settings (or CLI options) may give as defaults. Strings are parsed like in the file. */
export interface PlanDefaults {
  /** `10,25,50,100` or `10:30s,50:manual,100`. */
  steps?: string;
  pause?: string;
  maxErrorRate?: string | number;
  maxP95?: string;
  window?: string;
}

export const BUILTIN_DEFAULTS: Required<Pick<PlanDefaults, 'steps' | 'pause' | 'maxErrorRate'>> = {
  steps: '10,25,50,100',
  pause: '1m',
  maxErrorRate: 0.05,
};

function problem(where: string, what: string, hint = `See the plan format in the ${PLAN_FILE} documentation (src/core/plan.ts).`): CanaryError {
  return new CanaryError('invalid-config', 'invalid-plan', `${where}: ${what}`, hint);
}

/** Checks the order and range of steps; `where(i)` names the place of step i. */
function checkSteps(steps: PlanStep[], where: (i: number) => string, whole: string): void {
  if (steps.length === 0) throw problem(whole, 'the plan has no steps.', 'For example: 10,25,50,100.');
  steps.forEach((s, i) => {
    if (!Number.isInteger(s.percent) || s.percent < 1 || s.percent > 100) {
      throw problem(where(i), `step ${i + 1}: percent ${s.percent} must be a whole number from 1 to 100.`);
    }
    if (i > 0 && s.percent <= steps[i - 1]!.percent) {
      throw problem(
        where(i),
        `step ${i + 1}: percent ${s.percent} must be higher than the step before (${steps[i - 1]!.percent}).`,
        'Steps go up, for example 10,25,50,100.',
      );
    }
  });
  if (steps[steps.length - 1]!.percent !== 100) {
    throw problem(where(steps.length - 1), `the last step is ${steps[steps.length - 1]!.percent}%, it must be 100 (the promotion).`, 'End the plan with 100.');
  }
}

/**
 * The inline form: comma-separated `<percent>[:<pause>|:manual]`, e.g. `10,25:2m,50:manual,100`.
 * A step without a pause gets `defaultPauseMs`; `manual` steps default to no pause.
 */
export function parseInlineSteps(text: string, defaultPauseMs: number, origin = '--plan'): PlanStep[] {
  const parts = text.split(',').map((p) => p.trim());
  const steps = parts.map((part, i): PlanStep => {
    const m = /^(\d+)%?(?::(.+))?$/.exec(part);
    if (!m) throw problem(origin, `step ${i + 1} "${part}" is not <percent>[:<pause>|:manual].`, 'For example: 10,25:2m,50:manual,100.');
    const percent = Number(m[1]);
    const extra = m[2]?.trim();
    if (extra === undefined) return { percent, pauseMs: defaultPauseMs, manual: false };
    if (extra === 'manual') return { percent, pauseMs: 0, manual: true };
    const pauseMs = parseDuration(extra);
    if (pauseMs === undefined) throw problem(origin, `step ${i + 1}: "${extra}" is neither a duration (30s, 2m) nor "manual".`);
    return { percent, pauseMs, manual: false };
  });
  if (steps.length) steps[steps.length - 1] = { ...steps[steps.length - 1]!, pauseMs: 0 };
  checkSteps(steps, () => origin, origin);
  return steps;
}

function gatesFromDefaults(d: PlanDefaults, origin: string): Gates {
  const gates: Gates = {};
  if (d.maxErrorRate !== undefined && d.maxErrorRate !== '') {
    const r = parseRate(d.maxErrorRate);
    if (r === undefined) throw problem(origin, `max error rate ${JSON.stringify(d.maxErrorRate)} is not a share from 0 to 1 (0.05) or a percentage (5%).`);
    gates.maxErrorRate = r;
  }
  if (d.maxP95 !== undefined && d.maxP95 !== '') {
    const ms = parseDuration(d.maxP95);
    if (ms === undefined) throw problem(origin, `max p95 latency "${d.maxP95}" is not a duration (500ms, 2s).`);
    gates.maxP95Ms = ms;
  }
  if (d.window !== undefined && d.window !== '') {
    const ms = parseDuration(d.window);
    if (ms === undefined || ms < 1000) throw problem(origin, `gate window "${d.window}" is not a duration of at least 1s.`);
    gates.windowMs = ms;
  }
  return gates;
}

/** A plan from defaults (settings and CLI options over the built-in ones). */
export function planFromDefaults(d: PlanDefaults, origin = 'settings'): RolloutPlan {
  const pauseText = d.pause ?? BUILTIN_DEFAULTS.pause;
  const pauseMs = parseDuration(pauseText);
  if (pauseMs === undefined) throw problem(origin, `pause "${pauseText}" is not a duration (30s, 2m).`);
  const steps = parseInlineSteps(d.steps ?? BUILTIN_DEFAULTS.steps, pauseMs, origin);
  const gates = gatesFromDefaults({ maxErrorRate: BUILTIN_DEFAULTS.maxErrorRate, ...d }, origin);
  return { steps, gates, source: origin };
}

/** Parses a canary-plan.yaml text; `defaults` supply the pause and gates it leaves out. */
export function parsePlanFile(text: string, file: string, defaults: PlanDefaults = {}): RolloutPlan {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const at = (node: YamlNode | null | undefined): string => {
    const off = node?.range?.[0];
    return off === undefined ? file : `${file}:${lc.linePos(off).line}`;
  };
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    throw problem(`${file}:${e.linePos?.[0]?.line ?? 1}`, `not valid YAML: ${e.message.split('\n')[0]}`);
  }
  const root = doc.contents;
  if (!isMap(root)) throw problem(at(root), 'the plan must be a mapping with a "steps" list.');
  const known = new Set(['steps', 'pause', 'gates']);
  for (const pair of root.items) {
    const k = isScalar(pair.key) ? String(pair.key.value) : '';
    if (!known.has(k)) throw problem(at(pair.key as YamlNode), `unknown key "${k}" (expected steps, pause, gates).`);
  }
  const scalarText = (node: unknown, what: string): string => {
    if (!isScalar(node) || (typeof node.value !== 'string' && typeof node.value !== 'number')) {
      throw problem(at(node as YamlNode), `${what} must be a single value.`);
    }
    return String(node.value);
  };
  const duration = (node: unknown, what: string, min = 0): number => {
    const t = scalarText(node, what);
    const ms = parseDuration(t);
    if (ms === undefined || ms < min) {
      throw problem(
        at(node as YamlNode),
        `${what} "${t}" is not a duration${min ? ` of at least ${formatDuration(min)}` : ''} (write the unit: 500ms, 30s, 2m, 1h).`,
      );
    }
    return ms;
  };

  const pauseNode = root.get('pause', true);
  let defaultPause = parseDuration(defaults.pause ?? BUILTIN_DEFAULTS.pause) ?? 60000;
  if (pauseNode !== undefined) defaultPause = duration(pauseNode, 'pause');

  const stepsNode = root.get('steps', true) as YamlNode | undefined;
  if (stepsNode === undefined)
    throw problem(at(root), 'the plan has no "steps" list.', 'Add for example: steps: [{percent: 10}, {percent: 50}, {percent: 100}].');
  if (!isSeq(stepsNode)) throw problem(at(stepsNode), '"steps" must be a list.');
  const stepNodes: YamlNode[] = [];
  const steps = stepsNode.items.map((item, i): PlanStep => {
    const node = item as YamlNode;
    stepNodes.push(node);
    if (isScalar(node)) {
      if (typeof node.value !== 'number')
        throw problem(at(node), `step ${i + 1}: ${JSON.stringify(node.value)} is not a percent (a whole number from 1 to 100).`);
      return { percent: node.value, pauseMs: defaultPause, manual: false };
    }
    if (!isMap(node)) throw problem(at(node), `step ${i + 1} must be a mapping like {percent: 10, pause: 1m} or a number.`);
    const m = node as YAMLMap;
    for (const pair of m.items) {
      const k = isScalar(pair.key) ? String(pair.key.value) : '';
      if (!['percent', 'pause', 'gate'].includes(k))
        throw problem(at(pair.key as YamlNode), `step ${i + 1}: unknown key "${k}" (expected percent, pause, gate).`);
    }
    const pNode = m.get('percent', true);
    if (pNode === undefined) throw problem(at(node), `step ${i + 1} has no percent.`);
    const pv = isScalar(pNode) ? pNode.value : undefined;
    if (typeof pv !== 'number') throw problem(at(pNode as YamlNode), `step ${i + 1}: percent must be a whole number from 1 to 100.`);
    const gNode = m.get('gate', true);
    let manual = false;
    if (gNode !== undefined) {
      const g = scalarText(gNode, 'gate');
      if (g !== 'manual') throw problem(at(gNode as YamlNode), `step ${i + 1}: gate "${g}" is unknown; the only gate kind is "manual".`);
      manual = true;
    }
    const psNode = m.get('pause', true);
    const pauseMs = psNode !== undefined ? duration(psNode, `step ${i + 1}: pause`) : manual ? 0 : defaultPause;
    return { percent: pv, pauseMs, manual };
  });
  checkSteps(steps, (i) => at(stepNodes[i]), at(stepsNode));
  const last = steps[steps.length - 1]!;
  steps[steps.length - 1] = { ...last, pauseMs: 0 };

  const base = gatesFromDefaults({ maxErrorRate: BUILTIN_DEFAULTS.maxErrorRate, ...defaults }, 'settings');
  const gates: Gates = { ...base };
  const gatesNode = root.get('gates', true) as YamlNode | undefined;
  if (gatesNode !== undefined && !(isScalar(gatesNode) && gatesNode.value === null)) {
    if (!isMap(gatesNode)) throw problem(at(gatesNode), '"gates" must be a mapping (maxErrorRate, maxP95, window).');
    for (const pair of gatesNode.items) {
      const k = isScalar(pair.key) ? String(pair.key.value) : '';
      const v = pair.value as YamlNode;
      if (k === 'maxErrorRate') {
        const off = isScalar(v) && v.value === null;
        if (off) delete gates.maxErrorRate;
        else {
          const raw = isScalar(v) && (typeof v.value === 'number' || typeof v.value === 'string') ? v.value : undefined;
          const r = raw === undefined ? undefined : parseRate(raw);
          if (r === undefined) throw problem(at(v), `gates.maxErrorRate must be a share from 0 to 1 (0.05) or a percentage (5%).`);
          gates.maxErrorRate = r;
        }
      } else if (k === 'maxP95') {
        if (isScalar(v) && v.value === null) delete gates.maxP95Ms;
        else gates.maxP95Ms = duration(v, 'gates.maxP95');
      } else if (k === 'window') {
        gates.windowMs = duration(v, 'gates.window', 1000);
      } else {
        throw problem(at(pair.key as YamlNode), `unknown gate "${k}" (expected maxErrorRate, maxP95, window).`);
      }
    }
  }
  return { steps, gates, source: file };
}

/** Path of the per-model plan file (names validated like for config.yaml). */
export function planFilePath(root: string, env: string, model: string, deploymentsDir = DEFAULT_DEPLOYMENTS_DIR): string {
  return path.join(path.dirname(modelConfigPath(root, env, model, deploymentsDir)), PLAN_FILE);
}

export async function readPlanFile(file: string, defaults: PlanDefaults = {}): Promise<RolloutPlan> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CanaryError(
      code === 'ENOENT' ? 'not-found' : 'invalid-config',
      code === 'ENOENT' ? 'no-plan-file' : 'unreadable-plan',
      `Could not read the rollout plan ${file}${code ? ` (${code})` : ''}.`,
      'Check the path, or give the steps inline: --plan 10,25,50,100.',
      { cause: e },
    );
  }
  return parsePlanFile(text.replace(/^\uFEFF/, ''), file, defaults);
}

/**
 * The plan that applies: `explicit` (an inline list, or a file path when it is not a list),
 * else the model's canary-plan.yaml when it exists, else the defaults.
 */
export async function resolvePlan(opts: {
  root: string;
  env: string;
  model: string;
  deploymentsDir?: string;
  explicit?: string;
  /** Resolved against this folder when `explicit` is a relative file path. */
  cwd?: string;
  defaults?: PlanDefaults;
}): Promise<RolloutPlan> {
  const defaults = opts.defaults ?? {};
  if (opts.explicit !== undefined && opts.explicit.trim() !== '') {
    const t = opts.explicit.trim();
    if (/^[\d%:,\sa-z.]+$/i.test(t) && /^\d/.test(t) && !/\.ya?ml$/i.test(t)) {
      const pause = parseDuration(defaults.pause ?? BUILTIN_DEFAULTS.pause) ?? 60000;
      return { ...planFromDefaults(defaults, '--plan'), steps: parseInlineSteps(t, pause, '--plan'), source: '--plan' };
    }
    return readPlanFile(path.resolve(opts.cwd ?? opts.root, t), defaults);
  }
  const file = planFilePath(opts.root, opts.env, opts.model, opts.deploymentsDir);
  try {
    return await readPlanFile(file, defaults);
  } catch (e) {
    if (!(e instanceof CanaryError && e.code === 'no-plan-file')) throw e;
  }
  return planFromDefaults(defaults, Object.keys(defaults).length ? 'settings' : 'built-in');
}

/** A short stable fingerprint of what a plan does (steps, pauses, gates), for commit trailers. */
export function planHash(plan: Pick<RolloutPlan, 'steps' | 'gates'>): string {
  const canon = JSON.stringify({
    steps: plan.steps.map((s) => [s.percent, s.pauseMs, s.manual ? 1 : 0]),
    gates: [plan.gates.maxErrorRate ?? null, plan.gates.maxP95Ms ?? null, plan.gates.windowMs ?? null],
  });
  return createHash('sha256').update(canon).digest('hex').slice(0, 8);
}

/** `10% (1m) → 25% (1m) → 50% (manual) → 100%`. */
export function describePlan(plan: Pick<RolloutPlan, 'steps'>): string {
  return plan.steps
    .map((s, i) => {
      if (i === plan.steps.length - 1) return `${s.percent}%`;
      const bits = [s.pauseMs ? formatDuration(s.pauseMs) : '', s.manual ? 'manual' : ''].filter(Boolean);
      return bits.length ? `${s.percent}% (${bits.join(', ')})` : `${s.percent}%`;
    })
    .join(' → ');
}

/** `error rate ≤ 5%, p95 ≤ 500ms` or `no metric gates`. */
export function describeGates(g: Gates): string {
  const parts: string[] = [];
  if (g.maxErrorRate !== undefined) parts.push(`error rate ≤ ${formatPercent(g.maxErrorRate)}`);
  if (g.maxP95Ms !== undefined) parts.push(`p95 ≤ ${formatDuration(g.maxP95Ms)}`);
  if (!parts.length) return 'no metric gates';
  return parts.join(', ') + (g.windowMs !== undefined ? ` over ${formatDuration(g.windowMs)}` : '');
}

/** 0.05 → `5%`, 0.234 → `23.4%`, 0.2345 → `23.45%`. */
export function formatPercent(share: number): string {
  const p = Math.round(share * 10000) / 100;
  return `${p}%`;
}

export function hasGates(g: Gates): boolean {
  return g.maxErrorRate !== undefined || g.maxP95Ms !== undefined;
}
