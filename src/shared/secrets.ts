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
export function maskSecretsInXml(xml: string): string {
  return xml.replace(/(<(?:\w+:)?Item\b[^>]*\bname\s*=\s*(["'])([^"']*)\2[^>]*>)([\s\S]*?)(<\/(?:\w+:)?Item\s*>)/g, (whole, open: string, _q, name: string, value: string, close: string) =>
    isSecretItem(name) && value.trim() !== '' ? `${open}${MASK}${close}` : whole,
  );
}
