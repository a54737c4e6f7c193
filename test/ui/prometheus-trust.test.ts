/** Whose choice the Prometheus URL is (settingSource) and the once-per-host question (PrometheusHostTrust). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PrometheusHostTrust, settingSource, TRUSTED_HOSTS_KEY } from '../../src/ui/prometheus-trust';

const URL_A = 'https://thanos.apps.example.com';

test("settingSource: workspace and folder values are the workspace's, unless the user settings hold the same", () => {
  assert.equal(settingSource(undefined, ''), 'user');
  assert.equal(settingSource({ globalValue: URL_A }, URL_A), 'user');
  assert.equal(settingSource({ workspaceValue: URL_A }, URL_A), 'workspace');
  assert.equal(settingSource({ workspaceFolderValue: ` ${URL_A} ` }, URL_A), 'workspace');
  assert.equal(settingSource({ globalValue: 'https://mine.example.com', workspaceValue: URL_A }, URL_A), 'workspace');
  assert.equal(settingSource({ globalValue: URL_A, workspaceValue: URL_A }, URL_A), 'user');
  // untrusted workspace: VS Code ignores the workspace value, `get` returns the user's
  assert.equal(settingSource({ globalValue: 'https://mine.example.com', workspaceValue: URL_A }, 'https://mine.example.com'), 'user');
});

function memento(initial: Record<string, unknown> = {}) {
  const data = new Map(Object.entries(initial));
  return {
    data,
    get: <T>(k: string) => data.get(k) as T | undefined,
    update: async (k: string, v: unknown) => void data.set(k, v),
  };
}

test('a "send" is remembered per origin; a refusal lasts for the session; one question at a time', async () => {
  const m = memento();
  const asked: string[] = [];
  let answer = false;
  const trust = new PrometheusHostTrust(m as never, async (o) => (asked.push(o), answer));
  const [a, b] = await Promise.all([trust.confirm(URL_A), trust.confirm(URL_A)]);
  assert.deepEqual([a, b, asked.length], [false, false, 1]);
  assert.equal(await trust.confirm(URL_A), false);
  assert.equal(asked.length, 1, 'refused once: not asked again this session');
  assert.equal(m.data.get(TRUSTED_HOSTS_KEY), undefined);
  answer = true;
  assert.equal(await trust.confirm('https://other.example.com:8443'), true);
  assert.deepEqual(m.data.get(TRUSTED_HOSTS_KEY), ['https://other.example.com:8443']);
  const later = new PrometheusHostTrust(m as never, async () => assert.fail('remembered hosts are not asked again'));
  assert.equal(await later.confirm('https://other.example.com:8443'), true);
});

test('a failing dialog counts as no', async () => {
  const trust = new PrometheusHostTrust(memento() as never, async () => {
    throw new Error('no window');
  });
  assert.equal(await trust.confirm(URL_A), false);
});
