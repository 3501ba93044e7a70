/**
 * What never reaches the store. Raw bytes are the truth everywhere else; key material and the
 * PIN's TAN are the exception.
 */
import { holdsNul, textWithoutNuls } from '../../shared/body-text';
import { MASK, maskSecretsInXml } from '../../shared/secrets';
import { decodeEscaped, encodeEscaped } from './escaped-utf8';

/**
 * Items whose values never reach the store, not even in raw exchanges: a device's private key
 * (inside dls-client-certificate / secure-mode-data) and the PIN's TAN. Other secrets are stored
 * for protocol use and masked on the way out.
 */
/**
 * The names, in any case, with blanks around them (as trim() and toLowerCase() would find them:
 * `\s` is trim's set, and /i without /u folds no other character onto these ASCII letters). A
 * test, not a lower-cased copy of every name: it runs for every item of every reply.
 */
const NEVER_STORED = /^\s*(?:dls-client-certificate|secure-mode-data|bootstrapping-tan)\s*$/i;

export function isNeverStored(name: string): boolean {
  return NEVER_STORED.test(name);
}

/** Cheap test first: one of the names (any case), or a character reference that could spell one. */
const MAYBE = /dls-client-certificate|secure-mode-data|bootstrapping-tan|&#/i;
/**
 * A never-stored Item with nothing in it, written the plain way (the simulated phones' ReadAllItems
 * reply carries an empty bootstrapping-tan): `<Item name="…"/>` or `<Item name="…" …></Item>`, the
 * other attributes quoted without markup or references. When the names occur only in such Items,
 * there is nothing to mask and the full scan (about 4 % of a boot storm's CPU) is skipped; any
 * other occurrence of a name, or any character reference, still takes the full scan.
 */
const EMPTY_NEVER_STORED = /<Item name="(?:dls-client-certificate|secure-mode-data|bootstrapping-tan)"(?:\s+[\w-]+="[^"<>&]*")*\s*(?:\/>|><\/Item>)/g;

/** Whether a body needs the full scan: a never-stored item that may hold a value, or a reference. */
export function mayHoldNeverStored(text: string): boolean {
  return MAYBE.test(text) && MAYBE.test(text.replace(EMPTY_NEVER_STORED, ''));
}

export function redactForStorage(body: Uint8Array): Uint8Array {
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  // NUL bytes (UTF-16, say) hide the names from the tests below, and no mask can be trusted on
  // such a body (shared/body-text.ts): one that names key material, read without its NULs or as
  // it is, is not kept at all, only its size. The service refuses it; no phone sends one.
  if (holdsNul(bytes)) {
    if (!mayHoldNeverStored(textWithoutNuls(bytes)) && !mayHoldNeverStored(bytes.toString('latin1'))) return body;
    return Buffer.from(`[${bytes.length} bytes not kept: NUL bytes and the name of key material, which LocalDLS never stores]`, 'utf8');
  }
  // The names and `&#` are ASCII, and both tests match ASCII only: read as latin1 (no copy, no
  // UTF-8 decoding) the bytes hold them exactly where the UTF-8 text does, for any bytes.
  if (!mayHoldNeverStored(bytes.toString('latin1'))) return body;
  // Bytes that are not UTF-8 stay as they came (escaped while masking): only the values change.
  const text = decodeEscaped(bytes);
  const masked = maskSecretsInXml(text, isNeverStored, { urlPasswords: false });
  return masked === text ? body : encodeEscaped(masked);
}

/**
 * The same rule for items kept as a device's current configuration: a phone that reports its own
 * key or TAN (or a job that wrote one) leaves the mask in the items table, not the value.
 */
export function redactItemsForStorage<T extends { name: string; value: string }>(items: readonly T[] | undefined): T[] | undefined {
  if (!items || !items.some((i) => i.value !== '' && isNeverStored(i.name))) return items as T[] | undefined;
  return items.map((i) => (i.value !== '' && isNeverStored(i.name) ? { ...i, value: MASK } : i));
}
