/** The one MAC normaliser (src/shared/mac.ts), which the codec, the schemas, the CLI and the renderer all use. */
import { describe, expect, it } from 'vitest';
import { normalizeMac } from '../../src/shared/mac';
import { normalizeMac as codecNormalizeMac } from '../../src/main/wpi';
import { Mac } from '../../src/shared/schemas';
import * as v from 'valibot';

describe('normalizeMac', () => {
  it('accepts pairs with colons or dashes, dotted quads and bare hex, in any case, trimmed', () => {
    for (const s of ['00:1a:e8:1d:00:0a', '00-1A-E8-1D-00-0A', '001a.e81d.000a', '001AE81D000A', '001a.E81D.000A', '  00:1A:E8:1D:00:0A\n']) {
      expect(normalizeMac(s), JSON.stringify(s)).toBe('00:1A:E8:1D:00:0A');
    }
  });

  it('refuses mixed separators, short groups, wrong lengths, dots between pairs and non-hex', () => {
    for (const s of ['', '00:1A:E8:1D:00', '00:1A:E8:1D:00:0A:0B', '00:1A-E8:1D:00:0A', '0:1A:E8:1D:00:0A', '001a.e81d.000a.0000', '001a.e81d', '00.1A.E8.1D.00.0A',
      '001ae8.1d000a', '00:1A:E8:1D:00:0G', '00::1A:E8:1D:00:0A', '001AE81D000A0', 'xx', '00:1a:e8:1d:00:0a;drop']) {
      expect(normalizeMac(s), JSON.stringify(s)).toBeNull();
    }
  });

  it('is the codec\'s and the schemas\' normaliser', () => {
    expect(codecNormalizeMac).toBe(normalizeMac);
    expect(v.parse(Mac, '001a.e81d.000a')).toBe('00:1A:E8:1D:00:0A');
    const refused = v.safeParse(Mac, '00:1A-E8:1D:00:0A');
    expect(refused.success).toBe(false);
    expect(refused.issues?.[0].message).toBe('"00:1A-E8:1D:00:0A" is not a MAC address (e.g. 00:1A:E8:00:00:01)');
  });
});
