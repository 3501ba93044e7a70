/**
 * One rule for what is secret, used by every view, log line and export. Values stay intact in the
 * store (the protocol needs them); only what is shown to a person is masked.
 */

const SECRET_NAMES = new Set(['restart-password', 'dls-client-certificate', 'secure-mode-data', 'wbm-server-certificate', 'bootstrapping-tan']);

export const MASK = '••••••';

export function isSecretItem(name: string): boolean {
  const n = name.toLowerCase();
  return SECRET_NAMES.has(n) || n.includes('pwd') || n.includes('password') || n.includes('pin-value') || n.includes('private-key');
}

export function maskItemValue(name: string, value: string): string {
  return value !== '' && isSecretItem(name) ? MASK : value;
}

/**
 * Masks secret item values inside WPI XML text, leaving everything else byte for byte. Used for
 * raw message views and exports.
 */
export function maskSecretsInXml(xml: string, isSecret: (name: string) => boolean = isSecretItem): string {
  return xml.replace(/(<(?:\w+:)?Item\b[^>]*\bname\s*=\s*(["'])([^"']*)\2[^>]*>)([\s\S]*?)(<\/(?:\w+:)?Item\s*>)/g, (whole, open: string, _q, name: string, value: string, close: string) =>
    isSecret(name) && value.trim() !== '' ? `${open}${MASK}${close}` : whole,
  );
}

/**
 * Items whose values never reach the store, not even in raw exchanges: a device's private key
 * (inside dls-client-certificate / secure-mode-data) and the PIN's TAN. Other secrets are stored
 * for protocol use and masked on the way out.
 */
const NEVER_STORED = new Set(['dls-client-certificate', 'secure-mode-data', 'bootstrapping-tan']);

export function redactForStorage(body: Uint8Array): Uint8Array {
  const text = Buffer.from(body).toString('utf8');
  if (![...NEVER_STORED].some((n) => text.includes(n))) return body;
  return Buffer.from(maskSecretsInXml(text, (name) => NEVER_STORED.has(name)), 'utf8');
}
