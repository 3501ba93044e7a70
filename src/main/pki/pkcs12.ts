/**
 * PKCS#12 containers for a phone's client credential. `dls-client-certificate` (bootstrapping
 * without PIN, manual p.64) must carry the certificate with its private key (p.62); its encoding
 * is not shown in the manual. The manual's only other key-bearing item, `wbm-server-certificate`,
 * is "PKCS#12 data, base64 encoded" (p.60), so LocalDLS sends base64 PKCS#12 here too
 * (wpi-protocol §5.6). Its password is not public either: the default is the empty password.
 */
import { X509Certificate, createCipheriv, createHmac, createPrivateKey, hash, pbkdf2Sync, randomBytes } from 'node:crypto';
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
 * the integrity MAC is HMAC-SHA1 with the PKCS#12 key derivation (accepted by every reader).
 */
export type Pkcs12KeyAlgorithm = 'aes256' | '3des';

export interface Pkcs12Options {
  keyAlgorithm?: Pkcs12KeyAlgorithm;
  /** PBKDF / MAC iteration count. Default 2048 (OpenSSL's PKCS12_DEFAULT_ITER). */
  iterations?: number;
  friendlyName?: string;
  /**
   * Fixed salts and IV, only for reproducible tests: `keySalt` (PBES2 / PKCS#12-PBE salt, 16
   * bytes), `macSalt` (16 bytes), `iv` (AES-256-CBC, 16 bytes; 3DES derives its IV).
   */
  fixed?: { keySalt: Buffer; macSalt: Buffer; iv: Buffer };
}

const SALT_BYTES = 16;
const asn1 = forge.asn1;
const { Class, Type } = forge.asn1;
const OID = {
  data: '1.2.840.113549.1.7.1',
  certBag: '1.2.840.113549.1.12.10.1.3',
  pkcs8ShroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  localKeyId: '1.2.840.113549.1.9.21',
  friendlyName: '1.2.840.113549.1.9.20',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  hmacWithSHA256: '1.2.840.113549.2.9',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
  pbeWithSHAAnd3KeyTripleDesCbc: '1.2.840.113549.1.12.1.3',
  sha1: '1.3.14.3.2.26',
} as const;

/**
 * PKCS#12 (DER) holding `keyPem` + `certPem` (one bag, same localKeyId) and the CA certificates.
 * Laid out as node-forge's toPkcs12Asn1 does (a certificate SafeContents, then a shrouded key
 * bag; RFC 7292), but every cryptographic step is node:crypto's: the key comes out of OpenSSL as
 * PKCS#8 DER, PBKDF2, AES / 3DES, SHA-1 and HMAC are native; node-forge only writes the ASN.1.
 * Most of its CPU is the 2 048 SHA-1 rounds of the MAC key (RFC 7292's KDF has no native form;
 * see sha1Repeat).
 */
export function toPkcs12Der(keyPem: string, certPem: string, caPems: string[], password: string, options: Pkcs12Options = {}): Buffer {
  let keyDer: Buffer;
  let certDers: Buffer[];
  try {
    const key = createPrivateKey(keyPem);
    if (key.asymmetricKeyType !== 'rsa') throw new Error(`the key is ${key.asymmetricKeyType ?? 'of an unknown type'}`);
    keyDer = key.export({ type: 'pkcs8', format: 'der' });
    certDers = [new X509Certificate(certPem).raw, ...caPems.map(caDer)];
  } catch (e) {
    throw new Error(`cannot build the PKCS#12: ${errorMessage(e)} (RSA keys and certificates only)`);
  }
  const algorithm = options.keyAlgorithm ?? 'aes256';
  if (algorithm !== 'aes256' && algorithm !== '3des') throw new Error(`PKCS#12 key algorithm "${String(algorithm)}" is not aes256 or 3des`);
  const count = options.iterations ?? 2048;
  if (!Number.isInteger(count) || count < 1 || count > 10_000_000) throw new Error(`PKCS#12 iterations must be 1 to 10000000, not ${count}`);
  const fixed = options.fixed;
  if (fixed && (fixed.keySalt.length !== SALT_BYTES || fixed.macSalt.length !== SALT_BYTES || fixed.iv.length !== 16)) throw new Error('PKCS#12 fixed salts and IV are 16 bytes each');

  // Bag attributes of the key and of its certificate: localKeyId = SHA-1 of the certificate.
  const attributes = [attribute(OID.localKeyId, octets(hash('sha1', certDers[0]!, 'buffer')))];
  if (options.friendlyName !== undefined) attributes.push(attribute(OID.friendlyName, asn1.create(Class.UNIVERSAL, Type.BMPSTRING, false, options.friendlyName)));
  const bagAttributes = () => asn1.create(Class.UNIVERSAL, Type.SET, true, attributes);

  const certBags = certDers.map((der, i) =>
    seq(
      oid(OID.certBag),
      explicit0(seq(oid(OID.x509Certificate), explicit0(octets(der)))),
      ...(i === 0 ? [bagAttributes()] : []),
    ),
  );
  const keyBag = seq(oid(OID.pkcs8ShroudedKeyBag), explicit0(encryptedPrivateKeyInfo(keyDer, password, algorithm, count, fixed)), bagAttributes());
  const authenticatedSafe = der(seq(dataContentInfo(der(seq(...certBags))), dataContentInfo(der(seq(keyBag)))));

  const macSalt = fixed?.macSalt ?? randomBytes(SALT_BYTES);
  const macKey = pkcs12Kdf(password, macSalt, 3, count, 20);
  const mac = createHmac('sha1', macKey).update(authenticatedSafe).digest();
  const macData = seq(seq(seq(oid(OID.sha1), asn1.create(Class.UNIVERSAL, Type.NULL, false, '')), octets(mac)), octets(macSalt), integer(count));
  return der(seq(integer(3), dataContentInfo(authenticatedSafe), macData));
}

/** The CA certificates are the same for every phone of a rollout: parsed once, not once per phone. */
const caDers = new Map<string, Buffer>();
function caDer(pem: string): Buffer {
  let der = caDers.get(pem);
  if (der === undefined) {
    der = new X509Certificate(pem).raw;
    if (caDers.size >= 16) caDers.delete(caDers.keys().next().value!);
    caDers.set(pem, der);
  }
  return der;
}

/** EncryptedPrivateKeyInfo (PKCS#8) of `keyDer`: PBES2/PBKDF2-HMAC-SHA256/AES-256-CBC, or PKCS#12 PBE 3DES. */
function encryptedPrivateKeyInfo(keyDer: Buffer, password: string, algorithm: Pkcs12KeyAlgorithm, count: number, fixed: Pkcs12Options['fixed']): forge.asn1.Asn1 {
  const salt = fixed?.keySalt ?? randomBytes(SALT_BYTES);
  if (algorithm === '3des') {
    const key = pkcs12Kdf(password, salt, 1, count, 24);
    const iv = pkcs12Kdf(password, salt, 2, count, 8);
    const cipher = createCipheriv('des-ede3-cbc', key, iv);
    const encrypted = Buffer.concat([cipher.update(keyDer), cipher.final()]);
    return seq(seq(oid(OID.pbeWithSHAAnd3KeyTripleDesCbc), seq(octets(salt), integer(count))), octets(encrypted));
  }
  const iv = fixed?.iv ?? randomBytes(16);
  const key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, count, 32, 'sha256');
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  const encrypted = Buffer.concat([cipher.update(keyDer), cipher.final()]);
  const pbkdf2Params = seq(octets(salt), integer(count), integer(32), seq(oid(OID.hmacWithSHA256), asn1.create(Class.UNIVERSAL, Type.NULL, false, '')));
  return seq(seq(oid(OID.pbes2), seq(seq(oid(OID.pbkdf2), pbkdf2Params), seq(oid(OID.aes256Cbc), octets(iv)))), octets(encrypted));
}

/**
 * The PKCS#12 key derivation (RFC 7292 appendix B.2) with SHA-1, hashing natively. `id` 1 = key,
 * 2 = IV, 3 = MAC key. The password is a BMPString with its two-byte terminator, as OpenSSL and
 * node-forge encode it (the empty password is just the terminator).
 */
export function pkcs12Kdf(password: string, salt: Buffer, id: 1 | 2 | 3, iterations: number, length: number): Buffer {
  const u = 20; // SHA-1 output
  const v = 64; // SHA-1 block
  const pass = Buffer.alloc(password.length * 2 + 2);
  for (let i = 0; i < password.length; i++) pass.writeUInt16BE(password.charCodeAt(i), i * 2);
  const fill = (b: Buffer) => {
    const out = Buffer.alloc(b.length === 0 ? 0 : v * Math.ceil(b.length / v));
    for (let i = 0; i < out.length; i++) out[i] = b[i % b.length]!;
    return out;
  };
  const D = Buffer.alloc(v, id);
  const I = Buffer.concat([fill(salt), fill(pass)]);
  const out = Buffer.alloc(Math.ceil(length / u) * u);
  for (let block = 0; block * u < length; block++) {
    const A = sha1Repeat(hash('sha1', Buffer.concat([D, I]), 'buffer'), iterations - 1);
    A.copy(out, block * u);
    if ((block + 1) * u >= length) break;
    // I_j = (I_j + B + 1) mod 2^(8v), B = A repeated to v bytes.
    const B = fill(A);
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = I[j + k]! + B[k]! + carry;
        I[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return out.subarray(0, length);
}

/**
 * SHA-1 applied `times` times to a 20-byte digest (the inner loop of pkcs12Kdf). Each round hashes
 * exactly one padded block, so it is done here in JavaScript: about 0.3 µs a round against 2 µs
 * for a call into OpenSSL per round (the call, not the hash, is the cost). FIPS 180-4 §6.1;
 * test/pki/pkcs12-native.test.ts checks it against node:crypto.
 */
export function sha1Repeat(digest: Buffer, times: number): Buffer {
  if (digest.length !== 20) throw new Error('sha1Repeat takes a 20-byte SHA-1 digest');
  const w = SHA1_W;
  let h0 = digest.readInt32BE(0);
  let h1 = digest.readInt32BE(4);
  let h2 = digest.readInt32BE(8);
  let h3 = digest.readInt32BE(12);
  let h4 = digest.readInt32BE(16);
  for (let t = 0; t < times; t++) {
    // The block: the 20-byte digest, the 0x80 pad byte, zeros, the length (160 bits).
    w[0] = h0;
    w[1] = h1;
    w[2] = h2;
    w[3] = h3;
    w[4] = h4;
    w[5] = 0x80000000 | 0;
    w.fill(0, 6, 15);
    w[15] = 160;
    for (let i = 16; i < 80; i++) {
      const x = w[i - 3]! ^ w[i - 8]! ^ w[i - 14]! ^ w[i - 16]!;
      w[i] = (x << 1) | (x >>> 31);
    }
    let a = 0x67452301 | 0;
    let b = 0xefcdab89 | 0;
    let c = 0x98badcfe | 0;
    let d = 0x10325476 | 0;
    let e = 0xc3d2e1f0 | 0;
    for (let i = 0; i < 80; i++) {
      const f = i < 20 ? (b & c) | (~b & d) : i < 40 ? b ^ c ^ d : i < 60 ? (b & c) | (b & d) | (c & d) : b ^ c ^ d;
      const k = i < 20 ? 0x5a827999 : i < 40 ? 0x6ed9eba1 : i < 60 ? 0x8f1bbcdc | 0 : 0xca62c1d6 | 0;
      const next = (((a << 5) | (a >>> 27)) + f + e + k + w[i]!) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = next;
    }
    h0 = (0x67452301 + a) | 0;
    h1 = (0xefcdab89 + b) | 0;
    h2 = (0x98badcfe + c) | 0;
    h3 = (0x10325476 + d) | 0;
    h4 = (0xc3d2e1f0 + e) | 0;
  }
  const out = Buffer.alloc(20);
  out.writeInt32BE(h0, 0);
  out.writeInt32BE(h1, 4);
  out.writeInt32BE(h2, 8);
  out.writeInt32BE(h3, 12);
  out.writeInt32BE(h4, 16);
  return out;
}
const SHA1_W = new Int32Array(80);

const seq = (...items: forge.asn1.Asn1[]) => asn1.create(Class.UNIVERSAL, Type.SEQUENCE, true, items);
const oid = (dotted: string) => asn1.create(Class.UNIVERSAL, Type.OID, false, asn1.oidToDer(dotted).getBytes());
const octets = (bytes: Buffer) => asn1.create(Class.UNIVERSAL, Type.OCTETSTRING, false, bytes.toString('binary'));
const integer = (n: number) => asn1.create(Class.UNIVERSAL, Type.INTEGER, false, asn1.integerToDer(n).getBytes());
const explicit0 = (inner: forge.asn1.Asn1) => asn1.create(Class.CONTEXT_SPECIFIC, 0, true, [inner]);
const attribute = (id: string, value: forge.asn1.Asn1) => seq(oid(id), asn1.create(Class.UNIVERSAL, Type.SET, true, [value]));
const dataContentInfo = (content: Buffer) => seq(oid(OID.data), explicit0(octets(content)));
const der = (node: forge.asn1.Asn1) => Buffer.from(asn1.toDer(node).getBytes(), 'binary');

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
