/** The upstream client's input rules (the network behaviour is in relay.test.ts). */
import { describe, expect, it } from 'vitest';
import { normalizeFingerprint, parseUpstreamUrl, UpstreamClient } from '../../src/main/net/upstream-client';

const HEX = 'a8632' + '5dd12f6c5c8986cfe90e30e51d87beef4776ccb59f9d4dbb253aa556200';
const CANON = HEX.toUpperCase().match(/../g)!.join(':');

describe('upstream fingerprints', () => {
  it('accepts the usual spellings of a SHA-256 fingerprint', () => {
    for (const raw of [HEX, CANON, CANON.toLowerCase(), `SHA256:${HEX}`, `sha256/${CANON}`, `  ${HEX}\n`, HEX.replace(/(..)/g, '$1-').slice(0, -1)]) {
      expect(normalizeFingerprint(raw), raw).toBe(CANON);
    }
  });

  it('refuses what is not 32 bytes of hex (SHA-1, truncated, not hex)', () => {
    for (const raw of ['', 'AB:CD', HEX.slice(0, 40), `${HEX}00`, HEX.replace('a', 'g'), 'sha1:' + HEX.slice(0, 40)]) expect(normalizeFingerprint(raw), raw).toBeNull();
  });
});

describe('upstream URL', () => {
  it('takes https://HOST:PORT (IPv6 too) and refuses the rest with the reason', () => {
    expect(parseUpstreamUrl('https://10.1.2.3:18443').host).toBe('10.1.2.3:18443');
    expect(parseUpstreamUrl('https://[fd00::5]:18443/').hostname).toBe('[fd00::5]');
    expect(() => parseUpstreamUrl('10.1.2.3:18443')).toThrow(/must be an https:\/\/ URL|not a URL/);
    expect(() => parseUpstreamUrl('https://user:pw@10.1.2.3')).toThrow(/user name or password/);
    expect(() => parseUpstreamUrl('https://10.1.2.3/?a=1')).toThrow(/query or fragment/);
    expect(() => parseUpstreamUrl('https://10.1.2.3:18443/DeploymentService/LoginService')).toThrow(/must not have a path/);
    expect(() => parseUpstreamUrl('not a url')).toThrow(/is not a URL; write it as https:\/\/HOST:PORT/);
  });

  it('refuses limits that make no sense, naming them', () => {
    expect(() => new UpstreamClient({ url: 'https://10.1.2.3', trust: {}, timeoutMs: 0 })).toThrow(/upstream timeoutMs must be a whole number of at least 1/);
  });
});
