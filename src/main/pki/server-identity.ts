/**
 * The Default-Mode listener's TLS identity: a self-signed certificate made on first run and kept in
 * the data directory. Phones in Default Mode do not check it (manual p.12), so self-signed is fine;
 * the Secure-Mode listener gets a CA-signed one of its own (Pki.secureServerIdentity).
 */
import { createPrivateKey, generateKeyPair, randomBytes, X509Certificate } from 'node:crypto';
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
 * Without `protector` the key is kept in clear in `<dataDir>/tls/default-server.key`. With one it
 * is kept sealed in `default-server.key.sealed`, and a clear key left by an earlier run is sealed
 * and removed (docs/pki.md). Files here are 0600, the folder 0700 (narrowed if wider).
 *
 * The key and the certificate are a pair and never get out of step: a launch that cannot open the
 * key it finds (a sealed key, launched without the protector) makes a new pair and removes that
 * key, and a pair that does not match (left by an older version, or a crash between the two
 * writes) is replaced. Phones in Default Mode do not pin this certificate, so a new one costs
 * nothing. A sealed key this protector cannot open is an error naming the file and who sealed it.
 */
export async function loadOrCreateDefaultIdentity(dataDir: string, protector?: KeyProtector): Promise<TlsIdentity> {
  const dir = join(dataDir, 'tls');
  const paths = { clear: join(dir, 'default-server.key'), sealed: join(dir, 'default-server.key.sealed'), cert: join(dir, 'default-server.crt') };
  ensurePrivateDir(dir);
  const cert = existsSync(paths.cert) ? readFileSync(paths.cert, 'utf8') : undefined;
  let key: string | undefined;
  if (protector !== undefined && existsSync(paths.sealed)) key = openSealedKey(paths.sealed, protector);
  else if (existsSync(paths.clear)) key = readFileSync(paths.clear, 'utf8');
  if (key !== undefined && cert !== undefined && isPair(key, cert)) {
    if (protector !== undefined && !existsSync(paths.sealed)) {
      writeFileAtomic(paths.sealed, protector.seal(Buffer.from(key, 'utf8')));
      rmSync(paths.clear, { force: true });
    }
    return { key, cert };
  }
  const identity = await createSelfSigned(`LocalDLS ${hostname()}`);
  // Key first, in the one form this launch can open, the other form removed; the certificate
  // last. A crash in between leaves a pair that does not match, which the next launch replaces.
  if (protector !== undefined) {
    writeFileAtomic(paths.sealed, protector.seal(Buffer.from(identity.key, 'utf8')));
    rmSync(paths.clear, { force: true });
  } else {
    writeFileAtomic(paths.clear, identity.key);
    rmSync(paths.sealed, { force: true });
  }
  writeFileAtomic(paths.cert, identity.cert);
  return identity;
}

function openSealedKey(path: string, protector: KeyProtector): string {
  try {
    return protector.open(readFileSync(path)).toString('utf8');
  } catch (e) {
    throw new Error(
      `cannot open the Default-Mode server key ${path} with the "${protector.kind}" key protector: ${e instanceof Error ? e.message : String(e)}. ` +
        'Phones do not pin this key: deleting the file makes LocalDLS create a new one (the keys under pki/ are another matter).',
    );
  }
}

/** Whether the certificate is for this private key (false for unreadable PEM too). */
function isPair(key: string, cert: string): boolean {
  try {
    return new X509Certificate(cert).checkPrivateKey(createPrivateKey(key));
  } catch {
    return false;
  }
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
