/**
 * The "Canary Deployments" tree: [context →] environment → InferenceService → details
 * (traffic targets, URL, Argo CD Application, config.yaml, open pull-request proposals). Rows are cached by stable id so
 * a change to one service refreshes that row (and its children) only, and expanded rows
 * stay expanded.
 */
// `import =` compiles to a plain require: `import * as` would make esbuild copy every property
// of the vscode API into a namespace object per module, which costs milliseconds at activation.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import vscode = require('vscode');
import type { ServiceState } from '../cluster';
import { openableForgeUrl } from '../core/forge';
import { notificationText } from '../core/sanitize';
import type { Controller } from './controller';
import { markdownTooltip, markdownTooltipWithLinks, type CommandLink } from './notify';
import type { ProposalRow } from './proposals';
import {
  applicationIcon,
  applicationSummary,
  connectionText,
  orderedTraffic,
  serviceContextValue,
  serviceDescription,
  serviceLabel,
  serviceTooltip,
  trafficTargetRow,
  verdictIcon,
  verdictTitle,
  type IconSpec,
} from './present';

export type Node =
  | { kind: 'context'; id: string; context: string }
  | { kind: 'env'; id: string; env: string; context: string | undefined }
  | { kind: 'service'; id: string; key: string }
  | { kind: 'traffic'; id: string; key: string; revision: string | undefined; index: number }
  | { kind: 'url'; id: string; key: string }
  | { kind: 'app'; id: string; key: string }
  | { kind: 'config'; id: string; key: string }
  | { kind: 'proposal'; id: string; key: string; branch: string };

export function themeIcon(spec: IconSpec): vscode.ThemeIcon {
  return new vscode.ThemeIcon(spec.id, spec.color ? new vscode.ThemeColor(spec.color) : undefined);
}

export class CanaryTreeProvider implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<Node | Node[] | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  /** One instance per id: the tree view identifies elements by object. */
  private readonly nodes = new Map<string, Node>();
  /** Service keys shown under each environment node id, to tell updates from additions/removals. */
  private readonly shown = new Map<string, string[]>();
  private readonly subscription: vscode.Disposable;
  private readonly fetched = new vscode.EventEmitter<void>();
  private fetchedTimer: NodeJS.Timeout | undefined;
  /**
   * After the view fetched rows again (once the extension host has registered them). A refresh
   * makes the extension host forget the rows below what it refreshes until the view asks for them
   * again; a row clicked in that gap reaches onDidChangeSelection as an empty selection, while
   * `view.selection` (read from the clicked row's id) resolves once the rows are back.
   */
  readonly onDidFetchRows = this.fetched.event;
  view: vscode.TreeView<Node> | undefined;
  /** Test-only: the last refreshes asked of the view, `*` for the whole tree, else row ids. */
  readonly refreshes: string[] = [];
  /** The service pinned to the status bar (its row offers Unpin). */
  pinned: () => string | undefined = () => undefined;
  /** Open pull-request proposals of a service (ui/proposals.ts), one child row each; refreshServices after they change. */
  proposals: (env: string, model: string) => readonly ProposalRow[] = () => [];

  constructor(private readonly ctl: Controller) {
    this.subscription = ctl.onDidChange((e) => this.onChange(e.keys));
  }

  private node<T extends Node>(n: T): T {
    const existing = this.nodes.get(n.id);
    if (existing && existing.kind === n.kind) return existing as T;
    this.nodes.set(n.id, n);
    return n;
  }

  private envNodeId(env: string, context: string | undefined): string {
    return `env:${context ?? ''}/${env}`;
  }

  private fire(nodes: Node[] | undefined): void {
    this.refreshes.push(...(nodes ? nodes.map((n) => n.id) : ['*']));
    if (this.refreshes.length > 200) this.refreshes.splice(0, this.refreshes.length - 200);
    this.emitter.fire(nodes);
  }

  /** Redraws these services' rows (e.g. after a pin changed). */
  refreshServices(keys: string[]): void {
    this.onChange(keys);
  }

  private onChange(keys: string[] | undefined): void {
    this.updateMessage();
    if (!keys) {
      this.fire(undefined);
      return;
    }
    const changed: Node[] = [];
    for (const key of keys) {
      const s = this.ctl.get(key);
      const svcNode = this.nodes.get(`svc:${key}`);
      const shownIn = [...this.shown.entries()].find(([, ks]) => ks.includes(key))?.[0];
      if (s && svcNode && shownIn) {
        changed.push(svcNode);
        continue;
      }
      // Added or removed: refresh its environment (or everything when that row is not shown).
      const env = this.nodes.get(shownIn ?? this.envNodeId(s?.env ?? '', this.contextOf(s?.env)));
      if (!env) {
        this.fire(undefined);
        return;
      }
      changed.push(env);
    }
    if (changed.length) this.fire([...new Set(changed)]);
  }

  private contextOf(env: string | undefined): string | undefined {
    return this.ctl.environments().find((e) => e.env === env)?.context;
  }

  private updateMessage(): void {
    if (!this.view) return;
    const c = this.ctl.connection();
    const hasRows = this.ctl.services().some((s) => !s.missing);
    this.view.message = c && c.phase === 'disconnected' && hasRows ? notificationText(`${connectionText(c)} (showing the last known state)`) : undefined;
  }

  getChildren(element?: Node): Node[] {
    // The host registers these rows after this call returns (through promises): a timer runs after.
    this.fetchedTimer ??= setTimeout(() => {
      this.fetchedTimer = undefined;
      this.fetched.fire();
    }, 0);
    if (!element) return this.roots();
    switch (element.kind) {
      case 'context':
        return this.envNodes(element.context);
      case 'env':
        return this.serviceNodes(element);
      case 'service':
        return this.detailNodes(element.key);
      default:
        return [];
    }
  }

  private roots(): Node[] {
    const state = this.ctl.state();
    const hasLive = this.ctl.services().some((s) => !s.missing);
    if (state === 'no-gitops' || (state !== 'ok' && !hasLive)) return [];
    const contexts = [
      ...new Set(
        this.ctl
          .environments()
          .map((e) => e.context)
          .filter((c): c is string => !!c),
      ),
    ];
    if (contexts.length > 1) return contexts.map((context) => this.node({ kind: 'context', id: `ctx:${context}`, context }));
    return this.envNodes(undefined);
  }

  private envNodes(context: string | undefined): Node[] {
    return this.ctl
      .environments()
      .filter((e) => context === undefined || e.context === context)
      .map((e) => this.node({ kind: 'env', id: this.envNodeId(e.env, e.context), env: e.env, context: e.context }));
  }

  private serviceNodes(env: Extract<Node, { kind: 'env' }>): Node[] {
    const services = this.ctl.services().filter((s) => s.env === env.env);
    this.shown.set(
      env.id,
      services.map((s) => s.key),
    );
    return services.map((s) => this.node({ kind: 'service', id: `svc:${s.key}`, key: s.key }));
  }

  private detailNodes(key: string): Node[] {
    const s = this.ctl.get(key);
    if (!s) return [];
    const out: Node[] = orderedTraffic(s).map((t, index) =>
      this.node({ kind: 'traffic', id: `svc:${key}/traffic/${t.revisionName ?? `#${index}`}`, key, revision: t.revisionName, index }),
    );
    if (s.url) out.push(this.node({ kind: 'url', id: `svc:${key}/url`, key }));
    if (s.application) out.push(this.node({ kind: 'app', id: `svc:${key}/app`, key }));
    if (this.ctl.configPath(s.env, serviceLabel(s))) out.push(this.node({ kind: 'config', id: `svc:${key}/config`, key }));
    for (const p of this.proposals(s.env, serviceLabel(s)))
      out.push(this.node({ kind: 'proposal', id: `svc:${key}/proposal/${p.branch}`, key, branch: p.branch }));
    return out;
  }

  getParent(element: Node): Node | undefined {
    if (element.kind === 'env') return element.context && this.roots().some((r) => r.kind === 'context') ? this.nodes.get(`ctx:${element.context}`) : undefined;
    if (element.kind === 'context') return undefined;
    const s = this.ctl.get(element.key);
    if (element.kind === 'service') return s ? this.nodes.get(this.envNodeId(s.env, this.contextOf(s.env))) : undefined;
    return this.nodes.get(`svc:${element.key}`);
  }

  getTreeItem(n: Node): vscode.TreeItem {
    switch (n.kind) {
      case 'context': {
        const item = new vscode.TreeItem(n.context, vscode.TreeItemCollapsibleState.Expanded);
        item.iconPath = new vscode.ThemeIcon('server-environment');
        item.contextValue = 'context';
        return withId(item, n);
      }
      case 'env': {
        const item = new vscode.TreeItem(n.env, vscode.TreeItemCollapsibleState.Expanded);
        const ns = this.ctl.environments().find((e) => e.env === n.env && e.context === n.context)?.namespace;
        item.description = ns || undefined;
        item.tooltip = ns ? `Environment ${n.env}: namespace ${ns}` : `Environment ${n.env}`;
        item.iconPath = new vscode.ThemeIcon('layers');
        item.contextValue = 'environment';
        return withId(item, n);
      }
      case 'service':
        return this.serviceItem(n);
      default:
        return this.detailItem(n);
    }
  }

  private serviceItem(n: Extract<Node, { kind: 'service' }>): vscode.TreeItem {
    const s = this.ctl.get(n.key);
    if (!s) return withId(new vscode.TreeItem(n.key.split('/').pop() ?? n.key), n);
    const item = new vscode.TreeItem(serviceLabel(s), vscode.TreeItemCollapsibleState.Collapsed);
    const observed = this.ctl.observedView(s.key);
    item.description = serviceDescription(s, observed);
    item.tooltip = s.missing ? markdownTooltip(serviceTooltip(s, observed)) : markdownTooltipWithLinks(serviceTooltip(s, observed), [dashboardLink(s.key)]);
    item.iconPath = themeIcon(verdictIcon(s.verdict));
    item.contextValue = serviceContextValue(s, this.pinned() === s.key);
    item.accessibilityInformation = { label: `${serviceLabel(s)} in ${s.env}: ${serviceDescription(s)}, ${verdictTitle(s.verdict)}` };
    return withId(item, n);
  }

  private detailItem(n: Exclude<Node, { kind: 'context' | 'env' | 'service' }>): vscode.TreeItem {
    const s = this.ctl.get(n.key) as ServiceState | undefined;
    if (!s) return withId(new vscode.TreeItem('…'), n);
    switch (n.kind) {
      case 'traffic': {
        const ordered = orderedTraffic(s);
        const t = (n.revision !== undefined ? ordered.find((x) => x.revisionName === n.revision) : undefined) ?? ordered[n.index];
        const row = t ? trafficTargetRow(t) : { label: '…', description: '', tooltip: '' };
        const item = new vscode.TreeItem(row.label);
        item.description = row.description;
        item.tooltip = plainLines(row.tooltip);
        item.iconPath = new vscode.ThemeIcon(t?.latestRevision ? 'arrow-right' : 'history');
        item.contextValue = 'traffic';
        return withId(item, n);
      }
      case 'url': {
        const item = new vscode.TreeItem(notificationText(s.url ?? ''));
        item.description = 'URL';
        item.tooltip = notificationText(s.url ?? '');
        item.iconPath = new vscode.ThemeIcon('link');
        item.contextValue = 'url';
        return withId(item, n);
      }
      case 'app': {
        const a = s.application!;
        const item = new vscode.TreeItem(`Argo CD ${a.name}`);
        item.description = applicationSummary(a);
        item.tooltip =
          plainLines([a.healthMessage, a.operationMessage, a.revision ? `revision ${a.revision}` : undefined].filter(Boolean).join('\n')) || undefined;
        item.iconPath = themeIcon(applicationIcon(a));
        item.contextValue = 'application';
        return withId(item, n);
      }
      case 'config': {
        const file = this.ctl.configPath(s.env, serviceLabel(s))!;
        const item = new vscode.TreeItem('config.yaml');
        item.description = s.desired ? (s.desired.percent === undefined ? 'no canary' : `canary ${s.desired.percent}%`) : undefined;
        item.tooltip = file;
        item.resourceUri = vscode.Uri.file(file);
        item.iconPath = vscode.ThemeIcon.File;
        item.contextValue = 'config';
        item.command = { command: 'kserveCanary.openConfig', title: 'Open config.yaml', arguments: [n] };
        return withId(item, n);
      }
      case 'proposal': {
        const p = this.proposals(s.env, serviceLabel(s)).find((x) => x.branch === n.branch);
        const item = new vscode.TreeItem(notificationText(p?.label ?? `proposed · ${n.branch}`));
        item.description = p?.status ? notificationText(p.status) : undefined;
        item.tooltip = notificationText(p?.url ?? p?.hint ?? n.branch);
        item.iconPath = new vscode.ThemeIcon('git-pull-request');
        // "Follow proposal" (package.json) is offered on a proposal nothing follows yet.
        item.contextValue = p?.following ? 'proposal.following' : 'proposal';
        const page = p?.url ? openableForgeUrl(p.url) : undefined;
        if (page) item.command = { command: 'vscode.open', title: 'Open the pull request page', arguments: [vscode.Uri.parse(page, true)] };
        return withId(item, n);
      }
    }
  }

  dispose(): void {
    this.subscription.dispose();
    this.emitter.dispose();
    clearTimeout(this.fetchedTimer);
    this.fetched.dispose();
  }
}

/** The tooltips' link to the service's canary dashboard. */
export function dashboardLink(key: string): CommandLink {
  return { title: 'Open canary dashboard', command: 'kserveCanary.openDashboard', args: [key] };
}

/** Plain-text tooltip lines from the cluster: each line sanitised (no control or bidi characters), our line breaks kept. */
function plainLines(text: string): string {
  return text
    .split('\n')
    .map((l) => notificationText(l))
    .join('\n');
}

function withId(item: vscode.TreeItem, n: Node): vscode.TreeItem {
  item.id = n.id;
  return item;
}
