// Rewrites the generated block of RELIABILITY.md (between <!-- counts:start --> and
// <!-- counts:end -->) from the last test run:
//   - test-results/{fuzz,git-faults,secrets,cluster-faults}.json (whichever exist), written by
//     the suites themselves;
//   - test-results/unit.tap (or --tap FILE): the status of every test the table names, and the
//     values its titles carried in that run (a title pattern's `…` matches them).
// The table itself is hand-written above the block and holds no figures; each row names its
// tests as `path/to/file.test.ts` «title» («title» may use … for a part that varies).
// Every named test must exist in its file and have passed in the run, else exit 1.
//
//   node scripts/test.mjs unit && node scripts/reliability-report.mjs
//   node scripts/reliability-report.mjs --check   # verify only, change nothing
//   node scripts/reliability-report.mjs --source-only   # only: every named test exists in its file
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
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
const tapFile = path.resolve(opt('--tap') ?? path.join(resultsDir, 'unit.tap'));
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

function tapSummary(text) {
  const n = (k) => Number((text.match(new RegExp(`^# ${k} (\\d+)$`, 'm')) ?? [])[1] ?? 0);
  return { tests: n('tests'), pass: n('pass'), fail: n('fail') + n('cancelled'), skipped: n('skipped') + n('todo') };
}

function readJson(name) {
  const f = path.join(resultsDir, `${name}.json`);
  if (!existsSync(f)) return undefined;
  try {
    return { data: JSON.parse(readFileSync(f, 'utf8')), at: statSync(f).mtime };
  } catch (e) {
    return { error: `${name}.json is not valid JSON (${e.message})` };
  }
}

const fmt = (n) => (typeof n === 'number' ? n.toLocaleString('en-US') : String(n));
const day = (d) => d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');

/** Figures from one JSON file as a bullet, generic for keys this script does not know. */
function figures(label, json, known) {
  if (!json) return `- **${label}**: no result file in the last run.`;
  if (json.error) return `- **${label}**: ${json.error}.`;
  const d = json.data;
  const text = known ? known(d) : Object.entries(d).filter(([, v]) => typeof v !== 'object').map(([k, v]) => `${k.replace(/_/g, ' ')} ${fmt(v)}`).join(', ');
  return `- **${label}** (${day(json.at)}): ${text}.`;
}

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
  if (has('flapping_')) parts.push(`flapping for ${fmt(get('flapping_seconds'))} s (${fmt(get('flapping_outages'))} outages): ${fmt(get('flapping_episodes'))} episode(s), ${problems('flapping')}, ${end('flapping')}`);
  if (has('slowed_')) parts.push(`answers slowed to ${fmt(get('slowed_answer_ms'))} ms: ${problems('slowed')}, ${end('slowed')}`);
  if (has('malformed_json_')) parts.push(`malformed JSON in a watch: ${problems('malformed_json')}, ${end('malformed_json')}`);
  if (has('large_object_')) parts.push(`an object of ${fmt(get('large_object_bytes'))} bytes: ${end('large_object')}`);
  if (has('silent_watch_')) parts.push(`a silent watch: ${fmt(get('silent_watch_stale_restarts'))} stale-watch restart(s), ${end('silent_watch')}`);
  const rest = Object.entries(d).filter(([k, v]) => !used.has(k) && typeof v !== 'object').map(([k, v]) => `${k.replace(/_/g, ' ')} ${fmt(v)}`);
  return [...parts, ...rest].join('; ');
}

function generate(doc, tapText) {
  const problems = [];
  const refs = tableReferences(doc);
  if (refs.length === 0) problems.push('the table names no test (`file` «title»)');
  const damage = tapText === undefined ? undefined : tapDamage(tapText);
  if (damage) problems.push(`${path.relative(root, tapFile)} cannot be used: ${damage}; run the unit tests again`);
  const tests = tapText === undefined ? [] : tapTests(tapText);
  const rows = [];
  for (const ref of refs) {
    const file = path.join(root, ref.file);
    const re = titleRegex(ref.title);
    if (!existsSync(file)) {
      problems.push(`${ref.file} does not exist (row "${ref.scenario}")`);
      continue;
    }
    // The source holds the title as written, maybe with ${…} where the run puts a value.
    const source = readFileSync(file, 'utf8').replace(/\\(['"`\\])/g, '$1');
    const literal = new RegExp(ref.title.split('…').map(escapeRe).join('[\\s\\S]*?'));
    if (!literal.test(source)) problems.push(`${ref.file} has no test «${ref.title}»`);
    const runs = tests.filter((t) => re.test(t.title));
    const passed = runs.filter((t) => t.ok && !t.directive);
    if (tapText !== undefined) {
      if (runs.length === 0) problems.push(`«${ref.title}» (${ref.file}) did not run in the last unit run`);
      else if (passed.length !== runs.length) problems.push(`«${ref.title}» (${ref.file}): ${runs.length - passed.length} of ${runs.length} did not pass`);
    }
    const values = [...new Set(runs.flatMap((t) => re.exec(t.title).slice(1)))].filter((v) => /\d/.test(v));
    rows.push({ ...ref, runs: runs.length, passed: passed.length, values, ran: [...new Set(runs.map((t) => t.title))] });
  }

  const lines = [START, '', '_Generated by `node scripts/reliability-report.mjs` from the last `node scripts/test.mjs unit` run; do not edit by hand._', ''];
  if (tapText === undefined) {
    lines.push(`No unit run found (${path.relative(root, tapFile)}).`);
  } else {
    const s = tapSummary(tapText);
    const at = statSync(tapFile).mtime;
    lines.push(`**Last run** (${day(at)}): ${fmt(s.tests)} unit tests, ${fmt(s.pass)} passed, ${fmt(s.fail)} failed, ${fmt(s.skipped)} skipped.`);
    const named = rows.reduce((n, r) => n + r.runs, 0);
    const ok = rows.reduce((n, r) => n + r.passed, 0);
    lines.push(`The table above names ${fmt(rows.length)} tests (${fmt(named)} test runs with their variants): ${fmt(ok)} passed${ok === named ? '' : `, **${fmt(named - ok)} did not**`}.`);
  }
  lines.push('');
  lines.push(figures('[fuzz] config editing under fuzz', readJson('fuzz'), (d) => {
    const refused = d.refusedByCode ? ` (${Object.entries(d.refusedByCode).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')})` : '';
    return `${fmt(d.documents)} documents fuzzed (seed ${d.seed}), ${fmt(d.actions)} set/promote/rollback actions: ${fmt(d.changed)} exact changes (${fmt(d.lineChecked)} of them with every line outside the canary block byte-compared), ${fmt(d.unchanged)} already in the intended state (text identical), ${fmt(d.refused)} refusals with a CanaryError and no text written${refused}${d.validRefused === undefined ? '' : `, ${fmt(d.validRefused)} of them of documents the Helm oracle says the chart renders fine (goal 0)${d.validRefusedUnavoidable ? `, besides ${fmt(Object.values(d.validRefusedUnavoidable).reduce((a, b) => a + b, 0))} edits that cannot be made without changing another value` : ''}`}; ${fmt(d.reads)} documents read in agreement with the ${d.verdicts ? 'Helm oracle' : 'reference parser'}; any other outcome or exception fails the test`;
  }));
  lines.push(figures('[kills] publish killed (SIGKILL) at each step', readJson('git-faults'), (d) =>
    `${fmt(d.kills_recovered)} of ${fmt(d.kills)} kills recovered by a re-run (repository consistent, change published exactly once)`));
  lines.push(figures('[ci-race] a CI pipeline pushing at the same moment', readJson('git-faults'), (d) =>
    `both changes landed in ${fmt(d.both_landed)} of ${fmt(d.concurrent_runs)} concurrent rounds`));
  const cluster = readJson('cluster-faults');
  if (cluster) {
    lines.push(figures('[cluster] cluster under faults', cluster, clusterFigures));
  } else {
    // The titles as they ran carry the durations and sizes used.
    const carried = rows.filter((r) => r.file.startsWith('test/cluster/') && r.values.length).flatMap((r) => r.ran);
    lines.push(`- **[cluster] cluster under faults**: no cluster-faults.json; the fault tests ran as ${carried.length ? carried.map((t) => `«${t}»`).join(', ') : '(none in the last run)'}.`);
  }
  const restarts = rows.find((r) => /sandbox restarts/.test(r.title));
  lines.push(`- **[restarts] sandbox restarts survived**: ${restarts && restarts.values.length ? `${restarts.values.join(', ')} restarts, ${restarts.passed === restarts.runs && restarts.runs ? 'converged every time' : 'test did not pass'}` : 'not in the last run'}.`);
  lines.push(figures('[secrets] secrets in everything the product printed', readJson('secrets'), (d) =>
    `${fmt(d.secrets_found)} secrets found in ${fmt(d.outputs_scanned)} outputs (${fmt(d.bytes_scanned)} bytes) searched for ${fmt(d.secrets_checked)} secrets, as is and base64-encoded`));
  if (problems.length) {
    lines.push('', '**Problems in the last run:**', ...problems.map((p) => `- ${p}`));
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
  const tapText = !sourceOnly && existsSync(tapFile) ? readFileSync(tapFile, 'utf8') : undefined;
  const { block, problems } = generate(doc, tapText);
  const next = doc.slice(0, doc.indexOf(START)) + block + doc.slice(doc.indexOf(END) + END.length);
  if (!checkOnly && next !== doc) writeFileSync(docFile, next);
  for (const p of problems) console.error(`reliability-report: ${p}`);
  console.log(`reliability-report: ${checkOnly ? 'checked' : 'wrote'} ${path.relative(root, docFile)} (${problems.length} problem${problems.length === 1 ? '' : 's'})`);
  process.exit(problems.length ? 1 : 0);
}
