import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../../src/core/fsutil';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ksc-fsutil-'));
  t.after(() => {
    try { chmodSync(dir, 0o755); } catch { /* already gone */ }
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

test('writeFileAtomic removes its temp file when the rename fails', async (t) => {
  const dir = tempDir(t);
  const target = path.join(dir, 'is-a-dir');
  // A non-empty folder cannot be replaced by a file: rename fails after the temp file exists.
  writeFileSync(path.join(dir, 'placeholder'), '');
  await import('node:fs/promises').then((fs) => fs.mkdir(path.join(target, 'child'), { recursive: true }));
  await assert.rejects(writeFileAtomic(target, 'x'));
  assert.deepEqual(readdirSync(dir).sort(), ['is-a-dir', 'placeholder']);
});
