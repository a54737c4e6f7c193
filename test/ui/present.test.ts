import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConnectionState, ServiceState, Verdict } from '../../src/cluster/types';
import {
  connectionText,
  errorText,
  liveSplit,
  mdEscape,
  orderedTraffic,
  redact,
  serviceContextValue,
  serviceDescription,
  servicePickItem,
  serviceTooltip,
  statusBarAccessibility,
  statusBarText,
  statusBarWarning,
  trafficTargetRow,
  verdictIcon,
  welcomeState,
} from '../../src/ui/present';
import { CanaryError } from '../../src/core/errors';

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
    traffic: [
      { revisionName: 'jukebox-predictor-00003', percent: 20, tag: undefined, latestRevision: true, url: undefined },
      { revisionName: 'jukebox-predictor-00002', percent: 80, tag: 'prev', latestRevision: false, url: undefined },
    ],
    latestCreatedRevision: 'jukebox-predictor-00003',
    latestReadyRevision: 'jukebox-predictor-00003',
    newRevisionNotReady: false,
    deploymentMode: 'Serverless',
    canarySupported: true,
    specPercent: 20,
    generation: 3,
    observedGeneration: 3,
    rollingOut: false,
    application: {
      name: 'jukebox-test',
      namespace: 'user1-toolings',
      syncStatus: 'Synced',
      revision: 'a1b2c3d4e5f6',
      healthStatus: 'Healthy',
      healthMessage: undefined,
      operationPhase: 'Succeeded',
      operationMessage: undefined,
    },
    desired: { percent: 20, version: '4562a17c17', commit: 'a1b2c3d4e5f6' },
    verdict: 'live',
    verdictReason: 'git and the cluster agree.',
    ...over,
  };
}

test('description: the split as `oc get isvc` shows it', () => {
  assert.equal(serviceDescription(svc()), 'prev 80% · latest 20%');
  assert.equal(
    serviceDescription(svc({ prevPercent: undefined, latestPercent: 100, desired: { percent: undefined, version: undefined, commit: undefined } })),
    'latest 100%',
  );
  // Some clusters report PREV 0 at 100%: same reading.
  assert.equal(serviceDescription(svc({ prevPercent: 0, latestPercent: 100, desired: undefined })), 'latest 100%');
  assert.equal(
    serviceDescription(svc({ prevPercent: 100, latestPercent: 0, desired: { percent: 0, version: undefined, commit: undefined } })),
    'prev 100% · latest 0%',
  );
  assert.equal(serviceDescription(svc({ prevPercent: undefined, latestPercent: undefined, desired: undefined })), 'no traffic yet');
});

test('description says where a change is going (syncing) or what git wants (drift)', () => {
  const want50 = { percent: 50, version: undefined, commit: undefined };
  assert.equal(serviceDescription(svc({ verdict: 'syncing', desired: want50 })), 'prev 80% · latest 20% → 50%');
  assert.equal(serviceDescription(svc({ verdict: 'drift', desired: want50 })), 'prev 80% · latest 20% ≠ git 50%');
  assert.equal(
    serviceDescription(svc({ verdict: 'syncing', desired: { percent: undefined, version: undefined, commit: undefined } })),
    'prev 80% · latest 20% → 100%',
  );
});

test('description: RawDeployment says canary is ignored instead of a split that never happens', () => {
  assert.equal(serviceDescription(svc({ canarySupported: false, deploymentMode: 'RawDeployment', verdict: 'unsupported' })), 'RawDeployment: canary ignored');
  assert.equal(serviceDescription(svc({ missing: true })), 'not on the cluster · git latest 20%');
});

test('every verdict has a distinct icon', () => {
  const verdicts: Verdict[] = ['live', 'syncing', 'drift', 'unsupported', 'not-ready', 'unknown'];
  const ids = verdicts.map((v) => verdictIcon(v).id);
  assert.equal(new Set(ids).size, verdicts.length);
  assert.equal(verdictIcon('syncing').id, 'sync~spin');
});

test('context values: canary support, verdict, split', () => {
  assert.equal(serviceContextValue(svc()), 'service.canary.live.split');
  assert.equal(
    serviceContextValue(svc({ prevPercent: undefined, latestPercent: 100, desired: { percent: undefined, version: undefined, commit: undefined } })),
    'service.canary.live',
  );
  assert.equal(serviceContextValue(svc({ canarySupported: false, verdict: 'unsupported' })), 'service.nocanary.unsupported.split');
  assert.match(serviceContextValue(svc({ missing: true, verdict: 'unknown' })), /^service\.canary\.unknown\.split\.missing$/);
  assert.match(serviceContextValue(svc(), true), /^service\.canary\.live\.split\.pinned$/, 'the pinned row offers Unpin');
});

test('tooltip: revisions and shares, git vs cluster, Argo CD, URL; cluster text escaped', () => {
  const md = serviceTooltip(svc());
  assert.match(md, /\| prev \| jukebox\\-predictor\\-00002 \| 80% \|/);
  assert.match(md, /\| latest \| jukebox\\-predictor\\-00003 \| 20% \|/);
  assert.match(md, /git: canary 20% · version 4562a17c17 at a1b2c3d/);
  assert.match(md, /cluster: canaryTrafficPercent 20/);
  assert.match(md, /Argo CD jukebox\\-test: Synced · Healthy at a1b2c3d/);
  // Shown, not autolinked: the scheme's colon is escaped (issue 12).
  assert.match(md, /URL: https\\:\/\/jukebox\\-user1\\-test\\.apps\\.example\\.com/);
  const hostile = serviceTooltip(svc({ verdictReason: '[click](command:workbench.action.terminal.new) <img src=x>', readyMessage: 'x', ready: false }));
  assert.ok(!hostile.includes('[click](command:'), 'links from the cluster are neutralised');
  assert.ok(!/(^|[^\\])<img/.test(hostile), 'HTML from the cluster is neutralised');
  assert.match(hostile, /Not ready: x/);
});

test('tooltip: syncing shows now vs wanted; RawDeployment explains; new revision not ready', () => {
  assert.match(
    serviceTooltip(svc({ verdict: 'syncing', desired: { percent: 50, version: undefined, commit: undefined } })),
    /latest share: 20% now, 50% wanted/,
  );
  assert.match(serviceTooltip(svc({ canarySupported: false, deploymentMode: 'RawDeployment' })), /ignores canaryTrafficPercent/);
  assert.match(serviceTooltip(svc({ newRevisionNotReady: true, latestCreatedRevision: 'jukebox-predictor-00004' })), /00004 is not ready/);
});

test('mdEscape neutralises markdown syntax and newlines', () => {
  assert.equal(mdEscape('a*b_c[d](e)\nf'), 'a\\*b\\_c\\[d\\]\\(e\\) f');
});

test('tooltip from a hostile cluster: no command link, no autolink, no line from \\r, no icon', () => {
  const md = serviceTooltip(
    svc({
      ready: false,
      readyMessage: 'fine\rFAILED [Open the troubleshooting guide](command:workbench.action.terminal.sendSequence?%7B%22text%22%3A%22rm%22%7D)',
      url: 'https://evil.example/x',
      verdictReason: '$(debug-alt) fake ops@evil.example www.evil.example',
    }),
  );
  assert.doesNotMatch(md, /(^|[^\\])\[[^\]]*(^|[^\\])\]\(/, 'no [label](target)');
  assert.doesNotMatch(md, /https?:\/\//, 'no autolinkable scheme');
  assert.doesNotMatch(md, /(^|[^\\])(www\.|@)/, 'no www. or e-mail autolink');
  assert.doesNotMatch(md, /\r/);
  assert.match(md, /Not ready: fine FAILED \\\[Open the troubleshooting guide\\\]\\\(command\\:/);
  assert.match(md, /\\\$\\\(debug\\-alt\\\) fake/);
});

test('traffic target rows', () => {
  assert.deepEqual(
    { ...trafficTargetRow({ revisionName: 'r2', percent: 80, tag: 'prev', latestRevision: false, url: undefined }), tooltip: undefined },
    { label: 'r2', description: '80% · prev', tooltip: undefined },
  );
  assert.equal(trafficTargetRow({ revisionName: 'r3', percent: 20, tag: undefined, latestRevision: true, url: undefined }).description, '20% · latest');
  assert.match(
    trafficTargetRow({ revisionName: 'r3', percent: 20, tag: 'latest', latestRevision: true, url: 'http://latest-x' }).tooltip,
    /tagged URL http:\/\/latest-x/,
  );
});

test('status bar: `jukebox · test 80/20`, latest 100%, warnings, accessibility', () => {
  assert.equal(statusBarText(svc()), 'jukebox · test 80/20');
  assert.equal(statusBarText(svc({ prevPercent: 50, latestPercent: 50 })), 'jukebox · test 50/50');
  assert.equal(statusBarText(svc({ prevPercent: undefined, latestPercent: 100 })), 'jukebox · test latest 100%');
  assert.equal(statusBarWarning(svc()), false);
  assert.equal(statusBarWarning(svc({ verdict: 'drift' })), true);
  assert.equal(statusBarWarning(svc({ verdict: 'not-ready' })), true);
  assert.equal(statusBarWarning(svc({ verdict: 'syncing' })), false);
  assert.match(statusBarAccessibility(svc()), /jukebox in test, previous revision 80 percent, latest revision 20 percent, Live/);
});

test('quick pick item shows the split', () => {
  const it = servicePickItem(svc());
  assert.equal(it.label, 'jukebox');
  assert.equal(it.description, 'test · prev 80% · latest 20%');
});

test('liveSplit keeps rollback (100/0) as is', () => {
  assert.deepEqual(liveSplit(svc({ prevPercent: 100, latestPercent: 0 })), { prev: 100, latest: 0 });
});

test('connection text and welcome state', () => {
  const base: ConnectionState = { phase: 'connected', context: 'sandbox', server: 'https://127.0.0.1:1', since: '2026-11-26T10:00:00Z', problem: undefined };
  assert.equal(connectionText(base), 'connected to sandbox');
  const down: ConnectionState = {
    ...base,
    phase: 'disconnected',
    disconnectedSince: '2026-11-26T10:02:03Z',
    problem: { kind: 'unreachable', message: 'Cannot reach the cluster at https://127.0.0.1:1.', hint: 'Check VPN.' },
  };
  assert.equal(connectionText(down), 'disconnected since 10:02:03 UTC: Cannot reach the cluster at https://127.0.0.1:1.');
  assert.equal(welcomeState(false, base, false), 'no-gitops');
  assert.equal(welcomeState(true, base, false), 'ok');
  assert.equal(welcomeState(true, down, false), 'unreachable');
  assert.equal(welcomeState(true, down, true), 'ok', 'known rows stay visible (marked disconnected) once loaded');
  assert.equal(welcomeState(true, { ...down, problem: { kind: 'no-kubeconfig', message: 'm', hint: 'h' } }, false), 'no-kubeconfig');
  assert.equal(welcomeState(true, { ...down, problem: { kind: 'unauthorized', message: 'm', hint: 'h' } }, false), 'unauthorized');
  // The store reports problems found before any request with an idle connection (src/cluster/store.ts).
  const idle: ConnectionState = { ...base, phase: 'idle', server: undefined };
  assert.equal(welcomeState(true, { ...idle, problem: { kind: 'no-kubeconfig', message: 'm', hint: 'h' } }, false), 'no-kubeconfig');
  assert.equal(welcomeState(true, { ...idle, problem: { kind: 'invalid-settings', message: 'm', hint: 'h' } }, false), 'invalid-settings');
});

test('errorText: message and hint of a CanaryError; other errors point at the log', () => {
  assert.equal(errorText(new CanaryError('git', 'push-rejected', 'The push was rejected.', 'Pull and retry.')), 'The push was rejected. Pull and retry.');
  assert.match(errorText(new Error('boom')), /^Unexpected error: boom\. See the KServe Canary log/);
  // One made by another bundle's copy of the class (dist/backend.js → dist/ui.js): the same text.
  class OtherBundlesCanaryError extends Error {
    constructor(
      readonly kind: string,
      readonly code: string,
      message: string,
      readonly hint?: string,
    ) {
      super(message);
      this.name = 'CanaryError';
    }
  }
  assert.equal(
    errorText(new OtherBundlesCanaryError('git', 'proposal-closed', 'The pull request was closed.', 'Publish it again.')),
    'The pull request was closed. Publish it again.',
  );
  const named = new Error('not ours');
  named.name = 'CanaryError';
  assert.match(errorText(named), /^Unexpected error: not ours/, 'a name alone is not enough');
});

test('redact hides tokens, passwords, URL credentials and private keys', () => {
  const token = 'sha256~AbCdEf0123456789_-xyz';
  const text = [
    `Authorization: Bearer ${token}`,
    `token=${token}`,
    `"password": "hunter2"`,
    'https://alice:s3cret@git.example.com/repo.git',
    'client-key-data: LS0tLS1CRUdJTi',
    '-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----',
  ].join('\n');
  const out = redact(text);
  for (const secret of [token, 'hunter2', 's3cret', 'LS0tLS1CRUdJTi', 'MIIEow']) assert.ok(!out.includes(secret), `${secret} leaked: ${out}`);
  assert.match(out, /https:\/\/\*\*\*@git\.example\.com/);
  assert.equal(redact('jukebox · test 80/20'), 'jukebox · test 80/20');
  assert.ok(!errorText(new Error(`request failed with Bearer ${token}`)).includes(token));
});

test('traffic rows read like the description: prev first, then latest', () => {
  assert.deepEqual(
    orderedTraffic(svc()).map((t) => t.revisionName),
    ['jukebox-predictor-00002', 'jukebox-predictor-00003'],
  );
});
