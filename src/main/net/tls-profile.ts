/**
 * TLS settings per listener. `modern` is Node's default set at TLS 1.2+. `legacy` serves old
 * OpenStage firmware whose TLS stacks only speak TLS 1.0 with RSA key exchange and CBC ciphers
 * (wpi-protocol.md §2.5): it adds TLS 1.0/1.1 and those suites, lowering OpenSSL's security level
 * for that listener only.
 */
import type { SecureContextOptions } from 'node:tls';

export const TLS_PROFILES = ['modern', 'legacy'] as const;
export type TlsProfile = (typeof TLS_PROFILES)[number];

export function tlsOptionsFor(profile: TlsProfile): Pick<SecureContextOptions, 'minVersion' | 'ciphers'> {
  if (profile === 'legacy') {
    return { minVersion: 'TLSv1', ciphers: 'DEFAULT:AES128-SHA:AES256-SHA:DES-CBC3-SHA:@SECLEVEL=0' };
  }
  return { minVersion: 'TLSv1.2' };
}

/** Protocols that only the legacy profile accepts. */
export function isLegacyProtocol(protocol: string | null | undefined): boolean {
  return protocol === 'TLSv1' || protocol === 'TLSv1.1';
}

/** OpenSSL's own words for why a handshake failed, e.g. "no shared cipher". */
export function handshakeReason(err: Error & { code?: string }): string {
  const openssl = /SSL routines:[^:]*:([^:]+)/.exec(err.message)?.[1]?.trim();
  if (openssl) return openssl;
  if (err.code === 'ERR_SSL_WRONG_VERSION_NUMBER') return 'wrong version number';
  if (/timed? ?out/i.test(err.message) || err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') return 'handshake timeout';
  if (err.code === 'ECONNRESET') return 'connection reset during handshake';
  return err.message.split('\n')[0]?.slice(0, 120) || 'handshake failed';
}

/** What a person should try, when OpenSSL's reason points at an old TLS stack. */
export function handshakeHint(reason: string, profile: TlsProfile): string | null {
  const oldStack = /unsupported protocol|no shared cipher|version too low|no suitable signature|no ciphers available|protocol version/i.test(reason);
  if (oldStack && profile === 'modern') {
    return 'an old phone firmware may need legacy TLS: choose Legacy on the Setup page, or start the service with --tls legacy (TLS 1.0/1.1, RSA key exchange, CBC ciphers)';
  }
  if (/wrong version number|http request/i.test(reason)) return 'the client did not speak TLS (plain HTTP on the HTTPS port?)';
  return null;
}
