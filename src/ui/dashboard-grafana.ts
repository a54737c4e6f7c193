/**
 * Where Open Grafana dashboard opens (issue 16): in an editor tab (VS Code's built-in Simple
 * Browser, so the dashboard sits beside config.yaml) or outside, in the browser. Grafana refuses
 * to be framed unless its grafana.ini sets `allow_embedding = true`: the question says so, since
 * a blank tab is what that refusal looks like, and the outside choice stays.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
import vscode = require('vscode');
import { checkExternalUrl, urlHost } from '../core/grafana';
import { askModal } from './notify';

export const IN_EDITOR = 'Open in editor tab';
/** Outside, in the browser (the label the command has always had). */
export const OUTSIDE = 'Open';

export type GrafanaWhere = 'editor' | 'outside';

const EMBEDDING = `${IN_EDITOR}: VS Code's Simple Browser, inside the workbench. Grafana shows there only when its grafana.ini allows framing ([security] allow_embedding = true); a blank tab means it does not, then use ${OUTSIDE}, which opens it outside in your browser.`;

/**
 * Asks where to open `url`: always in an untrusted workspace (its settings may have chosen the
 * address, so the question names the host), else when asked interactively. A call with a
 * service key only (scripts, other commands) opens outside without a question, as it always did.
 */
export async function chooseGrafanaPlace(url: string, o: { trusted: boolean; interactive: boolean }): Promise<GrafanaWhere | undefined> {
  if (o.trusted && !o.interactive) return 'outside';
  const host = new URL(url).host;
  const choice = o.trusted
    ? await askModal(`Open the Grafana dashboard on ${host} in an editor tab or outside?`, `${EMBEDDING} Address: ${url}`, IN_EDITOR, OUTSIDE)
    : await askModal(
        `Open ${host} in the browser?`,
        `This workspace is not trusted, and its settings can choose the namespace whose Grafana Route gives this address: ${url}. Open it only if you know ${host}. ${EMBEDDING}`,
        IN_EDITOR,
        OUTSIDE,
      );
  return choice === IN_EDITOR ? 'editor' : choice === OUTSIDE ? 'outside' : undefined;
}

/** Opens `dashboard` (from dashboardUrl) where the user chose; checked again here, the one way out to a browser. */
export async function openGrafanaAt(dashboard: string, where: GrafanaWhere): Promise<void> {
  const url = checkExternalUrl(dashboard, [urlHost(dashboard)]);
  if (where === 'outside') {
    await vscode.env.openExternal(vscode.Uri.parse(url, true));
    return;
  }
  const uri = vscode.Uri.parse(url, true);
  try {
    await vscode.commands.executeCommand('simpleBrowser.api.open', uri, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false });
  } catch {
    // Older hosts have only the palette command.
    await vscode.commands.executeCommand('simpleBrowser.show', url);
  }
}
