/**
 * One task per turn of the event loop (src/main/net/turns.ts): phones' messages that arrive
 * together are answered one per turn, so timers and other sockets get the loop between two
 * exchanges (issue #18: the service's event loop during a rollout). Nothing here is timed: the
 * tests look at the ORDER in which a timer and the exchanges run.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { Contacts } from '../../src/main/app/contact';
import { Service } from '../../src/main/app/service';
import { TurnQueue } from '../../src/main/net/turns';
import { Store } from '../../src/main/store';
import { message, startUpItems } from '../support/messages';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** Spins until the clock has moved on by `ms` (so a timer of `ms` is due), without yielding. */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // the loop is held on purpose
  }
}

describe('TurnQueue', () => {
  it('runs tasks in order, and a timer that falls due during one task runs before the next task', async () => {
    const order: string[] = [];
    const q = new TurnQueue();
    await new Promise<void>((done) => {
      q.push(() => {
        order.push('a');
        setTimeout(() => order.push('timer'), 1);
        spin(3);
      });
      q.push(() => order.push('b'));
      q.push(() => {
        order.push('c');
        done();
      });
      expect(order).toEqual([]); // nothing runs inside push()
    });
    expect(order).toEqual(['a', 'timer', 'b', 'c']);
  });

  it('a task that throws is reported and the next one still runs', async () => {
    const errors: unknown[] = [];
    const q = new TurnQueue((e) => errors.push(e));
    const ran = await new Promise<string>((done) => {
      q.push(() => {
        throw new Error('broken task');
      });
      q.push(() => done('next'));
    });
    expect(ran).toBe('next');
    expect(errors).toEqual([expect.objectContaining({ message: 'broken task' })]);
    expect(q.length).toBe(0);
  });
});

/** A TLS connection to the listener, its handshake done. */
function connect(port: number): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => resolve(s));
    s.on('error', reject);
    cleanup.push(() => s.destroy());
  });
}

function post(body: string): string {
  return `POST /DeploymentService/LoginService HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

// The listener's turns alone: with group commit (the service's default) the exchanges a batch
// gathered over turns are committed and announced together (test/net/group-commit.test.ts).
describe('the WPI listener answers one message per turn of the event loop', () => {
  it('messages that arrive together do not hold the loop: a timer due after the first exchange runs before the second', async () => {
    const service = new Service({ dataDir: newDir(), host: '127.0.0.1', port: 0, autoContact: false, groupCommit: false });
    const { port } = await service.start();
    cleanup.push(() => service.stop());
    const phones = 6;
    const sockets = await Promise.all(Array.from({ length: phones }, () => connect(port)));
    const order: string[] = [];
    const all = new Promise<void>((done) => {
      service.onExchange((x) => {
        order.push(`exchange ${x.mac}`);
        if (order.length === 1) {
          setTimeout(() => order.push('timer'), 1);
          spin(3);
        }
        if (order.filter((o) => o.startsWith('exchange')).length === phones) done();
      });
    });
    // Every request is in the kernel before the service reads any: one poll finds them all.
    sockets.forEach((s, i) => s.write(post(message({ reason: 'start-up', items: startUpItems(`00:1A:E8:00:07:${String(i).padStart(2, '0')}`) }))));
    await all;
    expect(order[1]).toBe('timer');
    expect(order.filter((o) => o.startsWith('exchange'))).toHaveLength(phones);
    // Each phone got its answer.
    const answers = await Promise.all(sockets.map((s) => new Promise<string>((r) => (s.readableLength ? r(String(s.read())) : s.once('data', (d: Buffer) => r(d.toString('latin1')))))));
    for (const a of answers) expect(a).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('a request still waiting for its turn when the service stops is dropped, not answered from a closed store', async () => {
    const errors: Error[] = [];
    const service = new Service({ dataDir: newDir(), host: '127.0.0.1', port: 0, autoContact: false, groupCommit: false, onError: (e) => errors.push(e) });
    const { port } = await service.start();
    const sockets = await Promise.all(Array.from({ length: 3 }, () => connect(port)));
    let exchanges = 0;
    const stopped = new Promise<void>((done) => {
      service.onExchange(() => {
        // The first exchange stops the service; the other two requests are queued behind it.
        if (++exchanges === 1) void service.stop().then(done);
      });
    });
    sockets.forEach((s, i) => s.write(post(message({ reason: 'start-up', items: startUpItems(`00:1A:E8:00:08:0${i}`) }))));
    await stopped;
    await new Promise((r) => setImmediate(r));
    expect(exchanges).toBe(1);
    expect(errors).toEqual([]);
  });
});

describe('contact-me takes its turns too', () => {
  async function phoneListener() {
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        seen.push(req.url!);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => server.close(r)));
    return { port: (server.address() as AddressInfo).port, seen };
  }

  it('a phone whose contact waits for its turn is not due again, and two contacts started together send one contact-me', async () => {
    const phone = await phoneListener();
    const store = new Store(newDir());
    cleanup.push(() => store.close());
    const mac = '00:1A:E8:00:09:01';
    store.commit(
      {
        kind: 'wpi', started: 1, ended: 1, listener: 'default', localPort: 18443, peerAddress: '127.0.0.1', peerPort: 1, tlsProtocol: null, tlsCipher: null,
        method: 'POST', path: '/', httpStatus: 200, requestHeaders: [], requestBody: Buffer.alloc(0), responseHeaders: [], responseBody: Buffer.alloc(0),
        mac: null, reason: 'start-up', replyAction: null, replyStatus: null, nonce: 'n', fragment: null, itemCount: 0, refusedItems: 0, action: 'CleanUp', error: null, warning: null,
      },
      { device: { mac, contactMeUri: `http://127.0.0.1:${phone.port}/contact_dls.html/ContactDLS`, lastAddress: '127.0.0.1' } },
      null,
    );
    store.addJobs([{ mac, kind: 'Restart', items: [], source: 'test' }], Date.now());
    const contacts = new Contacts(store, {});
    expect(contacts.due(() => false)).toEqual([mac]);
    const first = contacts.contact(mac);
    const second = contacts.contact(mac);
    expect(contacts.due(() => false)).toEqual([]);
    const [a, b] = await Promise.all([first, second]);
    expect(a).toMatchObject({ ok: true });
    expect(b).toMatchObject({ ok: false, skipped: 'a contact-me to this phone is under way' });
    expect(phone.seen).toHaveLength(1);
  });
});
