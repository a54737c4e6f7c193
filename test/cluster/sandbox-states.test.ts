/**
 * Every state of an InferenceService, produced in the sandbox (real HTTPS API, KServe-like
 * and Argo CD-like controllers) and read through the real client: the right model and verdict.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { publishCanaryChange } from '../../src/core/publish';
import { INFERENCE_SERVICES } from '../../src/sandbox/resources';
import type { CanaryAction } from '../../src/core/types';
import type { ServiceState } from '../../src/cluster/types';
import { converged, patchSpec, sandboxAndStore, until } from './sandbox-helpers';

describe('cluster store against the sandbox: every state', () => {
  let ctx: Awaited<ReturnType<typeof sandboxAndStore>>;
  const TEST = 'user1-test/jukebox';
  const PROD = 'user1-prod/jukebox';

  before(async () => {
    ctx = await sandboxAndStore();
    await ctx.store.ready();
  });
  after(async () => ctx?.close());

  const state = (key = TEST) => ctx.store.get(key);
  const waitFor = (pred: (s: ServiceState) => boolean, what: string, key = TEST) =>
    until(
      () => {
        const s = state(key);
        return s && pred(s) ? s : undefined;
      },
      () =>
        `${what} (now: ${JSON.stringify(state(key) && { v: state(key)?.verdict, r: state(key)?.verdictReason, prev: state(key)?.prevPercent, latest: state(key)?.latestPercent })})`,
    );

  async function publish(action: CanaryAction, env = 'test'): Promise<string> {
    const r = await publishCanaryChange({ root: ctx.sb.gitopsClone, env, model: 'jukebox', action, processEnv: process.env });
    await ctx.store.reloadDesired();
    return r.sha;
  }

  it('connects, maps user1 → user1-test / user1-prod, finds toolings and the Grafana route', () => {
    const c = ctx.store.connection();
    assert.equal(c.phase, 'connected');
    assert.equal(c.problem, undefined);
    assert.deepEqual(
      ctx.store.environments().map((e) => [e.env, e.namespace]),
      [
        ['prod', 'user1-prod'],
        ['test', 'user1-test'],
      ],
    );
    assert.equal(ctx.store.toolingsNamespace(), 'user1-toolings');
    assert.match(ctx.store.grafanaRoute()?.url ?? '', /^https:\/\//);
  });

  it('split (seed: prev 80 / latest 20) is live; prod at 100 is live with PREV empty', async () => {
    const t = await waitFor((s) => s.verdict === 'live', 'test live');
    assert.equal(t.prevPercent, 80);
    assert.equal(t.latestPercent, 20);
    assert.equal(t.desired?.percent, 20);
    assert.equal(t.application?.syncStatus, 'Synced');
    assert.equal(t.ready, true);
    assert.ok(t.url?.startsWith('https://'));
    assert.equal(t.traffic.length, 2);
    const p = await waitFor((s) => s.verdict === 'live', 'prod live', PROD);
    assert.equal(p.latestPercent, 100);
    assert.ok(p.prevPercent === undefined || p.prevPercent === 0);
    assert.deepEqual(
      ctx.store.services().map((s) => s.key),
      [PROD, TEST],
      'sorted by env then name',
    );
  });

  it('pushed but not applied is syncing; then live at 50/50', async () => {
    ctx.sb.controller.pauseArgo(true);
    const sha = await publish({ kind: 'set', percent: 50 });
    const syncing = await waitFor((s) => s.verdict === 'syncing', 'syncing');
    assert.match(syncing.verdictReason, /Argo CD is at .*, git at /);
    ctx.sb.controller.pauseArgo(false);
    const live = await waitFor((s) => s.verdict === 'live' && s.prevPercent === 50, 'live at 50');
    assert.equal(live.latestPercent, 50);
    assert.equal(live.application?.revision, sha);
  });

  it('an edit committed in the checkout is picked up by itself (no reload call)', async () => {
    const before = state()?.desired?.commit;
    const r = await publishCanaryChange({
      root: ctx.sb.gitopsClone,
      env: 'test',
      model: 'jukebox',
      action: { kind: 'set', percent: 45 },
      push: false,
      processEnv: process.env,
    });
    const s = await waitFor((x) => x.desired?.percent === 45 && x.desired.commit === r.sha, 'the new desired state');
    assert.notEqual(s.desired?.commit, before);
    assert.equal(s.verdict, 'drift', 'committed, not pushed: the cluster cannot have it');
    assert.match(s.verdictReason, /not pushed \(HEAD [0-9a-f]{7}, pushed [0-9a-f]{7}\)/);
    await publish({ kind: 'set', percent: 45 }); // pushes the commit
    await waitFor((x) => x.verdict === 'live' && x.latestPercent === 45, 'live at 45');
  });

  it('a config.yaml that does not parse: unknown with the reason, reported once; fixed, back to live', async () => {
    const file = path.join(ctx.sb.gitopsClone, 'model-deployments', 'test', 'jukebox', 'config.yaml');
    const good = fs.readFileSync(file, 'utf8');
    const warned = ctx.log.problems().length;
    try {
      fs.writeFileSync(file, 'canary: [unclosed\n');
      const s = await waitFor((x) => x.verdict === 'unknown' && /could not be read/.test(x.verdictReason), 'unknown (broken config)');
      assert.equal(s.desired, undefined);
      await ctx.store.reloadDesired(); // again: no second warning
      assert.equal(ctx.log.problems().slice(warned).length, 1, ctx.log.problems().slice(warned).join('\n'));
      assert.match(ctx.log.problems()[warned]!, /Skipped test\/jukebox/);
    } finally {
      fs.writeFileSync(file, good);
    }
    await waitFor((x) => x.verdict === 'live' && x.desired !== undefined, 'live again');
  });

  it('100 through git: live, PREV empty or 0', async () => {
    await publish({ kind: 'set', percent: 100 });
    const s = await waitFor((x) => x.verdict === 'live' && x.latestPercent === 100 && x.desired?.percent === 100, 'live at 100');
    assert.ok(s.prevPercent === undefined || s.prevPercent === 0);
    assert.equal(s.specPercent, 100);
  });

  it('0 (rollback): prev 100 / latest 0, live', async () => {
    await publish({ kind: 'set', percent: 30 });
    await waitFor((x) => x.verdict === 'live' && x.latestPercent === 30, 'live at 30');
    await publish({ kind: 'rollback' });
    const s = await waitFor((x) => x.verdict === 'live' && x.desired?.percent === 0, 'rolled back');
    assert.equal(s.prevPercent, 100);
    assert.equal(s.latestPercent, 0);
  });

  it('a manual change that Argo CD has not reverted yet is drift; self-heal brings it back to live', async () => {
    ctx.sb.controller.pauseArgo(true);
    patchSpec(ctx.sb, 'user1-test', 'jukebox', 70);
    const d = await waitFor((x) => x.verdict === 'drift', 'drift');
    assert.match(d.verdictReason, /canaryTrafficPercent 70, git asks for 0/);
    assert.match(d.verdictReason, /Synced/);
    ctx.sb.controller.pauseArgo(false);
    await ctx.sb.controller.argo.refresh('jukebox-test'); // the paused controller missed the event
    await waitFor((x) => x.verdict === 'live' && x.specPercent === 0, 'self-healed');
  });

  it('rolling out (KServe behind the spec) is syncing', async () => {
    ctx.sb.controller.pauseArgo(true);
    ctx.sb.controller.kserve.stop();
    try {
      patchSpec(ctx.sb, 'user1-test', 'jukebox', 40);
      const s = await waitFor((x) => x.rollingOut, 'rolling out');
      assert.equal(s.verdict, 'syncing');
      assert.match(s.verdictReason, /rolling out generation/);
    } finally {
      ctx.sb.controller.kserve.start();
      ctx.sb.controller.pauseArgo(false);
      await ctx.sb.controller.argo.refresh('jukebox-test');
    }
    await waitFor((x) => x.verdict === 'live' && x.specPercent === 0 && !x.rollingOut, 'back to live');
  });

  it('RawDeployment with a canary asked is unsupported', async () => {
    await publish({ kind: 'set', percent: 20 });
    await waitFor((x) => x.verdict === 'live' && x.latestPercent === 20, 'live at 20');
    ctx.sb.controller.setDeploymentMode('user1-test', 'jukebox', 'RawDeployment');
    const s = await waitFor((x) => x.verdict === 'unsupported', 'unsupported');
    assert.equal(s.deploymentMode, 'RawDeployment');
    assert.equal(s.canarySupported, false);
    assert.match(s.verdictReason, /RawDeployment mode ignores canaryTrafficPercent/);
    ctx.sb.controller.setDeploymentMode('user1-test', 'jukebox', undefined);
    await waitFor((x) => x.verdict === 'live' && x.canarySupported, 'Serverless again');
  });

  it('a new revision that fails is not-ready, with its message, and traffic stays', async () => {
    ctx.sb.controller.failRevision('user1-test', 'jukebox', 'back-off pulling image quay.example/jukebox:bad');
    // a new model version creates a new revision
    const o = ctx.sb.controller.store.mustGet(INFERENCE_SERVICES, 'user1-test', 'jukebox');
    ctx.sb.controller.pauseArgo(true);
    const spec = structuredClone(o.spec ?? {}) as { predictor: { model: { storageUri?: string } } };
    spec.predictor.model.storageUri = 'oci://example.invalid/jukebox:bad';
    o.spec = spec;
    delete o.metadata.resourceVersion;
    ctx.sb.controller.store.update(INFERENCE_SERVICES, o, 'user1-test');
    const s = await waitFor((x) => x.verdict === 'not-ready', 'not-ready');
    assert.equal(s.newRevisionNotReady, true);
    assert.notEqual(s.latestCreatedRevision, s.latestReadyRevision);
    assert.match(s.verdictReason, /not ready/i);
    assert.match(`${s.verdictReason} ${s.readyMessage}`, /back-off pulling image/);
    ctx.sb.controller.healRevision('user1-test', 'jukebox');
    ctx.sb.controller.pauseArgo(false);
    await ctx.sb.controller.argo.refresh('jukebox-test');
    await waitFor((x) => x.verdict === 'live' && !x.newRevisionNotReady, 'healed');
  });

  it('removed from the cluster: missing, drift while Argo CD says Synced; re-created by self-heal', async () => {
    ctx.sb.controller.pauseArgo(true);
    const o = ctx.sb.controller.store.mustGet(INFERENCE_SERVICES, 'user1-test', 'jukebox');
    o.metadata.finalizers = [];
    delete o.metadata.resourceVersion;
    ctx.sb.controller.store.update(INFERENCE_SERVICES, o, 'user1-test');
    ctx.sb.controller.store.delete(INFERENCE_SERVICES, 'user1-test', 'jukebox');
    // Argo CD may still finish an operation started before the pause: wait for it to settle.
    const s = await waitFor((x) => x.missing === true && x.verdict === 'drift', 'missing and drift');
    assert.match(s.verdictReason, /no InferenceService in user1-test/);
    assert.equal(s.latestPercent, undefined);
    ctx.sb.controller.pauseArgo(false);
    await ctx.sb.controller.argo.refresh('jukebox-test');
    await waitFor((x) => !x.missing && x.verdict === 'live', 're-created');
    await converged(ctx.sb, ctx.store);
  });
});
