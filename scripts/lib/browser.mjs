// Debian chromium through playwright-core (Playwright's own browser downloads are out of reach here).
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';

export const CHROMIUM = process.env.KSC_CHROMIUM ?? '/usr/bin/chromium';

export function checkChromium() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is missing (looked for ${CHROMIUM}). Install it with: apt-get install -y chromium  (or set KSC_CHROMIUM to a Chromium binary).`);
  }
}

/** Launches headless chromium with its HOME / XDG folders under `runDir`. */
export async function launchChromium(runDir, { viewport = { width: 1400, height: 900 } } = {}) {
  checkChromium();
  const { chromium } = await import('playwright-core');
  const home = path.join(runDir, 'chromium-home');
  const env = {
    ...process.env,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    XDG_DATA_HOME: path.join(home, '.local', 'share'),
    XDG_RUNTIME_DIR: path.join(home, 'runtime'),
  };
  for (const d of [env.XDG_CONFIG_HOME, env.XDG_CACHE_HOME, env.XDG_DATA_HOME, env.XDG_RUNTIME_DIR]) mkdirSync(d, { recursive: true, mode: 0o700 });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    env,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-dev-shm-usage',
    ],
  });
  const context = await browser.newContext({ viewport });
  return { browser, context };
}

/** The page URL that opens `folder` and, when given, loads an extension / tests in development mode. */
export function workbenchUrl(base, { folder, extensionDevelopmentPath, extensionTestsPath }) {
  const u = new URL(base);
  const host = u.host;
  const params = new URLSearchParams();
  if (folder) params.set('folder', folder);
  const payload = [];
  if (extensionDevelopmentPath) payload.push(['extensionDevelopmentPath', `vscode-remote://${host}${extensionDevelopmentPath}`]);
  if (extensionTestsPath) payload.push(['extensionTestsPath', `vscode-remote://${host}${extensionTestsPath}`]);
  if (payload.length) params.set('payload', JSON.stringify(payload));
  return `${u.origin}/?${params.toString()}`;
}
