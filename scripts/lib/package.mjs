// Builds and packages the extension with @vscode/vsce.
//
// vsce walks the whole folder it packages before applying .vscodeignore; in this repository
// (.git, .cache/code-server, .run, test-results...) that walk alone takes ~20 s on a busy machine.
// So: production build here, then vsce in a staging folder holding only what .vscodeignore lets
// through (it is a whitelist: `**` then `!path` lines), with the prepublish step (the build just
// done) left out of the staged package.json.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCommand } from './proc.mjs';
import { root } from './run.mjs';

const vsce = path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce');

/** Top-level entries a whitelist-style .vscodeignore lets through, or undefined if it is not one. */
function whitelistedEntries() {
  const file = path.join(root, '.vscodeignore');
  if (!existsSync(file)) return undefined;
  const lines = readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  if (!lines.includes('**')) return undefined;
  const tops = new Set(['package.json', '.vscodeignore']);
  for (const l of lines) {
    if (!l.startsWith('!')) continue;
    const top = l.slice(1).replace(/^\//, '').split('/')[0];
    if (!top || /[*?[\]{}]/.test(top)) return undefined; // a pattern at the top level: stage everything
    tops.add(top);
  }
  return [...tops];
}

function fail(what, res, logFile) {
  return new Error(`${what} failed (exit ${res.code})${logFile ? `; log: ${logFile}` : ''}\n${res.output.trim().split('\n').slice(-20).join('\n')}`);
}

/** Builds (production) and packages into `out`; throws when vsce fails or warns. Returns { file, bytes, output, warnings }. */
export async function packageVsix(out, { logFile, allowWarnings = false } = {}) {
  if (!existsSync(vsce)) throw new Error('@vscode/vsce is missing: run `npm install` first.');
  mkdirSync(path.dirname(out), { recursive: true });
  const env = {
    ...process.env,
    npm_config_logs_max: '0', // an npm run writes no log file into ~/.npm
    npm_config_update_notifier: 'false',
  };
  // --no-rewrite-relative-links: the README's media/screenshot.png ships inside the .vsix and
  // resolves there; rewriting would need the public repository's URL.
  // --allow-missing-repository: the project has no public repository yet, and a made-up URL
  // would send the Marketplace's links nowhere; without the flag vsce warns (and asks).
  const vsceArgs = [vsce, 'package', '--no-dependencies', '--no-rewrite-relative-links', '--allow-missing-repository', '--out', out];

  const entries = whitelistedEntries();
  let res;
  if (!entries) {
    res = await runCommand(process.execPath, vsceArgs, { cwd: root, env, logFile }); // its prepublish builds
  } else {
    const build = await runCommand(process.execPath, [path.join(root, 'scripts', 'build.mjs'), '--production'], { cwd: root, env, logFile });
    if (build.code !== 0) throw fail('the production build', build, logFile);
    const stage = path.join(path.dirname(out), 'vsix-stage');
    rmSync(stage, { recursive: true, force: true });
    mkdirSync(stage, { recursive: true });
    try {
      for (const e of entries) {
        if (e !== 'package.json' && existsSync(path.join(root, e))) cpSync(path.join(root, e), path.join(stage, e), { recursive: true });
      }
      const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
      if (manifest.scripts) delete manifest.scripts['vscode:prepublish']; // built above
      writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
      res = await runCommand(process.execPath, vsceArgs, { cwd: stage, env, logFile });
    } finally {
      rmSync(stage, { recursive: true, force: true });
    }
  }
  if (res.code !== 0 || !existsSync(out)) throw fail('vsce package', res, logFile);
  const warnings = res.output.split('\n').filter((l) => /\bWARNING\b/i.test(l));
  if (warnings.length && !allowWarnings) {
    throw new Error(`vsce package warned; fix these before shipping:\n${warnings.join('\n')}`);
  }
  return { file: out, bytes: statSync(out).size, output: res.output, warnings };
}
