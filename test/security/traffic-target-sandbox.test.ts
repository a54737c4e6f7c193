/**
 * Test traffic against the sandbox cluster (issue 12 §3), through the CLI's main(): a
 * status.url rewritten to a metadata address or to another company's site is refused
 * (exit 2, the reason named) before any request; the sandbox's own loopback inference URL is
 * accepted, and the line printed before sending names the host and the rate.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSandbox, type TestSandbox } from '../sandbox/helpers';
import { INFERENCE_SERVICES } from '../../src/sandbox/resources';
import { runMain } from './helpers';

describe("test traffic goes only to the service on the cluster's apps domain", () => {
  let sb: TestSandbox;
  let work: string;
  let home: string;
  let original: string;

  const setUrl = (url: string) => {
    const o = sb.controller.store.mustGet(INFERENCE_SERVICES, 'user1-test', 'jukebox');
    (o.status as { url?: string }).url = url;
    delete o.metadata.resourceVersion;
    sb.controller.store.update(INFERENCE_SERVICES, o, 'user1-test', 'status');
  };
  const traffic = () =>
    runMain(
      ['traffic', 'jukebox', '--env', 'test', '--rps', '20', '--duration', '500ms', '--kubeconfig', sb.kubeconfigPath, '--gitops', sb.gitopsClone],
      sb.gitopsClone,
      home,
    );

  before(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'ksc-traffic-target-'));
    home = path.join(work, 'home');
    mkdirSync(home);
    sb = await openSandbox({ dir: path.join(work, 'sandbox'), inference: true });
    original = (sb.controller.store.mustGet(INFERENCE_SERVICES, 'user1-test', 'jukebox').status as { url: string }).url;
    sb.controller.kserve.stop(); // nothing rewrites status.url behind the test's back
  });
  after(async () => {
    await sb?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("status.url at the metadata address or another company's site: exit 2 naming why, before any request", async () => {
    setUrl('http://169.254.169.254/latest/meta-data/');
    const meta = await traffic();
    assert.equal(meta.code, 2, meta.stderr);
    assert.match(meta.stderr, /^error: Refusing to send test traffic to 169\.254\.169\.254 \(status\.url\): it is a cloud metadata service/m);
    assert.doesNotMatch(meta.stdout, /Sending/);
    setUrl('https://www.another-company.example/');
    const far = await traffic();
    assert.equal(far.code, 2, far.stderr);
    assert.match(far.stderr, /status\.url host www\.another-company\.example is not on the cluster's apps domain \(apps\.sandbox\.example\)/);
    assert.doesNotMatch(far.stdout, /Sending/);
  });

  it("the sandbox's own loopback inference URL: sent, after a line naming the host and the rate", async () => {
    setUrl(original);
    const r = await traffic();
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Sending 20 req\/s for 0\.5 s \(10 requests\) to 127\.0\.0\.1:\d+ — the local sandbox/m);
    assert.match(r.stdout, /^answers: 200: \d+/m);
  });
});
