/**
 * Status bar item `$(icon) jukebox · test 80/20` for the pinned service, else the one
 * selected in the tree. Clicking it runs Set canary traffic on that service.
 */
// `import =` compiles to a plain require: `import * as` would make esbuild copy every property
// of the vscode API into a namespace object per module, which costs milliseconds at activation.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import vscode = require('vscode');
import { labelText } from '../core/sanitize';
import type { Controller } from './controller';
import { markdownTooltipWithLinks } from './notify';
import { dashboardLink } from './tree';
import { statusBarAccessibility, statusBarText, statusBarTooltip, statusBarWarning, verdictIcon } from './present';

const PIN_KEY = 'kserveCanary.pinned';

export class CanaryStatusBar implements vscode.Disposable {
  readonly item: vscode.StatusBarItem;
  private selectedKey: string | undefined;
  /** Whether the item is shown (StatusBarItem has no getter for it). */
  visible = false;
  private readonly subscription: vscode.Disposable;
  private readonly pinEmitter = new vscode.EventEmitter<string[]>();
  /** Fires with the keys of the services pinned or unpinned. */
  readonly onDidChangePin = this.pinEmitter.event;

  constructor(
    private readonly ctl: Controller,
    private readonly memento: vscode.Memento,
  ) {
    this.item = vscode.window.createStatusBarItem('kserveCanary.status', vscode.StatusBarAlignment.Left, 40);
    this.item.name = 'KServe Canary';
    this.subscription = ctl.onDidChange((e) => {
      const key = this.key();
      if (!e.keys || (key && e.keys.includes(key))) this.update();
    });
  }

  /** The service shown: pinned, else selected. */
  key(): string | undefined {
    return this.memento.get<string>(PIN_KEY) ?? this.selectedKey;
  }

  /** The pinned service, if any. */
  pinned(): string | undefined {
    return this.memento.get<string>(PIN_KEY);
  }

  /** Pins `key` (undefined: unpins); fires onDidChangePin with the services whose pin changed. */
  async pin(key: string | undefined): Promise<void> {
    const before = this.pinned();
    await this.memento.update(PIN_KEY, key);
    this.publishPin();
    this.pinEmitter.fire([before, key].filter((k): k is string => k !== undefined));
    this.update();
  }

  /** The service selected in the tree, if any. */
  get selected(): string | undefined {
    return this.selectedKey;
  }

  /** The `kserveCanary.hasPin` context key (Unpin in the palette). */
  publishPin(): void {
    void vscode.commands.executeCommand('setContext', 'kserveCanary.hasPin', this.pinned() !== undefined);
  }

  select(key: string | undefined): void {
    this.selectedKey = key;
    this.update();
  }

  update(): void {
    const key = this.key();
    const s = key ? this.ctl.get(key) : undefined;
    if (!s || !this.ctl.settings.statusBarVisible) {
      this.item.hide();
      this.visible = false;
      return;
    }
    const c = this.ctl.connection();
    const offline = c?.phase === 'disconnected';
    // The text renders `$(icon)`: the model and environment come from git, so they are escaped.
    this.item.text = `$(${offline ? 'debug-disconnect' : verdictIcon(s.verdict).id}) ${labelText(statusBarText(s))}`;
    this.item.tooltip = markdownTooltipWithLinks(statusBarTooltip(s, this.ctl.observedView(s.key), offline), [dashboardLink(s.key)]);
    this.item.backgroundColor = statusBarWarning(s) || offline ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.command = { command: 'kserveCanary.setTraffic', title: 'Set canary traffic', arguments: [s.key] };
    this.item.accessibilityInformation = { label: statusBarAccessibility(s), role: 'button' };
    this.item.show();
    this.visible = true;
  }

  dispose(): void {
    this.subscription.dispose();
    this.pinEmitter.dispose();
    this.item.dispose();
  }
}
