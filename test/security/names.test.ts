/**
 * Names are validated before they become paths, refs or arguments (issue 7 §4): the built CLI,
 * as a real process, given `../prod`, `--env ../../etc`, `a b`, `JUKEBOX` and friends exits 2
 * saying which name is wrong, and the gitops clone is untouched: every file byte-identical,
 * HEAD, branches, index and `git status --porcelain` the same, nothing created outside it.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildCliBundle } from '../cli/bundle';
import { git } from '../core/git-helpers';
import { publishCanaryChange } from '../../src/core/publish';
import { isCanaryError } from '../../src/core/errors';
import { openSandbox, type TestSandbox } from '../sandbox/helpers';
import { cliEnv, runCli, runMain, treeDigest } from './helpers';

const BAD_MODELS = [
  '../prod',
  'a b',
  'JUKEBOX',
  '..',
  '.',
  'jukebox/../../x',
  '/etc/passwd',
  '-rf',
  '--upload-pack=touch /tmp/x',
  'juke\nbox',
  'jukebox;rm -rf ~',
  '$(id)',
  'refs/heads/main',
  'jukebox.',
  'x'.repeat(64),
  '',
];
const BAD_ENVS = ['../../etc', '..', 'Test', 'te st', 'test/..', '/tmp', 'test~1', 'test:main', '-e'];

describe('names are validated before they touch the disk, git or a command line', () => {
  let sb: TestSandbox;
  let work: string;
  let home: string;
  let clone: string;
  let bundle: { bin: string; cleanup(): void };
  let before0: { files: Map<string, string>; head: string; status: string; refs: string; outside: string[] };

  const snapshot = () => ({
    files: treeDigest(clone),
    head: git(clone, ['rev-parse', 'HEAD']).trim(),
    status: git(clone, ['status', '--porcelain', '--ignored']),
    refs: git(clone, ['for-each-ref']),
    outside: readdirSync(work).sort(),
  });

  before(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'ksc-names-'));
    home = path.join(work, 'home');
    mkdirSync(home);
    [bundle, sb] = await Promise.all([buildCliBundle(), openSandbox({ dir: path.join(work, 'sandbox') })]);
    clone = sb.gitopsClone;
    before0 = snapshot();
  });
  after(async () => {
    await sb?.cleanup();
    bundle?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const assertUntouched = (what: string) => {
    const now = snapshot();
    assert.equal(now.head, before0.head, `${what}: HEAD`);
    assert.equal(now.status, before0.status, `${what}: git status`);
    assert.equal(now.refs, before0.refs, `${what}: refs`);
    assert.deepEqual([...now.files], [...before0.files], `${what}: every file byte-identical`);
    assert.deepEqual(now.outside, before0.outside, `${what}: nothing created next to the clone`);
  };

  /** Runs each refused command line (four at a time), checks exit 2 and the message, then that nothing changed. */
  /** The real CLI process for the command lines of the issue; the same main() in-process for the rest (faster). */
  const inProcess = (argv: string[]) => runMain(argv, clone, home);
  const PROCESS_CASES = new Set([
    JSON.stringify(['set', '../prod', '20', '--env', 'test']),
    JSON.stringify(['set', 'jukebox', '20', '--env=../../etc']),
    JSON.stringify(['set', 'a b', '20', '--env', 'test']),
    JSON.stringify(['set', 'JUKEBOX', '20', '--env', 'test']),
    JSON.stringify(['promote', '../prod', '--env', 'test']),
    JSON.stringify(['status', '--env', '../../etc', '--kubeconfig', '<kubeconfig>']),
  ]);

  const usedProcessCases = new Set<string>();
  const expectRefused = async (cases: [string[], 'model' | 'environment'][]) => {
    const one = async ([args, what]: [string[], 'model' | 'environment']) => {
      const argv = [args[0]!, '--gitops', clone, ...args.slice(1)];
      const asProcess = PROCESS_CASES.has(JSON.stringify(args.map((a) => (a === sb.kubeconfigPath ? '<kubeconfig>' : a))));
      const r = asProcess ? await runCli(bundle.bin, argv, { env: cliEnv(home), cwd: clone }) : await inProcess(argv);
      const label = JSON.stringify(args);
      assert.equal(r.code, 2, `${label}: exit 2\n${r.stdout}\n${r.stderr}`);
      if (args.some((a) => a === '')) assert.match(r.stderr, /error: /, label);
      else assert.match(r.stderr, new RegExp(`error: (Invalid ${what} name|.*${what})`, 'i'), label);
      assert.match(r.stderr, /hint: /, label);
      assert.equal(r.stdout, '', `${label}: nothing on stdout`);
    };
    const queue = [...cases];
    for (const [args] of cases) usedProcessCases.add(JSON.stringify(args.map((a) => (a === sb.kubeconfigPath ? '<kubeconfig>' : a))));
    await Promise.all(
      [1, 2, 3, 4].map(async () => {
        for (let c = queue.shift(); c; c = queue.shift()) await one(c);
      }),
    );
    assertUntouched(cases.map(([a]) => a.join(' ')).join('; '));
  };

  it('set / promote / rollback refuse bad model names: exit 2, clone untouched', async () => {
    await expectRefused([
      ...BAD_MODELS.slice(0, 6).map((m): [string[], 'model'] => [['set', m, '20', '--env', 'test'], 'model']),
      ...BAD_MODELS.slice(6).map((m): [string[], 'model'] => [['set', '--env', 'test', '--', m, '20'], 'model']),
      [['promote', '../prod', '--env', 'test'], 'model'],
      [['rollback', 'JUKEBOX', '--env', 'test'], 'model'],
    ]);
  });

  it('set / promote / rollback refuse bad environment names: exit 2, clone untouched', async () => {
    await expectRefused([
      ...BAD_ENVS.map((e): [string[], 'environment'] => [['set', 'jukebox', '20', `--env=${e}`], 'environment']),
      [['promote', 'jukebox', '--env', '../../etc'], 'environment'],
      [['rollback', 'jukebox', '--env', '..'], 'environment'],
    ]);
  });

  it('status and config refuse them too (before any request or read)', async () => {
    await expectRefused([
      [['config', '../prod'], 'model'],
      [['config', '--env', '../../etc'], 'environment'],
      [['status', 'a b', '--kubeconfig', sb.kubeconfigPath], 'model'],
      [['status', '--env', '../../etc', '--kubeconfig', sb.kubeconfigPath], 'environment'],
    ]);
  });

  it('a good name still works after all that (the refusals were about the names)', async () => {
    for (const c of PROCESS_CASES) assert.ok(usedProcessCases.has(c), `ran as a real process: ${c}`);
    const r = await runCli(bundle.bin, ['set', 'jukebox', '35', '--env', 'test', '--no-push', '--gitops', clone], { env: cliEnv(home), cwd: clone });
    assert.equal(r.code, 0, r.stderr);
    assert.notEqual(snapshot().head, before0.head);
  });

  it('the library refuses them as well, before reading anything', async () => {
    const missing = path.join(work, 'does-not-exist');
    for (const [env, model] of [
      ['test', '../prod'],
      ['../../etc', 'jukebox'],
      ['test', 'a b'],
      ['test', 'JUKEBOX'],
      ['prod\u0000', 'jukebox'],
      ['test', 'juke\u0000box'],
    ]) {
      await assert.rejects(
        publishCanaryChange({ root: missing, env: env!, model: model!, action: { kind: 'promote' }, processEnv: cliEnv(home) }),
        (e) => isCanaryError(e) && e.kind === 'invalid-input' && e.code === 'invalid-name',
        `${env}/${model}`,
      );
    }
  });
});
