/**
 * Why an answered exchange is worth a look (ExchangeSummary.warning), in the service's English
 * words, which the store keeps and the CLI prints; the UI reads them back and says them in its
 * language (traffic.json `warningText.*`). Several are joined with "; ". What LocalDLS could not read
 * of a message is the codec's refusal (shared/wpi-refusals.ts), which the UI says in its language
 * too; the XML parser's own words inside it stay as they came. Not yet here: the provisioning decisions'
 * warnings (a busy phone, a reply-to of no job, status reports), which stay as written.
 */
import { phrasebook } from './phrasebook';

const NOT_WPI = "the phone's message is not WPI as LocalDLS reads it";
const NOT_DLS = "the upstream's answer is not a DLSMessage as LocalDLS reads it";
const UNCONFIRMED = 'the MAC is the one the message names, unconfirmed';

export const EXCHANGE_WARNINGS = phrasebook({
  phoneNotWpi: [(p) => `${NOT_WPI} (${p.problem})`, /^the phone's message is not WPI as LocalDLS reads it \(([\s\S]*)\)$/, ['problem']],
  phoneNotWpiRelayed: [(p) => `${NOT_WPI} (${p.problem}); relayed as it was`, /^the phone's message is not WPI as LocalDLS reads it \(([\s\S]*)\); relayed as it was$/, ['problem']],
  answerNotDlsRelayed: [(p) => `${NOT_DLS} (${p.problem}); relayed as it was`, /^the upstream's answer is not a DLSMessage as LocalDLS reads it \(([\s\S]*)\); relayed as it was$/, ['problem']],
  macUnconfirmedNoAnswer: [() => `${UNCONFIRMED}: the upstream did not answer`, /^the MAC is the one the message names, unconfirmed: the upstream did not answer$/, []],
  macUnconfirmedNotTaken: [() => `${UNCONFIRMED}: the DLS did not take the message`, /^the MAC is the one the message names, unconfirmed: the DLS did not take the message$/, []],
  macsUnclear: [() => 'the message names more than one MAC, or one that is not a MAC address: inventory not updated', /^the message names more than one MAC, or one that is not a MAC address: inventory not updated$/, []],
  otherMac: [(p) => `the message names mac-addr ${p.named}, but its interaction belongs to ${p.mac}: inventory not updated`, /^the message names mac-addr (\S+), but its interaction belongs to (\S+): inventory not updated$/, ['named', 'mac']],
  cookielessReport: [(p) => `${p.reason} without session cookie: matched by address and mac-addr`, /^(\S+) without session cookie: matched by address and mac-addr$/, ['reason']],
  cookielessReportSecure: [(p) => `${p.reason} without session cookie: matched by client certificate and mac-addr`, /^(\S+) without session cookie: matched by client certificate and mac-addr$/, ['reason']],
  cookielessReply: [() => 'reply-to without session cookie: matched by address', /^reply-to without session cookie: matched by address$/, []],
  cookielessReplySecure: [() => 'reply-to without session cookie: matched by client certificate', /^reply-to without session cookie: matched by client certificate$/, []],
});

export type ExchangeWarningKey = Parameters<typeof EXCHANGE_WARNINGS.text>[0];

export const exchangeWarningText = (key: ExchangeWarningKey, params: Record<string, string> = {}): string => EXCHANGE_WARNINGS.text(key, params);

/** Several warnings as one (ExchangeSummary.warning). */
export const WARNING_SEPARATOR = '; ';
