/**
 * retargetSecureModeData: the same secure-mode-data for another secure port (a bootstrap sent by a
 * service on another port than it was prepared with): same certificate, key, CA chain and password
 * (same PIN, same TAN), opened by the phone simulator's independent decoder; refused when the key
 * or PIN does not open it, or the container was altered.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildKeyedSecureModeDataAsync, packSecureModeData, pinPassword, retargetSecureModeData, SecureModeDataError, unpackSecureModeData } from '../../src/main/pki';
import { openSecureModeData } from '../../src/phone/secure-mode';
import { tempDirs } from '../support/tmp';
import { openPki } from './helpers';

const newDir = tempDirs();
const PIN = '12345678';
const PASSWORD = pinPassword(PIN);
const PEM = '-----BEGIN CERTIFICATE-----\nTUlJQi4uLg==\n-----END CERTIFICATE-----\n';

async function keyed(port: number) {
  const pki = await openPki(newDir());
  const credential = await pki.issueDeviceCertificate('00:1A:E8:00:18:02');
  return buildKeyedSecureModeDataAsync(credential, pki.caChainPems(), port, PIN, { iterations: 100_000 });
}

const header = (b64: string) => {
  const b = Buffer.from(b64, 'base64');
  return { iterations: b.readUInt32BE(6), salt: b.subarray(10, 26).toString('hex'), iv: b.subarray(26, 42).toString('hex') };
};

describe('retargetSecureModeData', () => {
  it('with the sealed master key: only the port changes; the PIN still opens it (the simulator\'s own decoder too)', async () => {
    const built = await keyed(18444);
    expect(built.master).toHaveLength(32);
    const out = retargetSecureModeData(built.value, 28444, { master: built.master! });
    expect(out.port).toBe(18444);
    const before = unpackSecureModeData(built.value, PASSWORD);
    const after = unpackSecureModeData(out.value, PASSWORD);
    expect(after.securePort).toBe(28444);
    expect(after.pkcs12.equals(before.pkcs12)).toBe(true);
    expect(after.caPems).toEqual(before.caPems);
    // Same salt and iterations (the key fits), a fresh IV.
    expect(header(out.value)).toMatchObject({ iterations: 100_000, salt: header(built.value).salt });
    expect(header(out.value).iv).not.toBe(header(built.value).iv);
    const phone = await openSecureModeData(Buffer.from(out.value, 'base64'), PASSWORD);
    expect(phone.securePort).toBe(28444);
    expect(() => unpackSecureModeData(out.value, pinPassword('99999678'))).toThrow(SecureModeDataError);
  });

  it('the same port: the container is sent as it is', async () => {
    const built = await keyed(18444);
    expect(retargetSecureModeData(built.value, 18444, { master: built.master! })).toEqual({ value: built.value, port: 18444 });
  });

  it('with the PIN instead of the key (a job sealed before the key was kept): same result', () => {
    const value = packSecureModeData({ pkcs12: Buffer.from([0x30, 0x03, 0x02, 0x01, 0x03]), caPems: [PEM], securePort: 18444 }, PASSWORD, { iterations: 100_000 });
    const out = retargetSecureModeData(value, 443, { password: PASSWORD });
    expect(unpackSecureModeData(out.value, PASSWORD)).toMatchObject({ securePort: 443, caPems: [PEM] });
  });

  it('refuses what it cannot open or check: another key, another PIN, no key, an altered container, not base64, not a port', async () => {
    const built = await keyed(18444);
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof SecureModeDataError ? e.code : (e as Error).message;
      }
      return 'no error';
    };
    expect(code(() => retargetSecureModeData(built.value, 28444, { master: randomBytes(32) }))).toBe('wrong-password');
    expect(code(() => retargetSecureModeData(built.value, 28444, { password: pinPassword('87654321') }))).toBe('wrong-password');
    expect(code(() => retargetSecureModeData(built.value, 28444, {}))).toBe('wrong-password');
    const altered = Buffer.from(built.value, 'base64');
    altered[60]! ^= 1;
    expect(code(() => retargetSecureModeData(altered.toString('base64'), 28444, { master: built.master! }))).toBe('wrong-password');
    expect(code(() => retargetSecureModeData('not base64!', 28444, { master: built.master! }))).toBe('malformed');
    expect(code(() => retargetSecureModeData(Buffer.from('LDSM\x01\x01 truncated').toString('base64'), 28444, { master: built.master! }))).toBe('malformed');
    expect(code(() => retargetSecureModeData(Buffer.from('XXXX').toString('base64'), 28444, { password: PASSWORD }))).toBe('unsupported');
    expect(code(() => retargetSecureModeData(built.value, 70000, { master: built.master! }))).toBe('secure port 70000 is not a TCP port');
  });
});
