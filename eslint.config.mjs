import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const noShell = {
  // any `shell` option that is not literally false: true, '/bin/sh', a variable, `{ shell }`
  selector: "Property[key.name='shell']:not([value.value=false])",
  message: 'No shell: give child processes an argument array (spawn/execFile without shell).',
};
// spawn('sh', ['-c', …]), execFile('/bin/bash', …), cp.spawn('cmd.exe', …): a shell by another door.
const SHELL_PROGRAM = '/^(.*[^a-z])?(sh|bash|dash|zsh|ksh|csh|tcsh|fish|cmd|cmd[.]exe|powershell|powershell[.]exe|pwsh)$/i';
const CHILD_PROCESS = '/^(node:)?child_process$/';
const noShellProgram = {
  selector: `CallExpression[arguments.0.value=${SHELL_PROGRAM}]:matches([callee.name=/^(spawn|spawnSync|execFile|execFileSync)$/], [callee.property.name=/^(spawn|spawnSync|execFile|execFileSync)$/])`,
  message: 'No shell: run the program itself with an argument array, not sh/bash/cmd.',
};
// `import cp from 'child_process'` and `const { exec } = await import('child_process')` reach exec too.
const noChildProcessDefault = {
  selector: `ImportDeclaration[source.value=${CHILD_PROCESS}] > ImportDefaultSpecifier`,
  message: 'No shell: import spawn/execFile by name from child_process, not the whole module.',
};
const noChildProcessModule = {
  selector: `VariableDeclarator[id.type='Identifier'][init.argument.source.value=${CHILD_PROCESS}]`,
  message: 'No shell: take spawn/execFile by name from child_process, not the whole module.',
};
const noDynamicExec = {
  selector: `VariableDeclarator[init.argument.source.value=${CHILD_PROCESS}] > ObjectPattern > Property[key.name=/^exec(Sync)?$/]`,
  message: 'No shell: use spawn/execFile with an argument array.',
};
const noExecImport = {
  name: 'child_process',
  importNames: ['exec', 'execSync'],
  message: 'No shell: use spawn/execFile with an argument array.',
};
const noExecImportNode = { ...noExecImport, name: 'node:child_process' };

// Issue 12: notifications, progress, quick picks and markdown tooltips interpret text (links,
// `$(icon)`, markdown), so src/ui reaches them only through src/ui/notify.ts, which sanitises.
const UI_SURFACES = '/^(showErrorMessage|showWarningMessage|showInformationMessage|withProgress|showQuickPick|createQuickPick|setStatusBarMessage)$/';
const UI_SURFACE_MESSAGE = 'Text reaches notifications, progress and quick picks only through src/ui/notify.ts (it sanitises): use showError/showWarning/showInfo/askModal/withNotificationProgress/pickOne.';
const noRawSurface = { selector: `MemberExpression[property.name=${UI_SURFACES}]`, message: UI_SURFACE_MESSAGE };
const noRawSurfaceComputed = { selector: `MemberExpression[computed=true][property.value=${UI_SURFACES}]`, message: UI_SURFACE_MESSAGE };
const noRawSurfaceDestructured = { selector: `ObjectPattern > Property[key.name=${UI_SURFACES}]`, message: UI_SURFACE_MESSAGE };
const noRawMarkdown = {
  selector: "NewExpression:matches([callee.name='MarkdownString'], [callee.property.name='MarkdownString'])",
  message: 'Markdown tooltips come from markdownTooltip() in src/ui/notify.ts, built from sanitize.ts MarkdownText.',
};
// What only src/app calls: publishing, following and the rollout engine's ports (issue 15).
const USE_CASE_MODULES = ['core/publish', 'core/publish-context', 'core/publish-pull', 'core/publish-push', 'core/rollout-git', 'cluster/rollout-ports', 'cluster/follow', 'cluster/store']
  .flatMap((m) => [`../${m}`, `../../${m}`]);
const USE_CASE_MESSAGE = 'Publishing, following and rollouts go through the use cases in src/app (change, rollout, connection, traffic).';
const shellRules = [noShell, noShellProgram, noChildProcessDefault, noChildProcessModule, noDynamicExec];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', '.run/**', 'test-results/**', '.tmp/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', ...shellRules],
      'no-restricted-imports': ['error', { paths: [noExecImport, noExecImportNode] }],
    },
  },
  {
    // Layering: ui → app → core/cluster, cli → app. core is pure (no vscode, no cluster, no app, no ui);
    // cluster/app/cli/sandbox never import vscode or ui; app never imports cli; cluster never imports app.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [noExecImport, noExecImportNode, { name: 'vscode', message: 'src/core must not import vscode.' }],
        patterns: [{ group: ['**/cluster/**', '**/app/**', '**/ui/**', '**/cli/**', '**/sandbox/**', '@kubernetes/*'], message: 'src/core depends on nothing above it.' }],
      }],
    },
  },
  {
    files: ['src/cluster/**/*.ts', 'src/sandbox/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [noExecImport, noExecImportNode, { name: 'vscode', message: 'Only src/ui may import vscode.' }],
        patterns: [{ group: ['**/ui/**', '**/app/**', '**/cli/**'], message: 'Arrows point one way: src/app, src/cli and src/ui depend on these, not the reverse.' }],
      }],
    },
  },
  {
    // The use cases: no vscode, no argv; the extension and the CLI call them, never the reverse.
    files: ['src/app/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [noExecImport, noExecImportNode, { name: 'vscode', message: 'src/app is the use-case layer: no vscode (src/ui presents its results).' }],
        patterns: [{ group: ['**/ui/**', '**/cli/**', '**/sandbox/**'], message: 'src/app depends on core and cluster only: src/ui and src/cli call it.' }],
      }],
    },
  },
  {
    // The CLI parses and prints; publishing, following and rollouts go through src/app.
    files: ['src/cli/**/*.ts'],
    ignores: ['src/cli/commands/sandbox.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [
          noExecImport, noExecImportNode, { name: 'vscode', message: 'Only src/ui may import vscode.' },
          ...USE_CASE_MODULES.map((name) => ({ name, message: USE_CASE_MESSAGE })),
        ],
        patterns: [{ group: ['**/ui/**'], message: 'Arrows point one way: src/ui depends on these, not the reverse.' }],
      }],
    },
  },
  {
    // sandbox.ts runs the local cluster (src/sandbox), which is no use case.
    files: ['src/cli/commands/sandbox.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [noExecImport, noExecImportNode, { name: 'vscode', message: 'Only src/ui may import vscode.' }],
        patterns: [{ group: ['**/ui/**'], message: 'Arrows point one way: src/ui depends on these, not the reverse.' }],
      }],
    },
  },
  {
    // The extension's commands reach publish/follow/rollout only through src/app (via backend.ts).
    files: ['src/ui/**/*.ts'],
    ignores: ['src/ui/backend.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [noExecImport, noExecImportNode, ...USE_CASE_MODULES.map((name) => ({ name, message: USE_CASE_MESSAGE }))],
        patterns: [{ group: ['**/cli/**'], message: 'src/ui and src/cli are siblings: share code through src/app or src/core.' }],
      }],
    },
  },
  {
    // The one wrapper (src/ui/notify.ts) is the only place allowed to call these.
    files: ['src/ui/**/*.ts'],
    ignores: ['src/ui/notify.ts'],
    rules: {
      'no-restricted-syntax': ['error', ...shellRules, noRawSurface, noRawSurfaceComputed, noRawSurfaceDestructured, noRawMarkdown],
    },
  },
  {
    // The dashboard's webview bundle runs in the browser: it draws what the host posts, nothing more.
    files: ['src/webview/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'The webview has no vscode API: post a message to the panel.' }],
        patterns: [{ group: ['node:*', '**/ui/**', '**/cluster/**', '**/cli/**', '**/sandbox/**', '@kubernetes/*'], message: 'The webview imports only src/core types and its chart library.' }],
      }],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
