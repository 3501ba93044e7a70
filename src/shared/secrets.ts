/**
 * One rule for what is secret, used by every view, log line and export. Values stay intact in the
 * store (the protocol needs them); only what is shown to a person is masked.
 */

const SECRET_NAMES = new Set(['restart-password', 'dls-client-certificate', 'secure-mode-data', 'wbm-server-certificate', 'bootstrapping-tan']);

export const MASK = '••••••';

/** Password-family items whose values are not secrets themselves (flags and counters). */
const NOT_SECRET = /(-status|-retries|-on-logoff|-policy|-length|-expiry|-change)$/;

export function isSecretItem(name: string): boolean {
  const n = name.toLowerCase();
  if (SECRET_NAMES.has(n)) return true;
  if (NOT_SECRET.test(n)) return false;
  return n.includes('pwd') || n.includes('password') || n.includes('pin-value') || n.includes('private-key');
}

export function maskItemValue(name: string, value: string): string {
  return value !== '' && isSecretItem(name) ? MASK : value;
}

/**
 * Masks secret item values inside WPI XML text, leaving everything else byte for byte. Used for
 * raw message views and exports.
 */
export function maskSecretsInXml(xml: string, isSecret: (name: string) => boolean = isSecretItem): string {
  // One Item element at a time; a self-closing <Item …/> has no value and is left alone.
  return xml.replace(
    /(<(?:\w+:)?Item\b[^>]*?\bname\s*=\s*(["'])([^"']*)\2[^>]*?(?<!\/)>)([^<]*)(<\/(?:\w+:)?Item\s*>)/g,
    (whole, open: string, _q, name: string, value: string, close: string) => (isSecret(name) && value.trim() !== '' ? `${open}${MASK}${close}` : whole),
  );
}
