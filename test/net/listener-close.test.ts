/**
 * Quitting with phones connected (issue 17 #7): stopping the service ends every connection at
 * once, so an idle one cannot hold the app's quit for a keep-alive or handshake timeout. The
 * timeouts here are set to an hour: if close() waited for any of them, the test would hang and
 * fail on vitest's timeout; nothing is timed.
 */
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { Service } from '../../src/main/app/service';
import { tempDirs } from '../support/tmp';
import { message, startUpItems } from '../support/messages';

const newDir = tempDirs();
const HOUR = 3_600_000;
const opened: net.Socket[] = [];
afterEach(() => {
  for (const s of opened.splice(0)) s.destroy();
});

const closedByPeer = (s: net.Socket) => new Promise<void>((done) => s.once('close', () => done()));

function connected(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
    opened.push(s);
  });
}

/** A TLS connection that stays open after one exchange (HTTP keep-alive), as a phone's would. */
async function keptAlive(port: number): Promise<tls.TLSSocket> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  const body = message({ reason: 'start-up', items: startUpItems('00:1A:E8:00:00:31') });
  const socket = await new Promise<tls.TLSSocket>((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: '/DeploymentService/LoginService', method: 'POST', rejectUnauthorized: false, agent, headers: { 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(req.socket as tls.TLSSocket));
    });
    req.on('error', reject);
    req.end(body);
  });
  opened.push(socket);
  return socket;
}

describe('stopping the service with idle connections open', () => {
  it('ends a bare TCP connection (no handshake), one mid-handshake and a keep-alive one, and stops', async () => {
    const service = new Service({
      dataDir: newDir(),
      host: '127.0.0.1',
      port: 0,
      limits: { handshakeTimeoutMs: HOUR, keepAliveTimeoutMs: HOUR, headersTimeoutMs: HOUR, requestTimeoutMs: HOUR },
    });
    const { port } = await service.start();
    const bare = await connected(port);
    const midHandshake = await connected(port);
    midHandshake.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff])); // a ClientHello record header, then nothing
    const alive = await keptAlive(port);
    const ends = [closedByPeer(bare), closedByPeer(midHandshake), closedByPeer(alive)];
    await service.stop();
    await Promise.all(ends);
    // And the port is free again.
    await expect(connected(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  }, 20_000);
});
