import type { PeerCertificate } from 'node:tls';
import type { CertificateSummary } from '../../shared/model';

/** Node's subject/issuer object as one RFC 4514-like line, most specific first (CN=…, O=…). */
function distinguishedName(name: PeerCertificate['subject'] | undefined): string {
  if (!name) return '';
  const order = ['CN', 'OU', 'O', 'L', 'ST', 'C', 'serialNumber', 'emailAddress'];
  const keys = Object.keys(name).sort((a, b) => (order.indexOf(a) + 100) % 100 - (order.indexOf(b) + 100) % 100);
  return keys
    .map((k) => {
      const v = (name as unknown as Record<string, string | string[]>)[k];
      return (Array.isArray(v) ? v : [v]).map((one) => `${k}=${String(one)}`).join(', ');
    })
    .join(', ');
}

/** What the traffic view shows of a client certificate: who, by whom, valid when. */
export function certificateSummary(cert: PeerCertificate): CertificateSummary {
  return {
    subject: distinguishedName(cert.subject),
    issuer: distinguishedName(cert.issuer),
    serial: cert.serialNumber ?? '',
    validFrom: Date.parse(cert.valid_from),
    validTo: Date.parse(cert.valid_to),
    fingerprint256: cert.fingerprint256 ?? '',
  };
}

/**
 * Why the secure port refused a client certificate, in words for the traffic view. Node reports
 * the X.509 check as a code on the socket (`authorizationError`) after the handshake; OpenSSL's
 * names are kept in brackets so they can be searched for.
 */
export function clientCertificateReason(code: string | Error | null | undefined): string {
  const name = code instanceof Error ? ((code as NodeJS.ErrnoException).code ?? code.message) : code;
  switch (name) {
    case undefined:
    case null:
    case '':
      return 'client certificate not accepted';
    case 'UNABLE_TO_GET_ISSUER_CERT':
      return 'no client certificate, or one without its issuer (UNABLE_TO_GET_ISSUER_CERT)';
    case 'CERT_HAS_EXPIRED':
      return 'client certificate expired (CERT_HAS_EXPIRED)';
    case 'CERT_NOT_YET_VALID':
      return 'client certificate not yet valid (CERT_NOT_YET_VALID)';
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
      return `client certificate self-signed, not issued by this service's CA (${name})`;
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
      return `client certificate not issued by this service's CA (${name})`;
    case 'CERT_SIGNATURE_FAILURE':
      return "client certificate names this service's CA but its signature does not verify: forged (CERT_SIGNATURE_FAILURE)";
    case 'CERT_REVOKED':
      return 'client certificate revoked (CERT_REVOKED)';
    default:
      return `client certificate refused (${name})`;
  }
}

/** What a person could do about it. */
export function clientCertificateHint(reason: string): string {
  if (/expired|not yet valid/.test(reason)) return "check the phone's and this computer's clocks; renew the phone's certificate or bootstrap it again";
  if (/forged/.test(reason)) return 'a certificate made to look like one of ours: not a phone of this site, or a tampered one';
  if (/no client certificate/.test(reason)) return 'only phones bootstrapped into Secure Mode can use this port';
  return 'the phone was bootstrapped with another CA: bootstrap it again, or import that CA';
}
