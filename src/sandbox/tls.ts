/**
 * TLS material for the sandbox API server: a self-made CA and a server certificate for
 * 127.0.0.1 / localhost, signed by it. RSA keys come from node:crypto (native, fast);
 * node-forge only builds and signs the X.509 certificates. Everything is cached in the
 * data dir so that restarts on the same dir present the same CA to existing kubeconfigs.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import forge from 'node-forge';

export interface TlsMaterial {
  caCert: string;
  cert: string;
  key: string;
}

const FILES = { caCert: 'ca.crt', caKey: 'ca.key', cert: 'server.crt', key: 'server.key' } as const;

function newKeyPair(): { publicKey: forge.pki.PublicKey; privateKey: forge.pki.PrivateKey; privatePem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return {
    publicKey: forge.pki.publicKeyFromPem(publicKey),
    privateKey: forge.pki.privateKeyFromPem(privateKey),
    privatePem: privateKey,
  };
}

function serial(): string {
  // Positive serial number: clear the top bit.
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f;
  return b.toString('hex');
}

function validity(cert: forge.pki.Certificate, years: number): void {
  const now = new Date();
  cert.validity.notBefore = new Date(now.getTime() - 60 * 60 * 1000);
  cert.validity.notAfter = new Date(now.getTime() + years * 365 * 24 * 60 * 60 * 1000);
}

function makeCa(): { certPem: string; keyPem: string } {
  const keys = newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  validity(cert, 10);
  const attrs = [{ name: 'commonName', value: 'kserve-canary-sandbox-ca' }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.privatePem };
}

function makeServerCert(caCertPem: string, caKeyPem: string): { certPem: string; keyPem: string } {
  const ca = forge.pki.certificateFromPem(caCertPem);
  const caKey = forge.pki.privateKeyFromPem(caKeyPem);
  const keys = newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  validity(cert, 5);
  cert.setSubject([{ name: 'commonName', value: 'kserve-canary-sandbox' }]);
  cert.setIssuer(ca.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        { type: 7, ip: '127.0.0.1' },
        { type: 2, value: 'localhost' },
      ],
    },
  ]);
  cert.sign(caKey as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.privatePem };
}

function writePrivate(file: string, text: string): void {
  writeFileSync(file, text, { mode: 0o600 });
}

/** Loads the CA and server certificate from `dir/tls`, creating whatever is missing. */
export function ensureTls(dir: string): TlsMaterial {
  const tlsDir = path.join(dir, 'tls');
  mkdirSync(tlsDir, { recursive: true, mode: 0o700 });
  const p = (k: keyof typeof FILES) => path.join(tlsDir, FILES[k]);
  if (!existsSync(p('caCert')) || !existsSync(p('caKey'))) {
    const ca = makeCa();
    writeFileSync(p('caCert'), ca.certPem);
    writePrivate(p('caKey'), ca.keyPem);
  }
  const caCert = readFileSync(p('caCert'), 'utf8');
  if (!existsSync(p('cert')) || !existsSync(p('key'))) {
    const s = makeServerCert(caCert, readFileSync(p('caKey'), 'utf8'));
    writeFileSync(p('cert'), s.certPem);
    writePrivate(p('key'), s.keyPem);
  }
  return { caCert, cert: readFileSync(p('cert'), 'utf8'), key: readFileSync(p('key'), 'utf8') };
}
