/**
 * What the secrets test (secrets.test.ts) plants and provokes: a client certificate pair,
 * kubeconfigs with a given user, a closed port, a git server that refuses every login (and
 * records the Authorization headers it was sent), and the full text of an error.
 */
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { inspect } from 'node:util';
import forge from 'node-forge';
import { stringify as toYaml } from 'yaml';
import { isCanaryError } from '../../src/core/errors';

/** A client certificate and its RSA key (PKCS#1 PEM), self-signed: what `oc login` with certs leaves. */
export function clientCertificate(): { cert: string; key: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
  const subject = [
    { name: 'commonName', value: 'carol' },
    { name: 'organizationName', value: 'system:authenticated' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.sign(forge.pki.privateKeyFromPem(key), forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key };
}

/** A kubeconfig with one cluster, one user and one context `sandbox`, written 0600. */
export function writeKubeconfig(file: string, server: string, caPem: string, user: Record<string, string>): string {
  const cfg = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'sandbox', cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
    users: [{ name: 'user1', user }],
    contexts: [{ name: 'sandbox', context: { cluster: 'sandbox', user: 'user1', namespace: 'user1-test' } }],
    'current-context': 'sandbox',
  };
  writeFileSync(file, toYaml(cfg), { mode: 0o600 });
  return file;
}

/** A port on 127.0.0.1 nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** An http "git server" that refuses every request with 401 (Basic), and records what it saw. */
export async function refusingGitServer(): Promise<{ port: number; authorizations: string[]; close(): Promise<void> }> {
  const authorizations: string[] = [];
  const srv = http.createServer((req, res) => {
    if (req.headers.authorization) authorizations.push(req.headers.authorization);
    res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="gitops"', 'Content-Type': 'text/plain' });
    res.end('unauthorized\n');
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as net.AddressInfo;
  return {
    port,
    authorizations,
    close: () =>
      new Promise((r) => {
        srv.closeAllConnections();
        srv.close(() => r());
      }),
  };
}

/** Everything an error can show: message, hint, code, and the full inspected chain (causes, stack). */
export function errorText(e: unknown): string {
  const parts = [inspect(e, { depth: 6 })];
  if (isCanaryError(e)) parts.push(e.message, e.hint ?? '', e.code);
  return parts.join('\n');
}
