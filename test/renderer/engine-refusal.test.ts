/**
 * Why the service refused a well-formed message for who sent it, in the UI's language: each of
 * its sentences (shared/engine-refusals.ts) read back and said in German with its values, in
 * English as written; through exchangeError as the views show them; a value that is not what the
 * service writes there (a hostile nonce, a name for a MAC) is no such sentence and stays as written.
 * That the service says them: test/security/identity-abuse.test.ts, identity-every-message.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { ENGINE_REFUSALS, engineRefusalText, type EngineRefusalKey } from '../../src/shared/engine-refusals';
import { exchangeError } from '../../src/renderer/src/lib/exchange-error';
import { engineRefusal } from '../../src/renderer/src/lib/engine-refusal';
import { i18next, loadAllNamespaces } from '../../src/renderer/src/i18n';
import { expectEverySentenceSaid } from './phrasebook-said';

const MAC = '00:1A:E8:12:00:0B';
const ALL: [EngineRefusalKey, Record<string, string>][] = [
  ['noCertificate', {}], ['noCertificateRefused', {}], ['revoked', { mac: MAC, serial: '7E0001A2' }],
  // A nonce as masking leaves one holding a URL's password; one clipped at 40 characters.
  ['replayedMessage', { nonce: 'http://u:••••••@h' }], ['replayedNonceEarlier', { mac: MAC, nonce: `${'A'.repeat(40)}…` }], ['replayedNonceInInteraction', { nonce: 'N1-START' }],
  ['cookieOtherAddress', { mac: MAC, owner: '127.0.0.41', from: '::ffff:127.0.0.42' }], ['cookieOtherAddressNoMac', { owner: 'fe80::1%eth0', from: 'fe80::2%12' }],
  ['secureOnDefault', { mac: MAC }], ['secureOnDefaultForget', { mac: MAC }],
  ['noMacItem', { reason: 'local-changes' }], ['noMacItemRefused', { reason: 'reply-to' }], ['unknownDevice', { reason: 'inventory-changes', mac: MAC }],
];

describe("the engine's refusals for who sent a message, in the UI language", () => {
  it('every sentence read back and said in German with its values; in English as written', async () => {
    await expectEverySentenceSaid(ENGINE_REFUSALS, ALL, engineRefusal, 'engineRefusalText');
  });

  it('through exchangeError as the views show it; values the service does not write there, and the rest of its refusals, as written', async () => {
    await loadAllNamespaces();
    const de = i18next.getFixedT('de', 'traffic');
    expect(exchangeError({ kind: 'wpi', error: engineRefusalText('replayedNonceInInteraction', { nonce: 'N1-START' }) }, de)).toBe(
      'wiederholte Nonce: die Nonce N1-START wurde in dieser Interaktion schon vor der letzten Nachricht des Telefons verwendet: abgewiesen',
    );
    // A nonce cannot hold a blank, nor run far past its 40 characters; a MAC is one as LocalDLS writes it.
    for (const text of [
      'replayed message: this interaction already had this very message (nonce a) b): refused',
      `replayed message: this interaction already had this very message (nonce ${'N'.repeat(61)}): refused`,
      'replayed nonce: my-phone already used nonce N1 in an earlier interaction: refused',
      "a reply-to while the phone's start-up is still arriving in fragments: refused",
    ]) {
      expect(exchangeError({ kind: 'wpi', error: text }, de)).toBe(text);
    }
  });
});
