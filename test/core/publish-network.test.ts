/**
 * publishCanaryChange over http on loopback: a remote that needs credentials (git
 * http-backend behind Basic auth), an inherited GIT_ASKPASS that supplies them, and a
 * remote that accepts the connection and never answers.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { publishCanaryChange, type PublishOptions } from '../../src/core/publish';
import { CanaryError } from '../../src/core/errors';
import { git, head, makeSandbox, porcelain, snapshot, testGitEnv, type Sandbox } from './git-helpers';
import { until } from '../poll';

const USER = 'alice';
const PASSWORD = 'pw-Zq8rT3-not-a-real-one';

/** Serves the bare repos under `projectRoot` through `git http-backend`, behind Basic auth. */
function startAuthGitServer(projectRoot: string): Promise<{ url: string; close(): Promise<void> }> {
  const expected = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
  const server = http.createServer((req, res) => {
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="gitops"' });
      res.end('unauthorized\n');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const child = spawn('git', ['http-backend'], {
      env: {
        ...testGitEnv(),
        GIT_PROJECT_ROOT: projectRoot,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.replace(/^\?/, ''),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        HTTP_CONTENT_ENCODING: String(req.headers['content-encoding'] ?? ''),
        GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
        REMOTE_USER: USER,
        REMOTE_ADDR: '127.0.0.1',
      },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    req.pipe(child.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      headersDone = true;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
        const i = line.indexOf(':');
        const k = line.slice(0, i).trim();
        const v = line.slice(i + 1).trim();
        if (k.toLowerCase() === 'status') status = Number(v.split(' ')[0]);
        else headers[k] = v;
      }
      res.writeHead(status, headers);
      res.write(head.subarray(end + 4));
    });
    child.stdout.on('end', () => res.end());
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}

/** An askpass program (a node script) answering git's Username/Password questions. */
function writeAskpass(dir: string, password: string): string {
  const file = path.join(dir, 'askpass.js');
  writeFileSync(
    file,
    `#!${process.execPath}\nconst q = process.argv[2] || '';\nprocess.stdout.write((/^Username/.test(q) ? ${JSON.stringify(USER)} : ${JSON.stringify(password)}) + '\\n');\n`,
  );
  chmodSync(file, 0o755);
  return file;
}

function publish(root: string, extra: Partial<PublishOptions> = {}) {
  return publishCanaryChange({
    root,
    env: 'test',
    model: 'jukebox',
    action: { kind: 'set', percent: 20 },
    processEnv: testGitEnv(),
    timeoutMs: 20000,
    ...extra,
  });
}

function allText(e: unknown): string {
  const err = e as CanaryError;
  return `${err.message}\n${err.hint ?? ''}`;
}

describe('publish over http with credentials', () => {
  let sb: Sandbox;
  let server: { url: string; close(): Promise<void> };
  let remoteUrl: string;
  before(async () => {
    sb = makeSandbox();
    server = await startAuthGitServer(sb.dir);
    remoteUrl = `${server.url}/remote.git`;
  });
  after(async () => {
    await server.close();
    sb.cleanup();
  });

  function httpClone(name: string): string {
    const c = sb.clone(name);
    git(c, ['remote', 'set-url', 'origin', remoteUrl]);
    return c;
  }

  it('an inherited GIT_ASKPASS is used (deliberately passed through to git) and the publish succeeds', async () => {
    const c = httpClone('askpass-ok');
    const askpass = writeAskpass(sb.dir, PASSWORD);
    const r = await publish(c, { processEnv: testGitEnv({ GIT_ASKPASS: askpass }) });
    assert.equal(r.pushed, true);
    assert.equal(head(sb.remote, 'main'), r.sha);
    assert.ok(!JSON.stringify(r).includes(PASSWORD), 'no password in the result');
  });

  it('no credentials (and no terminal prompt): auth-failed, nothing changed', async () => {
    const c = httpClone('no-creds');
    const before = { files: snapshot(c), status: porcelain(c), head: head(c) };
    await assert.rejects(publish(c), (e: unknown) => {
      assert.ok(e instanceof CanaryError);
      assert.equal(e.code, 'auth-failed', e.message);
      assert.match(e.message, /refused the credentials/);
      return true;
    });
    assert.deepEqual({ files: snapshot(c), status: porcelain(c), head: head(c) }, before);
  });

  it('a wrong password from askpass: auth-failed', async () => {
    const c = httpClone('wrong-pw');
    const askpass = writeAskpass(path.join(sb.dir, 'wrong-pw'), 'wrong-password');
    await assert.rejects(
      publish(c, { processEnv: testGitEnv({ GIT_ASKPASS: askpass }) }),
      (e: unknown) => e instanceof CanaryError && e.code === 'auth-failed',
    );
  });

  it('credentials embedded in the remote URL never appear in the error', async () => {
    const c = httpClone('url-creds');
    const secret = 'embedded-secret-77';
    git(c, ['remote', 'set-url', 'origin', remoteUrl.replace('http://', `http://${USER}:${secret}@`)]);
    await assert.rejects(publish(c), (e: unknown) => {
      assert.ok(e instanceof CanaryError);
      assert.equal(e.code, 'auth-failed');
      assert.ok(!allText(e).includes(secret), allText(e));
      return true;
    });
  });
});

describe('publish to a remote that hangs', () => {
  it('stops after the timeout with a clear message, leaves nothing running, loses nothing', async () => {
    const sb = makeSandbox();
    const sockets = new Set<net.Socket>();
    let accepted = 0;
    const server = net.createServer((s) => {
      accepted++;
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
      s.resume(); // read the request (so the client's FIN is seen), never answer
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const { port } = server.address() as net.AddressInfo;
      const c = sb.clone('a');
      git(c, ['remote', 'set-url', 'origin', `http://127.0.0.1:${port}/remote.git`]);
      const before = { files: snapshot(c), status: porcelain(c), head: head(c) };
      await assert.rejects(publish(c, { timeoutMs: 1500 }), (e: unknown) => {
        assert.ok(e instanceof CanaryError);
        assert.equal(e.code, 'timeout', e.message);
        assert.match(e.message, /no answer from the remote/);
        return true;
      });
      assert.ok(accepted >= 1, 'git did connect');
      // The git child (and its remote helper) is gone: every connection gets closed.
      await until(() => sockets.size === 0, 'connections closed by the client side');
      assert.deepEqual({ files: snapshot(c), status: porcelain(c), head: head(c) }, before);
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
      sb.cleanup();
    }
  });
});
