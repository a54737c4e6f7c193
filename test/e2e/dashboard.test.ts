// The canary dashboard in code-server (issue 16), on the setup `npm start` makes by default:
// inference endpoints and the sandbox's Prometheus (kserveCanary.prometheus.url in the user settings): open
// it from the palette on test/jukebox, see both revisions at 80/20 and the commit markers, send
// test traffic from its button, and see both revisions' series arrive. Screenshots in the dark
// and the light theme (media/dashboard.png, media/dashboard-light.png with --update-screenshot); the
// light one after a window reload, which the panel's serializer restores.
import * as assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Frame } from 'playwright-core';
import { launchChromium, workbenchUrl } from '../../scripts/lib/browser.mjs';
import { exitOnSignals, onShutdown, removeDir, root, shutdown, tempRunDir } from '../../scripts/lib/run.mjs';
import { launch, type Launched } from '../../scripts/start.mjs';
import { poll, Workbench } from './workbench';

const STEP_TIMEOUT_MS = 180_000;
const screenshotDir = path.join(root, 'test-results', 'screenshots', 'dashboard');
exitOnSignals();

let env: Launched;
let wb: Workbench;
let browser: Browser;

function userSettings(change: Record<string, unknown>): void {
  const file = path.join(env.runDir, 'code-server', 'user-data', 'User', 'settings.json');
  const now = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  writeFileSync(file, `${JSON.stringify({ ...now, ...change }, null, 2)}\n`);
}

/** The dashboard webview's document (VS Code nests it in two iframes). */
async function dashboard(): Promise<Frame> {
  return poll('the dashboard webview', async () => {
    for (const f of wb.page.frames()) {
      if (
        (await f
          .locator('#charts')
          .count()
          .catch(() => 0)) > 0 &&
        (await f
          .locator('#revisions')
          .count()
          .catch(() => 0)) > 0
      )
        return f;
    }
    return undefined;
  });
}

async function text(f: Frame, selector: string): Promise<string> {
  return (await f.locator(selector).allInnerTexts()).join('\n');
}

/** Rows of the table with this caption prefix: header cells, then each row's cells. */
async function table(f: Frame, caption: string): Promise<string[][]> {
  // A string: this file is compiled without the DOM library.
  return f.evaluate(`(() => {
    const t = [...document.querySelectorAll('table')].find((x) => x.caption && x.caption.textContent.startsWith(${JSON.stringify(caption)}));
    return t ? [...t.rows].map((r) => [...r.cells].map((x) => x.textContent || '')) : [];
  })()`) as Promise<string[][]>;
}

async function shot(name: string, mediaName?: string): Promise<void> {
  const file = await wb.screenshot(name);
  if (mediaName && process.env.KSC_UPDATE_SCREENSHOT === '1') copyFileSync(file, path.join(root, 'media', mediaName));
}

describe('the canary dashboard in code-server', { timeout: 15 * 60_000 }, () => {
  before(async () => {
    const runDir = tempRunDir('browser-dashboard');
    onShutdown(() => removeDir(runDir));
    env = await launch({ runDir, port: 0, inference: true, log: (m) => console.log(`# ${m}`) });
    assert.ok(env.sandbox.info.prometheusUrl, 'the sandbox serves Prometheus');
    // launch() with inference points the user settings at the sandbox's Prometheus, as npm start does.
    const file = path.join(env.runDir, 'code-server', 'user-data', 'User', 'settings.json');
    assert.equal((JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>)['kserveCanary.prometheus.url'], env.sandbox.info.prometheusUrl);
    userSettings({ 'workbench.colorTheme': 'Default Dark Modern' });
    const chromium = await launchChromium(runDir);
    browser = chromium.browser;
    onShutdown(() => browser.close().catch(() => {}));
    // Nothing but loopback: the webview must not reach the network (its CSP forbids it too).
    const external: string[] = [];
    await chromium.context.route(
      (url) => !['127.0.0.1', 'localhost'].includes(url.hostname) && url.protocol !== 'vscode-webview:',
      (route) => {
        external.push(route.request().url());
        return route.abort();
      },
    );
    const page = await chromium.context.newPage();
    await page.setViewportSize({ width: 1400, height: 1000 });
    wb = new Workbench(page, chromium.context, screenshotDir);
    await page.goto(workbenchUrl(env.url, { folder: env.workspace }));
    await wb.waitReady();
  });
  after(async () => {
    await shutdown();
  });

  it('opens from the palette on the selected test/jukebox: both revisions at 80/20 and commit markers', { timeout: STEP_TIMEOUT_MS }, async () => {
    await wb.openView();
    const row = await wb.waitForService('test', 'jukebox', (d) => d.includes('prev 80% · latest 20%'), 'at prev 80% · latest 20%');
    await wb.selectRow(row);
    await wb.waitForStatusBar(/jukebox · test 80\/20/);
    await wb.runCommand('KServe Canary: Open canary dashboard');
    const f = await dashboard();
    await poll('both revisions at 80/20 in the header', async () => {
      const t = await text(f, '#revisions li');
      return /jukebox-predictor-00001[^\n]*: 80%/.test(t) && /jukebox-predictor-00002[^\n]*latest: 20%/.test(t);
    });
    assert.match(await text(f, '#title'), /jukebox · test/);
    await f.locator('button[data-window="15m"]').click();
    await poll('the 15m window', async () => (await f.locator('button[data-window="15m"]').getAttribute('aria-pressed')) === 'true');
    await poll('a commit marker on the split chart', async () => (await f.locator('#chart-split .marker-commit:not([hidden])').count()) > 0);
    assert.match(await text(f, '#events'), /commit [0-9a-f]{7}/);
  });

  it("Send test traffic from the dashboard: both revisions' series arrive", { timeout: STEP_TIMEOUT_MS }, async () => {
    const f = await dashboard();
    await f.locator('button[data-command="kserveCanary.sendTraffic"]').click();
    await poll('the rate input box', () => wb.inputBoxShowing());
    await wb.typeInInput('20');
    await wb.pressEnter();
    await poll('the duration input box', async () => (await wb.inputBoxShowing()) && (await wb.inputValue()) === '30s');
    await wb.typeInInput('20s');
    await wb.pressEnter();
    await poll('the confirmation, answered', () => wb.clickDialogButton(/^Send$/));
    await f.locator('#table-toggle').click();
    const rates = await poll(
      'request rates of both revisions',
      async () => {
        const t = await table(f, 'Request rate');
        const head = t[0] ?? [];
        const cols = ['jukebox-predictor-00001', 'jukebox-predictor-00002'].map((r) => head.indexOf(r));
        if (cols.some((c) => c < 0)) return undefined;
        const positive = (c: number) => t.slice(1).some((r) => Number(r[c]) > 0);
        return cols.every(positive) ? t : undefined;
      },
      120_000,
    );
    assert.ok(rates.length > 1);
    const split = await table(f, 'Traffic split');
    assert.ok(split[0]?.includes('jukebox-predictor-00001 observed') && split[0]?.includes('jukebox-predictor-00002 observed'), JSON.stringify(split[0]));
    await f.locator('#table-toggle').click();
    await poll('the charts back', async () => (await f.locator('#chart-rate canvas').count()) > 0);
    await shot('dashboard-dark', 'dashboard.png');
  });

  it('a commit marker shows the commit: config.yaml before and at it', { timeout: STEP_TIMEOUT_MS }, async () => {
    const f = await dashboard();
    await f.locator('#chart-split .marker-commit:not([hidden])').last().click();
    await poll(
      'the diff tab of the commit',
      async () => (await wb.page.locator('.tabs-container .tab', { hasText: /config\.yaml @ [0-9a-f]{7}/ }).count()) > 0,
    );
    await shot('dashboard-commit');
  });

  it('follows the light theme, restored after a window reload', { timeout: STEP_TIMEOUT_MS }, async () => {
    // The theme by the user setting, then a reload: the workbench applies it as it starts, and the
    // panel comes back by its serializer (nobody opens it again).
    userSettings({ 'workbench.colorTheme': 'Default Light Modern' });
    await wb.page.reload();
    await wb.waitReady();
    const f = await dashboard();
    await poll('the webview in the light theme', async () => (await f.locator('body.vscode-light').count()) > 0);
    await poll('the charts drawn', async () => (await f.locator('#chart-split canvas').count()) > 0);
    await shot('dashboard-light', 'dashboard-light.png');
  });
});
