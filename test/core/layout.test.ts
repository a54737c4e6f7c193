/** Layout discovery and model paths (src/core/layout.ts): names, strays, links and sizes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CanaryError } from '../../src/core/errors';
import { DEFAULT_DEPLOYMENTS_DIR, MAX_CONFIG_BYTES, discoverLayout, findGitopsRoot, formatBytes, modelConfigPath, resolvedPlace } from '../../src/core/layout';

function tempRoot(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ksc-layout-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function put(root: string, rel: string, text = 'chart_path: charts/x\n'): void {
  const p = path.join(root, rel);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, text);
}

test('discoverLayout lists environments and models sorted, skipping strays without failing', async (t) => {
  const root = tempRoot(t);
  put(root, 'model-deployments/test/jukebox/config.yaml');
  put(root, 'model-deployments/test/another/config.yaml');
  put(root, 'model-deployments/prod/jukebox/config.yaml');
  put(root, 'model-deployments/test/no-config/values.yaml');
  put(root, 'model-deployments/test/Bad_Name/config.yaml');
  put(root, 'model-deployments/test/stray.txt');
  put(root, 'model-deployments/README.md');
  put(root, 'model-deployments/Staging/m/config.yaml');
  put(root, 'model-deployments/.hidden/m/config.yaml');
  mkdirSync(path.join(root, 'model-deployments/empty-env'));
  mkdirSync(path.join(root, 'model-deployments/test/dir-config/config.yaml'), { recursive: true });

  const layout = await discoverLayout(root);
  assert.equal(layout.root, root);
  assert.equal(layout.deploymentsDir, DEFAULT_DEPLOYMENTS_DIR);
  assert.deepEqual(
    layout.environments.map((e) => [e.name, e.models.map((m) => m.name)]),
    [
      ['empty-env', []],
      ['prod', ['jukebox']],
      ['test', ['another', 'jukebox']],
    ],
  );
  const jukebox = layout.environments[2]!.models[1]!;
  assert.equal(jukebox.configPath, path.join(root, 'model-deployments/test/jukebox/config.yaml'));
  assert.equal(layout.environments[2]!.dir, path.join(root, 'model-deployments/test'));
  const ignored = Object.fromEntries(layout.ignored.map((i) => [i.path, i.reason]));
  assert.match(ignored[path.join('model-deployments', 'README.md')]!, /not a folder/);
  assert.match(ignored[path.join('model-deployments', 'Staging')]!, /DNS-1123/);
  assert.match(ignored[path.join('model-deployments', '.hidden')]!, /DNS-1123/);
  assert.match(ignored[path.join('model-deployments', 'test', 'no-config')]!, /no config\.yaml/);
  assert.match(ignored[path.join('model-deployments', 'test', 'Bad_Name')]!, /DNS-1123/);
  assert.match(ignored[path.join('model-deployments', 'test', 'stray.txt')]!, /not a folder/);
  assert.match(ignored[path.join('model-deployments', 'test', 'dir-config')]!, /not a file/);
  assert.ok(
    layout.ignored.every((i) => i.refused === undefined || i.path.endsWith('dir-config')),
    'strays are not refusals',
  );
});

test('discoverLayout honours a configured deployments folder and refuses one escaping the root', async (t) => {
  const root = tempRoot(t);
  put(root, 'gitops/deploy/test/m/config.yaml');
  const layout = await discoverLayout(root, { deploymentsDir: 'gitops/deploy/' });
  assert.equal(layout.deploymentsDir, 'gitops/deploy');
  assert.deepEqual(
    layout.environments.map((e) => e.name),
    ['test'],
  );
  for (const bad of ['../elsewhere', '/etc', 'a/../../b', '', '.', '..']) {
    await assert.rejects(discoverLayout(root, { deploymentsDir: bad }), (e: unknown) => e instanceof CanaryError && e.code === 'invalid-deployments-dir', bad);
    assert.throws(
      () => modelConfigPath(root, 'test', 'm', bad),
      (e: unknown) => e instanceof CanaryError && e.code === 'invalid-deployments-dir',
      bad,
    );
  }
});

test('discoverLayout says clearly when there is no deployments folder', async (t) => {
  const root = tempRoot(t);
  await assert.rejects(discoverLayout(root), (e: unknown) => {
    assert.ok(e instanceof CanaryError);
    assert.equal(e.kind, 'not-found');
    assert.equal(e.code, 'no-deployments-dir');
    assert.match(e.message, /model-deployments/);
    assert.ok(e.hint);
    return true;
  });
  put(root, 'model-deployments');
  await assert.rejects(discoverLayout(root), (e: unknown) => e instanceof CanaryError && e.code === 'no-deployments-dir');
});

test('symlinked folders leading outside the root are skipped and refused', async (t) => {
  const root = tempRoot(t);
  const outside = tempRoot(t);
  put(outside, 'm/config.yaml');
  put(outside, 'config.yaml');
  put(root, 'model-deployments/test/jukebox/config.yaml');
  put(root, 'model-deployments/test/inside/config.yaml');
  symlinkSync(path.join(outside, 'm'), path.join(root, 'model-deployments/test/evil'));
  symlinkSync(path.join(root, 'model-deployments/test/inside'), path.join(root, 'model-deployments/test/alias'));
  mkdirSync(path.join(root, 'model-deployments/test/linkedfile'));
  symlinkSync(path.join(outside, 'config.yaml'), path.join(root, 'model-deployments/test/linkedfile/config.yaml'));

  const layout = await discoverLayout(root);
  assert.deepEqual(
    layout.environments[0]!.models.map((m) => m.name),
    ['alias', 'inside', 'jukebox'],
  );
  assert.ok(layout.ignored.some((i) => i.path.endsWith('evil') && /outside/.test(i.reason)));
  assert.ok(layout.ignored.some((i) => i.path.endsWith('linkedfile') && /outside/.test(i.reason)));
  assert.throws(
    () => modelConfigPath(root, 'test', 'evil'),
    (e: unknown) => e instanceof CanaryError && e.code === 'outside-root',
  );
  assert.throws(
    () => modelConfigPath(root, 'test', 'linkedfile'),
    (e: unknown) => e instanceof CanaryError && e.code === 'outside-root',
  );
  assert.equal(modelConfigPath(root, 'test', 'alias'), path.join(root, 'model-deployments/test/alias/config.yaml'));
});

test('modelConfigPath validates names before building a path', (t) => {
  const root = tempRoot(t);
  assert.equal(modelConfigPath(root, 'test', 'jukebox'), path.join(root, 'model-deployments', 'test', 'jukebox', 'config.yaml'));
  assert.equal(modelConfigPath('relative/root', 'test', 'm'), path.resolve('relative/root/model-deployments/test/m/config.yaml'));
  for (const [env, model] of [
    ['..', 'x'],
    ['test', '../../etc'],
    ['test', 'a/b'],
    ['Test', 'm'],
    ['test', ''],
    ['te st', 'm'],
  ]) {
    assert.throws(
      () => modelConfigPath(root, env!, model!),
      (e: unknown) => e instanceof CanaryError && e.code === 'invalid-name',
      `${env}/${model}`,
    );
  }
});

test('findGitopsRoot walks up to the folder holding model-deployments/', (t) => {
  const root = tempRoot(t);
  put(root, 'model-deployments/test/m/config.yaml');
  mkdirSync(path.join(root, 'docs/deep/er'), { recursive: true });
  assert.equal(findGitopsRoot(root), root);
  assert.equal(findGitopsRoot(path.join(root, 'docs/deep/er')), root);
  assert.equal(findGitopsRoot(path.join(root, 'model-deployments/test/m')), root);
  const other = tempRoot(t);
  assert.equal(findGitopsRoot(other), undefined);
  put(other, 'custom/x');
  assert.equal(findGitopsRoot(path.join(other, 'custom'), 'custom'), other);
});

test('resolvedPlace: a .git folder anywhere on the way (repository, submodule, worktree, any case) or a named git dir is git; above the root is outside', () => {
  const root = path.join(os.tmpdir(), 'r');
  const at = (...p: string[]) => path.join(root, ...p);
  assert.equal(resolvedPlace(root, at('model-deployments', 'test', 'x', 'config.yaml')), undefined);
  assert.equal(resolvedPlace(root, at('.git', 'HEAD')), 'git');
  assert.equal(resolvedPlace(root, at('.git')), 'git');
  assert.equal(resolvedPlace(root, at('vendor', 'sub', '.git')), 'git', 'a submodule or worktree .git file');
  assert.equal(resolvedPlace(root, at('.GIT', 'config')), 'git', 'case-insensitive file systems');
  assert.equal(resolvedPlace(root, at('gitdir', 'HEAD'), [at('gitdir')]), 'git', 'a git dir not called .git (from git rev-parse)');
  assert.equal(resolvedPlace(root, at('.github', 'x')), undefined);
  assert.equal(resolvedPlace(root, path.join(os.tmpdir(), 'elsewhere', 'config.yaml')), 'outside');
  assert.equal(resolvedPlace(root, path.join(os.tmpdir(), 'r2')), 'outside', 'a sibling with the same prefix');
});

test('links into .git, FIFOs and oversized config.yaml files are listed as refused and refused by modelConfigPath', async (t) => {
  const root = tempRoot(t);
  put(root, '.git/HEAD', 'ref: refs/heads/main\n');
  put(root, 'model-deployments/test/ok/config.yaml');
  mkdirSync(path.join(root, 'model-deployments/test/head'));
  symlinkSync('../../../.git/HEAD', path.join(root, 'model-deployments/test/head/config.yaml'));
  symlinkSync('../../.git', path.join(root, 'model-deployments/test/gitdir'));
  put(root, 'model-deployments/test/big/config.yaml');
  truncateSync(path.join(root, 'model-deployments/test/big/config.yaml'), MAX_CONFIG_BYTES + 1);
  put(root, 'model-deployments/test/edge/config.yaml');
  truncateSync(path.join(root, 'model-deployments/test/edge/config.yaml'), MAX_CONFIG_BYTES);
  mkdirSync(path.join(root, 'model-deployments/test/fifo'));
  let fifo = true;
  try {
    execFileSync('mkfifo', [path.join(root, 'model-deployments/test/fifo/config.yaml')]);
  } catch {
    fifo = false;
  }

  const layout = await discoverLayout(root);
  assert.deepEqual(
    layout.environments[0]!.models.map((m) => m.name),
    ['edge', 'ok'],
  );
  const reason = (m: string) => layout.ignored.find((i) => i.path === path.join('model-deployments', 'test', m))?.reason ?? '';
  assert.match(reason('head'), /model-deployments\/test\/head\/config\.yaml is a link to \.git\/HEAD, inside the git directory/);
  assert.match(reason('gitdir'), /model-deployments\/test\/gitdir is a link to \.git, inside the git directory/);
  assert.match(reason('big'), /is 1\.0 MB, over the 1 MiB limit/);
  const refused = Object.fromEntries(layout.ignored.map((i) => [path.basename(i.path), i.refused]));
  assert.deepEqual([refused.head, refused.gitdir, refused.big], ['link-into-git', 'link-into-git', 'config-too-large'], 'marked as refusals');
  const code = (m: string) => {
    try {
      modelConfigPath(root, 'test', m);
      return 'accepted';
    } catch (e) {
      return e instanceof CanaryError ? `${e.kind}/${e.code}` : String(e);
    }
  };
  assert.equal(code('head'), 'invalid-input/link-into-git');
  assert.equal(code('gitdir'), 'invalid-input/link-into-git');
  assert.equal(code('big'), 'invalid-config/config-too-large');
  assert.equal(code('edge'), 'accepted', 'exactly the limit is fine');
  assert.equal(code('missing'), 'accepted', 'a missing model is left to the reader (not-found)');
  if (fifo) {
    assert.match(reason('fifo'), /not a file but a FIFO/);
    assert.equal(code('fifo'), 'invalid-config/not-a-file', 'refused instead of blocking on open');
  }
});

test('formatBytes names sizes as people read them', () => {
  assert.equal(formatBytes(MAX_CONFIG_BYTES), '1 MiB');
  assert.equal(formatBytes(40_000_000), '40.0 MB');
  assert.equal(formatBytes(1500), '1.5 kB');
  assert.equal(formatBytes(12), '12 bytes');
});
