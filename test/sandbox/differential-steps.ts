/**
 * The request sequence of the differential check (test/sandbox/differential.test.ts): the same
 * requests to a sandbox of either backend, each answer reduced to what the product (src/cluster)
 * or kubectl reads: status code, kind, names, labels, spec, status, Table columns and cells,
 * Status reason/code/details, watch event types. Server-chosen values (uid, resourceVersion,
 * timestamps, managedFields, Age cells, messages' wording) are left out or reduced to "present".
 */
import { request, watchEvents, type Answer } from './backend-api';
import type { BackendSandbox } from './helpers';

type O = Record<string, unknown>;
const NS = 'user1-test';
const ISVCS = `/apis/serving.kserve.io/v1beta1/namespaces/${NS}/inferenceservices`;
const ROUTES = `/apis/route.openshift.io/v1/namespaces/${NS}/routes`;
const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io';
const ROUTE = 'diffcheck';

const obj = (v: unknown): O => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as O) : {});
const present = (v: unknown) => (typeof v === 'string' && v.length > 0 ? 'present' : v === undefined ? 'absent' : `not a string: ${JSON.stringify(v)}`);

/** An object as the product reads it: identity, labels, annotations, generation, spec, status (times out). */
export function objectView(v: unknown): O {
  const o = obj(v);
  const m = obj(o.metadata);
  const status = JSON.parse(JSON.stringify(o.status ?? null, (k, x: unknown) => (/Time(stamp)?$/.test(k) ? 'time' : x))) as unknown;
  return {
    apiVersion: o.apiVersion,
    kind: o.kind,
    name: m.name,
    namespace: m.namespace,
    labels: m.labels ?? {},
    annotations: m.annotations ?? {},
    generation: m.generation,
    uid: present(m.uid),
    resourceVersion: present(m.resourceVersion),
    creationTimestamp: present(m.creationTimestamp),
    spec: o.spec ?? null,
    status,
  };
}

/** A Status answer (an error): what clients branch on. */
export function statusView(a: Answer): O {
  const s = obj(a.body);
  const d = obj(s.details);
  return {
    http: a.status,
    kind: s.kind,
    apiVersion: s.apiVersion,
    status: s.status,
    reason: s.reason,
    code: s.code,
    details: s.details === undefined ? undefined : { name: d.name, group: d.group, kind: d.kind },
  };
}

/** A 422 Invalid as kubectl prints it: the Status view plus message and details.causes. */
const invalidView = (a: Answer): O => ({ ...statusView(a), message: obj(a.body).message, causes: obj(obj(a.body).details).causes });

const listView = (a: Answer): O => {
  const b = obj(a.body);
  const items = Array.isArray(b.items) ? (b.items as unknown[]) : [];
  return {
    http: a.status,
    kind: b.kind,
    apiVersion: b.apiVersion,
    resourceVersion: present(obj(b.metadata).resourceVersion),
    names: items.map((i) => obj(obj(i).metadata).name).sort(),
  };
};

const answerView = (a: Answer): O => (a.status >= 400 ? statusView(a) : { http: a.status, object: objectView(a.body) });

function tableView(a: Answer): O {
  const t = obj(a.body);
  const cols = (Array.isArray(t.columnDefinitions) ? t.columnDefinitions : []).map((c) => obj(c));
  const age = cols.findIndex((c) => c.name === 'Age');
  return {
    http: a.status,
    kind: t.kind,
    apiVersion: t.apiVersion,
    columns: cols.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', priority: c.priority ?? 0 })),
    rows: (Array.isArray(t.rows) ? t.rows : []).map((r) => {
      const row = obj(r);
      const cells = (Array.isArray(row.cells) ? row.cells : []).map((c, i) => (i === age ? 'age' : c));
      const ro = obj(row.object);
      return { cells, object: { kind: ro.kind, apiVersion: ro.apiVersion, name: obj(ro.metadata).name } };
    }),
  };
}

const route = (labels: O, host: string) => ({
  apiVersion: 'route.openshift.io/v1',
  kind: 'Route',
  metadata: { name: ROUTE, namespace: NS, labels },
  spec: { host, to: { kind: 'Service', name: 'jukebox' } },
});

/** Runs the sequence; returns each step's view, in order. */
export async function runSequence(sb: BackendSandbox): Promise<Array<[string, unknown]>> {
  const out: Array<[string, unknown]> = [];
  const step = (name: string, view: unknown) => void out.push([name, view]);
  const get = (path: string, opts: Parameters<typeof request>[3] = {}) => request(sb, 'GET', path, opts);

  // discovery
  const groups = obj((await get('/apis')).body);
  const ours = ['serving.kserve.io', 'argoproj.io', 'route.openshift.io'];
  step(
    'GET /apis (our groups)',
    (Array.isArray(groups.groups) ? groups.groups : [])
      .map((g) => obj(g))
      .filter((g) => ours.includes(String(g.name)))
      .map((g) => ({ name: g.name, preferred: obj(g.preferredVersion).groupVersion }))
      .sort((a, b) => String(a.name).localeCompare(String(b.name))),
  );
  for (const gv of ['serving.kserve.io/v1beta1', 'argoproj.io/v1alpha1', 'route.openshift.io/v1']) {
    const r = await get(`/apis/${gv}`);
    const res = (Array.isArray(obj(r.body).resources) ? (obj(r.body).resources as unknown[]) : []).map((x) => obj(x));
    step(`GET /apis/${gv}`, {
      http: r.status,
      kind: obj(r.body).kind,
      groupVersion: obj(r.body).groupVersion,
      resources: res
        .map((x) => ({
          name: x.name,
          namespaced: x.namespaced,
          kind: x.kind,
          verbs: [...((x.verbs as string[]) ?? [])].sort(),
          shortNames: x.shortNames ?? [],
        }))
        .sort((a, b) => String(a.name).localeCompare(String(b.name))),
    });
  }
  const core = await get('/api/v1');
  step(
    'GET /api/v1 namespaces',
    (Array.isArray(obj(core.body).resources) ? (obj(core.body).resources as unknown[]) : [])
      .map((x) => obj(x))
      .filter((x) => x.name === 'namespaces')
      .map((x) => ({ name: x.name, namespaced: x.namespaced, kind: x.kind })),
  );

  // list, get, Table
  const list = await get(ISVCS);
  step('list isvc', listView(list));
  step('get isvc jukebox', answerView(await get(`${ISVCS}/jukebox`)));
  step('Table isvc', tableView(await get(ISVCS, { accept: TABLE })));
  step('Table isvc jukebox', tableView(await get(`${ISVCS}/jukebox`, { accept: TABLE })));

  // create, selectors, update, conflict, patches, /status
  const created = await request(sb, 'POST', ROUTES, { body: route({ app: 'diff', tier: 'a' }, 'diff.apps.sandbox.example') });
  step('create route', answerView(created));
  const rv0 = String(obj(obj(created.body).metadata).resourceVersion ?? '');
  step('create route again (AlreadyExists)', statusView(await request(sb, 'POST', ROUTES, { body: route({ app: 'diff' }, 'x.example') })));
  step('label selector app=diff', listView(await get(`${ROUTES}?labelSelector=${encodeURIComponent('app=diff')}`)));
  step('label selector app in (diff),tier!=b', listView(await get(`${ROUTES}?labelSelector=${encodeURIComponent('app in (diff),tier!=b')}`)));
  step('label selector app=other', listView(await get(`${ROUTES}?labelSelector=app%3Dother`)));
  step('field selector metadata.name', listView(await get(`${ROUTES}?fieldSelector=${encodeURIComponent(`metadata.name=${ROUTE}`)}`)));
  step('field selector isvc metadata.name', listView(await get(`${ISVCS}?fieldSelector=${encodeURIComponent('metadata.name=jukebox')}`)));
  const updated = await request(sb, 'PUT', `${ROUTES}/${ROUTE}`, {
    body: {
      ...route({ app: 'diff', tier: 'b' }, 'diff.apps.sandbox.example'),
      metadata: { name: ROUTE, namespace: NS, labels: { app: 'diff', tier: 'b' }, resourceVersion: rv0 },
    },
  });
  step('update route', answerView(updated));
  step(
    'update route with a stale resourceVersion (Conflict)',
    statusView(
      await request(sb, 'PUT', `${ROUTES}/${ROUTE}`, {
        body: { ...route({ app: 'diff' }, 'y.example'), metadata: { name: ROUTE, namespace: NS, resourceVersion: rv0 } },
      }),
    ),
  );
  step(
    'merge patch',
    answerView(
      await request(sb, 'PATCH', `${ROUTES}/${ROUTE}`, {
        body: { metadata: { labels: { tier: null, merged: 'yes' } }, spec: { path: '/v2' } },
        contentType: 'application/merge-patch+json',
      }),
    ),
  );
  step(
    'JSON patch',
    answerView(
      await request(sb, 'PATCH', `${ROUTES}/${ROUTE}`, {
        body: [
          { op: 'test', path: '/spec/path', value: '/v2' },
          { op: 'replace', path: '/spec/host', value: 'patched.example' },
          { op: 'add', path: '/metadata/labels/json', value: 'yes' },
        ],
        contentType: 'application/json-patch+json',
      }),
    ),
  );
  step(
    'JSON patch whose test fails',
    statusView(
      await request(sb, 'PATCH', `${ROUTES}/${ROUTE}`, {
        body: [{ op: 'test', path: '/spec/path', value: '/nope' }],
        contentType: 'application/json-patch+json',
      }),
    ),
  );
  const current = obj((await get(`${ROUTES}/${ROUTE}`)).body);
  const withStatus = { ...current, status: { ingress: [{ host: 'patched.example', routerName: 'default' }] } };
  step('PUT /status as the user (no right to)', statusView(await request(sb, 'PUT', `${ROUTES}/${ROUTE}/status`, { body: withStatus })));
  step('PUT /status as admin', answerView(await request(sb, 'PUT', `${ROUTES}/${ROUTE}/status`, { body: withStatus, as: 'admin' })));
  const specWrite = obj((await get(`${ROUTES}/${ROUTE}`)).body);
  step(
    'status in a main-resource update is ignored',
    answerView(await request(sb, 'PUT', `${ROUTES}/${ROUTE}`, { body: { ...specWrite, status: { ingress: [] } } })),
  );

  // a PUT of a custom resource without metadata.resourceVersion: refused (422), main resource and /status
  const { resourceVersion: _rv, ...noRv } = obj(specWrite.metadata);
  void _rv;
  step(
    'update route without a resourceVersion (Invalid)',
    invalidView(await request(sb, 'PUT', `${ROUTES}/${ROUTE}`, { body: { ...specWrite, metadata: noRv } })),
  );
  step(
    'PUT route /status without a resourceVersion (Invalid)',
    invalidView(await request(sb, 'PUT', `${ROUTES}/${ROUTE}/status`, { body: { ...specWrite, metadata: noRv }, as: 'admin' })),
  );
  const isvc = obj((await get(`${ISVCS}/jukebox`)).body);
  const { resourceVersion: _irv, ...isvcNoRv } = obj(isvc.metadata);
  void _irv;
  step('update isvc without a resourceVersion (Invalid)', invalidView(await request(sb, 'PUT', `${ISVCS}/jukebox`, { body: { ...isvc, metadata: isvcNoRv } })));

  // watch from a resourceVersion: what happened after it, in order
  const from = String(obj(obj(updated.body).metadata).resourceVersion ?? '');
  const w = await watchEvents(sb, `${ROUTES}?watch=1&resourceVersion=${from}`, (ev) => ev.filter((e) => e.type === 'MODIFIED').length >= 4);
  step('watch from the update', {
    http: w.status,
    events: w.events.map((e) => ({
      type: e.type,
      name: obj(obj(e.object).metadata).name,
      labels: obj(obj(e.object).metadata).labels,
      host: obj(obj(e.object).spec).host,
    })),
  });
  await request(sb, 'DELETE', `${ROUTES}/${ROUTE}`);
  step('get after delete (NotFound)', statusView(await get(`${ROUTES}/${ROUTE}`)));

  // errors
  step('get isvc nope (NotFound)', statusView(await get(`${ISVCS}/nope`)));
  step('list isvc in default as the user (Forbidden)', statusView(await get('/apis/serving.kserve.io/v1beta1/namespaces/default/inferenceservices')));
  step('list isvc cluster-wide as the user (Forbidden)', statusView(await get('/apis/serving.kserve.io/v1beta1/inferenceservices')));
  // the workshop's view in the toolings namespace: no refresh annotation, and a review says so
  const APP = '/apis/argoproj.io/v1alpha1/namespaces/user1-toolings/applications/jukebox-test';
  step(
    'merge patch an Application in user1-toolings as the user (Forbidden: view)',
    statusView(
      await request(sb, 'PATCH', APP, {
        body: { metadata: { annotations: { 'argocd.argoproj.io/refresh': 'normal' } } },
        contentType: 'application/merge-patch+json',
      }),
    ),
  );
  for (const verb of ['patch', 'list']) {
    const review = {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { namespace: 'user1-toolings', verb, group: 'argoproj.io', resource: 'applications' } },
    };
    const a = await request(sb, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { body: review });
    step(`SelfSubjectAccessReview ${verb} applications in user1-toolings`, {
      http: a.status,
      kind: obj(a.body).kind,
      apiVersion: obj(a.body).apiVersion,
      allowed: obj(obj(a.body).status).allowed,
    });
  }
  step(
    'create isvc with an invalid name (Invalid)',
    statusView(
      await request(sb, 'POST', ISVCS, {
        body: { apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService', metadata: { name: 'Bad_Name' }, spec: {} },
      }),
    ),
  );
  step(
    'create isvc without a name (Invalid)',
    statusView(await request(sb, 'POST', ISVCS, { body: { apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService', metadata: {}, spec: {} } })),
  );
  const gone = await watchEvents(sb, `${ISVCS}?watch=1&resourceVersion=1`, (ev) => ev.length > 0, 5000);
  step('watch from resourceVersion 1', {
    http: gone.status,
    first: gone.events.slice(0, 1).map((e) => ({ type: e.type, code: obj(e.object).code, reason: obj(e.object).reason })),
  });
  return out;
}
