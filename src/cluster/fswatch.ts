/**
 * Debounced folder watching: one call of `fire` after a burst of changes in any of the
 * folders. Best effort: folders that do not exist or cannot be watched are skipped. The
 * watchers are re-created after each burst and after an error, so folders replaced on disk
 * (git checkouts and rebases do that) stay watched.
 */
import * as fs from 'node:fs';

export interface WatchedFolder {
  dir: string;
  recursive?: boolean;
  /** Only changes to entries of these names count (default: any). */
  names?: RegExp;
}

export function watchFolders(folders: WatchedFolder[], debounceMs: number, fire: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  let rearm: NodeJS.Timeout | undefined;
  let watchers: fs.FSWatcher[] = [];
  let closed = false;
  const close = () => {
    for (const w of watchers) w.close();
    watchers = [];
  };
  const arm = () => {
    close();
    if (closed) return;
    for (const f of folders) {
      try {
        const w = fs.watch(f.dir, { persistent: false, recursive: f.recursive ?? false }, (_e, name) => {
          if (f.names && name && !f.names.test(String(name))) return;
          if (timer) clearTimeout(timer);
          timer = setTimeout(() => {
            timer = undefined;
            arm();
            fire();
          }, debounceMs);
        });
        w.on('error', () => {
          if (!rearm) rearm = setTimeout(() => ((rearm = undefined), arm()), 1000);
        });
        watchers.push(w);
      } catch {
        // not there (yet), or not watchable: nothing to watch
      }
    }
  };
  arm();
  return () => {
    closed = true;
    if (timer) clearTimeout(timer);
    if (rearm) clearTimeout(rearm);
    close();
  };
}
