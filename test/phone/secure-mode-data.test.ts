/**
 * The simulator's own reading of the bootstrapping containers: secure-mode-data (localdls-1,
 * docs/secure-mode-data.md) decoded with node:crypto alone, the bootstrapping items, the PIN sheet.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import forge from 'node-forge';
import { describe, expect, it } from 'vitest';
import { buildSecureModeData } from '../../src/main/pki';
import {
  containerProblem,
  decodeBase64,
  openSecureModeData,
  parseBootstrap,
  parsePinSheet,
  pinPasswordOf,
  SecureModeDataError,
  tanOfPin,
  wrongPins,
  wrongTan,
} from '../../src/phone';

const DOC = readFileSync(fileURLToPath(new URL('../../docs/secure-mode-data.md', import.meta.url)), 'utf8');

/** The worked example's item value: the base64 block after "The item value (`secure-mode-data`), base64". */
function docExample(): Buffer {
  const at = DOC.indexOf('The item value (`secure-mode-data`), base64');
  expect(at).toBeGreaterThan(0);
  const block = /```text\n([\s\S]*?)```/.exec(DOC.slice(at))![1]!;
  return decodeBase64(block)!;
}

async function problem(bytes: Buffer, password: string): Promise<SecureModeDataError> {
  try {
    await openSecureModeData(bytes, password);
  } catch (e) {
    expect(e).toBeInstanceOf(SecureModeDataError);
    return e as SecureModeDataError;
  }
  throw new Error('opened');
}

describe('secure-mode-data (localdls-1) as the document describes it', () => {
  it('opens the worked example of docs/secure-mode-data.md with PIN 12345678 (password 12345, TAN 678)', async () => {
    const bytes = docExample();
    expect(bytes).toHaveLength(250);
    expect(containerProblem(bytes)).toBeUndefined();
    expect(pinPasswordOf('12345678')).toBe('12345');
    expect(tanOfPin('12345678')).toBe('678');
    const data = await openSecureModeData(bytes, pinPasswordOf('12345678'));
    expect(data.securePort).toBe(18444);
    expect(data.caPems).toEqual(['-----BEGIN CERTIFICATE-----\nTUlJQi4uLg==\n-----END CERTIFICATE-----\n']);
    expect(data.pkcs12.toString('base64')).toBe('MAMCAQM=');
    // The TAN is not in the data: any last 3 digits open it.
    expect((await openSecureModeData(bytes, pinPasswordOf('12345000'))).securePort).toBe(18444);
  });

  it('a wrong PIN fails the HMAC check; so does any changed byte', async () => {
    const bytes = docExample();
    expect((await problem(bytes, pinPasswordOf('12346678'))).code).toBe('wrong-password');
    expect((await problem(bytes, '')).code).toBe('wrong-password');
    for (const at of [9, 20, 30, 60, bytes.length - 1]) {
      const changed = Buffer.from(bytes);
      changed[at] ^= 0x01;
      // Bytes 6-9 are the iteration count: changed, they derive other keys, and the tag fails too.
      expect((await problem(changed, '12345')).code, `byte ${at}`).toBe('wrong-password');
    }
  });

  it('refuses what it cannot read before trying a PIN: truncated, other magic, other key derivation, absurd iteration counts', async () => {
    const bytes = docExample();
    expect(containerProblem(bytes.subarray(0, 89))).toMatch(/truncated or damaged \(89 bytes\)/);
    expect(containerProblem(bytes.subarray(0, 249))).toMatch(/truncated/);
    const magic = Buffer.from(bytes);
    magic.write('XDSM', 0, 'latin1');
    expect(containerProblem(magic)).toMatch(/not in a format this phone knows/);
    expect((await problem(magic, '12345')).code).toBe('unsupported');
    const kdf = Buffer.from(bytes);
    kdf[5] = 2;
    expect(containerProblem(kdf)).toMatch(/unknown key derivation \(2\)/);
    const many = Buffer.from(bytes);
    many.writeUInt32BE(10_000_001, 6);
    expect(containerProblem(many)).toMatch(/asks for 10000001 PBKDF2 iterations/);
    expect((await problem(many, '12345')).code).toBe('malformed');
  });

  it("opens what LocalDLS's encoder writes (the two implementations agree)", async () => {
    // buildSecureModeData needs a real key and certificate to make the PKCS#12.
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const key = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
    const cert = forge.pki.createCertificate();
    cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
    cert.serialNumber = '01';
    cert.validity.notBefore = new Date(Date.now() - 60_000);
    cert.validity.notAfter = new Date(Date.now() + 3600_000);
    cert.setSubject([{ name: 'commonName', value: 'x' }]);
    cert.setIssuer([{ name: 'commonName', value: 'x' }]);
    cert.sign(key, forge.md.sha256.create());
    const certPem = forge.pki.certificateToPem(cert);
    const value = buildSecureModeData({ keyPem, certPem }, [certPem], 18555, '7654321098');
    const data = await openSecureModeData(decodeBase64(value)!, pinPasswordOf('7654321098'));
    expect(data.securePort).toBe(18555);
    expect(data.caPems).toEqual([certPem]);
    expect(data.pkcs12.length).toBeGreaterThan(1000);
    expect((await problem(decodeBase64(value)!, pinPasswordOf('7654320098'))).message).toBe('secure-mode-data does not open with this PIN (wrong PIN?)');
  });
});

describe('bootstrapping items', () => {
  it('reads strict base64 only', () => {
    expect(decodeBase64('TWFu')?.toString()).toBe('Man');
    expect(decodeBase64('TW\nFu')?.toString()).toBe('Man');
    for (const bad of ['', 'TWF', 'TW=u', 'T*Fu', 'TWFu===']) expect(decodeBase64(bad), bad).toBeUndefined();
  });

  it('pin: max-pin-retries defaults to 3 when absent (the manual example)', () => {
    const value = docExample().toString('base64');
    expect(parseBootstrap([{ name: 'goto-secure-mode', value: 'pin' }, { name: 'secure-mode-data', value }])).toMatchObject({ variant: 'pin', maxPinRetries: 3 });
    expect(parseBootstrap([{ name: 'goto-secure-mode', value: 'pin' }, { name: 'secure-mode-data', value }, { name: 'max-pin-retries', value: ' 0 ' }])).toMatchObject({ maxPinRetries: 0 });
  });
});

describe('simulated users', () => {
  it('wrong PINs differ from the right one in the password part; a wrong TAN differs from the TAN', () => {
    const pins = wrongPins('12345678', 12);
    expect(pins).toHaveLength(12);
    for (const p of pins) {
      expect(p).toHaveLength(8);
      expect(pinPasswordOf(p)).not.toBe('12345');
      expect(tanOfPin(p)).toBe('678');
    }
    expect(new Set(pins.slice(0, 9)).size).toBe(9);
    expect(wrongPins('12345678', 0)).toEqual([]);
    expect(wrongTan('678')).toBe('789');
    expect(wrongTan('999')).toBe('000');
  });
});

describe('PIN sheet (localdls bootstrap --sheet pins.csv)', () => {
  it('reads mac,e164,pin with any MAC spelling, CRLF, a BOM, quotes and extra columns; empty PIN = no PIN', () => {
    const text = '\uFEFFmac,e164,pin,note\r\n00:1a:e8:00:00:01,4989001,12345678,first\r\n001AE8000002,,"87654321","a, b"\r\n00-1A-E8-00-00-03,4989003,,\r\n\r\n';
    expect([...parsePinSheet(text)]).toEqual([
      ['00:1A:E8:00:00:01', '12345678'],
      ['00:1A:E8:00:00:02', '87654321'],
    ]);
    expect([...parsePinSheet('pin,mac\n112233445,00:1A:E8:00:00:09\n')]).toEqual([['00:1A:E8:00:00:09', '112233445']]);
  });

  it.each([
    ['', /the file is empty/],
    ['mac,e164\n00:1A:E8:00:00:01,1\n', /line 1: the header must name the columns mac and pin/],
    ['mac,e164,pin\nzz,1,12345678\n', /line 2: "zz" is not a MAC address/],
    ['mac,e164,pin\n00:1A:E8:00:00:01\n', /line 2: 1 column\(s\), the header has 3/],
    ['mac,e164,pin\n00:1A:E8:00:00:01,,12345678\n00-1a-e8-00-00-01,,12345678\n', /line 3: 00:1A:E8:00:00:01 is listed twice/],
    ['mac,e164,pin\n00:1A:E8:00:00:01,,12a45678\n', /line 2: a PIN is 4 to 16 digits \(the last 3 are the TAN\), not "12a45678"/],
    ['mac,e164,pin\n00:1A:E8:00:00:01,,"123\n', /line 2: a quoted cell is not closed/],
  ])('refuses %j', (text, message) => {
    expect(() => parsePinSheet(text)).toThrow(message);
  });
});
