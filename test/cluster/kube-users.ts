/**
 * Kubeconfigs for the sandbox with every kind of user the tests need: an exec plugin (a tiny
 * node script printing an ExecCredential, or failing in a given way), a token file, a token,
 * a client certificate. Written 0600 into a test's work directory.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify as toYaml } from 'yaml';
import type { Sandbox } from '../../src/sandbox/index';

/**
 * What the plugin does: `ok` prints an ExecCredential with the token read from `tokenFile`;
 * `stderr` prints `secret` on stderr and exits 1; `garbage` prints `secret` as non-JSON on
 * stdout and exits 0; `truncated` prints an ExecCredential cut in the middle of the token.
 */
export type PluginMode = 'ok' | 'stderr' | 'garbage' | 'truncated';

/** Writes the plugin script; returns its path. */
export function writeExecPlugin(dir: string, name: string, mode: PluginMode, opts: { tokenFile?: string; secret?: string } = {}): string {
  const file = path.join(dir, `${name}.cjs`);
  const body = {
    ok: `const t = require('fs').readFileSync(${JSON.stringify(opts.tokenFile ?? '')}, 'utf8').trim();
process.stdout.write(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: t } }));`,
    stderr: `process.stderr.write('error: refreshing the login failed for token ' + ${JSON.stringify(opts.secret ?? '')} + '\\n');
process.exit(1);`,
    garbage: `process.stdout.write('token ' + ${JSON.stringify(opts.secret ?? '')} + '\\n');`,
    truncated: `process.stdout.write('{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"' + ${JSON.stringify(opts.secret ?? '')});`,
  }[mode];
  writeFileSync(file, `${body}\n`, { mode: 0o700 });
  return file;
}

/** The `exec` user entry running `node <script>`. */
export function execUser(script: string): Record<string, unknown> {
  return { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: process.execPath, args: [script], interactiveMode: 'Never' } };
}

/** A kubeconfig for the sandbox's API server (its CA) with `user` as the user entry. */
export function sandboxKubeconfig(sb: Sandbox, file: string, user: Record<string, unknown>): string {
  const ca = readFileSync(sb.caFile, 'utf8');
  writeFileSync(
    file,
    toYaml({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'sandbox', cluster: { server: sb.server, 'certificate-authority-data': Buffer.from(ca).toString('base64') } }],
      users: [{ name: 'user1', user }],
      contexts: [{ name: 'sandbox', context: { cluster: 'sandbox', user: 'user1', namespace: 'user1-test' } }],
      'current-context': 'sandbox',
    }),
    { mode: 0o600 },
  );
  return file;
}
