import { describe, expect, it } from 'vitest';
import { buildSecureModeData, buildSecureModeDataAsync, pinPassword, unpackSecureModeData } from '../../src/main/pki';
import { tempDirs } from '../support/tmp';
import { openPki } from './helpers';

const newDir = tempDirs();

describe('buildSecureModeDataAsync', () => {
  it('makes the same container as buildSecureModeData, without blocking the event loop for the key derivation', async () => {
    const pki = await openPki(newDir());
    const cred = await pki.issueDeviceCertificate('00:1A:E8:00:00:09');
    const fixed = { salt: Buffer.alloc(16, 1), iv: Buffer.alloc(16, 2) };
    // The PKCS#12 inside is made anew each time (random salts), so compare what the phone opens.
    const sync = unpackSecureModeData(buildSecureModeData(cred, pki.caChainPems(), 18444, '12345678', fixed), '12345');
    const ticks: number[] = [];
    const ticker = setInterval(() => ticks.push(performance.now()), 5);
    const data = await buildSecureModeDataAsync(cred, pki.caChainPems(), 18444, '12345678', { ...fixed, iterations: 2_000_000 });
    clearInterval(ticker);
    // 2 000 000 PBKDF2 iterations take a second or more: the timer kept firing meanwhile.
    expect(ticks.length).toBeGreaterThan(10);
    const header = Buffer.from(data, 'base64');
    expect(header.readUInt32BE(6)).toBe(2_000_000);
    expect(header.subarray(10, 26)).toEqual(fixed.salt);
    const inside = unpackSecureModeData(data, pinPassword('12345678'));
    expect(inside.securePort).toBe(18444);
    expect(inside.caPems).toEqual(sync.caPems);
    expect(() => unpackSecureModeData(data, '12346')).toThrow(/wrong PIN/);
  }, 60_000);

  it('checks the PIN and the parameters as buildSecureModeData does', async () => {
    const pem = { keyPem: '', certPem: '' };
    await expect(buildSecureModeDataAsync(pem, ['x'], 18444, '12a45678')).rejects.toThrow(/only the digits/);
  });
});
