// A progressive rollout from the UI whose metric gate fails: with kserveCanary.prometheus.url set
// (user settings) to the sandbox's Prometheus API, the canary revision is made to answer only
// 500s through the sandbox's control route (POST /_sandbox/revisions/<ns>/<revision>/behavior,
// the sandbox runs in the harness process), test traffic flows while the step's pause is
// watched, and kserveCanary.startRollout must end with a rollback commit (canary 0%) on the
// gitops remote naming the failed gate, the tree back at prev 100% · latest 0%, and a warning
// notification saying so.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { api, atSeedSplit, git, keyOf, remoteCommits, sandbox, sandboxControl, serviceRow, Stubs, until, type Api } from './canary-helpers';

const CONFIG = 'model-deployments/test/jukebox/config.yaml';

describe('KServe Canary rollout: a failing metric gate rolls back', function () {
  this.timeout(240_000);
  let a: Api;
  const stubs = new Stubs();
  const cfg = () => vscode.workspace.getConfiguration('kserveCanary');
  const service = () => {
    const key = keyOf(a, 'test', 'jukebox');
    const s = a.services().find((x) => x.key === key);
    assert.ok(s?.url && s.latestRevision, `jukebox in test has a status.url and a latest revision: ${JSON.stringify(s)}`);
    return { namespace: s.namespace, url: s.url, latestRevision: s.latestRevision };
  };
  /** Sets how a revision answers, through the sandbox's token-authenticated control route. */
  const setBehavior = async (namespace: string, revision: string, behavior: { errorRate?: number; latencyMs?: number }) => {
    await sandboxControl(new URL(service().url).origin, `revisions/${encodeURIComponent(namespace)}/${encodeURIComponent(revision)}/behavior`, behavior);
  };
  let healed: (() => Promise<void>) | undefined;

  before(async () => {
    a = await api();
    await until('jukebox in test', async () => (await serviceRow(a, 'test', 'jukebox'))?.description);
  });
  afterEach(async () => {
    stubs.restore();
    await healed?.();
    healed = undefined;
    for (const k of ['rollout.steps', 'rollout.pause', 'rollout.maxErrorRate', 'prometheus.url'])
      await cfg().update(k, undefined, vscode.ConfigurationTarget.Global);
  });

  // The suites share one sandbox: leave jukebox at the seed's 80/20 again (a courtesy; the
  // suites that start from it set it themselves, atSeedSplit).
  after(() => atSeedSplit(a));

  it('a canary answering 500s fails the error-rate gate: rollback commit to 0% naming the gate, tree at 100/0, a warning', async () => {
    const prometheusUrl = sandbox().prometheusUrl;
    assert.ok(prometheusUrl, 'the harness starts the sandbox with --inference');
    // A known start: rolled back to 0%.
    await vscode.commands.executeCommand('kserveCanary.rollback', keyOf(a, 'test', 'jukebox'));
    await until('the tree at 100/0', async () => (await serviceRow(a, 'test', 'jukebox'))?.description === 'prev 100% · latest 0%');
    await cfg().update('rollout.steps', '50,100', vscode.ConfigurationTarget.Global);
    await cfg().update('rollout.pause', '3s', vscode.ConfigurationTarget.Global);
    await cfg().update('rollout.maxErrorRate', '5%', vscode.ConfigurationTarget.Global);
    await cfg().update('prometheus.url', prometheusUrl, vscode.ConfigurationTarget.Global);
    await until('the extension reads the rollout and Prometheus settings', () => {
      const s = a.settings();
      return s.prometheusUrl === prometheusUrl && s.rolloutSteps === '50,100' && s.rolloutMaxErrorRate === '5%';
    });

    // The canary revision answers 500 to every request from now on.
    const { namespace, url, latestRevision } = service();
    await setBehavior(namespace, latestRevision, { errorRate: 1 });
    healed = () => setBehavior(namespace, latestRevision, { errorRate: 0 });

    const modals: string[] = [];
    stubs.set(vscode.window, 'showWarningMessage', (async (_m: string, ...rest: unknown[]) => {
      const opts = rest[0] as vscode.MessageOptions | undefined;
      const modal = typeof opts === 'object' && opts !== null && opts.modal === true;
      if (modal) modals.push(opts.detail ?? '');
      return modal ? 'Start rollout' : undefined;
    }) as typeof vscode.window.showWarningMessage);
    // An approval request (gates that could not be judged) is left unanswered: the run then ends
    // awaiting approval instead of rolling back, and the assertions below say so.
    stubs.set(vscode.window, 'showInformationMessage', (async () => undefined) as typeof vscode.window.showInformationMessage);

    // Test traffic for the whole rollout, as a load balancer would send it (the split picks the revision).
    let sending = true;
    const seen: Record<string, number> = {};
    const traffic = (async () => {
      const body = JSON.stringify({ inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }] });
      while (sending) {
        const r = await fetch(`${url}/v2/models/jukebox/infer`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
        await r.arrayBuffer();
        const k = `${r.headers.get('x-kserve-revision') ?? '?'} ${r.status}`;
        seen[k] = (seen[k] ?? 0) + 1;
        await new Promise((resolve) => setTimeout(resolve, 50)); // pacing (~20 req/s), not synchronisation
      }
    })();

    const before = await remoteCommits();
    let result: { outcome: string; step: number; of: number; reason: string } | undefined;
    try {
      result = (await vscode.commands.executeCommand('kserveCanary.startRollout', keyOf(a, 'test', 'jukebox'))) as typeof result;
    } finally {
      sending = false;
      await traffic;
    }
    assert.equal(modals.length, 1, JSON.stringify(modals));
    assert.match(modals[0]!, /Gates: .*measured from https:\/\/127\.0\.0\.1:\d+\/prometheus/, 'the gates are on');
    assert.ok((seen[`${latestRevision} 500`] ?? 0) > 0, `the canary received traffic and failed it: ${JSON.stringify(seen)}`);
    assert.equal(result?.outcome, 'rolled-back', JSON.stringify({ result, seen }));
    assert.equal(result.step, 1);
    assert.match(result.reason, /gate error-rate failed \(\d+(\.\d+)?% > 5%\)/);

    // On the remote: the 50% step, then the rollback to 0% naming the gate.
    assert.equal(await remoteCommits(), before + 2, 'the 50% step, then the rollback');
    const remote = ['--git-dir', sandbox().gitopsRemote];
    const subject = await git([...remote, 'log', '-1', '--format=%s', 'main']);
    assert.match(subject, /^Roll back jukebox in test: gate error-rate failed \(\d+(\.\d+)?% > 5%\)$/);
    assert.match(await git([...remote, 'log', '-1', '--format=%B', 'main']), /Canary-Rollout:/);
    assert.equal(await git([...remote, 'diff', '--name-only', 'main~1', 'main']), CONFIG, 'the rollback touches the model config only');
    assert.match(await git([...remote, 'show', `main~1:${CONFIG}`]), /trafficPercent:\s*50\b/);
    assert.match(await git([...remote, 'show', `main:${CONFIG}`]), /trafficPercent:\s*0\b/);

    // The cluster follows, and the UI said so.
    // (with Prometheus configured the row also shows the observed split after the configured one)
    await until('the tree back at 100/0', async () =>
      /^prev 100% · latest 0%( · observed .*)?$/.test((await serviceRow(a, 'test', 'jukebox'))?.description ?? ''),
    );
    const warning = a.notices().find((n) => n.kind === 'warning' && n.text.startsWith('jukebox · test: rollout rolled-back'));
    assert.ok(warning, JSON.stringify(a.notices().slice(-8)));
    assert.match(warning.text, /at step 1\/2\. Rolled back jukebox in test to 0% \([0-9a-f]{10}\): gate error-rate failed \(\d+(\.\d+)?% > 5%\)/);
  });
});
