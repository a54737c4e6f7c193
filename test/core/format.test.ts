/**
 * The shared text helpers of src/core/format.ts: shortSha, pct, and Kubernetes' human duration
 * checked bucket by bucket against apimachinery's duration.HumanDuration (what kubectl prints as
 * AGE), including the 2-8 year range that keeps the days (2y70d), which the CLI's old copy lost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { humanAge, humanDuration, pct, shortSha } from '../../src/core/format';

const s = 1000;
const h = 3600 * s;
const d = 24 * h;

test('humanDuration: every bucket of apimachinery HumanDuration, at and around its edges', () => {
  const cases: Array<[number, string]> = [
    [-2 * s, '<invalid>'],
    [-1500, '0s'],
    [-1 * s, '0s'],
    [0, '0s'],
    [999, '0s'],
    [45 * s, '45s'],
    [119 * s, '119s'],
    [120 * s, '2m'],
    [200 * s, '3m20s'],
    [599 * s, '9m59s'],
    [600 * s, '10m'],
    [17 * 60 * s, '17m'],
    [179 * 60 * s, '179m'],
    [3 * h, '3h'],
    [5 * h + 3 * 60 * s, '5h3m'],
    [7 * h + 59 * 60 * s, '7h59m'],
    [8 * h, '8h'],
    [20 * h, '20h'],
    [47 * h, '47h'],
    [48 * h, '2d'],
    [3 * d + 4 * h, '3d4h'],
    [7 * d + 23 * h, '7d23h'],
    [8 * d, '8d'],
    [30 * d, '30d'],
    [729 * d, '729d'],
    [730 * d, '2y'],
    [800 * d, '2y70d'],
    [3 * 365 * d + 5 * d, '3y5d'],
    [8 * 365 * d - d, '7y364d'],
    [8 * 365 * d, '8y'],
    [20 * 365 * d + 100 * d, '20y'],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, `${ms} ms`);
});

test('humanAge: kubectl AGE of a timestamp; none or unparsable is <unknown>', () => {
  const now = Date.parse('2026-12-01T00:00:00Z');
  assert.equal(humanAge(new Date(now - 800 * d).toISOString(), now), '2y70d');
  assert.equal(humanAge(new Date(now - 45 * s).toISOString(), now), '45s');
  assert.equal(humanAge(undefined, now), '<unknown>');
  assert.equal(humanAge('yesterday-ish', now), '<unknown>');
  assert.equal(humanAge(new Date(now + 10 * s).toISOString(), now), '<invalid>');
});

test('shortSha and pct', () => {
  assert.equal(shortSha('0123456789abcdef'), '0123456');
  assert.equal(shortSha(undefined), '?');
  assert.equal(shortSha('', '-'), '-');
  assert.equal(pct(20), '20%');
  assert.equal(pct(0), '0%');
  assert.equal(pct(undefined), '–');
  assert.equal(pct(undefined, 'none'), 'none');
});
