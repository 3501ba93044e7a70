/**
 * A bootstrap run's per-phone text says what became of contact-me as the service recorded it:
 * sent and awaited, answered, or failed with why; "the phone answered" only when it did. In
 * German too; a cancelled phone is cancelled, not failed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { BootstrapDevice } from '../../src/shared/api';
import { deviceStateText } from '../../src/renderer/src/bootstrap/BootstrapWizard';
import { i18next, loadAllNamespaces } from '../../src/renderer/src/i18n';
import { contactFailedNote, JOB_NOTES } from '../../src/shared/job-notes';
import { jobNote } from '../../src/renderer/src/lib/job-note';
import { DEVICE } from './fake-api';

afterEach(() => void i18next.changeLanguage('en'));

const STARTED = 1_764_151_200_000;
const queued: BootstrapDevice = { mac: DEVICE.mac, e164: DEVICE.e164, jobId: 7, state: 'pending', jobState: 'queued', error: null, hasPin: true };
const sentAt = { ...DEVICE, lastContactMe: STARTED + 5000 };
const text = (d: BootstrapDevice, device = sentAt) => deviceStateText(i18next.getFixedT('en', 'bootstrap'), d, true, device, STARTED);

describe('a bootstrap run says what became of contact-me', () => {
  it('awaited, answered, or failed with why: never answered from the sending alone', () => {
    expect(text(queued, { ...sentAt, lastContactMeOutcome: 'sent' })).toMatch(/^queued: contact-me sent at \d\d:\d\d:\d\d, waiting for the phone's answer$/);
    expect(text(queued, { ...sentAt, lastContactMeOutcome: 'answered' })).toMatch(/the phone answered; waiting for it to call$/);
    const refused = text(queued, { ...sentAt, lastContactMeOutcome: 'failed', lastContactMeError: 'connect ECONNREFUSED 127.0.19.13:8085' });
    expect(refused).toMatch(/^queued: contact-me at \d\d:\d\d:\d\d failed \(connect ECONNREFUSED 127\.0\.19\.13:8085\); the phone gets its job when it calls$/);
    expect(refused).not.toMatch(/answered/);
    // A contact-me sent before the run began says nothing about this run.
    expect(text(queued, { ...sentAt, lastContactMe: STARTED - 1, lastContactMeOutcome: 'answered' })).toBe('queued: waiting for the phone to call (no contact-me sent yet)');
  });

  it('cancelled is said as cancelled, with why; in German too', () => {
    expect(text({ ...queued, state: 'cancelled', jobState: 'cancelled', error: 'cancelled with its bootstrap run' })).toBe('cancelled: cancelled with its bootstrap run');
    const de = deviceStateText(i18next.getFixedT('de', 'bootstrap'), queued, true, { ...sentAt, lastContactMeOutcome: 'failed', lastContactMeError: 'timed out' }, STARTED);
    expect(de).toMatch(/^wartet: Contact-me um \d\d:\d\d:\d\d fehlgeschlagen \(timed out\)/);
  });

  it("a job's note in the run's language: the service's English read back through the jobs' words when they are given", async () => {
    await loadAllNamespaces();
    const busy: BootstrapDevice = { ...queued, jobState: 'waiting-busy', error: JOB_NOTES.busyCallsBack };
    const failing: BootstrapDevice = { ...queued, error: contactFailedNote(2, 5, 'connection refused by 127.0.19.13:8085: the phone is off, or not listening for contact-me') };
    const de = (d: BootstrapDevice) => deviceStateText(i18next.getFixedT('de', 'bootstrap'), d, true, sentAt, STARTED, i18next.getFixedT('de', 'jobs'));
    expect(de(busy)).toContain(jobNote(JOB_NOTES.busyCallsBack, i18next.getFixedT('de', 'jobs')));
    expect(de(busy)).not.toContain(JOB_NOTES.busyCallsBack);
    expect(de(failing)).toContain('Verbindung von 127.0.19.13:8085 abgelehnt');
    expect(de(failing)).not.toMatch(/connection refused|trying again/);
    // Without the jobs' words, as the service wrote it.
    expect(deviceStateText(i18next.getFixedT('de', 'bootstrap'), busy, true, sentAt, STARTED)).toContain(JOB_NOTES.busyCallsBack);
  });
});

