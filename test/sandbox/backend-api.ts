/**
 * Raw HTTP to a sandbox of either backend, for the suites that compare the backends
 * (test/cluster/backends.test.ts, test/sandbox/differential.test.ts): one request with the
 * workshop user's or the admin's bearer token, verified against the sandbox CA, and list
 * answers' items (test/cluster/converge.ts reads the server's truth with them).
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { BackendSandbox } from './helpers';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body, or undefined when the body is not JSON. */
  body: unknown;
  text: string;
}

export interface RequestOptions {
  /** Whose token: the workshop user's (default) or the admin's. */
  as?: 'user' | 'admin';
  body?: unknown;
  contentType?: string;
  accept?: string;
  timeoutMs?: number;
}

/** Sends one request; resolves with any HTTP status, rejects only when the connection fails. */
export function request(sb: BackendSandbox, method: string, path: string, opts: RequestOptions = {}): Promise<Answer> {
  const payload = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  const token = opts.as === 'admin' ? sb.adminToken() : sb.userToken();
  return new Promise((resolve, reject) => {
    const req = https.request(
      new URL(path, sb.server),
      {
        method,
        ca: readFileSync(sb.caFile),
        headers: {
          authorization: `Bearer ${token}`,
          accept: opts.accept ?? 'application/json',
          ...(payload === undefined ? {} : { 'content-type': opts.contentType ?? 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
        timeout: opts.timeoutMs ?? 15000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch {
            body = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in ${opts.timeoutMs ?? 15000} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** The items of a list answer; throws with the status and body when it is not a 200 list. */
export async function listItems(sb: BackendSandbox, path: string, as: 'user' | 'admin' = 'admin'): Promise<unknown[]> {
  const r = await request(sb, 'GET', path, { as });
  const items = (r.body as { items?: unknown[] } | undefined)?.items;
  if (r.status !== 200 || !Array.isArray(items)) throw new Error(`GET ${path}: ${r.status} ${r.text.slice(0, 300)}`);
  return items;
}

export const ISVC_PATH = (ns: string) => `/apis/serving.kserve.io/v1beta1/namespaces/${ns}/inferenceservices`;
export const APP_PATH = (ns: string) => `/apis/argoproj.io/v1alpha1/namespaces/${ns}/applications`;

/**
 * Opens a watch (`path` with `watch=1`) and collects its events until `enough(events)` or the
 * server ends the stream; the connection is closed then. Resolves with the HTTP status too.
 */
export function watchEvents(
  sb: BackendSandbox,
  path: string,
  enough: (events: Array<{ type: string; object: Record<string, unknown> }>) => boolean,
  timeoutMs = 15000,
): Promise<{ status: number; events: Array<{ type: string; object: Record<string, unknown> }> }> {
  return new Promise((resolve, reject) => {
    const events: Array<{ type: string; object: Record<string, unknown> }> = [];
    let status = 0;
    const req = https.request(
      new URL(path, sb.server),
      { method: 'GET', ca: readFileSync(sb.caFile), headers: { authorization: `Bearer ${sb.userToken()}`, accept: 'application/json' } },
      (res) => {
        status = res.statusCode ?? 0;
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          buf += d;
          for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
            const line = buf.slice(0, i).trim();
            buf = buf.slice(i + 1);
            if (line) events.push(JSON.parse(line) as (typeof events)[number]);
          }
          if (status !== 200 || enough(events)) finish();
        });
        res.on('end', finish);
        res.on('error', finish);
      },
    );
    const timer = setTimeout(finish, timeoutMs);
    function finish() {
      clearTimeout(timer);
      req.destroy();
      resolve({ status, events });
    }
    req.on('error', (e) => (status ? finish() : reject(e)));
    req.end();
  });
}
