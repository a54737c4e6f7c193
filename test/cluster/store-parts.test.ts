/**
 * The store's parts on their own, without a cluster: the connection tracker (phase from the
 * watches' health, one log line per problem per episode, the episode counter), the row table
 * (an identical row is no event, a changed one is announced once) and the Argo CD side (first
 * list, pending until read). The whole store against the sandbox: the sandbox-*.test.ts files.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RequestError } from '../../src/cluster/classify';
import { ArgoApplications } from '../../src/cluster/store-argo';
import { ServiceTable } from '../../src/cluster/store-join';
import { ConnectionTracker } from '../../src/cluster/store-problems';
import type { ApplicationState, ServiceState } from '../../src/cluster/types';
import { deriveService } from '../../src/cluster/derive';

function recordingLog() {
  const lines: string[] = [];
  return {
    lines,
    log: { info: (m: string) => lines.push(`info ${m}`), warn: (m: string) => lines.push(`warn ${m}`), error: (m: string) => lines.push(`error ${m}`) },
  };
}

const refused = () => new RequestError('connect ECONNREFUSED 127.0.0.1:6443', undefined, 'ECONNREFUSED');

describe('ConnectionTracker', () => {
  it('is connecting until a watch is healthy, disconnected while one is unreachable, and logs each problem once per episode', () => {
    const { lines, log } = recordingLog();
    const t = new ConnectionTracker(log, 60000);
    const seen: string[] = [];
    t.onDidChange((s) => seen.push(`${s.phase}#${s.episode}`));
    t.set({ phase: 'connecting', server: 'https://api.example:6443' });
    assert.equal(t.health('inferenceservices@user1-test', { ok: true }, 'https://api.example:6443'), true);
    assert.equal(t.phase, 'connected');
    t.health('inferenceservices@user1-prod', { ok: false, error: refused() }, 'https://api.example:6443');
    t.health('inferenceservices@user1-prod', { ok: false, error: refused() }, 'https://api.example:6443');
    assert.equal(t.phase, 'disconnected');
    assert.equal(t.state().problem?.kind, 'unreachable');
    assert.equal(lines.filter((l) => l.startsWith('warn')).length, 1, lines.join('\n'));
    assert.ok(t.state().disconnectedSince);
    t.health('inferenceservices@user1-prod', { ok: true }, 'https://api.example:6443');
    assert.equal(t.phase, 'connected');
    assert.deepEqual(seen, ['connecting#0', 'connected#0', 'disconnected#1', 'connected#1']);
    t.dispose();
  });

  it('a problem without a reflector (no kubeconfig) is idle with that problem; reset forgets the watches', () => {
    const t = new ConnectionTracker(recordingLog().log, 60000);
    t.problemOnly({ kind: 'no-kubeconfig', message: 'No kubeconfig found.', hint: 'Log in.' });
    assert.equal(t.phase, 'idle');
    assert.deepEqual(
      t.activeProblems().map((p) => p.kind),
      ['no-kubeconfig'],
    );
    assert.deepEqual(
      t.activeProblems((id) => id !== 'kubeconfig'),
      [],
    );
    t.reset();
    assert.deepEqual(t.activeProblems(), []);
    t.dispose();
  });

  it('names the forbidden namespace', () => {
    const t = new ConnectionTracker(recordingLog().log, 60000);
    t.health('inferenceservices@user1-prod', { ok: false, error: new RequestError('forbidden', 403, undefined, 'user1-prod') }, undefined);
    assert.equal(t.forbidden('user1-prod')?.kind, 'forbidden');
    assert.equal(t.forbidden('user1-test'), undefined);
    t.dispose();
  });
});

describe('ServiceTable', () => {
  const row = (percent: number): ServiceState =>
    deriveService({ metadata: { name: 'jukebox', namespace: 'user1-test' } }, { env: 'test', desired: { percent, version: undefined, commit: undefined } });

  it('announces a real change once, an identical row never; removing a row is a change too', async () => {
    const table = new ServiceTable(recordingLog().log, 0);
    const events: string[][] = [];
    table.onDidChange((keys) => events.push(keys));
    table.put('user1-test/jukebox', row(20));
    table.put('user1-test/jukebox', row(20));
    await new Promise<void>((r) => queueMicrotask(r));
    assert.deepEqual(events, [['user1-test/jukebox']]);
    table.put('user1-test/jukebox', undefined);
    await new Promise((r) => setTimeout(r, 0));
    assert.deepEqual(events, [['user1-test/jukebox'], ['user1-test/jukebox']]);
    assert.deepEqual(table.sorted(), []);
    table.dispose();
  });

  it('a listener that throws is logged and does not stop the others', async () => {
    const { lines, log } = recordingLog();
    const table = new ServiceTable(log, 0);
    let heard = 0;
    table.onDidChange(() => {
      throw new Error('boom');
    });
    table.onDidChange(() => void heard++);
    table.put('user1-test/jukebox', row(50));
    await new Promise<void>((r) => queueMicrotask(r));
    assert.equal(heard, 1);
    assert.match(lines.join('\n'), /error A listener of service changes failed: boom/);
    table.dispose();
  });
});

describe('ArgoApplications', () => {
  const app = (name: string, syncStatus: string): ApplicationState => ({
    name,
    namespace: 'user1-toolings',
    syncStatus,
    revision: undefined,
    healthStatus: undefined,
    healthMessage: undefined,
    operationPhase: undefined,
    operationMessage: undefined,
  });

  it('reading until the first list; the first list and the changes are reported', () => {
    const argo = new ArgoApplications(recordingLog().log);
    argo.startReading();
    assert.equal(argo.reading, true);
    assert.equal(argo.known, false);
    const first = argo.replaceAll(new Map([['jukebox-test', app('jukebox-test', 'Synced')]]));
    assert.deepEqual(first, { changed: ['jukebox-test'], firstList: true });
    assert.equal(argo.reading, false);
    assert.equal(argo.settle(), false);
    assert.equal(argo.put(app('jukebox-test', 'Synced')), false);
    assert.equal(argo.put(app('jukebox-test', 'OutOfSync')), true);
    assert.deepEqual(argo.replaceAll(new Map()), { changed: ['jukebox-test'], firstList: false });
    assert.deepEqual(argo.forget(), []);
    assert.equal(argo.known, false);
  });
});
