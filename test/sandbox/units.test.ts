/** Pieces of the API server: JSONPath subset, selectors, patches, table cells. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { evaluateJsonPath } from '../../src/sandbox/jsonpath';
import { matches, parseSelector, SelectorError } from '../../src/sandbox/selectors';
import { jsonPatch, mergePatch, PatchError } from '../../src/sandbox/patch';
import { humanDuration, toTable } from '../../src/sandbox/table';
import { INFERENCE_SERVICES } from '../../src/sandbox/resources';

const doc = {
  status: {
    conditions: [
      { type: 'PredictorReady', status: 'True' },
      { type: 'Ready', status: 'False' },
    ],
    components: {
      predictor: {
        traffic: [
          { revisionName: 'r2', latestRevision: true, percent: 20 },
          { tag: 'prev', revisionName: 'r1', latestRevision: false, percent: 80 },
        ],
      },
    },
  },
};

test('JSONPath: fields, filters on strings and booleans, indexes, wildcards, braces', () => {
  assert.deepEqual(evaluateJsonPath(".status.conditions[?(@.type=='Ready')].status", doc), ['False']);
  assert.deepEqual(evaluateJsonPath(".status.components.predictor.traffic[?(@.tag=='prev')].percent", doc), [80]);
  assert.deepEqual(evaluateJsonPath('.status.components.predictor.traffic[?(@.latestRevision==true)].revisionName', doc), ['r2']);
  assert.deepEqual(evaluateJsonPath('{.status.components.predictor.traffic[*].percent}', doc), [20, 80]);
  assert.deepEqual(evaluateJsonPath('.status.conditions[1].type', doc), ['Ready']);
  assert.deepEqual(evaluateJsonPath('.status.conditions[-1].type', doc), ['Ready']);
  assert.deepEqual(evaluateJsonPath('.status.components.predictor.traffic[?(@.tag)].revisionName', doc), ['r1']);
  assert.deepEqual(evaluateJsonPath(".status.components.predictor.traffic[?(@.tag!='prev')].percent", doc), []);
  assert.deepEqual(evaluateJsonPath('.status.url', doc), []);
  assert.deepEqual(evaluateJsonPath(".status['components'].predictor.traffic[0].percent", doc), [20]);
});

test('label selectors: =, ==, !=, in, notin, exists, !exists; errors for garbage', () => {
  const labels: Record<string, string> = { app: 'jukebox', env: 'test' };
  const m = (s: string) => matches(parseSelector(s), (k) => labels[k]);
  assert.equal(m('app=jukebox'), true);
  assert.equal(m('app==jukebox,env=test'), true);
  assert.equal(m('app!=jukebox'), false);
  assert.equal(m('env in (prod, test)'), true);
  assert.equal(m('env notin (prod,test)'), false);
  assert.equal(m('tier notin (web)'), true);
  assert.equal(m('app'), true);
  assert.equal(m('!app'), false);
  assert.equal(m('!tier'), true);
  assert.equal(m(''), true);
  assert.throws(() => parseSelector('a=b=c'), SelectorError);
  assert.throws(() => parseSelector('(x)'), SelectorError);
});

test('merge patch (RFC 7386): null deletes, objects merge, arrays replace', () => {
  assert.deepEqual(mergePatch({ a: 1, b: { c: 2, d: 3 }, e: [1, 2] }, { b: { c: null, x: 1 }, e: [3] }), { a: 1, b: { d: 3, x: 1 }, e: [3] });
  assert.deepEqual(mergePatch({ a: 1 }, 'x'), 'x');
});

test('JSON patch (RFC 6902): add, remove, replace, move, copy, test; failures are PatchErrors', () => {
  const base = { spec: { predictor: { canaryTrafficPercent: 20 }, list: [1, 2] } };
  const out = jsonPatch(base, [
    { op: 'replace', path: '/spec/predictor/canaryTrafficPercent', value: 30 },
    { op: 'add', path: '/spec/list/-', value: 3 },
    { op: 'add', path: '/spec/list/0', value: 0 },
    { op: 'copy', from: '/spec/list/1', path: '/spec/first' },
    { op: 'move', from: '/spec/first', path: '/spec/moved' },
    { op: 'remove', path: '/spec/list/1' },
    { op: 'test', path: '/spec/moved', value: 1 },
    { op: 'add', path: '/metadata~1x', value: { 'a~b': 1 } },
  ]);
  assert.deepEqual(out, { spec: { predictor: { canaryTrafficPercent: 30 }, list: [0, 2, 3], moved: 1 }, 'metadata/x': { 'a~b': 1 } });
  assert.deepEqual(base.spec.list, [1, 2], 'input untouched');
  assert.throws(() => jsonPatch(base, [{ op: 'replace', path: '/spec/nope', value: 1 }]), PatchError);
  assert.throws(() => jsonPatch(base, [{ op: 'remove', path: '/a/b' }]), PatchError);
  assert.throws(() => jsonPatch(base, [{ op: 'test', path: '/spec/list/0', value: 9 }]), PatchError);
  assert.throws(() => jsonPatch(base, { op: 'add' }), PatchError);
});

test('merge patch with {} is the identity; any merge patch is idempotent', () => {
  const json = fc.dictionary(
    fc.string({ maxLength: 3 }),
    fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.dictionary(fc.string({ maxLength: 2 }), fc.integer())),
  );
  fc.assert(
    fc.property(json, json, (a, p) => {
      const clean = mergePatch({}, a);
      assert.deepEqual(mergePatch(clean, {}), clean);
      const once = mergePatch(clean, p);
      assert.deepEqual(mergePatch(once, p), once);
    }),
  );
});

test('humanDuration follows the Kubernetes buckets', () => {
  const s = 1000;
  const cases: Array<[number, string]> = [
    [-5 * s, '<invalid>'],
    [-500, '0s'],
    [0, '0s'],
    [119 * s, '119s'],
    [125 * s, '2m5s'],
    [180 * s, '3m'],
    [45 * 60 * s, '45m'],
    [4 * 3600 * s + 5 * 60 * s, '4h5m'],
    [25 * 3600 * s, '25h'],
    [50 * 3600 * s, '2d2h'],
    [30 * 86400 * s, '30d'],
    [800 * 86400 * s, '2y70d'],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, String(ms));
});

test('table: Name first, then printer columns; missing values are null cells; integers stay numbers', () => {
  const o = {
    apiVersion: 'serving.kserve.io/v1beta1',
    kind: 'InferenceService',
    metadata: { name: 'jukebox', creationTimestamp: new Date(Date.now() - 3 * 60 * 1000).toISOString() },
    ...doc,
  };
  const t = toTable(INFERENCE_SERVICES, [o], '7', { version: 'v1', includeObject: 'Metadata' }) as {
    columnDefinitions: Array<{ name: string }>;
    rows: Array<{ cells: unknown[]; object: { kind: string } }>;
    metadata: { resourceVersion: string };
  };
  assert.deepEqual(
    t.columnDefinitions.map((c) => c.name),
    ['Name', 'URL', 'Ready', 'Prev', 'Latest', 'PrevRolledoutRevision', 'LatestReadyRevision', 'Age'],
  );
  assert.deepEqual(t.rows[0]!.cells, ['jukebox', null, 'False', 80, 20, 'r1', 'r2', '3m']);
  assert.equal(t.rows[0]!.object.kind, 'PartialObjectMetadata');
  assert.equal(t.metadata.resourceVersion, '7');
});
