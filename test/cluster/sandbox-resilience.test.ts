/**
 * The store under restarts, 410 Gone, a window of 500s, 401 and 403, against the sandbox
 * through the real client. Each ends with the store equal to the sandbox's truth, and each
 * problem is classified and logged once per episode.
 *
 * KSC_FAULT_500_SECONDS sets the length of the 500 window (default 20 s; the 60 s:
 * KSC_FAULT_500_SECONDS=60).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createClusterStore } from '../../src/cluster/index';
import { INFERENCE_SERVICES } from '../../src/sandbox/resources';
import type { Sandbox } from '../../src/sandbox/index';
import { converged, episodeOver, recordingLog, sandboxAndStore, TEST_TUNING, until } from './sandbox-helpers';

const WINDOW_500_S = Number(process.env.KSC_FAULT_500_SECONDS ?? 20);

let counter = 0;
/** Creates, changes or deletes an InferenceService that Argo CD does not manage. */
function churn(sb: Sandbox, ns = 'user1-test'): void {
  const i = counter++;
  const name = `extra-${i % 4}`;
  const existing = sb.controller.store.get(INFERENCE_SERVICES, ns, name);
  if (existing && i % 3 === 0) {
    existing.metadata.finalizers = [];
    delete existing.metadata.resourceVersion;
    sb.controller.store.update(INFERENCE_SERVICES, existing, ns);
    sb.controller.store.delete(INFERENCE_SERVICES, ns, name);
  } else if (existing) {
    existing.spec = {
      predictor: { canaryTrafficPercent: (i * 7) % 100, model: { modelFormat: { name: 'onnx' }, storageUri: `oci://example.invalid/${name}:v${i}` } },
    };
    delete existing.metadata.resourceVersion;
    sb.controller.store.update(INFERENCE_SERVICES, existing, ns);
  } else {
    sb.controller.store.create(INFERENCE_SERVICES, {
      metadata: { name, namespace: ns },
      spec: { predictor: { model: { modelFormat: { name: 'onnx' }, storageUri: `oci://example.invalid/${name}:v${i}` } } },
    });
  }
}

describe('cluster store resilience against the sandbox', () => {
  let ctx: Awaited<ReturnType<typeof sandboxAndStore>>;
  before(async () => {
    ctx = await sandboxAndStore();
    await ctx.store.ready();
    await converged(ctx.sb, ctx.store);
  });
  after(async () => ctx?.close());

  // Requests per restart (the "no request storm" ratio) depend on timing: `npm run bench -- bounds`.
  it('10 sandbox restarts with changes in between: converges every time', async () => {
    for (let i = 0; i < 10; i++) {
      await ctx.sb.restart();
      churn(ctx.sb);
      churn(ctx.sb, 'user1-prod');
      await converged(ctx.sb, ctx.store);
    }
    await until(() => ctx.store.connection().phase === 'connected', 'connected');
  });

  it('a burst of 410 Gone: relists and converges', async () => {
    const gone = () => ctx.store.stats().reduce((n, s) => n + s.relistsOnGone, 0);
    const before = gone();
    for (let i = 0; i < 8; i++) {
      churn(ctx.sb);
      const relisted = gone();
      ctx.sb.faults.expireResourceVersions({ dropWatches: true });
      if (i % 2 === 0) await until(() => gone() > relisted, 'a relist after the 410'); // the next burst hits a fresh watch
    }
    churn(ctx.sb);
    await converged(ctx.sb, ctx.store);
    assert.ok(gone() > before, 'at least one relist after 410');
    assert.equal(ctx.store.connection().phase, 'connected');
  });

  it(`${WINDOW_500_S} s of HTTP 500: disconnected since …, one classified problem, then converges`, async () => {
    // an earlier episode (the restarts', if they ran) must be over first, or this one would join it
    await until(() => episodeOver(ctx.log), 'the previous episode to end');
    const episode = ctx.store.connection().episode ?? 0;
    const warned = ctx.log.problems().length;
    ctx.sb.faults.failRequests(WINDOW_500_S);
    ctx.sb.faults.dropWatches();
    const down = await until(() => (ctx.store.connection().phase === 'disconnected' ? ctx.store.connection() : undefined), 'disconnected');
    assert.equal(down.problem?.kind, 'server-error');
    assert.ok(down.disconnectedSince && !Number.isNaN(Date.parse(down.disconnectedSince)));
    // changes while every request fails: one after each failed attempt of the store, for the window
    const failures = () => ctx.store.stats().reduce((n, s) => n + s.failures, 0);
    const ends = Date.now() + WINDOW_500_S * 1000;
    while (Date.now() < ends) {
      churn(ctx.sb);
      const seen = failures();
      await until(() => failures() > seen || Date.now() >= ends, 'the store to try again', WINDOW_500_S * 1000 + 30000);
    }
    await converged(ctx.sb, ctx.store, 30000);
    await until(() => ctx.store.connection().phase === 'connected', 'connected again');
    const c = ctx.store.connection();
    assert.equal(c.problem, undefined);
    assert.equal(c.episode, episode + 1, 'one episode');
    const newWarnings = ctx.log.problems().slice(warned);
    assert.equal(newWarnings.length, 1, newWarnings.join('\n'));
    assert.match(newWarnings[0], /HTTP 500/);
    // attempts per watch per second of the window (backoff, never a storm): `npm run bench -- bounds`
  });

  it('401 (wrong token): exactly one classified error per episode, never the token; a fixed kubeconfig reconnects by itself', async () => {
    const token = fs.readFileSync(ctx.sb.tokenFile, 'utf8').trim();
    const dir = fs.mkdtempSync(path.join(ctx.sb.dir, 'kc-'));
    const kcFile = path.join(dir, 'config');
    const good = fs.readFileSync(ctx.sb.kubeconfigPath, 'utf8');
    fs.writeFileSync(kcFile, good.replace(token, 'sha256~not-the-token'));
    const log = recordingLog();
    const store = await createClusterStore({ settings: { kubeconfigPath: kcFile }, gitops: { root: ctx.sb.gitopsClone }, log, env: {}, tuning: TEST_TUNING });
    try {
      await until(() => store.connection().problem?.kind === 'unauthorized', 'unauthorized');
      await until(() => store.stats().reduce((n, s) => n + s.failures, 0) >= 12, 'several retries');
      assert.equal(store.connection().phase, 'disconnected');
      assert.equal(log.problems().length, 1, log.problems().join('\n'));
      assert.match(log.problems()[0], /not logged in, or the token expired/);
      assert.equal(store.connection().episode, 1);
      fs.writeFileSync(`${kcFile}.new`, good);
      fs.renameSync(`${kcFile}.new`, kcFile); // like `oc login`
      await until(() => store.connection().phase === 'connected', 'reconnected after the kubeconfig changed');
      await converged(ctx.sb, store);
      assert.ok(log.lines.some((l) => /kubeconfig changed/.test(l.message)));
      for (const l of log.lines) assert.ok(!l.message.includes(token) && !l.message.includes('not-the-token'), l.message);
      assert.ok(!JSON.stringify(store.connection()).includes(token));
    } finally {
      store.dispose();
    }
  });

  it('403 in one namespace: one classified problem naming it, the other namespace works; lifting it recovers', async () => {
    ctx.sb.controller.forbid('user1-prod');
    const log = recordingLog();
    const store = await createClusterStore({
      settings: { kubeconfigPath: ctx.sb.kubeconfigPath },
      gitops: { root: ctx.sb.gitopsClone },
      log,
      env: {},
      tuning: TEST_TUNING,
    });
    try {
      const p = await until(() => store.connection().problem, 'a problem');
      assert.equal(p.kind, 'forbidden');
      assert.equal(p.namespace, 'user1-prod');
      // forbidden in one namespace is not a disconnection: connected once the others listed
      await until(() => store.connection().phase === 'connected' && store.connection().problem?.kind === 'forbidden', 'connected with the problem');
      await until(() => store.get('user1-test/jukebox')?.verdict === 'live', 'test still live');
      await until(() => (store.stats().find((s) => s.id === 'inferenceservices@user1-prod')?.failures ?? 0) >= 6, 'several retries');
      assert.equal(log.problems().length, 1, log.problems().join('\n'));
      assert.match(log.problems()[0], /user1-prod/);
      assert.equal(store.get('user1-prod/jukebox')?.verdict, 'unknown', 'not seen: unknown, not drift');
      assert.match(store.get('user1-prod/jukebox')?.verdictReason ?? '', /Forbidden: .* user1-prod/);
      ctx.sb.controller.forbid('user1-prod', false);
      await until(() => store.connection().problem === undefined, 'problem cleared');
      await converged(ctx.sb, store);
    } finally {
      ctx.sb.controller.forbid('user1-prod', false);
      store.dispose();
    }
  });

  it('cluster-wide watch when allowed and many namespaces; falls back to per-namespace on 403', async () => {
    const opts = (log: ReturnType<typeof recordingLog>) => ({
      settings: { kubeconfigPath: ctx.sb.kubeconfigPath },
      gitops: { root: ctx.sb.gitopsClone },
      log,
      env: {},
      tuning: { ...TEST_TUNING, clusterWideFrom: 2 },
    });
    const wide = await createClusterStore(opts(recordingLog()));
    try {
      await wide.ready();
      assert.deepEqual(
        wide
          .stats()
          .filter((s) => s.id.startsWith('inferenceservices'))
          .map((s) => s.id),
        ['inferenceservices@*'],
      );
      await converged(ctx.sb, wide);
    } finally {
      wide.dispose();
    }
    ctx.sb.controller.allowClusterWide(false);
    const log = recordingLog();
    const narrow = await createClusterStore(opts(log));
    try {
      await until(() => narrow.stats().some((s) => s.id === 'inferenceservices@user1-test'), 'per-namespace watches');
      await converged(ctx.sb, narrow);
      assert.equal(log.problems().length, 0, 'a refused cluster-wide list is not a problem');
    } finally {
      ctx.sb.controller.allowClusterWide(true);
      narrow.dispose();
    }
  });
});
