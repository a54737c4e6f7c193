// The tree's proposal rows (src/ui/proposals.ts ProposalCache): the remote's open proposals, marked
// `waiting for merge` while a wait runs, `merged n% · branch` with the follow's step once the
// remote no longer lists it as open, gone once the follow ends; a list read from the remote-tracking
// refs for every model, in trusted workspaces only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Proposal } from '../../src/app/proposals';
import type { Controller } from '../../src/ui/controller';
import type { Log } from '../../src/ui/log';
import { ProposalCache } from '../../src/ui/proposals';

function proposal(percent: number): Proposal {
  const branch = `canary/test-jukebox-${percent}`;
  return {
    branch,
    sha: 'a'.repeat(40),
    base: 'main',
    percent,
    canary: { kind: 'percent', trafficPercent: percent } as Proposal['canary'],
    label: `proposed ${percent}% · ${branch}`,
    url: `https://github.com/acme/gitops/compare/main...${branch}?expand=1`,
  };
}

/** A controller whose backend lists `remote` (what the remote holds now), recording each lookup's fetch choice. */
function setup(trusted = true) {
  const remote: { list: Proposal[] } = { list: [] };
  const lookups: (boolean | undefined)[] = [];
  const warnings: string[] = [];
  const backend = {
    openProposals: async (o: { fetch?: boolean }) => {
      lookups.push(o.fetch);
      return [...remote.list];
    },
    openProposalsOfModels: async (o: { models: { env: string; model: string }[] }) => ({
      proposals: new Map(o.models.filter((m) => m.env === 'test').map((m) => [`${m.env}/${m.model}`, [...remote.list]] as const)),
      failed: new Map<string, unknown>([['prod/broken', new Error('bad ref')]]),
    }),
  };
  const ctl = {
    backend,
    root: '/gitops',
    settings: { deploymentsDir: 'model-deployments', forgeHosts: {} },
    trusted: () => trusted,
    gitModels: () => [
      { env: 'test', model: 'jukebox' },
      { env: 'prod', model: 'broken' },
    ],
  } as unknown as Controller;
  const log = { warn: (m: string) => warnings.push(m) } as unknown as Log;
  const cache = new ProposalCache(ctl, log);
  const changes: string[] = [];
  cache.onChange = (env, model) => changes.push(`${env}/${model}`);
  return { cache, remote, lookups, warnings, changes };
}

const shown = (c: ProposalCache) => c.rows('test', 'jukebox').map((r) => [r.label, r.status, r.following]);

test('a proposal waited for, merged, followed, then gone', async () => {
  const { cache, remote, lookups, changes } = setup();
  remote.list = [proposal(35)];
  await cache.refresh('test', 'jukebox', { fetch: false });
  assert.deepEqual(shown(cache), [['proposed 35% · canary/test-jukebox-35', undefined, false]]);
  const p = { branch: 'canary/test-jukebox-35', percent: 35 };
  cache.follow('test', 'jukebox', p, 'waiting for merge');
  assert.deepEqual(shown(cache), [['proposed 35% · canary/test-jukebox-35', 'waiting for merge', true]]);
  assert.equal(cache.isFollowed('test', 'jukebox', p.branch), true);
  // Merged: the remote no longer lists it as open; the row stays while its follow runs.
  remote.list = [];
  cache.follow('test', 'jukebox', p, 'merged · following', true);
  await cache.refresh('test', 'jukebox', { fetch: false });
  cache.follow('test', 'jukebox', p, 'Argo CD synced 1234567', true);
  assert.deepEqual(shown(cache), [['merged 35% · canary/test-jukebox-35', 'Argo CD synced 1234567', true]]);
  cache.unfollow('test', 'jukebox', p.branch);
  assert.deepEqual(shown(cache), []);
  assert.deepEqual(lookups, [false, false], 'no fetch of its own');
  assert.ok(changes.length >= 5 && changes.every((c) => c === 'test/jukebox'), JSON.stringify(changes));
});

test('a followed proposal not merged is not shown once the remote drops it (closed)', async () => {
  const { cache, remote } = setup();
  remote.list = [proposal(55)];
  await cache.refresh('test', 'jukebox');
  cache.follow('test', 'jukebox', { branch: 'canary/test-jukebox-55', percent: 55 }, 'waiting for merge');
  remote.list = [];
  await cache.refresh('test', 'jukebox', { fetch: false });
  assert.deepEqual(shown(cache), []);
});

test('loadAll: every model from the tracking refs, failures logged; nothing in an untrusted workspace', async () => {
  const trusted = setup();
  trusted.remote.list = [proposal(35), proposal(50)];
  await trusted.cache.loadAll();
  assert.deepEqual(
    trusted.cache.all().map((x) => `${x.env}/${x.model} ${x.proposal.branch}`),
    ['test/jukebox canary/test-jukebox-35', 'test/jukebox canary/test-jukebox-50'],
  );
  assert.deepEqual(trusted.warnings, ['proposals of prod/broken: bad ref']);
  const untrusted = setup(false);
  untrusted.remote.list = [proposal(35)];
  await untrusted.cache.loadAll();
  assert.deepEqual(untrusted.cache.all(), []);
});
