/**
 * The Default-Mode listener's TLS identity: a self-signed certificate made on first run and kept in
 * the data directory. Phones in Default Mode do not check it (manual p.12), so self-signed is fine;
 * the Secure-Mode listener gets a CA-signed one of its own (Pki.secureServerIdentity).
 */
import { generateKeyPair, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import forge from 'node-forge';
import { ensurePrivateDir, writeFileAtomic } from './fs-util';
import type { KeyProtector } from './key-protector';

export interface TlsIdentity {
  key: string;
  cert: string;
}

const generateKeyPairAsync = promisify(generateKeyPair);

/**
 * Without `protector` the key is kept in clear in `<dataDir>/tls/default-server.key`, as before.
 * With one it is kept sealed in `default-server.key.sealed`, and a clear key left by an earlier run
 * is sealed and removed (docs/pki.md). Files here are 0600, the folder 0700 (narrowed if wider).
 */
export async function loadOrCreateDefaultIdentity(dataDir: string, protector?: KeyProtector): Promise<TlsIdentity> {
  const dir = join(dataDir, 'tls');
  const keyPath = join(dir, 'default-server.key');
  const sealedPath = join(dir, 'default-server.key.sealed');
  const certPath = join(dir, 'default-server.crt');
  ensurePrivateDir(dir);
  if (protector !== undefined && existsSync(certPath)) {
    if (existsSync(sealedPath)) return { key: protector.open(readFileSync(sealedPath)).toString('utf8'), cert: readFileSync(certPath, 'utf8') };
    if (existsSync(keyPath)) {
      const key = readFileSync(keyPath, 'utf8');
      writeFileAtomic(sealedPath, protector.seal(Buffer.from(key, 'utf8')));
      rmSync(keyPath);
      return { key, cert: readFileSync(certPath, 'utf8') };
    }
  }
  if (protector === undefined && existsSync(keyPath) && existsSync(certPath)) {
    return { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8') };
  }
  const identity = await createSelfSigned(`LocalDLS ${hostname()}`);
  if (protector !== undefined) writeFileAtomic(sealedPath, protector.seal(Buffer.from(identity.key, 'utf8')));
  else writeFileAtomic(keyPath, identity.key);
  writeFileAtomic(certPath, identity.cert);
  return identity;
}

/** RSA 2048 key from node:crypto (off the event loop), certificate built with node-forge. */
export async function createSelfSigned(commonName: string, years = 10): Promise<TlsIdentity> {
  const { publicKey, privateKey } = await generateKeyPairAsync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
  cert.serialNumber = randomSerial();
  const now = new Date();
  cert.validity.notBefore = new Date(now.getTime() - 24 * 3600 * 1000);
  cert.validity.notAfter = new Date(now.getTime() + years * 365 * 24 * 3600 * 1000);
  const subject = [{ name: 'commonName', value: commonName }, { name: 'organizationName', value: 'LocalDLS' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }] },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(privateKey), forge.md.sha256.create());
  return { key: privateKey, cert: forge.pki.certificateToPem(cert) };
}

/** 16 random bytes with the top bit clear (positive DER integer) and a non-zero first byte (minimal DER). */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] as number) & 0x7f) || 0x01;
  return bytes.toString('hex');
}
