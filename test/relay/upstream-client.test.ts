/** The upstream client's input rules (the network behaviour is in relay.test.ts), and its refusal to relay to itself. */
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { isOwnListener, urlIsOwnListener } from '../../src/main/net/own-listener';
import { normalizeFingerprint, parseUpstreamUrl, UpstreamClient, UpstreamError } from '../../src/main/net/upstream-client';
import { selfSignedCertificate } from '../phone/helpers';

const HEX = 'a8632' + '5dd12f6c5c8986cfe90e30e51d87beef4776ccb59f9d4dbb253aa556200';
const CANON = HEX.toUpperCase().match(/../g)!.join(':');

describe('upstream fingerprints', () => {
  it('accepts the usual spellings of a SHA-256 fingerprint', () => {
    for (const raw of [HEX, CANON, CANON.toLowerCase(), `SHA256:${HEX}`, `sha256/${CANON}`, `  ${HEX}\n`, HEX.replace(/(..)/g, '$1-').slice(0, -1)]) {
      expect(normalizeFingerprint(raw), raw).toBe(CANON);
    }
  });

  it('refuses what is not 32 bytes of hex (SHA-1, truncated, not hex)', () => {
    for (const raw of ['', 'AB:CD', HEX.slice(0, 40), `${HEX}00`, HEX.replace('a', 'g'), 'sha1:' + HEX.slice(0, 40)]) expect(normalizeFingerprint(raw), raw).toBeNull();
  });
});

describe('upstream URL', () => {
  it('takes https://HOST:PORT (IPv6 too) and refuses the rest with the reason', () => {
    expect(parseUpstreamUrl('https://10.1.2.3:18443').host).toBe('10.1.2.3:18443');
    expect(parseUpstreamUrl('https://[fd00::5]:18443/').hostname).toBe('[fd00::5]');
    expect(() => parseUpstreamUrl('10.1.2.3:18443')).toThrow(/must be an https:\/\/ URL|not a URL/);
    expect(() => parseUpstreamUrl('https://user:pw@10.1.2.3')).toThrow(/user name or password/);
    expect(() => parseUpstreamUrl('https://10.1.2.3/?a=1')).toThrow(/query or fragment/);
    expect(() => parseUpstreamUrl('https://10.1.2.3:18443/DeploymentService/LoginService')).toThrow(/must not have a path/);
    expect(() => parseUpstreamUrl('not a url')).toThrow(/is not a URL; write it as https:\/\/HOST:PORT/);
  });

  it('refuses limits that make no sense, naming them', () => {
    expect(() => new UpstreamClient({ url: 'https://10.1.2.3', trust: {}, timeoutMs: 0 })).toThrow(/upstream timeoutMs must be a whole number of at least 1/);
  });
});

describe('an upstream that is the relay itself', () => {
  it('is found under any name, and nothing is sent: no connection is made (helper-82: one was, with a TLS hello)', async () => {
    const { key, cert } = selfSignedCertificate();
    const server = tls.createServer({ key, cert });
    let hellos = 0;
    let connections = 0;
    server.on('connection', () => connections++);
    server.on('secureConnection', () => hellos++);
    server.on('tlsClientError', () => undefined);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    try {
      const client = new UpstreamClient({ url: `https://127.0.0.1:${port}`, trust: { fingerprints: [] }, isSelf: (address, p) => isOwnListener(address, p, '0.0.0.0', [port]) });
      const error = await client.forward({ method: 'POST', path: '/DeploymentService/LoginService', headers: [], body: Buffer.from('<x/>') }).catch((e: unknown) => e);
      client.close();
      expect(error).toBeInstanceOf(UpstreamError);
      expect([(error as UpstreamError).failure, (error as UpstreamError).status]).toEqual(['not-relayed', 502]);
      expect((error as Error).message).toBe(`the upstream https://127.0.0.1:${port} is this LocalDLS itself (its own listener on port ${port}): relaying to it would send every message back here; give the address of the DLS to relay to`);
      await new Promise((r) => setTimeout(r, 50));
      expect([connections, hellos]).toEqual([0, 0]);
    } finally {
      server.close();
    }
  });

  it('is found before a connection is made, written as an address or as a name: not a byte goes out, not even a TLS hello (helper-82: the hello went out)', async () => {
    // A plain TCP server: it sees every byte, where a TLS server's 'secureConnection' sees only a finished handshake.
    const received: number[] = [];
    let connections = 0;
    const server = net.createServer((socket) => {
      connections++;
      socket.on('data', (d: Buffer) => received.push(d.length));
      socket.on('error', () => undefined);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    try {
      for (const url of [`https://127.0.0.1:${port}`, `https://localhost:${port}`]) {
        const client = new UpstreamClient({ url, trust: { fingerprints: [] }, isSelf: (address, p) => isOwnListener(address, p, '127.0.0.1', [port]) });
        const error = await client.forward({ method: 'POST', path: '/DeploymentService/LoginService', headers: [], body: Buffer.from('<x/>') }).catch((e: unknown) => e);
        client.close();
        expect((error as UpstreamError).failure, url).toBe('not-relayed');
      }
      await new Promise((r) => setTimeout(r, 50));
      expect([connections, received]).toEqual([0, []]);
    } finally {
      server.close();
    }
  });

  it('is bound to the address the system reports, whatever --host said: IPv6 in any spelling, IPv4-mapped, 0.0.0.0 for IPv4 only (helper-82)', () => {
    expect(isOwnListener('::1', 18443, '0:0:0:0:0:0:0:1', [18443])).toBe(true);
    expect(isOwnListener('127.0.0.1', 18443, '::0', [18443])).toBe(true);
    expect(isOwnListener('::ffff:7f00:1', 18443, '127.0.0.1', [18443])).toBe(true);
    expect(urlIsOwnListener(new URL('https://[::ffff:127.0.0.1]:18443'), '127.0.0.1', [18443])).toBe(true);
    // Bound to 0.0.0.0, [::1] on the same port is another server's (IPv6 is not taken).
    expect(isOwnListener('::1', 18443, '0.0.0.0', [18443])).toBe(false);
    expect(isOwnListener('::ffff:127.0.0.1', 18443, '0.0.0.0', [18443])).toBe(true);
  });

  it('is this listener: its port, and an address it is bound to (a wildcard: every local one)', () => {
    expect(isOwnListener('127.0.0.1', 18443, '0.0.0.0', [18443, 18444])).toBe(true);
    expect(isOwnListener('::ffff:127.0.0.9', 18444, '::', [18443, 18444])).toBe(true);
    expect(isOwnListener('::1', 18443, '::', [18443])).toBe(true);
    expect(isOwnListener('127.0.0.1', 18445, '0.0.0.0', [18443, 18444])).toBe(false);
    expect(isOwnListener('127.0.0.2', 18443, '127.0.0.1', [18443])).toBe(false);
    expect(isOwnListener('::ffff:127.0.0.1', 18443, '127.0.0.1', [18443])).toBe(true);
    expect(isOwnListener('127.0.0.5', 18443, 'localhost', [18443])).toBe(true);
    // An address of no interface here (documentation range): another machine.
    expect(isOwnListener('192.0.2.7', 18443, '0.0.0.0', [18443])).toBe(false);
  });
});

describe('kept-alive connections the upstream dropped', () => {
  it('are each retried on another connection, however many went at once; the record is of the attempt answered (helper-84: a second stale one reached the phone as a 500, not recorded)', async () => {
    const { key, cert } = selfSignedCertificate();
    const wire: string[] = [];
    // Each connection answers its first request, keep-alive, and resets at its second (an idle timeout that raced the request).
    const server = net.createServer((raw) => {
      raw.on('error', () => undefined);
      const socket = new tls.TLSSocket(raw, { isServer: true, key, cert });
      socket.on('error', () => undefined);
      let requests = 0;
      let buffered = '';
      socket.on('data', (d: Buffer) => {
        buffered += d.toString('latin1');
        if (!buffered.includes('<x/>')) return;
        if (++requests > 1) return raw.resetAndDestroy();
        wire.push(buffered);
        buffered = '';
        setTimeout(() => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok'), 30);
      });
    });
    server.listen(0, '127.0.0.2');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    const fingerprint = new X509Certificate(cert).fingerprint256;
    const client = new UpstreamClient({ url: `https://127.0.0.2:${port}`, trust: { fingerprints: [fingerprint] } });
    try {
      const request = { method: 'POST', path: '/DeploymentService/LoginService', headers: [['Content-Type', 'text/xml']] as [string, string][], body: Buffer.from('<x/>') };
      // Three connections kept alive, then all three gone when reused.
      await Promise.all([client.forward(request), client.forward(request), client.forward(request)]);
      const answer = await client.forward(request);
      expect([answer.status, answer.body.toString(), answer.reused]).toEqual([200, 'ok', false]);
      // What the record calls sent is what went over the wire, in order.
      const head = wire.at(-1)!.split('\r\n\r\n')[0]!.split('\r\n').slice(1).map((l) => l.split(': ') as [string, string]);
      expect(answer.sent).toEqual(head);
      expect(answer.sent.map(([n]) => n)).toEqual(['Content-Type', 'Via', 'Host', 'Content-Length', 'Connection']);
      expect(answer.sent[1]).toEqual(['Via', `1.1 ${client.viaName}`]);
    } finally {
      client.close();
      server.close();
    }
  });
});
