/**
 * What the fuzzer found, kept as regression tests: the minimal input of each finding, and the
 * fuzz cases themselves (seed + case id) as they were reported.
 */
import { describe, expect, it } from 'vitest';
import { buildDLSMessage, buildWorkpointMessage, parseDLSMessage, parseWorkpointMessage, WpiError } from '../../src/main/wpi';
import { buildCorpus } from './fuzz/corpus';
import { CaseMaker } from './fuzz/mutate';
import { checkParser, MAX_REASON_CHARS } from './fuzz/oracle';

function refusal(input: string | Buffer): WpiError {
  try {
    parseWorkpointMessage(input);
  } catch (err) {
    if (err instanceof WpiError) return err;
    throw err;
  }
  throw new Error('accepted');
}

const wpm = (inner: string, attrs = '') => `<WorkpointMessage><Message nonce="ABC"${attrs}>${inner}</Message></WorkpointMessage>`;

describe('fuzz findings', () => {
  it('refuses hostile nesting with a short reason, not with the validator’s dump of every open tag', () => {
    // Was a 682,712-character "one line": the validator lists the whole stack of open tags.
    const deep = refusal('<a>'.repeat(85_000));
    expect(deep.code).toBe('too-deep');
    expect(deep.message.length).toBeLessThanOrEqual(MAX_REASON_CHARS);
    // Was 256,055 characters: the validator quotes the offending "tag" whole.
    expect(refusal('<'.repeat(256_000)).message.length).toBeLessThanOrEqual(MAX_REASON_CHARS);
    expect(refusal(`<a></${'b'.repeat(256_000)}>`).message.length).toBeLessThanOrEqual(MAX_REASON_CHARS);
    expect(refusal(`<a>${'<b x="1">'.repeat(20_000)}`).message).not.toMatch(/[\r\n]/);
  });

  it('writes a carriage return as a reference, so a value survives build and parse (was turned into a line feed)', () => {
    const m = parseWorkpointMessage(wpm('<ReasonForContact>status</ReasonForContact><ItemList><Item name="a">V3 R5.1&#13;2.0</Item></ItemList>'));
    expect(m.items[0]!.value).toBe('V3 R5.1\r2.0');
    expect(parseWorkpointMessage(buildWorkpointMessage(m))).toEqual(m);
    const out = buildDLSMessage({ nonce: 'ABC', action: 'WriteItems', items: [{ name: 'a', value: 'x\r\ny' }] });
    expect(out).toContain('x&#13;\ny');
    expect(parseDLSMessage(out).items[0]!.value).toBe('x\r\ny');
  });

  it('refuses references to non-characters (were lone surrogates and NULs in stored values and reasons)', () => {
    // XML 1.0 §4.1: a character reference must name a Char; the message is not well-formed.
    for (const ref of ['&#xD800;', '&#xDFFF;', '&#0;', '&#x1F;', '&#xFFFF;', '&#x110000;']) {
      const err = refusal(wpm(`<ReasonForContact>status</ReasonForContact><ItemList><Item name="a">x${ref}</Item></ItemList>`));
      expect(err.code, ref).toBe('not-xml');
      expect(err.message.length).toBeLessThan(200);
    }
    // Real characters are still resolved.
    expect(parseWorkpointMessage(wpm('<ReasonForContact>status</ReasonForContact><ItemList><Item name="a">&#9;x&#x1F600;&#xE000;</Item></ItemList>')).items[0]!.value).toBe('x😀\ue000');
    // The service's answer to reason "re&#xD800;…" was a reason with U+FFFD where the codec had lone surrogates.
    const reason = refusal(wpm(`<ReasonForContact>re${'&#xD800;'.repeat(10)}</ReasonForContact>`)).message;
    expect(reason).toMatch(/^not well-formed XML: /);
    expect(Buffer.from(reason, 'utf8').toString('utf8')).toBe(reason);
  });

  it('never cuts a surrogate pair when it clips a quoted value', () => {
    const reason = refusal(wpm(`<ReasonForContact>${'x'.repeat(39)}😀😀</ReasonForContact>`)).message;
    expect(reason).toBe(`unknown ReasonForContact "${'x'.repeat(39)}…"`);
    expect(Buffer.from(reason, 'utf8').toString('utf8')).toBe(reason);
  });

  it('quotes an item name in a refusal clipped to one short line (was the whole name, newlines and all)', () => {
    const name = `funct\nion-${'k'.repeat(100_000)}`;
    const err = refusal(wpm(`<ReasonForContact>status</ReasonForContact><ItemList><Item name="${name}" index="x">1</Item></ItemList>`));
    expect(err.code).toBe('bad-index');
    expect(err.message).toBe(`index of funct ion-${'k'.repeat(30)}… must be an integer >= 0, not "x"`);
  });

  it('accepts maxItems="-0" as 0 (crashed the harness’s round-trip comparison)', () => {
    const m = parseWorkpointMessage(wpm('<ReasonForContact>start-up</ReasonForContact>', ' maxItems="-0"'));
    expect(m.maxItems === 0).toBe(true);
    expect(checkParser(Buffer.from(wpm('<ReasonForContact>start-up</ReasonForContact>', ' maxItems="-0"'))).ok).toBe(true);
  });

  // The cases as the fuzzer reported them (they stay valid inputs even if the generator changes).
  it.each([
    [0xc0ffee01, 'p', 558819],
    [1, 'p', 5388],
    [1, 'p', 17502],
    [1, 's', 688],
    [0xc0ffee01, 'p', 836930],
  ] as const)('seed %i case %s#%i holds the invariants', (seed, stream, index) => {
    const c = new CaseMaker(buildCorpus(), seed, stream === 's' ? { http: true } : {}).make(stream, index);
    expect(() => checkParser(c.bytes)).not.toThrow();
  });
});
