/**
 * Item values go into a DLSMessage: a character XML 1.0 cannot carry would make a message no phone
 * can read (the simulator's own codec found the service writing them), so they are refused at input.
 */
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { buildDLSMessage, parseDLSMessage } from '../../src/main/wpi';
import { ItemValueSchema } from '../../src/shared/schemas';

describe('item values', () => {
  it('refuses control characters and lone surrogates, naming the character', () => {
    for (const [value, code] of [['a\u0001b', '0001'], ['x\u001f', '001F'], ['\ud800', 'D800'], ['\udc00z', 'DC00'], ['\uffff', 'FFFF']] as const) {
      const r = v.safeParse(ItemValueSchema, { name: 'e164', value });
      expect(r.success, value).toBe(false);
      expect(r.issues?.[0]?.message).toBe(`holds a character XML cannot carry (U+${code}): a phone could not read the message`);
    }
  });

  it('takes tabs, line breaks, non-Latin text and astral characters, and they survive the codec', () => {
    for (const value of ['a\tb', 'line 1\nline 2\r\n', 'Grüße 東京', 'emoji 📞', '']) {
      const r = v.safeParse(ItemValueSchema, { name: 'display-id', value });
      expect(r.success, JSON.stringify(value)).toBe(true);
      const round = parseDLSMessage(buildDLSMessage({ nonce: 'N1', action: 'WriteItems', items: [{ name: 'display-id', value: value.trim() }] }));
      expect(round.items[0]?.value.replace(/\r\n?/g, '\n')).toBe(value.trim().replace(/\r\n?/g, '\n'));
    }
  });
});
