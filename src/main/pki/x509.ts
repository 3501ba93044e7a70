/**
 * Certificate building blocks: RSA keys from node:crypto (generated off the event loop), TBS
 * certificates laid out with node-forge, signatures made natively by node:crypto, and the few DER
 * fields of an existing (imported) CA certificate that issuance needs.
 */
import { type KeyObject, X509Certificate, generateKeyPair, sign } from 'node:crypto';
import { availableParallelism } from 'node:os';
import forge from 'node-forge';

export const DAY_MS = 24 * 3600 * 1000;
/** Certificates start a day in the past: phones may boot with a clock that is slightly behind. */
export const BACKDATE_MS = DAY_MS;

export interface RsaKeyPair {
  /** PKCS#8 PEM. */
  privateKeyPem: string;
  /** SPKI PEM. */
  publicKeyPem: string;
}

/**
 * Key generations at a time: one per core, so a bulk bootstrap keeps every core busy; but they run
 * on libuv's thread pool (UV_THREADPOOL_SIZE, 4 threads by default), whose file, DNS and PBKDF2
 * work must not wait behind them, so at least one pool thread stays free.
 */
export const KEYGEN_SLOTS = Math.max(1, Math.min(availableParallelism(), threadPoolSize() - 1));

function threadPoolSize(): number {
  const n = Number(process.env.UV_THREADPOOL_SIZE);
  return Number.isInteger(n) && n >= 1 ? Math.min(n, 1024) : 4;
}
let keygenRunning = 0;
const keygenWaiting: Array<() => void> = [];

export async function generateRsaKeyPair(bits: number): Promise<RsaKeyPair> {
  if (keygenRunning >= KEYGEN_SLOTS) await new Promise<void>((resolve) => keygenWaiting.push(resolve));
  keygenRunning++;
  try {
    return await new Promise<RsaKeyPair>((resolve, reject) => {
      generateKeyPair(
        'rsa',
        { modulusLength: bits, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } },
        (err, publicKeyPem, privateKeyPem) => (err ? reject(err) : resolve({ publicKeyPem, privateKeyPem })),
      );
    });
  } finally {
    keygenRunning--;
    keygenWaiting.shift()?.();
  }
}

/** The issuer side of a signature: the CA's key, and its subject as DER when not self-signed. */
export interface Signer {
  key: KeyObject;
  /** The issuing CA's subject Name, copied byte for byte into the issuer field; absent = self-signed. */
  subject?: forge.asn1.Asn1;
  /** The CA's subjectKeyIdentifier (binary string), for the authorityKeyIdentifier extension. */
  keyIdentifier?: string | null;
}

/**
 * Signs `cert` (subject, validity, extensions, public key already set) with sha256WithRSAEncryption.
 * The signature is computed by node:crypto on the thread pool, not by node-forge in JavaScript.
 */
export async function signCertificate(cert: forge.pki.Certificate, signer: Signer): Promise<string> {
  if (signer.key.asymmetricKeyType !== 'rsa') throw new Error(`cannot sign with a ${signer.key.asymmetricKeyType ?? 'unknown'} key: only RSA CA keys are supported`);
  const oid = forge.pki.oids['sha256WithRSAEncryption'] as string;
  cert.siginfo.algorithmOid = oid;
  cert.signatureOid = oid;
  const tbs = (forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate(cert);
  if (signer.subject !== undefined) (tbs.value as forge.asn1.Asn1[])[3] = signer.subject; // TBSCertificate.issuer
  const tbsDer = Buffer.from(forge.asn1.toDer(tbs).getBytes(), 'binary');
  const signature = await new Promise<Buffer>((resolve, reject) => sign('sha256', tbsDer, signer.key, (err, sig) => (err ? reject(err) : resolve(sig))));
  cert.tbsCertificate = tbs;
  cert.signature = signature.toString('binary');
  // Re-encoded by OpenSSL: LF line ends (node-forge writes CRLF), the same text Node gives back everywhere.
  return new X509Certificate(Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary')).toString();
}

/** A new forge certificate with serial, validity, subject and public key filled in. */
export function newCertificate(fields: {
  serialHex: string;
  publicKeyPem: string;
  subject: forge.pki.CertificateField[];
  validityDays: number;
  now?: number;
}): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  const now = fields.now ?? Date.now();
  cert.serialNumber = fields.serialHex;
  cert.publicKey = forge.pki.publicKeyFromPem(fields.publicKeyPem);
  cert.validity.notBefore = new Date(now - BACKDATE_MS);
  cert.validity.notAfter = new Date(now + fields.validityDays * DAY_MS);
  cert.setSubject(fields.subject);
  return cert;
}

/** The authorityKeyIdentifier extension for `signer`, or none when the CA has no key identifier. */
export function authorityKeyIdentifier(signer: Signer): object[] {
  return signer.keyIdentifier ? [{ name: 'authorityKeyIdentifier', keyIdentifier: signer.keyIdentifier }] : [];
}

/** Fields of a CA certificate read at DER level (works for any key type node-forge cannot parse). */
export interface CaCertificateFields {
  subject: forge.asn1.Asn1;
  /** subjectKeyIdentifier (binary string) or null. */
  keyIdentifier: string | null;
  /** keyUsage bits, or null when the extension is absent. */
  keyUsage: { keyCertSign: boolean; cRLSign: boolean } | null;
  /** basicConstraints cA (false when the extension is absent). */
  basicCa: boolean;
}

const OID_SKI = '2.5.29.14';
const OID_KEY_USAGE = '2.5.29.15';
const OID_BASIC_CONSTRAINTS = '2.5.29.19';

export function caCertificateFields(x509: X509Certificate): CaCertificateFields {
  const cert = forge.asn1.fromDer(x509.raw.toString('binary'));
  const tbs = children(children(cert)[0]);
  const hasVersion = tbs[0]?.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC && tbs[0]?.type === 0;
  const subject = tbs[(hasVersion ? 1 : 0) + 4];
  if (subject === undefined) throw new Error('the certificate has no subject');
  let keyIdentifier: string | null = null;
  let keyUsage: CaCertificateFields['keyUsage'] = null;
  let basicCa = false;
  const extensionsTag = tbs.find((n) => n.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC && n.type === 3);
  for (const ext of extensionsTag ? children(children(extensionsTag)[0]) : []) {
    const parts = children(ext);
    const oid = forge.asn1.derToOid(parts[0]?.value as string);
    const value = parts[parts.length - 1]?.value;
    if (typeof value !== 'string') continue;
    const inner = Buffer.from(value, 'binary');
    if (oid === OID_SKI && inner[0] === 0x04) keyIdentifier = derContents(inner).toString('binary');
    if (oid === OID_KEY_USAGE && inner[0] === 0x03) {
      const bits = derContents(inner)[1] ?? 0; // first byte = unused-bit count
      keyUsage = { keyCertSign: (bits & 0x04) !== 0, cRLSign: (bits & 0x02) !== 0 };
    }
    if (oid === OID_BASIC_CONSTRAINTS && inner[0] === 0x30) {
      const seq = derContents(inner); // BOOLEAN cA DEFAULT FALSE first, when present
      basicCa = seq[0] === 0x01 && seq[1] === 0x01 && (seq[2] ?? 0) !== 0;
    }
  }
  return { subject, keyIdentifier, keyUsage, basicCa };
}

function children(node: forge.asn1.Asn1 | undefined): forge.asn1.Asn1[] {
  if (node === undefined || !Array.isArray(node.value)) throw new Error('the certificate is not well-formed DER');
  return node.value;
}

/** Contents of a short DER TLV (tag, length, value). */
function derContents(tlv: Buffer): Buffer {
  const first = tlv[1] ?? 0;
  if (first < 0x80) return tlv.subarray(2, 2 + first);
  const n = first & 0x7f;
  const len = tlv.subarray(2, 2 + n).reduce((acc, b) => acc * 256 + b, 0);
  return tlv.subarray(2 + n, 2 + n + len);
}

/** The PEM blocks of one type in `text`, in order. */
export function pemBlocks(text: string, type: string): string[] {
  const re = new RegExp(`-----BEGIN ${type}-----[\\s\\S]*?-----END ${type}-----`, 'g');
  return (text.match(re) ?? []).map((b) => `${b}\n`);
}

/** SHA-256 fingerprint as lower-case hex without separators. */
export function fingerprintHex(x509: X509Certificate): string {
  return x509.fingerprint256.replace(/:/g, '').toLowerCase();
}

/** True when `x509` is self-issued and its own key verifies it (a root). */
export function isSelfSigned(x509: X509Certificate): boolean {
  return x509.checkIssued(x509) && x509.verify(x509.publicKey);
}
