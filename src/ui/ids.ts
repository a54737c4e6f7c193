/**
 * Ids of the contributed commands (package.json contributes.commands, same order). They are
 * registered by extension.ts during activate(), before the rest of the UI has loaded. No vscode.
 */
export const COMMAND_IDS = [
  'kserveCanary.setTraffic',
  'kserveCanary.promote',
  'kserveCanary.rollback',
  'kserveCanary.openGrafana',
  'kserveCanary.openConfig',
  'kserveCanary.refresh',
  'kserveCanary.selectKubeconfig',
  'kserveCanary.selectContext',
  'kserveCanary.pin',
  'kserveCanary.unpin',
  'kserveCanary.startSandbox',
  'kserveCanary.stopSandbox',
  'kserveCanary.showLog',
  'kserveCanary.sendTraffic',
  'kserveCanary.startRollout',
  'kserveCanary.openDashboard',
  'kserveCanary.followProposal',
] as const;

export type CommandId = (typeof COMMAND_IDS)[number];

export const VIEW_ID = 'kserveCanary.deployments';

/** The canary dashboard's webview panels (dashboard.ts; restored by the serializer extension.ts registers). */
export const DASHBOARD_VIEW_TYPE = 'kserveCanary.dashboard';
