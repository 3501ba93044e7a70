/**
 * Why the relay gave a phone no upstream answer (net/upstream-client.ts, app/relay-handler.ts), in
 * the service's English words, which the store keeps with the exchange; the UI reads them back and
 * says them in its language (relay.json `failureText.*`). Addresses and the system's own message
 * inside one stay as they came. A certificate's verdict is not among them: it names what was
 * checked, and stays as written.
 */
import { phrasebook } from './phrasebook';

export const SECURE_MODE_NOT_RELAYED =
  'Secure Mode cannot be relayed: the phone trusts only its DLS\'s CA and holds a client certificate for that DLS, so LocalDLS can neither pass as the DLS nor present the phone\'s certificate to it. Point Secure-Mode phones at the DLS directly';

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export const RELAY_FAILURES = phrasebook({
  timeout: [(p) => `the upstream ${p.origin} did not answer within ${p.ms} ms`, /^the upstream (\S+) did not answer within (\d+) ms$/, ['origin', 'ms']],
  handshakeTimeout: [(p) => `the upstream ${p.origin} did not complete its TLS handshake within ${p.ms} ms`, /^the upstream (\S+) did not complete its TLS handshake within (\d+) ms$/, ['origin', 'ms']],
  unreachable: [(p) => `the upstream ${p.origin} is unreachable: ${p.detail}`, /^the upstream (\S+) is unreachable: ([\s\S]*)$/, ['origin', 'detail']],
  staleClosed: [(p) => `the upstream ${p.origin} closed kept-alive connections as requests were sent on them: ${p.detail}`, /^the upstream (\S+) closed kept-alive connections as requests were sent on them: ([\s\S]*)$/, ['origin', 'detail']],
  malformed: [(p) => `the upstream ${p.origin} answered with malformed HTTP: ${p.detail}`, /^the upstream (\S+) answered with malformed HTTP: ([\s\S]*)$/, ['origin', 'detail']],
  switching: [(p) => `the upstream ${p.origin} answered ${p.status} (switching protocols): a WPI answer cannot be passed on`, /^the upstream (\S+) answered (\d+) \(switching protocols\): a WPI answer cannot be passed on$/, ['origin', 'status']],
  closedEarly: [(p) => `the upstream ${p.origin} closed the connection before its answer was complete`, /^the upstream (\S+) closed the connection before its answer was complete$/, ['origin']],
  tooLarge: [(p) => `the upstream's answer exceeds ${p.bytes} bytes: not passed on`, /^the upstream's answer exceeds (\d+) bytes: not passed on$/, ['bytes']],
  answerNotPassed: [(p) => `the upstream ${p.origin}'s answer cannot be passed on: ${p.why}`, /^the upstream (\S+)'s answer cannot be passed on: ([\s\S]*)$/, ['origin', 'why']],
  requestNotPassed: [(p) => `the phone's request cannot be passed on: ${p.detail}`, /^the phone's request cannot be passed on: ([\s\S]*)$/, ['detail']],
  self: [
    (p) => `the upstream ${p.origin} is this LocalDLS itself (its own listener on port ${p.port}): relaying to it would send every message back here; give the address of the DLS to relay to`,
    /^the upstream (\S+) is this LocalDLS itself \(its own listener on port (\d+)\): relaying to it would send every message back here; give the address of the DLS to relay to$/,
    ['origin', 'port'],
  ],
  loop: [
    (p) => `this request has passed this LocalDLS already (its Via header names ${p.via}): the upstream ${p.origin} relays it back here, so the relays form a loop; point one of them at the DLS itself`,
    /^this request has passed this LocalDLS already \(its Via header names (\S+)\): the upstream (\S+) relays it back here, so the relays form a loop; point one of them at the DLS itself$/,
    ['via', 'origin'],
  ],
  secureMode: [() => `${SECURE_MODE_NOT_RELAYED}.`, new RegExp(`^${esc(SECURE_MODE_NOT_RELAYED)}\\.$`), []],
});

export type RelayFailureKey = Parameters<typeof RELAY_FAILURES.text>[0];

export const relayFailureText = (key: RelayFailureKey, params: Record<string, string> = {}): string => RELAY_FAILURES.text(key, params);
