/**
 * Whether an address and port are this service's own listener: a relay whose upstream is itself
 * would send each phone message back to itself, each waiting for the next until the upstream
 * timeout (helper-81: one start-up made 65 chained exchanges of 15 s each). A listener bound to
 * `::` takes every local address, one bound to `0.0.0.0` every local IPv4 one; one bound to an
 * address, only that one. The host compared is the address the listener is bound to, as the
 * system reports it (helper-82: `--host` written as a DNS name, `::0` or `0:0:0:0:0:0:0:1` was
 * never equal to the address connected to, and the relay to itself went unnoticed).
 */
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { peerKey } from './peer-address';

/**
 * One spelling per address: IPv6 in its canonical form (`0:0:0:0:0:0:0:1` as `::1`), and an
 * IPv4-mapped one (`::ffff:127.0.0.1`, which a URL writes `::ffff:7f00:1`) as its IPv4 address.
 */
export function plainAddress(address: string): string {
  let a = address.toLowerCase();
  if (isIP(a) === 6 && !a.includes('%')) {
    try {
      a = new URL(`http://[${a}]/`).hostname.slice(1, -1);
    } catch {
      // Kept as written.
    }
  }
  // The canonical form writes an IPv4-mapped address in hex; otherwise as the service keys peers.
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(a);
  if (!hex) return peerKey(a);
  const hi = parseInt(hex[1]!, 16);
  const lo = parseInt(hex[2]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

const isLoopback = (a: string): boolean => a === '::1' || (isIP(a) === 4 && a.startsWith('127.'));

/** An address of this machine: loopback, or one of its interfaces'. */
export function isLocalAddress(address: string): boolean {
  const a = plainAddress(address);
  return isLoopback(a) || Object.values(networkInterfaces()).some((list) => list?.some((i) => plainAddress(i.address) === a));
}

/** Whether `address:port` reaches a listener bound to `host` on one of `ports`. */
export function isOwnListener(address: string, port: number, host: string, ports: readonly number[]): boolean {
  if (!ports.includes(port)) return false;
  const h = plainAddress(host);
  const a = plainAddress(address);
  if (host === '' || h === '::') return isLocalAddress(a);
  // 0.0.0.0 takes IPv4 only: [::1] on the same port is another server (helper-82).
  if (h === '0.0.0.0') return isIP(a) === 4 && isLocalAddress(a);
  return h === 'localhost' ? isLoopback(a) : a === h;
}

/** Whether an upstream URL written as an address (or `localhost`) names such a listener: known before any connection. */
export function urlIsOwnListener(url: URL, host: string, ports: readonly number[]): boolean {
  const name = url.hostname.replace(/^\[|\]$/g, '');
  const address = name.toLowerCase() === 'localhost' ? '127.0.0.1' : name;
  return isIP(address) !== 0 && isOwnListener(address, Number(url.port || 443), host, ports);
}
