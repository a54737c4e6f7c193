/** writeFileAtomic (src/core/fsutil.ts): old or new content, never a mix; modes kept; links and folders refused. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../../src/core/fsutil';
import { CanaryError } from '../../src/core/errors';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ksc-fsutil-'));
  t.after(() => {
    try {
      chmodSync(dir, 0o755);
    } catch {
      /* already gone */
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

test('writeFileAtomic replaces the content, keeps the mode and leaves no temp file', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'config.yaml');
  writeFileSync(file, 'old\n');
  chmodSync(file, 0o640);
  await writeFileAtomic(file, 'new ✓\r\n');
  assert.equal(readFileSync(file, 'utf8'), 'new ✓\r\n');
  assert.equal(statSync(file).mode & 0o777, 0o640);
  assert.deepEqual(readdirSync(dir), ['config.yaml']);
});

test('writeFileAtomic creates a missing file', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'new.yaml');
  await writeFileAtomic(file, 'x: 1\n');
  assert.equal(readFileSync(file, 'utf8'), 'x: 1\n');
});

test('writeFileAtomic leaves the original and no temp file behind when it fails', async (t) => {
  if (process.getuid?.() === 0) return t.skip('root ignores folder permissions');
  const dir = tempDir(t);
  const file = path.join(dir, 'config.yaml');
  writeFileSync(file, 'keep me\n');
  chmodSync(dir, 0o555); // no new entries allowed: the temp file cannot be created
  await assert.rejects(writeFileAtomic(file, 'lost?\n'));
  chmodSync(dir, 0o755);
  assert.equal(readFileSync(file, 'utf8'), 'keep me\n');
  assert.deepEqual(readdirSync(dir), ['config.yaml']);
});

test('writeFileAtomic refuses to replace a folder, before any temp file exists', async (t) => {
  const dir = tempDir(t);
  const target = path.join(dir, 'is-a-dir');
  writeFileSync(path.join(dir, 'placeholder'), '');
  mkdirSync(path.join(target, 'child'), { recursive: true });
  await assert.rejects(writeFileAtomic(target, 'x'), (e: unknown) => e instanceof CanaryError && e.code === 'not-a-file');
  assert.deepEqual(readdirSync(dir).sort(), ['is-a-dir', 'placeholder']);
});

test('writeFileAtomic refuses a symbolic link: neither the link nor what it points at changes', async (t) => {
  const dir = tempDir(t);
  const victim = path.join(dir, 'HEAD');
  writeFileSync(victim, 'ref: refs/heads/main\n');
  const link = path.join(dir, 'config.yaml');
  symlinkSync(victim, link);
  await assert.rejects(writeFileAtomic(link, 'canary:\n  trafficPercent: 20\n'), (e: unknown) => {
    assert.ok(e instanceof CanaryError);
    assert.equal(e.code, 'not-a-file');
    assert.match(e.message, /symbolic link/);
    return true;
  });
  assert.equal(readFileSync(victim, 'utf8'), 'ref: refs/heads/main\n');
  assert.equal(lstatSync(link).isSymbolicLink(), true);
  assert.deepEqual(readdirSync(dir).sort(), ['HEAD', 'config.yaml']);
});
