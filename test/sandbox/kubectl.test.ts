/** The real kubectl against the sandbox: tables, output formats, create, patch, status, watch, errors. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { KUBECTL, kubectl, openSandbox, tableRows, waitFor, type TestSandbox } from './helpers';

describe('kubectl against the sandbox', () => {
  let sb: TestSandbox;
  before(async () => {
    sb = await openSandbox();
  });
  after(async () => {
    await sb?.cleanup();
  });

  test('get isvc prints the KServe printer columns with 80 and 20', async () => {
    const r = await kubectl(sb, ['get', 'isvc', '-n', 'user1-test']);
    assert.equal(r.code, 0, r.stderr);
    const header = r.stdout.split('\n')[0]!.trim().split(/\s+/);
    assert.deepEqual(header, ['NAME', 'URL', 'READY', 'PREV', 'LATEST', 'PREVROLLEDOUTREVISION', 'LATESTREADYREVISION', 'AGE']);
    const [row] = tableRows(r.stdout);
    assert.equal(row!.NAME, 'jukebox');
    assert.equal(row!.URL, 'https://jukebox-user1-test.apps.sandbox.example');
    assert.equal(row!.READY, 'True');
    assert.equal(row!.PREV, '80');
    assert.equal(row!.LATEST, '20');
    assert.equal(row!.PREVROLLEDOUTREVISION, 'jukebox-predictor-00001');
    assert.equal(row!.LATESTREADYREVISION, 'jukebox-predictor-00002');
    assert.match(row!.AGE!, /^\d+s$/);
  });

  test('prod is at 100% latest with an empty PREV, and -A lists both namespaces', async () => {
    const r = await kubectl(sb, ['get', 'inferenceservices', '-A']);
    assert.equal(r.code, 0, r.stderr);
    const rows = tableRows(r.stdout);
    assert.deepEqual(
      rows.map((x) => x.NAMESPACE),
      ['user1-prod', 'user1-test'],
    );
    assert.equal(rows[0]!.PREV, '');
    assert.equal(rows[0]!.LATEST, '100');
    assert.equal(rows[0]!.LATESTREADYREVISION, 'jukebox-predictor-00001');
  });

  test('-o json, -o yaml, -o wide and jsonpath work; applications and routes print their columns', async () => {
    const json = await kubectl(sb, ['get', 'isvc', 'jukebox', '-n', 'user1-test', '-o', 'json']);
    assert.equal(json.code, 0, json.stderr);
    const o = JSON.parse(json.stdout);
    assert.equal(o.kind, 'InferenceService');
    assert.equal(o.spec.predictor.canaryTrafficPercent, 20);
    assert.equal(o.status.components.predictor.latestRolledoutRevision, 'jukebox-predictor-00001');
    const yaml = await kubectl(sb, ['get', 'isvc', 'jukebox', '-o', 'yaml']);
    assert.match(yaml.stdout, /canaryTrafficPercent: 20/);
    const wide = await kubectl(sb, ['get', 'applications', '-n', 'user1-toolings', '-o', 'wide']);
    assert.equal(wide.code, 0, wide.stderr);
    const apps = tableRows(wide.stdout);
    assert.deepEqual(
      apps.map((a) => [a.NAME, a['SYNC STATUS'], a['HEALTH STATUS'], a.PROJECT]),
      [
        ['jukebox-prod', 'Synced', 'Healthy', 'default'],
        ['jukebox-test', 'Synced', 'Healthy', 'default'],
      ],
    );
    const head = (await kubectl(sb, ['get', 'app', 'jukebox-test', '-n', 'user1-toolings', '-o', 'jsonpath={.status.sync.revision}'])).stdout;
    assert.match(head, /^[0-9a-f]{40}$/);
    const route = await kubectl(sb, ['get', 'route', 'jukebox-grafana-route', '-n', 'user1-toolings', '-o', 'jsonpath={.spec.host} {.spec.tls.termination}']);
    assert.equal(route.stdout, 'jukebox-grafana-route-user1-toolings.apps.sandbox.example edge');
  });

  test('label selectors filter lists', async () => {
    const yes = await kubectl(sb, ['get', 'isvc', '-A', '-l', 'app.kubernetes.io/instance in (jukebox-test)', '-o', 'name']);
    assert.equal(yes.stdout.trim(), 'inferenceservice.serving.kserve.io/jukebox');
    const no = await kubectl(sb, [
      'get',
      'isvc',
      '-A',
      '-l',
      'app.kubernetes.io/instance!=jukebox-test,opendatahub.io/dashboard',
      '-o',
      'jsonpath={.items[*].metadata.namespace}',
    ]);
    assert.equal(no.stdout, 'user1-prod');
    const none = await kubectl(sb, ['get', 'isvc', '-A', '-l', '!opendatahub.io/dashboard', '-o', 'name']);
    assert.equal(none.stdout.trim(), '');
  });

  test('create -f, patch --type merge/json, patch --subresource=status, delete', async () => {
    const manifest = [
      'apiVersion: serving.kserve.io/v1beta1',
      'kind: InferenceService',
      'metadata:',
      '  name: demo',
      'spec:',
      '  predictor:',
      '    model:',
      '      modelFormat: {name: onnx}',
      '      storageUri: oci://example.invalid/demo:1',
      '',
    ].join('\n');
    const c = await kubectl(sb, ['create', '-f', '-', '-n', 'user1-test'], { input: manifest });
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /inferenceservice.serving.kserve.io\/demo created/);
    await waitFor(
      'demo ready',
      async () =>
        (await kubectl(sb, ['get', 'isvc', 'demo', '-o', 'jsonpath={.status.components.predictor.latestReadyRevision}'])).stdout === 'demo-predictor-00001',
    );

    const again = await kubectl(sb, ['create', '-f', '-', '-n', 'user1-test'], { input: manifest });
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /AlreadyExists|already exists/);

    // kubectl's default (strategic merge) is refused for custom resources, like the real server.
    const strategic = await kubectl(sb, ['patch', 'isvc', 'demo', '-p', '{"spec":{"predictor":{"canaryTrafficPercent":10}}}']);
    assert.notEqual(strategic.code, 0);
    assert.match(strategic.stderr, /strategic-merge-patch\+json is not supported/);

    const merge = await kubectl(sb, ['patch', 'isvc', 'demo', '--type', 'merge', '-p', '{"spec":{"predictor":{"canaryTrafficPercent":10}}}']);
    assert.equal(merge.code, 0, merge.stderr);
    const jp = await kubectl(sb, [
      'patch',
      'isvc',
      'demo',
      '--type',
      'json',
      '-p',
      '[{"op":"replace","path":"/spec/predictor/canaryTrafficPercent","value":15}]',
    ]);
    assert.equal(jp.code, 0, jp.stderr);
    const got = await kubectl(sb, ['get', 'isvc', 'demo', '-o', 'json']);
    const obj = JSON.parse(got.stdout);
    assert.equal(obj.spec.predictor.canaryTrafficPercent, 15);
    assert.equal(obj.metadata.generation, 3);

    // a main-resource patch ignores status; the status subresource changes only status
    const ignored = await kubectl(sb, ['patch', 'isvc', 'demo', '--type', 'merge', '-p', '{"status":{"url":"https://ignored.example"}}']);
    assert.equal(ignored.code, 0, ignored.stderr);
    assert.notEqual((await kubectl(sb, ['get', 'isvc', 'demo', '-o', 'jsonpath={.status.url}'])).stdout, 'https://ignored.example');
    // let the controller catch up first, so that it has no reason to rewrite status afterwards
    await waitFor(
      'observedGeneration 3',
      async () => (await kubectl(sb, ['get', 'isvc', 'demo', '-o', 'jsonpath={.status.observedGeneration}'])).stdout === '3',
    );
    const status = await kubectl(sb, [
      'patch',
      'isvc',
      'demo',
      '--subresource=status',
      '--type',
      'merge',
      '-p',
      '{"status":{"url":"https://patched.example"},"spec":{"predictor":{"canaryTrafficPercent":99}}}',
    ]);
    assert.equal(status.code, 0, status.stderr);
    const after = JSON.parse((await kubectl(sb, ['get', 'isvc', 'demo', '-o', 'json'])).stdout);
    assert.equal(after.status.url, 'https://patched.example');
    assert.equal(after.spec.predictor.canaryTrafficPercent, 15);

    const d = await kubectl(sb, ['delete', 'isvc', 'demo', '--wait=false']);
    assert.equal(d.code, 0, d.stderr);
    await waitFor('demo gone', async () => /NotFound/.test((await kubectl(sb, ['get', 'isvc', 'demo'])).stderr));
  });

  test('invalid objects get 422 with the field named', async () => {
    const bad = JSON.stringify({
      apiVersion: 'serving.kserve.io/v1beta1',
      kind: 'InferenceService',
      metadata: { name: 'bad' },
      spec: { predictor: { canaryTrafficPercent: 120 } },
    });
    const r = await kubectl(sb, ['create', '-f', '-', '-n', 'user1-test'], { input: bad });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /is invalid: spec.predictor.canaryTrafficPercent: Invalid value: 120/);
    const p = await kubectl(sb, [
      'patch',
      'isvc',
      'jukebox',
      '-n',
      'user1-test',
      '--type',
      'merge',
      '-p',
      '{"spec":{"predictor":{"canaryTrafficPercent":-1}}}',
    ]);
    assert.notEqual(p.code, 0);
    assert.match(p.stderr, /greater than or equal to 0/);
  });

  test('get -w prints the table and then the change', async () => {
    const child = spawn(KUBECTL, ['--cache-dir', path.join(sb.dir, '.kube-cache'), 'get', 'isvc', '-n', 'user1-test', '-w'], {
      env: { ...process.env, KUBECONFIG: sb.kubeconfigPath, HOME: sb.dir },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += String(d)));
    try {
      await waitFor('initial table', () => /jukebox .* 80 +20 /.test(out));
      sb.controller.pauseArgo(true);
      const p = await kubectl(sb, ['patch', 'isvc', 'jukebox', '--type', 'merge', '-p', '{"spec":{"predictor":{"canaryTrafficPercent":35}}}']);
      assert.equal(p.code, 0, p.stderr);
      await waitFor('watched change', () => /jukebox .* 65 +35 /.test(out));
      assert.equal(out.split('\n').filter((l) => l.startsWith('NAME')).length, 1, 'headers printed once');
    } finally {
      child.kill();
      sb.controller.pauseArgo(false);
    }
  });
});
