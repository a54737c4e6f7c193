// The observed split in the tree row, the service tooltip and the status bar tooltip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServiceState } from '../../src/cluster/types';
import { describeObserved, formatConfiguredVsObserved, formatObserved, type ObservedSplit } from '../../src/core/observed';
import { observedSuffix, observedView, serviceDescription, serviceTooltip, statusBarTooltip, OBSERVED_SUFFIX_MAX } from '../../src/ui/present';

const fmt = { formatObserved, formatConfiguredVsObserved, describeObserved };

function svc(over: Partial<ServiceState> = {}): ServiceState {
  return {
    key: 'user1-test/jukebox',
    env: 'test',
    namespace: 'user1-test',
    name: 'jukebox',
    model: 'jukebox',
    creationTimestamp: '2026-01-01T00:00:00Z',
    url: 'https://jukebox-user1-test.apps.example.com',
    ready: true,
    readyMessage: undefined,
    prevPercent: 80,
    latestPercent: 20,
    prevRevision: 'jukebox-predictor-00002',
    latestRevision: 'jukebox-predictor-00003',
    traffic: [],
    latestCreatedRevision: 'jukebox-predictor-00003',
    latestReadyRevision: 'jukebox-predictor-00003',
    newRevisionNotReady: false,
    deploymentMode: 'Serverless',
    canarySupported: true,
    specPercent: 20,
    generation: 3,
    observedGeneration: 3,
    rollingOut: false,
    application: undefined,
    desired: { percent: 20, version: undefined, commit: undefined },
    verdict: 'live',
    verdictReason: 'git and the cluster agree.',
    ...over,
  };
}

const measured: ObservedSplit = {
  kind: 'observed',
  window: '5m',
  source: 'knative',
  at: '2026-01-01T00:00:00Z',
  totalRps: 10,
  byRevision: { 'jukebox-predictor-00002': 7.9, 'jukebox-predictor-00003': 2.1 },
  prevPercent: 79,
  latestPercent: 21,
};
const absent: ObservedSplit = { kind: 'absent', window: '5m', reason: 'query-failed', message: 'Prometheus answered 503.', at: '2026-01-01T00:00:00Z' };

test('not configured (no observation): the row, tooltip and status bar show nothing more', () => {
  const s = svc();
  assert.equal(observedView(undefined, s, fmt), undefined);
  assert.equal(serviceDescription(s, undefined), serviceDescription(s));
  assert.equal(serviceTooltip(s, undefined), serviceTooltip(s));
  assert.doesNotMatch(statusBarTooltip(s), /observed|metrics/i);
});

test('a measured split: "observed 79/21 over 5 min" in the row, tooltip and status bar tooltip', () => {
  const s = svc();
  const v = observedView(measured, s, fmt)!;
  assert.equal(v.short, 'observed 79/21 over 5 min');
  assert.equal(serviceDescription(s, v), 'prev 80% · latest 20% · observed 79/21 over 5 min');
  const md = serviceTooltip(s, v);
  assert.match(md, /configured 80\/20 · observed 79\/21 over 5 min/);
  assert.match(md, /jukebox\\-predictor\\-00002 7\\\.9 req\/s/);
  assert.match(statusBarTooltip(s, v), /observed 79\/21 over 5 min/);
  assert.match(statusBarTooltip(s, v), /Click to set canary traffic/);
});

test('absent metrics are said in the tooltip, never in the row; a long text stays out of the row', () => {
  const s = svc();
  const v = observedView(absent, s, fmt)!;
  assert.equal(v.measured, false);
  assert.equal(serviceDescription(s, v), serviceDescription(s));
  assert.match(serviceTooltip(s, v), /no metrics/);
  assert.match(serviceTooltip(s, v), /Prometheus answered 503\\\./);
  const long = { ...v, measured: true, short: 'x'.repeat(OBSERVED_SUFFIX_MAX + 1) };
  assert.equal(observedSuffix(long), '');
});

test('the observed texts are escaped in the markdown tooltip', () => {
  const v = { measured: true, short: 'observed 1/99 over 5 min', versus: '[x](command:evil)', detail: '<img src=x>' };
  const md = serviceTooltip(svc(), v);
  assert.doesNotMatch(md, /\[x\]\(command/);
  assert.doesNotMatch(md, /(^|[^\\])<img/);
});
