/**
 * What never reaches the store. Raw bytes are the truth everywhere else; key material and the
 * PIN's TAN are the exception.
 */
import { maskSecretsInXml } from '../shared/secrets';

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
