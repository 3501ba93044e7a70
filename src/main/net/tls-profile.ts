/**
 * TLS settings per listener. `modern` is the TLS library's default set at TLS 1.2+. `legacy` serves
 * old OpenStage firmware whose TLS stacks only speak TLS 1.0 with RSA key exchange and CBC ciphers
 * (wpi-protocol.md §2.5): it adds TLS 1.0/1.1 and those suites for that listener only.
 *
 * The same code runs on two TLS libraries: OpenSSL (Node, the CLI and the tests) and BoringSSL
 * (Electron's Node, the desktop app). Their cipher-string grammars differ: OpenSSL 3 refuses
 * TLS 1.0/1.1 and SHA-1 suites unless the string lowers the security level (`@SECLEVEL=0`), and
 * BoringSSL has no security levels and refuses any `@` command but `@STRENGTH`. So the legacy
 * cipher string is chosen by what the running library accepts (docs/desktop-checklist.md lists
 * the suites each then offers), and handshake failures, worded differently by each library
 * ("unsupported protocol" vs "UNSUPPORTED_PROTOCOL"), are normalised before the hint is chosen.
 */
import { createSecureContext, type SecureContextOptions } from 'node:tls';

export const TLS_PROFILES = ['modern', 'legacy'] as const;
export type TlsProfile = (typeof TLS_PROFILES)[number];

/** The cipher-string dialects the legacy profile is written in. */
export type CipherGrammar = 'openssl' | 'boringssl';

/**
 * The legacy cipher string per grammar, tried in this order. Both add the RSA-key-exchange CBC
 * suites old firmware offers (AES128-SHA, AES256-SHA, DES-CBC3-SHA) to the library's default set;
 * OpenSSL also needs security level 0 for TLS 1.0/1.1 and SHA-1 at all.
 */
export const LEGACY_CIPHERS: readonly (readonly [CipherGrammar, string])[] = [
  ['openssl', 'DEFAULT:AES128-SHA:AES256-SHA:DES-CBC3-SHA:@SECLEVEL=0'],
  ['boringssl', 'DEFAULT:AES128-SHA:AES256-SHA:DES-CBC3-SHA'],
];

export interface LegacyTlsOptions {
  minVersion: 'TLSv1';
  ciphers: string;
  grammar: CipherGrammar;
}

/** Whether the running TLS library builds a context from this cipher string (at TLS 1.0). */
export function libraryAccepts(ciphers: string): boolean {
  try {
    createSecureContext({ minVersion: 'TLSv1', ciphers });
    return true;
  } catch {
    return false;
  }
}

/**
 * The legacy options in the first grammar `accepts` takes. Throws, naming both strings, when the
 * library takes neither (a TLS library this code does not know).
 */
export function legacyTlsOptions(accepts: (ciphers: string) => boolean = libraryAccepts): LegacyTlsOptions {
  for (const [grammar, ciphers] of LEGACY_CIPHERS) {
    if (accepts(ciphers)) return { minVersion: 'TLSv1', ciphers, grammar };
  }
  throw new Error(
    `legacy TLS is not available: this TLS library (${tlsLibrary()}) accepts none of the legacy cipher strings ` +
      `(${LEGACY_CIPHERS.map(([g, c]) => `${g}: "${c}"`).join('; ')}); use the modern profile, or report this with the library's version`,
  );
}

/** "OpenSSL 3.0.19", or "BoringSSL" when Node was built without OpenSSL's version string. */
export function tlsLibrary(): string {
  const v = process.versions as Record<string, string | undefined>;
  if (v.boringssl) return `BoringSSL ${v.boringssl}`;
  return v.openssl && v.openssl !== '0.0.0' ? `OpenSSL ${v.openssl}` : 'BoringSSL';
}

let legacyCache: LegacyTlsOptions | undefined;

export function tlsOptionsFor(profile: TlsProfile): Pick<SecureContextOptions, 'minVersion' | 'ciphers'> {
  if (profile === 'legacy') {
    legacyCache ??= legacyTlsOptions();
    return { minVersion: legacyCache.minVersion, ciphers: legacyCache.ciphers };
  }
  return { minVersion: 'TLSv1.2' };
}

/** Protocols that only the legacy profile accepts. */
export function isLegacyProtocol(protocol: string | null | undefined): boolean {
  return protocol === 'TLSv1' || protocol === 'TLSv1.1';
}

/**
 * Why a handshake failed, in OpenSSL's lower-case words whichever library failed it: OpenSSL says
 * "…:SSL routines:tls_early_post_process_client_hello:unsupported protocol", BoringSSL
 * "…:SSL routines:OPENSSL_internal:UNSUPPORTED_PROTOCOL"; both become "unsupported protocol".
 */
export function handshakeReason(err: Error & { code?: string }): string {
  const library = /SSL routines:[^:]*:([^:\n]+)/.exec(err.message)?.[1]?.trim();
  if (library) return normaliseReason(library);
  if (err.code?.startsWith('ERR_SSL_') && err.code.length > 8) return normaliseReason(err.code.slice(8));
  if (/timed? ?out/i.test(err.message) || err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') return 'handshake timeout';
  if (err.code === 'ECONNRESET') return 'connection reset during handshake';
  return err.message.split('\n')[0]?.slice(0, 120) || 'handshake failed';
}

function normaliseReason(reason: string): string {
  return reason.replace(/_/g, ' ').toLowerCase();
}

/** What a person should try, when the library's reason points at an old TLS stack. */
export function handshakeHint(reason: string, profile: TlsProfile): string | null {
  const oldStack = /unsupported protocol|no shared cipher|version too low|no suitable signature|no common signature|no ciphers available|protocol version/i.test(reason);
  if (oldStack && profile === 'modern') {
    return 'an old phone firmware may need legacy TLS: choose Legacy on the Setup page, or start the service with --tls legacy (TLS 1.0/1.1, RSA key exchange, CBC ciphers)';
  }
  if (/wrong version number|http request/i.test(reason)) return 'the client did not speak TLS (plain HTTP on the HTTPS port?)';
  return null;
}
