/**
 * A phone pointed at the wrong port says what it met, over real sockets on 127.0.0.1: a plain-HTTP
 * port (the web UI's) answers its TLS handshake with "wrong version number", and the service's
 * secure port closes a connection without a client certificate (helper-77: both were said without
 * a hint of why).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Service } from '../../src/main/app/service';
import { passphraseProtector } from '../../src/main/pki';
import { Transport } from '../../src/phone';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

const failure = (p: Promise<unknown>) => p.then(() => 'answered', (e: unknown) => (e instanceof Error ? e.message : String(e)));

describe('a phone at the wrong port', () => {
  it('a plain-HTTP port: nothing speaks TLS there', async () => {
    const server = http.createServer((_req, res) => res.end('not TLS'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as AddressInfo).port;
    expect(await failure(new Transport({ server: `https://127.0.0.1:${port}` }).post('<x/>'))).toBe(
      `TLS handshake with 127.0.0.1:${port} failed: wrong version number: nothing speaks TLS there (a plain-HTTP port such as the web UI's?); the service's WPI ports are HTTPS (18443 unless set)`,
    );
  });

  it('the service\'s secure port without a client certificate: it takes only phones in Secure Mode', async () => {
    const dataDir = newDir();
    const service = new Service({ dataDir, host: '127.0.0.1', port: 0, securePort: 0, autoContact: false, keyProtector: passphraseProtector('hints', dataDir, { scryptCost: 1024 }) });
    const info = await service.start();
    closers.push(() => service.stop());
    const said = await failure(new Transport({ server: `https://127.0.0.1:${info.securePort!}` }).post('<x/>'));
    expect(said).toMatch(new RegExp(`^connection reset by 127\\.0\\.0\\.1:${info.securePort!}: if that is the service's secure port, it takes only phones in Secure Mode`));
  });
});
