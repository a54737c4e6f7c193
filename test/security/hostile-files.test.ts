/**
 * Hostile files in the gitops checkout (issue 12 §2), with real git and the CLI's main() in
 * process: a config.yaml or model folder that is a symbolic link into `.git` or out of the
 * repository is refused naming the link and where it leads, with a classified exit code, and
 * every byte of the clone — `.git` included — stays as it was; a 40 MB config.yaml is refused
 * from its size alone (stat), naming the limit. A link that stays in the work tree is
 * accepted and edits the file it leads to.
 */
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { CanaryError } from '../../src/core/errors';
import { MAX_CONFIG_BYTES, discoverLayout } from '../../src/core/layout';
import { publishCanaryChange } from '../../src/core/publish';
import { readModelConfig } from '../../src/core/config';
import { TEST_CONFIG_REL, filesOf, git, head, makeSandbox, pushFromOther, testGitEnv, type Sandbox } from '../core/git-helpers';
import { runMain, treeDigest } from './helpers';

const sandboxes: Sandbox[] = [];
const temps: string[] = [];
after(() => {
  sandboxes.forEach((s) => s.cleanup());
  temps.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

/** A clone whose last pushed commit adds `link` (relative to the clone) pointing at `target`. */
function cloneWithLink(link: string, target: string): { sb: Sandbox; clone: string } {
  const sb = makeSandbox();
  sandboxes.push(sb);
  const clone = sb.clone('work');
  mkdirSync(path.dirname(path.join(clone, link)), { recursive: true });
  symlinkSync(target, path.join(clone, link));
  git(clone, ['add', '--', link]);
  git(clone, ['commit', '--quiet', '-m', `add ${link}`]);
  git(clone, ['push', '--quiet', 'origin', 'main']);
  return { sb, clone };
}

function cli(clone: string, argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'ksc-hostile-home-'));
  temps.push(home);
  return runMain(argv, clone, home);
}

async function refusedBy(p: Promise<unknown>, code: string): Promise<CanaryError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof CanaryError, `a CanaryError, not ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`expected a ${code} refusal`);
}

describe('hostile files: links and sizes are refused before anything is read or written', () => {
  it('config.yaml -> ../../../.git/HEAD: set x 20 exits 2 naming the link and .git/HEAD; every byte of the clone, .git included, identical', async () => {
    const { sb, clone } = cloneWithLink('model-deployments/test/x/config.yaml', '../../../.git/HEAD');
    const before = treeDigest(clone);
    const headBefore = readFileSync(path.join(clone, '.git/HEAD'), 'utf8');
    const r = await cli(clone, ['set', 'x', '20', '--env', 'test']);
    assert.equal(r.code, 2, `exit 2 (invalid input)\n${r.stderr}`);
    assert.match(r.stderr, /model-deployments\/test\/x\/config\.yaml is a link to \.git\/HEAD, inside the git directory/);
    assert.match(r.stderr, /hint: /);
    assert.equal(r.stdout, '');
    // The library says the same, with its stable code.
    const e = await refusedBy(
      publishCanaryChange({ root: clone, env: 'test', model: 'x', action: { kind: 'set', percent: 20 }, processEnv: testGitEnv() }),
      'link-into-git',
    );
    assert.equal(e.kind, 'invalid-input');
    assert.equal(readFileSync(path.join(clone, '.git/HEAD'), 'utf8'), headBefore);
    assert.deepEqual([...treeDigest(clone)], [...before], 'every file and link of the clone and its .git byte-identical');
    assert.equal(head(sb.remote, 'main'), head(clone), 'nothing committed or pushed');
  });

  it('a model folder linked to .git, or to a folder outside the repository: refused naming where it leads, nothing changed', async () => {
    const outside = mkdtempSync(path.join(os.tmpdir(), 'ksc-hostile-outside-'));
    temps.push(outside);
    writeFileSync(path.join(outside, 'config.yaml'), 'name: x\ncanary:\n  trafficPercent: 10\n');
    const { clone } = cloneWithLink('model-deployments/test/g', '../../.git');
    symlinkSync(outside, path.join(clone, 'model-deployments/test/o'));
    symlinkSync(path.join(outside, 'config.yaml'), path.join(clone, 'model-deployments/test/jukebox/linked.yaml'));
    const before = treeDigest(clone);
    const outsideBefore = treeDigest(outside);

    const g = await cli(clone, ['set', 'g', '20', '--env', 'test', '--no-push']);
    assert.equal(g.code, 2, g.stderr);
    assert.match(g.stderr, /model-deployments\/test\/g is a link to \.git, inside the git directory/);
    const o = await cli(clone, ['rollback', 'o', '--env', 'test', '--no-push']);
    assert.equal(o.code, 2, o.stderr);
    assert.match(
      o.stderr,
      new RegExp(`model-deployments/test/o is a link to ${outside.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, outside the gitops repository`),
    );
    await refusedBy(readModelConfig(clone, 'test', 'o'), 'outside-root');

    // Discovery lists both as refused, with the same reasons, instead of skipping them silently.
    const layout = await discoverLayout(clone);
    const reasons = Object.fromEntries(layout.ignored.map((i) => [i.path.split(path.sep).join('/'), i.reason]));
    assert.match(reasons['model-deployments/test/g']!, /inside the git directory/);
    assert.match(reasons['model-deployments/test/o']!, /outside the gitops repository/);
    const listed = await cli(clone, ['config', '--env', 'test']);
    assert.equal(listed.code, 1, 'config lists them and exits 1');
    assert.match(listed.stderr, /^warning: refused model-deployments\/test\/g: model-deployments\/test\/g is a link to \.git, inside the git directory/m);
    assert.match(listed.stderr, /^warning: refused model-deployments\/test\/o: .*outside the gitops repository/m);
    assert.match(listed.stdout, /jukebox/, 'the good models are still listed');
    assert.deepEqual([...treeDigest(clone)], [...before]);
    assert.deepEqual([...treeDigest(outside)], [...outsideBefore]);
  });

  it('a link that stays in the work tree (prod/alias -> ../test/jukebox) is accepted: the file it leads to is edited and committed', async () => {
    const { clone } = cloneWithLink('model-deployments/prod/alias', '../test/jukebox');
    const r = await publishCanaryChange({ root: clone, env: 'prod', model: 'alias', action: { kind: 'set', percent: 30 }, processEnv: testGitEnv() });
    assert.equal(r.changed, true);
    assert.deepEqual(filesOf(clone, 'HEAD'), ['model-deployments/test/jukebox/config.yaml']);
    assert.equal(lstatSync(path.join(clone, 'model-deployments/prod/alias')).isSymbolicLink(), true, 'the link is still a link');
    assert.match(readFileSync(path.join(clone, 'model-deployments/test/jukebox/config.yaml'), 'utf8'), /trafficPercent: 30/);
  });

  it('a 40 MB config.yaml: set exits 1 naming the 1 MiB limit, read and discovery refuse it without reading it, nothing changed', async () => {
    const sb = makeSandbox();
    sandboxes.push(sb);
    const clone = sb.clone('work');
    const big = path.join(clone, 'model-deployments/test/big/config.yaml');
    mkdirSync(path.dirname(big), { recursive: true });
    const line = 'k: "' + 'x'.repeat(94) + '"\n';
    writeFileSync(big, `name: big\ncanary:\n  trafficPercent: 10\n${line.repeat(Math.ceil(40e6 / line.length))}`);
    assert.ok(lstatSync(big).size > 40 * MAX_CONFIG_BYTES * 0.95);
    const before = treeDigest(clone);

    const r = await cli(clone, ['set', 'big', '20', '--env', 'test', '--no-push']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /config\.yaml is 40\.\d MB, over the 1 MiB limit/);
    const e = await refusedBy(readModelConfig(clone, 'test', 'big'), 'config-too-large');
    assert.equal(e.kind, 'invalid-config');
    const layout = await discoverLayout(clone);
    assert.match(layout.ignored.find((i) => i.path.endsWith('big'))?.reason ?? '', /over the 1 MiB limit/);
    assert.deepEqual([...treeDigest(clone)], [...before]);
  });

  it('a 40 MB config.yaml pushed by someone else while we publish: refused without parsing it, our commit taken back, nothing pushed', async () => {
    const sb = makeSandbox();
    sandboxes.push(sb);
    const clone = sb.clone('work');
    const start = head(clone);
    const line = 'k: "' + 'x'.repeat(94) + '"\n';
    let theirs = '';
    const e = await refusedBy(
      publishCanaryChange({
        root: clone,
        env: 'test',
        model: 'jukebox',
        action: { kind: 'set', percent: 20 },
        processEnv: testGitEnv(),
        beforePush: (attempt) => {
          if (attempt === 1) theirs = pushFromOther(sb, 'ci', TEST_CONFIG_REL, (t) => t + line.repeat(Math.ceil(40e6 / line.length)), 'CI: a huge config');
        },
      }),
      'config-too-large',
    );
    assert.match(e.message, /on origin\/main is 40\.\d MB, over the 1 MiB limit/);
    assert.equal(head(clone), start, 'our commit was taken back');
    assert.equal(head(sb.remote, 'main'), theirs, 'the remote keeps theirs, ours was not pushed');
  });
});
