/**
 * No shell anywhere (issue 7 §4): child processes get argument arrays. Two guards, both
 * tested here: a scan of the product's sources (src/, scripts/, bin/) for every way to reach
 * a shell, and the ESLint rules that keep it so — read from eslint.config.mjs, resolved for
 * a file of each layer, and run through ESLint's Node API on probes that must fail.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';
import ts from 'typescript';
import { repoRoot } from '../cli/bundle';

const SHELL_PROGRAMS = 'sh|bash|dash|zsh|ksh|csh|tcsh|fish|cmd|cmd\\.exe|powershell|powershell\\.exe|pwsh';

function sourceFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string, exts: RegExp) => {
    for (const n of readdirSync(dir)) {
      const p = path.join(dir, n);
      if (statSync(p).isDirectory()) walk(p, exts);
      else if (exts.test(n) && !n.endsWith('.d.ts') && !n.endsWith('.d.mts')) out.push(p);
    }
  };
  walk(path.join(repoRoot, 'src'), /\.ts$/);
  walk(path.join(repoRoot, 'scripts'), /\.(mjs|js|ts)$/);
  walk(path.join(repoRoot, 'bin'), /\.(mjs|js)$/);
  return out;
}

const SHELL_PROGRAM = new RegExp(`^(?:.*[/\\\\])?(?:${SHELL_PROGRAMS})$`, 'i');
const SHELL_COMMAND_LINE = new RegExp(`^(?:.*/)?(?:${SHELL_PROGRAMS})\\s+(?:-\\w*c|/c)\\b`, 'i');
const SPAWNERS = new Set(['spawn', 'spawnSync', 'execFile', 'execFileSync']);
const CHILD_PROCESS = /^(node:)?child_process$/;

/**
 * Every place in `text` that reaches a shell, as `line: reason`, found on the syntax tree
 * (TypeScript's parser, so comments, strings and type annotations are told apart from code).
 */
function shellUses(text: string, fileName = 'probe.ts'): string[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, fileName.endsWith('.ts') ? ts.ScriptKind.TS : ts.ScriptKind.JS);
  const found: string[] = [];
  const at = (n: ts.Node, why: string) => found.push(`${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}: ${why}: ${n.getText(sf).split('\n')[0]}`);
  // Names bound to the whole child_process module: default/namespace import, require(), import().
  const moduleNames = new Set<string>();
  const isChildProcess = (e: ts.Node | undefined): boolean => !!e && ts.isStringLiteralLike(e) && CHILD_PROCESS.test(e.text);
  const unwrap = (e: ts.Expression): ts.Expression =>
    ts.isAwaitExpression(e) ? unwrap(e.expression) : ts.isParenthesizedExpression(e) ? unwrap(e.expression) : e;
  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n) && isChildProcess(n.moduleSpecifier) && n.importClause) {
      const c = n.importClause;
      if (c.name) moduleNames.add(c.name.text);
      if (c.namedBindings && ts.isNamespaceImport(c.namedBindings)) moduleNames.add(c.namedBindings.name.text);
    }
    if (ts.isVariableDeclaration(n) && n.initializer && ts.isIdentifier(n.name)) {
      const init = unwrap(n.initializer);
      if (
        ts.isCallExpression(init) &&
        (init.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(init.expression) && init.expression.text === 'require')) &&
        isChildProcess(init.arguments[0])
      ) {
        moduleNames.add(n.name.text);
      }
    }
    if (ts.isPropertyAssignment(n) && n.name.getText(sf) === 'shell' && n.initializer.kind !== ts.SyntaxKind.FalseKeyword)
      at(n, 'a shell option that is not false');
    if (ts.isShorthandPropertyAssignment(n) && n.name.text === 'shell') at(n, 'a shell option given by shorthand');
    if (ts.isCallExpression(n)) {
      const callee = n.expression;
      const name = ts.isIdentifier(callee) ? callee.text : ts.isPropertyAccessExpression(callee) ? callee.name.text : '';
      if (ts.isIdentifier(callee) && (name === 'exec' || name === 'execSync')) at(n, 'exec()/execSync() run a command line through a shell');
      if (
        ts.isPropertyAccessExpression(callee) &&
        (name === 'exec' || name === 'execSync') &&
        ts.isIdentifier(callee.expression) &&
        moduleNames.has(callee.expression.text)
      ) {
        at(n, `${callee.expression.text}.${name}() through the whole child_process module`);
      }
      const first = n.arguments[0];
      if (SPAWNERS.has(name) && first && ts.isStringLiteralLike(first) && SHELL_PROGRAM.test(first.text)) at(n, 'spawns a shell program');
    }
    if (ts.isStringLiteralLike(n) && SHELL_COMMAND_LINE.test(n.text)) at(n, 'a "sh -c" / "bash -c" / "cmd /c" command line');
    ts.forEachChild(n, visit);
  };
  // Two passes: module bindings first (an import may come after a use in the tree order).
  visit(sf);
  if (moduleNames.size) {
    found.length = 0;
    visit(sf);
  }
  return [...new Set(found)];
}

/** Probes that must each be reported, and the rule that reports them. */
const BAD_PROBES: { name: string; code: string; rule: string }[] = [
  { name: 'shell: true', code: "import { spawn } from 'node:child_process';\nspawn('git', ['status'], { shell: true });\n", rule: 'no-restricted-syntax' },
  {
    name: "shell: '/bin/sh'",
    code: "import { spawn } from 'node:child_process';\nspawn('git', ['status'], { shell: '/bin/sh' });\n",
    rule: 'no-restricted-syntax',
  },
  {
    name: 'shell shorthand',
    code: "import { execFile } from 'node:child_process';\nconst shell = true;\nexecFile('git', ['status'], { shell });\n",
    rule: 'no-restricted-syntax',
  },
  { name: 'exec import', code: "import { exec } from 'node:child_process';\nexec('git status');\n", rule: 'no-restricted-imports' },
  { name: 'execSync import (child_process)', code: "import { execSync } from 'child_process';\nexecSync('git status');\n", rule: 'no-restricted-imports' },
  { name: 'namespace import', code: "import * as cp from 'node:child_process';\ncp.exec('git status');\n", rule: 'no-restricted-imports' },
  { name: 'default import', code: "import cp from 'child_process';\ncp.execSync('git status');\n", rule: 'no-restricted-syntax' },
  {
    name: 'whole module by dynamic import',
    code: "export async function f() {\n  const cp = await import('node:child_process');\n  cp.exec('ls');\n}\n",
    rule: 'no-restricted-syntax',
  },
  {
    name: 'exec by dynamic import',
    code: "export async function f() {\n  const { exec } = await import('node:child_process');\n  exec('ls');\n}\n",
    rule: 'no-restricted-syntax',
  },
  { name: "spawn('sh', ['-c'])", code: "import { spawn } from 'node:child_process';\nspawn('sh', ['-c', 'git status']);\n", rule: 'no-restricted-syntax' },
  {
    name: "execFile('/bin/bash')",
    code: "import { execFile } from 'node:child_process';\nexecFile('/bin/bash', ['-c', 'ls']);\n",
    rule: 'no-restricted-syntax',
  },
];

const GOOD_PROBE =
  "import { spawn, execFile } from 'node:child_process';\nspawn('git', ['status'], { shell: false });\nexecFile('ssh', ['-V']);\nexport const m = /a/.exec('a');\n";

/** A file of each place the rules must hold in (they are not written there). */
const LAYERS = [
  'src/core/__probe.ts',
  'src/cluster/__probe.ts',
  'src/cli/__probe.ts',
  'src/sandbox/__probe.ts',
  'src/ui/__probe.ts',
  'scripts/__probe.mjs',
  'test/core/__probe.test.ts',
];

describe('no shell anywhere', () => {
  it("the product's sources reach no shell (exec, shell option, sh -c, whole child_process module)", () => {
    const files = sourceFiles();
    assert.ok(files.length > 50, `scanned ${files.length} files`);
    const problems = files.flatMap((f) => shellUses(readFileSync(f, 'utf8'), f).map((p) => `${path.relative(repoRoot, f)}:${p}`));
    assert.deepEqual(problems, []);
  });

  it('the scan itself finds each way in', () => {
    const cases = [
      "import { exec } from 'node:child_process';\nexec('ls');",
      "spawn('git', ['x'], { shell: true });",
      "spawn('git', ['x'], { shell: process.platform === 'win32' });",
      "spawn('git', ['x'], { cwd, shell });",
      "spawn('/bin/sh', ['-c', 'ls']);",
      "execFile('bash', ['x.sh']);",
      "const argv = ['bash -c ls'];",
      "import * as cp from 'child_process';\ncp.execSync('ls');",
      "const cp = await import('node:child_process');\ncp.exec('ls');",
    ];
    for (const c of cases) assert.notDeepEqual(shellUses(c), [], c);
    assert.deepEqual(shellUses(GOOD_PROBE), []);
    assert.deepEqual(shellUses("// never use exec('x') or shell: true\nconst r = /x/.exec(s);\nconst o = { shell: false };"), []);
    assert.deepEqual(
      shellUses('interface O { shell: Shell }\nexport function boot(shell: Shell): void { shell.run(); }\nconst s = "no shell: true here";'),
      [],
    );
  });

  it('eslint.config.mjs declares the rules (shell option, exec imports) for every layer', async () => {
    const text = readFileSync(path.join(repoRoot, 'eslint.config.mjs'), 'utf8');
    assert.match(text, /Property\[key\.name='shell'\]/);
    assert.match(text, /importNames:\s*\['exec',\s*'execSync'\]/);
    const eslint = new ESLint({ cwd: repoRoot });
    for (const file of LAYERS) {
      const cfg = (await eslint.calculateConfigForFile(path.join(repoRoot, file))) as { rules: Record<string, unknown[]> };
      const syntax = JSON.stringify(cfg.rules['no-restricted-syntax'] ?? []);
      const imports = JSON.stringify(cfg.rules['no-restricted-imports'] ?? []);
      assert.match(syntax, /key\.name='shell'/, `${file}: shell option rule`);
      for (const mod of ['"child_process"', '"node:child_process"'])
        assert.ok(imports.includes(mod) && /"exec"/.test(imports) && /"execSync"/.test(imports), `${file}: exec imports from ${mod}`);
    }
  });

  it('ESLint reports every probe in every layer, and accepts spawn/execFile with argument arrays', async () => {
    const eslint = new ESLint({ cwd: repoRoot });
    const misses: string[] = [];
    for (const file of LAYERS) {
      const filePath = path.join(repoRoot, file);
      for (const probe of BAD_PROBES) {
        const [r] = await eslint.lintText(probe.code, { filePath });
        const hits = (r?.messages ?? []).filter((m) => m.ruleId === probe.rule && m.severity === 2);
        if (hits.length === 0) misses.push(`${file}: ${probe.name} (${(r?.messages ?? []).map((m) => m.ruleId ?? m.message).join(', ') || 'no messages'})`);
        else assert.match(hits[0]!.message, /shell|spawn|execFile|child_process/i, `${file}: ${probe.name}`);
      }
      const [good] = await eslint.lintText(GOOD_PROBE, { filePath });
      const noisy = (good?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-syntax' || m.ruleId === 'no-restricted-imports' || m.fatal);
      assert.deepEqual(
        noisy.map((m) => `${m.ruleId}: ${m.message}`),
        [],
        `${file}: the allowed way stays allowed`,
      );
    }
    assert.deepEqual(misses, []);
  });
});
