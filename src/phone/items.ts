/**
 * The simulated phone's configuration: every item it holds, built deterministically from its MAC
 * so a fleet is reproducible, plus the rules a real phone applies when the service reads or writes
 * items (manual p.26, p.30, p.77–83). No I/O.
 */
import { CATALOGUE, type CatalogueEntry } from '../shared/catalogue';
import { formatMac, type Item, type ItemStatus } from './codec';

export { CATALOGUE, type CatalogueEntry };
const BY_NAME = new Map(CATALOGUE.map((e) => [e.name, e]));

/** What makes one phone this phone; everything else is derived from it. */
export interface PhoneIdentity {
  /** Upper-case, colon-separated, e.g. 00:1A:E8:00:00:01. */
  mac: string;
  e164: string;
  deviceType: string;
  softwareVersion: string;
  partNumber: string;
  ipAddress: string;
  /** Port of the phone's contact-me listener (8085 on real phones, manual p.14). */
  contactMePort: number;
}

export interface PhoneConfig {
  readonly identity: PhoneIdentity;
  /** Current items by itemKey(name, index), in the order the phone reports them. */
  items: Map<string, Item>;
  /** Reported as configuration-changed-flag (manual p.34). */
  configurationChanged: boolean;
  /** WriteItems answers "read only" for these (manual p.82–83). */
  readonly readOnly: ReadonlySet<string>;
  /** Names this firmware does not know: never reported, "unknown item" on write (manual p.78). */
  readonly unknown: ReadonlySet<string>;
  /** Forced per-item write statuses, e.g. {"sntp-addr": "invalid data"} (manual p.26). */
  readonly writeStatus: ReadonlyMap<string, ItemStatus>;
}

export interface ConfigOptions {
  readOnly?: Iterable<string>;
  unknown?: Iterable<string>;
  writeStatus?: Readonly<Record<string, ItemStatus>>;
  configurationChanged?: boolean;
}

export type IdentityOptions = Partial<PhoneIdentity> & { mac: string };

/** Phone-reported facts; p.82–83 shows device-type refused as "read only". */
export const DEFAULT_READ_ONLY: readonly string[] = [
  'device-type',
  'related-device-type',
  'software-type',
  'related-software-type',
  'software-version',
  'related-software-version',
  'mac-addr',
  'part-number',
  'contact-me-uri',
  'configuration-changed-flag',
  ...CATALOGUE.filter((e) => e.readonly === 'yes').map((e) => e.name),
];

/** Items the phone cannot provide: status="failed", empty value (manual p.33, p.38, p.43). */
const FAILED_ITEMS = new Set(['gigabit-ethernet', 'user-pwd-unicode', 'blf-modules']);

/** ReadAllItems excludes certificates (manual p.30). */
const CERTIFICATE_ITEMS = new Set(['dls-client-certificate', 'dls-server-ca', 'wbm-server-certificate', 'secure-mode-data']);

/**
 * Items that are parameters of one message, not settings the phone keeps: CleanUp (p.31), Restart
 * (p.51), bootstrapping (p.62), file deployment (p.53–57), mobility messages; plus write-only
 * passwords and the clock. Accepted on write but never reported by ReadAllItems.
 */
const NOT_REPORTED = new Set([
  ...CERTIFICATE_ITEMS,
  'cleanup-reason',
  'send-solicited',
  'goto-secure-mode',
  'restart-password',
  'restart-type',
  'modified-items',
  'requested-items',
  'admin-pwd',
  'admin-pwd-unicode',
  'time',
  ...CATALOGUE.filter((e) => e.name.startsWith('file-') && !e.name.startsWith('file-deployment-')).map((e) => e.name),
]);

/** Free programmable keys per model (manual p.120); normal level 1..n, shifted 1001..1000+n. */
const KEYS_BY_MODEL: Record<string, number> = {
  'OpenStage 15': 8,
  'OpenStage 40': 6,
  'OpenStage 60': 8,
  'OpenStage 80': 9,
  'OpenScape Desk Phone IP 35G': 3,
  'OpenScape Desk Phone IP 55G': 8,
};

/** Part-number model digit, S30817-S740<m>-<X>10<c>-<rev> (ext:GS3, wpi-items-notes §7). */
const PART_MODEL_DIGIT: Record<string, string> = {
  'OpenStage 20E': '1',
  'OpenStage 20': '1',
  'OpenStage 40': '2',
  'OpenStage 60': '3',
  'OpenStage 80': '4',
};

export const DEFAULT_DEVICE_TYPE = 'OpenStage 60';
export const DEFAULT_SOFTWARE_VERSION = 'V3 R5.12.0';

// ---------------------------------------------------------------------------------------------
// Identity

export function normalizeMac(mac: string): string {
  const canonical = formatMac(mac);
  if (canonical === null) throw new Error(`"${mac}" is not a MAC address (expected 6 hex bytes, e.g. 00:1A:E8:00:00:01)`);
  return canonical;
}

export function phoneIdentity(options: IdentityOptions): PhoneIdentity {
  const mac = normalizeMac(options.mac);
  const bytes = mac.split(':').map((b) => parseInt(b, 16));
  const rng = seededRandom(mac);
  const deviceType = options.deviceType ?? DEFAULT_DEVICE_TYPE;
  const tail = ((bytes[4] << 8) | bytes[5]) % 10000;
  return {
    mac,
    e164: options.e164 ?? `49897223${String(tail).padStart(4, '0')}`,
    deviceType,
    softwareVersion: options.softwareVersion ?? DEFAULT_SOFTWARE_VERSION,
    partNumber: options.partNumber ?? partNumber(deviceType, rng),
    ipAddress: options.ipAddress ?? `10.${bytes[3]}.${bytes[4]}.${1 + (bytes[5] % 253)}`,
    contactMePort: options.contactMePort ?? 8085,
  };
}

function partNumber(deviceType: string, rng: Rng): string {
  const m = PART_MODEL_DIGIT[deviceType];
  if (m === undefined) return 'Unknown'; // value seen in the manual (p.43)
  const colour = rng.pick(['1', '3']);
  return `S30817-S740${m}-A10${colour}-${String(10 + rng.int(0, 9)).padStart(3, '0')}`;
}

export function contactMeUri(identity: PhoneIdentity): string {
  return `http://${identity.ipAddress}:${identity.contactMePort}/contact_dls.html/ContactDLS`;
}

// ---------------------------------------------------------------------------------------------
// Building the configuration

export function createPhoneConfig(identity: PhoneIdentity, options: ConfigOptions = {}): PhoneConfig {
  const unknown = new Set(options.unknown ?? []);
  return {
    identity,
    items: generateItems(identity, unknown),
    configurationChanged: options.configurationChanged ?? true,
    readOnly: new Set(options.readOnly ?? DEFAULT_READ_ONLY),
    unknown,
    writeStatus: new Map(Object.entries(options.writeStatus ?? {})),
  };
}

/** Factory reset (manual p.51): back to the phone's delivery state, which the service does not know. */
export function factoryReset(phone: PhoneConfig): void {
  phone.items = generateItems(phone.identity, phone.unknown);
  phone.configurationChanged = true;
}

export function itemKey(name: string, index?: number): string {
  return index === undefined ? name : `${name}#${index}`;
}

function generateItems(identity: PhoneIdentity, unknown: ReadonlySet<string>): Map<string, Item> {
  const ctx = new Context(identity);
  const items = new Map<string, Item>();
  for (const entry of CATALOGUE) {
    if (NOT_REPORTED.has(entry.name) || unknown.has(entry.name)) continue;
    for (const index of ctx.indexesOf(entry)) {
      const item: Item = { name: entry.name, value: '' };
      if (index !== undefined) item.index = index;
      if (FAILED_ITEMS.has(entry.name)) item.status = 'failed';
      else item.value = ctx.valueOf(entry, index);
      items.set(itemKey(entry.name, index), item);
    }
  }
  return items;
}

/** Feature ids of function-key-def (wpi-items.tsv); these need their own per-key items. */
const FEATURE = { clear: 0, select: 1, repeat: 3, forward: 6, hold: 10, deflect: 14, dnd: 25, pickup: 29, repertory: 30, line: 31, dtmf: 54, stimulus: 58, blf: 59, xmlApp: 60, sendUrl: 63 } as const;

const KEY_ITEMS: Record<string, number[] | 'all' | 'normal'> = {
  'function-key-def': 'all',
  'key-label-unicode': 'all',
  'locked-function-keys': 'normal',
  'key-label': 'normal',
  'blf-audible': [FEATURE.blf],
  'blf-popup': [FEATURE.blf],
  'stimulus-led-control-uri': [FEATURE.blf, FEATURE.stimulus],
  'forwarding-type': [FEATURE.forward],
  'forwarding-dest': [FEATURE.forward],
  'select-dial': [FEATURE.select],
  'repertory-dial': [FEATURE.repertory],
  'key-deflect-destination': [FEATURE.deflect],
  'FPK-app-name': [FEATURE.xmlApp],
  'stimulus-DTMF-sequence': [FEATURE.dtmf],
  'stimulus-feature-code': [FEATURE.stimulus],
};

const LABELS: Record<number, string> = {
  [FEATURE.clear]: '',
  [FEATURE.select]: 'Reception',
  [FEATURE.repeat]: 'Redial',
  [FEATURE.forward]: 'Forward',
  [FEATURE.hold]: 'Hold',
  [FEATURE.deflect]: 'Deflect',
  [FEATURE.dnd]: 'DND',
  [FEATURE.pickup]: 'Pickup',
  [FEATURE.repertory]: 'Voicemail',
  [FEATURE.line]: 'Line',
  [FEATURE.dtmf]: 'DTMF',
  [FEATURE.stimulus]: 'Night',
  [FEATURE.blf]: 'BLF',
  [FEATURE.xmlApp]: 'Apps',
  [FEATURE.sendUrl]: 'Door',
};

/** Index ranges of the other multi-instance items (wpi-items-notes §4), trimmed to keep a
 * ReadAllItems answer near the ~30 kB of a real phone. */
const INDEXES: Record<string, number[]> = {
  'feature-availability': range(0, 36),
  'locked-config-menus': range(1, 30),
  'locked-local-function-menus': range(1, 10),
  'Canonical-lookup-international-code': range(1, 3),
  'Canonical-lookup-local-code': range(1, 3),
  'trace-level': range(0, 20),
  alert: range(1, 6),
};

const FILES = [
  { name: 'logo-company.png', type: 'LOGO' },
  { name: 'ring-office.mp3', type: 'RINGTONE' },
  { name: 'ldap-template.txt', type: 'LDAP' },
];

/** Per-phone generation state: the seeded random source and the key layout. */
class Context {
  readonly rng: Rng;
  /** key index -> feature id */
  readonly keys = new Map<number, number>();
  readonly net: string;
  private readonly table: Record<string, (i: number) => string>;
  private readonly sortedKeys: number[];

  constructor(readonly id: PhoneIdentity) {
    this.rng = seededRandom(id.mac);
    const n = KEYS_BY_MODEL[id.deviceType] ?? 6;
    const positions = [...range(2, n), ...range(1001, 1000 + n)];
    // Every per-key item family gets a key when there is room; the rest are common features.
    const wanted = [FEATURE.blf, FEATURE.select, FEATURE.forward, FEATURE.repertory, FEATURE.dtmf, FEATURE.stimulus, FEATURE.deflect, FEATURE.sendUrl, FEATURE.xmlApp, FEATURE.line];
    const common = this.rng.shuffle([FEATURE.dnd, FEATURE.hold, FEATURE.repeat, FEATURE.pickup, FEATURE.blf]);
    const functions: number[] = [...wanted, ...common].slice(0, positions.length);
    while (functions.length < positions.length) functions.push(FEATURE.clear);
    const shuffled = this.rng.shuffle(functions);
    this.keys.set(1, FEATURE.line); // key 1: the phone's own line
    positions.forEach((p, i) => this.keys.set(p, shuffled[i]));
    const ip = id.ipAddress.split('.');
    this.net = ip.length === 4 ? ip.slice(0, 3).join('.') : '10.0.0';
    this.sortedKeys = [...this.keys.keys()].sort((a, b) => a - b);
    this.table = this.buildTable();
  }

  indexesOf(entry: CatalogueEntry): (number | undefined)[] {
    if (!entry.indexed) return [undefined];
    const keyRule = KEY_ITEMS[entry.name];
    const keys = this.sortedKeys;
    if (keyRule === 'all') return keys;
    if (keyRule === 'normal') return keys.filter((k) => k < 1000);
    if (keyRule) return keys.filter((k) => keyRule.includes(this.keys.get(k)!));
    if (entry.name.startsWith('line-')) return keys.filter((k) => this.keys.get(k) === FEATURE.line);
    if (entry.name.startsWith('send-url-')) return keys.filter((k) => this.keys.get(k) === FEATURE.sendUrl);
    if (entry.name === 'key-functionality') return [4002, 4003]; // fixed keys (ext:GS5)
    if (entry.name.startsWith('codec-')) return [1, 2, 3];
    if (entry.name.startsWith('XML-app-')) return [1, 2];
    if (entry.name.startsWith('userdata-')) return [1];
    if (entry.name.startsWith('file-deployment-')) return FILES.map((_, i) => i + 1);
    return INDEXES[entry.name] ?? [1];
  }

  valueOf(entry: CatalogueEntry, index: number | undefined): string {
    const special = this.table[entry.name];
    if (special) return special(index ?? 0);
    if (entry.name.startsWith('userdata-')) return Buffer.from(Array.from({ length: 24 }, () => this.rng.int(0, 255))).toString('base64');
    if (entry.name.startsWith('fault-time-')) return '';
    return genericValue(entry, this.rng);
  }

  /** Values that must agree with the identity or look like a real site, by item name and index. */
  private buildTable(): Record<string, (i: number) => string> {
    const { id, rng, net } = this;
    const ext = id.e164.slice(-4);
    const feature = (i: number): number => this.keys.get(i) ?? FEATURE.clear;
    const app = (i: number) => (i === 1 ? { name: 'phonebook', display: 'Phonebook', path: 'ldap/phonebook.jsp' } : { name: 'hotel', display: 'Hotel', path: 'apps/hotel/start.xml' });
    const file = (i: number) => FILES[(i - 1) % FILES.length];
    return {
      'contact-me-uri': () => contactMeUri(id),
      'mac-addr': () => id.mac,
      e164: () => id.e164,
      'basic-e164': () => id.e164,
      'device-type': () => id.deviceType,
      'related-device-type': () => id.deviceType,
      'software-type': () => 'Siemens SIP',
      'related-software-type': () => 'Siemens SIP',
      'software-version': () => id.softwareVersion,
      'related-software-version': () => id.softwareVersion,
      'part-number': () => id.partNumber,
      'configuration-changed-flag': () => 'true',
      'sip-mobility-state': () => '0',
      'mobility-enabled': () => 'false',
      'user-pwd': () => '123456',
      'user-pwd-hash': () => hex(rng, 20),
      'user-pwd-expiry': () => '',
      'gigabit-ethernet-enabled': () => 'false',
      'key-modules': () => '',
      'bootstrapping-tan': () => '',
      'cloud-pin-value': () => 'failure',
      'wbm-server-certificate-info': () => `CN=${id.mac.replace(/:/g, '')}, O=Unify, valid until 2033-12-31`,
      ipaddress: () => id.ipAddress,
      dhcp: () => 'true', // the manual's recommended set-up (p.12, p.16)
      'enable-WBM': () => 'true',
      hostname: () => `OS-${id.mac.replace(/:/g, '').slice(-6)}`,
      'default-domain': () => 'pbx.example.local',
      'reg-addr': () => `${net}.10`,
      'registrar-addr': () => `${net}.10`,
      'sgnl-gateway-addr': () => `${net}.10`,
      'sgnl-gateway-addr-user': () => `${net}.10`,
      'backup-addr': () => `${net}.11`,
      'reg-port': () => '5060',
      'registrar-port': () => '5060',
      'sgnl-gateway-port': () => '5060',
      'sgnl-gateway-port-user': () => '5060',
      'phone-port': () => '5060',
      'reg-ttl': () => '3600',
      'rtp-base-port': () => '5010',
      'session-duration': () => '3600',
      'sip-user-id': () => id.e164,
      'sip-name': () => `Ext ${ext}`,
      'display-id': () => `Ext ${ext}`,
      'display-id-unicode': () => `Ext ${ext}`,
      'sip-pwd': () => '',
      'reg-id': () => '',
      'reg-number': () => '',
      realm: () => 'pbx.example.local',
      'mwi-e164': () => '4989722399',
      'voice-mail-e164': () => '4989722399',
      'emergency-e164': () => '112',
      'fully-qualified-phone-no': () => `+${id.e164}`,
      'sntp-addr': () => `${net}.1`,
      'sntp-addr-backup': () => 'pool.ntp.org',
      'sntp-tz-offset': () => '60',
      'daylight-save-zone-id': () => '9',
      'daylight-save-minutes': () => '60',
      'country-iso': () => 'DE',
      'language-iso': () => rng.pick(['de', 'en']),
      'ldap-server-address': () => `ldap.example.local`,
      'ldap-server-port': () => '389',
      'ldap-user': () => 'cn=phone,dc=example,dc=local',
      'ldap-pwd': () => '',
      'park-server': () => `park@${net}.10`,
      'pickup-group-uri': () => '*8',
      'conference-factory-uri': () => `conf@${net}.10`,
      'blf-code': () => '*88',
      'snmp-trap-addr': () => `${net}.20`,
      'diagnostic-trap-addr': () => `${net}.20`,
      'qdc-collection-unit-addr': () => `${net}.20`,
      'ng911-location-ca': () => '0=DE,1=BY,3=Munich,19=Hofmannstrasse 51',
      'ringer-audio-file': () => 'ring-office.mp3',
      // Canonical dialling of a Munich site (ext:GS3 examples)
      'Canonical-dialing-local-country-code': () => '49',
      'Canonical-dialing-local-area-code': () => '89',
      'Canonical-dialing-local-node': () => '7223',
      'Canonical-dialing-international-prefix': () => '00',
      'Canonical-dialing-national-prefix': () => '0',
      'Canonical-dialing-external-access': () => '0',
      'Canonical-dialing-emergency-number': () => '112',
      'Canonical-dialing-extension-initial-digits': () => '2',
      'Canonical-lookup-international-code': (i) => (i === 1 ? '0049' : ''),
      'Canonical-lookup-local-code': (i) => (i === 1 ? '089' : ''),
      // keys (manual p.120–138)
      'function-key-def': (i) => String(feature(i)),
      'key-label-unicode': (i) => keyLabel(feature(i), i),
      'key-label': (i) => keyLabel(feature(i), i),
      'locked-function-keys': () => 'false',
      'blf-audible': () => 'false',
      'blf-popup': () => 'true',
      'stimulus-led-control-uri': (i) => `4989722${3300 + (i % 100)}`,
      'forwarding-type': () => '0',
      'forwarding-dest': () => '4989722399',
      'select-dial': () => '4989722310',
      'repertory-dial': () => '4989722399',
      'key-deflect-destination': () => '4989722310',
      'FPK-app-name': () => 'phonebook',
      'stimulus-DTMF-sequence': () => '*21#',
      'stimulus-feature-code': () => '*44',
      'send-url-address': () => `${net}.30`,
      'send-url-port': () => '80',
      'send-url-protocol': () => '3',
      'send-url-method': () => '0',
      'send-url-path': () => '/door/open',
      'send-url-query': () => `ext=${ext}`,
      'send-url-user-id': () => '',
      'send-url-passwd': () => '',
      'key-functionality': () => '0',
      'line-sip-uri': (i) => (i === 1 ? id.e164 : `4989722${3400 + (i % 100)}`),
      'line-sip-user-id': (i) => (i === 1 ? id.e164 : `4989722${3400 + (i % 100)}`),
      'line-sip-realm': () => 'pbx.example.local',
      'line-sip-pwd': () => '',
      'line-short-desc': (i) => (i === 1 ? `Ext ${ext}` : 'Team line'),
      'line-short-desc-unicode': (i) => (i === 1 ? `Ext ${ext}` : 'Team line'),
      'line-primary': (i) => String(i === 1),
      'line-shared-type': (i) => (i === 1 ? '1' : '0'),
      'line-mlo-pos': (i) => String(i === 1 ? 1 : 2),
      'line-hunt-sequence': (i) => String(i === 1 ? 1 : 2),
      'line-hld': () => '',
      'line-hot-line-warm-line': () => '0',
      // codecs, slots 1..3 (ext:GS3)
      'codec-type': (i) => String(i - 1),
      'codec-rank': (i) => String(i),
      'codec-allowed': () => 'true',
      'codec-packet-size': () => '2',
      alert: (i) => `Ringer${i}^${1 + (i % 3)}^${1 + (i % 3)}^60`,
      'trace-level': () => '0',
      // XML applications, indexes 1..2 (manual p.87–92)
      'XML-app-name': (i) => app(i).name,
      'XML-app-display-name': (i) => app(i).display,
      'XML-app-program-name': (i) => app(i).path,
      'XML-app-server-addr': () => `${net}.40`,
      'XML-app-server-port': () => '8080',
      'XML-app-action': () => 'update',
      'XML-app-control-key': (i) => (i === 1 ? '2' : '4'),
      'XML-app-special-instance': (i) => (i === 1 ? '2' : '0'),
      'XML-app-transport': () => '0',
      'XML-app-debug-prog-name': () => '',
      'XML-app-num-tabs': () => '0',
      'XML-app-tab1-name': () => '',
      'XML-app-tab1-display-name': () => '',
      'XML-app-tab2-name': () => '',
      'XML-app-tab2-display-name': () => '',
      'XML-app-tab3-name': () => '',
      'XML-app-tab3-display-name': () => '',
      // files stored on the phone (manual p.245)
      'file-deployment-status': () => 'ok',
      'file-deployment-date': () => `${String(1 + rng.int(0, 27)).padStart(2, '0')}:${String(1 + rng.int(0, 11)).padStart(2, '0')}:2024`,
      'file-deployment-time': () => [rng.int(7, 18), rng.int(0, 59), rng.int(0, 59)].map((n) => String(n).padStart(2, '0')).join(':'),
      'file-deployment-name': (i) => file(i).name,
      'file-deployment-type': (i) => file(i).type,
    };
  }
}

function keyLabel(feature: number, key: number): string {
  const label = LABELS[feature] ?? '';
  return feature === FEATURE.line || feature === FEATURE.blf ? `${label} ${key % 1000}` : label;
}

/** A plausible value from the catalogue's values/default columns. */
function genericValue(entry: CatalogueEntry, rng: Rng): string {
  const dflt = entry.default.replace(/\s*\(.*\)\s*$/, '').trim();
  if (dflt === 'NULL') return '';
  const hasDefault = dflt !== '' && !['unknown', 'n/a'].includes(dflt) && !dflt.includes(' ');
  if (hasDefault) return dflt;
  const values = entry.values;
  const type = entry.type;
  if (type.startsWith('bool')) {
    // Features are mostly switched on, restrictions and debugging aids mostly off.
    const likelyOn = /(enabled|allowed|allow|^enable-|-active$|^qos-|-show$)/.test(entry.name) && !/(test|untrusted|ssh|trace|snmp|diagnostic|qdc)/.test(entry.name);
    return (rng.int(0, 4) === 0) !== likelyOn ? 'true' : 'false';
  }
  // "0=UDP 1=TCP 2=TLS" / "0=active|1=suspended": pick one of the codes
  const codes = [...values.matchAll(/(?:^|[\s|;,:(])(\d+)=/g)].map((m) => m[1]);
  if (codes.length > 0) return codes[0];
  const seen = /^(-?\d+) seen/.exec(values) ?? /(?:e\.g\.|uses)\s*(-?\d+)/.exec(values);
  if (seen) return seen[1];
  const span = /(-?\d+)\s*(?:-|\.\.)\s*(\d+)/.exec(values);
  if (span && (type === 'int' || type === 'enum')) return String(rng.int(Number(span[1]), Number(span[2])));
  const alternatives = values.split('|').map((v) => v.trim());
  if (alternatives.length > 1 && alternatives.every((v) => /^[\w.-]+$/.test(v))) return alternatives[0];
  if (type === 'int') return '0';
  return '';
}

// ---------------------------------------------------------------------------------------------
// What the phone answers

function reported(phone: PhoneConfig, item: Item): Item {
  if (item.name === 'configuration-changed-flag') return { ...item, value: String(phone.configurationChanged) };
  return { ...item };
}

function instancesOf(phone: PhoneConfig, name: string): Item[] {
  return [...phone.items.values()].filter((i) => i.name === name);
}

function current(phone: PhoneConfig, name: string): Item {
  const item = phone.items.get(name);
  return item ? reported(phone, item) : { name, value: '' };
}

/** Start-up / solicited basic items, in the order of the manual's examples (p.33, p.38, p.43). */
export const START_UP_ITEM_NAMES: readonly string[] = [
  'device-type',
  'related-device-type',
  'software-type',
  'related-software-type',
  'software-version',
  'related-software-version',
  'contact-me-uri',
  'mac-addr',
  'configuration-changed-flag',
  'part-number',
  'sip-mobility-state',
  'e164',
  'user-pwd',
  'user-pwd-unicode',
  'basic-e164',
  'mobility-enabled',
  'gigabit-ethernet',
];

export function startUpItems(phone: PhoneConfig): Item[] {
  return START_UP_ITEM_NAMES.filter((n) => !phone.unknown.has(n)).map((n) => current(phone, n));
}

/** Inventory items of an inventory-changes message (ext:SIM). */
export function inventoryItems(phone: PhoneConfig): Item[] {
  return ['key-modules', 'blf-modules', 'slk-modules', 'km15-modules'].filter((n) => phone.items.has(n)).map((n) => current(phone, n));
}

/** ReadAllItems: the whole item set, certificates excluded (manual p.30). */
export function allItems(phone: PhoneConfig): Item[] {
  const out: Item[] = [];
  for (const item of phone.items.values()) if (!NOT_REPORTED.has(item.name)) out.push(reported(phone, item));
  return out;
}

export type ItemRequest = string | { name: string; index?: number };

/**
 * ReadItems (manual p.42–45): a name without index returns every instance; unknown names come back
 * with status "unknown item", a missing instance of a known item with "invalid index" (p.26).
 */
export function readItems(phone: PhoneConfig, requested: readonly ItemRequest[]): Item[] {
  const out: Item[] = [];
  for (const r of requested) {
    const { name, index } = typeof r === 'string' ? { name: r, index: undefined } : r;
    const withIndex = (item: Item): Item => (index === undefined ? item : { ...item, index });
    if (phone.unknown.has(name)) {
      out.push(withIndex({ name, value: '', status: 'unknown item' }));
      continue;
    }
    const all = instancesOf(phone, name);
    const instances = all.filter((i) => index === undefined || i.index === index);
    if (instances.length > 0) out.push(...instances.map((i) => reported(phone, i)));
    else if (all.length > 0) out.push(withIndex({ name, value: '', status: 'invalid index' }));
    else if (BY_NAME.has(name)) out.push(withIndex({ name, value: '' })); // known to the firmware, nothing set
    else out.push(withIndex({ name, value: '', status: 'unknown item' }));
  }
  return out;
}

export interface WriteOutcome {
  /** One entry per written item, in order: "accepted" or the item status the phone reports. */
  statuses: { name: string; index?: number; status: 'accepted' | ItemStatus }[];
  /** What the reply-to lists: only the items that were not applied (manual p.77–83). */
  failed: Item[];
}

/** WriteItems (manual p.46–48, p.77–83): applies what it can and reports the rest per item. */
export function applyWriteItems(phone: PhoneConfig, items: readonly Item[]): WriteOutcome {
  const outcome: WriteOutcome = { statuses: [], failed: [] };
  for (const item of items) {
    const known = !phone.unknown.has(item.name) && (BY_NAME.has(item.name) || instancesOf(phone, item.name).length > 0);
    const status: 'accepted' | ItemStatus = !known
      ? 'unknown item'
      : (phone.writeStatus.get(item.name) ?? (phone.readOnly.has(item.name) ? 'read only' : 'accepted'));
    const entry: WriteOutcome['statuses'][number] = { name: item.name, status };
    if (item.index !== undefined) entry.index = item.index;
    outcome.statuses.push(entry);
    if (status === 'accepted') {
      const stored: Item = { name: item.name, value: item.value };
      if (item.index !== undefined) stored.index = item.index;
      phone.items.set(itemKey(item.name, item.index), stored);
    } else {
      const failed: Item = { name: item.name, value: '', status };
      if (item.index !== undefined) failed.index = item.index;
      outcome.failed.push(failed);
    }
  }
  return outcome;
}

// ---------------------------------------------------------------------------------------------
// Deterministic randomness (mulberry32 seeded by FNV-1a of the MAC): same MAC, same phone.

export interface Rng {
  next(): number;
  int(min: number, max: number): number;
  pick<T>(values: readonly T[]): T;
  shuffle<T>(values: readonly T[]): T[];
}

export function seededRandom(seed: string): Rng {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 0x01000193);
  let state = h >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  return {
    next,
    int,
    pick: (values) => values[int(0, values.length - 1)],
    shuffle: (values) => {
      const a = [...values];
      for (let i = a.length - 1; i > 0; i--) {
        const j = int(0, i);
        [a[i], a[j]] = [a[j], a[i]];
      }
      return a;
    },
  };
}

function hex(rng: Rng, bytes: number): string {
  return Array.from({ length: bytes }, () => rng.int(0, 255).toString(16).padStart(2, '0')).join('');
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}
