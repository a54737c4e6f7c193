// Progressive rollout and test traffic commands against the sandbox (either backend, with its
// inference endpoints and Prometheus): the rollout runs without metric gates (no prometheus.url),
// one commit per step on the sandbox's remote; the traffic reaches the inference endpoint and the
// observed split is read from Prometheus. Inputs are injected by stubbing vscode.window.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { api, git, keyOf, remoteCommits, sandbox, sandboxControl, serviceRow, Stubs, until, type Api } from './canary-helpers';

describe('KServe Canary progressive rollout', function () {
  this.timeout(240_000);
  let a: Api;
  const stubs = new Stubs();
  const cfg = () => vscode.workspace.getConfiguration('kserveCanary');
  before(async () => {
    a = await api();
    await until('jukebox in test', async () => (await serviceRow(a, 'test', 'jukebox'))?.description);
  });
  afterEach(async () => {
    stubs.restore();
    a.setTrustOverride(undefined);
    for (const k of ['rollout.steps', 'rollout.pause', 'prometheus.url']) await cfg().update(k, undefined, vscode.ConfigurationTarget.Global);
  });

  it('is refused in an untrusted workspace, with nothing committed', async () => {
    const before = await remoteCommits();
    const warned: string[] = [];
    stubs.set(vscode.window, 'showWarningMessage', (async (m: string) => {
      warned.push(m);
      return undefined;
    }) as typeof vscode.window.showWarningMessage);
    a.setTrustOverride(false);
    await vscode.commands.executeCommand('kserveCanary.startRollout', keyOf(a, 'test', 'jukebox'));
    assert.equal(warned.length, 1, JSON.stringify(warned));
    assert.match(warned[0]!, /not trusted/);
    assert.equal(await remoteCommits(), before);
  });

  it('a 2-step plan (50,100 with 1s pauses) without Prometheus: modal naming the steps, two commits, latest 100% at the end', async () => {
    // A known start: rolled back to 0%.
    await vscode.commands.executeCommand('kserveCanary.rollback', keyOf(a, 'test', 'jukebox'));
    await until('the tree at 100/0', async () => (await serviceRow(a, 'test', 'jukebox'))?.description === 'prev 100% · latest 0%');
    await cfg().update('rollout.steps', '50,100', vscode.ConfigurationTarget.Global);
    await cfg().update('rollout.pause', '1s', vscode.ConfigurationTarget.Global);
    const before = await remoteCommits();
    const asked: { message: string; modal: boolean; detail: string }[] = [];
    stubs.set(vscode.window, 'showWarningMessage', (async (message: string, ...rest: unknown[]) => {
      const opts = rest[0] as vscode.MessageOptions | undefined;
      const modal = typeof opts === 'object' && opts !== null && opts.modal === true;
      asked.push({ message, modal, detail: modal ? (opts.detail ?? '') : '' });
      return modal ? 'Start rollout' : undefined;
    }) as typeof vscode.window.showWarningMessage);
    const result = (await vscode.commands.executeCommand('kserveCanary.startRollout', keyOf(a, 'test', 'jukebox'))) as
      { outcome: string; commits: unknown[] } | undefined;
    assert.equal(asked.length, 1, JSON.stringify(asked));
    assert.equal(asked[0]!.modal, true);
    assert.match(asked[0]!.message, /jukebox in test/);
    assert.match(asked[0]!.message, /50/);
    assert.match(asked[0]!.message, /100/);
    assert.match(asked[0]!.detail, /No metric gates/);
    assert.equal(result?.outcome, 'completed', JSON.stringify(result));
    assert.equal(await remoteCommits(), before + 2, 'one commit per step on the remote');
    const messages = (await git(['--git-dir', sandbox().gitopsRemote, 'log', '-2', '--format=%B%x00', 'main']))
      .split('\0')
      .map((m) => m.trim())
      .filter(Boolean);
    assert.equal(messages.length, 2);
    for (const m of messages) assert.match(m, /Canary-Rollout:/, m);
    await until('the tree at latest 100%', async () => (await serviceRow(a, 'test', 'jukebox'))?.description === 'latest 100%');
  });

  it('a manual gate asks with Approve / Roll back; Roll back commits 0% and says so', async () => {
    await cfg().update('rollout.steps', '50:manual,100', vscode.ConfigurationTarget.Global);
    await cfg().update('rollout.pause', '1s', vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('kserveCanary.rollback', keyOf(a, 'test', 'jukebox'));
    await until('the tree at 100/0', async () => (await serviceRow(a, 'test', 'jukebox'))?.description === 'prev 100% · latest 0%');
    const before = await remoteCommits();
    stubs.set(vscode.window, 'showWarningMessage', (async (_m: string, ...rest: unknown[]) => {
      const opts = rest[0] as vscode.MessageOptions | undefined;
      return typeof opts === 'object' && opts !== null && opts.modal === true ? 'Start rollout' : undefined;
    }) as typeof vscode.window.showWarningMessage);
    const asked: { message: string; buttons: unknown[] }[] = [];
    stubs.set(vscode.window, 'showInformationMessage', (async (message: string, ...buttons: unknown[]) => {
      asked.push({ message, buttons });
      return buttons.includes('Roll back') ? 'Roll back' : undefined;
    }) as typeof vscode.window.showInformationMessage);
    const result = (await vscode.commands.executeCommand('kserveCanary.startRollout', keyOf(a, 'test', 'jukebox'))) as { outcome: string } | undefined;
    const gate = asked.find((x) => x.buttons.includes('Approve'));
    assert.ok(gate, JSON.stringify(asked));
    assert.deepEqual(gate.buttons, ['Approve', 'Roll back']);
    assert.ok(result && ['rolled-back', 'aborted'].includes(result.outcome), JSON.stringify(result));
    assert.equal(await remoteCommits(), before + 2, 'the 50% step, then the roll back to 0%');
    await until('the tree back at 100/0', async () => (await serviceRow(a, 'test', 'jukebox'))?.description === 'prev 100% · latest 0%');
  });

  it('Send test traffic validates the rate and the duration; a cancelled input sends nothing', async () => {
    const validators: NonNullable<vscode.InputBoxOptions['validateInput']>[] = [];
    let calls = 0;
    stubs.set(vscode.window, 'showInputBox', (async (o?: vscode.InputBoxOptions) => {
      if (o?.validateInput) validators.push(o.validateInput);
      calls++;
      return calls === 1 ? '5' : undefined;
    }) as typeof vscode.window.showInputBox);
    const res = await vscode.commands.executeCommand('kserveCanary.sendTraffic', keyOf(a, 'test', 'jukebox'));
    assert.equal(res, undefined);
    assert.equal(validators.length, 2, 'rate and duration inputs, both validated');
    const text = async (i: number, v: string) => {
      const m = await validators[i]!(v);
      return typeof m === 'string' ? m : m?.message;
    };
    for (const bad of ['abc', '0', '-1', '', '100000']) assert.ok(await text(0, bad), `rate ${JSON.stringify(bad)} must be refused`);
    for (const good of ['1', '10', '0.5']) assert.ok(!(await text(0, good)), `rate ${good} must be accepted`);
    for (const bad of ['abc', '0s', '', '10 parsecs']) assert.ok(await text(1, bad), `duration ${JSON.stringify(bad)} must be refused`);
    for (const good of ['30s', '2m']) assert.ok(!(await text(1, good)), `duration ${good} must be accepted`);
  });

  it('Send test traffic to the sandbox inference endpoint: a notification with counts by status and p50/p95', async () => {
    assert.ok(sandbox().prometheusUrl, 'the harness starts the sandbox with --inference');
    // The observed-split test below judges this traffic alone: forget what earlier suites sent.
    const svcUrl = a.services().find((x) => x.key === keyOf(a, 'test', 'jukebox'))?.url;
    assert.ok(svcUrl, 'jukebox in test has a status.url');
    await sandboxControl(new URL(svcUrl).origin, 'metrics/reset');
    const answers = ['20', '2s'];
    stubs.set(vscode.window, 'showInputBox', (async () => answers.shift()) as typeof vscode.window.showInputBox);
    const infos: string[] = [];
    stubs.set(vscode.window, 'showInformationMessage', (async (m: string) => {
      infos.push(m);
      return undefined;
    }) as typeof vscode.window.showInformationMessage);
    const confirms: string[] = [];
    stubs.set(vscode.window, 'showWarningMessage', (async (_m: string, ...rest: unknown[]) => {
      const opts = rest[0] as vscode.MessageOptions | undefined;
      confirms.push(opts?.modal ? (opts.detail ?? '') : '');
      return opts?.modal ? 'Send' : undefined;
    }) as typeof vscode.window.showWarningMessage);
    const res = (await vscode.commands.executeCommand('kserveCanary.sendTraffic', keyOf(a, 'test', 'jukebox'))) as
      { sent: number; byStatus: Record<string, number> } | undefined;
    assert.equal(confirms.length, 1, 'one modal confirmation');
    assert.match(confirms[0]!, /^20 req\/s for 2 s \(40 requests\) to 127\.0\.0\.1:\d+ — the local sandbox/, 'it names the rate and the host');
    assert.ok(res, 'the command returns its result');
    assert.equal(res.sent, 40);
    assert.ok((res.byStatus['200'] ?? 0) > 0, JSON.stringify(res));
    const note = infos.find((m) => m.startsWith('jukebox · test'));
    assert.ok(note, JSON.stringify(infos));
    assert.match(note, /200: \d+/);
    assert.match(note, /p50 [\d.]+ ms, p95 [\d.]+ ms/);
  });

  it('with kserveCanary.prometheus.url set, the row and its tooltip show the observed split', async () => {
    const url = sandbox().prometheusUrl;
    assert.ok(url);
    const before = await serviceRow(a, 'test', 'jukebox');
    assert.doesNotMatch(before?.tooltip ?? '', /observed/, 'nothing observed while not configured');
    await cfg().update('prometheus.url', url, vscode.ConfigurationTarget.Global);
    const r = await until('the observed split in the tree', async () => {
      const row = await serviceRow(a, 'test', 'jukebox');
      return row?.description?.includes('observed') ? row : undefined;
    });
    // All the test traffic went where the split sent it: one revision here.
    assert.match(r.description ?? '', /^(prev 100% · latest 0% · observed 100\/0|latest 100% · observed 100) over 5 min$/);
    assert.match(r.tooltip ?? '', /configured [\d/]+ · observed [\d/]+ over 5 min/);
    // canary-2 pinned prod/jukebox: pin this one so the status bar shows it.
    await vscode.commands.executeCommand('kserveCanary.pin', keyOf(a, 'test', 'jukebox'));
    await until('the observed split in the status bar tooltip', () => /observed [\d/]+ over 5 min/.test(a.statusBar().tooltip ?? ''));
    await cfg().update('prometheus.url', undefined, vscode.ConfigurationTarget.Global);
    await until('the observed split gone once unset', async () => !(await serviceRow(a, 'test', 'jukebox'))?.tooltip?.includes('observed'));
  });
});
