/**
 * "Show the commit" for a commit marker of the dashboard: a diff editor of the service's
 * config.yaml before and at that commit, read with `git show` from the gitops checkout through a
 * read-only document provider (works in code-server and the desktop alike, git extension or not).
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
import vscode = require('vscode');
import { execFile } from 'node:child_process';
import path from 'node:path';

export const COMMIT_SCHEME = 'kserve-canary-git';
const SHA = /^[0-9a-f]{7,40}$/;

function gitShow(root: string, spec: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', ['show', spec], { cwd: root, encoding: 'utf8', maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(stderr.trim() || err.message));
      else resolve(stdout);
    });
  });
}

/** Serves `kserve-canary-git:/<path in the checkout>?<ref>` (root in the fragment, encoded). */
export function registerCommitDocuments(): vscode.Disposable {
  return vscode.workspace.registerTextDocumentContentProvider(COMMIT_SCHEME, {
    provideTextDocumentContent: async (uri) => {
      const root = decodeURIComponent(uri.fragment);
      const rel = uri.path.replace(/^\//, '');
      const ref = uri.query;
      // The parent of a first commit has no file: an empty left side.
      return gitShow(root, `${ref}:${rel}`).catch(() => '');
    },
  });
}

/** Opens the diff of `file` (absolute, inside `root`) between `sha`^ and `sha`. */
export async function showCommit(root: string, file: string, sha: string, title: string): Promise<void> {
  if (!SHA.test(sha)) throw new Error(`Not a commit id: ${sha}`);
  const rel = path.relative(root, file).split(path.sep).join('/');
  if (rel.startsWith('..')) throw new Error(`${file} is not inside the gitops checkout ${root}`);
  const at = (ref: string) => vscode.Uri.from({ scheme: COMMIT_SCHEME, path: `/${rel}`, query: ref, fragment: encodeURIComponent(root) });
  await vscode.commands.executeCommand('vscode.diff', at(`${sha}^`), at(sha), title, { preview: true });
}
