/**
 * TLS material for the sandbox API server: a self-made CA and a server certificate for
 * 127.0.0.1 / localhost, signed by it. Keys are ECDSA P-256 made and used by node:crypto
 * (native, a millisecond); node-forge only lays out the X.509 structures (its own signing
 * is RSA-only and slow). Everything is cached in `<dir>/tls`, so restarts on the same dir
 * present the same CA to kubeconfigs written earlier.
 */
import { createPrivateKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import forge from 'node-forge';

export interface TlsMaterial {
  caCert: string;
  cert: string;
  key: string;
}

const FILES = { caCert: 'ca.crt', caKey: 'ca.key', cert: 'server.crt', key: 'server.key' } as const;
const ECDSA_SHA256 = '1.2.840.10045.4.3.2';
const asn1 = forge.asn1;

type Pki = typeof forge.pki & { getTBSCertificate(cert: forge.pki.Certificate): forge.asn1.Asn1 };

/** Any RSA public key: forge needs one to lay out the TBS structure; it is replaced below. */
const PLACEHOLDER_KEY = forge.pki.setRsaPublicKey(new forge.jsbn.BigInteger('c3'.repeat(64), 16), new forge.jsbn.BigInteger('10001', 16));

function ecdsaAlgorithm(): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(ECDSA_SHA256).getBytes()),
  ]);
}

interface CertSpec {
  subject: string;
  issuer: string;
  years: number;
  extensions: unknown[];
  publicKey: KeyObject;
  signer: KeyObject;
}

function serial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f; // positive
  return b.toString('hex');
}

function makeCert(spec: CertSpec): string {
  const cert = forge.pki.createCertificate();
  cert.publicKey = PLACEHOLDER_KEY;
  cert.serialNumber = serial();
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 60 * 60 * 1000);
  cert.validity.notAfter = new Date(now + spec.years * 365 * 24 * 60 * 60 * 1000);
  cert.setSubject([{ name: 'commonName', value: spec.subject }]);
  cert.setIssuer([{ name: 'commonName', value: spec.issuer }]);
  cert.setExtensions(spec.extensions as never[]);
  (cert as unknown as { siginfo: { algorithmOid: string } }).siginfo.algorithmOid = ECDSA_SHA256;
  const tbs = (forge.pki as Pki).getTBSCertificate(cert);
  const parts = tbs.value as forge.asn1.Asn1[];
  parts[2] = ecdsaAlgorithm();
  const spki = spec.publicKey.export({ type: 'spki', format: 'der' });
  parts[6] = asn1.fromDer(forge.util.createBuffer(spki.toString('binary')));
  const tbsDer = asn1.toDer(tbs).getBytes();
  const signature = sign('sha256', Buffer.from(tbsDer, 'binary'), spec.signer);
  const full = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    tbs,
    ecdsaAlgorithm(),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, String.fromCharCode(0) + signature.toString('binary')),
  ]);
  return forge.pem.encode({ type: 'CERTIFICATE', body: asn1.toDer(full).getBytes() });
}

function newKey(): { publicKey: KeyObject; privateKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

function pem(k: KeyObject): string {
  return k.export({ type: 'pkcs8', format: 'pem' }).toString();
}

const CA_NAME = 'kserve-canary-sandbox-ca';

/** Loads the CA and server certificate from `dir/tls`, creating whatever is missing. */
export function ensureTls(dir: string): TlsMaterial {
  const tlsDir = path.join(dir, 'tls');
  mkdirSync(tlsDir, { recursive: true, mode: 0o700 });
  const p = (k: keyof typeof FILES) => path.join(tlsDir, FILES[k]);
  if (!existsSync(p('caCert')) || !existsSync(p('caKey'))) {
    const ca = newKey();
    const caCert = makeCert({
      subject: CA_NAME,
      issuer: CA_NAME,
      years: 10,
      publicKey: ca.publicKey,
      signer: ca.privateKey,
      extensions: [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
      ],
    });
    writeFileSync(p('caKey'), pem(ca.privateKey), { mode: 0o600 });
    writeFileSync(p('caCert'), caCert);
    // a new CA invalidates any server certificate signed by an old one
    writeFileSync(p('cert'), '');
  }
  const caCert = readFileSync(p('caCert'), 'utf8');
  if (!existsSync(p('cert')) || !existsSync(p('key')) || readFileSync(p('cert'), 'utf8').trim() === '') {
    const server = newKey();
    const cert = makeCert({
      subject: 'kserve-canary-sandbox',
      issuer: CA_NAME,
      years: 5,
      publicKey: server.publicKey,
      signer: createPrivateKey(readFileSync(p('caKey'), 'utf8')),
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true },
        {
          name: 'subjectAltName',
          altNames: [
            { type: 7, ip: '127.0.0.1' },
            { type: 2, value: 'localhost' },
          ],
        },
      ],
    });
    writeFileSync(p('key'), pem(server.privateKey), { mode: 0o600 });
    writeFileSync(p('cert'), cert);
  }
  return { caCert, cert: readFileSync(p('cert'), 'utf8'), key: readFileSync(p('key'), 'utf8') };
}
