// The process and URL helpers behind npm start and the workbench test stages.
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { workbenchUrl } from '../../scripts/lib/browser.mjs';
import { freePort, killProcessesMentioning, portInUse, startProcess } from '../../scripts/lib/proc.mjs';
import { until } from '../poll';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
};

// A parent that starts a grandchild in a new session (as terminals do), prints its pid, and waits.
const parentScript = `
const { spawn } = require('node:child_process');
const g = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { detached: true, stdio: 'ignore' });
console.log('grandchild ' + g.pid);
console.log('ready');
setInterval(() => {}, 1000);
`;

describe('scripts/lib/proc', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ksc-harness-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('stop() ends the process and a descendant that left its process group', async () => {
    const p = startProcess(process.execPath, ['-e', parentScript], { logFile: path.join(tmp, 'p.log'), name: 'parent' });
    const m = await p.waitFor(/grandchild (\d+)\nready/, 30_000);
    const grandchild = Number(m[1]);
    assert.ok(alive(grandchild));
    await p.stop();
    await until(() => !alive(grandchild) && !alive(p.pid!), 'both processes to end', 10_000);
    assert.match(readFileSync(path.join(tmp, 'p.log'), 'utf8'), /ready/);
  });

  it('waitFor() rejects with the output tail when the process exits first', async () => {
    const p = startProcess(process.execPath, ['-e', 'console.log("boom: no config"); process.exit(3)'], { name: 'short-lived' });
    await assert.rejects(p.waitFor(/never printed/, 30_000, 'the ready line'), (err: Error) => {
      assert.match(err.message, /short-lived stopped \(exit code 3\) before the ready line/);
      assert.match(err.message, /boom: no config/);
      return true;
    });
    await p.stop();
  });

  it('killProcessesMentioning() stops what a crashed run left behind, by its folder in the command line', async () => {
    const marker = path.join(tmp, 'run-folder-marker');
    const p = startProcess(process.execPath, ['-e', 'setInterval(() => {}, 1000)', marker], { name: 'leftover' });
    await until(() => alive(p.pid!), 'the leftover to start', 10_000);
    assert.equal(await killProcessesMentioning(marker), 1);
    await until(() => !alive(p.pid!), 'the leftover to end', 10_000);
    assert.equal(await killProcessesMentioning(marker), 0);
    await p.stop();
  });

  it('freePort() gives a port nothing listens on, portInUse() sees a listener', async () => {
    const port = await freePort();
    assert.equal(await portInUse(port), false);
    const p = startProcess(process.execPath, ['-e', `require('node:net').createServer().listen(${port}, '127.0.0.1', () => console.log('listening'))`], {
      name: 'listener',
    });
    await p.waitFor(/listening/, 30_000);
    assert.equal(await portInUse(port), true);
    await p.stop();
  });
});

describe('scripts/lib/browser workbenchUrl', () => {
  it('passes the folder, and the development and tests paths as vscode-remote URIs in the payload', () => {
    const url = new URL(
      workbenchUrl('http://127.0.0.1:4567/', {
        folder: '/w s/gitops',
        extensionDevelopmentPath: '/repo',
        extensionTestsPath: '/repo/dist/test/exthost/index.js',
      }),
    );
    assert.equal(url.origin, 'http://127.0.0.1:4567');
    assert.equal(url.searchParams.get('folder'), '/w s/gitops');
    assert.deepEqual(JSON.parse(url.searchParams.get('payload')!), [
      ['extensionDevelopmentPath', 'vscode-remote://127.0.0.1:4567/repo'],
      ['extensionTestsPath', 'vscode-remote://127.0.0.1:4567/repo/dist/test/exthost/index.js'],
    ]);
  });

  it('leaves the payload out when nothing is loaded in development mode', () => {
    const url = new URL(workbenchUrl('http://127.0.0.1:4567/', { folder: '/w' }));
    assert.equal(url.searchParams.get('payload'), null);
  });
});
