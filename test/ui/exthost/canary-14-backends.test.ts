// Issue 14 in the extension host: the Canary Deployments tree (read from the real
// TreeDataProvider's items) shows the same environments, services, live splits and verdicts as
// `kserve-canary status --json` (the CLI bundle of this build, run from the host against the same
// kubeconfig and checkout), on whichever backend the harness started: the embedded sandbox, or a
// real kube-apiserver + etcd (scripts/test-exthost.mjs --backend kube-apiserver; npm test runs both,
// stages exthost and exthost-kube). With the seed, after a change made through the extension,
// and, on the real server, for a user whose namespaces have no RoleBinding (403, classified).
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import path from 'node:path';
import * as vscode from 'vscode';
import { parse as parseYaml } from 'yaml';
import type { TreeRow } from '../../../src/ui/testapi';
import { api, atSeedSplit, backend, EXT_ID, keyOf, onlyOn, sandbox, serviceRow, Stubs, until, type Api } from './canary-helpers';

/** One service as both must show it: what the tree's rows say, what status --json says. */
interface Seen {
  env: string;
  namespace: string;
  name: string;
  model: string;
  prev: number | null;
  latest: number | null;
  state: string;
  /** git's canary percent (null: no canary), or 'no config' when git has no config.yaml for it. */
  desired: number | null | 'no config';
  /** The Argo CD Application's sync and health, or null without one. */
  app: [string, string] | null;
}

interface StatusService {
  env: string;
  namespace: string;
  name: string;
  model: string | null;
  prev: number | null;
  latest: number | null;
  state: string;
  reason: string | null;
  desired: { percent: number | null } | null;
  application: { syncStatus: string | null; healthStatus: string | null } | null;
}

interface StatusDoc {
  connection: { phase: string; problem: { kind: string; message: string; namespace?: string | null } | null };
  services: StatusService[];
}

const byKey = (a: Seen, b: Seen) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`);
const pctOf = (text: string | undefined) => (text === undefined ? null : Number(text));

/** The services as the tree shows them: env rows (label, namespace), service rows and their children. */
function fromTree(rows: TreeRow[]): { environments: [string, string][]; services: Seen[] } {
  const environments: [string, string][] = [];
  const services: Seen[] = [];
  let env: TreeRow | undefined;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    if (r.depth === 0) {
      env = r;
      environments.push([r.label, r.description ?? '']);
      continue;
    }
    if (r.depth !== 1 || !env) continue;
    const children: TreeRow[] = [];
    for (let j = i + 1; j < rows.length && rows[j]!.depth > 1; j++) if (rows[j]!.depth === 2) children.push(rows[j]!);
    const [, namespace, name] = /^svc:([^/]+)\/(.+)$/.exec(r.id) ?? [];
    assert.ok(namespace && name, `a service row id svc:<namespace>/<name>: ${r.id}`);
    // `prev 80% · latest 20%`, `latest 100%` (+ where git wants it while syncing / on drift, + observed).
    const split = /^(?:prev (\d+)% · )?latest (\d+)%/.exec(r.description ?? '');
    const verdict = /^service\.(?:canary|nocanary)\.([a-z-]+)/.exec(r.contextValue ?? '')?.[1];
    assert.ok(verdict, `a service row's contextValue names its verdict: ${r.contextValue}`);
    const config = children.find((c) => c.label === 'config.yaml');
    const desired = !config?.description ? 'no config' : config.description === 'no canary' ? null : Number(/^canary (\d+)%$/.exec(config.description)?.[1]);
    const argo = children.find((c) => c.label.startsWith('Argo CD '))?.description?.split(' · ');
    services.push({
      env: env.label,
      namespace,
      name,
      model: r.label,
      prev: pctOf(split?.[1]),
      latest: pctOf(split?.[2]),
      state: verdict,
      desired,
      app: argo ? [argo[0]!, argo[1]!] : null,
    });
  }
  return { environments, services: services.sort(byKey) };
}

/**
 * The same from status --json. Its PREV 0 / LATEST 100 is shown by the tree as `latest 100%`,
 * like no PREV (domain.md §3: clusters report either once everything is on the latest revision).
 */
function fromStatus(doc: StatusDoc): Seen[] {
  return doc.services
    .map((s) => ({
      env: s.env,
      namespace: s.namespace,
      name: s.name,
      model: s.model ?? s.name,
      prev: s.prev === 0 && s.latest === 100 ? null : s.prev,
      latest: s.latest,
      state: s.state,
      desired: s.desired === null ? ('no config' as const) : s.desired.percent,
      app: s.application ? ([s.application.syncStatus ?? 'Unknown', s.application.healthStatus ?? 'Unknown'] as [string, string]) : null,
    }))
    .sort(byKey);
}

/** `kserve-canary status --json` of this build (dist/cli.js), for the sandbox's kubeconfig and checkout. */
function statusJson(extra: string[] = []): Promise<{ code: number; doc: StatusDoc; stderr: string }> {
  const cli = path.join(vscode.extensions.getExtension(EXT_ID)!.extensionPath, 'dist', 'cli.js');
  const args = [cli, 'status', '--json', '--kubeconfig', sandbox().kubeconfig, '--gitops', sandbox().gitopsClone, ...extra];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      try {
        resolve({ code, doc: JSON.parse(stdout) as StatusDoc, stderr });
      } catch {
        reject(new Error(`status --json exited ${code} without a JSON document: ${stdout}${stderr}`));
      }
    });
  });
}

/** GET with the kubeconfig's CA and token, as the extension connects. */
function getJson(apiPath: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const kc = parseYaml(readFileSync(sandbox().kubeconfig, 'utf8')) as {
    clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
    users: { user: { token: string } }[];
  };
  const ca = Buffer.from(kc.clusters[0]!.cluster['certificate-authority-data'], 'base64').toString('utf8');
  return new Promise((resolve, reject) => {
    const req = request(new URL(apiPath, kc.clusters[0]!.cluster.server), { ca, headers: { authorization: `Bearer ${kc.users[0]!.user.token}` } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** No verdict on its way somewhere: the tree and the CLI read a cluster at rest. */
const settled = (s: Seen[]) => s.length > 0 && s.every((x) => x.state !== 'syncing' && x.state !== 'unknown');

describe(`on the ${backend()} backend: the tree equals kserve-canary status --json`, function () {
  this.timeout(150_000);
  let a: Api;
  const stubs = new Stubs();
  const tree = async () => fromTree(await a.rows());

  /** The tree at rest, status --json, the tree again (unchanged: nothing moved in between); returns both. */
  const bothAtRest = async (what: string, extra: string[] = []) => {
    const before = await until(`the tree at rest (${what})`, async () => {
      const t = await tree();
      return settled(t.services) ? t : undefined;
    });
    const cli = await statusJson(extra);
    assert.deepEqual(await tree(), before, 'the tree did not change while status --json ran');
    return { tree: before, cli };
  };

  before(async () => {
    a = await api();
    await until('jukebox in test', async () => (await serviceRow(a, 'test', 'jukebox'))?.description);
    await atSeedSplit(a);
  });
  after(async () => {
    stubs.restore();
    await vscode.workspace.getConfiguration('kserveCanary').update('user', undefined, vscode.ConfigurationTarget.Global);
    await atSeedSplit(a);
  });

  it(`the extension is connected to the ${backend()} server the harness started`, async () => {
    await until('connected', () => a.connection()?.phase === 'connected');
    assert.equal(a.connection()?.server, sandbox().server);
    const version = await getJson('/version');
    assert.equal(version.status, 200);
    // The embedded API server names itself `…-sandbox`; the real one is the pinned Kubernetes release.
    if (backend() === 'embedded') assert.match(String(version.body.gitVersion), /-sandbox$/);
    else assert.match(String(version.body.gitVersion), /^v1\.\d+\.\d+$/);
  });

  it('the seed: the same environments, services, live splits and verdicts in the tree and in status --json', async () => {
    const { tree: t, cli } = await bothAtRest('the seed');
    assert.equal(cli.code, 0, cli.stderr);
    assert.equal(cli.doc.connection.phase, 'connected');
    assert.deepEqual(t.environments, [...new Set(cli.doc.services.map((s) => `${s.env}\0${s.namespace}`))].map((k) => k.split('\0')).sort());
    assert.deepEqual(t.services, fromStatus(cli.doc));
    // And it is the seed on every backend (the unit stage's backends.test.ts compares status --json across them).
    assert.deepEqual(
      t.services.map((s) => [s.env, s.model, s.prev, s.latest, s.state, s.desired]),
      [
        ['prod', 'jukebox', null, 100, 'live', null],
        ['test', 'jukebox', 80, 20, 'live', 20],
      ],
    );
  });

  it('after Set canary traffic to 50 goes live, the tree and status --json agree on the new split', async () => {
    stubs.set(vscode.window, 'showInputBox', (async () => '50') as typeof vscode.window.showInputBox);
    await vscode.commands.executeCommand('kserveCanary.setTraffic', keyOf(a, 'test', 'jukebox'));
    stubs.restore();
    await until(
      'jukebox in test live at 50/50',
      async () => {
        const s = (await tree()).services.find((x) => x.env === 'test');
        return s?.state === 'live' && s.latest === 50;
      },
      90_000,
    );
    const { tree: t, cli } = await bothAtRest('after the change');
    assert.equal(cli.code, 0, cli.stderr);
    assert.deepEqual(t.services, fromStatus(cli.doc));
    assert.deepEqual(t.services.find((s) => s.env === 'test')?.desired, 50);
  });

  onlyOn('kube-apiserver', 'the embedded API server has no RBAC: user1 may read any namespace there').it(
    "user2's namespaces (no RoleBinding for user1): 403, the tree and status --json show the same classified problem and services",
    async () => {
      const cfg = vscode.workspace.getConfiguration('kserveCanary');
      await cfg.update('user', 'user2', vscode.ConfigurationTarget.Global);
      try {
        const unescape = (md: string | undefined) => (md ?? '').replace(/\\(.)/g, '$1');
        const forbidden = (ns: string) => `Forbidden: the current user may not watch this in namespace ${ns}.`;
        // Both services git knows are on the tree, each unknown with its namespace's 403 as the reason (in the tooltip).
        const rows = await until(
          'the 403 of both namespaces on the tree',
          async () => {
            const r = await a.rows();
            const svc = r.filter((x) => x.depth === 1);
            return svc.length === 2 && svc.every((x) => unescape(x.tooltip).includes(`**Unknown**: ${forbidden(x.id.split(/[:/]/)[1]!)}`)) ? r : undefined;
          },
          60_000,
        );
        const problem = a.connection()?.problem;
        assert.ok(problem?.kind === 'forbidden', JSON.stringify(a.connection()));
        assert.match(problem.message, /^Forbidden: the current user may not watch this in namespace user2-(test|prod|toolings)\.$/);
        const cli = await statusJson(['--user', 'user2']);
        assert.equal(cli.code, 1, 'status exits 1: not connected');
        const cliProblem = cli.doc.connection.problem;
        assert.ok(cliProblem?.kind === 'forbidden', JSON.stringify(cli.doc.connection));
        assert.match(cliProblem.message, /^Forbidden: the current user may not watch this in namespace user2-(test|prod|toolings)\.$/);
        const t = fromTree(rows);
        assert.deepEqual(t.environments, [
          ['prod', 'user2-prod'],
          ['test', 'user2-test'],
        ]);
        assert.deepEqual(t.services, fromStatus(cli.doc));
        assert.deepEqual(
          t.services.map((s) => [s.namespace, s.state]),
          [
            ['user2-prod', 'unknown'],
            ['user2-test', 'unknown'],
          ],
        );
        for (const s of cli.doc.services) assert.equal(s.reason, forbidden(s.namespace));
      } finally {
        await cfg.update('user', undefined, vscode.ConfigurationTarget.Global);
      }
      await until('the rows back', async () => a.state() === 'ok' && !a.connection()?.problem && (await serviceRow(a, 'test', 'jukebox'))?.description, 60_000);
    },
  );
});
