/**
 * No secret from an exec plugin (or the token it hands out) appears in any output (issue 12
 * §4): the built CLI as a real child process — `status` and `status --json` with exec-plugin
 * users that work (observed split from the sandbox's https Prometheus), that print the secret
 * on stderr and exit 1, that print it as non-JSON, or as an ExecCredential cut short — and the
 * cluster store's connection and log for the same users. Every output is grepped for each
 * secret as is and base64-encoded (LeakScanner); the failures must still say which plugin
 * failed. Plain http: the kubeconfig token is not sent (the sandbox's Prometheus records what
 * it received), an explicit token over http is refused before any request.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createClusterStore } from '../../src/cluster/index';
import { sendTraffic } from '../../src/core/loadgen';
import { openSandbox, type TestSandbox } from '../sandbox/helpers';
import { INFERENCE_SERVICES } from '../../src/sandbox/resources';
import { buildCliBundle } from '../cli/bundle';
import { execUser, sandboxKubeconfig, writeExecPlugin, type PluginMode } from '../cluster/kube-users';
import { until } from '../cluster/sandbox-helpers';
import { cliEnv, LeakScanner, runScanned, securityWorkdir, showRun, type CliRun } from './helpers';

const FAILING: Exclude<PluginMode, 'ok'>[] = ['stderr', 'garbage', 'truncated'];

describe('exec-plugin secrets never reach the output', () => {
  const scan = new LeakScanner();
  let sb: TestSandbox;
  let bundle: { bin: string; cleanup(): void };
  let work: string;
  let home: string;
  let token: string;
  const kc: Record<PluginMode, string> = { ok: '', stderr: '', garbage: '', truncated: '' };
  const secret: Record<string, string> = {};

  const cli = (label: string, args: string[], env: Record<string, string> = {}): Promise<CliRun> =>
    runScanned(scan, bundle.bin, label, args, { env: cliEnv(home, env), cwd: work });
  const show = showRun;

  before(async () => {
    ({ work, home } = securityWorkdir('ksc-exec-secrets-'));
    [bundle, sb] = await Promise.all([
      buildCliBundle(),
      openSandbox({ dir: path.join(work, 'sandbox'), syncDelayMs: 150, rolloutDelayMs: 100, pollMs: 50, inference: true }),
    ]);
    token = readFileSync(sb.tokenFile, 'utf8').trim();
    scan.addSecret('sandbox token', token);
    kc.ok = sandboxKubeconfig(sb, path.join(work, 'kc-ok'), execUser(writeExecPlugin(work, 'plugin-ok', 'ok', { tokenFile: sb.tokenFile })));
    for (const mode of FAILING) {
      // a secret of the plugin's own (an OpenShift-style token), different for each
      secret[mode] = `sha256~${mode}${Buffer.from(`${mode}-${process.pid}-${Date.now()}`).toString('base64url')}Zz9`;
      scan.addSecret(`${mode} plugin secret`, secret[mode]!);
      scan.addSecret(`${mode} plugin secret without prefix`, secret[mode]!.slice('sha256~'.length));
      kc[mode] = sandboxKubeconfig(sb, path.join(work, `kc-${mode}`), execUser(writeExecPlugin(work, `plugin-${mode}`, mode, { secret: secret[mode]! })));
    }
    const url = (sb.controller.store.get(INFERENCE_SERVICES, 'user1-test', 'jukebox') as { status?: { url?: string } }).status?.url;
    assert.ok(url);
    assert.ok((await sendTraffic({ url, model: 'jukebox', rps: 100, durationMs: 1000 })).sent > 0);
  });
  after(async () => {
    await sb?.cleanup();
    bundle?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const cluster = (file: string) => ['--kubeconfig', file, '--gitops', sb.gitopsClone];

  it('a working exec plugin: status and --json show the observed split read with its token over https', async () => {
    const from = sb.prometheusAuthLog.length;
    const prom = ['--prometheus', sb.prometheusUrl!, '--window', '10m'];
    const table = await cli('status (exec ok)', ['status', 'jukebox', '--env', 'test', ...cluster(kc.ok), ...prom]);
    assert.equal(table.code, 0, show(table));
    assert.match(table.stdout, /\s80\s+20\s+\d+\/\d+ 10m\s/, show(table));
    const json = await cli('status --json (exec ok)', ['status', 'jukebox', '--env', 'test', '--json', ...cluster(kc.ok), ...prom]);
    assert.equal(json.code, 0, show(json));
    const doc = JSON.parse(json.stdout);
    assert.equal(doc.connection.phase, 'connected');
    assert.equal(doc.services[0].observed.kind, 'observed');
    const seen = sb.prometheusAuthLog.slice(from);
    assert.ok(seen.length > 0);
    assert.ok(
      seen.every((x) => x.scheme === 'https' && x.auth === 'valid'),
      JSON.stringify(seen),
    );
  });

  it('plain http: the kubeconfig token is not sent; an explicit token is refused before any request', async () => {
    const from = sb.prometheusAuthLog.length;
    const r = await cli('status (http Prometheus)', ['status', 'jukebox', '--env', 'test', ...cluster(kc.ok), '--prometheus', sb.prometheusHttpUrl!]);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /no metrics/);
    assert.match(r.stdout, /only sent over https/);
    const seen = sb.prometheusAuthLog.slice(from);
    assert.ok(seen.length > 0 && seen.every((x) => x.scheme === 'http' && x.auth === 'none'), JSON.stringify(seen));
    const before = sb.prometheusAuthLog.length;
    const refused = await cli('status (http Prometheus, explicit token)', ['status', ...cluster(kc.ok), '--prometheus', sb.prometheusHttpUrl!], {
      KSERVE_CANARY_PROMETHEUS_TOKEN: token,
    });
    assert.equal(refused.code, 2, show(refused));
    assert.match(refused.stderr, /Refusing to send the Prometheus token over plain http/);
    assert.equal(sb.prometheusAuthLog.length, before, 'nothing reached Prometheus');
  });

  for (const mode of FAILING) {
    it(`a plugin that fails (${mode}): status and --json say which plugin, never what it printed`, async () => {
      const table = await cli(`status (${mode})`, ['status', ...cluster(kc[mode]), '--prometheus', sb.prometheusUrl!]);
      assert.equal(table.code, 1, show(table));
      assert.match(table.stderr, /exec plugin "node"/, show(table));
      const json = await cli(`status --json (${mode})`, ['status', '--json', ...cluster(kc[mode]), '--prometheus', sb.prometheusUrl!]);
      assert.equal(json.code, 1, show(json));
      const problem = JSON.parse(json.stdout).connection.problem;
      assert.equal(problem.kind, 'unauthorized');
      assert.match(problem.message, /exec plugin "node" of the kubeconfig user "user1"/);
    });
  }

  it('the cluster store: connection problem and log for each failing plugin', async () => {
    await Promise.all(
      FAILING.map(async (mode) => {
        const lines: string[] = [];
        const log = {
          info: (m: string) => void lines.push(m),
          warn: (m: string) => void lines.push(m),
          error: (m: string) => void lines.push(m),
          debug: (m: string) => void lines.push(m),
        };
        const store = await createClusterStore({
          settings: { kubeconfigPath: kc[mode] },
          gitops: { root: sb.gitopsClone },
          log,
          env: { HOME: home },
          tuning: { watchKubeconfig: false, backoffInitialMs: 100, backoffMaxMs: 500, requestTimeoutMs: 5000 },
        });
        try {
          // generous: each attempt spawns node for the plugin, on a machine that may be busy
          await until(() => store.connection().problem !== undefined, `${mode}: a connection problem`, 120_000);
          const c = store.connection();
          assert.match(c.problem!.message, /exec plugin "node"/);
          scan.add(`store ${mode}: connection`, JSON.stringify(c));
          scan.add(`store ${mode}: services`, JSON.stringify(store.services()));
        } finally {
          store.dispose();
          scan.add(`store ${mode}: log`, lines.join('\n'));
        }
      }),
    );
  });

  it('no secret, in any form, in any output', () => {
    assert.ok(scan.outputs.length >= 15, `enough outputs were collected (${scan.outputs.length})`);
    assert.deepEqual(scan.scan(), []);
  });
});
