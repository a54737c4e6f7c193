/**
 * The same cluster-layer, CLI and connection tests on both sandbox backends (issue 14 §4), in
 * one run: the embedded API server and a real kube-apiserver + etcd (BACKENDS,
 * KSC_SANDBOX_BACKEND narrows it). Each backend: the store converges to the server's truth read
 * through its API (not from any in-process store), the verdicts, `status` / `status --json`,
 * `set … --wait` going live, `traffic` split as the server's status says, the gates' figures
 * from the backend's Prometheus, `rollout`, and the connection's classified problems.
 * Then `status --json` and the metric figures must be the same on both.
 * The real server missing (no binary, no Go): its tests fail with one line saying what to install.
 */
// needs: kube-apiserver (scripts/test.mjs builds it with scripts/build-apiserver.mjs before the unit stage)
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { main } from '../../src/cli/main';
import { readDashboardMetrics } from '../../src/cluster/dashboard-metrics';
import { createMetricsClient, observedSplit, readGates } from '../../src/cluster/metrics';
import type { Store } from '../../src/cluster/store';
import { git } from '../core/git-helpers';
import { APP_PATH, request } from '../sandbox/backend-api';
import { BACKENDS, openSandbox, type Backend, type BackendSandbox } from '../sandbox/helpers';
import { memoryIO } from './cli-io';
import { converged as convergedTo } from './converge';
import { storeOn, until, type RecordingLog } from './sandbox-helpers';

interface StatusService {
  env: string;
  name: string;
  prev: number | null;
  latest: number | null;
  state: string;
  desired: { percent: number | null } | null;
  application: { syncStatus?: string; healthStatus?: string } | null;
}

/** What must be equal on both backends: services, splits and verdicts (no urls, revisions, times). */
const comparable = (doc: { services: StatusService[] }) =>
  doc.services.map((s) => ({
    env: s.env,
    name: s.name,
    prev: s.prev,
    latest: s.latest,
    state: s.state,
    desired: s.desired?.percent ?? null,
    sync: s.application?.syncStatus ?? null,
    health: s.application?.healthStatus ?? null,
  }));

interface Kubeconfig {
  clusters: { cluster: { server: string } }[];
  users: { user: Record<string, unknown> }[];
}

const seedStatus = new Map<Backend, ReturnType<typeof comparable>>();
const metricFigures = new Map<Backend, unknown>();

for (const backend of BACKENDS) {
  describe(`on the ${backend} backend: cluster layer, CLI, connection`, () => {
    let sb: BackendSandbox;
    let store: Store;
    let log: RecordingLog;
    const common = () => ['--kubeconfig', sb.kubeconfigPath, '--gitops', sb.gitopsClone];
    const cli = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
      const r = memoryIO(env);
      const code = await main(args, r.io);
      return { code, out: r.out(), err: r.err() };
    };
    const converged = () => convergedTo(sb, store, { api: true });

    before(async () => {
      sb = await openSandbox({ backend, syncDelayMs: 200, rolloutDelayMs: 100, pollMs: 100, inference: true });
      ({ store, log } = await storeOn(sb));
    });
    after(async () => {
      store?.dispose();
      await sb?.cleanup();
    });

    it('the store converges to the server: both environments, the seed 80/20, live verdicts, no problem', async () => {
      await until(() => store.connection().phase === 'connected', 'connected');
      await converged();
      assert.deepEqual(
        store
          .environments()
          .map((e) => [e.env, e.namespace])
          .sort(),
        [
          ['prod', 'user1-prod'],
          ['test', 'user1-test'],
        ],
      );
      const test = store.get('user1-test/jukebox');
      assert.equal(test?.prevPercent, 80);
      assert.equal(test?.latestPercent, 20);
      await until(
        () => store.services().every((s) => s.verdict === 'live'),
        () => `every verdict live: ${JSON.stringify(store.services().map((s) => [s.key, s.verdict]))}`,
      );
      assert.deepEqual(log.problems(), []);
    });

    it('status: the oc get isvc columns plus ENV, DESIRED, SYNC, STATE; test at 80/20 live', async () => {
      const r = await cli(['status', ...common()]);
      assert.equal(r.code, 0, r.err);
      const lines = r.out.trim().split('\n');
      assert.match(lines[0] ?? '', /^ENV\s+NAME\s+URL\s+READY\s+PREV\s+LATEST\s+PREVROLLEDOUTREVISION\s+LATESTREADYREVISION\s+AGE\s+DESIRED\s+SYNC\s+STATE$/);
      assert.match(
        lines.find((l) => l.startsWith('test ')) ?? '',
        /^test\s+jukebox\s+\S+\s+True\s+80\s+20\s+jukebox-predictor-\d+\s+jukebox-predictor-\d+\s+\S+\s+20\s+Synced@[0-9a-f]{7}\s+live$/,
      );
      assert.match(lines.find((l) => l.startsWith('prod ')) ?? '', /\s+none\s+Synced@[0-9a-f]{7}\s+live$/);
    });

    it('status --json: connected, every service with its split and verdict', async () => {
      const r = await cli(['status', '--json', ...common()]);
      assert.equal(r.code, 0, r.err);
      const doc = JSON.parse(r.out) as { connection: { phase: string; problem: unknown }; services: StatusService[] };
      assert.equal(doc.connection.phase, 'connected');
      assert.equal(doc.connection.problem, null);
      const seen = comparable(doc);
      assert.deepEqual(seen.map((s) => `${s.env}/${s.name}`).sort(), ['prod/jukebox', 'test/jukebox']);
      assert.equal(
        seen.every((s) => s.state === 'live' && s.sync === 'Synced'),
        true,
        JSON.stringify(seen),
      );
      assert.ok(!r.out.includes(sb.userToken()), 'no token in the output');
      seedStatus.set(backend, seen);
    });

    it('connection: a wrong token is one unauthorized problem; a closed port is unreachable; the good kubeconfig is fine', async () => {
      const variants: Array<[string, (k: Kubeconfig) => void, string]> = [
        ['kc-bad-token', (k) => (k.users[0]!.user = { token: 'sha256~not-the-token' }), 'unauthorized'],
        ['kc-closed-port', (k) => (k.clusters[0]!.cluster.server = 'https://127.0.0.1:1'), 'unreachable'],
      ];
      for (const [name, edit, kind] of variants) {
        const k = parse(fs.readFileSync(sb.kubeconfigPath, 'utf8')) as Kubeconfig;
        edit(k);
        const file = path.join(sb.dir, name);
        fs.writeFileSync(file, stringify(k), { mode: 0o600 });
        const { store: bad, log: badLog } = await storeOn({ kubeconfigPath: file, gitopsClone: sb.gitopsClone });
        try {
          const p = await until(() => bad.connection().problem, `a ${kind} problem`);
          assert.equal(p.kind, kind, p.message);
          assert.equal(badLog.problems().length, 1, badLog.problems().join('\n'));
          assert.equal(
            bad.services().every((s) => s.verdict === 'unknown'),
            true,
          );
        } finally {
          bad.dispose();
        }
      }
      assert.equal(store.connection().phase, 'connected');
    });

    it("set jukebox 50 --env test --wait: user1 may not refresh the Application (403), so it waits for Argo CD's poll; goes live at the pushed sha, no problem; the store converges", async () => {
      const refresh = await request(sb, 'PATCH', `${APP_PATH('user1-toolings')}/jukebox-test`, {
        body: { metadata: { annotations: { 'argocd.argoproj.io/refresh': 'normal' } } },
        contentType: 'application/merge-patch+json',
      });
      assert.equal(refresh.status, 403, refresh.text);
      const r = await cli(['set', 'jukebox', '50', '--env', 'test', '--wait', '--timeout', '2m', ...common()]);
      assert.equal(r.code, 0, r.err + r.out);
      const sha = git(sb.gitopsClone, ['rev-parse', 'HEAD']).trim();
      // no refresh was sent; whether the waiting line shows depends on Argo CD syncing before the follow starts (kube-backend.test.ts and cli-status.test.ts pin it)
      assert.doesNotMatch(r.out, /Asked Argo CD to refresh/);
      for (const line of r.out.split('\n').filter((l) => /Argo CD's own poll/.test(l)))
        assert.equal(line, "  … Waiting for Argo CD's own poll of git (up to 3 min by default): no right to refresh jukebox-test");
      assert.ok(r.out.trimEnd().endsWith(`jukebox in test: prev 50% · latest 50%, Synced at ${sha.slice(0, 7)}`), r.out);
      assert.doesNotMatch(r.err, /\S/, 'nothing on stderr: a refused refresh is no problem');
      assert.deepEqual(log.problems(), []);
      await converged();
      assert.equal(store.get('user1-test/jukebox')?.latestPercent, 50);
    });

    it("traffic at 50/50: every request answered, split between the two revisions as the server's status says", async () => {
      const r = await cli(['traffic', 'jukebox', '--env', 'test', '--rps', '20', '--duration', '1s', '--json', ...common()]);
      assert.equal(r.code, 0, r.out + r.err);
      const t = JSON.parse(r.out) as { target: string; byStatus: Record<string, number>; byRevision: Record<string, number> };
      assert.match(t.target, /^http:\/\/127\.0\.0\.1:\d+\/serving\/user1-test\/jukebox\/v2\/models\/jukebox\/infer$/);
      assert.deepEqual(t.byStatus, { 200: 20 });
      // smooth weighted round robin over status.components.predictor.traffic: exact over 20 requests
      assert.deepEqual(t.byRevision, { 'jukebox-predictor-00001': 10, 'jukebox-predictor-00002': 10 });
    });

    it("metrics: the gates, the observed split and the counts per revision read from the backend's Prometheus", async () => {
      assert.ok(sb.prometheusUrl, `the ${backend} backend serves no Prometheus API`);
      const client = createMetricsClient({ url: sb.prometheusUrl, token: sb.userToken(), ca: fs.readFileSync(sb.caFile) });
      const conf = 'namespace_name="user1-test",configuration_name="jukebox-predictor"';
      const counts = Object.fromEntries(
        (await client.query(`sum by (revision_name) (revision_request_count{${conf}})`)).map((x) => [x.metric.revision_name, x.value]),
      );
      assert.deepEqual(counts, { 'jukebox-predictor-00001': 10, 'jukebox-predictor-00002': 10 });
      const split = await observedSplit(
        client,
        { namespace: 'user1-test', name: 'jukebox', prevRevision: 'jukebox-predictor-00001', latestRevision: 'jukebox-predictor-00002' },
        { windowMs: 60_000 },
      );
      if (split.kind !== 'observed') assert.fail(`no observed split: ${split.message}`);
      const gates = await readGates(client, { namespace: 'user1-test', revision: 'jukebox-predictor-00002', windowMs: 60_000 });
      assert.equal(gates.problem, undefined);
      // the dashboard's range query over the last minute, 1 s steps (the scrape interval): its per-step increases add up to the counts
      const now = Date.now();
      const times = Array.from({ length: 61 }, (_, i) => now - 60_000 + i * 1000);
      const dash = await readDashboardMetrics(client, { namespace: 'user1-test', name: 'jukebox' }, { from: times[0]!, to: now, stepMs: 1000, times });
      assert.ok(dash.requestRate.ok, dash.requestRate.ok ? '' : dash.requestRate.error);
      const figures = {
        counts,
        dashboard: {
          source: dash.source,
          counts: Object.fromEntries(dash.requestRate.data.map((x) => [x.revision, Math.round(x.points.reduce((a, p) => a + (p.v ?? 0), 0))])),
        },
        split: { source: split.source, prev: split.prevPercent, latest: split.latestPercent, revisions: Object.keys(split.byRevision).sort() },
        gates: { rps: (gates.rps ?? 0) > 0, errorRate: gates.errorRate, p95: Number.isFinite(gates.p95Ms) },
      };
      assert.deepEqual(figures.split, { source: 'knative', prev: 50, latest: 50, revisions: ['jukebox-predictor-00001', 'jukebox-predictor-00002'] });
      assert.deepEqual(figures.dashboard, { source: 'knative', counts });
      assert.deepEqual(figures.gates, { rps: true, errorRate: 0, p95: true });
      metricFigures.set(backend, figures);
    });

    it('rollout --plan 70:1s,100 --no-gates: two step commits, ends promoted, the store converges', async () => {
      const r = await cli(['rollout', 'jukebox', '--env', 'test', '--plan', '70:1s,100', '--no-gates', ...common()]);
      assert.equal(r.code, 0, r.out + r.err);
      assert.deepEqual(git(sb.gitopsClone, ['log', '-2', '--format=%s']).trim().split('\n').reverse(), [
        'Progressive rollout of jukebox in test: step 1/2, 70%',
        'Progressive rollout of jukebox in test: step 2/2, 100% (promote)',
      ]);
      await converged();
      assert.equal(store.get('user1-test/jukebox')?.latestPercent, 100);
    });
  });
}

if (BACKENDS.length > 1) {
  describe('the backends agree', () => {
    it('status --json shows the same services, splits and verdicts on every backend (the seed)', () => {
      const [first, ...rest] = BACKENDS;
      const want = seedStatus.get(first!);
      assert.ok(want, `status --json did not run on ${first}`);
      for (const b of rest) assert.deepEqual(seedStatus.get(b), want, `${b} against ${first}`);
    });

    it('the gates and the dashboard read the same figures on every backend (counts per revision, split, gate readings)', () => {
      const [first, ...rest] = BACKENDS;
      const want = metricFigures.get(first!);
      assert.ok(want, `the metrics test did not pass on ${first}`);
      for (const b of rest) assert.deepEqual(metricFigures.get(b), want, `${b} against ${first}`);
    });
  });
}
