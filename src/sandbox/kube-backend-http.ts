/**
 * A minimal HTTPS client for the real kube-apiserver of the `kube-apiserver` sandbox backend:
 * one JSON request with a bearer token, verified against the sandbox CA. Used to set the server
 * up (namespaces, CRDs, RBAC, seed objects) and by its tests to read the server's truth.
 */
import https from 'node:https';

export interface KubeAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  text: string;
}

export interface KubeClient {
  server: string;
  ca: string;
  token: string;
}

/** Sends one request; never throws for an HTTP status (only for a connection failure). */
export function kubeRequest(
  c: KubeClient,
  method: string,
  path: string,
  body?: unknown,
  opts: { contentType?: string; accept?: string; timeoutMs?: number } = {},
): Promise<KubeAnswer> {
  const url = new URL(path, c.server);
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method,
        ca: c.ca,
        headers: {
          authorization: `Bearer ${c.token}`,
          accept: opts.accept ?? 'application/json',
          ...(payload === undefined ? {} : { 'content-type': opts.contentType ?? 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
        timeout: opts.timeoutMs ?? 30000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON (e.g. /readyz's "ok"): text holds it
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed, text });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in ${opts.timeoutMs ?? 30000} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Like kubeRequest, but an answer outside 2xx (and not in `accept`) is an error naming it. */
export async function kubeCall(c: KubeClient, method: string, path: string, body?: unknown, accept: number[] = []): Promise<KubeAnswer> {
  const a = await kubeRequest(c, method, path, body);
  if ((a.status < 200 || a.status > 299) && !accept.includes(a.status)) {
    const msg = (a.body as { message?: string } | undefined)?.message ?? a.text.slice(0, 300);
    throw new Error(`${method} ${path}: ${a.status} ${msg}`);
  }
  return a;
}
