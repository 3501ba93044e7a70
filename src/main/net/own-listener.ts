/**
 * Whether an address and port are this service's own listener: a relay whose upstream is itself
 * would send each phone message back to itself, each waiting for the next until the upstream
 * timeout (helper-81: one start-up made 65 chained exchanges of 15 s each). A listener bound to a
 * wildcard address takes every local address; one bound to an address, only that one.
 */
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

/** `::ffff:127.0.0.1` as `127.0.0.1`; IPv6 in lower case. */
function plain(address: string): string {
  const a = address.toLowerCase();
  return a.startsWith('::ffff:') && isIP(a.slice(7)) === 4 ? a.slice(7) : a;
}

const isLoopback = (a: string): boolean => a === '::1' || (isIP(a) === 4 && a.startsWith('127.'));

/** An address of this machine: loopback, or one of its interfaces'. */
export function isLocalAddress(address: string): boolean {
  const a = plain(address);
  return isLoopback(a) || Object.values(networkInterfaces()).some((list) => list?.some((i) => plain(i.address) === a));
}

/** Whether `address:port` reaches a listener bound to `host` on one of `ports`. */
export function isOwnListener(address: string, port: number, host: string, ports: readonly number[]): boolean {
  if (!ports.includes(port)) return false;
  if (WILDCARDS.has(host)) return isLocalAddress(address);
  return host === 'localhost' ? isLoopback(plain(address)) : plain(address) === plain(host);
}

/** Whether an upstream URL written as an address (or `localhost`) names such a listener: known before any connection. */
export function urlIsOwnListener(url: URL, host: string, ports: readonly number[]): boolean {
  const name = url.hostname.replace(/^\[|\]$/g, '');
  const address = name.toLowerCase() === 'localhost' ? '127.0.0.1' : name;
  return isIP(address) !== 0 && isOwnListener(address, Number(url.port || 443), host, ports);
}
