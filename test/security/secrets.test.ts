/**
 * Secrets never leak (issue 7 §4): a sandbox (its token, its CA and server private keys),
 * crafted kubeconfigs (a wrong token, a client certificate/key pair, a basic-auth password)
 * and a git remote URL carrying a password; then everything the product can print — the
 * built CLI as a real child process (status, status --json, config --json, set / rollback /
 * promote --wait, failing commands, sandbox --help and the sandbox command itself) and the
 * library's log callbacks (cluster store, publish) with the errors they throw — is grepped
 * for each secret, as is and base64-encoded. Expected: 0. Counts go to test-results/secrets.json
 * (test/figures.ts), once the assertions passed.
 * KSC_EXTHOST_LOG=<file> adds an extension-host log to the scan (optional; with
 * KSC_EXTHOST_SANDBOX=<data dir> its sandbox's token and keys are searched for too).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { inspect } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { buildCliBundle } from '../cli/bundle';
import { git } from '../core/git-helpers';
import { createClusterStore } from '../../src/cluster/index';
import type { ClusterStore } from '../../src/cluster/index';
import { publishCanaryChange } from '../../src/core/publish';
import { isCanaryError } from '../../src/core/errors';
import { openSandbox, type TestSandbox } from '../sandbox/helpers';
import { until } from '../cluster/sandbox-helpers';
import { writeFigures } from '../figures';
import { cliEnv, LeakScanner, runScanned, securityWorkdir, showRun, type CliRun } from './helpers';
import { clientCertificate, closedPort, errorText, refusingGitServer, writeKubeconfig } from './secret-fixtures';

const BASIC_USER = 'alice';
const GIT_USER = 'bob';

describe('secrets never leak into anything the product prints', () => {
  const scan = new LeakScanner();
  let sb: TestSandbox;
  let bundle: { bin: string; cleanup(): void };
  let work: string;
  let home: string;
  let kc: Record<'token' | 'badToken' | 'cert' | 'basic' | 'unreachable', string>;
  let gitPassword: string;
  let git401: Awaited<ReturnType<typeof refusingGitServer>>;
  let pwClone: string;
  let pwUrl: string;
  let deadUrl: string;

  const cli = (label: string, args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): Promise<CliRun> =>
    runScanned(scan, bundle.bin, label, args, { env: cliEnv(home, opts.env), cwd: opts.cwd ?? work });
  const show = showRun;

  before(async () => {
    ({ work, home } = securityWorkdir('ksc-secrets-'));
    [bundle, sb] = await Promise.all([buildCliBundle(), openSandbox({ dir: path.join(work, 'sandbox'), syncDelayMs: 300, rolloutDelayMs: 200, pollMs: 100 })]);
    const token = readFileSync(sb.tokenFile, 'utf8').trim();
    scan.addSecret('sandbox token', token);
    const tlsDir = path.join(sb.dir, 'tls');
    const keyFiles = readdirSync(tlsDir).filter((f) => f.endsWith('.key'));
    assert.ok(keyFiles.length >= 2, `CA and server keys in ${tlsDir}: ${keyFiles.join(', ')}`);
    for (const f of keyFiles) scan.addSecret(`sandbox ${f}`, readFileSync(path.join(tlsDir, f), 'utf8'), { pem: true });

    const caPem = readFileSync(sb.caFile, 'utf8');
    const badToken = `sha256~${randomBytes(24).toString('base64url')}`;
    scan.addSecret('wrong token', badToken);
    const client = clientCertificate();
    scan.addSecret('client key', client.key, { pem: true });
    const basicPassword = `pw-${randomBytes(12).toString('hex')}`;
    scan.addSecret('basic-auth password', basicPassword);
    scan.addSecret('basic-auth user:password', `${BASIC_USER}:${basicPassword}`);
    const dead = await closedPort();
    kc = {
      token: sb.kubeconfigPath,
      badToken: writeKubeconfig(path.join(work, 'kc-bad-token'), sb.server, caPem, { token: badToken }),
      cert: writeKubeconfig(path.join(work, 'kc-cert'), sb.server, caPem, {
        'client-certificate-data': Buffer.from(client.cert).toString('base64'),
        'client-key-data': Buffer.from(client.key).toString('base64'),
      }),
      basic: writeKubeconfig(path.join(work, 'kc-basic'), sb.server, caPem, { username: BASIC_USER, password: basicPassword }),
      unreachable: writeKubeconfig(path.join(work, 'kc-unreachable'), `https://127.0.0.1:${dead}`, caPem, { token }),
    };

    gitPassword = `gitpw-${randomBytes(12).toString('hex')}`;
    scan.addSecret('git remote password', gitPassword);
    scan.addSecret('git remote user:password', `${GIT_USER}:${gitPassword}`);
    git401 = await refusingGitServer();
    pwUrl = `http://${GIT_USER}:${gitPassword}@127.0.0.1:${git401.port}/gitops.git`;
    deadUrl = `http://${GIT_USER}:${gitPassword}@127.0.0.1:${dead}/gitops.git`;
    pwClone = path.join(work, 'pw-clone');
    const g = (args: string[], cwd = work) => git(cwd, args);
    g(['clone', '-q', sb.gitopsRemote, pwClone]);
    g(['remote', 'set-url', 'origin', pwUrl], pwClone);
  });

  after(async () => {
    await git401?.close();
    await sb?.cleanup();
    bundle?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const cluster = () => ['--kubeconfig', kc.token, '--gitops', sb.gitopsClone];

  it('status, status --json and config --json', async () => {
    const table = await cli('status', ['status', ...cluster()]);
    assert.equal(table.code, 0, show(table));
    assert.match(table.stdout, /jukebox/);
    const json = await cli('status --json', ['status', '--json', ...cluster()]);
    assert.equal(json.code, 0, show(json));
    assert.equal(JSON.parse(json.stdout).connection.phase, 'connected');
    const cfg = await cli('config --json', ['config', '--json', '--gitops', sb.gitopsClone]);
    assert.equal(cfg.code, 0, show(cfg));
    assert.ok(JSON.parse(cfg.stdout).models.length >= 2);
    const watch = await cli('status jukebox --env test', ['status', 'jukebox', '--env', 'test', ...cluster()], { env: { KUBECONFIG: kc.token } });
    assert.equal(watch.code, 0, show(watch));
  });

  it('set, rollback and promote with --wait follow the change to the cluster', async () => {
    const wait = ['--env', 'test', '--wait', '--timeout', '90', ...cluster()];
    for (const [label, args] of [
      ['set 30 --wait', ['set', 'jukebox', '30', ...wait]],
      ['rollback --wait', ['rollback', 'jukebox', ...wait]],
      ['promote --wait', ['promote', 'jukebox', ...wait]],
      ['set 20 --wait (KUBECONFIG)', ['set', 'jukebox', '20', '--env', 'test', '--wait', '--timeout', '90', '--gitops', sb.gitopsClone]],
    ] as const) {
      const r = await cli(label, [...args], { env: { KUBECONFIG: kc.token } });
      assert.equal(r.code, 0, `${label}: ${show(r)}`);
      assert.match(r.stdout, /✓/, label);
    }
    const s = await cli('status --json after the changes', ['status', '--json', ...cluster()]);
    assert.equal(s.code, 0, show(s));
  });

  it('failing cluster commands: wrong context, unreachable, 401 (token, client cert, basic auth), 403 namespace', async () => {
    const wrongCtx = await cli('status --context nope', ['status', '--kubeconfig', kc.token, '--context', 'nope']);
    assert.equal(wrongCtx.code, 2, show(wrongCtx)); // a context missing from the kubeconfig is bad input, refused before connecting
    const failing = [
      ['unreachable', kc.unreachable, /unreachable/],
      ['wrong token', kc.badToken, /refused the credentials/],
      ['client certificate', kc.cert, /refused the credentials/],
      ['basic auth', kc.basic, /refused the credentials/],
    ] as const;
    // Read-only commands side by side; the ones that push (set --wait) one after the other.
    await Promise.all(
      failing.map(async ([label, file, kind]) => {
        const table = await cli(`status (${label})`, ['status', '--kubeconfig', file, '--gitops', sb.gitopsClone]);
        assert.equal(table.code, 1, `${label}: ${show(table)}`);
        assert.match(table.stderr, kind, label);
        const json = await cli(`status --json (${label})`, ['status', '--json', '--kubeconfig', file, '--gitops', sb.gitopsClone]);
        assert.equal(json.code, 1, `${label}: ${show(json)}`);
        assert.ok(JSON.parse(json.stdout).connection.problem, label);
      }),
    );
    for (const [label, file] of failing) {
      const wait = await cli(`set --wait (${label})`, [
        'set',
        'jukebox',
        '20',
        '--env',
        'test',
        '--wait',
        '--timeout',
        '1',
        '--kubeconfig',
        file,
        '--gitops',
        sb.gitopsClone,
      ]);
      assert.equal(wait.code, 1, `${label}: ${show(wait)}`);
    }
    sb.controller.forbid('user1-prod', true);
    try {
      const r = await cli('status (403 on user1-prod)', ['status', ...cluster()]);
      assert.match(r.stderr + r.stdout, /Forbidden/, show(r));
      const j = await cli('status --json (403 on user1-prod)', ['status', '--json', ...cluster()]);
      assert.match(j.stdout + j.stderr, /Forbidden/, show(j));
    } finally {
      sb.controller.forbid('user1-prod', false);
    }
  });

  it('failing pushes to a remote URL carrying a password (401, connection refused)', async () => {
    const refused = await cli('set (remote answers 401)', ['set', 'jukebox', '40', '--env', 'test', '--gitops', pwClone]);
    assert.equal(refused.code, 1, show(refused));
    assert.match(refused.stderr, /credentials|refused|authentication/i);
    assert.ok(git401.authorizations.length > 0, 'git sent the URL credentials, so they were really in play');
    git(pwClone, ['remote', 'set-url', 'origin', deadUrl]);
    try {
      const dead = await cli('set (remote down)', ['set', 'jukebox', '40', '--env', 'test', '--gitops', pwClone]);
      assert.equal(dead.code, 1, show(dead));
      const commitOnly = await cli('set --no-push (remote down)', ['set', 'jukebox', '40', '--env', 'test', '--no-push', '--gitops', pwClone]);
      assert.notEqual(commitOnly.code, 2, show(commitOnly));
      const status = await cli('status in the clone', ['status', '--kubeconfig', kc.token], { cwd: pwClone });
      assert.equal(status.code, 0, show(status));
    } finally {
      git(pwClone, ['remote', 'set-url', 'origin', pwUrl]);
    }
  });

  it('help texts and the sandbox command itself', async () => {
    for (const args of [['--help'], ['sandbox', '--help'], ['status', '--help'], ['set', '--help'], ['config']]) {
      await cli(args.join(' '), args, { cwd: sb.gitopsClone });
    }
    // Run the sandbox command on the same data dir's twin: it prints where the token is, never the token.
    const dir = path.join(work, 'sandbox-cli');
    const ready = path.join(work, 'sandbox-cli.json');
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [bundle.bin, 'sandbox', '--dir', dir, '--ready-file', ready], {
      env: cliEnv(home),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    try {
      await until(() => existsSync(ready), 'the sandbox ready file', 60_000);
      scan.add('sandbox --ready-file JSON', readFileSync(ready, 'utf8'));
      // Its own secrets: token and keys of that data dir.
      scan.addSecret('sandbox-cli token', readFileSync(path.join(dir, 'token'), 'utf8').trim());
      for (const f of readdirSync(path.join(dir, 'tls')).filter((x) => x.endsWith('.key'))) {
        scan.addSecret(`sandbox-cli ${f}`, readFileSync(path.join(dir, 'tls', f), 'utf8'), { pem: true });
      }
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, err);
    scan.add('cli sandbox: stdout', out);
    scan.add('cli sandbox: stderr', err);
    assert.match(out, /token file:/);
  });

  it('library log callbacks and thrown errors: cluster store and publish', async () => {
    const storeFor = async (label: string, kubeconfigPath: string, settled: (s: ClusterStore) => boolean) => {
      const lines: string[] = [];
      const log = {
        info: (m: string) => void lines.push(`info ${m}`),
        warn: (m: string) => void lines.push(`warn ${m}`),
        error: (m: string) => void lines.push(`error ${m}`),
        debug: (m: string) => void lines.push(`debug ${m}`),
      };
      let store: ClusterStore | undefined;
      try {
        store = await createClusterStore({
          settings: { kubeconfigPath },
          gitops: { root: sb.gitopsClone },
          log,
          env: { HOME: home },
          tuning: { watchKubeconfig: false, backoffInitialMs: 100, backoffMaxMs: 500, requestTimeoutMs: 5000 },
        });
        await store.ready();
        const s = store;
        await until(() => settled(s), `${label}: the store to settle`);
        scan.add(`store ${label}: connection`, JSON.stringify(store.connection()));
        scan.add(`store ${label}: services`, JSON.stringify(store.services()));
        scan.add(`store ${label}: grafana route`, JSON.stringify(store.grafanaRoute() ?? null));
      } catch (e) {
        scan.add(`store ${label}: thrown`, errorText(e));
      } finally {
        store?.dispose();
        scan.add(`store ${label}: log`, lines.join('\n'));
      }
      return lines;
    };
    const connected = (s: ClusterStore) => s.connection().phase === 'connected' && s.services().length > 0;
    const problem = (s: ClusterStore) => s.connection().problem !== undefined;
    await storeFor('token', kc.token, connected);
    for (const [label, file] of [
      ['wrong token', kc.badToken],
      ['client certificate', kc.cert],
      ['basic auth', kc.basic],
      ['unreachable', kc.unreachable],
    ] as const) {
      const lines = await storeFor(label, file, problem);
      assert.ok(
        lines.some((l) => l.startsWith('warn') || l.startsWith('error')),
        `${label}: a problem was logged: ${lines.join('\n')}`,
      );
    }
    sb.controller.forbid('user1-prod', true);
    try {
      await storeFor('403 on user1-prod', kc.token, problem);
    } finally {
      sb.controller.forbid('user1-prod', false);
    }

    for (const [label, url] of [
      ['401', pwUrl],
      ['down', deadUrl],
    ] as const) {
      git(pwClone, ['remote', 'set-url', 'origin', url]);
      const lines: string[] = [];
      await assert.rejects(
        publishCanaryChange({
          root: pwClone,
          env: 'test',
          model: 'jukebox',
          action: { kind: 'set', percent: 45 },
          processEnv: cliEnv(home),
          log: (l) => void lines.push(l),
          timeoutMs: 10_000,
        }),
        (e) => {
          assert.ok(isCanaryError(e), inspect(e));
          scan.add(`publish (${label}): thrown`, errorText(e));
          return true;
        },
      );
      scan.add(`publish (${label}): log`, lines.join('\n'));
    }
    git(pwClone, ['remote', 'set-url', 'origin', pwUrl]);
  });

  it('an extension-host log, when KSC_EXTHOST_LOG names one', { skip: !process.env.KSC_EXTHOST_LOG }, () => {
    const file = process.env.KSC_EXTHOST_LOG!;
    scan.add(`extension host log ${file}`, readFileSync(file, 'utf8'));
    const sbDir = process.env.KSC_EXTHOST_SANDBOX;
    if (sbDir) {
      scan.addSecret('exthost sandbox token', readFileSync(path.join(sbDir, 'token'), 'utf8').trim());
      for (const f of readdirSync(path.join(sbDir, 'tls')).filter((x) => x.endsWith('.key'))) {
        scan.addSecret(`exthost sandbox ${f}`, readFileSync(path.join(sbDir, 'tls', f), 'utf8'), { pem: true });
      }
    }
  });

  it('the scanner finds a planted secret in each form it checks', () => {
    const probe = new LeakScanner();
    const key = clientCertificate().key;
    probe.addSecret('token', 'sha256~planted-token-value');
    probe.addSecret('key', key, { pem: true });
    probe.add('plain', 'Authorization: Bearer sha256~planted-token-value');
    probe.add('base64', `data: ${Buffer.from('sha256~planted-token-value').toString('base64')}`);
    probe.add('one pem line', `dump ${key.split('\n')[3]} end`);
    probe.add('clean', 'nothing to see here');
    const where = new Set(probe.scan().map((f) => f.source));
    assert.deepEqual([...where].sort(), ['base64', 'one pem line', 'plain']);
  });

  it('no secret, in any form, in any output', (t) => {
    const findings = scan.scan();
    assert.ok(scan.outputs.length >= 40, `enough outputs were collected (${scan.outputs.length})`);
    assert.deepEqual(findings, []);
    writeFigures('secrets', t, {
      outputs_scanned: scan.outputs.length,
      bytes_scanned: scan.bytes,
      secrets_checked: scan.secretCount,
      secrets_found: findings.length,
    });
  });
});
