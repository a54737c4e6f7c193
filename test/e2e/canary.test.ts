// A newcomer's session in the browser, against the setup `npm start` makes without inference (in a fresh temporary
// run folder, on ephemeral ports): the view, setting a canary, Grafana, a refused value, promote,
// a progressive rollout, the CLI in the integrated terminal, losing the cluster and getting it
// back. Run by scripts/test-browser.mjs; screenshots of each step go to test-results/screenshots/.
import * as assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { parse as parseYaml } from 'yaml';
import { launchChromium, workbenchUrl } from '../../scripts/lib/browser.mjs';
import { gitAsync } from '../core/git-helpers';
import { exitOnSignals, onShutdown, removeDir, root, shutdown, tempRunDir } from '../../scripts/lib/run.mjs';
import { launch, type Launched } from '../../scripts/start.mjs';
import { poll, Workbench } from './workbench';

const STEP_TIMEOUT_MS = 180_000;
const screenshotDir = path.join(root, 'test-results', 'screenshots');
const failureDir = path.join(root, 'test-results', 'browser-failures');
const configPath = 'model-deployments/test/jukebox/config.yaml';

// Ctrl-C / SIGTERM: stop code-server, the sandbox and chromium before exiting.
exitOnSignals();

let env: Launched;
let wb: Workbench;
let browser: Browser;
const externalRequests: string[] = [];

const git = (...args: string[]): Promise<string> => gitAsync(undefined, args);

const remoteHead = () => git('--git-dir', env.sandbox.info.gitopsRemote, 'rev-parse', 'HEAD');
const remoteCommitCount = async () => Number(await git('--git-dir', env.sandbox.info.gitopsRemote, 'rev-list', '--count', 'HEAD'));
const remoteConfig = () => git('--git-dir', env.sandbox.info.gitopsRemote, 'show', `HEAD:${configPath}`);

/** GET on the sandbox's Kubernetes API with the kubeconfig's CA and the sandbox token. */
async function sandboxGet(apiPath: string): Promise<unknown> {
  const kubeconfig = parseYaml(readFileSync(env.sandbox.info.kubeconfig, 'utf8')) as { clusters: { cluster: { 'certificate-authority-data': string } }[] };
  const ca = Buffer.from(kubeconfig.clusters[0].cluster['certificate-authority-data'], 'base64');
  const token = readFileSync(env.sandbox.info.tokenFile, 'utf8').trim();
  return new Promise((resolve, reject) => {
    const req = https.get(new URL(apiPath, env.sandbox.info.server), { ca, headers: { Authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`GET ${apiPath}: HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
  });
}

/** Runs Set canary traffic on jukebox/test from the palette, up to its input box. */
async function openSetTraffic(): Promise<void> {
  await wb.runCommand('KServe Canary: Set canary traffic');
  await wb.pickServiceUntil('jukebox', 'test', 'the traffic input box', () => wb.inputBoxShowing());
}

describe('KServe Canary in code-server, in Chromium', { timeout: 15 * 60_000 }, () => {
  before(async () => {
    const runDir = tempRunDir('browser');
    onShutdown(() => removeDir(runDir));
    // port 0: code-server and the sandbox bind ports the system picks (a port probed free
    // beforehand can be taken by another process during the build).
    env = await launch({ runDir, port: 0, log: (m) => console.log(`# ${m}`) });
    const chromium = await launchChromium(runDir);
    browser = chromium.browser;
    onShutdown(() => browser.close().catch(() => {}));
    const context = chromium.context;
    // No network but loopback: anything else (the Grafana dashboard) gets a stub page, and is recorded.
    await context.route(
      (url) => !['127.0.0.1', 'localhost'].includes(url.hostname),
      (route) => {
        externalRequests.push(route.request().url());
        return route.fulfill({ status: 200, contentType: 'text/html', body: '<title>stub</title>stub' });
      },
    );
    const page = await context.newPage();
    wb = new Workbench(page, context, screenshotDir);
    await page.goto(workbenchUrl(env.url, { folder: env.workspace }));
    await wb.waitReady();
  });

  // A failed step leaves what it saw: a screenshot, the notifications, side bar and status bar
  // texts, and the logs of the sandbox, code-server and the extension host.
  afterEach(async (t) => {
    // TestContext.passed (Node 20.12+; not in this @types/node yet)
    if ((t as { passed?: boolean }).passed !== false || !wb) return;
    const slug = t.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60);
    const dir = path.join(failureDir, slug);
    mkdirSync(dir, { recursive: true });
    await wb.page.screenshot({ path: path.join(dir, 'screen.png') }).catch(() => {});
    const seen = {
      notifications: await wb.notifications().catch((e) => [`(${e})`]),
      sidebar: await wb.sidebarText().catch((e) => `(${e})`),
      statusBar: await wb.statusBarItems().catch((e) => [`(${e})`]),
      remoteLog: await git('--git-dir', env.sandbox.info.gitopsRemote, 'log', '-8', '--format=%h %s').catch((e) => `(${e})`),
    };
    writeFileSync(path.join(dir, 'seen.json'), `${JSON.stringify(seen, null, 2)}\n`);
    for (const from of ['logs', path.join('code-server', 'code-server.log'), path.join('code-server', 'user-data', 'logs')]) {
      const src = path.join(env.runDir, from);
      if (existsSync(src)) cpSync(src, path.join(dir, from), { recursive: true });
    }
    console.log(`# failure details in ${path.relative(root, dir)}`);
  });

  after(async () => {
    await shutdown();
  });

  it('shows test and prod, and jukebox at prev 80% · latest 20% in test', { timeout: STEP_TIMEOUT_MS }, async () => {
    await wb.openView();
    await wb.widenSidebar(460);
    await poll('environments test and prod in the tree', async () => (await wb.envRow('test')) && (await wb.envRow('prod')));
    const row = await wb.waitForService('test', 'jukebox', (d) => d.includes('prev 80% · latest 20%'), 'at prev 80% · latest 20%');
    await wb.selectRow(row);
    await wb.waitForStatusBar(/jukebox · test 80\/20/);
    await wb.screenshot('tree-and-status-bar');
    if (process.env.KSC_UPDATE_SCREENSHOT === '1') {
      // README picture: the side bar and the left end of the status bar, in a short window.
      const size = wb.page.viewportSize() ?? { width: 1400, height: 900 };
      await wb.page.setViewportSize({ width: 1000, height: 380 });
      await poll('the workbench to fit the short window', async () => {
        const bar = await wb.page.locator('#workbench\\.parts\\.statusbar').boundingBox();
        return bar !== null && bar.y + bar.height <= 380;
      });
      await wb.page.screenshot({ path: path.join(root, 'media', 'screenshot.png'), clip: { x: 0, y: 0, width: 560, height: 380 } });
      await wb.page.setViewportSize(size);
    }
  });

  it('sets the canary to 35: one commit on the remote, then tree and status bar at 65/35', { timeout: STEP_TIMEOUT_MS }, async () => {
    const before = await remoteCommitCount();
    await openSetTraffic();
    await poll('the input box prefilled with 20', async () => (await wb.inputValue()) === '20');
    await wb.typeInInput('35');
    await wb.screenshot('set-traffic-35');
    await wb.pressEnter();
    await wb.waitForService('test', 'jukebox', (d) => d === 'prev 65% · latest 35%', 'at prev 65% · latest 35%');
    await wb.waitForStatusBar(/jukebox · test 65\/35/);
    assert.equal(await remoteCommitCount(), before + 1, 'exactly one new commit on the remote');
    assert.match(await remoteConfig(), /trafficPercent:\s*35\b/);
    await wb.screenshot('live-65-35');
  });

  it('opens the Grafana dashboard of jukebox', { timeout: STEP_TIMEOUT_MS }, async () => {
    const popup = wb.page.waitForEvent('popup', { timeout: 60_000 });
    await wb.runCommand('KServe Canary: Open Grafana dashboard');
    // The service is asked for unless the command knows it (jukebox is selected in the tree), and
    // the workbench may ask before it opens an outside link: answer whichever shows up.
    let opened = false;
    const page = popup.finally(() => {
      opened = true;
    });
    await wb.pickServiceUntil('jukebox', 'test', 'the dashboard to open', async () => {
      await wb.clickDialogButton(/^Open$/);
      return opened;
    });
    const dashboard = await page;
    await poll('the dashboard page to load', async () => dashboard.url().startsWith('http'));
    const url = new URL(dashboard.url());
    const routes = (await sandboxGet('/apis/route.openshift.io/v1/routes')) as { items: { metadata: { name: string }; spec: { host: string } }[] };
    const route = routes.items.find((r) => r.metadata.name === 'jukebox-grafana-route');
    assert.ok(route, 'the sandbox has the Grafana Route');
    assert.equal(url.hostname, route.spec.host, 'the dashboard is on the Route host');
    assert.match(url.pathname, /^\/d\/[^/]+/, `dashboard path in ${url}`);
    assert.equal(url.searchParams.get('var-model_name'), 'jukebox');
    assert.ok(
      externalRequests.some((r) => r.startsWith(`${url.origin}/d/`)),
      'the dashboard was requested (and stubbed)',
    );
    await wb.screenshot('grafana-opened');
    await dashboard.close();
  });

  it('refuses 150 with a message and changes nothing', { timeout: STEP_TIMEOUT_MS }, async () => {
    const head = await remoteHead();
    const file = readFileSync(path.join(env.workspace, configPath), 'utf8');
    await openSetTraffic();
    assert.equal(await wb.validationError(), '', 'the prefilled value is valid');
    await wb.typeInInput('150');
    const message = await poll('the validation error', () => wb.validationError());
    assert.match(message, /\b0\b.*\b100\b/, `validation message: ${message}`);
    await wb.screenshot('refused-150');
    await wb.pressEnter(); // refused while invalid
    await wb.closeQuickInput();
    assert.equal(await remoteHead(), head, 'no commit on the remote');
    assert.equal(readFileSync(path.join(env.workspace, configPath), 'utf8'), file, 'config.yaml untouched');
    await wb.waitForStatusBar(/jukebox · test 65\/35/);
  });

  it('promotes: latest 100% in the tree and the status bar', { timeout: STEP_TIMEOUT_MS }, async () => {
    await wb.runCommand('KServe Canary: Promote canary');
    await wb.pickServiceUntil(
      'jukebox',
      'test',
      'jukebox in test at latest 100%',
      async () => (await wb.serviceRow('test', 'jukebox'))?.description === 'latest 100%',
    );
    await wb.waitForStatusBar(/jukebox · test latest 100%/);
    assert.doesNotMatch(await remoteConfig(), /trafficPercent/);
    await wb.screenshot('promoted');
  });

  it('runs a 2-step progressive rollout (canary-plan.yaml 50 → 100): one commit per step, latest 100% at the end', { timeout: STEP_TIMEOUT_MS }, async () => {
    // The model's plan next to config.yaml (the chart does not read it), committed like any change.
    const planFile = path.join(env.workspace, 'model-deployments/test/jukebox/canary-plan.yaml');
    writeFileSync(planFile, 'steps:\n  - percent: 50\n    pause: 1s\n  - percent: 100\n');
    const inClone = (...args: string[]) => git('-C', env.workspace, '-c', 'user.name=e2e', '-c', 'user.email=e2e@example.invalid', ...args);
    await inClone('add', 'model-deployments/test/jukebox/canary-plan.yaml');
    await inClone('commit', '-m', 'jukebox/test: rollout plan 50 → 100');
    await inClone('push');
    // A known start: rolled back to 0%.
    await wb.runCommand('KServe Canary: Roll back canary');
    await wb.pickServiceUntil(
      'jukebox',
      'test',
      'jukebox in test at prev 100% · latest 0%',
      async () => (await wb.serviceRow('test', 'jukebox'))?.description === 'prev 100% · latest 0%',
    );
    const before = await remoteCommitCount();
    await wb.runCommand('KServe Canary: Start progressive rollout');
    let dialog = '';
    await wb.pickServiceUntil('jukebox', 'test', 'the rollout confirmation', async () => {
      dialog = await wb.page
        .locator('.monaco-dialog-box')
        .innerText()
        .catch(() => '');
      if (!/Start rollout/.test(dialog)) return false;
      await wb.screenshot('rollout-confirm');
      return wb.clickDialogButton(/^Start rollout$/);
    });
    assert.match(dialog, /jukebox in test/);
    assert.match(dialog, /50/);
    await wb.waitForService('test', 'jukebox', (d) => d === 'latest 100%', 'at latest 100% after the rollout');
    await poll('two rollout commits on the remote', async () => (await remoteCommitCount()) === before + 2);
    assert.doesNotMatch(await remoteConfig(), /trafficPercent/);
    assert.match(await git('--git-dir', env.sandbox.info.gitopsRemote, 'log', '-1', '--format=%B', 'HEAD'), /Canary-Rollout:/);
    await wb.screenshot('rollout-done');
  });

  it('runs the CLI in the integrated terminal: `kserve-canary status` shows jukebox at latest 100% in test', { timeout: STEP_TIMEOUT_MS }, async () => {
    // The terminal (node-pty in code-server) gets the server's KUBECONFIG, as README says.
    const out = path.join(env.runDir, 'terminal-status.txt');
    const quote = (p: string) => `'${p.replace(/'/g, `'\\''`)}'`;
    await wb.runCommand('Terminal: Create New Terminal');
    const terminal = wb.page.locator('.terminal-wrapper .xterm').first();
    await terminal.waitFor({ timeout: 60_000 });
    await terminal.click();
    // Written under another name and renamed: the file appears complete or not at all.
    await wb.page.keyboard.type(
      `${quote(process.execPath)} ${quote(path.join(root, 'bin', 'kserve-canary.js'))} status --gitops . > ${quote(`${out}.part`)} 2>&1; mv ${quote(`${out}.part`)} ${quote(out)}`,
    );
    await wb.page.keyboard.press('Enter');
    await poll('the status the terminal wrote', async () => existsSync(out));
    const text = readFileSync(out, 'utf8');
    assert.match(text, /^test\s+jukebox\s.*\b100\b.*\blive\b/m, `status in the terminal:\n${text}`);
    await wb.screenshot('terminal-status');
  });

  it('shows that the cluster is lost when the sandbox stops, and recovers when it is back', { timeout: STEP_TIMEOUT_MS }, async () => {
    const lost = /cannot be reached|unreachable|disconnected/i;
    assert.doesNotMatch(await wb.sidebarText(), lost, 'connected before the sandbox stops');
    await env.sandbox.stop();
    await poll('the view to say the cluster is lost', async () => lost.test(await wb.sidebarText()));
    await wb.screenshot('cluster-lost');
    await env.sandbox.restart();
    await poll('the view to drop the lost-cluster message', async () => !lost.test(await wb.sidebarText()));
    await wb.waitForService('test', 'jukebox', (d) => d === 'latest 100%', 'at latest 100% again');
    await wb.screenshot('cluster-back');
  });
});
