import https from 'node:https';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { Service } from '../../src/main/app/service';
import type { TlsProfile } from '../../src/main/net/tls-profile';
import { parseDLSMessage } from '../../src/main/wpi';
import { tempDirs } from '../support/tmp';
import { message, startUpItems } from '../support/messages';

const newDir = tempDirs();
const running: Service[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
});

async function start(tlsProfile: TlsProfile) {
  const service = new Service({ dataDir: newDir(), host: '127.0.0.1', port: 0, tls: tlsProfile });
  running.push(service);
  const { port } = await service.start();
  return { service, port };
}

/** What an old OpenStage TLS stack offers: TLS 1.0 only, RSA key exchange, AES128-SHA. */
const OLD_FIRMWARE: tls.ConnectionOptions = { minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'AES128-SHA:@SECLEVEL=0' };

function oldPhonePost(port: number, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port, path: '/DeploymentService/LoginService', method: 'POST', rejectUnauthorized: false, agent: false, ...OLD_FIRMWARE, headers: { 'Content-Type': 'text/xml', 'Content-Length': Buffer.byteLength(body), Connection: 'close' } },
      (res) => {
        let data = '';
        res.on('data', (c) => (data += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function handshake(port: number, options: tls.ConnectionOptions): Promise<string> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options }, () => {
      resolve(`ok ${s.getProtocol()}`);
      s.end();
    });
    s.on('error', (e) => resolve(`error ${e.message}`));
  });
}

async function until<T>(read: () => T | undefined): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = read();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('condition not reached');
}

describe('TLS compatibility of the Default-Mode listener', () => {
  it('modern: an old-firmware handshake fails and is recorded with OpenSSL\'s reason and a hint', async () => {
    const { service, port } = await start('modern');
    expect(await oldPhonePost(port, message({ reason: 'start-up', items: startUpItems('00:1A:E8:00:00:01') })).catch((e: Error) => e.message)).toMatch(/protocol version|alert/i);
    const row = await until(() => service.store.exchanges().find((x) => x.kind === 'tls-failure'));
    expect(row.error).toBe('TLS handshake failed: unsupported protocol');
    expect(row.warning).toMatch(/--tls legacy/);
    expect(row).toMatchObject({ httpStatus: 0, mac: null, peerAddress: '127.0.0.1', listener: 'default' });
    // A current client is still served with TLS 1.2+.
    expect(await handshake(port, {})).toMatch(/^ok TLSv1\.[23]$/);
  });

  it('legacy: the old-firmware phone completes start-up, and TLSv1 + AES128-SHA are stored', async () => {
    const { service, port } = await start('legacy');
    const mac = '00:1A:E8:00:00:02';
    const r = await oldPhonePost(port, message({ reason: 'start-up', items: startUpItems(mac) }));
    expect(r.status).toBe(200);
    expect(parseDLSMessage(r.body).action).toBe('ReadAllItems');
    const x = service.store.exchanges({ mac })[0]!;
    expect(x).toMatchObject({ tlsProtocol: 'TLSv1', tlsCipher: 'AES128-SHA' });
    expect(service.store.device(mac)?.tlsProtocol).toBe('TLSv1');
    // Modern clients keep working on the legacy listener.
    expect(await handshake(port, {})).toMatch(/^ok TLSv1\.[23]$/);
  });

  it('plain HTTP on the TLS port is recorded as a failed handshake with its own hint', async () => {
    const { service, port } = await start('modern');
    const net = await import('node:net');
    await new Promise<void>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => s.write('POST /DeploymentService/LoginService HTTP/1.1\r\nHost: x\r\n\r\n'));
      s.on('close', () => resolve());
      s.on('error', () => resolve());
    });
    const row = await until(() => service.store.exchanges().find((x) => x.kind === 'tls-failure'));
    expect(row.warning).toMatch(/did not speak TLS/);
  });

  it('rate-limits failure rows so a scanner cannot flood the store', async () => {
    const { service, port } = await start('modern');
    for (let i = 0; i < 40; i++) await handshake(port, OLD_FIRMWARE);
    await new Promise((r) => setTimeout(r, 50));
    const rows = service.store.exchanges({ limit: 1000 }).filter((x) => x.kind === 'tls-failure');
    expect(rows).toHaveLength(1);
  });
});

describe('changing the TLS profile of a running service (the app setting)', () => {
  it('switches the Default-Mode listener to legacy on the same port, and the setting survives a restart', async () => {
    const dataDir = newDir();
    const first = new Service({ dataDir, host: '127.0.0.1', port: 0 });
    running.push(first);
    const info = await first.start();
    expect(info.tls).toBe('modern');
    expect(await handshake(info.port, OLD_FIRMWARE)).toMatch(/^error /);

    await first.setTlsProfile('default', 'legacy');
    expect(first.tlsProfile('default')).toBe('legacy');
    // Same port, no restart: the old-firmware client now completes the handshake.
    expect(await handshake(info.port, OLD_FIRMWARE)).toBe('ok TLSv1');
    const r = await oldPhonePost(info.port, message({ reason: 'start-up', items: startUpItems('00:1A:E8:00:00:03') }));
    expect(r.status).toBe(200);
    // A current client still gets TLS 1.2+.
    expect(await handshake(info.port, {})).toMatch(/^ok TLSv1\.[23]$/);
    expect(first.store.setting('tls_default')).toBe('legacy');
    await first.stop();
    running.splice(running.indexOf(first), 1);

    // Restart: the stored setting applies when the config names no profile…
    const second = new Service({ dataDir, host: '127.0.0.1', port: 0 });
    running.push(second);
    const again = await second.start();
    expect(again.tls).toBe('legacy');
    expect(await handshake(again.port, OLD_FIRMWARE)).toBe('ok TLSv1');
    // …and back to modern refuses the old client again, still without closing the port.
    await second.setTlsProfile('default', 'modern');
    expect(await handshake(again.port, OLD_FIRMWARE)).toMatch(/^error /);
    await second.stop();
    running.splice(running.indexOf(second), 1);

    // An explicit profile (the CLI's --tls) wins over the stored one.
    const third = new Service({ dataDir, host: '127.0.0.1', port: 0, tls: 'legacy' });
    running.push(third);
    expect((await third.start()).tls).toBe('legacy');
    await third.stop();
    running.splice(running.indexOf(third), 1);
    const fourth = new Service({ dataDir, host: '127.0.0.1', port: 0 });
    running.push(fourth);
    expect((await fourth.start()).tls).toBe('modern');
  });

  it('stores the secure listener\'s profile separately, for its next start when Secure Mode is off', async () => {
    const dataDir = newDir();
    const service = new Service({ dataDir, host: '127.0.0.1', port: 0 });
    running.push(service);
    await service.start();
    await service.setTlsProfile('secure', 'legacy');
    expect(service.tlsProfile('secure')).toBeNull();
    expect(service.storedTlsProfile('secure')).toBe('legacy');
    expect(service.storedTlsProfile('default')).toBeUndefined();
    expect(service.tlsProfile('default')).toBe('modern');
    await expect(service.setTlsProfile('default', 'weak' as TlsProfile)).rejects.toThrow(/modern, legacy/);
  });
});
