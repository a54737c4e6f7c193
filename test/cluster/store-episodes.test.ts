/**
 * One outage episode, one log line per kind of problem: a 403 in every watched namespace at
 * once (what the real kube-apiserver answers right after a restart, while its RBAC caches
 * fill) is one classified problem, not one per namespace. The tracker on its own, then the
 * whole store against the sandbox with every namespace refused at once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RequestError } from '../../src/cluster/classify';
import { ConnectionTracker } from '../../src/cluster/store-problems';
import { converged, episodeOver, sandboxAndStore, until } from './sandbox-helpers';

const SERVER = 'https://api.example:6443';
const forbidden = (ns: string) => ({ ok: false as const, error: new RequestError('HTTP 403: forbidden', 403, undefined, ns, 'Forbidden') });
const RESTART_NOTE = /Right after an API server restart/;

function warnings() {
  const warns: string[] = [];
  return { warns, log: { info: () => undefined, warn: (m: string) => warns.push(m), error: (m: string) => warns.push(m) } };
}

describe('ConnectionTracker: one line per kind of problem per episode', () => {
  it('a 403 in every namespace right after connecting is one line, with what a restarting server does', () => {
    const { warns, log } = warnings();
    const t = new ConnectionTracker(log, 60000);
    t.set({ phase: 'connecting', server: SERVER });
    for (const ns of ['user1-test', 'user1-prod', 'user1-stage', 'user1-dev']) t.health(`inferenceservices@${ns}`, forbidden(ns), SERVER);
    t.health('applications@user1-toolings', forbidden('user1-toolings'), SERVER);
    t.health('routes@user1-toolings', forbidden('user1-toolings'), SERVER);
    assert.equal(warns.length, 1, warns.join('\n'));
    assert.match(warns[0]!, /Forbidden: .* user1-test/);
    assert.match(warns[0]!, RESTART_NOTE);
    // every namespace is still refused, and named by the tracker for its rows
    assert.equal(t.forbidden('user1-dev')?.kind, 'forbidden');
    assert.equal(t.state().episode, 1);
    t.dispose();
  });

  it('a 403 in one namespace while the others work names it, without the restart note; other kinds still get their line', () => {
    const { warns, log } = warnings();
    const t = new ConnectionTracker(log, 60000);
    t.health('inferenceservices@user1-test', { ok: true }, SERVER);
    t.health('inferenceservices@user1-prod', forbidden('user1-prod'), SERVER);
    t.health('inferenceservices@user1-prod', forbidden('user1-prod'), SERVER);
    t.health('inferenceservices@user1-test', { ok: false, error: new RequestError('HTTP 401: Unauthorized', 401) }, SERVER);
    assert.equal(warns.length, 2, warns.join('\n'));
    assert.match(warns[0]!, /user1-prod/);
    assert.doesNotMatch(warns[0]!, RESTART_NOTE);
    assert.match(warns[1]!, /refused the credentials/);
    t.dispose();
  });
});

describe('the store with every namespace refused at once (sandbox)', () => {
  let ctx: Awaited<ReturnType<typeof sandboxAndStore>>;
  const ALL = ['user1-test', 'user1-prod', 'user1-toolings'];
  before(async () => {
    ctx = await sandboxAndStore();
    await ctx.store.ready();
    await converged(ctx.sb, ctx.store);
  });
  after(async () => {
    for (const ns of ALL) ctx?.sb.controller.forbid(ns, false);
    await ctx?.close();
  });

  it('a restart, then 403 in every namespace: one forbidden line for the episode, then converged when access is back', async () => {
    await until(() => episodeOver(ctx.log) && ctx.store.connection().problem === undefined, 'a quiet start');
    const episode = ctx.store.connection().episode ?? 0;
    const from = ctx.log.problems().length;
    // what the real server does: a restart breaks every watch, then 403 everywhere for a moment
    for (const ns of ALL) ctx.sb.controller.forbid(ns);
    const failures = ctx.store.stats().map((s) => s.failures);
    await ctx.sb.restart();
    await until(() => ctx.store.stats().every((s, i) => s.failures >= (failures[i] ?? 0) + 3), 'every watch refused a few times');
    const forbiddenLines = () =>
      ctx.log
        .problems()
        .slice(from)
        .filter((l) => /Forbidden/.test(l));
    assert.equal(forbiddenLines().length, 1, ctx.log.problems().slice(from).join('\n'));
    assert.match(forbiddenLines()[0]!, RESTART_NOTE);
    for (const ns of ALL) ctx.sb.controller.forbid(ns, false);
    await converged(ctx.sb, ctx.store);
    await until(() => episodeOver(ctx.log) && ctx.store.connection().phase === 'connected', 'the episode to end');
    assert.equal(ctx.store.connection().episode, episode + 1, 'one episode');
    const lines = ctx.log.problems().slice(from);
    assert.equal(forbiddenLines().length, 1, lines.join('\n'));
    assert.equal(new Set(lines).size, lines.length, `a problem logged twice in one episode:\n${lines.join('\n')}`);
  });
});
