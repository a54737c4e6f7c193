/**
 * `kserve-canary status` and `set … --wait` against the sandbox, in-process through main().
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../src/cli/main';
import type { CliIO } from '../../src/cli/command';
import { humanAge } from '../../src/core/format';
import { REFRESH_ANNOTATION } from '../../src/sandbox/index';
import { openSandbox, type TestSandbox } from '../sandbox/helpers';
import { git } from '../core/git-helpers';
import { APPLICATIONS } from '../../src/sandbox/resources';
import { patchSpec, until } from './sandbox-helpers';

function io(opts: { signal?: AbortSignal; env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const value: CliIO = {
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    cwd: opts.cwd ?? os.tmpdir(),
    env: opts.env ?? { HOME: path.join(os.tmpdir(), 'ksc-no-home'), PATH: process.env.PATH },
    signal: opts.signal ?? new AbortController().signal,
    isTTY: false,
  };
  return { io: value, out: () => out.join(''), err: () => err.join('') };
}

describe('kserve-canary status / --wait against the sandbox', () => {
  let sb: TestSandbox;
  let token: string;
  before(async () => {
    sb = await openSandbox({ syncDelayMs: 300, rolloutDelayMs: 200, pollMs: 100 });
    token = fs.readFileSync(sb.tokenFile, 'utf8').trim();
  });
  after(async () => {
    await sb?.cleanup();
  });
  const common = () => ['--kubeconfig', sb.kubeconfigPath, '--gitops', sb.gitopsClone];

  it('prints the oc get isvc columns plus ENV, DESIRED, SYNC, STATE', async () => {
    const r = io();
    const code = await main(['status', ...common()], r.io);
    assert.equal(code, 0, r.err());
    const lines = r.out().trim().split('\n');
    assert.match(lines[0] ?? '', /^ENV\s+NAME\s+URL\s+READY\s+PREV\s+LATEST\s+PREVROLLEDOUTREVISION\s+LATESTREADYREVISION\s+AGE\s+DESIRED\s+SYNC\s+STATE$/);
    const test = lines.find((l) => l.startsWith('test '));
    assert.match(
      test ?? '',
      /^test\s+jukebox\s+https:\/\/\S+\s+True\s+80\s+20\s+jukebox-predictor-\d+\s+jukebox-predictor-\d+\s+\S+\s+20\s+Synced@[0-9a-f]{7}\s+live$/,
    );
    const prod = lines.find((l) => l.startsWith('prod '));
    assert.match(prod ?? '', /\s+none\s+Synced@[0-9a-f]{7}\s+live$/);
    assert.ok(!r.out().includes(token) && !r.err().includes(token));
  });

  it('filters by model and --env; --json has the documented shape and no credentials', async () => {
    const r = io();
    assert.equal(await main(['status', 'jukebox', '--env', 'test', '--json', ...common()], r.io), 0, r.err());
    const doc = JSON.parse(r.out());
    assert.equal(doc.schemaVersion, 1);
    assert.equal(doc.connection.phase, 'connected');
    assert.equal(doc.connection.problem, null);
    assert.equal(doc.services.length, 1);
    const s = doc.services[0];
    assert.deepEqual(Object.keys(s), [
      'env',
      'namespace',
      'name',
      'model',
      'url',
      'ready',
      'readyMessage',
      'prev',
      'latest',
      'prevRevision',
      'latestRevision',
      'creationTimestamp',
      'traffic',
      'latestCreatedRevision',
      'latestReadyRevision',
      'newRevisionNotReady',
      'deploymentMode',
      'canarySupported',
      'specPercent',
      'rollingOut',
      'desired',
      'application',
      'state',
      'reason',
      'observed',
    ]);
    assert.equal(s.prev, 80);
    assert.equal(s.latest, 20);
    assert.equal(s.state, 'live');
    assert.equal(s.desired.percent, 20);
    assert.ok(!r.out().includes(token));
  });

  it('-o yaml is the --json document as YAML; -o wide adds NAMESPACE, MODE, HEALTH, LATESTCREATEDREVISION; -n filters', async () => {
    const j = io();
    assert.equal(await main(['status', 'jukebox', '-n', 'user1-test', '--json', ...common()], j.io), 0, j.err());
    const y = io();
    assert.equal(await main(['status', 'jukebox', '--env', 'test', '-o', 'yaml', ...common()], y.io), 0, y.err());
    const { parse } = await import('yaml');
    const fromYaml = parse(y.out()) as { schemaVersion: number; services: { env: string; state: string }[] };
    const fromJson = JSON.parse(j.out()) as typeof fromYaml;
    assert.equal(fromYaml.schemaVersion, 1);
    assert.deepEqual(
      fromYaml.services.map((s) => [s.env, s.state]),
      [['test', 'live']],
    );
    assert.deepEqual({ ...fromYaml, connection: null }, { ...fromJson, connection: null });
    const w = io();
    assert.equal(await main(['status', '-o', 'wide', ...common()], w.io), 0, w.err());
    const lines = w.out().trim().split('\n');
    assert.match(lines[0] ?? '', /^ENV\s+NAMESPACE\s+NAME\s+URL\s.*\s+STATE\s+MODE\s+HEALTH\s+LATESTCREATEDREVISION$/);
    assert.match(lines.find((l) => l.startsWith('test ')) ?? '', /^test\s+user1-test\s+jukebox\s.*\slive\s+Serverless\s+Healthy\s+jukebox-predictor-\d+$/);
    // no checkout: --environments says which environments there are
    const e = io();
    assert.equal(await main(['status', '-n', 'user1-prod', '--environments', 'test,prod', '--kubeconfig', sb.kubeconfigPath, '-o', 'json'], e.io), 0, e.err());
    assert.deepEqual(
      (JSON.parse(e.out()) as typeof fromJson).services.map((s) => [s.env, s.state]),
      [['prod', 'unknown']],
    );
    const bad = io();
    assert.equal(await main(['status', '-n', 'user1-staging', ...common()], bad.io), 2);
    assert.match(bad.err(), /--namespace: Namespace "user1-staging" is not the namespace of any environment/);
  });

  it('a model that does not exist: exit 1 with a hint', async () => {
    const r = io();
    assert.equal(await main(['status', 'nope', ...common()], r.io), 1);
    assert.match(r.err(), /error: No InferenceService or model named nope/);
    assert.match(r.err(), /hint: Watched namespaces: user1-prod, user1-test/);
  });

  it('no kubeconfig anywhere: exit 1 saying what to do', async () => {
    const r = io();
    assert.equal(await main(['status', '--gitops', sb.gitopsClone], r.io), 1);
    assert.match(r.err(), /No kubeconfig found/);
    assert.match(r.err(), /oc login/);
  });

  it('bad input: exit 2', async () => {
    const r = io();
    assert.equal(await main(['status', '../x', ...common()], r.io), 2);
    assert.equal(await main(['status', '--bogus'], io().io), 2);
  });

  it('--watch redraws on change until Ctrl-C', async () => {
    const ac = new AbortController();
    const r = io({ signal: ac.signal });
    const done = main(['status', 'jukebox', '--env', 'test', '--watch', ...common()], r.io);
    await until(() => /live/.test(r.out()), 'first table');
    sb.controller.pauseArgo(true);
    try {
      patchSpec(sb, 'user1-test', 'jukebox', 60);
      await until(() => /\s40\s+60\s.*drift/.test(r.out()), 'the redraw showing 40/60 drift');
    } finally {
      sb.controller.pauseArgo(false);
      await sb.controller.argo.refresh('jukebox-test');
    }
    ac.abort();
    assert.equal(await done, 0);
  });

  /** `set jukebox <pct> --env test --wait`: its exit code, output and the refresh annotations Argo CD saw. */
  async function setAndWait(pct: number) {
    const r = io({ env: { ...process.env, KUBECONFIG: sb.kubeconfigPath } });
    const refreshes: string[] = [];
    const unsubscribe = sb.controller.store.subscribe((e) => {
      if (e.resource === APPLICATIONS && e.object.metadata.annotations?.[REFRESH_ANNOTATION] && !e.previous?.metadata.annotations?.[REFRESH_ANNOTATION])
        refreshes.push(e.object.metadata.name ?? '');
    });
    // Argo CD waits until the follow has said how it learns of the commit (else it may sync first, and the line is left out)
    sb.controller.pauseArgo(true);
    const running = main(['set', 'jukebox', String(pct), '--env', 'test', '--gitops', sb.gitopsClone, '--wait', '--timeout', '1m'], r.io);
    try {
      await until(
        () => /(✓ Asked Argo CD|… Waiting for Argo CD)/.test(r.out()),
        () => `the refresh line in:\n${r.out()}${r.err()}`,
      );
    } finally {
      sb.controller.pauseArgo(false);
    }
    const code = await running;
    unsubscribe();
    assert.equal(code, 0, r.err() + r.out());
    return { out: r.out(), err: r.err(), refreshes, sha: git(sb.gitopsClone, ['rev-parse', 'HEAD']).trim() };
  }

  it("set jukebox 50 --env test --wait (the workshop user: view in user1-toolings): waits for Argo CD's own poll, ends at prev 50 / latest 50, Synced at the pushed sha", async () => {
    const { out, err, refreshes, sha } = await setAndWait(50);
    assert.deepEqual(refreshes, [], 'no refresh annotation: the user may not set it');
    const pushed = out.indexOf('✓ Pushed');
    const waiting = out.indexOf("… Waiting for Argo CD's own poll of git (up to 3 min by default): no right to refresh jukebox-test\n");
    const synced = out.indexOf('✓ Argo CD synced jukebox-test');
    const rolled = out.indexOf('✓ KServe serves prev 50% · latest 50%');
    assert.ok(pushed >= 0 && waiting > pushed && synced > waiting && rolled > synced, out);
    assert.ok(out.trimEnd().endsWith(`jukebox in test: prev 50% · latest 50%, Synced at ${sha.slice(0, 7)}`), out);
    assert.doesNotMatch(out + err, /forbidden|403|warning/i);
  });

  it('set --wait with edit in user1-toolings: Argo CD is asked to refresh the Application once', async () => {
    sb.controller.viewOnly('user1-toolings', false);
    try {
      const { out, refreshes } = await setAndWait(45);
      assert.deepEqual(refreshes, ['jukebox-test']);
      assert.ok(out.indexOf('✓ Asked Argo CD to refresh jukebox-test') > out.indexOf('✓ Pushed'), out);
    } finally {
      sb.controller.viewOnly('user1-toolings', true);
    }
  });

  it('promote --wait ends at latest 100%; rollback --wait at prev 100% · latest 0%', async () => {
    const env = { ...process.env, KUBECONFIG: sb.kubeconfigPath };
    const p = io({ env });
    assert.equal(await main(['promote', 'jukebox', '-n', 'user1-test', '--gitops', sb.gitopsClone, '--wait', '--timeout', '60'], p.io), 0, p.err());
    assert.match(p.out(), /jukebox in test: latest 100%, Synced at [0-9a-f]{7}\n$/);
    const r = io({ env });
    assert.equal(await main(['rollback', 'jukebox', '--env', 'test', '--gitops', sb.gitopsClone, '--wait', '--timeout', '60'], r.io), 0, r.err());
    assert.match(r.out(), /jukebox in test: prev 100% · latest 0%, Synced at [0-9a-f]{7}\n$/);
  });

  it('--wait with credentials the cluster refuses (401): fails with the problem and the pushed commit, not a timeout', async () => {
    sb.faults.rotateToken({ rewriteKubeconfig: false }); // the kubeconfig's token is now refused, like an expired login
    let sha = '';
    try {
      const r = io({ env: { ...process.env, KUBECONFIG: sb.kubeconfigPath } });
      const code = await main(['set', 'jukebox', '40', '--env', 'test', '--gitops', sb.gitopsClone, '--wait', '--timeout', '30'], r.io);
      assert.equal(code, 1, r.out() + r.err());
      sha = git(sb.gitopsClone, ['rev-parse', 'HEAD']).trim();
      assert.match(r.out(), new RegExp(`✓ Pushed ${sha.slice(0, 7)}`));
      assert.match(
        r.err(),
        new RegExp(
          `error: Cannot follow jukebox in test: The cluster at \\S+ refused the credentials.* The change itself is pushed \\(commit ${sha.slice(0, 7)}\\): nothing is lost\\.`,
        ),
      );
      assert.match(r.err(), /hint: Log in again/);
      assert.doesNotMatch(r.err(), /Timed out|has no Application/);
      const rotated = fs.readFileSync(sb.tokenFile, 'utf8').trim();
      assert.ok(!r.out().includes(rotated) && !r.err().includes(rotated) && !r.err().includes(token));
    } finally {
      sb.faults.refreshKubeconfig();
      // the next test stops Argo CD: let it finish syncing this push first
      const app = () =>
        sb.controller.store.get(APPLICATIONS, 'user1-toolings', 'jukebox-test') as { status?: { sync?: { status?: string; revision?: string } } } | undefined;
      if (sha) await until(() => app()?.status?.sync?.status === 'Synced' && app()?.status?.sync?.revision === sha, `jukebox-test Synced at ${sha}`);
    }
  });

  it('--wait times out naming the stuck step', async () => {
    await sb.controller.argo.stop(); // Argo CD down: the push is never synced
    try {
      const r = io({ env: { ...process.env, KUBECONFIG: sb.kubeconfigPath } });
      const code = await main(['set', 'jukebox', '30', '--env', 'test', '--gitops', sb.gitopsClone, '--wait', '--timeout', '2'], r.io);
      assert.equal(code, 1);
      assert.match(r.err(), /Timed out after 2 s: Argo CD has not synced jukebox-test to [0-9a-f]{7}: it reports Synced at [0-9a-f]{7}/);
      assert.match(r.err(), /hint: Check the Application in Argo CD/);
    } finally {
      sb.controller.argo.start();
    }
  });

  it('ages like kubectl', () => {
    const now = Date.parse('2026-01-10T00:00:00Z');
    const ago = (s: number) => new Date(now - s * 1000).toISOString();
    assert.equal(humanAge(ago(45), now), '45s');
    assert.equal(humanAge(ago(200), now), '3m20s');
    assert.equal(humanAge(ago(17 * 60), now), '17m');
    assert.equal(humanAge(ago(5 * 3600 + 180), now), '5h3m');
    assert.equal(humanAge(ago(20 * 3600), now), '20h');
    assert.equal(humanAge(ago(3 * 86400 + 4 * 3600), now), '3d4h');
    assert.equal(humanAge(ago(30 * 86400), now), '30d');
    assert.equal(humanAge(ago(800 * 86400), now), '2y70d');
    assert.equal(humanAge(undefined, now), '<unknown>');
  });
});
