/**
 * A kubeconfig user whose bearer token lives in a file (users[].user.token-file, as kubectl
 * reads it): the token is read trimmed, and a new login that rewrites only the token file
 * (the old token revoked: 401) reconnects the store by itself, which then follows the server
 * again. Against the sandbox, whose rotateToken() rewrites its token file.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { createClusterStore } from '../../src/cluster/index';
import { currentTokenFile, loadKubeconfig } from '../../src/cluster/kubeconfig';
import { INFERENCE_SERVICES } from '../../src/sandbox/resources';
import { openSandbox, type TestSandbox } from '../sandbox/helpers';
import { converged, recordingLog, TEST_TUNING, until } from './sandbox-helpers';

interface Kc {
  users: { name: string; user: Record<string, unknown> }[];
}

describe('a kubeconfig whose user reads its token from a file (sandbox)', () => {
  let sb: TestSandbox;
  let kubeconfig: string;
  before(async () => {
    sb = await openSandbox({ syncDelayMs: 200, rolloutDelayMs: 100, pollMs: 100 });
    const k = parse(fs.readFileSync(sb.kubeconfigPath, 'utf8')) as Kc;
    for (const u of k.users) {
      delete u.user.token;
      u.user['token-file'] = sb.tokenFile; // the sandbox writes it with a trailing newline
    }
    kubeconfig = path.join(sb.dir, 'token-file.kubeconfig');
    fs.writeFileSync(kubeconfig, stringify(k));
  });
  after(async () => sb?.cleanup());

  it('reads the token trimmed and names the file; an empty file is refused with a clear error', async () => {
    const kc = await loadKubeconfig({ kind: 'files', files: [kubeconfig] }, undefined);
    assert.equal(kc.getCurrentUser()?.token, fs.readFileSync(sb.tokenFile, 'utf8').trim());
    assert.equal(currentTokenFile(kc), sb.tokenFile);
    const empty = path.join(sb.dir, 'empty-token');
    fs.writeFileSync(empty, '\n');
    const other = path.join(sb.dir, 'empty-token.kubeconfig');
    fs.writeFileSync(other, fs.readFileSync(kubeconfig, 'utf8').split(sb.tokenFile).join(empty));
    await assert.rejects(
      loadKubeconfig({ kind: 'files', files: [other] }, undefined),
      /The token file .*empty-token of the kubeconfig user "user1" is empty or unreadable/,
    );
  });

  it('a new login that rewrites only the token file: the store reconnects and follows the server again', async () => {
    const log = recordingLog();
    const store = await createClusterStore({ settings: { kubeconfigPath: kubeconfig }, gitops: { root: sb.gitopsClone }, log, env: {}, tuning: TEST_TUNING });
    try {
      await store.ready();
      await converged(sb, store);
      sb.faults.rotateToken({ rewriteKubeconfig: false });
      // open watches outlive the old token (the server checks it when a request starts): the reconnect is what matters
      await until(() => log.lines.some((l) => /kubeconfig changed/.test(l.message)), 'a reconnect because the token file changed');
      const isvc = sb.controller.store.get(INFERENCE_SERVICES, 'user1-test', 'jukebox');
      assert.ok(isvc);
      const percent = ((store.get('user1-test/jukebox')?.specPercent ?? 0) + 17) % 100;
      isvc.spec = {
        ...(isvc.spec as Record<string, unknown>),
        predictor: { ...((isvc.spec as { predictor?: Record<string, unknown> }).predictor ?? {}), canaryTrafficPercent: percent },
      };
      delete isvc.metadata.resourceVersion;
      sb.controller.store.update(INFERENCE_SERVICES, isvc, 'user1-test');
      await until(() => store.get('user1-test/jukebox')?.specPercent === percent, 'the change made after the new login');
      await converged(sb, store);
      // connected again: a watch of the new connection listed, which the old token cannot (401)
      await until(() => store.connection().phase === 'connected' && store.connection().problem === undefined, 'connected without a problem');
      assert.ok(
        log.problems().every((l) => /refused the credentials/.test(l)),
        log.problems().join('\n'),
      );
    } finally {
      store.dispose();
    }
  });
});
