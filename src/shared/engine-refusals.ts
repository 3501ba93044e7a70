/**
 * Why the service refused a well-formed message for who sent it (provisioning/engine.ts,
 * decide.ts, app/exchange-handler.ts): no or a revoked client certificate, a replay, another
 * host's session cookie, a Secure-Mode phone on the Default-Mode port, a phone it cannot identify
 * or has not met. The service's English words, which the phone gets as the 403's body, the store
 * keeps and the CLI prints; the UI reads them back and says them in its language (traffic.json
 * `engineRefusalText.*`). The rest of the engine's refusals are not here yet and stay as written:
 * a certificate or a claimed mac-addr against the MAC or the interaction, more than one MAC, an
 * interaction already open, certificates of renewals and bootstraps, interactions that ended,
 * fragments.
 *
 * Slots are bounded by what fills them: a MAC as LocalDLS writes it, an address, a nonce clipped
 * to 40 characters and an ellipsis (masking may lengthen it), a serial in hex, a reason for contact.
 */
import { phrasebook } from './phrasebook';

const MAC = '([0-9A-F]{2}(?::[0-9A-F]{2}){5})';
// A nonce as masking may leave it (a URL's password as •••).
const NONCE = '([!-~•]{1,60}…?)';
// IPv4, IPv6 (also IPv4-mapped), with a link-local address's zone (fe80::1%eth0, %12 on Windows).
const ADDRESS = '([0-9A-Fa-f.:]{1,45}(?:%[0-9A-Za-z_.-]{1,15})?)';
const REASON = '([a-z-]{1,40})';
const re = (source: string): RegExp => new RegExp(`^${source}$`);

export const ENGINE_REFUSALS = phrasebook({
  noCertificate: [() => 'no LocalDLS client certificate', re('no LocalDLS client certificate'), []],
  noCertificateRefused: [() => 'no LocalDLS client certificate: refused', re('no LocalDLS client certificate: refused'), []],
  revoked: [(p) => `the client certificate of ${p.mac} (serial ${p.serial}) is revoked`, re(`the client certificate of ${MAC} \\(serial ([0-9A-Fa-f]{1,64})\\) is revoked`), ['mac', 'serial']],
  replayedMessage: [
    (p) => `replayed message: this interaction already had this very message (nonce ${p.nonce}): refused`,
    re(`replayed message: this interaction already had this very message \\(nonce ${NONCE}\\): refused`),
    ['nonce'],
  ],
  replayedNonceEarlier: [
    (p) => `replayed nonce: ${p.mac} already used nonce ${p.nonce} in an earlier interaction: refused`,
    re(`replayed nonce: ${MAC} already used nonce ${NONCE} in an earlier interaction: refused`),
    ['mac', 'nonce'],
  ],
  replayedNonceInInteraction: [
    (p) => `replayed nonce: nonce ${p.nonce} was used earlier in this interaction, before the phone's last message: refused`,
    re(`replayed nonce: nonce ${NONCE} was used earlier in this interaction, before the phone's last message: refused`),
    ['nonce'],
  ],
  cookieOtherAddress: [
    (p) => `the session cookie belongs to the interaction of ${p.mac} at ${p.owner}, but this message came from ${p.from}: refused`,
    re(`the session cookie belongs to the interaction of ${MAC} at ${ADDRESS}, but this message came from ${ADDRESS}: refused`),
    ['mac', 'owner', 'from'],
  ],
  cookieOtherAddressNoMac: [
    (p) => `the session cookie belongs to the interaction of another phone at ${p.owner}, but this message came from ${p.from}: refused`,
    re(`the session cookie belongs to the interaction of another phone at ${ADDRESS}, but this message came from ${ADDRESS}: refused`),
    ['owner', 'from'],
  ],
  secureOnDefault: [
    (p) => `${p.mac} is in Secure Mode: its requests on the Default-Mode port are refused (manual p.65)`,
    re(`${MAC} is in Secure Mode: its requests on the Default-Mode port are refused \\(manual p\\.65\\)`),
    ['mac'],
  ],
  secureOnDefaultForget: [
    (p) => `${p.mac} is in Secure Mode: its requests on the Default-Mode port are refused (manual p.65); if the phone was reset by hand, run \`localdls bootstrap --mac ${p.mac} --forget\``,
    re(`${MAC} is in Secure Mode: its requests on the Default-Mode port are refused \\(manual p\\.65\\); if the phone was reset by hand, run \`localdls bootstrap --mac \\1 --forget\``),
    ['mac'],
  ],
  noMacItem: [(p) => `${p.reason} without a mac-addr item: the phone cannot be identified`, re(`${REASON} without a mac-addr item: the phone cannot be identified`), ['reason']],
  noMacItemRefused: [(p) => `${p.reason} without a mac-addr item: the phone cannot be identified: refused`, re(`${REASON} without a mac-addr item: the phone cannot be identified: refused`), ['reason']],
  unknownDevice: [
    (p) => `${p.reason} from ${p.mac}, a device LocalDLS has not met (a phone introduces itself with start-up): refused`,
    re(`${REASON} from ${MAC}, a device LocalDLS has not met \\(a phone introduces itself with start-up\\): refused`),
    ['reason', 'mac'],
  ],
});

export type EngineRefusalKey = (typeof ENGINE_REFUSALS.keys)[number];

export const engineRefusalText = (key: EngineRefusalKey, params: Record<string, string> = {}): string => ENGINE_REFUSALS.text(key, params);
