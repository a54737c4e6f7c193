// Drives the code-server workbench in Chromium the way a person does: activity bar, tree rows,
// F1 palette, quick picks, input boxes, status bar. Selectors are VS Code's own DOM classes.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { untilTruthy } from '../poll';

export interface TreeRow {
  index: number;
  level: number;
  expanded: boolean | undefined;
  label: string;
  description: string;
}

const SIDEBAR = '#workbench\\.parts\\.sidebar';
const STATUSBAR = '#workbench\\.parts\\.statusbar';
const QUICK_INPUT = '.quick-input-widget';
const QUICK_INPUT_BOX = '.quick-input-widget .quick-input-box input';

/** Generous: the workbench, the extension host and the sandbox all run on a 2-core machine. */
export const UI_TIMEOUT_MS = 60_000;

/** Waits for `fn` to return a truthy value (test/poll.ts, the one polling helper). */
export async function poll<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = UI_TIMEOUT_MS): Promise<T> {
  return (await untilTruthy(what, fn, timeoutMs, 250)) as T;
}

export class Workbench {
  private shot = 0;

  constructor(
    readonly page: Page,
    readonly context: BrowserContext,
    private readonly screenshotDir: string,
  ) {
    mkdirSync(screenshotDir, { recursive: true });
  }

  async waitReady(): Promise<void> {
    await this.page.locator('.monaco-workbench').waitFor({ timeout: UI_TIMEOUT_MS });
    await this.page.locator(STATUSBAR).waitFor({ timeout: UI_TIMEOUT_MS });
  }

  /** Saves test-results/screenshots/NN-name.png and returns its path. */
  async screenshot(name: string): Promise<string> {
    this.shot += 1;
    const file = path.join(this.screenshotDir, `${String(this.shot).padStart(2, '0')}-${name}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  /** Opens the "KServe Canary" container from the activity bar (once; a second click would close it). */
  async openView(): Promise<void> {
    const item = this.page.locator('.part.activitybar [aria-label^="KServe Canary"]').first();
    await item.waitFor({ timeout: UI_TIMEOUT_MS });
    const title = this.page.locator(`${SIDEBAR} .composite.title`);
    const open =
      (await title.count()) > 0 &&
      /KServe Canary/i.test(
        await title
          .first()
          .innerText()
          .catch(() => ''),
      );
    if (!open) await item.click();
    await poll('the KServe Canary side bar', async () => /KServe Canary|Canary Deployments/i.test(await this.sidebarText()));
  }

  /** Drags the side bar's edge so tree descriptions fit (screenshots read better). */
  async widenSidebar(width: number): Promise<void> {
    const box = await this.page.locator(SIDEBAR).boundingBox();
    if (!box || box.width >= width) return;
    const y = box.y + box.height / 2;
    await this.page.mouse.move(box.x + box.width - 1, y);
    await this.page.mouse.down();
    await this.page.mouse.move(box.x + width, y, { steps: 5 });
    await this.page.mouse.up();
  }

  async sidebarText(): Promise<string> {
    return this.page.locator(SIDEBAR).innerText({ timeout: 5_000 });
  }

  /** The rows of the tree currently rendered in the side bar, in display order. */
  async treeRows(): Promise<TreeRow[]> {
    return this.page.locator(`${SIDEBAR} .monaco-list-row`).evaluateAll((rows) =>
      rows
        .map((r) => {
          const expandedAttr = r.getAttribute('aria-expanded');
          return {
            index: Number(r.getAttribute('data-index') ?? -1),
            level: Number(r.getAttribute('aria-level') ?? 0),
            expanded: expandedAttr === null ? undefined : expandedAttr === 'true',
            label: (r.querySelector('.label-name')?.textContent ?? '').trim(),
            description: (r.querySelector('.label-description')?.textContent ?? '').trim(),
          };
        })
        .sort((a, b) => a.index - b.index),
    );
  }

  private rowLocator(row: TreeRow): Locator {
    return this.page.locator(`${SIDEBAR} .monaco-list-row[data-index="${row.index}"]`);
  }

  /** The top-level row of an environment (label is the environment name). */
  async envRow(env: string): Promise<TreeRow | undefined> {
    const rows = await this.treeRows();
    const minLevel = Math.min(...rows.map((r) => r.level));
    return rows.find((r) => r.label === env && (r.level === minLevel || r.level <= 2));
  }

  /** Expands the environment's row if needed, and returns the service row below it. */
  async serviceRow(env: string, model: string): Promise<TreeRow | undefined> {
    const e = await this.envRow(env);
    if (!e) return undefined;
    if (e.expanded === false) {
      await this.rowLocator(e).locator('.monaco-tl-twistie').click();
      return undefined; // read again on the next poll
    }
    const rows = await this.treeRows();
    const start = rows.findIndex((r) => r.index === e.index);
    for (const r of rows.slice(start + 1)) {
      if (r.level <= e.level) break;
      if (r.level === e.level + 1 && r.label === model) return r;
    }
    return undefined;
  }

  /** Waits until env/model's description satisfies `want`; returns the row. */
  async waitForService(env: string, model: string, want: (description: string) => boolean, what: string): Promise<TreeRow> {
    return poll(`tree row ${model} under ${env} ${what}`, async () => {
      const r = await this.serviceRow(env, model);
      return r && want(r.description) ? r : undefined;
    });
  }

  async selectRow(row: TreeRow): Promise<void> {
    await this.rowLocator(row).locator('.label-name').click();
  }

  /** Text of every status bar entry. */
  async statusBarItems(): Promise<string[]> {
    return this.page
      .locator(`${STATUSBAR} .statusbar-item`)
      .evaluateAll((items) => items.map((i) => (i.textContent ?? '').replace(/\s+/g, ' ').trim()).filter(Boolean));
  }

  async waitForStatusBar(re: RegExp): Promise<string> {
    return poll(`a status bar entry matching ${re}`, async () => (await this.statusBarItems()).find((t) => re.test(t)));
  }

  /** F1, then runs the command with this palette title. */
  async runCommand(title: string): Promise<void> {
    await this.closeQuickInput();
    await this.page.keyboard.press('F1');
    const input = this.page.locator(QUICK_INPUT_BOX);
    await input.waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
    await input.fill(`>${title}`);
    const row = this.page.locator(`${QUICK_INPUT} .quick-input-list .monaco-list-row`, { hasText: title }).first();
    await row.waitFor({ timeout: UI_TIMEOUT_MS });
    await row.click();
  }

  /** Screen-reader labels of the quick pick rows (label, description, detail joined by commas). */
  private async pickRows(): Promise<{ rows: Locator; labels: string[] }> {
    const rows = this.page.locator(`${QUICK_INPUT} .quick-input-list .monaco-list-row`);
    // A closed quick input (or a list hidden behind an input box) keeps its last rows in the DOM.
    if (
      !(await this.page
        .locator(QUICK_INPUT)
        .isVisible()
        .catch(() => false))
    )
      return { rows, labels: [] };
    const labels = await rows.evaluateAll((els) => els.map((e) => (e.checkVisibility() ? (e.getAttribute('aria-label') ?? e.textContent ?? '') : '')));
    return { rows, labels };
  }

  /** Picks the quick pick row whose label matches every pattern. */
  async pick(...patterns: RegExp[]): Promise<void> {
    const row = await poll(`a quick pick row matching ${patterns.join(' and ')}`, async () => {
      const { rows, labels } = await this.pickRows();
      const i = labels.findIndex((t) => patterns.every((p) => p.test(t)));
      return i >= 0 ? rows.nth(i) : undefined;
    });
    await row.click();
  }

  /**
   * A command on a service asks which one unless it knows (e.g. the row selected in the tree).
   * Until `next()` holds (the command's next prompt or its effect), picks `model` in `env`
   * whenever the service list shows.
   */
  async pickServiceUntil(model: string, env: string, what: string, next: () => Promise<boolean>): Promise<void> {
    await poll(what, async () => {
      const { rows, labels } = await this.pickRows();
      const i = labels.findIndex((t) => t.startsWith(`${model}, ${env} ·`));
      if (i >= 0) await rows.nth(i).click();
      return next();
    });
  }

  /** True when an input box (not a list) waits for text. */
  async inputBoxShowing(): Promise<boolean> {
    if (
      !(await this.page
        .locator(QUICK_INPUT_BOX)
        .isVisible()
        .catch(() => false))
    )
      return false;
    return (await this.pickRows()).labels.every((l) => l === '');
  }

  /** Replaces the input box's value with `text` (typed key by key, as a person would). */
  async typeInInput(text: string): Promise<void> {
    const input = this.page.locator(QUICK_INPUT_BOX);
    await input.waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
    await input.press('Control+A');
    await input.press('Backspace');
    await input.pressSequentially(text);
  }

  async inputValue(): Promise<string> {
    return this.page.locator(QUICK_INPUT_BOX).inputValue();
  }

  /** The input box's validation error, or '' while the value is accepted (the prompt shows then). */
  async validationError(): Promise<string> {
    if (
      !(await this.page
        .locator(`${QUICK_INPUT} .quick-input-box .monaco-inputbox.error`)
        .isVisible()
        .catch(() => false))
    )
      return '';
    return (
      await this.page
        .locator(`${QUICK_INPUT} .quick-input-message`)
        .innerText()
        .catch(() => '')
    ).trim();
  }

  async pressEnter(): Promise<void> {
    await this.page.locator(QUICK_INPUT_BOX).press('Enter');
  }

  async closeQuickInput(): Promise<void> {
    if (
      await this.page
        .locator(QUICK_INPUT)
        .isVisible()
        .catch(() => false)
    ) {
      await this.page.keyboard.press('Escape');
      await this.page
        .locator(QUICK_INPUT)
        .waitFor({ state: 'hidden', timeout: 10_000 })
        .catch(() => {});
    }
  }

  /** Text of the visible notification toasts. */
  async notifications(): Promise<string[]> {
    return this.page.locator('.notification-toast').evaluateAll((els) => els.map((e) => (e.textContent ?? '').replace(/\s+/g, ' ').trim()));
  }

  /** Clicks a button of a modal dialog when one is showing; returns whether it did. */
  async clickDialogButton(label: RegExp): Promise<boolean> {
    const box = this.page.locator('.monaco-dialog-box');
    if (!(await box.isVisible().catch(() => false))) return false;
    await box.locator('.monaco-button', { hasText: label }).first().click();
    return true;
  }
}
