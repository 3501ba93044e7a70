import { createDecipheriv, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SECURE_MODE_DATA_FORMAT,
  SecureModeDataError,
  buildSecureModeData,
  packSecureModeData,
  pinPassword,
  registerSecureModeDataFormat,
  secureModeDataFormats,
  toPkcs12Der,
  unpackSecureModeData,
} from '../../src/main/pki';
import { tempDirs } from '../support/tmp';
import { openPki } from './helpers';
import { BEGIN_MARK, END_MARK, EXAMPLE, workedExample, workedExampleBase64 } from './secure-mode-data-example';

const newDir = tempDirs();
const DOC = fileURLToPath(new URL('../../docs/secure-mode-data.md', import.meta.url));
const PEM = '-----BEGIN CERTIFICATE-----\nTUlJQi4uLg==\n-----END CERTIFICATE-----\n';
const FAST = { iterations: 100_000 };

/**
 * A decoder written from docs/secure-mode-data.md alone, with node:crypto only (as the phone
 * simulator does): no import from src/, no node-forge. Returns null when the tag does not verify.
 */
function independentDecode(base64: string, password: string): { type: string; version: number; securePort: number; caPems: string[]; pkcs12: string } | null {
  const b = Buffer.from(base64, 'base64');
  if (b.subarray(0, 4).toString('latin1') !== 'LDSM' || b[4] !== 1 || b[5] !== 1) throw new Error('not format 1');
  const iterations = b.readUInt32BE(6);
  const salt = b.subarray(10, 26);
  const iv = b.subarray(26, 42);
  const tag = b.subarray(b.length - 32);
  const master = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
  const encKey = createHmac('sha256', master).update('LocalDLS secure-mode-data encryption').digest();
  const macKey = createHmac('sha256', master).update('LocalDLS secure-mode-data authentication').digest();
  if (!timingSafeEqual(createHmac('sha256', macKey).update(b.subarray(0, b.length - 32)).digest(), tag)) return null;
  const d = createDecipheriv('aes-256-cbc', encKey, iv);
  const plain = Buffer.concat([d.update(b.subarray(42, b.length - 32)), d.final()]);
  return JSON.parse(plain.toString('utf8'));
}

describe('secure-mode-data (format localdls-1)', () => {
  it('round-trips, and a wrong password fails with a clear error', () => {
    const contents = { pkcs12: Buffer.from('pkcs12 bytes'), caPems: [PEM, PEM], securePort: 18444 };
    const data = packSecureModeData(contents, '12345', FAST);
    expect(data).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(unpackSecureModeData(data, '12345')).toEqual(contents);
    let err: unknown;
    try {
      unpackSecureModeData(data, '12346');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SecureModeDataError);
    expect((err as SecureModeDataError).code).toBe('wrong-password');
    expect((err as Error).message).toBe('secure-mode-data does not open with this password (wrong PIN?)');
  });

  it('uses a fresh salt and IV each time and the default of 200 000 iterations', () => {
    const contents = { pkcs12: Buffer.from([1]), caPems: [PEM], securePort: 18444 };
    const a = Buffer.from(packSecureModeData(contents, 'pw1'), 'base64');
    const b = Buffer.from(packSecureModeData(contents, 'pw1'), 'base64');
    expect(a.readUInt32BE(6)).toBe(200_000);
    expect(a.subarray(10, 26).equals(b.subarray(10, 26))).toBe(false);
    expect(a.subarray(26, 42).equals(b.subarray(26, 42))).toBe(false);
  });

  it('is decoded by an independent node:crypto implementation of the document', async () => {
    const pki = await openPki(newDir());
    const cred = await pki.issueDeviceCertificate('00:1A:E8:00:00:07');
    const pin = '90817263';
    const data = buildSecureModeData(cred, pki.caChainPems(), 18444, pin, FAST);
    const inner = independentDecode(data, '90817'); // PIN minus its last 3 digits
    expect(inner).not.toBeNull();
    expect(inner?.type).toBe('localdls-secure-mode-data');
    expect(inner?.version).toBe(1);
    expect(inner?.securePort).toBe(18444);
    expect(inner?.caPems).toEqual(pki.caChainPems());
    // the inner PKCS#12 has the empty password and is accepted by Node's TLS stack on its own
    const pfx = Buffer.from(inner?.pkcs12 ?? '', 'base64');
    expect(() => tls.createSecureContext({ pfx })).not.toThrow();
    expect(() => tls.createSecureContext({ pfx, passphrase: '' })).not.toThrow();
    expect(independentDecode(data, pinPassword('90818263'))).toBeNull();
  });

  it('matches the worked example in docs/secure-mode-data.md byte for byte', () => {
    const doc = readFileSync(DOC, 'utf8').replace(/\r\n/g, '\n');
    const start = doc.indexOf(BEGIN_MARK);
    const end = doc.indexOf(END_MARK);
    expect(start, 'worked example markers in docs/secure-mode-data.md').toBeGreaterThanOrEqual(0);
    expect(doc.slice(start, end + END_MARK.length), 'regenerate with: npx tsx test/pki/secure-mode-data-example.ts').toBe(workedExample());
    const inner = independentDecode(workedExampleBase64(), '12345');
    expect(inner).toEqual({ type: 'localdls-secure-mode-data', version: 1, securePort: 18444, caPems: EXAMPLE.caPems, pkcs12: 'MAMCAQM=' });
    // the example's base64, as printed, decodes too (line breaks removed)
    const printed = doc.slice(doc.lastIndexOf('```text', end) + 7, doc.lastIndexOf('```', end)).replace(/\s+/g, '');
    expect(printed).toBe(workedExampleBase64());
    expect(unpackSecureModeData(printed, '12345').securePort).toBe(18444);
  });

  it('reports damaged, truncated, foreign and non-base64 data distinctly', () => {
    const data = packSecureModeData({ pkcs12: Buffer.from([1, 2]), caPems: [PEM], securePort: 18444 }, 'pw', FAST);
    const bytes = Buffer.from(data, 'base64');
    const flipped = Buffer.from(bytes);
    flipped[50] = (flipped[50] as number) ^ 0x01;
    expect(() => unpackSecureModeData(flipped.toString('base64'), 'pw')).toThrow(/wrong PIN/);
    const code = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return (e as SecureModeDataError).code;
      }
      return undefined;
    };
    expect(code(() => unpackSecureModeData(bytes.subarray(0, 60).toString('base64'), 'pw'))).toBe('malformed');
    expect(code(() => unpackSecureModeData(Buffer.from('PKCS#12 or something else entirely').toString('base64'), 'pw'))).toBe('unsupported');
    expect(code(() => unpackSecureModeData('not base64 at all!', 'pw'))).toBe('malformed');
  });

  it('refuses weak or malformed input when packing', () => {
    const ok = { pkcs12: Buffer.from([1]), caPems: [PEM], securePort: 18444 };
    expect(() => packSecureModeData(ok, 'pw', { iterations: 99_999 })).toThrow(/100000 to 10000000 PBKDF2 iterations/);
    expect(() => packSecureModeData(ok, '')).toThrow(/password is empty/);
    expect(() => packSecureModeData({ ...ok, securePort: 70000 }, 'pw')).toThrow(/not a TCP port/);
    expect(() => packSecureModeData({ ...ok, caPems: [] }, 'pw')).toThrow(/at least one CA certificate/);
    expect(() => packSecureModeData({ ...ok, pkcs12: Buffer.alloc(0) }, 'pw')).toThrow(/PKCS#12/);
    expect(() => packSecureModeData(ok, 'pw', { format: 'openscape-real' })).toThrow(/unknown secure-mode-data format "openscape-real"/);
    expect(() => buildSecureModeData({ keyPem: '', certPem: '' }, [PEM], 18444, '12a45678')).toThrow(/only the digits/);
  });

  it('lets another format be registered and recognised by its header', () => {
    expect(DEFAULT_SECURE_MODE_DATA_FORMAT).toBe('localdls-1');
    registerSecureModeDataFormat({
      name: 'test-plain',
      description: 'unencrypted, for this test only',
      recognizes: (b) => b.subarray(0, 4).toString('latin1') === 'TEST',
      pack: (c) => Buffer.concat([Buffer.from('TEST'), Buffer.from(JSON.stringify({ p: c.securePort, c: c.caPems, k: c.pkcs12.toString('hex') }))]),
      unpack: (b) => {
        const v = JSON.parse(b.subarray(4).toString());
        return { securePort: v.p, caPems: v.c, pkcs12: Buffer.from(v.k, 'hex') };
      },
    });
    expect(secureModeDataFormats()).toEqual(['localdls-1', 'test-plain']);
    const contents = { pkcs12: Buffer.from([9, 9]), caPems: [PEM], securePort: 4443 };
    const data = packSecureModeData(contents, 'pw', { format: 'test-plain' });
    expect(unpackSecureModeData(data, 'pw')).toEqual(contents);
    expect(unpackSecureModeData(packSecureModeData(contents, 'pw', FAST), 'pw')).toEqual(contents);
  });

  it('carries a PKCS#12 that toPkcs12Der made with the empty password', async () => {
    const pki = await openPki(newDir());
    const cred = await pki.issueDeviceCertificate('00:1A:E8:00:00:08');
    const pkcs12 = toPkcs12Der(cred.keyPem, cred.certPem, pki.caChainPems(), '');
    const back = unpackSecureModeData(packSecureModeData({ pkcs12, caPems: pki.caChainPems(), securePort: 18444 }, 'abcde', FAST), 'abcde');
    expect(back.pkcs12.equals(pkcs12)).toBe(true);
  });
});
