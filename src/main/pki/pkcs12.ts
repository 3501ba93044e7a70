/**
 * PKCS#12 containers for a phone's client credential. `dls-client-certificate` (bootstrapping
 * without PIN, manual p.64) must carry the certificate with its private key (p.62); its encoding
 * is not shown in the manual. The manual's only other key-bearing item, `wbm-server-certificate`,
 * is "PKCS#12 data, base64 encoded" (p.60), so LocalDLS sends base64 PKCS#12 here too
 * (wpi-protocol §5.6). Its password is not public either: the default is the empty password.
 */
import { X509Certificate, pbkdf2Sync } from 'node:crypto';
import forge from 'node-forge';
import { readPkcs12 } from './ca';
import { errorMessage } from './fs-util';

/**
 * Password of the `dls-client-certificate` PKCS#12. The phone is given no password for it anywhere
 * in the no-PIN flow (p.64), so an empty password is the only one it could know without a
 * firmware-defined constant. Change it here (or per call) once the real rule is known.
 */
export const DLS_CLIENT_CERTIFICATE_PASSWORD = '';

/**
 * How the private key is encrypted inside the PKCS#12:
 * - `aes256`: PBES2 (PBKDF2-HMAC-SHA256) with AES-256-CBC, what OpenSSL 3 writes by default;
 * - `3des`: pbeWithSHAAnd3-KeyTripleDES-CBC, what OpenSSL 1.x and Java 8 wrote (for older firmware).
 * Both are accepted by OpenSSL 3 without the legacy provider. Certificates are stored unencrypted;
 * the integrity MAC is HMAC-SHA1 (node-forge's only choice, also accepted by OpenSSL 3).
 */
export type Pkcs12KeyAlgorithm = 'aes256' | '3des';

export interface Pkcs12Options {
  keyAlgorithm?: Pkcs12KeyAlgorithm;
  /** PBKDF / MAC iteration count. Default 2048 (OpenSSL's PKCS12_DEFAULT_ITER). */
  iterations?: number;
  friendlyName?: string;
}

/** PKCS#12 (DER) holding `keyPem` + `certPem` (one bag, same localKeyId) and the CA certificates. */
export function toPkcs12Der(keyPem: string, certPem: string, caPems: string[], password: string, options: Pkcs12Options = {}): Buffer {
  let key: forge.pki.rsa.PrivateKey;
  let certs: forge.pki.Certificate[];
  try {
    key = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
    certs = [certPem, ...caPems].map((pem) => forge.pki.certificateFromPem(pem));
  } catch (e) {
    throw new Error(`cannot build the PKCS#12: ${errorMessage(e)} (RSA keys and certificates only)`);
  }
  const p12Options = {
    algorithm: options.keyAlgorithm ?? 'aes256',
    prfAlgorithm: 'sha256',
    count: options.iterations ?? 2048,
    saltSize: 16,
    ...(options.friendlyName !== undefined ? { friendlyName: options.friendlyName } : {}),
  };
  const asn1 = withNativePbkdf2(() => forge.pkcs12.toPkcs12Asn1(key, certs, password, p12Options));
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}

type ForgePbkdf2 = (p: string, s: string, c: number, dkLen: number, md?: unknown, callback?: unknown) => string;

/**
 * node-forge's PBES2 code hands PBKDF2 a digest object, which makes forge compute it in JavaScript:
 * 20–80 ms and much garbage per PKCS#12, on the event loop of a service that answers phones
 * meanwhile (docs/benchmarks.md). While `build` runs (synchronously, so nothing else can see it),
 * forge's pbkdf2 is node:crypto's, which computes the same function natively.
 */
function withNativePbkdf2<T>(build: () => T): T {
  const pkcs5 = forge.pkcs5 as unknown as { pbkdf2: ForgePbkdf2 };
  const inJs = pkcs5.pbkdf2;
  pkcs5.pbkdf2 = (p, s, c, dkLen, md, callback) => {
    const name = typeof md === 'string' ? md : (md as { algorithm?: unknown } | null | undefined)?.algorithm ?? 'sha1';
    if (callback !== undefined || typeof name !== 'string' || !['sha1', 'sha256', 'sha384', 'sha512'].includes(name)) return inJs(p, s, c, dkLen, md, callback);
    return pbkdf2Sync(Buffer.from(p, 'binary'), Buffer.from(s, 'binary'), c, dkLen, name).toString('binary');
  };
  try {
    return build();
  } finally {
    pkcs5.pbkdf2 = inJs;
  }
}

export function toPkcs12Base64(keyPem: string, certPem: string, caPems: string[], password: string, options: Pkcs12Options = {}): string {
  return toPkcs12Der(keyPem, certPem, caPems, password, options).toString('base64');
}

/** The `dls-client-certificate` item value (p.64): base64 PKCS#12 of the device credential and CA chain. */
export function dlsClientCertificate(
  credential: { keyPem: string; certPem: string },
  caPems: string[],
  password: string = DLS_CLIENT_CERTIFICATE_PASSWORD,
  options: Pkcs12Options = {},
): string {
  return toPkcs12Base64(credential.keyPem, credential.certPem, caPems, password, options);
}

/** Reads a PKCS#12 back: the key (PKCS#8 PEM), the certificate it belongs to and the other certificates. */
export function fromPkcs12Der(der: Buffer, password: string): { keyPem: string; certPem: string; caPems: string[] } {
  const { certs, key } = readPkcs12(der, password);
  const own = certs.find((c: X509Certificate) => c.checkPrivateKey(key));
  if (own === undefined) throw new Error('the PKCS#12 holds no certificate for its private key');
  return {
    keyPem: key.export({ type: 'pkcs8', format: 'pem' }) as string,
    certPem: own.toString(),
    caPems: certs.filter((c) => c !== own).map((c) => c.toString()),
  };
}
