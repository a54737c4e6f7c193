import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CanaryError, exitCodeFor } from '../../src/core/errors';
import {
  DEFAULT_MESSAGE_TEMPLATES,
  actionPercent,
  describeAction,
  formatSplit,
  parsePercent,
  percentInputError,
  renderCommitMessage,
  shortSplit,
} from '../../src/core/traffic';

test('parsePercent accepts whole numbers 0..100, trimmed, with an optional %', () => {
  const ok: [string | number, number][] = [
    ['0', 0],
    ['20', 20],
    ['100', 100],
    [' 20 ', 20],
    ['20%', 20],
    ['007', 7],
    [55, 55],
    [0, 0],
    [100, 100],
  ];
  for (const [input, want] of ok) {
    assert.equal(parsePercent(input), want, String(input));
    if (typeof input === 'string') assert.equal(percentInputError(input), undefined, input);
  }
});

test('parsePercent refuses everything else with invalid-input naming the input and a hint', () => {
  const bad: [string | number, RegExp][] = [
    ['abc', /not a number/],
    ['-1', /outside 0\.\.100/],
    ['101', /outside 0\.\.100/],
    ['12.5', /not a whole number/],
    ['', /is empty/],
    ['   ', /is empty/],
    ['0x10', /not a number/],
    ['1e2', /not a number/],
    ['20 %', /not a number/],
    ['2 0', /not a number/],
    ['1000', /outside/],
    [12.5, /not a whole number/],
    [-3, /outside/],
    [Number.NaN, /not a number/],
    [Number.POSITIVE_INFINITY, /not a number/],
  ];
  for (const [input, why] of bad) {
    assert.throws(
      () => parsePercent(input),
      (e: unknown) => {
        assert.ok(e instanceof CanaryError);
        assert.equal(e.kind, 'invalid-input');
        assert.equal(e.code, 'invalid-percent');
        assert.match(e.message, why);
        assert.ok(e.message.includes(JSON.stringify(String(input))), e.message);
        assert.match(e.hint ?? '', /0 to 100/);
        assert.equal(exitCodeFor(e), 2);
        return true;
      },
      String(input),
    );
    if (typeof input === 'string') assert.match(percentInputError(input) ?? '', /0 to 100/);
  }
});

test('actionPercent and describeAction', () => {
  assert.equal(actionPercent({ kind: 'set', percent: 20 }), 20);
  assert.equal(actionPercent({ kind: 'rollback' }), 0);
  assert.equal(actionPercent({ kind: 'promote' }), undefined);
  assert.equal(describeAction({ kind: 'set', percent: 20 }), 'set canary traffic to 20%');
  assert.equal(describeAction({ kind: 'promote' }), 'promote (100% to latest)');
  assert.equal(describeAction({ kind: 'rollback' }), 'roll back (0% to latest)');
});

test('renderCommitMessage fills placeholders, keeps unknown ones, stays one line and falls back to the default', () => {
  const vars = { model: 'jukebox', env: 'test' };
  assert.equal(DEFAULT_MESSAGE_TEMPLATES.set, 'Set canary traffic for {model} in {env} to {percent}%');
  assert.equal(renderCommitMessage(undefined, { kind: 'set', percent: 20 }, vars), 'Set canary traffic for jukebox in test to 20%');
  assert.equal(renderCommitMessage('', { kind: 'promote' }, vars), 'Promote canary of jukebox in test (100% to latest)');
  assert.equal(renderCommitMessage('  \n ', { kind: 'rollback' }, vars), 'Roll back canary of jukebox in test (0% to latest)');
  assert.equal(
    renderCommitMessage('{action} {model}/{env}: {percent}% {user} {{model}}', { kind: 'rollback' }, vars),
    'rollback jukebox/test: 0% {user} {jukebox}',
  );
  assert.equal(renderCommitMessage('🦜 {model}\r\nsecond line\n', { kind: 'promote' }, vars), '🦜 jukebox second line');
  assert.equal(renderCommitMessage('{percent}', { kind: 'promote' }, vars), '100');
});

test('formatSplit and shortSplit', () => {
  assert.equal(formatSplit(80, 20), 'prev 80% · latest 20%');
  assert.equal(formatSplit(undefined, 100), 'latest 100%');
  assert.equal(formatSplit(100, 0), 'prev 100% · latest 0%');
  assert.equal(formatSplit(80, undefined), 'prev 80%');
  assert.equal(formatSplit(undefined, undefined), 'no traffic data');
  assert.equal(shortSplit(80, 20), '80/20');
  assert.equal(shortSplit(undefined, 100), '100');
  assert.equal(shortSplit(100, 0), '100/0');
  assert.equal(shortSplit(80, undefined), '80/–');
  assert.equal(shortSplit(undefined, undefined), '–');
});
