// Checks the README's two commands the way a newcomer runs them: clones the committed HEAD into
// a temporary folder, `npm ci`, then `npm start`, and measures the time until Chromium shows the
// Canary Deployments view with jukebox at `prev 80% · latest 20%`. Then Ctrl-C (SIGINT) and a
// check that no process of the clone is left.
//
//   node scripts/check-fresh-clone.mjs [--install-code-server] [--cold-npm-cache] [--keep]
//
// By default the clone gets a copy of this checkout's .cache/code-server (the one-time install
// done); --install-code-server lets `npm start` install it as a first run does (no system
// headers needed: see scripts/codeserver.mjs). --cold-npm-cache gives both commands an empty
// npm cache, so every package comes from the registry as on a new machine. It passes when the
// view shows the split within 60 s of `npm start`, not counting the one-time code-server install.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { cacheDir } from './codeserver.mjs';
import { launchChromium } from './lib/browser.mjs';
import { killProcessesMentioning, runCommand, sleep } from './lib/proc.mjs';
import { removeDir, root, secondsSince } from './lib/run.mjs';

const { values: opts } = parseArgs({
  options: {
    'install-code-server': { type: 'boolean', default: false },
    'cold-npm-cache': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ksc-clone-'));
  const clone = path.join(dir, 'kserve-canary');
  try {
    const git = await runCommand('git', ['clone', '--quiet', root, clone]);
    if (git.code !== 0) throw new Error(`git clone failed: ${git.output}`);
    const npmEnv = { ...process.env, npm_config_logs_max: '0' };
    if (opts['cold-npm-cache']) {
      npmEnv.npm_config_cache = path.join(dir, 'npm-cache');
      mkdirSync(npmEnv.npm_config_cache);
    }
    const cache = opts['cold-npm-cache'] ? 'an empty npm cache' : "this machine's npm cache";
    let t = Date.now();
    const ci = await runCommand('npm', ['ci', '--no-audit', '--no-fund'], { cwd: clone, env: npmEnv });
    if (ci.code !== 0) throw new Error(`npm ci failed:\n${ci.output.split('\n').slice(-20).join('\n')}`);
    console.log(`check: npm ci in ${secondsSince(t)} s, with ${cache}`);
    if (!opts['install-code-server'] && existsSync(cacheDir)) {
      cpSync(cacheDir, path.join(clone, '.cache', 'code-server'), { recursive: true });
      console.log('check: code-server cache copied (the one-time install done)');
    } else {
      console.log(`check: npm start installs code-server, with ${cache}`);
    }

    t = Date.now();
    // --port 0: code-server binds a port the system picks, and says which.
    const start = spawn('npm', ['start', '--', '--port', '0'], { cwd: clone, env: npmEnv, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    start.stdout.on('data', (d) => {
      out += d;
    });
    start.stderr.on('data', (d) => {
      out += d;
    });
    const deadline = Date.now() + 10 * 60_000;
    let url;
    while (!(url = /code-server serving (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1])) {
      if (start.exitCode !== null || Date.now() > deadline) throw new Error(`npm start did not come up:\n${out}`);
      await sleep(200);
    }
    const serving = secondsSince(t);
    const { browser, context } = await launchChromium(dir);
    let seen;
    try {
      const page = await context.newPage();
      await page.goto(url);
      await page.locator('.part.activitybar [aria-label^="KServe Canary"]').first().click({ timeout: 120_000 });
      await page.locator('#workbench\\.parts\\.sidebar .monaco-list-row', { hasText: 'prev 80% · latest 20%' }).first().waitFor({ timeout: 120_000 });
      seen = secondsSince(t);
    } finally {
      await browser.close();
    }
    console.log(
      out
        .split('\n')
        .filter((l) => /^(start|code-server):/.test(l))
        .join('\n'),
    );
    // The one-time install, as codeserver.mjs reports it; the verdict does not count it.
    const install = Number(/^code-server: installed in ([\d.]+) s/m.exec(out)?.[1] ?? 0);
    console.log(
      `check: code-server serving after ${serving} s; the view with jukebox 80/20 after ${seen} s${install ? ` (${install} s of it the one-time code-server install)` : ''}`,
    );

    process.kill(-start.pid, 'SIGINT');
    const exit = await Promise.race([new Promise((r) => start.on('exit', (c, s) => r(c ?? s))), sleep(30_000).then(() => 'still running after 30 s')]);
    const left = await killProcessesMentioning(clone);
    console.log(`check: npm start after Ctrl-C: ${exit}; processes left behind: ${left}`);
    return left === 0 && Number(seen) - install <= 60 ? 0 : 1;
  } finally {
    if (opts.keep) console.log(`check: kept ${dir}`);
    else removeDir(dir);
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`check: ${err.message}`);
    process.exit(1);
  },
);
