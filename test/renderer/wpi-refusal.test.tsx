/**
 * Why the WPI codec refused a message, in the UI's language: each of its sentences
 * (shared/wpi-refusals.ts) read back and said in German with its values, in English as written;
 * the views show them through exchangeError and a message's "not a valid WPI message" note, and
 * other refusals stay as written. That the codec
 * says each of them: test/wpi/refusal-words.test.ts.
 */
import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { WPI_REFUSALS, wpiRefusalText, type WpiRefusalKey } from '../../src/shared/wpi-refusals';
import { listenerRefusalText } from '../../src/shared/listener-refusals';
import { exchangeError } from '../../src/renderer/src/lib/exchange-error';
import { wpiRefusal } from '../../src/renderer/src/lib/wpi-refusal';
import { i18next, loadAllNamespaces } from '../../src/renderer/src/i18n';
import { MessagePanel } from '../../src/renderer/src/traffic/MessagePanel';
import type { MessageView } from '../../src/shared/api';
import { expectEverySentenceSaid } from './phrasebook-said';

const ALL: [WpiRefusalKey, Record<string, string>][] = [
  ['empty', {}], ['notUtf8', {}], ['doctype', {}],
  ['notXmlAtLine', { problem: 'unclosed tag: Message', line: '3' }], ['notXml', { problem: 'unexpected end' }], ['tooDeep', { max: '16' }],
  ['duplicateAttribute', { element: 'Item', attribute: 'name' }], ['wrongRoot', { found: 'html', expected: 'WorkpointMessage' }],
  ['noMessage', { root: 'DLSMessage' }], ['duplicateElement', { element: 'ReasonForContact' }], ['noReason', {}], ['emptyReason', {}],
  ['unknownReason', { reason: 'reboot-now' }], ['noAction', {}], ['unknownAction', { action: 'FormatDisk' }], ['noNonce', {}], ['badNonce', {}],
  ['itemWithoutName', { position: '7' }], ['badFragment', { value: 'last' }], ['badMaxItems', { min: '-1', value: 'many' }],
  ['badIndex', { name: 'function-key-def', min: '0', value: 'x' }],
];

describe("the WPI codec's refusals in the UI language", () => {
  it('every sentence read back and said in German with its values; in English as written', async () => {
    await expectEverySentenceSaid(WPI_REFUSALS, ALL, wpiRefusal, 'wpiRefusalText');
  });

  it('through exchangeError as the views show it; what the message said stays as it came; other refusals as written', async () => {
    await loadAllNamespaces();
    const de = i18next.getFixedT('de', 'traffic');
    expect(exchangeError({ kind: 'wpi', error: wpiRefusalText('unknownReason', { reason: 'reboot-now' }) }, de)).toBe('unbekannter ReasonForContact „reboot-now“');
    const line = wpiRefusalText('notXmlAtLine', { problem: 'unclosed tag: Message', line: '3' });
    expect(exchangeError({ kind: 'wpi', error: line }, de)).toBe('kein wohlgeformtes XML: unclosed tag: Message (Zeile 3)');
    expect(exchangeError({ kind: 'wpi', error: line }, i18next.getFixedT('en', 'traffic'))).toBe(line);
    // The listener's refusals are still its own; an engine's refusal stays as written.
    expect(exchangeError({ kind: 'wpi', error: listenerRefusalText('method', { method: 'GET' }) }, de)).toBe('Methode GET nicht erlaubt; WPI-Nachrichten werden per POST gesendet');
    const replay = "a reply-to while the phone's start-up is still arriving in fragments: refused";
    expect(exchangeError({ kind: 'wpi', error: replay }, de)).toBe(replay);
  });

  it("in the message's note: a body the codec does not take as WPI says why in German", async () => {
    const text = '<WorkpointMessage><Message nonce="1"><ReasonForContact>reboot-now</ReasonForContact></Message></WorkpointMessage>';
    const view: MessageView = {
      startLine: 'POST /DeploymentService/LoginService HTTP/1.1', headers: [['Content-Type', 'text/xml']], contentType: 'text/xml',
      bytes: text.length, text, truncated: false, invalidUtf8: false, withheld: false, isXml: true, xmlProblem: null, items: [],
      wpiProblem: wpiRefusalText('unknownReason', { reason: 'reboot-now' }),
    };
    await i18next.changeLanguage('de');
    try {
      render(<MessagePanel title="Anfrage" message={view} />);
      expect(screen.getByText('Keine gültige WPI-Nachricht: unbekannter ReasonForContact „reboot-now“')).toBeTruthy();
    } finally {
      await i18next.changeLanguage('en');
    }
  });
});
