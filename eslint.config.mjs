import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const noShell = {
  selector: "Property[key.name='shell'][value.value=true]",
  message: 'No shell: give child processes an argument array (spawn/execFile without shell).',
};
const noExecImport = {
  name: 'child_process',
  importNames: ['exec', 'execSync'],
  message: 'No shell: use spawn/execFile with an argument array.',
};
const noExecImportNode = { ...noExecImport, name: 'node:child_process' };

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', '.run/**', 'test-results/**', '.tmp/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', noShell],
      'no-restricted-imports': ['error', { paths: [noExecImport, noExecImportNode] }],
    },
  },
  {
    // Layering: core is pure (no vscode, no cluster, no ui); cluster/cli/sandbox never import vscode or ui.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [noExecImport, noExecImportNode, { name: 'vscode', message: 'src/core must not import vscode.' }],
        patterns: [{ group: ['**/cluster/**', '**/ui/**', '**/cli/**', '**/sandbox/**', '@kubernetes/*'], message: 'src/core depends on nothing above it.' }],
      }],
    },
  },
  {
    files: ['src/cluster/**/*.ts', 'src/cli/**/*.ts', 'src/sandbox/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [noExecImport, noExecImportNode, { name: 'vscode', message: 'Only src/ui may import vscode.' }],
        patterns: [{ group: ['**/ui/**'], message: 'Arrows point one way: src/ui depends on these, not the reverse.' }],
      }],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
