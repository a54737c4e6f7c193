/**
 * `kserve-canary completion bash|zsh`: the scripts hold every command and every option of the
 * commands' specs, bash accepts them (`bash -n`), and the bash function completes commands,
 * options, -o values, environments and models from a checkout when run in a real bash.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/main';
import type { CliIO } from '../../src/cli/command';
import { COMMANDS } from '../../src/cli/commands';
import { makeSandbox, type Sandbox } from '../core/git-helpers';

async function print(shell: string): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIO = {
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
    cwd: os.tmpdir(),
    env: {},
    signal: new AbortController().signal,
    isTTY: false,
  };
  return { code: await main(['completion', shell], io), out, err };
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'ksc-completion-'));
const sandboxes: Sandbox[] = [];
after(() => {
  rmSync(dir, { recursive: true, force: true });
  sandboxes.forEach((s) => s.cleanup());
});

/** Runs the bash script's completion function for a command line (the last word is being typed). */
function complete(script: string, words: string[], cwd: string): string[] {
  const file = path.join(dir, 'kserve-canary.bash');
  writeFileSync(file, script);
  const line = `source ${JSON.stringify(file)}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _kserve_canary; printf '%s\\n' "\${COMPREPLY[@]}"`;
  // eslint-disable-next-line no-restricted-syntax -- the test checks the completion script in bash itself (no user input reaches it)
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', line], { cwd, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean).sort();
}

describe('cli completion', () => {
  it('bash and zsh scripts list every command and every option of each', async () => {
    const bash = await print('bash');
    const zsh = await print('zsh');
    assert.equal(bash.code, 0, bash.err);
    assert.equal(zsh.code, 0, zsh.err);
    assert.match(zsh.out, /^#compdef kserve-canary\n/);
    assert.match(zsh.out, /bashcompinit/);
    for (const entry of COMMANDS) {
      const cmd = await entry.load();
      const line = new RegExp(`^ {4}${entry.name}\\) opts="([^"]*)" ;;$`, 'm').exec(bash.out);
      assert.ok(line, `no options line for ${entry.name}`);
      const listed = line[1]!.split(' ');
      for (const [name, spec] of Object.entries(cmd.options)) {
        assert.ok(listed.includes(`--${name}`), `${entry.name} --${name}`);
        if (spec.short) assert.ok(listed.includes(`-${spec.short}`), `${entry.name} -${spec.short}`);
      }
      assert.ok(zsh.out.includes(line[0]), `zsh has ${entry.name}'s options too`);
    }
    const bad = await print('fish');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /^error: completion: unknown shell "fish"\.\nhint: /);
  });

  it('bash -n accepts the bash script; zsh -n the zsh one when zsh is installed', async (t) => {
    const file = path.join(dir, 'syntax.bash');
    writeFileSync(file, (await print('bash')).out);
    // eslint-disable-next-line no-restricted-syntax -- a syntax check of the generated script
    const r = spawnSync('bash', ['-n', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    // eslint-disable-next-line no-restricted-syntax -- a syntax check of the generated script
    const z = spawnSync('zsh', ['-n', '-c', (await print('zsh')).out], { encoding: 'utf8' });
    if (z.error) t.diagnostic('zsh is not installed: its script was checked by content only');
    else assert.equal(z.status, 0, z.stderr);
  });

  it('completes commands, options, -o values, environments and models from the checkout', async () => {
    const sb = makeSandbox({ 'model-deployments/test/other/config.yaml': 'name: other\n' });
    sandboxes.push(sb);
    const clone = sb.clone('a');
    const script = (await print('bash')).out;
    const sub = path.join(clone, 'model-deployments', 'test');
    assert.deepEqual(complete(script, ['kserve-canary', 'ro'], clone), ['rollback', 'rollout']);
    assert.deepEqual(complete(script, ['kserve-canary', 'set', '--no'], clone), ['--no-push']);
    assert.deepEqual(complete(script, ['kserve-canary', 'status', '-o', ''], clone), ['json', 'wide', 'yaml']);
    assert.deepEqual(complete(script, ['kserve-canary', 'set', 'jukebox', '20', '--env', ''], sub), ['prod', 'test']);
    assert.deepEqual(complete(script, ['kserve-canary', 'promote', ''], clone), ['jukebox', 'other']);
    assert.deepEqual(complete(script, ['kserve-canary', 'promote', '--env', 'prod', ''], clone), ['jukebox']);
    assert.deepEqual(complete(script, ['kserve-canary', 'set', 'jukebox', ''], clone), [], 'the percent is not a model');
    assert.deepEqual(complete(script, ['kserve-canary', 'config', '--gitops', clone, ''], os.tmpdir()), ['jukebox', 'other']);
    assert.deepEqual(complete(script, ['kserve-canary', 'status', '--window', ''], clone), [], 'no completion for a value');
    assert.deepEqual(complete(script, ['kserve-canary', 'completion', ''], clone), ['bash', 'zsh']);
    assert.deepEqual(complete(script, ['kserve-canary', 'promote', ''], os.tmpdir()), [], 'no checkout, no models');
  });
});
