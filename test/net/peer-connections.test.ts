/**
 * The admission rules of the listener's connection bookkeeping (src/main/net/peer-connections.ts),
 * each tried with what a hostile or confused client would do. The same rules over real sockets:
 * test/security/flood.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { peerKey } from '../../src/main/net/peer-address';
import { PeerConnections } from '../../src/main/net/peer-connections';

const caps = (maxConnections: number, maxConnectionsPerAddress = 1000, maxPendingPerAddress = 1000) => ({ maxConnections, maxConnectionsPerAddress, maxPendingPerAddress });

/** Opens `n` connections from `address`, named address#i. */
function fill(table: PeerConnections<string>, address: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const id = `${address}#${i}`;
    expect(table.open(id, address)).toMatchObject({ admitted: true, evicted: null });
    return id;
  });
}

describe('peerKey', () => {
  it('spells an address one way: IPv4-mapped IPv6 as IPv4, IPv6 in lower case', () => {
    expect(peerKey('::ffff:127.0.0.2')).toBe('127.0.0.2');
    expect(peerKey('::FFFF:10.1.2.3')).toBe('10.1.2.3');
    expect(peerKey('127.0.0.2')).toBe('127.0.0.2');
    expect(peerKey('FE80::1%eth0')).toBe('fe80::1%eth0');
    // Not an IPv4-mapped address, even if it looks a bit like one.
    expect(peerKey('::ffff:7f00:2')).toBe('::ffff:7f00:2');
    expect(peerKey(undefined)).toBe('?');
  });
});

describe('PeerConnections', () => {
  it('caps connections per address that have not completed a request; a delivered one stops counting as pending', () => {
    const t = new PeerConnections<string>(caps(100, 5, 2));
    const [a0] = fill(t, '10.0.0.1', 2);
    expect(t.open('x', '10.0.0.1')).toEqual({ admitted: false, address: '10.0.0.1', reason: '10.0.0.1 already has 2 connections that have not completed a request (limit 2 per address)' });
    // The same host under its IPv4-mapped spelling is the same address.
    expect(t.open('y', '::ffff:10.0.0.1')).toMatchObject({ admitted: false });
    expect(t.open('z', '10.0.0.2')).toMatchObject({ admitted: true });
    t.delivered(a0!);
    t.delivered(a0!); // twice is once
    expect(t.of('10.0.0.1')).toEqual({ open: 2, pending: 1 });
    expect(t.open('a2', '10.0.0.1')).toMatchObject({ admitted: true });
  });

  it('caps open connections per address', () => {
    const t = new PeerConnections<string>(caps(100, 3, 3));
    for (const id of fill(t, '10.0.0.1', 3)) t.delivered(id);
    expect(t.open('x', '10.0.0.1')).toEqual({ admitted: false, address: '10.0.0.1', reason: '10.0.0.1 already has 3 open connections (limit 3 per address)' });
  });

  it('at the overall cap, takes the oldest pending connection of the address holding the most for a newcomer', () => {
    const t = new PeerConnections<string>(caps(10));
    const attacker = fill(t, '10.0.0.66', 8);
    fill(t, '10.0.0.1', 2);
    // The attacker's oldest two delivered a request: its oldest still-pending one goes first.
    t.delivered(attacker[0]!);
    t.delivered(attacker[1]!);
    const r = t.open('phone', '10.0.0.2');
    expect(r).toEqual({
      admitted: true,
      address: '10.0.0.2',
      evicted: { conn: '10.0.0.66#2', address: '10.0.0.66', reason: 'listener at its limit of 10 connections: 10.0.0.66 held the most (8), one dropped for 10.0.0.2' },
    });
    expect(t.size).toBe(10);
    expect(t.of('10.0.0.66').open).toBe(7);
    // Closing the evicted connection later changes nothing (it was already let go).
    t.close('10.0.0.66#2');
    expect(t.size).toBe(10);
  });

  it('at the overall cap, refuses the address holding the most, and a newcomer that would not hold fewer afterwards', () => {
    const t = new PeerConnections<string>(caps(10));
    fill(t, '10.0.0.66', 6);
    fill(t, '10.0.0.1', 4);
    expect(t.open('more', '10.0.0.66')).toEqual({ admitted: false, address: '10.0.0.66', reason: 'listener at its limit of 10 connections, and 10.0.0.66 already holds 6 of them' });
    // 10.0.0.1 with 5 against 10.0.0.66 with 5 is fair: one moves.
    expect(t.open('a', '10.0.0.1')).toMatchObject({ admitted: true, evicted: { address: '10.0.0.66' } });
    // Now 5 and 5: taking another would only swap who holds more.
    expect(t.open('b', '10.0.0.1')).toMatchObject({ admitted: false });
    expect(t.open('c', '10.0.0.66')).toMatchObject({ admitted: false });
    // A third address is always let in while someone holds more than one.
    expect(t.open('d', '10.0.0.3')).toMatchObject({ admitted: true });
  });

  it('keeps the overall cap under churn and forgets addresses once their connections close', () => {
    const t = new PeerConnections<string>(caps(50, 40, 30));
    const open = new Set<string>();
    let n = 0;
    // A deterministic mix: one attacker, 30 others; each round opens, delivers and closes some.
    for (let round = 0; round < 2000; round++) {
      const address = round % 3 === 0 ? `10.0.1.${round % 30}` : '10.0.0.66';
      const id = `c${n++}`;
      const r = t.open(id, address);
      if (r.admitted) {
        open.add(id);
        if (r.evicted) open.delete(r.evicted.conn);
      }
      expect(t.size).toBeLessThanOrEqual(50);
      expect(t.of('10.0.0.66').pending).toBeLessThanOrEqual(30);
      if (round % 5 === 0) t.delivered(id);
      if (round % 7 === 0) {
        const first = open.values().next().value;
        if (first !== undefined) {
          t.close(first);
          open.delete(first);
        }
      }
    }
    expect(t.size).toBe(open.size);
    for (const id of open) t.close(id);
    expect(t.size).toBe(0);
    expect(t.addresses).toBe(0);
  });
});
