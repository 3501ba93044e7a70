/**
 * An exchange's warnings in the UI's language: each of the service's sentences
 * (shared/exchange-warnings.ts) read back from its English words and said in German with its
 * values, also joined with others by "; " and when what a parser said holds "; " itself; in English
 * as the service wrote it; any other part as written.
 */
import { describe, expect, it } from 'vitest';
import { EXCHANGE_WARNINGS, exchangeWarningText, type ExchangeWarningKey } from '../../src/shared/exchange-warnings';
import { expectEverySentenceSaid } from './phrasebook-said';
import { exchangeWarning } from '../../src/renderer/src/lib/exchange-warning';
import { i18next, loadAllNamespaces } from '../../src/renderer/src/i18n';
import { wpiRefusalText } from '../../src/shared/wpi-refusals';

const ALL: [ExchangeWarningKey, Record<string, string>][] = [
  // Problems the codec's phrasebook does not know stay as written (its own are said in German: below).
  ['phoneNotWpi', { problem: 'hello' }], ['phoneNotWpiRelayed', { problem: 'the parser gave up' }],
  ['answerNotDlsRelayed', { problem: 'a problem of a future version' }], ['macUnconfirmedNoAnswer', {}], ['macUnconfirmedNotTaken', {}],
  ['macsUnclear', {}], ['otherMac', { named: '00:1A:E8:00:00:02', mac: '00:1A:E8:00:00:01' }],
  ['cookielessReport', { reason: 'status' }], ['cookielessReportSecure', { reason: 'clean-up' }], ['cookielessReply', {}], ['cookielessReplySecure', {}],
];

describe("an exchange's warnings in the UI language", () => {
  it('every sentence read back and said in German with its values; in English as written', async () => {
    await expectEverySentenceSaid(EXCHANGE_WARNINGS, ALL, exchangeWarning, 'warningText');
  });

  it('joined with "; ", each said in German; a sentence holding "; " itself, or a parser\'s words holding it, stays one; other parts as written', async () => {
    await loadAllNamespaces();
    const de = i18next.getFixedT('de', 'traffic');
    const relayed = exchangeWarningText('phoneNotWpiRelayed', { problem: 'not well-formed XML: a; b (line 3)' });
    const joined = [relayed, exchangeWarningText('macUnconfirmedNotTaken')].join('; ');
    expect(exchangeWarning(joined, de)).toBe(
      'die Nachricht des Telefons ist kein WPI, wie LocalDLS es liest (kein wohlgeformtes XML: a; b (Zeile 3)); unverändert weitergeleitet; ' +
        'die MAC ist die, die die Nachricht nennt, unbestätigt: Der DLS hat die Nachricht nicht angenommen',
    );
    // A value holding many "; " of its own (a hostile maxItems, helper-92): still one sentence, said whole.
    const semis = exchangeWarningText('phoneNotWpiRelayed', { problem: wpiRefusalText('badMaxItems', { min: '-1', value: '1; 2; 3; 4; 5; 6; 7; 8; 9; 10; 11' }) });
    expect(exchangeWarning([semis, exchangeWarningText('macsUnclear')].join('; '), de)).toBe(
      'die Nachricht des Telefons ist kein WPI, wie LocalDLS es liest (maxItems muss eine ganze Zahl ≥ -1 sein, nicht „1; 2; 3; 4; 5; 6; 7; 8; 9; 10; 11“); unverändert weitergeleitet; ' +
        'die Nachricht nennt mehr als eine MAC oder eine, die keine MAC-Adresse ist: Inventar nicht aktualisiert',
    );
    // What the codec said inside, in German; in English as written.
    const html = exchangeWarningText('answerNotDlsRelayed', { problem: wpiRefusalText('wrongRoot', { found: 'html', expected: 'DLSMessage' }) });
    expect(exchangeWarning(html, de)).toBe('die Antwort des Upstreams ist keine DLSMessage, wie LocalDLS sie liest (Wurzelelement ist html, erwartet: DLSMessage); unverändert weitergeleitet');
    expect(exchangeWarning(html, i18next.getFixedT('en', 'traffic'))).toBe(html);
    // A decision's warning (not in the book yet) between two of the book's: as written, in place.
    const mixed = [exchangeWarningText('cookielessReply'), 'the phone refused WriteItems (status failed)', exchangeWarningText('macsUnclear')].join('; ');
    expect(exchangeWarning(mixed, de)).toBe(
      'reply-to ohne Session-Cookie: über die Adresse zugeordnet; the phone refused WriteItems (status failed); ' +
        'die Nachricht nennt mehr als eine MAC oder eine, die keine MAC-Adresse ist: Inventar nicht aktualisiert',
    );
    expect(exchangeWarning('the moon is in the way; so is the sun', de)).toBe('the moon is in the way; so is the sun');
    // Many parts: each looked at a few at a time, none lost.
    const many = Array.from({ length: 200 }, (_, i) => `part ${i}`).join('; ');
    expect(exchangeWarning(many, de)).toBe(many);
  });
});
