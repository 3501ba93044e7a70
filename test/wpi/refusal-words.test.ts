/**
 * The WPI codec's refusals are the sentences of its phrasebook (shared/wpi-refusals.ts), which the
 * UI reads back to say them in its language (test/renderer/wpi-refusal.test.ts): every broken
 * message below is refused with the sentence it is meant to get, values as the message had them,
 * and every sentence but one is made by some message.
 */
import { describe, expect, it } from 'vitest';
import { WPI_REFUSALS, type WpiRefusalKey } from '../../src/shared/wpi-refusals';
import { parseDLSMessage, parseWorkpointMessage } from '../../src/main/wpi';
import { catchWpi, dlsm, wpm } from './helpers';

const RFC = '<ReasonForContact>start-up</ReasonForContact>';

/** Each with the values the sentence must carry (null: not checked, the XML parser's words). */
const BROKEN: [WpiRefusalKey, () => unknown, Record<string, string> | null][] = [
  ['empty', () => parseWorkpointMessage('  '), {}],
  ['notUtf8', () => parseWorkpointMessage(Uint8Array.from([0x3c, 0xff, 0x3e])), {}],
  ['doctype', () => parseWorkpointMessage('<!DOCTYPE x [<!ENTITY a "b">]><WorkpointMessage/>'), {}],
  ['notXmlAtLine', () => parseWorkpointMessage('<WorkpointMessage>\n<Message nonce="1">\n</WorkpointMessage>'), null],
  ['tooDeep', () => parseWorkpointMessage(`<WorkpointMessage>${'<a>'.repeat(40)}${'</a>'.repeat(40)}</WorkpointMessage>`), { max: '16' }],
  ['duplicateAttribute', () => parseWorkpointMessage(wpm(`${RFC}<ItemList><Item name="a" x:name="b" xmlns:x="urn:x">1</Item></ItemList>`)), { element: 'Item', attribute: 'name' }],
  ['wrongRoot', () => parseWorkpointMessage('<html><body>error</body></html>'), { found: 'html', expected: 'WorkpointMessage' }],
  ['noMessage', () => parseDLSMessage('<DLSMessage/>'), { root: 'DLSMessage' }],
  ['duplicateElement', () => parseWorkpointMessage(wpm(`${RFC}${RFC}`)), { element: 'ReasonForContact' }],
  ['noReason', () => parseWorkpointMessage(wpm('')), {}],
  ['emptyReason', () => parseWorkpointMessage(wpm('<ReasonForContact> </ReasonForContact>')), {}],
  ['unknownReason', () => parseWorkpointMessage(wpm('<ReasonForContact>reboot "now"</ReasonForContact>')), { reason: 'reboot "now"' }],
  ['noAction', () => parseDLSMessage(dlsm('')), {}],
  ['unknownAction', () => parseDLSMessage(dlsm('<Action>FormatDisk</Action>')), { action: 'FormatDisk' }],
  ['noNonce', () => parseWorkpointMessage(wpm(RFC, 'maxItems="-1"')), {}],
  ['badNonce', () => parseWorkpointMessage(wpm(RFC, 'nonce="a b&lt;"')), {}],
  ['itemWithoutName', () => parseWorkpointMessage(wpm(`${RFC}<ItemList><Item name="a">1</Item><Item>2</Item></ItemList>`)), { position: '2' }],
  ['badFragment', () => parseWorkpointMessage(wpm(RFC, 'nonce="N1" fragment="last"')), { value: 'last' }],
  ['badMaxItems', () => parseWorkpointMessage(wpm(RFC, 'nonce="N1" maxItems="many"')), { min: '-1', value: 'many' }],
  ['badIndex', () => parseWorkpointMessage(wpm(`${RFC}<ItemList><Item name="${'k'.repeat(50)}" index="x">1</Item></ItemList>`)), { name: `${'k'.repeat(40)}…`, min: '0', value: 'x' }],
];

describe("the WPI codec's refusals", () => {
  it.each(BROKEN)('%s: refused with that sentence and the values the message had', (key, parse, params) => {
    const said = WPI_REFUSALS.parse(catchWpi(parse).message);
    expect(said?.key).toBe(key);
    if (params) expect(said?.params).toEqual(params);
  });

  it('a value holding the sentence\'s own words does not move them: the minimum read back is the one the codec said', () => {
    // A hostile index value and a hostile item name, each repeating the words after it (helper-92).
    const byValue = catchWpi(() => parseWorkpointMessage(wpm(`${RFC}<ItemList><Item name="k" index='x" must be an integer >= 9, not "y'>1</Item></ItemList>`)));
    expect(WPI_REFUSALS.parse(byValue.message)).toEqual({ key: 'badIndex', params: { name: 'k', min: '0', value: 'x" must be an integer >= 9, not "y' } });
    const byName = catchWpi(() => parseWorkpointMessage(wpm(`${RFC}<ItemList><Item name='a must be an integer >= 7, not "z' index="x">1</Item></ItemList>`)));
    expect(WPI_REFUSALS.parse(byName.message)?.params.min).toBe('0');
    const maxItems = catchWpi(() => parseWorkpointMessage(wpm(RFC, `nonce="N1" maxItems='1" must be an integer >= 5, not "2'`)));
    expect(WPI_REFUSALS.parse(maxItems.message)?.params).toEqual({ min: '-1', value: '1" must be an integer >= 5, not "2' });
  });

  it('reads any text back in one pass: a megabyte of each sentence\'s words repeated is no sentence, and does not hold the test', () => {
    for (const key of WPI_REFUSALS.keys) {
      const words = WPI_REFUSALS.text(key, { problem: 'p', line: '1', max: '1', element: 'e', attribute: 'name', found: 'f', expected: 'DLSMessage', root: 'DLSMessage', reason: 'r', action: 'a', position: '1', value: 'v', min: key === 'badIndex' ? '0' : '-1', name: 'n' });
      const hostile = words.repeat(Math.ceil(1_000_000 / words.length));
      expect(WPI_REFUSALS.parse(hostile), key).toBeNull();
    }
  });

  it('every sentence but notXml (the parser failing outside its error event) is made by one of these messages', () => {
    expect(new Set(BROKEN.map(([k]) => k))).toEqual(new Set(WPI_REFUSALS.keys.filter((k) => k !== 'notXml')));
  });
});
