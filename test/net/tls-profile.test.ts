/**
 * The legacy TLS options under both TLS libraries the app runs on. OpenSSL is the one in this
 * Node; BoringSSL (Electron's) is not available here, so its cipher-string grammar is modelled
 * from BoringSSL's parser (ssl_cipher.cc: a leading DEFAULT, names of [A-Za-z0-9._-] joined by
 * "+", the operators - + !, and "@" followed by STRENGTH only; unknown names skipped). The real
 * BoringSSL run is on the checklist in docs/desktop-checklist.md.
 */
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { handshakeHint, handshakeReason, LEGACY_CIPHERS, legacyTlsOptions, libraryAccepts, tlsOptionsFor } from '../../src/main/net/tls-profile';

/** BoringSSL's (non-strict) cipher-rule grammar: true when SSL_CTX_set_cipher_list would succeed. */
function boringSslAccepts(rules: string): boolean {
  let rest = rules.startsWith('DEFAULT') ? rules.slice(7) : rules;
  if (rest.startsWith(':')) rest = rest.slice(1);
  for (const rule of rest.split(/[:, ;]/)) {
    if (rule === '') continue;
    if (rule.startsWith('@')) {
      if (!/^@STRENGTH/.test(rule)) return false;
      continue;
    }
    const body = /^[-+!]/.test(rule) ? rule.slice(1) : rule;
    if (!/^[A-Za-z0-9._-]+(\+[A-Za-z0-9._-]+)*$/.test(body)) return false;
  }
  return true;
}

describe('the BoringSSL grammar model', () => {
  it('refuses what BoringSSL refuses, takes what it takes', () => {
    expect(boringSslAccepts('DEFAULT:AES128-SHA:@SECLEVEL=0')).toBe(false);
    expect(boringSslAccepts('DEFAULT:@STRENGTH')).toBe(true);
    expect(boringSslAccepts('ALL:!aNULL:-3DES:RSA+AES')).toBe(true);
    expect(boringSslAccepts('AES128-SHA:=x')).toBe(false);
  });
});

describe('legacy TLS options', () => {
  it('under OpenSSL (this Node): the OpenSSL string, which lowers the security level, and it builds a context', () => {
    const o = legacyTlsOptions();
    expect(o).toEqual({ minVersion: 'TLSv1', ciphers: 'DEFAULT:AES128-SHA:AES256-SHA:DES-CBC3-SHA:@SECLEVEL=0', grammar: 'openssl' });
    expect(() => tls.createSecureContext({ minVersion: o.minVersion, ciphers: o.ciphers })).not.toThrow();
    expect(tlsOptionsFor('legacy')).toEqual({ minVersion: 'TLSv1', ciphers: o.ciphers });
  });

  it('under BoringSSL’s grammar: the string without @SECLEVEL, which that grammar accepts', () => {
    const o = legacyTlsOptions(boringSslAccepts);
    expect(o.grammar).toBe('boringssl');
    expect(o.ciphers).not.toContain('@');
    expect(boringSslAccepts(o.ciphers)).toBe(true);
    // The suites old firmware offers are named as exact ciphers (BoringSSL adds exact names even
    // when its aliases leave them out as deprecated, e.g. 3DES).
    for (const suite of ['AES128-SHA', 'AES256-SHA', 'DES-CBC3-SHA']) expect(o.ciphers.split(':')).toContain(suite);
    // The BoringSSL string is valid OpenSSL too (OpenSSL would then refuse TLS 1.0 at its default
    // security level, which is why OpenSSL's own string is tried first).
    expect(libraryAccepts(o.ciphers)).toBe(true);
  });

  it('the OpenSSL string is the one BoringSSL refuses (the reason the desktop app could not serve old phones)', () => {
    const openssl = LEGACY_CIPHERS.find(([g]) => g === 'openssl')![1];
    expect(boringSslAccepts(openssl)).toBe(false);
  });

  it('a library that takes neither string: a clear error, not a crash inside the listener', () => {
    expect(() => legacyTlsOptions(() => false)).toThrow(/legacy TLS is not available: this TLS library \((OpenSSL|BoringSSL)[^)]*\) accepts none .*use the modern profile/);
  });

  it('libraryAccepts reports what OpenSSL refuses', () => {
    expect(libraryAccepts('@BOGUS')).toBe(false);
    expect(libraryAccepts('NO-SUCH-CIPHER')).toBe(false);
  });

  it('modern is TLS 1.2+ with the library’s default suites under either library', () => {
    expect(tlsOptionsFor('modern')).toEqual({ minVersion: 'TLSv1.2' });
  });
});

describe('handshake failures in either library’s words get the same reason and hint', () => {
  const failure = (message: string, code?: string) => Object.assign(new Error(message), code ? { code } : {});
  const cases: [string, Error, string][] = [
    ['OpenSSL 3', failure('error:0A000102:SSL routines::unsupported protocol', 'ERR_SSL_UNSUPPORTED_PROTOCOL'), 'unsupported protocol'],
    ['OpenSSL 1.1', failure('error:1417102B:SSL routines:tls_early_post_process_client_hello:unsupported protocol'), 'unsupported protocol'],
    ['BoringSSL', failure('error:100000f0:SSL routines:OPENSSL_internal:UNSUPPORTED_PROTOCOL', 'ERR_SSL_UNSUPPORTED_PROTOCOL'), 'unsupported protocol'],
    ['OpenSSL', failure('error:0A0000C1:SSL routines::no shared cipher'), 'no shared cipher'],
    ['BoringSSL', failure('error:100000b8:SSL routines:OPENSSL_internal:NO_SHARED_CIPHER'), 'no shared cipher'],
    ['BoringSSL, code only', failure('handshake failed', 'ERR_SSL_NO_COMMON_SIGNATURE_ALGORITHMS'), 'no common signature algorithms'],
    ['OpenSSL', failure('error:0A00010B:SSL routines::wrong version number', 'ERR_SSL_WRONG_VERSION_NUMBER'), 'wrong version number'],
    ['BoringSSL', failure('error:1000009c:SSL routines:OPENSSL_internal:HTTP_REQUEST'), 'http request'],
  ];
  it.each(cases)('%s: %s', (_lib, err, reason) => {
    expect(handshakeReason(err)).toBe(reason);
  });

  it('the hints: legacy advice for an old stack on modern (none on legacy), plain-HTTP advice', () => {
    for (const reason of ['unsupported protocol', 'no shared cipher', 'no common signature algorithms', 'tlsv1 alert protocol version']) {
      expect(handshakeHint(reason, 'modern'), reason).toMatch(/legacy TLS/);
      expect(handshakeHint(reason, 'legacy'), reason).toBeNull();
    }
    expect(handshakeHint('http request', 'modern')).toMatch(/plain HTTP/);
    expect(handshakeHint('wrong version number', 'legacy')).toMatch(/plain HTTP/);
    expect(handshakeHint('handshake timeout', 'modern')).toBeNull();
  });

  it('other failures keep their words, cut to one line', () => {
    expect(handshakeReason(failure('socket hang up\nmore', 'ECONNRESET'))).toBe('connection reset during handshake');
    expect(handshakeReason(failure('TLS handshake timeout', 'ERR_TLS_HANDSHAKE_TIMEOUT'))).toBe('handshake timeout');
    expect(handshakeReason(failure('something odd\nsecond line'))).toBe('something odd');
  });
});
