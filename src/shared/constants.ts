/**
 * The limits and word lists of the API contract, without the schema library: the preload (which
 * must bundle to nothing but `electron`) imports src/shared/api.ts, which re-exports these.
 */
import type { ExchangeKind, ListenerKind } from './model';

export const LIMITS = {
  pageSize: 5000,
  exportIds: 5000,
  text: 200,
  field: 64,
  mac: 32,
  itemName: 128,
  itemValue: 16 * 1024,
  items: 1000,
  /** Devices one command names: `--all` on a site of this many phones still works in one command. */
  macs: 10_000,
  url: 2048,
  jobs: 5000,
} as const;

export const LISTENER_KINDS = ['default', 'secure', 'dcmp', 'contact-me'] as const satisfies readonly ListenerKind[];
export const EXCHANGE_KINDS = ['wpi', 'tls-failure', 'contact-me', 'dcmp'] as const satisfies readonly ExchangeKind[];
// Compile-time checks that the lists above name every kind the model knows.
const _allListeners: Exclude<ListenerKind, (typeof LISTENER_KINDS)[number]> extends never ? true : never = true;
const _allKinds: Exclude<ExchangeKind, (typeof EXCHANGE_KINDS)[number]> extends never ? true : never = true;
void _allListeners;
void _allKinds;

/** The WPI listeners whose TLS profile can be chosen, and the profiles (net/tls-profile.ts). */
export const TLS_LISTENERS = ['default', 'secure'] as const;
export const TLS_PROFILE_NAMES = ['modern', 'legacy'] as const;

/** File types of FileDeployment (manual p.53–55, §4.5.3), and DONGLE (field reports). */
export const FILE_TYPES = ['RINGTONE', 'LOGO', 'MOH', 'PIC', 'LDAP', 'SCREENSAVER', 'DONGLE'] as const;
export const JOB_SPEC_KINDS = ['write', 'read', 'read-all', 'restart', 'factory-reset', 'file', 'firmware'] as const;

/** Item names as the phones use them (`function-key-def`, `sntp-addr`, …). */
export const ITEM_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_.-]*$/;
/** Largest item index accepted (the CLI's name[index] takes up to 6 digits). */
export const MAX_ITEM_INDEX = 999_999;
export const PROFILE_NAME_PATTERN = /^[\w.-]{1,64}$/;
