/**
 * Where a recorded request went, as a URL's beginning: shared by "Copy as curl" (shared/curl.ts)
 * and the HAR export (main/commands/traffic-views.ts), so both send a reader to the same place.
 */
import type { ExchangeSummary } from './model';

/** contact-me (our request to the phone) and DCMP polls are plain HTTP; what came over TLS is HTTPS. */
export function requestScheme(x: Pick<ExchangeSummary, 'kind' | 'tlsProtocol'>): 'http' | 'https' {
  return x.kind === 'contact-me' || x.kind === 'dcmp' || x.tlsProtocol === null ? 'http' : 'https';
}

/** An address as a URL's host: an IPv6 one in brackets. */
export function urlHost(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}
