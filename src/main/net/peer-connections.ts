/**
 * Who holds the listener's connections, per client address, and who gets the next one
 * (docs/security.md, "Fairness under flood"). A connection is counted from the TCP accept —
 * before TLS — so a handshake flood is bounded like a header flood, and it is "pending" until it
 * has delivered one complete request (TLS handshake, headers and body): that is the phase a
 * Slowloris client stays in. Per address, both open and pending connections are capped; at the
 * listener's overall cap the address holding the most gives one up for a newcomer that holds
 * fewer, so one host can never starve the others. Only addresses with an open connection are
 * kept, so the bookkeeping is bounded by the overall cap.
 */
import { peerKey } from './peer-address';

export interface ConnectionCaps {
  /** Open connections on the listener, all addresses together. */
  maxConnections: number;
  /** Open connections of one client address (a NAT gateway counts as one). */
  maxConnectionsPerAddress: number;
  /** Connections of one address that have not yet delivered a complete request. */
  maxPendingPerAddress: number;
}

interface Entry<C> {
  conn: C;
  address: string;
  pending: boolean;
}

interface PerAddress<C> {
  /** In arrival order, oldest first. */
  entries: Set<Entry<C>>;
  pending: number;
}

export type Admission<C> =
  | { admitted: true; address: string; evicted: { conn: C; address: string; reason: string } | null }
  | { admitted: false; address: string; reason: string };

export class PeerConnections<C> {
  private readonly byConn = new Map<C, Entry<C>>();
  private readonly byAddress = new Map<string, PerAddress<C>>();

  constructor(private readonly caps: ConnectionCaps) {}

  /**
   * A new connection from `remoteAddress`: admitted (possibly in exchange for another address's
   * connection, which the caller must close) or refused with a one-line reason.
   */
  open(conn: C, remoteAddress: string | undefined): Admission<C> {
    const address = peerKey(remoteAddress);
    const mine = this.byAddress.get(address);
    const open = mine?.entries.size ?? 0;
    const pending = mine?.pending ?? 0;
    const caps = this.caps;
    if (open >= caps.maxConnectionsPerAddress) {
      return { admitted: false, address, reason: `${address} already has ${open} open connections (limit ${caps.maxConnectionsPerAddress} per address)` };
    }
    if (pending >= caps.maxPendingPerAddress) {
      return {
        admitted: false,
        address,
        reason: `${address} already has ${pending} connections that have not completed a request (limit ${caps.maxPendingPerAddress} per address)`,
      };
    }
    let evicted: { conn: C; address: string; reason: string } | null = null;
    if (this.byConn.size >= caps.maxConnections) {
      const [topAddress, top] = this.largest();
      // Taking one from the top holder only helps if the newcomer still holds fewer afterwards;
      // otherwise the newcomer is the one beyond its share.
      if (top === undefined || topAddress === address || open + 1 > top.entries.size - 1) {
        return { admitted: false, address, reason: `listener at its limit of ${caps.maxConnections} connections, and ${address} already holds ${open} of them` };
      }
      const victim = this.victim(top);
      this.remove(victim);
      evicted = {
        conn: victim.conn,
        address: topAddress,
        reason: `listener at its limit of ${caps.maxConnections} connections: ${topAddress} held the most (${top.entries.size + 1}), one dropped for ${address}`,
      };
    }
    const entry: Entry<C> = { conn, address, pending: true };
    this.byConn.set(conn, entry);
    const per = mine ?? { entries: new Set<Entry<C>>(), pending: 0 };
    per.entries.add(entry);
    per.pending++;
    this.byAddress.set(address, per);
    return { admitted: true, address, evicted };
  }

  /** The connection delivered a complete request: it no longer counts as pending. */
  delivered(conn: C): void {
    const entry = this.byConn.get(conn);
    if (!entry || !entry.pending) return;
    entry.pending = false;
    const per = this.byAddress.get(entry.address);
    if (per) per.pending--;
  }

  /** The connection closed (idempotent; an evicted connection was already let go). */
  close(conn: C): void {
    const entry = this.byConn.get(conn);
    if (entry) this.remove(entry);
  }

  get size(): number {
    return this.byConn.size;
  }

  /** Open and pending connections of one address (any spelling of it). */
  of(remoteAddress: string): { open: number; pending: number } {
    const per = this.byAddress.get(peerKey(remoteAddress));
    return { open: per?.entries.size ?? 0, pending: per?.pending ?? 0 };
  }

  /** Addresses with an open connection (what the bookkeeping holds). */
  get addresses(): number {
    return this.byAddress.size;
  }

  private remove(entry: Entry<C>): void {
    this.byConn.delete(entry.conn);
    const per = this.byAddress.get(entry.address);
    if (!per) return;
    per.entries.delete(entry);
    if (entry.pending) per.pending--;
    if (per.entries.size === 0) this.byAddress.delete(entry.address);
  }

  /** The address holding the most connections (ties: the most pending ones). */
  private largest(): [string, PerAddress<C> | undefined] {
    let bestAddress = '';
    let best: PerAddress<C> | undefined;
    for (const [address, per] of this.byAddress) {
      if (!best || per.entries.size > best.entries.size || (per.entries.size === best.entries.size && per.pending > best.pending)) {
        best = per;
        bestAddress = address;
      }
    }
    return [bestAddress, best];
  }

  /** Its oldest connection still without a complete request, else its oldest connection. */
  private victim(per: PerAddress<C>): Entry<C> {
    let oldest: Entry<C> | undefined;
    for (const entry of per.entries) {
      if (entry.pending) return entry;
      oldest ??= entry;
    }
    return oldest as Entry<C>;
  }
}
