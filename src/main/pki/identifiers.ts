/** MAC addresses and certificate serial numbers in the one form the PKI stores and compares. */
import { randomBytes } from 'node:crypto';
import { normalizeMac } from '../wpi';

/** `00:1A:E8:00:00:01` from `001ae8000001`, `00-1a-e8-00-00-01`, `001A.E800.0001`, …; throws otherwise. */
export function canonicalMac(raw: string): string {
  const mac = normalizeMac(raw);
  if (mac === null) throw new Error(`"${raw}" is not a MAC address (e.g. 00:1A:E8:00:00:01)`);
  return mac;
}

/** Like canonicalMac, null instead of throwing. */
export const parseMac = normalizeMac;

/** File-name stem for a device: `00-1A-E8-00-00-01`. */
export function macFileStem(mac: string): string {
  return canonicalMac(mac).replace(/:/g, '-');
}

/** DEV URN of RFC 9039 §4.1 (lower-case hex, no separators): `urn:dev:mac:001ae8000001`. */
export function macUrn(mac: string): string {
  return `urn:dev:mac:${canonicalMac(mac).replace(/:/g, '').toLowerCase()}`;
}

/**
 * A serial in the form Node reports it (`X509Certificate.serialNumber`, `PeerCertificate.serialNumber`):
 * upper-case hex, no separators, no leading zero bytes. Accepts `0a:1b:…` and lower case.
 */
export function normalizeSerial(raw: string): string {
  const hex = raw.trim().replace(/[:\s]/g, '');
  if (!/^[0-9a-fA-F]+$/.test(hex)) throw new Error(`"${raw}" is not a certificate serial number (hex)`);
  const stripped = hex.toUpperCase().replace(/^0+/, '');
  if (stripped === '') return '00';
  return stripped.length % 2 === 1 ? `0${stripped}` : stripped;
}

/**
 * 16 random bytes as a positive DER INTEGER in minimal form: the top bit clear (positive) and the
 * first byte non-zero (no illegal padding), so every parser reports the same serial.
 */
export function newSerialHex(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] as number) & 0x7f) || 0x01;
  return bytes.toString('hex').toUpperCase();
}
