/**
 * Bad input is refused before anything is written: for every writing command (set, promote,
 * rollback, rollout) and traffic (which sends requests) × every bad option, exit 2 with an
 * error naming the option, and the clone (working tree and .git) and the bare remote are
 * byte-identical afterwards; traffic sent no request.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { main } from '../../src/cli/main';
import type { CliIO } from '../../src/cli/command';
import { git, makeSandbox, testGitEnv, type Sandbox } from '../core/git-helpers';

/** Every file and folder below `root` (.git included) with the sha256 of its bytes. */
function fingerprint(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      const rel = path.relative(root, p);
      const st = statSync(p);
      if (st.isDirectory()) {
        out.set(`${rel}/`, 'dir');
        walk(p);
      } else {
        out.set(rel, createHash('sha256').update(readFileSync(p)).digest('hex'));
      }
    }
  };
  walk(root);
  return out;
}

let sb: Sandbox;
let clone: string;
let home: string;
let kubeconfig: string;
let notYaml: string;
let server: http.Server;
let url = '';
let requests = 0;

before(async () => {
  sb = makeSandbox();
  clone = sb.clone('a');
  home = path.join(sb.dir, 'home');
  mkdirSync(home);
  kubeconfig = path.join(sb.dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    'apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: { server: "https://127.0.0.1:9" }\nusers:\n- name: u\n  user: { token: t }\ncontexts:\n- name: ctx-a\n  context: { cluster: c, user: u, namespace: user1-test }\ncurrent-context: ctx-a\n',
  );
  notYaml = path.join(sb.dir, 'not-a-kubeconfig');
  writeFileSync(notYaml, 'clusters: [unclosed\n');
  server = http.createServer((req, res) => {
    requests++;
    req.resume();
    res.end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await new Promise((r) => server.close(r));
  sb.cleanup();
});

async function run(argv: string[], extraEnv: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    cwd: clone,
    env: { ...testGitEnv(), HOME: home, KUBECONFIG: '', ...extraEnv },
    signal: new AbortController().signal,
    isTTY: false,
  };
  return { code: await main(argv, io), stdout, stderr };
}

type Case = { args: string[]; why: RegExp; env?: Record<string, string> };
const missing = () => path.join(sb.dir, 'no-such-kubeconfig');

/** Bad options every command with --env and the namespace/path settings refuses. */
const scopeCases = (): Case[] => [
  { args: ['--namespace-pattern', '{user}'], why: /--namespace-pattern "\{user\}": it must contain \{env\} exactly once/ },
  { args: ['--namespace-pattern', '{usr}-{env}'], why: /--namespace-pattern .*\{usr\} is not a placeholder/ },
  { args: ['--user', 'User_1'], why: /--user "User_1" is not a valid user/ },
  { args: ['--toolings-namespace', '..'], why: /--toolings-namespace "\.\." is not a namespace name/ },
  { args: ['--deployments-dir', '../elsewhere'], why: /--deployments-dir: Invalid deployments folder/ },
  { args: [], env: { KSERVE_CANARY_USER: 'Bad User' }, why: /\$KSERVE_CANARY_USER "Bad User" is not a valid user/ },
  { args: [], env: { KSERVE_CANARY_NAMESPACE_PATTERN: 'ns-{user}' }, why: /\$KSERVE_CANARY_NAMESPACE_PATTERN .*\{env\} exactly once/ },
  { args: ['--environments', 'test,,prod'], why: /--environments "test,,prod": an empty name/ },
  { args: [], env: { KSERVE_CANARY_ENVIRONMENTS: 'Test' }, why: /\$KSERVE_CANARY_ENVIRONMENTS "Test": "Test" is not an environment name/ },
  {
    args: ['-n', 'user1-test', '--environments', 'prod'],
    why: /--namespace: Namespace "user1-test" is not the namespace of any environment.*prod = <user>-prod/s,
  },
  { args: ['-n', 'user1-prod'], why: /--env test and --namespace user1-prod \(environment prod\) disagree/ },
  { args: ['--kubeconfig', missing()], why: /--kubeconfig \S+no-such-kubeconfig: no such file/ },
  { args: ['--kubeconfig', notYaml], why: /--kubeconfig \S+not-a-kubeconfig: not a kubeconfig/ },
  { args: ['--kubeconfig', kubeconfig, '--context', 'nope'], why: /--context "nope" is not a context of .*Contexts there: ctx-a/s },
  { args: ['--context', 'nope'], why: /--context nope: no kubeconfig found/ },
];

/** set / promote / rollback: the change options and --wait's. */
const changeCases = (): Case[] => [
  ...scopeCases(),
  { args: ['--wait', '--timeout', '5x'], why: /--timeout "5x" is not a duration/ },
  { args: ['--wait', '--timeout', '0'], why: /--timeout 0 is too short/ },
  { args: ['--wait', '--timeout', '-5'], why: /--timeout/ },
  { args: ['--wait', '--timeout', '48h'], why: /--timeout 48h is too long: at most 24h/ },
  { args: ['--timeout', '5m'], why: /--timeout only applies with --wait/ },
  { args: ['--wait', '--no-push'], why: /--wait and --no-push exclude each other/ },
  { args: ['--pull-request', '--no-push'], why: /--pull-request and --no-push exclude each other/ },
  { args: ['--dry-run', '--wait'], why: /--dry-run and --wait exclude each other/ },
  { args: ['-o', 'wide'], why: /-o wide does not apply/ },
  { args: ['-o', 'toml'], why: /--output "toml" is not a format/ },
  { args: ['--wait'], why: /--wait: no kubeconfig found/ },
  { args: ['--wait', '--kubeconfig', missing()], why: /--kubeconfig \S+: no such file/ },
  { args: ['--wait'], env: { KUBECONFIG: notYaml }, why: /\$KUBECONFIG \S+not-a-kubeconfig: not a kubeconfig/ },
  { args: ['--message', ''], why: /--message is empty/ },
  { args: ['--message', '  '], why: /--message is empty/ },
  { args: ['--message', 'a\0b'], why: /--message contains a NUL character/ },
];

const COMMANDS: { name: string; argv: () => string[]; cases: () => Case[] }[] = [
  { name: 'set', argv: () => ['set', 'jukebox', '30', '--env', 'test'], cases: changeCases },
  { name: 'promote', argv: () => ['promote', 'jukebox', '--env', 'test'], cases: changeCases },
  { name: 'rollback', argv: () => ['rollback', 'jukebox', '--env', 'test'], cases: changeCases },
  {
    name: 'rollout',
    argv: () => ['rollout', 'jukebox', '--env', 'test', '--yes', '--plan', '10,100'],
    cases: () => [
      ...scopeCases(),
      { args: ['--no-gates', '--pause', 'abc'], why: /--pause "abc" is not a duration/ },
      { args: ['--no-gates', '--pause', '-1'], why: /--pause/ },
      { args: ['--window', '0', '--no-gates'], why: /--window 0 is too short: at least 1s/ },
      { args: ['--max-p95', 'soon', '--no-gates'], why: /--max-p95 "soon" is not a duration/ },
      { args: ['--no-gates', '--timeout', '10x'], why: /--timeout "10x" is not a duration/ },
      { args: ['--no-gates', '--traffic', '0'], why: /--traffic 0 is outside 0\.01\.\.1000/ },
      { args: ['--no-gates', '--traffic', 'lots'], why: /--traffic "lots" is not a number/ },
      { args: ['--prometheus', 'not a url'], why: /--prometheus "not a url": the URL must be http or https/ },
      { args: [], env: { KSERVE_CANARY_PROMETHEUS_URL: 'ftp://x' }, why: /\$KSERVE_CANARY_PROMETHEUS_URL "ftp:\/\/x": the URL must be http or https/ },
      {
        args: ['--prometheus', 'http://127.0.0.1:9'],
        env: { KSERVE_CANARY_PROMETHEUS_CA: '/no/such/ca.pem' },
        why: /\$KSERVE_CANARY_PROMETHEUS_CA \/no\/such\/ca\.pem: no such readable file/,
      },
      { args: ['--no-gates', '-o', 'wide'], why: /-o wide does not apply/ },
      { args: ['--no-gates', '--dry-run', '--status'], why: /--dry-run and --status exclude each other/ },
      { args: ['--no-gates', '--no-push'], why: /--no-push: each step must reach the cluster/ },
      { args: ['--no-gates', '--pull-request', '--no-push'], why: /--pull-request and --no-push exclude each other/ },
      { args: ['--no-gates', '-o', 'xml'], why: /--output "xml" is not a format/ },
      { args: ['--no-gates', '--plan', '10,abc,100'], why: /--plan/ },
    ],
  },
  {
    name: 'traffic',
    argv: () => ['traffic', 'jukebox', '--env', 'test', '--rps', '5', '--duration', '1s', '--url', url],
    cases: () => [
      ...scopeCases(),
      { args: ['--rps', '0'], why: /--rps 0 is outside 0\.01\.\.1000/ },
      { args: ['--duration', 'soon'], why: /--duration "soon" is not a duration/ },
      { args: ['--duration', '2h'], why: /--duration 2h is too long: at most 1h/ },
      { args: ['--timeout', '0s'], why: /--timeout 0s is too short/ },
      { args: ['--concurrency', '1.5'], why: /--concurrency "1\.5" is not a whole number/ },
      { args: ['-o', 'xml'], why: /--output "xml" is not a format/ },
      { args: ['--json', '-o', 'yaml'], why: /--json and -o yaml exclude each other/ },
      { args: ['--url', 'ftp://127.0.0.1/'], why: /--url: Test traffic goes over http or https only/ },
      { args: ['--url', 'http://u:p@127.0.0.1/'], why: /--url: The traffic URL must not hold a user name or password/ },
    ],
  },
];

describe('cli: a bad option is refused before any write (exit 2, clone and remote byte-identical)', () => {
  for (const cmd of COMMANDS) {
    it(`${cmd.name}: every bad option`, async () => {
      const clone0 = fingerprint(clone);
      const remote0 = fingerprint(sb.remote);
      const requests0 = requests;
      for (const c of cmd.cases()) {
        const argv = [...cmd.argv(), ...c.args];
        const shown = `${argv.join(' ')}${c.env ? ` with ${JSON.stringify(c.env)}` : ''}`;
        const r = await run(argv, c.env);
        assert.equal(r.code, 2, `${shown}: ${r.stdout}${r.stderr}`);
        assert.match(r.stderr, /^error: /, shown);
        assert.match(r.stderr, c.why, shown);
        assert.match(r.stderr, /\nhint: ./, shown);
        assert.deepEqual(fingerprint(clone), clone0, `${shown}: the clone changed`);
        assert.deepEqual(fingerprint(sb.remote), remote0, `${shown}: the remote changed`);
      }
      assert.equal(requests, requests0, 'no request was sent');
    });
  }
});

describe('cli: good options in the new forms are accepted', () => {
  it('-n user1-test is --env test (the pattern {user}-{env}); --user must match it', async () => {
    // without --wait the cluster is not needed: a broken $KUBECONFIG does not matter
    let r = await run(['set', 'jukebox', '30', '-n', 'user1-test', '--no-push'], { KUBECONFIG: notYaml });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^test\/jukebox: canary 10% -> 30%, committed [0-9a-f]{10} on main \(not pushed\)/);
    r = await run(['promote', 'jukebox', '--namespace', 'team-prod', '--namespace-pattern', 'team-{env}']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^prod\/jukebox: already no canary/);
    const before = fingerprint(clone);
    r = await run(['rollback', 'jukebox', '-n', 'user1-test', '--user', 'user2']);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /--namespace: Namespace "user1-test" is not the namespace of any environment \(pattern \{user\}-\{env\}, user user2\).*\nhint: Environments and their namespaces: prod = user2-prod, test = user2-test/s,
    );
    assert.deepEqual(fingerprint(clone), before);
  });

  it('a model or environment that is not in the checkout: exit 1 before the fetch, nothing written', async () => {
    const before = fingerprint(clone);
    for (const argv of [
      ['set', 'jukebx', '20', '--env', 'test'],
      ['promote', 'jukebox', '--env', 'staging'],
    ]) {
      const r = await run(argv);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^error: No config\.yaml for model "jukeb?o?x" in environment "(test|staging)".*\nhint: .*git pull/s);
      assert.deepEqual(fingerprint(clone), before, argv.join(' '));
    }
  });

  it('config -o wide adds NAME and FILE; -o yaml is the -o json document', async () => {
    const w = await run(['config', '-o', 'wide']);
    assert.equal(w.code, 0, w.stderr);
    assert.deepEqual(
      w.stdout
        .trimEnd()
        .split('\n')
        .map((l) => l.split(/\s{3,}/)),
      [
        ['ENV', 'MODEL', 'VERSION', 'CANARY', 'DESIRED', 'NAME', 'FILE'],
        ['prod', 'jukebox', '1111111111', '-', 'latest 100%', 'jukebox', 'model-deployments/prod/jukebox/config.yaml'],
        ['test', 'jukebox', '4562a17c17', 'trafficPercent: 30', 'latest 30% / prev 70%', 'jukebox', 'model-deployments/test/jukebox/config.yaml'],
      ],
    );
    const j = await run(['config', '-o', 'json']);
    const y = await run(['config', '-o', 'yaml']);
    assert.equal(y.code, 0, y.stderr);
    const { parse } = await import('yaml');
    assert.deepEqual(parse(y.stdout), JSON.parse(j.stdout));
    assert.deepEqual(JSON.parse((await run(['config', '--json'])).stdout), JSON.parse(j.stdout));
  });

  it('--deployments-dir and $KSERVE_CANARY_DEPLOYMENTS_DIR find another folder', async () => {
    const other = makeSandbox({ 'deploy/envs/test/jukebox/config.yaml': 'name: jukebox\ncanary:\n  trafficPercent: 5\n' });
    try {
      const c = other.clone('b');
      let r = await run(['config', '--gitops', c, '--deployments-dir', 'deploy/envs', '-o', 'json']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(
        JSON.parse(r.stdout).models.map((m: { env: string; desiredPercent: number }) => [m.env, m.desiredPercent]),
        [['test', 5]],
      );
      r = await run(['set', 'jukebox', '15', '--env', 'test', '--gitops', c], { KSERVE_CANARY_DEPLOYMENTS_DIR: 'deploy/envs' });
      assert.equal(r.code, 0, r.stderr);
      assert.match(git(other.remote, ['show', 'main:deploy/envs/test/jukebox/config.yaml']), /trafficPercent: 15/);
    } finally {
      other.cleanup();
    }
  });
});
