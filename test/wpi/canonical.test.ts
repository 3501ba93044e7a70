/**
 * The one-scan path (src/main/wpi/canonical.ts) against the general parse: it reads what phones
 * write, gives the very same message, and leaves everything else to the general path. The fuzz
 * oracle (test/hardening/fuzz/oracle.ts checkCanonicalPath) compares the two on every fuzz case.
 */
import { describe, expect, it } from 'vitest';
import { parseWorkpointMessage } from '../../src/main/wpi';
import { parseCanonicalWorkpointMessage } from '../../src/main/wpi/canonical';
import { parseGeneralWorkpointMessage } from '../../src/main/wpi/parse';
import { buildCorpus } from '../hardening/fuzz/corpus';
import { checkCanonicalPath, Violation } from '../hardening/fuzz/oracle';
import { NONCE_HEX32, wpm } from './helpers';

const REASON = '<ReasonForContact status="accepted" action="ReadAllItems">reply-to</ReasonForContact>';

/** Both paths on one text: the one-scan result (null = not taken) and the general one. */
function both(text: string) {
  const fast = parseCanonicalWorkpointMessage(text);
  let general: unknown;
  try {
    general = parseGeneralWorkpointMessage(text);
  } catch (e) {
    general = { refused: (e as Error).message };
  }
  return { fast, general };
}

describe('the one-scan path for WorkpointMessage', () => {
  it('reads every message the simulated phones send, exactly as the general path does', () => {
    const corpus = buildCorpus();
    expect(corpus.length).toBeGreaterThan(30);
    for (const seed of corpus) {
      const text = seed.bytes.toString('utf8');
      const fast = parseCanonicalWorkpointMessage(text);
      expect(fast, seed.label).not.toBeNull();
      // Same fields in the same order: the replay check hashes the message as JSON.
      expect(JSON.stringify(fast)).toBe(JSON.stringify(parseGeneralWorkpointMessage(text)));
    }
  });

  it('reads the manual-style variants: entities, single quotes, spaces around =, self-closed lists, no declaration', () => {
    const texts = [
      wpm(`${REASON}\n<ItemList>\n<Item name="a &amp; b" index=" 3 " status=" ok ">x &lt;y&gt; &quot;z&quot; &apos;</Item>\n<Item name='q'  />\n</ItemList>`),
      wpm(`<ReasonForContact status='busy' action = "WriteItems" >reply-to</ReasonForContact ><ItemList/>`, `nonce = '${NONCE_HEX32}' maxItems="-1" fragment=" final "`),
      `<WorkpointMessage><Message nonce="A1"><ReasonForContact>start-up</ReasonForContact></Message></WorkpointMessage>`,
      wpm(`${REASON}<ItemList><Item name="tab\tand\nline">  spaced  value  </Item></ItemList>`),
    ];
    for (const text of texts) {
      const { fast, general } = both(text);
      expect(fast).not.toBeNull();
      expect(JSON.stringify(fast)).toBe(JSON.stringify(general));
    }
    expect(parseCanonicalWorkpointMessage(texts[3]!)!.items[0]).toEqual({ name: 'tab and line', value: 'spaced  value' });
  });

  it('leaves to the general path whatever it cannot prove well-formed or would refuse, which then reads or refuses it as before', () => {
    const item = (inner: string) => wpm(`${REASON}<ItemList>${inner}</ItemList>`);
    const cases: [string, string][] = [
      ['a character reference', item('<Item name="a">&#65;</Item>')],
      ['an unknown entity', item('<Item name="a">&nbsp;</Item>')],
      ['a bare ampersand', item('<Item name="a">a & b</Item>')],
      ['CDATA', item('<Item name="a"><![CDATA[x]]></Item>')],
      ['a comment', item('<!-- c --><Item name="a">x</Item>')],
      ['a carriage return', item('<Item name="a">x\r\ny</Item>')],
      ['a control character', item('<Item name="a">x\u0001</Item>')],
      ['a lone surrogate', item('<Item name="a">x\ud800</Item>')],
      [']]> in text', item('<Item name="a">x]]>y</Item>')],
      ['a duplicate attribute', item('<Item name="a" name="b">x</Item>')],
      ['a prefixed attribute on an Item', item('<Item p:name="a">x</Item>')],
      ['a prefixed element', item('<dls:Item name="a">x</dls:Item>')],
      ['a child element in an Item', item('<Item name="a"><b/></Item>')],
      ['an unknown element', item('<Foo/><Item name="a">x</Item>')],
      ['a mismatched end tag', item('<Item name="a">x</Iten>')],
      ['an unquoted value', item('<Item name=a>x</Item>')],
      ['attributes without space between', item('<Item name="a"index="1">x</Item>')],
      ['an Item without a name', item('<Item>x</Item>')],
      ['a negative index', item('<Item name="a" index="-1">x</Item>')],
      ['a bad fragment', wpm(REASON, `nonce="${NONCE_HEX32}" fragment="later"`)],
      ['a bad maxItems', wpm(REASON, `nonce="${NONCE_HEX32}" maxItems="many"`)],
      ['no nonce', wpm(REASON, `maxItems="5"`)],
      ['an unknown reason', wpm('<ReasonForContact>hello</ReasonForContact>')],
      ['an empty reason', wpm('<ReasonForContact/>')],
      ['elements in another order', wpm(`<ItemList/>${REASON}`)],
      ['text beside the elements', wpm(`${REASON} stray`)],
      ['a DOCTYPE', `<!DOCTYPE x [<!ENTITY e "boom">]>${wpm(REASON).replace(/^<\?xml[^>]*>/, '')}`],
      ['a declaration of version 1.1', wpm(REASON).replace('1.0', '1.1')],
      ['a second root', `${wpm(REASON)}<WorkpointMessage/>`],
      ['a truncated document', wpm(REASON).slice(0, -20)],
      ['a non-ASCII name', item('<Item nämé="a">x</Item>')],
    ];
    for (const [what, text] of cases) {
      expect(parseCanonicalWorkpointMessage(text), what).toBeNull();
      // The public parse gives what the general path gives, refusal included.
      let viaPublic: unknown;
      try {
        viaPublic = parseWorkpointMessage(text);
      } catch (e) {
        viaPublic = { refused: (e as Error).message };
      }
      expect(viaPublic, what).toEqual(both(text).general);
    }
  });

  it('the oracle notices a path that disagrees (so the fuzz comparison can fail)', () => {
    const text = wpm(`${REASON}<ItemList><Item name="a">x</Item></ItemList>`);
    expect(checkCanonicalPath(Buffer.from(text))).toBe(true);
    expect(checkCanonicalPath(Buffer.from(text.replace('<Item name="a">x</Item>', '<Item name="a">&#65;</Item>')))).toBe(false);
    expect(checkCanonicalPath(Buffer.from([0xff, 0xfe]))).toBe(false);
    // A scan that reads a value differently, reads what the general path refuses, or throws.
    const wrongValue = (t: string) => {
      const m = parseCanonicalWorkpointMessage(t);
      return m && { ...m, items: m.items.map((i) => ({ ...i, value: `${i.value} ` })) };
    };
    expect(() => checkCanonicalPath(Buffer.from(text), wrongValue)).toThrow(Violation);
    const reordered = (t: string) => {
      const m = parseCanonicalWorkpointMessage(t);
      return m && { items: m.items, nonce: m.nonce, reason: m.reason, ...(m.maxItems !== undefined ? { maxItems: m.maxItems } : {}) };
    };
    expect(() => checkCanonicalPath(Buffer.from(text), reordered)).toThrow(/different messages/);
    const noNonce = wpm(REASON, 'maxItems="5"');
    expect(() => checkCanonicalPath(Buffer.from(noNonce), () => ({ nonce: 'x', reason: 'start-up', items: [] }))).toThrow(/general path refuses/);
    expect(() => checkCanonicalPath(Buffer.from(text), () => {
      throw new TypeError('boom');
    })).toThrow(/threw TypeError: boom/);
  });

  it('leaves a tag with many attributes to the general path (its duplicate check is per attribute: no quadratic scan of a hostile 256 kB tag)', () => {
    const attributes = (n: number) => Array.from({ length: n }, (_, i) => ` a${i}="v"`).join('');
    const eight = wpm(REASON, `nonce="${NONCE_HEX32}"${attributes(7)}`);
    expect(parseCanonicalWorkpointMessage(eight)).not.toBeNull();
    const nine = wpm(REASON, `nonce="${NONCE_HEX32}"${attributes(8)}`);
    expect(parseCanonicalWorkpointMessage(nine)).toBeNull();
    expect(parseWorkpointMessage(nine)).toEqual(parseGeneralWorkpointMessage(nine));
    const hostile = wpm(REASON, `nonce="${NONCE_HEX32}"${attributes(30_000)}`);
    expect(hostile.length).toBeGreaterThan(250_000);
    expect(parseCanonicalWorkpointMessage(hostile)).toBeNull();
    for (const root of ['<WorkpointMessage', '<Message', '<ReasonForContact', '<Item']) {
      const text = wpm(`${REASON}<ItemList><Item name="a">x</Item></ItemList>`).replace(root, `${root}${attributes(9)}`);
      expect(parseCanonicalWorkpointMessage(text), root).toBeNull();
    }
  });
});
