/**
 * Debounced folder watching: one call of `fire` after a burst of changes in any of the
 * folders. Best effort: folders that do not exist or cannot be watched are skipped.
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
  const watchers: fs.FSWatcher[] = [];
  for (const f of folders) {
    try {
      const w = fs.watch(f.dir, { persistent: false, recursive: f.recursive ?? false }, (_e, name) => {
        if (f.names && name && !f.names.test(String(name))) return;
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => {
          timer = undefined;
          fire();
        }, debounceMs);
      });
      w.on('error', () => undefined);
      watchers.push(w);
    } catch {
      // not there (yet), or not watchable: nothing to watch
    }
  }
  return () => {
    if (timer) clearTimeout(timer);
    for (const w of watchers) w.close();
  };
}
