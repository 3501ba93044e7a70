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
