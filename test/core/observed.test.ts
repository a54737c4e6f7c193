import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeObserved, formatConfiguredVsObserved, formatObserved, formatRps, humanWindow, type ObservedSplit } from '../../src/core/observed';

const seen = (
  prev: number | undefined,
  latest: number | undefined,
  byRevision: Record<string, number> = { a: 1 },
): Extract<ObservedSplit, { kind: 'observed' }> => ({
  kind: 'observed',
  window: '5m',
  byRevision,
  prevPercent: prev,
  latestPercent: latest,
  totalRps: Object.values(byRevision).reduce((x, y) => x + y, 0),
  source: 'knative',
  at: '2026-11-26T10:00:00.000Z',
});
const absent = (reason: Extract<ObservedSplit, { kind: 'absent' }>['reason'], message = 'why'): ObservedSplit => ({
  kind: 'absent',
  window: '5m',
  reason,
  message,
  at: '',
});

test('formatObserved: prev/latest like the configured split, or why there is none', () => {
  assert.equal(formatObserved(seen(79, 21)), 'observed 79/21 over 5 min');
  assert.equal(formatObserved(seen(0, 100)), 'observed 100 over 5 min');
  assert.equal(formatObserved(seen(undefined, 100)), 'observed 100 over 5 min');
  assert.equal(formatObserved(seen(100, 0)), 'observed 100/0 over 5 min');
  assert.equal(formatObserved(seen(undefined, undefined)), 'observed other revisions only over 5 min');
  assert.equal(formatObserved({ ...seen(50, 50), window: '30s' }), 'observed 50/50 over 30 s');
  assert.equal(formatObserved(absent('no-traffic')), 'no traffic observed');
  assert.equal(formatObserved(absent('no-data')), 'no traffic observed');
  assert.equal(formatObserved(absent('not-configured')), 'no metrics');
  assert.equal(formatObserved(absent('query-failed')), 'no metrics');
  assert.equal(formatObserved(undefined), 'no metrics');
});

test('describeObserved: rates per revision and the source; the reason when absent', () => {
  const d = describeObserved({ ...seen(80, 20, { 'r-00001': 8, 'r-00002': 2 }), source: 'ovms' });
  assert.equal(
    d,
    'Observed split over 5 min: 80/20 (prev/latest), 10 req/s in total; r-00001 8 req/s, r-00002 2 req/s (OpenVINO ovms_requests_success per pod).',
  );
  assert.equal(
    describeObserved(absent('query-failed', 'Prometheus query failed: HTTP 503.')),
    'Observed split over 5 min: none. Prometheus query failed: HTTP 503.',
  );
  assert.match(describeObserved(undefined), /no metrics/);
});

test('configured next to observed, flagged when they differ', () => {
  assert.equal(formatConfiguredVsObserved(80, 20, seen(79, 21)), 'configured 80/20 · observed 79/21 over 5 min');
  assert.equal(formatConfiguredVsObserved(80, 20, seen(50, 50)), 'configured 80/20 · observed 50/50 over 5 min (differs)');
  assert.equal(formatConfiguredVsObserved(undefined, 100, seen(0, 100)), 'configured 100 · observed 100 over 5 min');
  assert.equal(formatConfiguredVsObserved(80, 20, absent('no-traffic')), 'configured 80/20 · no traffic observed');
});

test('small helpers', () => {
  assert.equal(humanWindow('5m'), '5 min');
  assert.equal(humanWindow('1h'), '1 h');
  assert.equal(humanWindow('1m30s'), '1m30s');
  assert.equal(formatRps(0), '0 req/s');
  assert.equal(formatRps(0.0123), '0.012 req/s');
  assert.equal(formatRps(2.345), '2.3 req/s');
  assert.equal(formatRps(123.4), '123 req/s');
});
