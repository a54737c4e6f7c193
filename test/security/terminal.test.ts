/**
 * Issue 12 §1, the terminal: a cluster whose InferenceService carries escapes in its condition
 * message and status.url (OSC 8 hyperlink, screen clear, title change, carriage-return
 * overwrite, C1 CSI, DEL, bidi override). The built CLI (bin/kserve-canary.js, a real process)
 * runs `status` against the sandbox; its raw stdout/stderr bytes hold no control character
 * (newline aside) and show each escape visibly; `--json` stays exact JSON with the values intact.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../src/cli/main';
import { CLEAR_LINE, CLEAR_SCREEN, terminalGuard, writeControl } from '../../src/cli/output';
import { openSandbox, type TestSandbox } from '../sandbox/helpers';
import { INFERENCE_SERVICES } from '../../src/sandbox/resources';
import { buildCliBundle } from '../cli/bundle';
import { memoryIO } from '../cluster/cli-io';
import { until } from '../cluster/sandbox-helpers';

const MESSAGE = 'fine\rFAILED \x1b]8;;http://evil.example\x07click\x1b]8;;\x07 \x1b[2J\x1b]0;pwned\x07 \x9b31m a\x7fb \u202eexe.txt';
const URL_TAIL = '/\x1b]0;title\x07\r';

/** Bytes a terminal acts on: C0 except LF (tab is not written either), DEL, and C1 as raw bytes or as UTF-8 (C2 80–9F). */
function controlBytes(buf: Buffer): string[] {
  const found: string[] = [];
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i]!;
    if ((b < 0x20 && b !== 0x0a && b !== 0x09) || b === 0x7f) found.push(`0x${b.toString(16)} at ${i}`);
    if (b === 0xc2 && buf[i + 1]! >= 0x80 && buf[i + 1]! <= 0x9f) found.push(`U+00${buf[i + 1]!.toString(16)} at ${i}`);
    if (b === 0xe2 && buf[i + 1] === 0x80 && buf[i + 2]! >= 0xaa && buf[i + 2]! <= 0xae)
      found.push(`bidi U+20${(buf[i + 2]! - 0x80 + 0x20).toString(16)} at ${i}`);
  }
  return found;
}

/**
 * Runs `status` until its answer lists the service: on a loaded machine the CLI's wait for the
 * first list (20 s) can end before the sandbox answered, and the table is then empty.
 */
async function listing<T extends { stdout: string }>(once: () => Promise<T>, has = (r: T) => r.stdout.includes('jukebox')): Promise<T> {
  let r = await once();
  for (let attempt = 1; attempt < 4 && !has(r); attempt++) r = await once();
  return r;
}

function run(bin: string, args: string[], home: string): Promise<{ code: number; stdout: Buffer; stderr: Buffer }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { encoding: 'buffer', env: { HOME: home, PATH: process.env.PATH }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('no control character from the cluster reaches the terminal', () => {
  let sb: TestSandbox;
  let bundle: Awaited<ReturnType<typeof buildCliBundle>>;
  let home: string;
  let hostileUrl: string;
  let readyMessage: string;
  before(async () => {
    [sb, bundle] = await Promise.all([openSandbox({ syncDelayMs: 200, rolloutDelayMs: 100, pollMs: 100 }), buildCliBundle()]);
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'ksc-term-home-'));
    const ns = `${sb.user}-test`;
    sb.controller.failRevision(ns, 'jukebox', MESSAGE);
    // Once KServe has reported the failure, status.url as a controller would write it (status subresource).
    await until(() => JSON.stringify(sb.controller.store.mustGet(INFERENCE_SERVICES, ns, 'jukebox').status ?? {}).includes('pwned'), 'the failing condition');
    const o = sb.controller.store.mustGet(INFERENCE_SERVICES, ns, 'jukebox');
    const status = (o.status ?? {}) as Record<string, unknown>;
    hostileUrl = `${String(status.url)}${URL_TAIL}`;
    o.status = { ...status, url: hostileUrl };
    delete o.metadata.resourceVersion;
    sb.controller.store.update(INFERENCE_SERVICES, o, ns, 'status');
  });
  after(async () => {
    bundle?.cleanup();
    await sb?.cleanup();
    if (home) fs.rmSync(home, { recursive: true, force: true });
  });
  const common = () => ['--kubeconfig', sb.kubeconfigPath, '--gitops', sb.gitopsClone];

  it('--json first: the cluster really serves the hostile message and URL, exactly', async () => {
    const r = await listing(async () => {
      const m = memoryIO();
      assert.equal(await main(['status', 'jukebox', '--env', 'test', '--json', ...common()], m.io), 0, m.err());
      return { ...m, stdout: m.out() };
    });
    const s = JSON.parse(r.out()).services[0];
    readyMessage = String(s.readyMessage);
    for (const part of MESSAGE.split(' ')) assert.ok(readyMessage.includes(part), `the message reached the CLI unchanged: ${JSON.stringify(part)}`);
    assert.equal(s.url, hostileUrl);
    assert.deepEqual(controlBytes(Buffer.from(r.out())), [], 'JSON escapes everything itself');
  });

  it('`kserve-canary status` (the built CLI, raw bytes) prints none of it as control characters, and shows it visibly', async () => {
    const r = await listing(
      async () => {
        const x = await run(bundle.bin, ['status', ...common()], home);
        return { ...x, raw: x.stdout, stdout: x.stdout.toString('utf8') };
      },
      (x) => x.stdout.includes('pwned'),
    );
    assert.equal(r.code, 0, r.stderr.toString());
    assert.deepEqual(controlBytes(r.raw), []);
    assert.deepEqual(controlBytes(r.stderr), []);
    const text = r.stdout;
    assert.match(text, /jukebox/);
    for (const shown of [
      '\\u001b]8;;http://evil.example\\u0007click',
      '\\u001b[2J',
      '\\u001b]0;pwned\\u0007',
      'fine\\u000dFAILED',
      '\\u009b31m',
      'a\\u007fb',
      '\\u202eexe.txt',
      '\\u001b]0;title\\u0007\\u000d',
    ]) {
      assert.ok(text.includes(shown), `shows ${shown}`);
    }
  });

  it('`status --json` from the built CLI: exact JSON, no control byte, same values', async () => {
    const r = await listing(async () => {
      const x = await run(bundle.bin, ['status', 'jukebox', '--env', 'test', '--json', ...common()], home);
      return { ...x, raw: x.stdout, stdout: x.stdout.toString('utf8') };
    });
    assert.equal(r.code, 0, r.stderr.toString());
    assert.deepEqual(controlBytes(r.raw), []);
    const s = JSON.parse(r.stdout).services[0];
    assert.equal(s.url, hostileUrl);
    assert.equal(s.readyMessage, readyMessage);
  });

  it("errors on stderr are guarded too; the CLI's own escapes pass only through writeControl", () => {
    const r = memoryIO();
    const io = terminalGuard(r.io);
    assert.equal(terminalGuard(io), io, 'guarding twice is once');
    io.stdout(`${CLEAR_SCREEN}x`);
    io.stderr('\x1b[31merror\n');
    writeControl(io, CLEAR_SCREEN);
    writeControl(io, CLEAR_LINE);
    assert.equal(r.out(), `\\u001b[H\\u001b[2Jx${CLEAR_SCREEN}${CLEAR_LINE}`);
    assert.equal(r.err(), '\\u001b[31merror\n');
  });
});
