/**
 * The one sanitising boundary for text that comes from outside (cluster objects, git, Prometheus,
 * plugins) on its way to a person. Four targets, four functions, each returning a branded string
 * that only this module makes, so a consumer that asks for the brand cannot be handed raw text:
 *
 * - `notificationText`: notifications, progress messages and modal dialogs. VS Code turns
 *   `[label](command:…)` / `[label](https://…)` in a notification into a working link; here the
 *   `](` is broken (`] (`) so no link syntax survives, line breaks become spaces and control and
 *   bidi characters become U+FFFD. Bare URLs stay plain text (notifications link only the
 *   bracket form).
 * - `terminalText`: the CLI's stdout/stderr. C0 controls except newline and tab, DEL, C1, and the
 *   bidi/line-separator characters are written as the visible escape `\u001b` (six characters),
 *   so no ESC sequence, OSC 8 hyperlink, title change, screen clear or carriage-return overwrite
 *   reaches the terminal. The escape is JSON's own: JSON text stays valid JSON of the same value.
 * - `markdownText`: a fragment inside a markdown tooltip. Markdown punctuation is backslash-escaped
 *   (no links, HTML, emphasis, tables), `:` and `@` too (no autolinks of `https://…`, `www.…` or
 *   e-mail addresses), every line break (`\r\n`, `\r`, `\n`) becomes a space, controls U+FFFD.
 * - `labelText`: quick-pick labels/descriptions/details and status-bar text, which render
 *   `$(icon)`: each such icon reference is escaped (`\$(icon)`, shown literally), line breaks
 *   become spaces, controls U+FFFD.
 *
 * Pure: no vscode, no I/O.
 */

declare const brand: unique symbol;
/** Text made safe for one target; only this module produces values of these types. */
export type SafeText<Target extends string> = string & { readonly [brand]: Target };
export type NotificationText = SafeText<'notification'>;
export type TerminalText = SafeText<'terminal'>;
export type MarkdownText = SafeText<'markdown'>;
export type LabelText = SafeText<'label'>;

/**
 * Characters no target shows as themselves: C0 (newline and tab are handled per target), DEL,
 * C1, the Arabic letter mark, bidi marks/embeddings/overrides/isolates (they reorder what is
 * shown), line and paragraph separators, the BOM / zero-width no-break space.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g;
const LINE_BREAKS = /\r\n|[\r\n]/g;
const REPLACEMENT = '\ufffd';

/** `\u001b` for ESC: JSON's escape, readable in a terminal and a no-op for a JSON parser. */
function visibleEscape(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** One line of plain text: line breaks and tabs are spaces, every other control U+FFFD. */
function oneLinePlain(text: string): string {
  return text.replace(LINE_BREAKS, ' ').replace(/\t/g, ' ').replace(CONTROL, REPLACEMENT);
}

/** For notifications, progress titles/messages and modal dialogs (see the module comment). */
export function notificationText(text: string): NotificationText {
  // `[label](target)` is VS Code's link form in notifications; without the adjacent `](` there is
  // no link, and the reader still sees both the label and where it pointed.
  return oneLinePlain(text).replace(/\]\s*\(/g, '] (') as NotificationText;
}

/** For the terminal (see the module comment). Newline and tab are kept. */
export function terminalText(text: string): TerminalText {
  return text.replace(CONTROL, visibleEscape) as TerminalText;
}

/** For a fragment of a markdown tooltip (see the module comment). */
export function markdownText(text: string): MarkdownText {
  return oneLinePlain(text).replace(/[\\`*_{}[\]()#+\-.!|<>~$&:@"'=]/g, (c) => '\\' + c) as MarkdownText;
}

/** A reference to a product icon as VS Code reads it in labels: `$(name)`, `$(name~spin)`. */
const ICON = /\$\([A-Za-z0-9-]+(?:~[A-Za-z]+)?\)/g;

/** For quick-pick labels/descriptions/details and status-bar text (see the module comment). */
export function labelText(text: string): LabelText {
  // `\$(x)` is shown as `$(x)`; data that is already `\$(x)` becomes `\\$(x)`, shown as `\$(x)`.
  return oneLinePlain(text).replace(ICON, (m) => `\\${m}`) as LabelText;
}
