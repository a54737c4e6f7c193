/**
 * TLS and kubeconfig handling against the sandbox: verification on by default, off only when
 * the kubeconfig says insecure-skip-tls-verify (with a warning), a context switch in the file
 * (`kubectl config use-context`) reconnects by itself, several KUBECONFIG files merge.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { createClusterStore } from '../../src/cluster/index';
import { openSandbox, type TestSandbox } from '../sandbox/helpers';
import { APPLICATIONS, NAMESPACES } from '../../src/sandbox/resources';
import { converged, recordingLog, TEST_TUNING, until } from './sandbox-helpers';

interface Kc {
  clusters: { name: string; cluster: Record<string, unknown> }[];
  users: { name: string; user: Record<string, unknown> }[];
  contexts: { name: string; context: Record<string, unknown> }[];
  'current-context': string;
}

describe('kubeconfig and TLS against the sandbox', () => {
  let sb: TestSandbox;
  let base: Kc;
  let dir: string;
  let token: string;
  before(async () => {
    sb = await openSandbox({ syncDelayMs: 200, rolloutDelayMs: 100, pollMs: 100 });
    base = parse(fs.readFileSync(sb.kubeconfigPath, 'utf8')) as Kc;
    dir = fs.mkdtempSync(path.join(sb.dir, 'kcs-'));
    token = fs.readFileSync(sb.tokenFile, 'utf8').trim();
  });
  after(async () => {
    await sb?.cleanup();
  });

  function write(name: string, edit: (k: Kc) => void): string {
    const k = structuredClone(base);
    edit(k);
    const f = path.join(dir, name);
    fs.writeFileSync(`${f}.tmp`, stringify(k));
    fs.renameSync(`${f}.tmp`, f);
    return f;
  }
  const open = (kubeconfigPath: string, log = recordingLog(), env: NodeJS.ProcessEnv = {}) =>
    createClusterStore({ settings: kubeconfigPath ? { kubeconfigPath } : {}, gitops: { root: sb.gitopsClone }, log, env, tuning: TEST_TUNING });

  it('verifies TLS by default: without the CA, a tls problem, once', async () => {
    const f = write('no-ca', (k) => delete k.clusters[0]!.cluster['certificate-authority-data']);
    const log = recordingLog();
    const store = await open(f, log);
    try {
      const p = await until(() => store.connection().problem, 'a problem');
      assert.equal(p.kind, 'tls');
      assert.match(p.message, /could not be verified/);
      await until(() => store.stats().reduce((n, s) => n + s.failures, 0) >= 8, 'retries');
      assert.equal(log.problems().length, 1);
      assert.equal(
        store.services().every((s) => s.verdict === 'unknown'),
        true,
      );
    } finally {
      store.dispose();
    }
  });

  it('insecure-skip-tls-verify in the kubeconfig: connects, with a warning in the log', async () => {
    const f = write('insecure', (k) => {
      delete k.clusters[0]!.cluster['certificate-authority-data'];
      k.clusters[0]!.cluster['insecure-skip-tls-verify'] = true;
    });
    const log = recordingLog();
    const store = await open(f, log);
    try {
      await until(() => store.connection().phase === 'connected', 'connected');
      await converged(sb, store);
      assert.equal(log.problems().length, 1);
      assert.match(log.problems()[0]!, /TLS verification is OFF for https:\/\/127\.0\.0\.1:\d+: the kubeconfig sets insecure-skip-tls-verify/);
    } finally {
      store.dispose();
    }
  });

  it('a context switch written to the file reconnects to the new namespaces by itself', async () => {
    const f = write('switch', (k) => {
      k.contexts.push({ name: 'other', context: { ...k.contexts[0]!.context, namespace: 'user2-test' } });
    });
    const store = await open(f);
    try {
      await until(() => store.get('user1-test/jukebox')?.verdict === 'live', 'user1 live');
      const f2 = write('switch', (k) => {
        k.contexts.push({ name: 'other', context: { ...k.contexts[0]!.context, namespace: 'user2-test' } });
        k['current-context'] = 'other';
      });
      assert.equal(f2, f);
      await until(() => store.environments().some((e) => e.namespace === 'user2-test'), 'user2 namespaces');
      assert.equal(store.connection().context, 'other');
      await until(() => store.get('user1-test/jukebox') === undefined, 'user1 services gone');
    } finally {
      store.dispose();
    }
  });

  it('toolings namespace: {user}-toolings, falling back to {user}-mlops (older workshops)', async () => {
    await sb.controller.argo.stop();
    const st = sb.controller.store;
    const moved: string[] = [];
    try {
      if (!st.get(NAMESPACES, undefined, 'user1-mlops')) st.create(NAMESPACES, { metadata: { name: 'user1-mlops' } });
      for (const a of st.list(APPLICATIONS, 'user1-toolings')) {
        const copy = structuredClone(a);
        copy.metadata = { name: a.metadata.name, namespace: 'user1-mlops' };
        const created = st.create(APPLICATIONS, copy);
        created.status = a.status;
        st.update(APPLICATIONS, created, 'user1-mlops', 'status');
        st.delete(APPLICATIONS, 'user1-toolings', a.metadata.name!);
        moved.push(a.metadata.name!);
      }
      assert.ok(moved.includes('jukebox-test'));
      const log = recordingLog();
      const store = await open(sb.kubeconfigPath, log);
      try {
        await store.ready();
        assert.equal(store.toolingsNamespace(), 'user1-mlops');
        const s = await until(() => store.get('user1-test/jukebox')?.application, 'the Application from user1-mlops');
        assert.equal(s.namespace, 'user1-mlops');
        assert.ok(log.lines.some((l) => /Using user1-mlops as the toolings namespace/.test(l.message)));
      } finally {
        store.dispose();
      }
    } finally {
      for (const name of moved) {
        const a = st.get(APPLICATIONS, 'user1-mlops', name);
        if (a) st.delete(APPLICATIONS, 'user1-mlops', name);
      }
      sb.controller.argo.start();
      await sb.controller.pollGit();
    }
  });

  it('KUBECONFIG with several files: the first current-context wins, credentials from another file', async () => {
    const a = write('a', (k) => {
      k.users = [];
    });
    const b = write('b', (k) => {
      k.clusters = [];
      k.contexts = [];
      k['current-context'] = 'nope';
    });
    const store = await open('', recordingLog(), { KUBECONFIG: [a, b].join(path.delimiter) });
    try {
      await until(() => store.connection().phase === 'connected', 'connected');
      await converged(sb, store);
      assert.equal(store.connection().context, 'sandbox');
      assert.ok(!JSON.stringify(store.connection()).includes(token));
    } finally {
      store.dispose();
    }
  });
});
