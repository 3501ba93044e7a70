/**
 * Why a contact-me failed (net/contact-me.ts), in the service's English words, which the CLI
 * prints and job notes keep ("contact-me failed 2 of 5 times, last: …"); the UI reads them back
 * and says them in its language (errors.json `contactMe.*`). The system's own message inside one
 * (an OS error) stays as it came.
 */
import { phrasebook } from './phrasebook';

export const CONTACT_ME_ERRORS = phrasebook({
  deadline: [(p) => `no complete answer from ${p.host} within ${p.ms} ms`, /^no complete answer from (\S+) within (\d+) ms$/, ['host', 'ms']],
  silent: [(p) => `no answer from ${p.host} within ${p.ms} ms`, /^no answer from (\S+) within (\d+) ms$/, ['host', 'ms']],
  refused: [(p) => `connection refused by ${p.host}: the phone is off, or not listening for contact-me`, /^connection refused by (\S+): the phone is off, or not listening for contact-me$/, ['host']],
  failed: [(p) => `contact-me to ${p.host} failed: ${p.message}`, /^contact-me to (\S+) failed: ([\s\S]*)$/, ['host', 'message']],
  tooLarge: [(p) => `the phone's answer passed ${p.bytes} bytes (a phone answers 204 with none): not read further`, /^the phone's answer passed (\d+) bytes \(a phone answers 204 with none\): not read further$/, ['bytes']],
  status: [(p) => `the phone answered HTTP ${p.status}, expected 204 No Content`, /^the phone answered HTTP (\d+), expected 204 No Content$/, ['status']],
  readFailed: [(p) => `reading the phone's answer failed: ${p.message}`, /^reading the phone's answer failed: ([\s\S]*)$/, ['message']],
  /** A failure recorded without its reason (a rollout's phone whose device kept none). */
  unknown: [() => 'contact-me failed', /^contact-me failed$/, []],
});

export type ContactMeErrorKey = Parameters<typeof CONTACT_ME_ERRORS.text>[0];

export const contactMeErrorText = (key: ContactMeErrorKey, params: Record<string, string>): string => CONTACT_ME_ERRORS.text(key, params);

/** A contact-me failure read back from its English words (null for any other text). */
export const parseContactMeError = (text: string) => CONTACT_ME_ERRORS.parse(text);
