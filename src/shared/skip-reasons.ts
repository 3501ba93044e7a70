/**
 * Why LocalDLS did not do something it was asked for one phone (a contact-me not sent, a profile
 * not applied), as a key and its values: the CLI says it in English (skipText), the UI in its
 * language (errors.json `skip.*`). A job's note keeps the English words; parseContactSkip reads
 * them back for the UI.
 */
export type SkipKey =
  | 'stopping' | 'noDevice' | 'noUri' | 'uriNotUrl' | 'uriNotHttp' | 'uriElsewhere' | 'underWay' | 'gap' | 'gapElsewhere'
  | 'profileNoDevice' | 'profileOtherType' | 'profileQueued';

export interface Skip {
  key: SkipKey;
  /** The values the sentence names (a URI, an address, a time as ISO 8601). */
  params: Record<string, string>;
}

const TEXT: Record<SkipKey, (p: Record<string, string>) => string> = {
  stopping: () => 'the service is stopping',
  noDevice: (p) => `no device ${p.mac}: this service has not heard from that phone, so it has no address to contact; check the MAC against the device list`,
  noUri: () => 'the phone has not reported a contact-me-uri',
  uriNotUrl: (p) => `contact-me-uri "${p.uri}" is not a URL`,
  uriNotHttp: (p) => `contact-me-uri must be http:// (manual p.14), not ${p.protocol}`,
  uriElsewhere: (p) => `contact-me-uri points to ${p.host}, but the phone talks from ${p.peer || 'an unknown address'}`,
  underWay: () => 'a contact-me to this phone is under way',
  gap: (p) => `contact gap: the phone ignores another contact-me until ${p.until}`,
  gapElsewhere: (p) => `contact gap: another LocalDLS process has just sent this phone a contact-me; it ignores another until ${p.until}`,
  profileNoDevice: (p) => `no device ${p.mac}`,
  profileOtherType: (p) => `profile ${p.profile} is for ${p.profileType}, the phone is ${p.deviceType || 'of unknown type'}`,
  profileQueued: (p) => `what differs is queued already (job ${p.jobs} writes it): nothing queued again`,
};

export const skip = (key: SkipKey, params: Record<string, string> = {}): Skip => ({ key, params });

export function skipText(s: Skip): string {
  return TEXT[s.key](s.params);
}

/** The reasons a job's "not contacted" note can give (app/contact.ts writes them with skipText). */
const NOTED: [RegExp, (m: RegExpExecArray) => Skip][] = [
  [/^the phone has not reported a contact-me-uri$/, () => skip('noUri')],
  [/^contact-me-uri "([\s\S]*)" is not a URL$/, (m) => skip('uriNotUrl', { uri: m[1]! })],
  [/^contact-me-uri must be http:\/\/ \(manual p\.14\), not (\S*)$/, (m) => skip('uriNotHttp', { protocol: m[1]! })],
  [/^contact-me-uri points to (\S*), but the phone talks from (?:an unknown address|(\S+))$/, (m) => skip('uriElsewhere', { host: m[1]!, peer: m[2] ?? '' })],
];

/** A contact-me reason read back from its English words (null for any other text). */
export function parseContactSkip(text: string): Skip | null {
  for (const [re, make] of NOTED) {
    const m = re.exec(text);
    if (m) return make(m);
  }
  return null;
}
