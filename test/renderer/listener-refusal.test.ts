/**
 * Why the listener refused a request, in the UI's language: each of the service's sentences
 * (shared/listener-refusals.ts) read back and said in German with its values, also with "(N similar
 * not recorded)" after it; in English as written; any other refusal as written. The list and the
 * detail show them through exchangeError.
 */
import { describe, expect, it } from 'vitest';
import { LISTENER_REFUSALS, listenerRefusalText, similarNotRecorded, type ListenerRefusalKey } from '../../src/shared/listener-refusals';
import { exchangeError } from '../../src/renderer/src/lib/exchange-error';
import { listenerRefusal } from '../../src/renderer/src/lib/listener-refusal';
import { i18next, loadAllNamespaces } from '../../src/renderer/src/i18n';
import { expectEverySentenceSaid } from './phrasebook-said';

const ALL: [ListenerRefusalKey, Record<string, string>][] = [
  ['tooManyHeaders', { max: '100' }], ['noService', { path: '/admin; x=1', prefix: '/DeploymentService/' }], ['method', { method: 'GET' }],
  ['bodyDeclared', { declared: '9999999', max: '4194304' }], ['bodyTooLarge', { max: '4194304' }], ['bodyTimeout', { ms: '30000' }], ['headersTimeout', { ms: '10000' }],
];

describe("the listener's refusals in the UI language", () => {
  it('every sentence read back and said in German with its values; in English as written', async () => {
    await expectEverySentenceSaid(LISTENER_REFUSALS, ALL, listenerRefusal, 'refusalText');
  });

  it('with "(N similar not recorded)" after it too; a refusal of a message as written; through exchangeError as the views show it', async () => {
    await loadAllNamespaces();
    const de = i18next.getFixedT('de', 'traffic');
    const slow = similarNotRecorded(listenerRefusalText('headersTimeout', { ms: '10000' }), 12);
    expect(listenerRefusal(slow, de)).toBe('Request-Header nicht binnen 10000 ms vollständig (12 ähnliche nicht aufgezeichnet)');
    expect(listenerRefusal(slow, i18next.getFixedT('en', 'traffic'))).toBe(slow);
    // Not one of the listener's: as written, with or without the suffix.
    expect(listenerRefusal('replayed nonce: nonce N1 was used earlier in this interaction (3 similar not recorded)', de)).toBe('replayed nonce: nonce N1 was used earlier in this interaction (3 similar not recorded)');
    const replay = "a reply-to while the phone's start-up is still arriving in fragments: refused";
    expect(exchangeError({ kind: 'wpi', error: replay }, de)).toBe(replay);
    expect(exchangeError({ kind: 'wpi', error: listenerRefusalText('method', { method: 'PUT' }) }, de)).toBe('Methode PUT nicht erlaubt; WPI-Nachrichten werden per POST gesendet');
  });
});
