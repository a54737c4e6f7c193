/**
 * The only door from src/ui to the workbench surfaces that interpret text: notifications,
 * modal dialogs, progress notifications, quick picks and markdown tooltips. Every text handed
 * over goes through src/core/sanitize.ts here, whole (template and data alike: the templates
 * hold no links of their own), so a caller cannot forget it. ESLint (eslint.config.mjs) forbids
 * the underlying vscode.window calls and `new MarkdownString` anywhere else in src/ui.
 * The last notifications are kept for the extension-host tests (testapi.ts).
 */
// `import =` compiles to a plain require: `import * as` would make esbuild copy every property
// of the vscode API into a namespace object per module, which costs milliseconds at activation.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import vscode = require('vscode');
import { labelText, markdownText, notificationText, type MarkdownText } from '../core/sanitize';

export type NoticeKind = 'error' | 'warning' | 'info' | 'modal' | 'progress';

/** What reached the workbench, after sanitising (test-only record). */
export interface Notice {
  kind: NoticeKind;
  text: string;
  detail?: string;
  items: string[];
}

const shown: Notice[] = [];
const KEEP = 50;

function record(n: Notice): void {
  shown.push(n);
  if (shown.length > KEEP) shown.splice(0, shown.length - KEEP);
}

/** Test-only: the last notifications, progress messages and dialogs, oldest first. */
export function recentNotices(): Notice[] {
  return shown.map((n) => ({ ...n, items: [...n.items] }));
}

function show(kind: 'error' | 'warning' | 'info', text: string, items: string[]): Thenable<string | undefined> {
  const safe = notificationText(text);
  record({ kind, text: safe, items });
  if (kind === 'error') return vscode.window.showErrorMessage(safe, ...items);
  if (kind === 'warning') return vscode.window.showWarningMessage(safe, ...items);
  return vscode.window.showInformationMessage(safe, ...items);
}

/** An error notification; resolves to the button chosen. Buttons are this code's own words. */
export function showError(text: string, ...items: string[]): Thenable<string | undefined> {
  return show('error', text, items);
}

export function showWarning(text: string, ...items: string[]): Thenable<string | undefined> {
  return show('warning', text, items);
}

export function showInfo(text: string, ...items: string[]): Thenable<string | undefined> {
  return show('info', text, items);
}

/** A modal question (warning style); resolves to the button chosen, undefined when dismissed. */
export function askModal(text: string, detail: string, ...items: string[]): Thenable<string | undefined> {
  const safe = notificationText(text);
  const safeDetail = notificationText(detail);
  record({ kind: 'modal', text: safe, detail: safeDetail, items });
  return vscode.window.showWarningMessage(safe, { modal: true, detail: safeDetail }, ...items);
}

/** Reports progress; every message is sanitised on its way. */
export type ReportProgress = (update: { message?: string; increment?: number }) => void;

/** A cancellable progress notification titled `title` while `task` runs. */
export function withNotificationProgress<T>(
  title: string,
  cancellable: boolean,
  task: (report: ReportProgress, token: vscode.CancellationToken) => Thenable<T>,
): Thenable<T> {
  const safeTitle = notificationText(title);
  record({ kind: 'progress', text: safeTitle, items: [] });
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: safeTitle, cancellable }, (progress, token) =>
    task((u) => {
      const message = u.message === undefined ? undefined : notificationText(u.message);
      if (message !== undefined) record({ kind: 'progress', text: `${safeTitle}: ${message}`, items: [] });
      progress.report({ ...(message !== undefined ? { message } : {}), ...(u.increment !== undefined ? { increment: u.increment } : {}) });
    }, token),
  );
}

/** A quick pick whose labels, descriptions and details render no `$(icon)` or line break from data; resolves to the original item. */
export async function pickOne<T extends vscode.QuickPickItem>(items: readonly T[], options: vscode.QuickPickOptions): Promise<T | undefined> {
  const shownItems = items.map((it, index) => ({
    label: labelText(it.label),
    ...(it.description !== undefined ? { description: labelText(it.description) } : {}),
    ...(it.detail !== undefined ? { detail: labelText(it.detail) } : {}),
    index,
  }));
  const picked = await vscode.window.showQuickPick(shownItems, {
    ...options,
    ...(options.title !== undefined ? { title: notificationText(options.title) } : {}),
    ...(options.placeHolder !== undefined ? { placeHolder: notificationText(options.placeHolder) } : {}),
  });
  return picked ? items[picked.index] : undefined;
}

/** A markdown tooltip from text composed with sanitize.ts's markdownText: untrusted, no HTML, no icons. */
export function markdownTooltip(text: MarkdownText): vscode.MarkdownString {
  const md = new vscode.MarkdownString(text, false);
  md.isTrusted = false;
  md.supportHtml = false;
  return md;
}

/** One of this extension's own commands, linked from a tooltip with its arguments. */
export interface CommandLink {
  title: string;
  command: `kserveCanary.${string}`;
  args: unknown[];
}

/**
 * markdownTooltip() plus links to our own commands: the tooltip is trusted for exactly those
 * commands (isTrusted.enabledCommands), so a link smuggled into the text still runs nothing.
 */
export function markdownTooltipWithLinks(text: MarkdownText, links: CommandLink[]): vscode.MarkdownString {
  const target = (l: CommandLink) =>
    `command:${l.command}?${encodeURIComponent(JSON.stringify(l.args)).replace(/[()]/g, (c) => `%${c.charCodeAt(0).toString(16)}`)}`;
  const md = new vscode.MarkdownString(`${text}\n\n${links.map((l) => `[${markdownText(l.title)}](${target(l)})`).join(' · ')}`, false);
  md.isTrusted = { enabledCommands: links.map((l) => l.command) };
  md.supportHtml = false;
  return md;
}
