/**
 * What activate() returns. TEST-ONLY: the extension-host tests read the tree and the status
 * bar through it; it is not a public API and may change without notice.
 */
import type { ConnectionState, ServiceState } from '../cluster';
import type { DashboardResources, DashboardSnapshot } from './dashboard';
import type { Notice } from './notify';
import type { Settings } from './settings';

export interface TreeRow {
  id: string;
  /** 0 = root (environment or context). */
  depth: number;
  label: string;
  description: string | undefined;
  contextValue: string | undefined;
  /** Markdown source or plain text. */
  tooltip: string | undefined;
  /** The commands a markdown tooltip's links may run (isTrusted.enabledCommands); undefined: none. */
  tooltipCommands?: readonly string[];
  /** Codicon id of a ThemeIcon. */
  icon: string | undefined;
}

export interface StatusBarSnapshot {
  text: string;
  visible: boolean;
  tooltip: string | undefined;
  tooltipCommands?: readonly string[];
  warning: boolean;
  accessibility: string | undefined;
  command: string | undefined;
}

export interface KserveCanaryApi {
  /** Test-only hooks. */
  test: {
    /** Duration of the activate() call itself (module loading excluded). */
    activateMs(): number;
    whenStarted(): Promise<void>;
    /** The welcome-view state (`kserveCanary.state` context key). */
    state(): string;
    connection(): ConnectionState | undefined;
    /** Every row of the tree, depth-first, expanded 4 levels deep. */
    rows(): Promise<TreeRow[]>;
    viewMessage(): string | undefined;
    statusBar(): StatusBarSnapshot;
    /** As if this service's row were selected in the tree. */
    select(key: string | undefined): void;
    /** Pretend the workspace is (un)trusted; undefined = the real value. */
    setTrustOverride(v: boolean | undefined): void;
    services(): ServiceState[];
    gitopsRoot(): string | undefined;
    /** Folder of the extension's log files (the "KServe Canary" LogOutputChannel writes there). */
    logDir(): string;
    /** The last refreshes the tree asked for: `*` = whole tree, else the ids of the rows refreshed. */
    refreshes(): string[];
    /** The settings as the extension reads them now (restricted ones without workspace values when untrusted). */
    settings(): Settings;
    /** The last notifications, progress messages and dialogs, as handed to the workbench (sanitised). */
    notices(): Notice[];
    /** The open canary dashboard panels (issue 16), with how many models each has loaded. */
    dashboards(): DashboardSnapshot[];
    /** Panels, scheduled refreshes and listeners the dashboards hold now (leak checks). */
    dashboardResources(): DashboardResources;
  };
}
