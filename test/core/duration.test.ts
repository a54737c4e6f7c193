/** The CLI's one duration syntax (src/core/duration.ts): bare seconds, units, refusals. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeDuration, parseDuration } from '../../src/core/duration';

test('a bare number is seconds; units ms, s, m, h add up largest first', () => {
  const cases: [string, number][] = [
    ['90', 90_000],
    ['0', 0],
    ['1.5', 1500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['2m30s', 150_000],
    ['500ms', 500],
    ['1s500ms', 1500],
    [' 10s ', 10_000],
    ['1.5m', 90_000],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
});

test('anything else is not a duration', () => {
  for (const bad of ['', ' ', 'abc', '-5', '-5s', '5x', '1d', '1 m', 's', 'm5', '1m2m', '30s1m', '5m ago', '1e3', '.5s', '5.s', 'Infinity', '0x10']) {
    assert.equal(parseDuration(bad), undefined, JSON.stringify(bad));
  }
});

test('durations are described back for messages', () => {
  assert.equal(describeDuration(250), '250ms');
  assert.equal(describeDuration(1000), '1s');
  assert.equal(describeDuration(1500), '1.5s');
  assert.equal(describeDuration(90_000), '1m30s');
  assert.equal(describeDuration(86_400_000), '24h');
  for (const ms of [1000, 1500, 90_000, 5_400_000, 3_600_000]) assert.equal(parseDuration(describeDuration(ms)), ms);
});
