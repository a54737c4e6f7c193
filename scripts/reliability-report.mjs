// Rewrites the generated block of RELIABILITY.md (between <!-- counts:start --> and
// <!-- counts:end -->) from ONE test run, the last one scripts/test.mjs recorded in
// test-results/run.json (its id, and per stage the sha256 of the result file it left):
//   - unit.tap / exthost-results.json: the status of every test the table names (a title
//     pattern's `…` matches the values the run put there); read only when their sha256 is the
//     one run.json recorded, so a file from another run (or edited since) is never used;
//   - test-results/{fuzz,git-faults,secrets,cluster-faults}.json, written by the suites through
//     test/figures.ts after their assertions passed: used only when they carry this run's id and
//     every test that wrote into them passed in this run.
// The table itself is hand-written above the block and holds no figures; each row names its
// tests as `path/to/file.test.ts` «title» («title» may use … for a part that varies); tests
// under test/ui/exthost/ are looked up in the exthost stage's results (and, when it ran, in the
// exthost-kube stage's: the same suites on the real kube-apiserver), the others in the TAP.
// Exit 1 (the block then lists the problems) when: no run is recorded, a named test is not in
// its file, did not run in this run, was skipped or failed; a result or figure file is absent,
// damaged, from another run, or written by a test that did not pass.
//
//   node scripts/test.mjs && node scripts/reliability-report.mjs
//   node scripts/reliability-report.mjs --check         # verify only, change nothing
//   node scripts/reliability-report.mjs --source-only   # only: every named test exists in its file
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const docFile = path.resolve(opt('--doc') ?? path.join(root, 'RELIABILITY.md'));
const resultsDir = path.resolve(opt('--results') ?? path.join(root, 'test-results'));
const checkOnly = args.includes('--check') || args.includes('--source-only');
/** Only check that the tests the table names exist in their files (no run needed). */
const sourceOnly = args.includes('--source-only');

const START = '<!-- counts:start -->';
const END = '<!-- counts:end -->';

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** «title» pattern → a regex matching whole titles; each … captures what the run put there. */
const titleRegex = (pattern) => new RegExp(`^${pattern.split('…').map(escapeRe).join('(.*?)')}$`);

/** Test references in the table rows: `file` «title». */
export function tableReferences(doc) {
  const before = doc.split(START)[0];
  const refs = [];
  for (const line of before.split('\n')) {
    if (!line.startsWith('|')) continue;
    const scenario = line.split('|')[1]?.trim() ?? '';
    for (const m of line.matchAll(/`([^`]+\.test\.ts)`((?:\s*«[^»]+»)+)/g)) {
      for (const t of m[2].matchAll(/«([^»]+)»/g)) refs.push({ scenario, file: m[1], title: t[1] });
    }
  }
  return refs;
}

/** Every test line of a TAP file: title, ok, directive (SKIP/TODO). */
export function tapTests(text) {
  const out = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(not ok|ok) \d+ - (.*?)(?: # (SKIP|TODO)\b.*)?$/.exec(line);
    if (m) out.push({ ok: m[1] === 'ok', title: m[2].replace(/\\#/g, '#').replace(/\\\\/g, '\\'), directive: m[3] });
  }
  return out;
}

/** Why a TAP file cannot be trusted (written by two runs at once, cut short), or undefined. */
export function tapDamage(text) {
  if (text.includes('\0')) return 'it holds NUL bytes (two runs wrote it at once?)';
  const plan = /^1\.\.(\d+)$/m.exec(text);
  if (!plan) return 'it has no plan line (the run did not finish?)';
  const top = text.split('\n').filter((l) => /^(not ok|ok) \d+ - /.test(l)).length;
  if (top !== Number(plan[1])) return `it plans ${plan[1]} top-level tests but reports ${top} (overwritten by another run?)`;
  return undefined;
}

const fmt = (n) => (typeof n === 'number' ? n.toLocaleString('en-US') : String(n));
const day = (iso) =>
  String(iso)
    .replace('T', ' ')
    .replace(/(\.\d+)?Z$/, ' UTC');
const sha256 = (text) => createHash('sha256').update(text).digest('hex');
const EXTHOST_DIR = 'test/ui/exthost/';

function readJsonFile(file) {
  if (!existsSync(file)) return { absent: true };
  try {
    return { data: JSON.parse(readFileSync(file, 'utf8')) };
  } catch (e) {
    return { error: `is not valid JSON (${e.message})` };
  }
}

/**
 * The run scripts/test.mjs recorded, with the result file of each stage it ran, each read only
 * when its sha256 is the recorded one.
 */
export function loadRun(dir, problems) {
  const rel = (f) => path.relative(root, path.join(dir, f)) || f;
  const r = readJsonFile(path.join(dir, 'run.json'));
  if (r.absent || r.error || typeof r.data?.id !== 'string') {
    problems.push(
      r.absent
        ? `no test run recorded (${rel('run.json')} is absent): run \`node scripts/test.mjs\` first`
        : `${rel('run.json')} ${r.error ?? 'has no run id'}`,
    );
    return undefined;
  }
  const run = { ...r.data, stageFiles: {} };
  if (!run.finishedAt) problems.push(`run ${run.id} did not finish (no finishedAt in ${rel('run.json')})`);
  for (const [stage, st] of Object.entries(run.stages ?? {})) {
    if (!st.resultFile) continue;
    const f = path.join(dir, st.resultFile);
    if (!existsSync(f)) {
      problems.push(`${rel(st.resultFile)} (the ${stage} stage's results of run ${run.id}) is absent`);
      continue;
    }
    const text = readFileSync(f, 'utf8');
    if (st.sha256 !== sha256(text)) {
      problems.push(`${rel(st.resultFile)} is not the file run ${run.id} left (another run wrote it, or it was edited): not used`);
      continue;
    }
    run.stageFiles[stage] = text;
  }
  return run;
}

/** Every test of the exthost stage's results: mocha's full title, the suite file, the state. */
function exthostTests(text) {
  try {
    return (JSON.parse(text).tests ?? []).map((t) => ({ title: t.title, file: t.file, state: t.state, skipReason: t.skipReason }));
  } catch {
    return [];
  }
}

/** How one named test ran: the runs matching it and the values its … took. */
function lookUp(ref, run, problems) {
  const exthost = ref.file.startsWith(EXTHOST_DIR);
  // Restricted-mode suites run in their own stage (code-server with workspace trust on); the
  // backend-parameterised suites run in exthost and, on the real kube-apiserver, in exthost-kube.
  const stage = !exthost ? 'unit' : /-restricted\.test\.ts$/.test(ref.file) ? 'restricted' : 'exthost';
  const re = titleRegex(ref.title);
  const empty = { runs: 0, passed: 0, values: [], ran: [] };
  if (!run) return empty;
  const stages = [stage, ...(stage === 'exthost' && run.stages?.['exthost-kube'] ? ['exthost-kube'] : [])];
  let runs = [];
  for (const st of stages) {
    const text = run.stageFiles[st];
    if (text === undefined) {
      problems.push(`«${ref.title}» (${ref.file}): the ${st} stage ${run.stages?.[st] ? 'left no usable results' : 'did not run'} in run ${run.id}`);
      if (st === stage) return empty;
      continue;
    }
    if (exthost) {
      const suite = path.basename(ref.file).replace(/\.ts$/, '.js');
      const full = new RegExp(`^(?:.* )?${ref.title.split('…').map(escapeRe).join('(.*?)')}$`);
      // A test written for the other backend only (skipped with its reason, canary-helpers' onlyOn) did not apply here.
      runs.push(
        ...exthostTests(text)
          .filter((t) => t.file === suite && full.test(t.title) && !(t.state === 'skipped' && t.skipReason))
          .map((t) => ({ title: t.title, status: t.state, values: full.exec(t.title).slice(1) })),
      );
    } else {
      runs = tapTests(text)
        .filter((t) => re.test(t.title))
        .map((t) => ({ title: t.title, status: t.directive ? 'skipped' : t.ok ? 'passed' : 'failed', values: re.exec(t.title).slice(1) }));
    }
  }
  const passed = runs.filter((t) => t.status === 'passed').length;
  const skipped = runs.filter((t) => t.status === 'skipped').length;
  const failed = runs.length - passed - skipped;
  if (runs.length === 0) problems.push(`«${ref.title}» (${ref.file}) did not run in run ${run.id}`);
  if (failed) problems.push(`«${ref.title}» (${ref.file}): ${failed} of ${runs.length} failed in run ${run.id}`);
  if (skipped) problems.push(`«${ref.title}» (${ref.file}): ${skipped} of ${runs.length} skipped in run ${run.id}`);
  const values = [...new Set(runs.flatMap((t) => t.values))].filter((v) => /\d/.test(v));
  return { runs: runs.length, passed, values, ran: [...new Set(runs.map((t) => t.title))] };
}

/**
 * One figure file of this run: its entries (each written by a test after its assertions
 * passed) and their figures merged, or a problem saying why it cannot be used.
 */
export function loadFigures(dir, name, run, passedTitles) {
  const file = path.join(dir, `${name}.json`);
  const rel = path.relative(root, file) || file;
  const j = readJsonFile(file);
  if (j.absent) return { problem: `${rel} is absent: the test that writes it did not run, or did not pass` };
  if (j.error) return { problem: `${rel} ${j.error}` };
  const d = j.data;
  if (!run) return { problem: `${rel} cannot be tied to a run (no run recorded)` };
  if (!('runId' in d) || !Array.isArray(d.tests)) return { problem: `${rel} is stale: it carries no run id (written before figures were bound to runs)` };
  if (d.runId !== run.id)
    return { problem: `${rel} is stale: ${d.runId ? `written by run ${d.runId}` : 'written outside a scripts/test.mjs run'}, not by run ${run.id}` };
  if (d.tests.length === 0) return { problem: `${rel} holds no test's figures` };
  for (const e of d.tests) {
    if (e.outcome !== 'passed') return { problem: `${rel}: «${e.test}» wrote its figures with outcome ${JSON.stringify(e.outcome)}` };
    if (!passedTitles.has(e.test)) return { problem: `${rel}: «${e.test}», which wrote its figures, did not pass in run ${run.id}` };
  }
  return { entries: d.tests, data: Object.assign({}, ...d.tests.map((e) => e.figures ?? {})) };
}

const generic = (d, skip = new Set()) =>
  Object.entries(d)
    .filter(([k, v]) => !skip.has(k) && typeof v !== 'object')
    .map(([k, v]) => `${k.replace(/_/g, ' ')} ${fmt(v)}`);

/** test/cluster/sandbox-faults.test.ts's figures as prose; keys this script does not know are listed as they are. */
function clusterFigures(d) {
  const used = new Set();
  const get = (k) => {
    used.add(k);
    return d[k];
  };
  const has = (prefix) => Object.keys(d).some((k) => k.startsWith(prefix));
  const end = (prefix) => (get(`${prefix}_converged`) ? 'converged' : '**did not converge**');
  const problems = (prefix) => `${fmt(get(`${prefix}_problems_logged`))} problem(s) logged`;
  const parts = [];
  if (has('outage_')) parts.push(`down ${fmt(get('outage_seconds'))} s: ${fmt(get('outage_episodes'))} episode(s), ${problems('outage')}, ${end('outage')}`);
  if (has('flapping_'))
    parts.push(
      `flapping for ${fmt(get('flapping_seconds'))} s (${fmt(get('flapping_outages'))} outages): ${fmt(get('flapping_episodes'))} episode(s), ${problems('flapping')}, ${end('flapping')}`,
    );
  if (has('slowed_')) parts.push(`answers slowed to ${fmt(get('slowed_answer_ms'))} ms: ${problems('slowed')}, ${end('slowed')}`);
  if (has('malformed_json_')) parts.push(`malformed JSON in a watch: ${problems('malformed_json')}, ${end('malformed_json')}`);
  if (has('large_object_')) parts.push(`an object of ${fmt(get('large_object_bytes'))} bytes: ${end('large_object')}`);
  if (has('silent_watch_')) parts.push(`a silent watch: ${fmt(get('silent_watch_stale_restarts'))} stale-watch restart(s), ${end('silent_watch')}`);
  return [...parts, ...generic(d, used)].join('; ');
}

const FUZZ_KNOWN = new Set([
  'documents',
  'seed',
  'actions',
  'changed',
  'lineChecked',
  'unchanged',
  'refused',
  'refusedByCode',
  'reads',
  'durationMs',
  'validRefused',
  'validRefusedUnavoidable',
  'verdicts',
]);
function fuzzFigures(d) {
  if (d.documents === undefined || d.actions === undefined) return generic(d).join(', ');
  const refused = d.refusedByCode
    ? ` (${Object.entries(d.refusedByCode)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${fmt(v)}`)
        .join(', ')})`
    : '';
  const rest = generic(d, FUZZ_KNOWN);
  return `${fmt(d.documents)} documents fuzzed (seed ${d.seed}), ${fmt(d.actions)} set/promote/rollback actions: ${fmt(d.changed)} exact changes (${fmt(d.lineChecked)} of them with every line outside the canary block byte-compared), ${fmt(d.unchanged)} already in the intended state (text identical), ${fmt(d.refused)} refusals with a CanaryError and no text written${refused}${d.validRefused === undefined ? '' : `, ${fmt(d.validRefused)} of them of documents the Helm oracle says the chart renders fine (goal 0)${d.validRefusedUnavoidable ? `, besides ${fmt(Object.values(d.validRefusedUnavoidable).reduce((a, b) => a + b, 0))} edits that cannot be made without changing another value` : ''}`}; ${fmt(d.reads)} documents read in agreement with the ${d.verdicts ? 'Helm oracle' : 'reference parser'}${rest.length ? `; ${rest.join(', ')}` : ''}; any other outcome or exception fails the test`;
}

function killFigures(entries) {
  const kills = entries.filter((e) => e.figures?.killed_at);
  if (!kills.length) return undefined;
  const recovered = kills.filter((e) => e.figures.recovered === true);
  return `${fmt(recovered.length)} of ${fmt(kills.length)} kills (${kills.map((e) => e.figures.killed_at).join(', ')}) recovered by a re-run (repository consistent, change published exactly once)`;
}

function raceFigures(d) {
  if (d.concurrent_runs === undefined) return undefined;
  const raced =
    d.raced_rounds === undefined
      ? ''
      : `; ${fmt(d.raced_rounds)} of them raced (both pushes released at once): our push was rejected and the edit re-applied on the new upstream in ${fmt(d.reapplied)} (${fmt(d.push_rejections)} rejection(s)${d.ci_first_forced ? `, ${fmt(d.ci_first_forced)} of them with the pipeline let through first` : ''}), the pipeline's push was rejected and retried in ${fmt(d.ci_retries)}`;
  return `both changes landed in ${fmt(d.both_landed)} of ${fmt(d.concurrent_runs)} concurrent rounds${raced}`;
}

/** Figure files the block reads: name → [tag, label, prose]. */
const FIGURES = [
  ['fuzz', '[fuzz] config editing under fuzz', (f) => fuzzFigures(f.data)],
  ['git-faults', '[kills] publish killed (SIGKILL) at each step', (f) => killFigures(f.entries)],
  ['git-faults', '[ci-race] a CI pipeline pushing at the same moment', (f) => raceFigures(f.data)],
  ['cluster-faults', '[cluster] cluster under faults', (f) => clusterFigures(f.data)],
  [
    'secrets',
    '[secrets] secrets in everything the product printed',
    (f) =>
      f.data.secrets_found === undefined
        ? undefined
        : `${fmt(f.data.secrets_found)} secrets found in ${fmt(f.data.outputs_scanned)} outputs (${fmt(f.data.bytes_scanned)} bytes) searched for ${fmt(f.data.secrets_checked)} secrets, as is and base64-encoded`,
  ],
];

export function generate(doc, dir, { sourceOnly: onlySource = false } = {}) {
  const problems = [];
  const refs = tableReferences(doc);
  if (refs.length === 0) problems.push('the table names no test (`file` «title»)');
  const run = onlySource ? undefined : loadRun(dir, problems);
  const tapText = run?.stageFiles.unit;
  const damage = tapText === undefined ? undefined : tapDamage(tapText);
  if (damage) {
    problems.push(`${run.stages.unit.resultFile} cannot be used: ${damage}; run the unit tests again`);
    delete run.stageFiles.unit;
  }
  const rows = [];
  for (const ref of refs) {
    const file = path.join(root, ref.file);
    if (!existsSync(file)) {
      problems.push(`${ref.file} does not exist (row "${ref.scenario}")`);
      continue;
    }
    // The source holds the title as written, maybe with ${…} where the run puts a value.
    const source = readFileSync(file, 'utf8').replace(/\\(['"`\\])/g, '$1');
    const literal = new RegExp(ref.title.split('…').map(escapeRe).join('[\\s\\S]*?'));
    if (!literal.test(source)) problems.push(`${ref.file} has no test «${ref.title}»`);
    rows.push({ ...ref, ...(onlySource ? { runs: 0, passed: 0, values: [], ran: [] } : lookUp(ref, run, problems)) });
  }

  const lines = [START, '', '_Generated by `node scripts/reliability-report.mjs` from the last `node scripts/test.mjs` run; do not edit by hand._', ''];
  if (!onlySource) {
    if (!run) lines.push('No test run recorded.');
    else {
      const stages = Object.entries(run.stages ?? {}).map(([k, s]) => `${k}: ${fmt(s.passed)} passed, ${fmt(s.failed)} failed, ${fmt(s.skipped)} skipped`);
      lines.push(`**Run ${run.id}** (${day(run.startedAt)}): ${stages.join('; ') || 'no stage ran'}.`);
      const named = rows.reduce((n, r) => n + r.runs, 0);
      const ok = rows.reduce((n, r) => n + r.passed, 0);
      lines.push(
        `The table above names ${fmt(rows.length)} tests (${fmt(named)} test runs with their variants): ${fmt(ok)} passed${ok === named ? '' : `, **${fmt(named - ok)} did not**`}.`,
      );
    }
    lines.push('');
    const passedTitles = new Set(
      tapText === undefined || damage
        ? []
        : tapTests(tapText)
            .filter((t) => t.ok && !t.directive)
            .map((t) => t.title),
    );
    const loaded = new Map();
    for (const [name, label, prose] of FIGURES) {
      if (!loaded.has(name)) {
        const f = loadFigures(dir, name, run, passedTitles);
        loaded.set(name, f);
        if (f.problem && run) problems.push(f.problem);
      }
      const f = loaded.get(name);
      let problem = f.problem;
      const text = problem ? undefined : prose(f);
      if (!problem && text === undefined) {
        problem = `${name}.json of run ${run.id} has no figures for ${label.split(' ')[0]}`;
        problems.push(problem);
      }
      lines.push(`- **${label}**: ${problem ? `_not available: ${problem}_` : text}.`);
    }
    const restarts = rows.find((r) => /sandbox restarts/.test(r.title));
    lines.push(
      `- **[restarts] sandbox restarts survived**: ${restarts && restarts.values.length ? `${restarts.values.join(', ')} restarts, ${restarts.passed === restarts.runs && restarts.runs ? 'converged every time' : 'test did not pass'}` : 'not in this run'}.`,
    );
  }
  if (problems.length) {
    lines.push('', '**Problems in this run:**', ...problems.map((p) => `- ${p}`));
  }
  lines.push('', END);
  return { block: lines.join('\n'), problems };
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  if (!existsSync(docFile)) {
    console.error(`reliability-report: ${docFile} not found`);
    process.exit(1);
  }
  const doc = readFileSync(docFile, 'utf8');
  if (!doc.includes(START) || !doc.includes(END)) {
    console.error(`reliability-report: ${path.basename(docFile)} has no ${START} … ${END} block`);
    process.exit(1);
  }
  const { block, problems } = generate(doc, resultsDir, { sourceOnly });
  const next = doc.slice(0, doc.indexOf(START)) + block + doc.slice(doc.indexOf(END) + END.length);
  if (!checkOnly && next !== doc) writeFileSync(docFile, next);
  for (const p of problems) console.error(`reliability-report: ${p}`);
  console.log(
    `reliability-report: ${checkOnly ? 'checked' : 'wrote'} ${path.relative(root, docFile)} (${problems.length} problem${problems.length === 1 ? '' : 's'})`,
  );
  process.exit(problems.length ? 1 : 0);
}
