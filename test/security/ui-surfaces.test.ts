/**
 * Issue 12 §1: src/ui reaches notifications, progress notifications, quick picks and markdown
 * tooltips only through src/ui/notify.ts, which sends every text through src/core/sanitize.ts.
 * The ESLint rule that keeps it so (eslint.config.mjs) is run here through ESLint's Node API:
 * on probes that must fail in src/ui, on the same probes in notify.ts (allowed there), and on
 * the real src/ui sources (clean).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';
import { repoRoot } from '../cli/bundle';

const HEAD = "// eslint-disable-next-line @typescript-eslint/no-require-imports\nimport vscode = require('vscode');\n";

const BAD_PROBES: { name: string; code: string }[] = [
  { name: 'showErrorMessage', code: `${HEAD}export const f = (m: string) => vscode.window.showErrorMessage(m);\n` },
  { name: 'showWarningMessage (modal)', code: `${HEAD}export const f = (m: string) => vscode.window.showWarningMessage(m, { modal: true }, 'Go');\n` },
  { name: 'showInformationMessage', code: `${HEAD}export const f = (m: string) => vscode.window.showInformationMessage(m);\n` },
  {
    name: 'withProgress',
    code: `${HEAD}export const f = () => vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 't' }, async () => 1);\n`,
  },
  { name: 'showQuickPick', code: `${HEAD}export const f = (l: string) => vscode.window.showQuickPick([{ label: l }]);\n` },
  { name: 'createQuickPick', code: `${HEAD}export const f = () => vscode.window.createQuickPick();\n` },
  { name: 'setStatusBarMessage', code: `${HEAD}export const f = (m: string) => vscode.window.setStatusBarMessage(m);\n` },
  { name: 'through an alias of window', code: `${HEAD}const w = vscode.window;\nexport const f = (m: string) => w.showErrorMessage(m);\n` },
  { name: 'computed member', code: `${HEAD}export const f = (m: string) => vscode.window['showInformationMessage'](m);\n` },
  { name: 'destructured', code: `${HEAD}const { showWarningMessage } = vscode.window;\nexport const f = (m: string) => showWarningMessage(m);\n` },
  { name: 'new MarkdownString', code: `${HEAD}export const f = (m: string) => new vscode.MarkdownString(m);\n` },
  { name: 'new MarkdownString (imported)', code: "import { MarkdownString } from 'vscode';\nexport const f = (m: string) => new MarkdownString(m);\n" },
];

const GOOD_PROBE = `import { showError, pickOne } from './notify';\n${HEAD}export const f = (m: string) => { void showError(m); void pickOne([{ label: m }], {}); return vscode.window.showInputBox({ prompt: 'p' }); };\n`;

async function restricted(eslint: ESLint, code: string, file: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath: path.join(repoRoot, file) });
  return (r?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-syntax' && m.severity === 2).map((m) => m.message);
}

describe('UI surfaces only through src/ui/notify.ts', () => {
  it('ESLint reports each direct use in src/ui, with the way to do it', async () => {
    const eslint = new ESLint({ cwd: repoRoot });
    const misses: string[] = [];
    for (const file of ['src/ui/__probe.ts', 'src/ui/sub/__probe.ts']) {
      for (const p of BAD_PROBES) {
        const hits = await restricted(eslint, p.code, file);
        if (hits.length === 0) misses.push(`${file}: ${p.name}`);
        else assert.match(hits[0]!, /notify\.ts/, p.name);
      }
    }
    assert.deepEqual(misses, []);
  });

  it('the rule keeps the no-shell rules in src/ui (one no-restricted-syntax list, not a replacement)', async () => {
    const eslint = new ESLint({ cwd: repoRoot });
    const hits = await restricted(eslint, "import { spawn } from 'node:child_process';\nspawn('git', ['status'], { shell: true });\n", 'src/ui/__probe.ts');
    assert.equal(hits.length, 1);
    assert.match(hits[0]!, /shell/i);
  });

  it('notify.ts itself, and the helpers it exports, are allowed', async () => {
    const eslint = new ESLint({ cwd: repoRoot });
    for (const p of BAD_PROBES) assert.deepEqual(await restricted(eslint, p.code, 'src/ui/notify.ts'), [], p.name);
    assert.deepEqual(await restricted(eslint, GOOD_PROBE, 'src/ui/__probe.ts'), []);
  });

  it('the real src/ui sources pass it, and notify.ts sanitises every text it hands over', async () => {
    const eslint = new ESLint({ cwd: repoRoot });
    const dir = path.join(repoRoot, 'src', 'ui');
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .map((f) => path.join(dir, f));
    assert.ok(files.length > 10);
    const results = await eslint.lintFiles(files);
    const problems = results.flatMap((r) =>
      r.messages.filter((m) => m.ruleId === 'no-restricted-syntax').map((m) => `${path.relative(repoRoot, r.filePath)}:${m.line}: ${m.message}`),
    );
    assert.deepEqual(problems, []);
    const notify = readFileSync(path.join(dir, 'notify.ts'), 'utf8');
    // Each workbench call in the wrapper takes a value that came out of the sanitiser.
    for (const call of notify.matchAll(/vscode\.window\.(show\w+Message|withProgress)\((\w+)/g)) assert.match(call[2]!, /^safe/, call[0]);
  });
});
