/**
 * Why the relay gave a phone no upstream answer, in the UI's language: each of the service's
 * sentences (shared/relay-failures.ts) read back from its English words and said in German with its
 * values; in English as the service wrote it; any other text (a certificate's verdict) as written.
 */
import { describe, expect, it } from 'vitest';
import { RELAY_FAILURES, relayFailureText, type RelayFailureKey } from '../../src/shared/relay-failures';
import { expectEverySentenceSaid } from './phrasebook-said';
import { relayFailure } from '../../src/renderer/src/lib/relay-failure';
import { exchangeError } from '../../src/renderer/src/lib/exchange-error';
import { i18next, loadAllNamespaces } from '../../src/renderer/src/i18n';

const ORIGIN = 'https://127.0.0.2:28443';
const ALL: [RelayFailureKey, Record<string, string>][] = [
  ['timeout', { origin: ORIGIN, ms: '15000' }], ['handshakeTimeout', { origin: ORIGIN, ms: '5000' }],
  ['unreachable', { origin: ORIGIN, detail: 'ECONNREFUSED (connect ECONNREFUSED 127.0.0.2:28443)' }],
  ['staleClosed', { origin: ORIGIN, detail: 'ECONNRESET: socket hang up' }], ['malformed', { origin: ORIGIN, detail: 'HPE_INVALID_CONSTANT: Expected HTTP/' }],
  ['switching', { origin: ORIGIN, status: '101' }], ['closedEarly', { origin: ORIGIN }], ['tooLarge', { bytes: '4194304' }],
  ['answerNotPassed', { origin: ORIGIN, why: 'its status line holds a control character' }], ['requestNotPassed', { detail: 'Invalid character in header content ["x"]' }],
  ['self', { origin: 'https://127.0.0.1:18443', port: '18443' }], ['loop', { via: 'localdls-0123456789ab', origin: ORIGIN }], ['secureMode', {}],
];

describe("the relay's failures in the UI language", () => {
  it('every sentence read back and said in German with its values; in English as written; others untouched', async () => {
    await expectEverySentenceSaid(RELAY_FAILURES, ALL, relayFailure, 'failureText');
    const de = i18next.getFixedT('de', 'traffic');
    const verdict = 'its certificate (SHA-256 AB:CD) is neither the fingerprint given nor signed by the CA given';
    expect(relayFailure(verdict, de)).toBe(verdict);
    expect(RELAY_FAILURES.parse('the upstream a b did not answer within 5 ms')).toBeNull();
  });

  it("an exchange's error as the ladder, timeline and device page show it: a relay's or a contact-me's failure in German, a refusal as recorded", async () => {
    await loadAllNamespaces();
    const de = i18next.getFixedT('de', 'ladder');
    const timeout = relayFailureText('timeout', { origin: ORIGIN, ms: '15000' });
    expect(exchangeError({ kind: 'wpi', error: timeout }, de)).toBe(`der Upstream ${ORIGIN} hat nicht binnen 15000 ms geantwortet`);
    expect(exchangeError({ kind: 'contact-me', error: 'connection refused by 127.0.3.17:8085: the phone is off, or not listening for contact-me' }, de)).toContain('Verbindung von 127.0.3.17:8085 abgelehnt');
    const refusal = 'the relay accepts phones from 192.0.2.0/24 only';
    expect(exchangeError({ kind: 'wpi', error: refusal }, de)).toBe(refusal);
    expect(exchangeError({ kind: 'wpi', error: null }, de)).toBeNull();
    expect(exchangeError({ kind: 'wpi', error: timeout }, i18next.getFixedT('en', 'ladder'))).toBe(timeout);
  });
});
