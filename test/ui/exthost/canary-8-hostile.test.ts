// Issue 12 through the real UI paths: a cluster whose InferenceService status carries a command
// link, a bare URL, an icon reference and a carriage return (written through the API server's
// status subresource with a controller's rights, as KServe would), and a canary-plan.yaml in git whose value lands in
// an error notification. What reaches the workbench (the vscode.window calls, stubbed here; the
// tree's and status bar's markdown) holds no link, no autolink, no icon and no line break from
// data. Untrusted workspaces: the workspace cannot steer the toolings namespace, and Open Grafana
// asks first. Restores everything it changes.
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import path from 'node:path';
import * as vscode from 'vscode';
import { adminToken, api, keyOf, sandbox, serviceRow, Stubs, until, type Api } from './canary-helpers';

const LINK = '[Open the troubleshooting guide](command:workbench.action.terminal.sendSequence?%7B%22text%22%3A%22rm%22%7D)';
const HOSTILE = `fine\rFAILED ${LINK} see https://evil.example/x $(debug-alt) fake`;
/** VS Code's link form in notifications. */
const NOTIFICATION_LINK = /\[[^\]]+\]\((?:https?:|command:|file:|vscode:)/i;
/** Unescaped markdown link / autolink / icon in a markdown source. */
const MD_LINK = /(^|[^\\])\]\(|https?:\/\/|(^|[^\\])\$\(debug/;
/** The one link of our own a service tooltip carries (trusted for that command only, issue 16). */
const withoutOwnLink = (md: string) => md.replace(/\n\n\[Open canary dashboard\]\(command:kserveCanary\.openDashboard\?[^)\s]*\)$/, '');

/** One request to the harness's sandbox API server with its CA, as a controller (adminToken: the status is the controllers' to write). */
function kube(method: string, urlPath: string, body?: unknown): Promise<Record<string, unknown>> {
  const info = sandbox();
  const kc = readFileSync(info.kubeconfig, 'utf8');
  const ca = Buffer.from(/certificate-authority-data:\s*(\S+)/.exec(kc)![1]!, 'base64');
  const token = adminToken();
  const data = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(urlPath, info.server),
      { method, ca, headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(data ? { 'content-type': 'application/json' } : {}) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () =>
          (res.statusCode ?? 500) < 300
            ? resolve(JSON.parse(text) as Record<string, unknown>)
            : reject(new Error(`${method} ${urlPath}: ${res.statusCode} ${text}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/**
 * Replaces the status of the object at `objPath` with `make(object)`: a conditional update (the
 * resourceVersion just read; the real server refuses a custom resource's update without one, 422),
 * read again and retried when a controller wrote in between (409).
 */
async function putStatus(objPath: string, make: (o: Record<string, unknown>) => unknown): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const o = await kube('GET', objPath);
    try {
      await kube('PUT', `${objPath}/status`, { ...o, status: make(o) });
      return;
    } catch (e) {
      if (attempt >= 5 || !/: 409 /.test((e as Error).message)) throw e;
    }
  }
}

describe('hostile text from the cluster and git', function () {
  this.timeout(150_000);
  let a: Api;
  const stubs = new Stubs();
  let isvcPath: string;
  let original: Record<string, unknown> | undefined;
  before(async () => {
    a = await api();
    await until('jukebox in prod', async () => (await serviceRow(a, 'prod', 'jukebox'))?.description);
    const s = a.services().find((x) => x.env === 'prod' && (x.model ?? x.name) === 'jukebox')!;
    isvcPath = `/apis/serving.kserve.io/v1beta1/namespaces/${s.namespace}/inferenceservices/${s.name}`;
    await putStatus(isvcPath, (o) => {
      original = o.status as Record<string, unknown>;
      const conditions = ((original.conditions as Record<string, unknown>[]) ?? []).map((c) =>
        c.type === 'Ready' ? { ...c, status: 'False', reason: 'Hostile', message: HOSTILE } : c,
      );
      return { ...original, conditions, url: 'https://evil.example/x' };
    });
    await until('the hostile status in the view', () => a.services().some((x) => x.env === 'prod' && x.readyMessage?.includes('troubleshooting')));
  });
  after(async () => {
    stubs.restore();
    a?.setTrustOverride(undefined);
    const saved = original;
    if (saved) await putStatus(isvcPath, () => saved);
  });

  it('tree tooltip and status bar: the cluster text is shown, but as no link, autolink or icon, on one line', async () => {
    const r = (await serviceRow(a, 'prod', 'jukebox'))!;
    assert.ok(r.tooltip && r.tooltip.includes('troubleshooting guide'), 'the message is shown');
    assert.doesNotMatch(withoutOwnLink(r.tooltip), MD_LINK, r.tooltip);
    assert.doesNotMatch(r.tooltip, /\r/);
    // Earlier suites pinned another service: the status bar shows the pinned one.
    await vscode.commands.executeCommand('kserveCanary.pin', keyOf(a, 'prod', 'jukebox'));
    const sb = a.statusBar();
    assert.match(sb.text, /jukebox · prod/);
    assert.ok(sb.tooltip?.includes('troubleshooting guide'));
    assert.doesNotMatch(withoutOwnLink(sb.tooltip ?? ''), MD_LINK);
  });

  it('quick pick: the verdict reason from the cluster renders no $(icon) and no line break', async () => {
    let shown: readonly vscode.QuickPickItem[] = [];
    stubs.set(vscode.window, 'showQuickPick', (async (items: readonly vscode.QuickPickItem[] | Thenable<readonly vscode.QuickPickItem[]>) => {
      shown = await items;
      return undefined;
    }) as unknown as typeof vscode.window.showQuickPick);
    await vscode.commands.executeCommand('kserveCanary.openGrafana');
    const item = shown.find((i) => i.label === 'jukebox' && i.description?.startsWith('prod'));
    assert.ok(item, JSON.stringify(shown));
    assert.ok(item.detail?.includes('troubleshooting guide'), item.detail);
    for (const text of [item.label, item.description ?? '', item.detail ?? '']) {
      assert.doesNotMatch(text, /(^|[^\\])\$\(debug-alt\)/, text);
      assert.doesNotMatch(text, /[\r\n]/);
    }
  });

  it('error notification from a hostile canary-plan.yaml in git: no working link, the text still readable', async () => {
    const dir = path.join(a.gitopsRoot()!, 'model-deployments', 'test', 'jukebox');
    const plan = path.join(dir, 'canary-plan.yaml');
    assert.ok(!existsSync(plan));
    writeFileSync(plan, `steps: "10,100"\npause: "${LINK}"\n`);
    const errors: string[] = [];
    stubs.set(vscode.window, 'showErrorMessage', (async (m: string) => {
      errors.push(m);
      return undefined;
    }) as typeof vscode.window.showErrorMessage);
    try {
      await vscode.commands.executeCommand('kserveCanary.startRollout', keyOf(a, 'test', 'jukebox'));
    } finally {
      rmSync(plan, { force: true });
    }
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.match(errors[0]!, /^Start progressive rollout: /);
    assert.ok(errors[0]!.includes('Open the troubleshooting guide'), errors[0]);
    assert.doesNotMatch(errors[0]!, NOTIFICATION_LINK, errors[0]);
    const notice = a
      .notices()
      .filter((n) => n.kind === 'error')
      .pop();
    assert.equal(notice?.text, errors[0], 'the record of the wrapper is what the workbench got');
    assert.ok(!existsSync(plan));
  });

  it('untrusted: the workspace cannot set the toolings namespace; Open Grafana asks first, naming the host', async () => {
    const cfg = () => vscode.workspace.getConfiguration('kserveCanary');
    const settingsDir = path.join(a.gitopsRoot()!, '.vscode');
    const hadDir = existsSync(settingsDir);
    a.setTrustOverride(false);
    try {
      await cfg().update('toolingsNamespace', 'evil-toolings', vscode.ConfigurationTarget.Workspace);
      await until('the workspace value written', () => cfg().inspect('toolingsNamespace')?.workspaceValue === 'evil-toolings');
      a.setTrustOverride(false); // reads the settings again, now with the workspace value present
      assert.equal(a.settings().toolingsNamespace, '', 'untrusted: the workspace value is ignored');
      await a.whenStarted();
      await until('connected again', async () => a.connection()?.phase === 'connected' && (await serviceRow(a, 'test', 'jukebox'))?.description);

      const asked: { message: string; modal: boolean; detail: string }[] = [];
      let answer: string | undefined;
      stubs.set(vscode.window, 'showWarningMessage', (async (message: string, ...rest: unknown[]) => {
        const o = rest[0] as vscode.MessageOptions | undefined;
        asked.push({ message, modal: o?.modal === true, detail: o?.detail ?? '' });
        return answer;
      }) as typeof vscode.window.showWarningMessage);
      const opened: string[] = [];
      stubs.set(vscode.env, 'openExternal', (async (u: vscode.Uri) => {
        opened.push(u.toString(true));
        return true;
      }) as typeof vscode.env.openExternal);
      const key = keyOf(a, 'test', 'jukebox');
      assert.equal(await vscode.commands.executeCommand('kserveCanary.openGrafana', key), undefined, 'declined: nothing opened');
      assert.deepEqual(opened, []);
      const modals = () => asked.filter((q) => q.modal);
      assert.equal(modals().length, 1, JSON.stringify(asked));
      const url = (await (async () => {
        answer = 'Open';
        return vscode.commands.executeCommand<string | undefined>('kserveCanary.openGrafana', key);
      })())!;
      assert.ok(url && opened.length === 1, JSON.stringify({ url, opened }));
      assert.equal(modals().length, 2);
      assert.ok(modals()[1]!.message.includes(new URL(url).host), modals()[1]!.message);
      assert.ok(modals()[1]!.detail.includes('not trusted'), modals()[1]!.detail);

      a.setTrustOverride(undefined);
      assert.equal(a.settings().toolingsNamespace, 'evil-toolings', 'trusted: the workspace value applies (so the check above can fail)');
    } finally {
      a.setTrustOverride(undefined);
      await cfg().update('toolingsNamespace', undefined, vscode.ConfigurationTarget.Workspace);
      if (!hadDir) rmSync(settingsDir, { recursive: true, force: true });
    }
    await until('the setting gone', () => a.settings().toolingsNamespace === '');
    await a.whenStarted();
    await until(
      'the view back on the default toolings namespace',
      async () => a.state() === 'ok' && (await serviceRow(a, 'test', 'jukebox'))?.description,
      60_000,
    );
  });
});
