/**
 * toPkcs12Der computes with node:crypto (PBKDF2, AES, 3DES, SHA-1, HMAC) and writes the ASN.1 with
 * node-forge. For the same salts and IV it must give exactly the bytes node-forge's own
 * toPkcs12Asn1 gives (the containers phones were sent before), and OpenSSL (Node's `pfx`) must
 * open them.
 */
import { createPrivateKey, generateKeyPairSync, hash, randomBytes } from 'node:crypto';
import tls from 'node:tls';
import forge from 'node-forge';
import { afterEach, describe, expect, it } from 'vitest';
import { fromPkcs12Der, toPkcs12Der } from '../../src/main/pki';
import { pkcs12Kdf, sha1Repeat } from '../../src/main/pki/pkcs12';
import { forgeCertificate } from './helpers';

const ca = forgeCertificate({ cn: 'Native PKCS#12 test CA', ca: true });
const leaf = forgeCertificate({ cn: '00:1A:E8:00:00:42', ca: false, issuer: ca });

const keySalt = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
const iv = Buffer.from('f0e0d0c0b0a090807060504030201000', 'hex');
const macSalt = Buffer.from('aabbccddeeff00112233445566778899', 'hex');

type Rng = { getBytes: (n: number) => string; getBytesSync: (n: number) => string };
const rng = forge.random as unknown as Rng;
const original = { getBytes: rng.getBytes, getBytesSync: rng.getBytesSync };
afterEach(() => Object.assign(rng, original));

/** node-forge's PKCS#12 with its random draws replaced by `draws`, in order. */
function forgePkcs12(password: string, options: { algorithm: 'aes256' | '3des'; friendlyName?: string }, draws: Buffer[]): Buffer {
  const queue = [...draws];
  const next = (n: number): string => {
    const b = queue.shift();
    if (b === undefined || b.length !== n) throw new Error(`unexpected random draw of ${n} bytes`);
    return b.toString('binary');
  };
  Object.assign(rng, { getBytes: next, getBytesSync: next });
  const key = forge.pki.privateKeyFromPem(leaf.keyPem);
  const asn1 = forge.pkcs12.toPkcs12Asn1(key, [leaf.cert, ca.cert], password, { ...options, prfAlgorithm: 'sha256', count: 2048, saltSize: 16 } as never);
  Object.assign(rng, original);
  expect(queue).toEqual([]);
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}

describe('toPkcs12Der with node:crypto', () => {
  it.each([
    ['AES-256, empty password', '', 'aes256' as const, undefined],
    ['AES-256, a password and a friendly name', 'p12 secret', 'aes256' as const, 'Desk phone'],
    ['3DES, empty password', '', '3des' as const, undefined],
    ['3DES, a password', 'p12 secret', '3des' as const, undefined],
  ])('gives the bytes node-forge gives for the same salts (%s)', (_name, password, algorithm, friendlyName) => {
    const draws = algorithm === 'aes256' ? [keySalt, iv, macSalt] : [keySalt, macSalt];
    const expected = forgePkcs12(password, { algorithm, ...(friendlyName !== undefined ? { friendlyName } : {}) }, draws);
    const ours = toPkcs12Der(leaf.keyPem, leaf.certPem, [ca.certPem], password, {
      keyAlgorithm: algorithm,
      fixed: { keySalt, macSalt, iv },
      ...(friendlyName !== undefined ? { friendlyName } : {}),
    });
    expect(ours.toString('hex')).toBe(expected.toString('hex'));
  });

  it('is opened by OpenSSL (Node pfx) and read back by fromPkcs12Der, with random salts each time', () => {
    const a = toPkcs12Der(leaf.keyPem, leaf.certPem, [ca.certPem], '');
    const b = toPkcs12Der(leaf.keyPem, leaf.certPem, [ca.certPem], '');
    expect(a.equals(b)).toBe(false);
    expect(() => tls.createSecureContext({ pfx: a })).not.toThrow();
    const legacy = toPkcs12Der(leaf.keyPem, leaf.certPem, [ca.certPem], 'pw', { keyAlgorithm: '3des' });
    expect(() => tls.createSecureContext({ pfx: legacy, passphrase: 'pw' })).not.toThrow();
    expect(() => tls.createSecureContext({ pfx: legacy, passphrase: 'wrong' })).toThrow();
    const back = fromPkcs12Der(a, '');
    expect(createPrivateKey(back.keyPem).export({ format: 'jwk' })).toEqual(createPrivateKey(leaf.keyPem).export({ format: 'jwk' }));
    expect(back.caPems).toHaveLength(1);
  });

  it('encodes a non-ASCII password as OpenSSL reads it (UTF-8 for PBES2, BMPString for the MAC)', () => {
    for (const keyAlgorithm of ['aes256', '3des'] as const) {
      const pfx = toPkcs12Der(leaf.keyPem, leaf.certPem, [], 'Pässwört €', { keyAlgorithm });
      expect(() => tls.createSecureContext({ pfx, passphrase: 'Pässwört €' })).not.toThrow();
      expect(() => tls.createSecureContext({ pfx, passphrase: 'Passwort' })).toThrow();
    }
  });

  it('refuses what it cannot pack, naming the problem', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    expect(() => toPkcs12Der(ec, leaf.certPem, [], '')).toThrow(/cannot build the PKCS#12: the key is ec \(RSA keys and certificates only\)/);
    expect(() => toPkcs12Der('not a key', leaf.certPem, [], '')).toThrow(/cannot build the PKCS#12/);
    expect(() => toPkcs12Der(leaf.keyPem, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', [], '')).toThrow(/cannot build the PKCS#12/);
    expect(() => toPkcs12Der(leaf.keyPem, leaf.certPem, [], '', { iterations: 0 })).toThrow(/iterations must be 1 to 10000000, not 0/);
    expect(() => toPkcs12Der(leaf.keyPem, leaf.certPem, [], '', { keyAlgorithm: 'rc2' as never })).toThrow(/key algorithm "rc2"/);
    expect(() => toPkcs12Der(leaf.keyPem, leaf.certPem, [], '', { fixed: { keySalt: Buffer.alloc(8), macSalt, iv } })).toThrow(/16 bytes each/);
  });
});

describe('pkcs12Kdf (RFC 7292 B.2, SHA-1)', () => {
  it.each([
    ['', 3, 20],
    ['', 1, 24],
    ['smeg', 2, 8],
    ['queeg', 1, 24],
    ['a password longer than one SHA-1 block of sixty-four bytes, to fill P twice', 1, 64],
  ] as const)('matches node-forge for password %j, id %i, %i bytes', (password, id, length) => {
    const salt = Buffer.from('0a58cf64530d823f', 'hex');
    const theirs = forge.pkcs12.generateKey(password, forge.util.createBuffer(salt.toString('binary')), id, 1000, length).getBytes();
    expect(pkcs12Kdf(password, salt, id, 1000, length).toString('hex')).toBe(Buffer.from(theirs, 'binary').toString('hex'));
  });

  it('matches the published vector for "smeg" (id 1, 1 iteration, 24 bytes)', () => {
    // From the PKCS#12 key-derivation test vectors used by OpenSSL and Bouncy Castle.
    const key = pkcs12Kdf('smeg', Buffer.from('0a58cf64530d823f', 'hex'), 1, 1, 24);
    expect(key.toString('hex').toUpperCase()).toBe('8AAAE6297B6CB04642AB5B077851284EB7128F1A2A7FBCA3');
  });
});

describe('sha1Repeat (the KDF\'s inner rounds in JavaScript)', () => {
  it('equals node:crypto\'s SHA-1 applied as often, from 0 to 2 048 rounds', () => {
    for (const times of [0, 1, 2, 3, 63, 64, 65, 1000, 2047, 2048]) {
      const start = randomBytes(20);
      let theirs = start;
      for (let n = 0; n < times; n++) theirs = hash('sha1', theirs, 'buffer');
      expect(sha1Repeat(start, times).toString('hex'), `${times} rounds`).toBe(theirs.toString('hex'));
    }
    // Digests with the high bits set (sign of the 32-bit words) and all zeros.
    for (const start of [Buffer.alloc(20, 0xff), Buffer.alloc(20, 0), Buffer.alloc(20, 0x80)]) {
      expect(sha1Repeat(start, 5).toString('hex')).toBe(hash('sha1', hash('sha1', hash('sha1', hash('sha1', hash('sha1', start, 'buffer'), 'buffer'), 'buffer'), 'buffer'), 'buffer').toString('hex'));
    }
  });

  it('refuses what is not a SHA-1 digest', () => {
    expect(() => sha1Repeat(Buffer.alloc(32), 1)).toThrow(/20-byte/);
  });
});
