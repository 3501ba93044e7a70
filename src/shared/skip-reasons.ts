/**
 * Why LocalDLS did not do something it was asked for one phone (a contact-me not sent, a profile
 * not applied), as a key and its values: the CLI says it in English (skipText), the UI in its
 * language (errors.json `skip.*`). A job's note keeps the English words; parseContactSkip reads
 * them back for the UI.
 */
import { phrasebook } from './phrasebook';

const SKIPS = phrasebook({
  stopping: [() => 'the service is stopping', /^the service is stopping$/, []],
  noDevice: [
    (p) => `no device ${p.mac}: this service has not heard from that phone, so it has no address to contact; check the MAC against the device list`,
    /^no device (\S+): this service has not heard from that phone, so it has no address to contact; check the MAC against the device list$/,
    ['mac'],
  ],
  noUri: [() => 'the phone has not reported a contact-me-uri', /^the phone has not reported a contact-me-uri$/, []],
  uriNotUrl: [(p) => `contact-me-uri "${p.uri}" is not a URL`, /^contact-me-uri "([\s\S]*)" is not a URL$/, ['uri']],
  uriNotHttp: [(p) => `contact-me-uri must be http:// (manual p.14), not ${p.protocol}`, /^contact-me-uri must be http:\/\/ \(manual p\.14\), not (\S*)$/, ['protocol']],
  uriElsewhere: [
    (p) => `contact-me-uri points to ${p.host}, but the phone talks from ${p.peer || 'an unknown address'}`,
    /^contact-me-uri points to (\S*), but the phone talks from (?:an unknown address|(\S+))$/,
    ['host', 'peer'],
  ],
  underWay: [() => 'a contact-me to this phone is under way', /^a contact-me to this phone is under way$/, []],
  gap: [(p) => `contact gap: the phone ignores another contact-me until ${p.until}`, /^contact gap: the phone ignores another contact-me until (\S+)$/, ['until']],
  gapElsewhere: [
    (p) => `contact gap: another LocalDLS process has just sent this phone a contact-me; it ignores another until ${p.until}`,
    /^contact gap: another LocalDLS process has just sent this phone a contact-me; it ignores another until (\S+)$/,
    ['until'],
  ],
  profileNoDevice: [(p) => `no device ${p.mac}`, /^no device (\S+)$/, ['mac']],
  profileOtherType: [
    (p) => `profile ${p.profile} is for ${p.profileType}, the phone is ${p.deviceType || 'of unknown type'}`,
    /^profile ([\s\S]+) is for ([\s\S]+), the phone is (?:of unknown type|([\s\S]+))$/,
    ['profile', 'profileType', 'deviceType'],
  ],
  profileQueued: [(p) => `what differs is queued already (job ${p.jobs} writes it): nothing queued again`, /^what differs is queued already \(job ([\d, ]+) writes it\): nothing queued again$/, ['jobs']],
});

export type SkipKey = Parameters<typeof SKIPS.text>[0];

export interface Skip {
  key: SkipKey;
  /** The values the sentence names (a URI, an address, a time as ISO 8601). */
  params: Record<string, string>;
}

export const skip = (key: SkipKey, params: Record<string, string> = {}): Skip => ({ key, params });

export function skipText(s: Skip): string {
  return SKIPS.text(s.key, s.params);
}

/** The reasons a job's "not contacted" note can give (app/contact.ts writes them with skipText). */
const NOTED: ReadonlySet<SkipKey> = new Set(['noUri', 'uriNotUrl', 'uriNotHttp', 'uriElsewhere']);

/** A "not contacted" reason read back from its English words (null for any other text). */
export function parseContactSkip(text: string): Skip | null {
  const parsed = SKIPS.parse(text);
  return parsed && NOTED.has(parsed.key) ? parsed : null;
}
