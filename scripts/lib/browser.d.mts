// Types of scripts/lib/browser.mjs.
import type { Browser, BrowserContext } from 'playwright-core';

export const CHROMIUM: string;
export function checkChromium(): void;
export function launchChromium(
  runDir: string,
  options?: { viewport?: { width: number; height: number } },
): Promise<{ browser: Browser; context: BrowserContext }>;
export function workbenchUrl(base: string, options: { folder?: string; extensionDevelopmentPath?: string; extensionTestsPath?: string }): string;
