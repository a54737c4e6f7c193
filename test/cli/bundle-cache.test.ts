/**
 * What the bundled CLI loads when it starts, and its code cache (src/cli/bundle-cache.ts):
 * `set` loads the git group's bundle and never the cluster group's (the Kubernetes client, the
 * sandbox), and the yaml bundle only when it parses YAML with the library (promote; not set on
 * the workshop's file, not help); the cache is written once, used as it is, replaced when V8 refuses it or the bundle
 * changes, never written when turned off or by a run that only prints help, and changes nothing
 * the commands print.
 * Built into a temporary folder (test/cli/bundle.ts), run as real processes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildCliBundle } from './bundle';
import { sandboxFactory } from './helpers';
import { testGitEnv, TEST_CONFIG_REL } from '../core/git-helpers';
import { compileCacheDir } from '../../src/cli/bundle-cache';

const sandbox = sandboxFactory();

/** Preloaded into the CLI: at exit, prints the files in require's cache (every bundle is registered there). */
const PROBE = `process.once('exit', () => process.stderr.write('LOADED ' + JSON.stringify(Object.keys(require.cache)) + '\\n'));\n`;

describe('cli bundles: what a command loads, and the code cache', () => {
  let bundle: { bin: string; cleanup(): void };
  let tmp: string;
  let probe: string;
  before(async () => {
    bundle = await buildCliBundle();
    tmp = mkdtempSync(path.join(os.tmpdir(), 'ksc-cache-'));
    probe = path.join(tmp, 'probe.cjs');
    writeFileSync(probe, PROBE);
  });
  after(() => {
    bundle.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  });

  const dist = () => path.join(path.dirname(bundle.bin), '..', 'dist');
  const exec = (args: string[], cwd: string, env: Record<string, string>, pre: string[] = []) =>
    spawnSync(process.execPath, [...pre, bundle.bin, ...args], { cwd, env: { ...testGitEnv(), ...env }, encoding: 'utf8', timeout: 60000 });
  const loaded = (stderr: string) => {
    const line = stderr.split('\n').find((l) => l.startsWith('LOADED '));
    assert.ok(line, stderr);
    return (JSON.parse(line.slice('LOADED '.length)) as string[]).map((f) => path.basename(f));
  };
  const cacheFiles = (dir: string) => readdirSync(dir).filter((f) => !f.startsWith('.'));

  it('set loads the git group, not the cluster group; status loads the cluster group', () => {
    const c = sandbox().clone('a');
    const env = { KSC_COMPILE_CACHE: path.join(tmp, 'probe-cache') };
    const set = exec(['set', 'jukebox', '30', '--env', 'test'], c, env, ['--require', probe]);
    assert.equal(set.status, 0, set.stderr);
    const setLoads = loaded(set.stderr);
    assert.ok(setLoads.includes('cli-git.js'), setLoads.join(' '));
    assert.ok(!setLoads.includes('cli-cluster.js'), `set loaded the cluster bundle: ${setLoads.join(' ')}`);
    // yaml loads on first use, not with the group: the workshop's config.yaml is edited line by
    // line (src/core/config-fast.ts), promote goes through the yaml library, help parses nothing.
    assert.ok(!setLoads.includes('cli-yaml.js'), setLoads.join(' '));
    const promote = exec(['promote', 'jukebox', '--env', 'test'], c, env, ['--require', probe]);
    assert.equal(promote.status, 0, promote.stderr);
    assert.ok(loaded(promote.stderr).includes('cli-yaml.js'), promote.stderr);
    const help = exec(['set', '--help'], c, env, ['--require', probe]);
    assert.equal(help.status, 0, help.stderr);
    assert.ok(loaded(help.stderr).includes('cli-git.js'), help.stderr);
    assert.ok(!loaded(help.stderr).includes('cli-yaml.js'), help.stderr);
    // The probe does see the cluster bundle when a command needs it.
    const status = exec(['status', '--env', 'test', '--kubeconfig', path.join(tmp, 'missing-kubeconfig')], c, env, ['--require', probe]);
    assert.match(status.stderr, /^error: status: --kubeconfig .*: no such file\./);
    assert.ok(loaded(status.stderr).includes('cli-cluster.js'), status.stderr);
  });

  it('writes the cache once, uses it as it is, replaces a refused or stale one, and prints the same', () => {
    const c = sandbox().clone('b');
    const dir = path.join(tmp, 'cache');
    const env = { KSC_COMPILE_CACHE: dir };
    const first = exec(['set', 'jukebox', '31', '--env', 'test'], c, env);
    assert.equal(first.status, 0, first.stderr);
    // One cache per bundle loaded (set on this file loads no yaml).
    const [name, ...more] = cacheFiles(dir).filter((f) => f.startsWith('cli-git-'));
    assert.deepEqual(more, []);
    assert.match(name!, new RegExp(`^cli-git-[0-9a-f]{8}-[0-9a-f]{16}-${process.version.replace(/\./g, '\\.')}-${process.arch}\\.bin$`));
    const file = path.join(dir, name!);
    const written = readFileSync(file);
    assert.ok(written.length > 10000, `${written.length} bytes`);
    const mtime = statSync(file).mtimeMs;

    // Accepted: not written again.
    const second = exec(['set', 'jukebox', '32', '--env', 'test'], c, env);
    assert.equal(second.status, 0, second.stderr);
    assert.deepEqual(
      cacheFiles(dir).filter((f) => f.startsWith('cli-git-')),
      [name],
    );
    assert.equal(statSync(file).mtimeMs, mtime);
    assert.deepEqual(readFileSync(file), written);

    // Refused by V8 (garbage): the command still runs, and the cache is made again.
    writeFileSync(file, 'not a code cache');
    const third = exec(['set', 'jukebox', '33', '--env', 'test'], c, env);
    assert.equal(third.status, 0, third.stderr);
    assert.match(readFileSync(path.join(c, TEST_CONFIG_REL), 'utf8'), /trafficPercent: 33 /);
    assert.ok(readFileSync(file).length > 10000);

    // The bundle written again (same bytes, as a reinstall does): another key, the old cache removed.
    // Another install's cache stays; one not written for 40 days goes.
    const suffix = `-${process.version}-${process.arch}.bin`;
    const otherInstall = `cli-git-00000000-${'1'.repeat(16)}${suffix}`;
    const abandoned = `cli-git-00000001-${'2'.repeat(16)}${suffix}`;
    writeFileSync(path.join(dir, otherInstall), 'x');
    writeFileSync(path.join(dir, abandoned), 'x');
    const old = new Date(Date.now() - 40 * 24 * 3600 * 1000);
    utimesSync(path.join(dir, abandoned), old, old);
    const bundleFile = path.join(dist(), 'cli-git.js');
    writeFileSync(bundleFile, readFileSync(bundleFile));
    const fourth = exec(['set', 'jukebox', '34', '--env', 'test'], c, env);
    assert.equal(fourth.status, 0, fourth.stderr);
    const now = cacheFiles(dir).filter((f) => f !== otherInstall && f.startsWith('cli-git-'));
    assert.ok(cacheFiles(dir).includes(otherInstall));
    assert.equal(now.length, 1, now.join(' '));
    assert.notEqual(now[0], name);
    rmSync(path.join(dir, otherInstall));

    // The same output with the cache, without it, and on the run that writes it.
    for (const args of [
      ['set', '--help'],
      ['config', '--env', 'test', '-o', 'json'],
      ['set', 'jukebox', '34', '--env', 'test', '--dry-run'],
    ]) {
      const outs = [env, { KSC_COMPILE_CACHE: 'off' }, { KSC_COMPILE_CACHE: path.join(tmp, `fresh-${args[0]}-${args.length}`) }]
        .map((e) => exec(args, c, e))
        .map((r) => ({ status: r.status, stdout: r.stdout, stderr: r.stderr }));
      assert.equal(outs[0]!.status, 0, outs[0]!.stderr);
      assert.deepEqual(outs[1], outs[0], args.join(' '));
      assert.deepEqual(outs[2], outs[0], args.join(' '));
    }
  });

  it('turned off or help only, nothing is written; by default it goes to the user cache folder', () => {
    const c = sandbox().clone('c');
    const xdg = path.join(tmp, 'xdg');
    const home = path.join(tmp, 'home');
    const off = exec(['set', 'jukebox', '40', '--env', 'test'], c, { KSC_COMPILE_CACHE: 'off', XDG_CACHE_HOME: xdg, HOME: home });
    assert.equal(off.status, 0, off.stderr);
    assert.throws(() => readdirSync(xdg), /ENOENT/);
    assert.throws(() => readdirSync(home), /ENOENT/);
    // Help loads the set group's bundle but writes no cache (it would hold little of `set`).
    for (const help of [
      ['set', '--help'],
      ['help', 'set'],
      ['promote', 'jukebox', '-h'],
    ]) {
      const r = exec(help, c, { KSC_COMPILE_CACHE: '', XDG_CACHE_HOME: xdg, HOME: home }, ['--require', probe]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^Usage: kserve-canary /);
      assert.ok(loaded(r.stderr).includes('cli-git.js'), r.stderr);
      assert.throws(() => readdirSync(xdg), /ENOENT/, help.join(' '));
    }
    const on = exec(['set', 'jukebox', '41', '--env', 'test'], c, { KSC_COMPILE_CACHE: '', XDG_CACHE_HOME: xdg, HOME: home });
    assert.equal(on.status, 0, on.stderr);
    assert.deepEqual(
      cacheFiles(path.join(xdg, 'kserve-canary', 'v8')).map((f) => f.split('-').slice(0, 2).join('-')),
      ['cli-git'],
    );
  });
});

describe('cli bundles: compileCacheDir', () => {
  it('KSC_COMPILE_CACHE, then the platform cache folder; off, 0, false, no and NODE_DISABLE_COMPILE_CACHE turn it off', () => {
    const home = path.join(path.sep, 'home', 'u');
    assert.equal(compileCacheDir({ KSC_COMPILE_CACHE: path.join(path.sep, 'c'), HOME: home }, 'linux'), path.join(path.sep, 'c'));
    for (const off of ['off', '0', 'false', 'NO']) assert.equal(compileCacheDir({ KSC_COMPILE_CACHE: off, HOME: home }, 'linux'), undefined, off);
    assert.equal(compileCacheDir({ NODE_DISABLE_COMPILE_CACHE: '1', HOME: home }, 'linux'), undefined);
    assert.equal(compileCacheDir({ HOME: home }, 'linux'), path.join(home, '.cache', 'kserve-canary', 'v8'));
    assert.equal(compileCacheDir({ HOME: home, XDG_CACHE_HOME: path.join(path.sep, 'x') }, 'linux'), path.join(path.sep, 'x', 'kserve-canary', 'v8'));
    // XDG_CACHE_HOME must be absolute (the XDG rule); a relative one is ignored.
    assert.equal(compileCacheDir({ HOME: home, XDG_CACHE_HOME: 'rel' }, 'linux'), path.join(home, '.cache', 'kserve-canary', 'v8'));
    assert.equal(compileCacheDir({ HOME: home }, 'darwin'), path.join(home, 'Library', 'Caches', 'kserve-canary', 'v8'));
    assert.equal(compileCacheDir({ LOCALAPPDATA: path.join(path.sep, 'la') }, 'win32'), path.join(path.sep, 'la', 'kserve-canary', 'v8'));
    assert.equal(compileCacheDir({}, 'linux'), undefined);
  });
});
