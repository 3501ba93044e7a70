/**
 * Fairness under flood (issue #12, item 3), over real sockets against a real Service: 127.0.0.2
 * is the attacker, phones come from other loopback addresses. docs/security.md, "Fairness under
 * flood", says what is guaranteed; `npm run flood` is the long variant (1,500 slow connections).
 *
 * (a) Slowloris: the attacker holds as many slow connections as it can (partial headers, a line
 *     every 2 s; a third never start TLS); phones from other addresses are served.
 * (b) The attacker holds half-sent fragmented messages up to its share of the pool; a phone from
 *     another address still completes its fragmented message, the attacker gets 503 and why.
 * (c) The per-address limits are configurable, refuse with a recorded reason, count an address
 *     once however it is spelt, and a NAT address with many phones below them is served.
 */
import net from 'node:net';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import type { WpiListener } from '../../src/main/net/wpi-listener';
import { DEFAULT_MAX_ASSEMBLING_BYTES_PER_ADDRESS } from '../../src/main/provisioning/session';
import { Service, type ServiceConfig } from '../../src/main/app/service';
import { message, startUpItems } from '../support/messages';
import { tempDirs } from '../support/tmp';
import { HEAD, runPhones, SlowAttack, sleep } from './flood-support';
import { send } from './support';

const newDir = tempDirs();
const running: Service[] = [];
const attacks: SlowAttack[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const a of attacks.splice(0)) a.stop();
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of running.splice(0)) await s.stop();
});

const ATTACKER = '127.0.0.2';

async function start(config: Partial<ServiceConfig> = {}): Promise<{ service: Service; port: number; listener: WpiListener }> {
  const service = new Service({ dataDir: newDir(), host: '127.0.0.1', port: 0, autoContact: false, ...config });
  running.push(service);
  const { port } = await service.start();
  // What the listener counts per address (the test looks, it does not touch).
  const listener = (service as unknown as { listener: WpiListener }).listener;
  return { service, port, listener };
}

function attack(port: number, connections: number): SlowAttack {
  const a = new SlowAttack({ port, from: ATTACKER, connections });
  attacks.push(a);
  return a;
}

/** Waits (bounded) until `done` holds. */
async function until(done: () => boolean, what: string, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(20)) if (done()) return;
  throw new Error(`not reached within ${ms} ms: ${what}`);
}

function errors(service: Service): string[] {
  return service.store.exchanges({ limit: 1000 }).flatMap((x) => (x.error ? [x.error] : []));
}

/** A raw connection from `from`; resolves with it once connected, `closed` tells when the service ends it. */
function connect(port: number, from: string, secure = false): Promise<{ socket: net.Socket; localPort: number; closed: Promise<Buffer> }> {
  return new Promise((resolve, reject) => {
    const socket = secure ? tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...{ localAddress: from } }) : net.connect({ host: '127.0.0.1', port, localAddress: from });
    sockets.push(socket);
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    const closed = new Promise<Buffer>((r) => socket.once('close', () => r(Buffer.concat(chunks))));
    socket.on('error', () => undefined);
    socket.once(secure ? 'secureConnect' : 'connect', () => resolve({ socket, localPort: socket.localPort ?? 0, closed }));
    socket.once('close', () => reject(new Error('closed before connecting')));
  });
}

describe('(a) Slowloris from one address', () => {
  // Generous timeouts: the attacker shares this process (and its two cores) with the service.
  it('default limits: the attacker holds at most 256 connections that have not completed a request; phones from other addresses are served', { timeout: 90_000 }, async () => {
    const { service, port, listener } = await start();
    const a = attack(port, 300);
    await a.start();
    await until(() => listener.connections.of(ATTACKER).pending === 256, 'the attacker at its pending limit');
    const phones = await runPhones(port, 20, 5, (i) => `127.0.51.${1 + i}`);
    // (Fewer once the service closes some at the handshake / headers timeout, before they are reopened.)
    expect(listener.connections.of(ATTACKER).pending).toBeLessThanOrEqual(256);
    a.stop();
    expect(phones.failures).toEqual([]);
    expect(phones.served / 20).toBeGreaterThanOrEqual(0.95);
    expect(errors(service)).toContain(`connection refused: ${ATTACKER} already has 256 connections that have not completed a request (limit 256 per address)`);
    // The bookkeeping lets go of the attacker once its connections are closed.
    await until(() => listener.connections.of(ATTACKER).open === 0, 'the attacker forgotten');
    expect(listener.connections.addresses).toBe(0);
  });

  it('per-address limits raised: at the overall cap the attacker, holding the most, gives up connections to the phones', { timeout: 90_000 }, async () => {
    const limits = { maxConnections: 200, maxConnectionsPerAddress: 10_000, maxPendingPerAddress: 10_000 };
    const { service, port, listener } = await start({ limits });
    const a = attack(port, 300);
    await a.start();
    await until(() => listener.connections.size === 200, 'the listener full');
    expect(listener.connections.of(ATTACKER).open).toBe(200);
    const phones = await runPhones(port, 20, 5, (i) => `127.0.52.${1 + i}`);
    a.stop();
    expect(phones.failures).toEqual([]);
    expect(phones.served / 20).toBeGreaterThanOrEqual(0.95);
    const rows = errors(service);
    expect(rows).toContain(`connection refused: listener at its limit of 200 connections, and ${ATTACKER} already holds 200 of them`);
    expect(rows.some((e) => /^connection dropped: listener at its limit of 200 connections: 127\.0\.0\.2 held the most \(200\), one dropped for 127\.0\.52\.\d+$/.test(e))).toBe(true);
  });
});

describe('(b) half-sent fragmented messages from one address', () => {
  it('holds them up to the address’s share (503 with the reason beyond), while a phone elsewhere completes its fragmented message', async () => {
    const { service, port } = await start();
    const sessions = service.handler.engine.sessions;
    // 10 items of 24,000 characters: about 240 kB of fragment per request (body limit 256 KiB).
    const big = Array.from({ length: 10 }, (_, i) => ({ name: 'x', index: i, value: 'v'.repeat(24_000) }));
    const fragment = () => message({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', fragment: 'next', items: big });
    let held = 0;
    let refusal: { status: number; body: string } | null = null;
    // Several interactions (under 4 MiB each, so no message is refused for its own size), until
    // the address's share is used; bounded at 8 × 16 fragments (about 30 MB).
    for (let s = 0; s < 8 && !refusal; s++) {
      const mac = `00:1A:E8:F1:00:${(s + 1).toString(16).padStart(2, '0')}`;
      const first = await send(port, message({ reason: 'start-up', items: startUpItems(mac) }), { from: ATTACKER });
      expect(first.status).toBe(200);
      const cookie = first.setCookie!;
      for (let f = 0; f < 16; f++) {
        const r = await send(port, fragment(), { from: ATTACKER, cookie });
        if (r.status !== 200) {
          refusal = r;
          break;
        }
        expect(r.dls?.action).toBe('GetNextFragment');
        held++;
      }
    }
    const share = DEFAULT_MAX_ASSEMBLING_BYTES_PER_ADDRESS;
    const reason = `fragmented messages from ${ATTACKER} hold ${share} bytes, the limit per address: finish or abandon them, then try again`;
    expect(refusal).toMatchObject({ status: 503, body: `${reason}\n` });
    expect(errors(service)[0]).toBe(reason);
    // 69 fragments of 240,650 counted bytes fit in 16 MiB. The refused message's own fragments are
    // dropped with it (its final fragment must not pass for the whole): four interactions of 16
    // stay held, and the pool (64 MiB) has room for the others.
    expect(held).toBe(69);
    expect(sessions.assemblingBytesOf(ATTACKER)).toBe(64 * 240_650);

    // A phone at another address: start-up, ReadAllItems answered in fragments (200s), CleanUp.
    const phone = await runPhones(port, 1, 1, () => '127.0.0.3');
    expect(phone.failures).toEqual([]);
    // Abandoned interactions end (idle sweep) and give the share back.
    service.sweep(Date.now() + 10 * 60_000);
    expect(sessions.assemblingBytesOf(ATTACKER)).toBe(0);
    const after = await send(port, message({ reason: 'start-up', items: [...startUpItems('00:1A:E8:F1:01:02'), ...big], fragment: 'next' }), { from: ATTACKER });
    expect(after.dls?.action).toBe('GetNextFragment');
  });
});

describe('(c) per-address limits', () => {
  it('refuses a connection beyond the pending limit of its address (recorded), not one from another address; a connection that delivered a request no longer counts as pending', async () => {
    const { service, port, listener } = await start({ limits: { maxConnectionsPerAddress: 6, maxPendingPerAddress: 3 } });
    const idle = await Promise.all([1, 2, 3].map(() => connect(port, '127.0.0.9')));
    await until(() => listener.connections.of('127.0.0.9').pending === 3, 'three pending');
    // The fourth from that address: accepted by the kernel, closed by the service without a byte.
    const fourth = await connect(port, '127.0.0.9');
    expect((await fourth.closed).length).toBe(0);
    const other = await connect(port, '127.0.0.10');
    await until(() => listener.connections.of('127.0.0.10').open === 1, 'another address admitted');
    const row = service.store.exchanges({ limit: 10 }).find((x) => x.peerAddress === '127.0.0.9');
    expect(row).toMatchObject({
      kind: 'tls-failure', listener: 'default', localPort: port, httpStatus: 0,
      error: 'connection refused: 127.0.0.9 already has 3 connections that have not completed a request (limit 3 per address)',
    });
    expect(row?.peerPort).toBe(fourth.localPort);
    expect(row?.warning).toMatch(/NAT.*maxPendingPerAddress/);
    for (const c of [...idle, other]) c.socket.destroy();
    await until(() => listener.connections.size === 0, 'all closed');

    // Three keep-alive connections that completed a request: open, no longer pending…
    const kept = await Promise.all([1, 2, 3].map(() => connect(port, '127.0.0.11', true)));
    for (const [i, c] of kept.entries()) {
      const body = message({ reason: 'start-up', items: startUpItems(`00:1A:E8:F1:02:0${i}`) });
      c.socket.write(`${HEAD}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    }
    await until(() => service.store.exchanges({ limit: 10 }).filter((x) => x.httpStatus === 200).length === 3, 'three answered');
    await until(() => listener.connections.of('127.0.0.11').pending === 0, 'none pending');
    expect(listener.connections.of('127.0.0.11').open).toBe(3);
    // …so three more may be pending; the seventh is beyond the open limit.
    await Promise.all([1, 2, 3].map(() => connect(port, '127.0.0.11')));
    await until(() => listener.connections.of('127.0.0.11').open === 6, 'six open');
    const seventh = await connect(port, '127.0.0.11');
    expect((await seventh.closed).length).toBe(0);
    expect(errors(service)).toContain('connection refused: 127.0.0.11 already has 6 open connections (limit 6 per address)');
  });

  it('counts an IPv4 client of an IPv6 socket (::ffff:127.0.0.2) under its IPv4 address', async () => {
    const { service, port, listener } = await start({ host: '::ffff:127.0.0.1', limits: { maxPendingPerAddress: 2 } });
    await Promise.all([1, 2].map(() => connect(port, ATTACKER)));
    await until(() => listener.connections.of(ATTACKER).pending === 2, 'two pending');
    expect(listener.connections.of(`::ffff:${ATTACKER}`).pending).toBe(2);
    const third = await connect(port, ATTACKER);
    expect((await third.closed).length).toBe(0);
    const row = service.store.exchanges({ limit: 1 })[0];
    expect(row).toMatchObject({ peerAddress: `::ffff:${ATTACKER}`, error: `connection refused: ${ATTACKER} already has 2 connections that have not completed a request (limit 2 per address)` });
  });

  it('serves 40 phones behind one NAT address at once with the default limits', { timeout: 90_000 }, async () => {
    const { port, listener } = await start();
    const phones = await runPhones(port, 40, 40, () => '127.0.0.12');
    expect(phones.failures).toEqual([]);
    await until(() => listener.connections.size === 0, 'all closed');
  });

  it('refuses limits that would switch a bound off, naming the setting', async () => {
    for (const [limits, name, got] of [
      [{ maxPendingPerAddress: 0 }, 'maxPendingPerAddress', '0'],
      [{ maxConnectionsPerAddress: 1.5 }, 'maxConnectionsPerAddress', '1.5'],
      [{ maxConnections: Number.POSITIVE_INFINITY }, 'maxConnections', 'Infinity'],
    ] as const) {
      const service = new Service({ dataDir: newDir(), host: '127.0.0.1', port: 0, autoContact: false, limits });
      running.push(service);
      await expect(service.start()).rejects.toThrow(`limits.${name} must be a whole number of at least 1 (got ${got})`);
    }
  });
});
