/** Atomic replacement of one regular file (the config.yaml edits go through it). */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { CanaryError } from './errors';

/**
 * Replaces `file` with `text` so that a reader (or a crash) sees either the old or the new
 * content, never a mix: write a temporary file in the same folder, fsync it, give it the
 * original file's mode, rename it over the original, then fsync the folder (best effort).
 * On any failure the temporary file is removed and the original is left as it was.
 * `file` must be a regular file or missing: a symbolic link, folder or device is refused
 * (CanaryError `not-a-file`) — callers resolve and vet links (layout.ts inspectEntry).
 */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  const dir = path.dirname(file);
  // Unique, not secret: it is created with 'wx' (O_EXCL), so even a name taken meanwhile is never
  // followed or overwritten. (Not node:crypto: loading it would cost the CLI's `set` more than this.)
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}.tmp`);
  let mode: number | undefined;
  try {
    const st = await fs.lstat(file);
    // Only a regular file is replaced: a link (resolve it first, and check where it leads),
    // a folder, FIFO or device is refused before anything is created.
    if (!st.isFile()) {
      throw new CanaryError(
        'invalid-input',
        'not-a-file',
        `Refusing to replace ${file}: it is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}.`,
        'Only plain files are written; nothing was changed.',
      );
    }
    mode = st.mode & 0o7777;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(tmp, 'wx', mode ?? 0o644);
    await handle.writeFile(text, 'utf8');
    if (mode !== undefined) await handle.chmod(mode);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(tmp, file);
  } catch (e) {
    if (handle) await handle.close().catch(() => undefined);
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
  await syncDir(dir);
}

async function syncDir(dir: string): Promise<void> {
  let h: fs.FileHandle | undefined;
  try {
    h = await fs.open(dir, 'r');
    await h.sync();
  } catch {
    // Some platforms/filesystems refuse fsync on a folder; the rename itself is already atomic.
  } finally {
    await h?.close().catch(() => undefined);
  }
}
