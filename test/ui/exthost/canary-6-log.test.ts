// After every other suite: the "KServe Canary" log says how long activate() took, records what
// happened, and holds no secret (the sandbox's token, the fake ones the suites used).
import * as assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { api, sandbox, until } from './canary-helpers';

function readAll(dir: string): string {
  if (!existsSync(dir)) return '';
  return readdirSync(dir)
    .map((f) => path.join(dir, f))
    .map((p) => (statSync(p).isDirectory() ? readAll(p) : readFileSync(p, 'utf8')))
    .join('\n');
}

describe('the KServe Canary log', () => {
  it('logs the activation time and what happened, and never a token', async () => {
    const a = await api();
    const text = await until('the log file', () => {
      const t = readAll(a.logDir());
      return /activated in \d+(\.\d+)? ms/.test(t) ? t : undefined;
    });
    assert.match(text, /gitops checkout /);
    assert.match(text, /jukebox\/test: set canary traffic to 50%/);
    const token = readFileSync(sandbox().tokenFile, 'utf8').trim();
    assert.ok(token.length > 10);
    for (const secret of [token, 'not-a-real-token', 'sha256~expired-token-0123456789']) {
      assert.ok(!text.includes(secret), `a token reached the log: ${secret.slice(0, 8)}…`);
    }
  });
});
