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

/** Code lines only: comment lines (`//`, `/*`, ` *`) say "no shell" a lot and are not code. */
function codeLines(text: string): { line: string; n: number }[] {
  return text
    .split('\n')
    .map((line, i) => ({ line, n: i + 1 }))
    .filter(({ line }) => !/^\s*(\/\/|\/\*|\*)/.test(line));
}

/** Every place in `text` that reaches a shell, as `line: reason`. */
function shellUses(text: string): string[] {
  const found: string[] = [];
  const lines = codeLines(text);
  // Names bound to the whole child_process module (default, namespace, require, dynamic import).
  const moduleNames = new Set<string>();
  const cp = `['"](?:node:)?child_process['"]`;
  for (const re of [
    new RegExp(`import\\s+(?:\\*\\s+as\\s+)?([\\w$]+)\\s+from\\s+${cp}`, 'g'),
    new RegExp(`(?:const|let|var)\\s+([\\w$]+)\\s*=\\s*(?:await\\s+)?(?:import|require)\\(\\s*${cp}\\s*\\)`, 'g'),
  ]) {
    for (const m of text.matchAll(re)) moduleNames.add(m[1]!);
  }
  const checks: [RegExp, string][] = [
    [/(?<![.\w$])exec(?:Sync)?\s*\(/, 'exec()/execSync() run a command line through a shell'],
    [/\bshell\s*:(?!\s*false\b)/, 'a shell option that is not false'],
    [/[{,]\s*shell\s*[,}]/, 'a shell option given by shorthand'],
    [new RegExp(`\\b(?:spawn|spawnSync|execFile|execFileSync)\\s*\\(\\s*['"\`](?:[^'"\`]*[/\\\\])?(?:${SHELL_PROGRAMS})['"\`]`, 'i'), 'spawns a shell program'],
    [new RegExp(`['"\`](?:[^'"\`]*/)?(?:${SHELL_PROGRAMS})\\s+(?:-\\w*c|/c)\\b`, 'i'), 'a "sh -c" / "bash -c" / "cmd /c" command line'],
  ];
  for (const name of moduleNames) checks.push([new RegExp(`(?<![.\\w$])${name.replace(/\$/g, '\\$')}\\.exec(?:Sync)?\\s*\\(`), `${name}.exec() through the whole child_process module`]);
  for (const { line, n } of lines) {
    for (const [re, why] of checks) if (re.test(line)) found.push(`${n}: ${why}: ${line.trim()}`);
  }
  return found;
}

/** Probes that must each be reported, and the rule that reports them. */
const BAD_PROBES: { name: string; code: string; rule: string }[] = [
  { name: 'shell: true', code: "import { spawn } from 'node:child_process';\nspawn('git', ['status'], { shell: true });\n", rule: 'no-restricted-syntax' },
  { name: "shell: '/bin/sh'", code: "import { spawn } from 'node:child_process';\nspawn('git', ['status'], { shell: '/bin/sh' });\n", rule: 'no-restricted-syntax' },
  { name: 'shell shorthand', code: "import { execFile } from 'node:child_process';\nconst shell = true;\nexecFile('git', ['status'], { shell });\n", rule: 'no-restricted-syntax' },
  { name: 'exec import', code: "import { exec } from 'node:child_process';\nexec('git status');\n", rule: 'no-restricted-imports' },
  { name: 'execSync import (child_process)', code: "import { execSync } from 'child_process';\nexecSync('git status');\n", rule: 'no-restricted-imports' },
  { name: 'namespace import', code: "import * as cp from 'node:child_process';\ncp.exec('git status');\n", rule: 'no-restricted-imports' },
  { name: 'default import', code: "import cp from 'child_process';\ncp.execSync('git status');\n", rule: 'no-restricted-syntax' },
  { name: 'whole module by dynamic import', code: "export async function f() {\n  const cp = await import('node:child_process');\n  cp.exec('ls');\n}\n", rule: 'no-restricted-syntax' },
  { name: 'exec by dynamic import', code: "export async function f() {\n  const { exec } = await import('node:child_process');\n  exec('ls');\n}\n", rule: 'no-restricted-syntax' },
  { name: "spawn('sh', ['-c'])", code: "import { spawn } from 'node:child_process';\nspawn('sh', ['-c', 'git status']);\n", rule: 'no-restricted-syntax' },
  { name: "execFile('/bin/bash')", code: "import { execFile } from 'node:child_process';\nexecFile('/bin/bash', ['-c', 'ls']);\n", rule: 'no-restricted-syntax' },
];

const GOOD_PROBE = "import { spawn, execFile } from 'node:child_process';\nspawn('git', ['status'], { shell: false });\nexecFile('ssh', ['-V']);\nexport const m = /a/.exec('a');\n";

/** A file of each place the rules must hold in (they are not written there). */
const LAYERS = ['src/core/__probe.ts', 'src/cluster/__probe.ts', 'src/cli/__probe.ts', 'src/sandbox/__probe.ts', 'src/ui/__probe.ts', 'scripts/__probe.mjs', 'test/core/__probe.test.ts'];

describe('no shell anywhere', () => {
  it('the product\'s sources reach no shell (exec, shell option, sh -c, whole child_process module)', () => {
    const files = sourceFiles();
    assert.ok(files.length > 50, `scanned ${files.length} files`);
    const problems = files.flatMap((f) => shellUses(readFileSync(f, 'utf8')).map((p) => `${path.relative(repoRoot, f)}:${p}`));
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
      for (const mod of ['"child_process"', '"node:child_process"']) assert.ok(imports.includes(mod) && /"exec"/.test(imports) && /"execSync"/.test(imports), `${file}: exec imports from ${mod}`);
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
      assert.deepEqual(noisy.map((m) => `${m.ruleId}: ${m.message}`), [], `${file}: the allowed way stays allowed`);
    }
    assert.deepEqual(misses, []);
  });
});
