/**
 * A job's note in the UI's language: the notes the service writes most (shared/job-notes.ts) read
 * back in German, with their values; any other text, and a note in English, as written.
 */
import { describe, expect, it } from 'vitest';
import { contactFailedNote, contactGapNote, filesFailedNote, filesOverdueText, filesUnconfirmedNote, JOB_NOTES, noAnswerNote, notContactedNote, refusedActionNote, refusedItemsNote, unreachableNote } from '../../src/shared/job-notes';
import { fileResultText, jobNote } from '../../src/renderer/src/lib/job-note';
import { dateTime } from '../../src/renderer/src/lib/format';
import { FILE_RESULTS } from '../../src/shared/file-deployment';
import { i18next, loadAllNamespaces } from '../../src/renderer/src/i18n';
import { parseContactSkip, skip, skipText, type SkipKey } from '../../src/shared/skip-reasons';
import { skipReason } from '../../src/renderer/src/lib/skip-reason';
import { contactMeErrorText, parseContactMeError, type ContactMeErrorKey } from '../../src/shared/contact-me-errors';
import { contactMeError } from '../../src/renderer/src/lib/contact-me-error';

describe('a job note in the UI language', () => {
  it('German for every note the service writes most, its values kept; English as written; other text untouched', async () => {
    await loadAllNamespaces();
    const written = [
      ...Object.values(JOB_NOTES),
      contactFailedNote(2, 5, 'connect ECONNREFUSED 127.0.3.17:8085'),
      unreachableNote(5, 'timed out after 5000 ms'),
      notContactedNote('the phone has not reported a contact-me-uri'),
      noAnswerNote(5),
      refusedItemsNote([{ name: 'sntp-addr', status: 'invalid data' }]),
      refusedItemsNote(Array.from({ length: 7 }, (_, i) => ({ name: 'function-key-def', index: i, status: 'read only' }))),
      refusedActionNote('SoftwareDeployment'),
      filesUnconfirmedNote(1, 2, 'ring.wav (RINGTONE): not listed'),
      filesUnconfirmedNote(1, 1, 'ring.wav (RINGTONE): still listed'),
      filesFailedNote(1, 3, 'logo.png (LOGO)'),
      filesOverdueText(2, 2, '30', 'a.png (LOGO): not listed, b.wav (RINGTONE): not listed'),
      filesOverdueText(1, 3, '30', 'a.png (LOGO): listed as before', 'c.wav (RINGTONE)'),
      contactGapNote(Date.UTC(2026, 11, 6, 0, 13, 22), Date.UTC(2026, 11, 6, 0, 18, 22)),
      contactGapNote(Date.UTC(2026, 11, 6, 0, 13, 22), Date.UTC(2026, 11, 6, 0, 18, 22), true),
    ];
    for (const text of written) {
      // In English as written, but for the moments it names (in this computer's time, below).
      if (!/\dT\d\d:\d\d:\d\d(?:\.\d+)?Z/.test(text)) expect(jobNote(text, i18next.getFixedT('en', 'jobs'))).toBe(text);
      const de = jobNote(text, i18next.getFixedT('de', 'jobs'));
      expect(de, text).not.toBe(text);
      expect(de).not.toMatch(/note\./);
    }
    expect(jobNote(contactFailedNote(2, 5, 'connect ECONNREFUSED 127.0.3.17:8085'), i18next.getFixedT('de', 'jobs'))).toBe('Contact-me 2 von 5 Mal fehlgeschlagen, zuletzt: connect ECONNREFUSED 127.0.3.17:8085; nächster Versuch nach der Kontaktpause des Telefons');
    expect(jobNote(noAnswerNote(5), i18next.getFixedT('de', 'jobs'))).toBe('keine Antwort vom Telefon auf 5 Sendungen');
    // As a job failed before migration 20 says it (its count then was every sending).
    expect(jobNote('no answer from the phone after 5 attempts', i18next.getFixedT('de', 'jobs'))).toBe('keine Antwort vom Telefon auf 5 Sendungen');
    expect(jobNote(JOB_NOTES.cancelledByUser, i18next.getFixedT('de', 'jobs'))).toBe('vom Benutzer abgebrochen');
    expect(jobNote(filesFailedNote(1, 3, 'logo.png (LOGO)'), i18next.getFixedT('de', 'jobs'))).toBe('das Telefon listet 1 von 3 Dateien als fehlgeschlagen (file-deployment-status): logo.png (LOGO)');
    // The phone's refusals: the words translated, the items and their statuses (the protocol's) kept.
    const de = i18next.getFixedT('de', 'jobs');
    expect(jobNote(refusedItemsNote([{ name: 'sntp-addr', status: 'invalid data' }, { name: 'e164', status: 'read only' }]), de)).toBe('das Telefon hat 2 Items abgelehnt: sntp-addr: invalid data, e164: read only');
    expect(jobNote(refusedItemsNote([{ name: 'line-key', index: 3, status: 'invalid index' }]), de)).toBe('das Telefon hat 1 Item abgelehnt: line-key[3]: invalid index');
    expect(jobNote(refusedActionNote('WriteItems'), de)).toBe('das Telefon hat WriteItems abgelehnt (Status „failed“)');
    // Its moments in this computer's time, as every other time in the UI (the service writes UTC).
    const sent = Date.UTC(2026, 11, 6, 0, 13, 22);
    const next = Date.UTC(2026, 11, 6, 0, 18, 22);
    expect(jobNote(contactGapNote(sent + 450, next + 450), de)).toBe(`Contact-me gesendet um ${dateTime(sent)}; wartet auf den Rückruf des Telefons (der nächste Contact-me geht um ${dateTime(next)}: ein Telefon ignoriert einen innerhalb seiner Kontaktpause)`);
    // Node's environment (the renderer's tsconfig has no Node types); TZ is read at each Date call.
    const env = (globalThis as unknown as { process: { env: Record<string, string | undefined> } }).process.env;
    const zone = env.TZ;
    env.TZ = 'Europe/Berlin';
    try {
      expect(jobNote(contactGapNote(sent, next), i18next.getFixedT('en', 'jobs'))).toContain('contact-me sent at 2026-12-06 01:13:22 UTC+01:00;');
    } finally {
      if (zone === undefined) delete env.TZ;
      else env.TZ = zone;
    }
    // A file deployment's notes: the service's words for each file too, the names as written.
    expect(jobNote(filesOverdueText(2, 3, '30', 'a, b: not listed.png (LOGO): listed as before, b.wav (RINGTONE): not checked', 'c.wav (RINGTONE)'), de)).toBe(
      'das Telefon hat 2 von 3 Dateien nicht binnen 30 Minuten nach dem Senden der FileDeployment bestätigt (ReadAllItems): a, b: not listed.png (LOGO): gelistet wie zuvor, b.wav (RINGTONE): nicht geprüft; als fehlgeschlagen gelistet: c.wav (RINGTONE)',
    );
    expect(jobNote(filesUnconfirmedNote(2, 2, 'a.png (LOGO): not listed, old.wav (RINGTONE): still listed'), de)).toMatch(/\(a\.png \(LOGO\): nicht gelistet, old\.wav \(RINGTONE\): noch gelistet\)/);
    expect(fileResultText(FILE_RESULTS.asBefore, de)).toBe('nicht bestätigt: gelistet wie zuvor');
    expect(fileResultText(FILE_RESULTS.deleted, de)).toBe('ok: nicht mehr gelistet');
    for (const status of Object.values(FILE_RESULTS)) expect(fileResultText(status, i18next.getFixedT('en', 'jobs'))).toBe(status);
    // The phone's own words stay as it wrote them.
    expect(fileResultText('failed', de)).toBe('failed');
    expect(fileResultText('not confirmed: by the moon', de)).toBe('not confirmed: by the moon');
    // Why a phone is not contacted: the service's own words for it in German too, the phone's kept.
    expect(jobNote(notContactedNote(skipText(skip('uriElsewhere', { host: '10.0.0.9', peer: '127.0.3.17' }))), de)).toBe(
      'nicht kontaktiert: die contact-me-uri zeigt auf 10.0.0.9, das Telefon meldet sich aber von 127.0.3.17; seine Jobs gehen hinaus, wenn sich das Telefon selbst meldet',
    );
    expect(jobNote(notContactedNote(skipText(skip('uriNotUrl', { uri: 'ht tp://x' }))), de)).toContain('die contact-me-uri „ht tp://x“ ist keine URL');
    expect(jobNote(notContactedNote(skipText(skip('uriElsewhere', { host: '10.0.0.9', peer: '' }))), de)).toContain('die Adresse des Telefons ist aber nicht bekannt');
    expect(jobNote(notContactedNote('the moon is in the way'), de)).toBe('nicht kontaktiert: the moon is in the way; seine Jobs gehen hinaus, wenn sich das Telefon selbst meldet');
    // Not one of them (a note a newer service writes): as written.
    expect(jobNote('the phone refused the moon', de)).toBe('the phone refused the moon');
    expect(jobNote(`${JOB_NOTES.cancelledByUser}!`, i18next.getFixedT('de', 'jobs'))).toBe(`${JOB_NOTES.cancelledByUser}!`);
  });
});

describe('why a phone was skipped, in the UI language', () => {
  const all: [SkipKey, Record<string, string>][] = [
    ['stopping', {}], ['noDevice', { mac: '00:1A:E8:00:00:01' }], ['noUri', {}], ['uriNotUrl', { uri: 'x' }], ['uriNotHttp', { protocol: 'https:' }],
    ['uriElsewhere', { host: '10.0.0.9', peer: '127.0.0.1' }], ['uriElsewhere', { host: '10.0.0.9', peer: '' }], ['underWay', {}],
    ['gap', { until: '2026-12-06T00:18:22.000Z' }], ['gapElsewhere', { until: '2026-12-06T00:18:22.000Z' }],
    ['profileNoDevice', { mac: '00:1A:E8:00:00:01' }], ['profileOtherType', { profile: 'p', profileType: 'OpenStage 60', deviceType: 'OpenStage 40' }],
    ['profileOtherType', { profile: 'p', profileType: 'OpenStage 60', deviceType: '' }], ['profileQueued', { jobs: '4, 5' }],
  ];

  it('every reason in German with its values; in English as the CLI says it (its moments in local time); without a key as the service wrote it', async () => {
    await loadAllNamespaces();
    const de = i18next.getFixedT('de', 'actions') as unknown as Parameters<typeof skipReason>[2];
    const en = i18next.getFixedT('en', 'actions') as unknown as Parameters<typeof skipReason>[2];
    for (const [key, params] of all) {
      const english = skipText(skip(key, params));
      const german = skipReason(skip(key, params), english, de);
      expect(german, english).not.toBe(english);
      expect(german).not.toMatch(/skip\.|\{\{/);
      for (const v of Object.values(params)) if (v && !v.endsWith('Z')) expect(german, key).toContain(v);
      if (params.until) {
        expect(german).toContain(dateTime(Date.parse(params.until)));
        expect(skipReason(skip(key, params), english, en)).toBe(english.replace(params.until, dateTime(Date.parse(params.until))));
      } else if (key !== 'uriNotUrl') expect(skipReason(skip(key, params), english, en)).toBe(english);
    }
    expect(skipReason(undefined, 'a reason from an older service', de)).toBe('a reason from an older service');
  });

  it("a job note's reasons read back from their English words, and nothing else", () => {
    for (const [key, params] of all.filter(([k]) => k.startsWith('uri') || k === 'noUri')) expect(parseContactSkip(skipText(skip(key, params)))).toEqual(skip(key, params));
    expect(parseContactSkip('contact-me-uri points to 10.0.0.9, but the phone talks from 10.0.0.8 and more')).toBeNull();
    expect(parseContactSkip('the service is stopping')).toBeNull();
  });
});

describe('why a contact-me failed, in the UI language', () => {
  const all: [ContactMeErrorKey, Record<string, string>][] = [
    ['deadline', { host: '127.0.3.17:8085', ms: '5000' }], ['silent', { host: '[::1]:8085', ms: '5000' }], ['refused', { host: '127.0.3.17:8085' }],
    ['failed', { host: '127.0.3.17:8085', message: 'connect EHOSTUNREACH 127.0.3.17:8085' }], ['tooLarge', { bytes: '65536' }],
    ['status', { status: '500' }], ['readFailed', { message: 'aborted' }], ['unknown', {}],
  ];

  it('each reason read back from its English words and said in German with its values (an OS message kept); in English as written; others untouched', async () => {
    await loadAllNamespaces();
    const de = i18next.getFixedT('de', 'jobs');
    for (const [key, params] of all) {
      const english = contactMeErrorText(key, params);
      expect(parseContactMeError(english)).toEqual({ key, params });
      const german = contactMeError(english, de as unknown as Parameters<typeof contactMeError>[1]);
      expect(german, english).not.toBe(english);
      for (const v of Object.values(params)) expect(german, key).toContain(v);
      expect(contactMeError(english, i18next.getFixedT('en', 'jobs') as unknown as Parameters<typeof contactMeError>[1])).toBe(english);
      // In a job's notes too.
      expect(jobNote(contactFailedNote(2, 5, english), de)).toContain(`zuletzt: ${german};`);
      expect(jobNote(unreachableNote(5, english), de)).toContain(german);
    }
    expect(contactMeError('the moon is in the way', de as unknown as Parameters<typeof contactMeError>[1])).toBe('the moon is in the way');
    expect(parseContactMeError('no answer from a b within 5000 ms')).toBeNull();
  });
});
