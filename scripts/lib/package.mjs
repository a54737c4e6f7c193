// Packages the extension with @vscode/vsce (its `vscode:prepublish` runs the production build).
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { runCommand } from './proc.mjs';
import { root } from './run.mjs';

const vsce = path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce');

/** Builds and packages into `out`; throws when vsce fails or warns. Returns { file, bytes, output }. */
export async function packageVsix(out, { logFile, allowWarnings = false } = {}) {
  if (!existsSync(vsce)) throw new Error('@vscode/vsce is missing: run `npm install` first.');
  mkdirSync(path.dirname(out), { recursive: true });
  const env = {
    ...process.env,
    npm_config_logs_max: '0', // npm run (the prepublish step) writes no log file into ~/.npm
    npm_config_update_notifier: 'false',
  };
  // --no-rewrite-relative-links: the README's media/screenshot.png ships inside the .vsix and
  // resolves there; rewriting would need the public repository's URL.
  const res = await runCommand(process.execPath, [vsce, 'package', '--no-dependencies', '--no-rewrite-relative-links', '--out', out], { cwd: root, env, logFile });
  if (res.code !== 0 || !existsSync(out)) {
    throw new Error(`vsce package failed (exit ${res.code})${logFile ? `; log: ${logFile}` : ''}\n${res.output.trim().split('\n').slice(-20).join('\n')}`);
  }
  const warnings = res.output.split('\n').filter((l) => /\bWARNING\b/i.test(l));
  if (warnings.length && !allowWarnings) {
    throw new Error(`vsce package warned; fix these before shipping:\n${warnings.join('\n')}`);
  }
  return { file: out, bytes: statSync(out).size, output: res.output, warnings };
}
