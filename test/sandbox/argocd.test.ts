/** The Argo CD-like controller: git push → Application sync → InferenceService traffic. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { canaryPercentOf, renderInferenceService } from '../../src/sandbox/chart';
import { APPLICATIONS, INFERENCE_SERVICES } from '../../src/sandbox/resources';
import type { KObject } from '../../src/sandbox/types';
import { git as runGit } from '../core/git-helpers';
import { kubectl, openSandbox, waitFor, type TestSandbox } from './helpers';

/** git in the sandbox's clone, as its user (test/core/git-helpers' runner, the clone's own identity). */
function git(cwd: string, args: string[]): string {
  return runGit(cwd, args, { ...process.env, GIT_TERMINAL_PROMPT: '0' }).trim();
}

/** Edit files in the sandbox's clone, commit and push; returns the new commit sha. */
function push(sb: TestSandbox, files: Record<string, string>, message = 'change'): string {
  for (const [rel, text] of Object.entries(files)) {
    const f = path.join(sb.gitopsClone, rel);
    mkdirSync(path.dirname(f), { recursive: true });
    writeFileSync(f, text);
  }
  git(sb.gitopsClone, ['add', '--all']);
  git(sb.gitopsClone, ['commit', '-q', '-m', message]);
  git(sb.gitopsClone, ['push', '-q']);
  return git(sb.gitopsClone, ['rev-parse', 'HEAD']);
}

const TEST_CONFIG = 'model-deployments/test/jukebox/config.yaml';

function app(sb: TestSandbox, name: string): KObject {
  return sb.controller.store.mustGet(APPLICATIONS, 'user1-toolings', name);
}
function appStatus(sb: TestSandbox, name: string) {
  return app(sb, name).status as {
    sync: { status: string; revision: string };
    health: { status: string };
    operationState?: { phase: string; syncResult?: { revision: string } };
  };
}
function traffic(sb: TestSandbox, ns = 'user1-test'): Array<{ tag?: string; percent: number; revisionName: string; latestRevision: boolean }> {
  const o = sb.controller.store.mustGet(INFERENCE_SERVICES, ns, 'jukebox');
  return (o.status as { components: { predictor: { traffic: never[] } } }).components.predictor.traffic;
}
function split(sb: TestSandbox, ns = 'user1-test'): string {
  return traffic(sb, ns)
    .map((t) => `${t.tag === 'prev' ? 'prev' : 'latest'}:${t.percent}:${t.revisionName.slice(-5)}`)
    .join(' ');
}

describe('chart rendering rule for canary', () => {
  test('absent, null or {} renders no canaryTrafficPercent; {trafficPercent: 0} renders 0', () => {
    assert.equal(canaryPercentOf({}), undefined);
    assert.equal(canaryPercentOf({ canary: null }), undefined);
    assert.equal(canaryPercentOf({ canary: {} }), undefined);
    assert.equal(canaryPercentOf({ canary: { trafficPercent: 0 } }), 0);
    assert.equal(canaryPercentOf({ canary: { trafficPercent: 35 } }), 35);
    const none = renderInferenceService({ name: 'm', version: 'abc', canary: {} }, 'm', 'user1-test', 'm-test');
    assert.equal('canaryTrafficPercent' in (none.spec!.predictor as object), false);
    const zero = renderInferenceService({ name: 'm', version: 'abc', canary: { trafficPercent: 0 } }, 'm', 'user1-test', 'm-test');
    assert.equal((zero.spec!.predictor as { canaryTrafficPercent: number }).canaryTrafficPercent, 0);
    assert.match(JSON.stringify(zero.spec), /oci:\/\/[^"]+\/m:abc/);
  });
});

describe('Argo CD controller', () => {
  test('seed: clone matches the cluster; apps are Synced at the seed commit', async () => {
    const sb = await openSandbox();
    try {
      const head = git(sb.gitopsClone, ['rev-parse', 'HEAD']);
      assert.equal(git(sb.gitopsClone, ['rev-parse', '@{upstream}']), head);
      assert.equal(git(sb.gitopsClone, ['config', 'user.name']), 'user1');
      const cfg = readFileSync(path.join(sb.gitopsClone, TEST_CONFIG), 'utf8');
      assert.match(cfg, /^version: [0-9a-f]{10}$/m);
      assert.match(cfg, /canary: +# 👈 add this\n +trafficPercent: 20 # 👈 add this/);
      for (const name of ['jukebox-test', 'jukebox-prod']) {
        const s = appStatus(sb, name);
        assert.equal(s.sync.status, 'Synced');
        assert.equal(s.sync.revision, head);
        assert.equal(s.health.status, 'Healthy');
      }
      assert.equal(split(sb), 'latest:20:00002 prev:80:00001');
      assert.equal(split(sb, 'user1-prod'), 'latest:100:00001');
    } finally {
      await sb.cleanup();
    }
  });

  test('a pushed canary change goes OutOfSync/Running, then Synced/Succeeded at the commit, and traffic follows', async () => {
    const sb = await openSandbox({ syncDelayMs: 300 });
    try {
      const seen: string[] = [];
      const unsubscribe = sb.controller.store.subscribe((e) => {
        if (e.resource !== APPLICATIONS || e.object.metadata.name !== 'jukebox-test') return;
        const s = e.object.status as { sync?: { status: string }; operationState?: { phase: string } };
        const step = `${s.sync?.status}/${s.operationState?.phase}`;
        if (seen[seen.length - 1] !== step) seen.push(step);
      });
      const cfg = readFileSync(path.join(sb.gitopsClone, TEST_CONFIG), 'utf8');
      const sha = push(sb, { [TEST_CONFIG]: cfg.replace('trafficPercent: 20', 'trafficPercent: 50') }, 'canary 50');
      await waitFor('app synced at the new commit', () => {
        const s = appStatus(sb, 'jukebox-test');
        return s.sync.status === 'Synced' && s.sync.revision === sha && s.operationState?.phase === 'Succeeded';
      });
      assert.equal(appStatus(sb, 'jukebox-test').operationState!.syncResult!.revision, sha);
      await waitFor('traffic 50/50', () => split(sb) === 'latest:50:00002 prev:50:00001');
      await waitFor('healthy', () => appStatus(sb, 'jukebox-test').health.status === 'Healthy');
      unsubscribe();
      assert.deepEqual(seen.slice(0, 2), ['OutOfSync/Running', 'Synced/Succeeded']);
      // prod did not change: it stays Synced and moves to the new revision without an operation
      const prod = appStatus(sb, 'jukebox-prod');
      assert.equal(prod.sync.status, 'Synced');
      assert.equal(prod.sync.revision, sha);
      const r = await kubectl(sb, ['get', 'isvc', 'jukebox', '-n', 'user1-test', '-o', 'jsonpath={.spec.predictor.canaryTrafficPercent}']);
      assert.equal(r.stdout, '50');
    } finally {
      await sb.cleanup();
    }
  });

  test('canary {} removes the field (promotion); {trafficPercent: 0} rolls back; a new version makes revision 00003', async () => {
    const sb = await openSandbox();
    try {
      const original = readFileSync(path.join(sb.gitopsClone, TEST_CONFIG), 'utf8');
      push(sb, { [TEST_CONFIG]: original.replace(/canary:.*\n.*\n/, 'canary: {}\n') });
      await waitFor('promoted', () => split(sb) === 'latest:100:00002');
      const spec = sb.controller.store.mustGet(INFERENCE_SERVICES, 'user1-test', 'jukebox').spec as { predictor: Record<string, unknown> };
      assert.equal('canaryTrafficPercent' in spec.predictor, false);

      push(sb, { [TEST_CONFIG]: original.replace('version: 4562a17c17', 'version: 99aa88bb77').replace('trafficPercent: 20', 'trafficPercent: 10') });
      await waitFor('new revision at 10%', () => split(sb) === 'latest:10:00003 prev:90:00002');

      push(sb, { [TEST_CONFIG]: original.replace('version: 4562a17c17', 'version: 99aa88bb77').replace('trafficPercent: 20', 'trafficPercent: 0') });
      await waitFor('rolled back', () => split(sb) === 'latest:0:00003 prev:100:00002');
      const r = await kubectl(sb, ['get', 'isvc', 'jukebox', '-n', 'user1-test']);
      assert.match(r.stdout, /jukebox .*True +100 +0 +jukebox-predictor-00002 +jukebox-predictor-00003/);
    } finally {
      await sb.cleanup();
    }
  });

  test('a config the API server rejects fails the sync operation and leaves the service alone', async () => {
    const sb = await openSandbox();
    try {
      const cfg = readFileSync(path.join(sb.gitopsClone, TEST_CONFIG), 'utf8');
      const sha = push(sb, { [TEST_CONFIG]: cfg.replace('trafficPercent: 20', 'trafficPercent: 150') });
      await waitFor('operation failed', () => {
        const s = appStatus(sb, 'jukebox-test');
        return s.operationState?.phase === 'Failed' && s.sync.revision === sha;
      });
      const s = appStatus(sb, 'jukebox-test') as unknown as { sync: { status: string }; operationState: { message: string } };
      assert.equal(s.sync.status, 'OutOfSync');
      assert.match(s.operationState.message, /canaryTrafficPercent.*less than or equal to 100/);
      assert.equal(split(sb), 'latest:20:00002 prev:80:00001');
    } finally {
      await sb.cleanup();
    }
  });

  test('a CI pipeline commit (new version) concurrent with a user commit: both land, a new revision gets the canary share', async () => {
    const sb = await openSandbox();
    try {
      const ciSha = await sb.controller.pipelinePush('test', 'jukebox', { version: 'abcdef0123' });
      // the user's clone is now behind: pull (rebase) and push a percentage change on another line
      git(sb.gitopsClone, ['pull', '-q', '--rebase']);
      const cfg = readFileSync(path.join(sb.gitopsClone, TEST_CONFIG), 'utf8');
      assert.match(cfg, /^version: abcdef0123$/m);
      assert.match(cfg, /canary: +# 👈 add this/, 'comments survive the pipeline edit');
      const sha = push(sb, { [TEST_CONFIG]: cfg.replace('trafficPercent: 20', 'trafficPercent: 25') });
      assert.notEqual(sha, ciSha);
      await waitFor('new revision at 25%', () => split(sb) === 'latest:25:00003 prev:75:00001');
      assert.equal(appStatus(sb, 'jukebox-test').sync.revision, sha);
    } finally {
      await sb.cleanup();
    }
  });

  test('self-heal reverts a manual patch of the InferenceService spec', async () => {
    const sb = await openSandbox();
    try {
      const p = await kubectl(sb, [
        'patch',
        'isvc',
        'jukebox',
        '-n',
        'user1-test',
        '--type',
        'merge',
        '-p',
        '{"spec":{"predictor":{"canaryTrafficPercent":90}}}',
      ]);
      assert.equal(p.code, 0, p.stderr);
      await waitFor('reverted to git', () => {
        const o = sb.controller.store.mustGet(INFERENCE_SERVICES, 'user1-test', 'jukebox');
        return (o.spec!.predictor as { canaryTrafficPercent: number }).canaryTrafficPercent === 20 && appStatus(sb, 'jukebox-test').sync.status === 'Synced';
      });
      await waitFor('traffic back to 80/20', () => split(sb) === 'latest:20:00002 prev:80:00001');
    } finally {
      await sb.cleanup();
    }
  });

  test('the workshop user has view in user1-toolings: kubectl auth can-i says so, and its refresh annotation is refused (403)', async () => {
    const sb = await openSandbox();
    try {
      const canI = async (verb: string) => (await kubectl(sb, ['auth', 'can-i', verb, 'applications.argoproj.io', '-n', 'user1-toolings'])).stdout.trim();
      assert.equal(await canI('list'), 'yes');
      assert.equal(await canI('patch'), 'no');
      assert.equal((await kubectl(sb, ['auth', 'can-i', 'patch', 'inferenceservices.serving.kserve.io', '-n', 'user1-test'])).stdout.trim(), 'yes');
      const r = await kubectl(sb, ['annotate', 'application', 'jukebox-test', '-n', 'user1-toolings', 'argocd.argoproj.io/refresh=normal']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /Forbidden.*User "user1" cannot patch resource "applications" in API group "argoproj.io" in the namespace "user1-toolings"/);
      assert.equal(app(sb, 'jukebox-test').metadata.annotations?.['argocd.argoproj.io/refresh'], undefined);
    } finally {
      await sb.cleanup();
    }
  });

  test('without polling, the refresh annotation (a user with edit in user1-toolings) makes Argo CD see the push, then goes away', async () => {
    const sb = await openSandbox({ pollMs: 3_600_000, viewOnlyNamespaces: [] });
    try {
      const cfg = readFileSync(path.join(sb.gitopsClone, TEST_CONFIG), 'utf8');
      const before = appStatus(sb, 'jukebox-test').sync.revision;
      const sha = push(sb, { [TEST_CONFIG]: cfg.replace('trafficPercent: 20', 'trafficPercent: 40') });
      assert.equal(appStatus(sb, 'jukebox-test').sync.revision, before, 'not noticed yet');
      const r = await kubectl(sb, ['annotate', 'application', 'jukebox-test', '-n', 'user1-toolings', 'argocd.argoproj.io/refresh=normal']);
      assert.equal(r.code, 0, r.stderr);
      await waitFor('synced at the push', () => appStatus(sb, 'jukebox-test').sync.revision === sha && appStatus(sb, 'jukebox-test').sync.status === 'Synced');
      await waitFor('annotation removed', () => app(sb, 'jukebox-test').metadata.annotations?.['argocd.argoproj.io/refresh'] === undefined);
      await waitFor('traffic 60/40', () => split(sb) === 'latest:40:00002 prev:60:00001');
    } finally {
      await sb.cleanup();
    }
  });

  test('selfHeal off: a drift stays, but a new commit is still synced by itself (no refresh needed)', async () => {
    const sb = await openSandbox({ selfHeal: false });
    try {
      const o = sb.controller.store.mustGet(INFERENCE_SERVICES, 'user1-test', 'jukebox');
      (o.spec!.predictor as { canaryTrafficPercent: number }).canaryTrafficPercent = 70;
      delete o.metadata.resourceVersion;
      sb.controller.store.update(INFERENCE_SERVICES, o, 'user1-test');
      await waitFor('the drift seen: OutOfSync, no operation started for it', () => appStatus(sb, 'jukebox-test').sync.status === 'OutOfSync');
      assert.equal(appStatus(sb, 'jukebox-test').operationState?.phase, 'Succeeded', 'the last sync, not a new one');
      const cfg = readFileSync(path.join(sb.gitopsClone, TEST_CONFIG), 'utf8');
      const sha = push(sb, { [TEST_CONFIG]: cfg.replace('trafficPercent: 20', 'trafficPercent: 40') });
      await waitFor('synced at the push', () => appStatus(sb, 'jukebox-test').sync.revision === sha && appStatus(sb, 'jukebox-test').sync.status === 'Synced');
      await waitFor('traffic 60/40', () => split(sb) === 'latest:40:00002 prev:60:00001');
    } finally {
      await sb.cleanup();
    }
  });

  test('a new model folder gets an Application and an InferenceService; a broken config.yaml is a ComparisonError', async () => {
    const sb = await openSandbox();
    try {
      const cfg = readFileSync(path.join(sb.gitopsClone, TEST_CONFIG), 'utf8').replace('name: jukebox', 'name: radio');
      push(sb, { 'model-deployments/test/radio/config.yaml': cfg });
      await waitFor(
        'radio app synced',
        () => sb.controller.store.get(APPLICATIONS, 'user1-toolings', 'radio-test')?.status && appStatus(sb, 'radio-test').sync.status === 'Synced',
      );
      await waitFor('radio ready', () => {
        const o = sb.controller.store.get(INFERENCE_SERVICES, 'user1-test', 'radio');
        return (
          (o?.status as { components?: { predictor?: { latestReadyRevision?: string } } } | undefined)?.components?.predictor?.latestReadyRevision ===
          'radio-predictor-00001'
        );
      });

      const sha = push(sb, { [TEST_CONFIG]: 'canary: [unclosed\n' });
      await waitFor('comparison error', () => appStatus(sb, 'jukebox-test').sync.status === 'Unknown' && appStatus(sb, 'jukebox-test').sync.revision === sha);
      const conds = (app(sb, 'jukebox-test').status as { conditions: Array<{ type: string; message: string }> }).conditions;
      assert.equal(conds[0]!.type, 'ComparisonError');
      assert.match(conds[0]!.message, /config\.yaml/);
      assert.equal(split(sb), 'latest:20:00002 prev:80:00001', 'the live service is left alone');
    } finally {
      await sb.cleanup();
    }
  });
});
