/**
 * Cancelling a publish (PublishOptions.signal, what the UI's Cancel button aborts) at each
 * point loses nothing: before anything, after the edit, right before the push (the commit is
 * taken back, an earlier run's pending edit kept), during a fetch from a remote that never
 * answers (ended by the cancellation, not the timeout), and while the push is in flight (the commit stays local; a re-run publishes it
 * exactly once). Each ends with a CanaryError 'aborted' saying what was left.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { publishCanaryChange, type PublishOptions } from '../../src/core/publish';
import { CanaryError } from '../../src/core/errors';
import { applyCanaryAction } from '../../src/core/config';
import { changedLines, git, head, makeSandbox, porcelain, readText, snapshot, testGitEnv, TEST_CONFIG_REL, writeFile, type Sandbox } from './git-helpers';
import { until } from '../poll';

const sandboxes: Sandbox[] = [];
after(() => sandboxes.forEach((s) => s.cleanup()));

interface State {
  files: Map<string, string>;
  status: string[];
  head: string;
  remote: string | undefined;
}

function setup(): { sb: Sandbox; c: string; state: () => State } {
  const sb = makeSandbox();
  sandboxes.push(sb);
  const c = sb.clone('user');
  // the user's own work: an untracked file and a staged change elsewhere
  writeFile(c, 'notes.txt', 'mine\n');
  writeFile(c, 'README.md', '# gitops (edited)\n');
  git(c, ['add', 'README.md']);
  const state = (): State => ({ files: snapshot(c), status: porcelain(c), head: head(c), remote: head(sb.remote, 'main') });
  return { sb, c, state };
}

const publish = (root: string, extra: Partial<PublishOptions> = {}) =>
  publishCanaryChange({ root, env: 'test', model: 'jukebox', action: { kind: 'set', percent: 30 }, processEnv: testGitEnv(), timeoutMs: 30000, ...extra });

async function rejectsAborted(p: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof CanaryError, String(e));
    assert.equal(e.code, 'aborted', e.message);
    assert.match(e.message, message);
    return true;
  });
}

/** A re-run without cancelling publishes the change exactly once on top of `start`. */
async function rerunPublishesOnce(sb: Sandbox, c: string, start: string): Promise<void> {
  const r = await publish(c);
  assert.equal(r.pushed, true);
  assert.equal(head(sb.remote, 'main'), head(c));
  assert.equal(head(c, 'HEAD~1'), start, 'exactly one commit');
  assert.deepEqual(changedLines(c, 'HEAD'), ['-  trafficPercent: 10 # share of the new revision', '+  trafficPercent: 30 # share of the new revision']);
  assert.deepEqual(porcelain(c), ['?? notes.txt', 'M  README.md']);
}

describe('cancelling a publish', () => {
  it('already cancelled: nothing is read or changed', async () => {
    const { c, state } = setup();
    const before = state();
    const stop = new AbortController();
    stop.abort();
    await rejectsAborted(publish(c, { signal: stop.signal }), /^Cancelled: nothing was changed\.$/);
    assert.deepEqual(state(), before);
  });

  it('after the edit, before the commit: the edit is undone', async () => {
    const { sb, c, state } = setup();
    const before = state();
    const stop = new AbortController();
    await rejectsAborted(
      publish(c, {
        signal: stop.signal,
        log: (l) => {
          if (l.startsWith('edited ')) stop.abort();
        },
      }),
      /edit of .*config\.yaml was undone; nothing was committed or pushed/,
    );
    assert.deepEqual(state(), before);
    await rerunPublishesOnce(sb, c, before.head);
  });

  it("right before the push: the commit is taken back, the user's work untouched", async () => {
    const { sb, c, state } = setup();
    const before = state();
    const stop = new AbortController();
    await rejectsAborted(publish(c, { signal: stop.signal, beforePush: () => stop.abort() }), /commit was taken back .*; nothing was pushed/);
    assert.deepEqual(state(), before);
    await rerunPublishesOnce(sb, c, before.head);
  });

  it('an edit left by an earlier run, cancelled before the push: committed, taken back, the edit still there', async () => {
    const { c, state } = setup();
    const text = readText(c, TEST_CONFIG_REL);
    writeFile(c, TEST_CONFIG_REL, applyCanaryAction(text, { kind: 'set', percent: 30 }, TEST_CONFIG_REL).text);
    const before = state();
    const stop = new AbortController();
    await rejectsAborted(publish(c, { signal: stop.signal, beforePush: () => stop.abort() }), /\(edited, uncommitted\); nothing was pushed/);
    assert.deepEqual(state(), before);
  });

  it('during a fetch from a remote that never answers: stopped by the cancellation, not the timeout; nothing left running', async () => {
    const { c, state } = setup();
    const sockets = new Set<net.Socket>();
    const stop = new AbortController();
    const server = net.createServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
      s.resume();
      stop.abort(); // git is waiting for the answer: cancel now
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      git(c, ['remote', 'set-url', 'origin', `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/remote.git`]);
      const before = { ...state(), remote: undefined };
      // 'aborted', not 'timeout': the cancellation ended it, not the 20 s network timeout
      await rejectsAborted(publish(c, { signal: stop.signal, timeoutMs: 20_000 }), /^Cancelled: nothing was changed\.$/);
      // git is gone at once; its http helper ends by curl's low-speed limit (timeout + 5 s):
      // git offers no way to end it sooner
      await until(() => sockets.size === 0, "git's http helper to close its connection", 60_000);
      assert.deepEqual({ ...state(), remote: undefined }, before);
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
    }
  });

  it('while the push is in flight: the commit stays local, the remote does not get half of it, a re-run pushes it once', async () => {
    const { sb, c, state } = setup();
    const before = state();
    // the remote's pre-receive hook holds the push until told, then refuses it
    const started = path.join(sb.remote, 'hook-started');
    const release = path.join(sb.remote, 'hook-release');
    const hook = path.join(sb.remote, 'hooks', 'pre-receive');
    writeFileSync(hook, `#!/bin/sh\ncat >/dev/null\ntouch '${started}'\nwhile [ ! -e '${release}' ]; do sleep 0.05; done\nexit 1\n`);
    chmodSync(hook, 0o755);
    const stop = new AbortController();
    const p = publish(c, { signal: stop.signal, timeoutMs: 3_600_000 });
    await until(() => existsSync(started), 'the push to reach the remote');
    stop.abort();
    try {
      await rejectsAborted(p, /^Cancelled while pushing: commit [0-9a-f]{7} is kept locally/);
    } finally {
      writeFileSync(release, '');
    }
    assert.equal(head(sb.remote, 'main'), before.head, 'the remote refused it: nothing landed');
    assert.equal(head(c, 'HEAD~1'), before.head, 'our commit is kept locally');
    assert.deepEqual(porcelain(c), ['?? notes.txt', 'M  README.md']);
    rmSync(hook);
    const r = await publish(c);
    assert.equal(r.pushed, true);
    assert.equal(head(sb.remote, 'main'), head(c));
    assert.equal(head(c, 'HEAD~1'), before.head, 'still exactly one commit');
  });
});
