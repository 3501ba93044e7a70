import { describe, expect, it } from 'vitest';
import { colonHex, option43, plainHex, sdlpUrl } from '../../src/renderer/src/lib/option43';
import { hex } from './fake-api';

describe('DHCP option 43', () => {
  it('encodes sub-option 1 "Siemens" and sub-option 3 sdlp://host:port as tag, length, value', () => {
    const o = option43('192.168.2.19', 18443);
    expect(o.url).toBe('sdlp://192.168.2.19:18443');
    // 01 07 "Siemens" 03 19 "sdlp://192.168.2.19:18443"
    expect(plainHex(o.bytes)).toBe(`0107${hex('Siemens')}0319${hex('sdlp://192.168.2.19:18443')}`);
    expect(colonHex(o.bytes).startsWith('01:07:53:69:65:6d:65:6e:73:03:19:73:64:6c:70')).toBe(true);
    expect(o.subOptions.map((s) => [s.tag, s.bytes[1]])).toEqual([[1, 7], [3, 25]]);
  });

  it('brackets IPv6 addresses in the URL', () => {
    expect(sdlpUrl('fd00::2', 18443)).toBe('sdlp://[fd00::2]:18443');
  });

  it('refuses a sub-option longer than 255 bytes', () => {
    expect(() => option43('x'.repeat(300), 18443)).toThrow(/255/);
  });
});
