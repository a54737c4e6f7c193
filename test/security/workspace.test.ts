/**
 * Issue 7 §4, the workbench side:
 * - `npm start`'s code-server listens on loopback only (static: the one place that starts it
 *   binds 127.0.0.1 and nobody overrides it), and so does the sandbox API (at run time: not
 *   reachable on any other interface address).
 * - Untrusted workspaces are read-only: the manifest declares limited support and restricts
 *   the connection settings, every menu entry of a writing command needs isWorkspaceTrusted,
 *   the command palette included (issue 11 §8), and the handlers of the writing commands refuse
 *   before doing anything when run anyway (proven in the extension host:
 *   test/ui/exthost/canary-2-commands.test.ts, "in an untrusted workspace…").
 * - What the extension does in any workspace, trusted or not — reading the desired state —
 *   runs no program a hostile repository configures (core.fsmonitor, core.pager, hooks…).
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadDesired } from '../../src/cluster/desired';
import { openSandbox } from '../sandbox/helpers';
import { repoRoot } from '../cli/bundle';
import { git, makeSandbox } from '../core/git-helpers';

const WRITE_COMMANDS = ['kserveCanary.setTraffic', 'kserveCanary.promote', 'kserveCanary.rollback', 'kserveCanary.followProposal'];
const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));

describe('code-server and the sandbox listen on loopback only', () => {
  const script = (name: string) => readFileSync(path.join(repoRoot, 'scripts', name), 'utf8');

  it('scripts/codeserver.mjs binds code-server to 127.0.0.1 (its --auth none relies on it)', () => {
    const text = script('codeserver.mjs');
    const binds = [...text.matchAll(/'--bind-addr',\s*`([^`]*)`/g)].map((m) => m[1]);
    assert.deepEqual(binds, ['127.0.0.1:${port}'], 'exactly one --bind-addr, on 127.0.0.1');
    assert.doesNotMatch(text, /0\.0\.0\.0|'::'|\[::\]|'--host'|--bind-addr=/);
    // --auth none appears only in the same argv as the loopback bind
    const argv = /const argv = \[([\s\S]*?)\];/.exec(text)?.[1] ?? '';
    assert.match(argv, /'--auth',\s*'none'/);
    assert.match(argv, /'--bind-addr',\s*`127\.0\.0\.1:\$\{port\}`/);
  });

  it('no script starts code-server another way or passes its own --bind-addr / --host / --auth', () => {
    for (const name of ['start.mjs', 'test-exthost.mjs', 'test-browser.mjs', 'test-desktop.mjs', 'lib/exthost.mjs', 'lib/browser.mjs', 'lib/sandbox.mjs']) {
      const file = path.join(repoRoot, 'scripts', name);
      if (!existsSync(file)) continue;
      const text = readFileSync(file, 'utf8');
      assert.doesNotMatch(text, /--bind-addr|'--host'|'--auth'|0\.0\.0\.0/, `${name} leaves binding to startCodeServer`);
    }
    assert.match(script('start.mjs'), /startCodeServer\(/, 'npm start goes through startCodeServer');
  });

  it('the sandbox API answers on 127.0.0.1 and on no other interface address', async () => {
    const sb = await openSandbox({ seed: false });
    try {
      assert.match(sb.server, /^https:\/\/127\.0\.0\.1:\d+$/);
      const tryConnect = (host: string) =>
        new Promise<string>((resolve) => {
          const s = net.connect({ host, port: sb.port });
          s.setTimeout(5000, () => {
            s.destroy();
            resolve('timeout');
          });
          s.on('connect', () => {
            s.destroy();
            resolve('connected');
          });
          s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
        });
      assert.equal(await tryConnect('127.0.0.1'), 'connected');
      const external = Object.values(os.networkInterfaces())
        .flat()
        .filter((a) => a && !a.internal)
        .map((a) => a!.address);
      for (const addr of external) assert.notEqual(await tryConnect(addr), 'connected', `reachable on ${addr}`);
    } finally {
      await sb.cleanup();
    }
  });
});

describe('untrusted workspaces are read-only', () => {
  it('the manifest declares limited support and restricts the connection and URL settings', () => {
    const u = pkg.capabilities?.untrustedWorkspaces;
    assert.equal(u?.supported, 'limited');
    assert.ok(typeof u.description === 'string' && /read-only/i.test(u.description));
    for (const k of ['kserveCanary.kubeconfig', 'kserveCanary.context', 'kserveCanary.grafanaUrlTemplate', 'kserveCanary.gitopsRoot']) {
      assert.ok(u.restrictedConfigurations.includes(k), `${k} is ignored when a workspace sets it`);
    }
  });

  it('every menu entry (the command palette too) and keybinding of set / promote / rollback needs isWorkspaceTrusted', () => {
    const c = pkg.contributes;
    let entries = 0;
    for (const [menu, items] of Object.entries(c.menus ?? {}) as [string, { command: string; when?: string }[]][]) {
      for (const it of items.filter((i) => WRITE_COMMANDS.includes(i.command))) {
        entries++;
        assert.match(it.when ?? '', /(^|&&\s*)isWorkspaceTrusted(\s*&&|$)/, `${menu}: ${it.command} when=${it.when}`);
        assert.doesNotMatch(it.when ?? '', /\|\|/, `${menu}: ${it.command}: an "or" could bypass the trust clause`);
      }
    }
    assert.ok(entries >= 5, 'the writing commands are in the menus');
    for (const kb of (c.keybindings ?? []) as { command: string; when?: string }[]) {
      if (WRITE_COMMANDS.includes(kb.command)) assert.match(kb.when ?? '', /isWorkspaceTrusted/, `keybinding ${kb.command}`);
    }
    for (const cmd of c.commands.filter((x: { command: string }) => WRITE_COMMANDS.includes(x.command))) {
      if (cmd.enablement !== undefined) assert.match(cmd.enablement, /isWorkspaceTrusted/, `${cmd.command} enablement`);
    }
  });

  it("each writing command's handler checks trust first, and nothing else publishes", () => {
    const ui = path.join(repoRoot, 'src', 'ui');
    const read = (f: string) => readFileSync(path.join(ui, f), 'utf8');
    const registry = read('commands.ts');
    // The writing commands are registered as factories over the command context (commands-*.ts).
    const factories: [string, string, string][] = [
      ['kserveCanary.setTraffic', 'setTraffic(ctx)', 'commands-change.ts'],
      ['kserveCanary.promote', "changeCommand(ctx, { kind: 'promote' })", 'commands-change.ts'],
      ['kserveCanary.rollback', "changeCommand(ctx, { kind: 'rollback' })", 'commands-change.ts'],
      ['kserveCanary.startRollout', 'startRollout(ctx)', 'commands-rollout.ts'],
      ['kserveCanary.sendTraffic', 'sendTraffic(ctx)', 'commands-traffic.ts'],
      ['kserveCanary.followProposal', 'followProposal(ctx)', 'commands-change.ts'],
    ];
    for (const [id, call, file] of factories) {
      assert.ok(registry.includes(`r('${id}', ${call});`), `${id} → ${call}`);
      const name = call.slice(0, call.indexOf('('));
      const text = read(file);
      const start = text.indexOf(`\nexport function ${name}(`);
      assert.ok(start >= 0, `factory ${name} in ${file}`);
      // The handler the factory returns: its first statement is the trust check.
      const handler = text.slice(text.indexOf('return async (arg) => {', start), text.indexOf('\n}\n', start));
      const lines = handler
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith('//'));
      assert.match(lines[1] ?? '', /^if \(!ctx\.checkTrusted\(/, `${name}: the trust check is its first statement`);
    }
    // The publishing use cases are called from those handlers' files only, once each.
    const sources = readdirSync(ui)
      .filter((f) => f.endsWith('.ts'))
      .map((f) => [f, read(f)] as const);
    const sites = (re: RegExp) => sources.flatMap(([f, t]) => (t.match(re) ?? []).map(() => f));
    assert.deepEqual(sites(/\.changeCanary\(/g), ['commands-change.ts'], 'one change call site');
    assert.deepEqual(sites(/\.runRollout\(/g), ['commands-rollout.ts'], 'one rollout call site');
    assert.deepEqual(sites(/\.followProposal\(/g), ['commands-change.ts'], 'one proposal-follow call site');
    assert.deepEqual(sites(/publishCanaryChange\(/g), [], 'the UI never publishes by itself');
    assert.match(read('command-context.ts'), /\n {2}checkTrusted\(what: string\): boolean \{\n\s+if \(this\.d\.trusted\(\)\) return true;/);
  });
});

describe('reading the desired state runs nothing a hostile repository configures', () => {
  const boxes: { cleanup(): void }[] = [];
  after(() => {
    for (const b of boxes) b.cleanup();
  });

  it('core.fsmonitor, core.pager, hooks, sshCommand, diff.external in .git/config: not run by loadDesired', async () => {
    const box = makeSandbox();
    boxes.push(box);
    const clone = box.clone('hostile');
    const marker = path.join(box.dir, 'pwned');
    const evil = path.join(box.dir, 'evil.sh');
    writeFileSync(evil, `#!/bin/sh\necho "$0 $*" >> '${marker}'\n`);
    chmodSync(evil, 0o755);
    const hooks = path.join(box.dir, 'hooks');
    mkdirSync(hooks);
    for (const h of ['post-checkout', 'post-index-change', 'reference-transaction', 'pre-auto-gc']) {
      writeFileSync(path.join(hooks, h), `#!/bin/sh\n'${evil}' hook-${h}\n`);
      chmodSync(path.join(hooks, h), 0o755);
    }
    for (const [k, v] of [
      ['core.fsmonitor', evil],
      ['core.pager', evil],
      ['core.hooksPath', hooks],
      ['core.sshCommand', evil],
      ['diff.external', evil],
      ['core.editor', evil],
      ['gc.auto', '1'],
    ]) {
      git(clone, ['config', k!, v!]);
    }
    const snap = await loadDesired({ root: clone });
    assert.match(snap.commit ?? '', /^[0-9a-f]{40}$/, 'the commit was read');
    assert.ok(snap.entries.length > 0, 'the configs were read');
    assert.equal(existsSync(marker), false, existsSync(marker) ? readFileSync(marker, 'utf8') : '');
    // The trap works: git status (which reads the index) does run core.fsmonitor.
    git(clone, ['status', '--porcelain']);
    assert.equal(existsSync(marker), true, 'control: a command that honours core.fsmonitor runs it');
  });
});
