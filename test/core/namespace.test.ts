/** Namespaces ↔ environments (src/core/namespace.ts): kubectl's -n mapped to an environment, pattern checks. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCanaryError } from '../../src/core/errors';
import { environmentForNamespace, namespacePatternProblem } from '../../src/core/namespace';

const envs = ['prod', 'test'];

test('a namespace maps to the environment whose namespace it is', () => {
  assert.equal(environmentForNamespace('user1-test', { pattern: '{user}-{env}', envs }), 'test');
  assert.equal(environmentForNamespace('ml-team-prod', { pattern: '{user}-{env}', envs }), 'prod');
  assert.equal(environmentForNamespace('user1-test', { pattern: '{user}-{env}', envs, user: 'user1' }), 'test');
  assert.equal(environmentForNamespace('team-prod', { pattern: 'team-{env}', envs }), 'prod');
  assert.equal(environmentForNamespace('test-alice', { pattern: '{env}-{user}', envs, user: 'alice' }), 'test');
});

test('a namespace of no environment is refused with the known ones', () => {
  const refused = (ns: string, o: { pattern: string; user?: string }) => {
    try {
      environmentForNamespace(ns, { ...o, envs });
    } catch (e) {
      assert.ok(isCanaryError(e) && e.kind === 'invalid-input', String(e));
      return `${e.message} ${e.hint}`;
    }
    assert.fail(`${ns} was mapped`);
  };
  assert.match(
    refused('user1-staging', { pattern: '{user}-{env}' }),
    /"user1-staging" is not the namespace of any environment.*prod = <user>-prod, test = <user>-test/,
  );
  assert.match(refused('user2-test', { pattern: '{user}-{env}', user: 'user1' }), /user user1.*test = user1-test/);
  assert.match(refused('default', { pattern: '{user}-{env}' }), /not the namespace of any environment/);
  assert.match(refused('user1-test', { pattern: 'team-{env}' }), /prod = team-prod, test = team-test/);
});

test('namespace patterns need {env} once and no other placeholder', () => {
  assert.equal(namespacePatternProblem('{user}-{env}'), undefined);
  assert.equal(namespacePatternProblem('team-{env}'), undefined);
  assert.match(namespacePatternProblem('{user}') ?? '', /\{env\} exactly once/);
  assert.match(namespacePatternProblem('{env}-{env}') ?? '', /\{env\} exactly once/);
  assert.match(namespacePatternProblem('{user}-{user}-{env}') ?? '', /\{user\} only once/);
  assert.match(namespacePatternProblem('{usr}-{env}') ?? '', /\{usr\} is not a placeholder/);
  assert.match(namespacePatternProblem(' ') ?? '', /empty/);
});
