/**
 * The end-to-end cases on the sandbox WITH its inference endpoints and its
 * Prometheus-compatible query API (no stand-ins). This file is the executable contract the
 * sandbox is built to (see the contract below; src/sandbox/inference.ts implements it).
 *
 * Contract (sandbox side):
 *  - `startSandbox({ inference: true, ... })` serves inference on 127.0.0.1 and sets each
 *    InferenceService's `status.url` to a loopback base URL, e.g.
 *    `http://127.0.0.1:<port>/serving/<namespace>/<name>`; under it
 *    `POST <status.url>/v2/models/<name>/infer` picks a revision per the current
 *    `status.components.predictor.traffic[]` percents (smooth weighted round robin, so the
 *    split is exact over many requests), answers 200 with the V2 body
 *    `{"model_name":"<name>","model_version":"<revision>","outputs":[…]}` and the header
 *    `x-kserve-revision: <revision>`; 400 for a body that is not JSON, 404 for another model.
 *  - `sb.controller.setRevisionBehavior(namespace, revision, { errorRate?, latencyMs? })`:
 *    that revision answers 500 for `errorRate` of its requests (deterministically: every
 *    round(1/errorRate)-th) and waits `latencyMs` before answering.
 *  - `sb.prometheusUrl`: base URL (loopback) of `GET /api/v1/query?query=…` over the requests
 *    served, requiring `Authorization: Bearer <sandbox token>` (401 otherwise), answering the
 *    queries of src/cluster/metrics.ts (knativeSplitQuery, ovmsSplitQuery, gateQueries) with
 *    `{"status":"success","data":{"resultType":"vector","result":[{"metric":{…},"value":[<unix s>,"<v>"]}]}}`:
 *      revision_request_count rate by revision_name (labels namespace_name, configuration_name
 *      `<name>-predictor`, revision_name, response_code_class `2xx`/`5xx`) over `[<n>s]`;
 *      revision_request_latencies_bucket (ms) so histogram_quantile(0.95, …) gives the p95 in ms
 *      ("NaN" without requests); ovms_requests_success by pod `<revision>-deployment-<hash>-<id>`
 *      counting 200 answers; an empty vector when nothing matches; anything else 400
 *      `{"status":"error","errorType":"bad_data","error":"…"}`.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { main } from '../../src/cli/main';
import { memoryIO } from './cli-io';
import { createMetricsClient, observedSplit } from '../../src/cluster/metrics';
import { observedMatches, formatObserved } from '../../src/core/observed';
import { openSandbox, type TestSandbox } from '../sandbox/helpers';
import { git } from '../core/git-helpers';
import { INFERENCE_SERVICES } from '../../src/sandbox/resources';

const io = memoryIO;

describe('progressive rollout end to end on the sandbox (inference + Prometheus API)', () => {
  let sb: TestSandbox | undefined;
  before(async () => {
    sb = await openSandbox({ syncDelayMs: 150, rolloutDelayMs: 100, pollMs: 50, inference: true });
    assert.ok(sb.prometheusUrl, 'the sandbox serves the Prometheus query API with inference: true');
  });
  after(async () => {
    await sb?.cleanup();
  });
  const promUrl = () => sb!.prometheusUrl!;
  const common = () => ['--kubeconfig', sb!.kubeconfigPath, '--gitops', sb!.gitopsClone];
  const subjects = (n: number) =>
    git(sb!.gitopsClone, ['log', `-${n}`, '--format=%s'])
      .trim()
      .split('\n')
      .reverse();
  const latestRevision = () => {
    const o = sb!.controller.store.get(INFERENCE_SERVICES, 'user1-test', 'jukebox') as
      { status?: { components?: { predictor?: { latestReadyRevision?: string } } } } | undefined;
    return o?.status?.components?.predictor?.latestReadyRevision ?? '';
  };
  const prevRevision = () => {
    const o = sb!.controller.store.get(INFERENCE_SERVICES, 'user1-test', 'jukebox') as
      { status?: { components?: { predictor?: { traffic?: { tag?: string; revisionName?: string }[] } } } } | undefined;
    return o?.status?.components?.predictor?.traffic?.find((t) => t.tag === 'prev')?.revisionName;
  };
  const gates = ['--window', '2s', '--traffic', '50'];

  it('the observed split of sent traffic matches the configured split (80/20 between two revisions) within statistical tolerance', async () => {
    const set = io();
    assert.equal(await main(['set', 'jukebox', '20', '--env', 'test', '--wait', ...common()], set.io), 0, set.out() + set.err());
    const tr = io();
    const started = Date.now();
    assert.equal(await main(['traffic', 'jukebox', '--env', 'test', '--rps', '100', '--duration', '3s', ...common()], tr.io), 0, tr.out() + tr.err());
    // the window covers this traffic only (earlier tests' traffic ended before it started)
    const windowMs = Math.floor((Date.now() - started) / 1000) * 1000;
    const token = fs.readFileSync(sb!.tokenFile, 'utf8').trim();
    const o = await observedSplit(
      createMetricsClient({ url: promUrl(), token, ca: fs.readFileSync(sb!.caFile) }),
      {
        namespace: 'user1-test',
        name: 'jukebox',
        prevRevision: prevRevision(),
        latestRevision: latestRevision(),
      },
      { windowMs },
    );
    assert.equal(o.kind, 'observed', formatObserved(o));
    if (o.kind === 'observed') assert.equal((o.prevPercent ?? 0) + (o.latestPercent ?? 0), 100, formatObserved(o));
    assert.equal(observedMatches(o, 20, 10), true, formatObserved(o));
  });
  it('a healthy canary goes 10 → 50 → 100 in commits', async () => {
    const r = io();
    const code = await main(
      ['rollout', 'jukebox', '--env', 'test', '--plan', '10:3s,50:3s,100', '--prometheus', promUrl(), ...gates, '--restart', ...common()],
      r.io,
    );
    assert.equal(code, 0, r.out() + r.err());
    assert.deepEqual(subjects(3), [
      'Progressive rollout of jukebox in test: step 1/3, 10%',
      'Progressive rollout of jukebox in test: step 2/3, 50%',
      'Progressive rollout of jukebox in test: step 3/3, 100% (promote)',
    ]);
    assert.match(r.out(), /gates passed/);
  });

  it('a canary whose revision answers 20% errors is rolled back to 0% with a commit naming the gate', async () => {
    sb!.controller.setRevisionBehavior('user1-test', latestRevision(), { errorRate: 0.2 });
    const r = io();
    const code = await main(
      ['rollout', 'jukebox', '--env', 'test', '--plan', '10:3s,50:3s,100', '--prometheus', promUrl(), ...gates, '--restart', ...common()],
      r.io,
    );
    assert.equal(code, 1, r.out() + r.err());
    assert.match(subjects(1)[0]!, /^Roll back jukebox in test: gate error-rate failed \(\d+(\.\d+)?% > 5%\)$/);
    sb!.controller.setRevisionBehavior('user1-test', latestRevision(), { errorRate: 0 });
  });
});
