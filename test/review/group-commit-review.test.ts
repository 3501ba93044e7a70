/**
 * Hostile review of group commit (issue #14): exchanges decided side by side in one batch must end
 * as if they had been decided and committed one at a time. In one process over the real handler and
 * store (so that the batch is certain), then over real sockets.
 */
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { ExchangeHandler } from '../../src/main/app/exchange-handler';
import { GroupCommit } from '../../src/main/app/group-commit';
import type { WpiRequest, WpiResponse } from '../../src/main/net/wpi-listener';
import { Service } from '../../src/main/app/service';
import { DEFAULT_MAX_SESSIONS_PER_ADDRESS, SESSION_COOKIE } from '../../src/main/provisioning/session';
import { Store } from '../../src/main/store';
import { parseDLSMessage } from '../../src/main/wpi';
import { post } from '../support/https-client';
import { message, startUpItems } from '../support/messages';
import { withRawDb } from '../support/raw-db';
import { groupCommitIn, wpiRequest } from '../support/group-commit';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const macOf = (i: number) => `00:1A:E8:30:${(i >> 8).toString(16).padStart(2, '0').toUpperCase()}:${(i & 255).toString(16).padStart(2, '0').toUpperCase()}`;
const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

const request = wpiRequest;
const inProcess = () => groupCommitIn(newDir(), (f) => closers.push(f));

const cookieOf = (r: WpiResponse) => {
  const c = r.headers.find(([n]) => n.toLowerCase() === 'set-cookie')?.[1];
  if (!c) throw new Error('the answer carries no session cookie');
  return c.split(';')[0]!;
};
const openInteractionCount = (dir: string) => withRawDb(dir, (db) => (db.prepare(`SELECT count(*) AS n FROM interactions WHERE ended IS NULL`).get() as { n: number }).n);

/** Opens `n` sessions from one address, a batch at a time, each phone a new MAC from `first`. */
async function fill(group: GroupCommit, peer: string, first: number, n: number): Promise<string[]> {
  const macs: string[] = [];
  for (let i = 0; i < n; i += 32) {
    const chunk = Array.from({ length: Math.min(32, n - i) }, (_, k) => macOf(first + i + k));
    const answers = await Promise.all(chunk.map((mac) => group.exchange(request(message({ reason: 'start-up', items: startUpItems(mac) }), peer))));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    macs.push(...chunk);
  }
  return macs;
}

describe('group commit review: sessions evicted within one batch', () => {
  // A start-up that evicts an older session of its address (its share is full) abandons that
  // session's interaction in its commit. An exchange of the evicted session in the same batch was
  // decided from the session as it was, and its commit lands beside the abandon.
  it('an exchange of a session that a start-up of the same batch evicts is refused, and its job stays queued', async () => {
    const { store, handler, group } = inProcess();
    const peer = '127.0.9.1';
    const victim = macOf(0);
    const first = await group.exchange(request(message({ reason: 'start-up', items: startUpItems(victim) }), peer));
    expect(parseDLSMessage(first.body.toString()).action).toBe('ReadAllItems');
    const job = store.jobs.add({ mac: victim, kind: 'WriteItems', items: [{ name: 'sntp-addr', value: 'ntp.review' }] }, Date.now());
    // The address now holds its full share: the next new session from it evicts the victim's (the oldest).
    await fill(group, peer, 1, DEFAULT_MAX_SESSIONS_PER_ADDRESS - 1);
    expect(handler.inInteraction(victim)).toBe(true);

    // One turn: a new phone behind the same address starts up, and the victim answers ReadAllItems.
    const [newcomer, reply] = await Promise.all([
      group.exchange(request(message({ reason: 'start-up', items: startUpItems(macOf(4000)) }), peer)),
      group.exchange(request(message({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', fragment: 'final', items: startUpItems(victim) }), peer, cookieOf(first))),
    ]);
    expect(newcomer.status).toBe(200);
    expect(handler.inInteraction(victim)).toBe(false);
    // One at a time, the victim's reply continues no interaction: refused, and its job not sent.
    expect(reply.status).toBe(403);
    expect(store.jobs.get(job.id)?.state).toBe('queued');
    expect(store.device(victim)?.state).toBe('idle');
  }, 60_000);

  it('start-ups of one batch from a full address each abandon their own evicted session in the store', async () => {
    const { dir, store, handler, group } = inProcess();
    const peer = '127.0.9.2';
    const macs = await fill(group, peer, 0, DEFAULT_MAX_SESSIONS_PER_ADDRESS);
    await expectNewcomersRecorded(dir, store, handler, group, peer, macs);
  }, 60_000);

  // Each start-up computes what it evicts from the committed session table; none sees the others
  // of its batch. One place short of the share, none of them evicts anything, and
  // SessionTable.insert then drops what the address cannot hold without the store hearing of it:
  // those interactions stay open and their devices in-interaction until a restart.
  it('start-ups of one batch from an address one short of its share leave no interaction open that the engine forgot', async () => {
    const { dir, store, handler, group } = inProcess();
    const peer = '127.0.9.3';
    const macs = await fill(group, peer, 0, DEFAULT_MAX_SESSIONS_PER_ADDRESS - 1);
    await expectNewcomersRecorded(dir, store, handler, group, peer, macs);
  }, 60_000);
});

async function expectNewcomersRecorded(dir: string, store: Store, handler: ExchangeHandler, group: GroupCommit, peer: string, macs: string[]): Promise<void> {
  const newcomers = Array.from({ length: 8 }, (_, i) => macOf(5000 + i));
  const answers = await Promise.all(newcomers.map((mac) => group.exchange(request(message({ reason: 'start-up', items: startUpItems(mac) }), peer))));
  expect(answers.every((a) => a.status === 200)).toBe(true);
  const inMemory = [...macs, ...newcomers].filter((m) => handler.inInteraction(m));
  expect(inMemory).toHaveLength(DEFAULT_MAX_SESSIONS_PER_ADDRESS);
  expect(handler.engine.sessions.size).toBe(DEFAULT_MAX_SESSIONS_PER_ADDRESS);
  // What the engine forgot is closed in the store: no device in an interaction that nothing continues.
  const stuck = macs.filter((m) => !handler.inInteraction(m) && store.device(m)?.state === 'in-interaction');
  expect(stuck).toEqual([]);
  expect(openInteractionCount(dir)).toBe(inMemory.length);
}

describe('group commit review: a storm of one phone', () => {
  /** The real handler, counting its decisions (each parses the message and reads the store). */
  class CountingHandler extends ExchangeHandler {
    decisions = 0;
    override prepare(request: WpiRequest) {
      this.decisions++;
      return super.prepare(request);
    }
  }

  // A hostile client sends one MAC's start-up from many connections at once: only one can be in a
  // batch, so they are committed one after another in one synchronous run. Deciding every waiting
  // one again after each commit made that quadratic (n = 60: 1,830 decisions, each parsing its body
  // of up to the listener's size limit) while every other phone waits.
  it('decides each deferred message again only when its turn comes: at most two decisions each', async () => {
    const dir = newDir();
    const store = new Store(dir);
    closers.push(() => store.close());
    const handler = new CountingHandler(store);
    const group = new GroupCommit(handler, store);
    const mac = macOf(7000);
    const n = 60;
    const answers = await Promise.all(Array.from({ length: n }, (_, i) => group.exchange(request(message({ reason: 'start-up', items: startUpItems(mac) }), `127.0.10.${i + 1}`))));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(store.exchangeCount()).toBe(n);
    expect(handler.decisions).toBeLessThanOrEqual(2 * n);
    expect(handler.inInteraction(mac)).toBe(true);
  });
});

describe('group commit review: the store changes between decision and commit', () => {
  // A job cancelled (UI, CLI, another connection) after the engine chose to send it and before
  // the commit: the cancel wins in the store, and the phone's reply does not finish it.
  it('a job cancelled between its send being decided and committed stays cancelled through the reply', async () => {
    const { dir, store, group } = inProcess();
    const mac = macOf(8000);
    const first = await group.exchange(request(message({ reason: 'start-up', items: startUpItems(mac) }), '127.0.11.1'));
    const job = store.jobs.add({ mac, kind: 'WriteItems', items: [{ name: 'sntp-addr', value: 'ntp.review' }] }, Date.now());
    const sending = group.exchange(request(message({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', fragment: 'final', items: startUpItems(mac) }), '127.0.11.1', cookieOf(first)));
    // Decided (WriteItems chosen), not committed: another connection cancels the job now.
    withRawDb(dir, (db) => db.prepare(`UPDATE jobs SET state = 'cancelled', error = 'cancelled by the user' WHERE id = ?`).run(job.id));
    const sent = await sending;
    expect(parseDLSMessage(sent.body.toString()).action).toBe('WriteItems');
    expect(store.jobs.get(job.id)?.state).toBe('cancelled');
    const done = await group.exchange(request(message({ reason: 'reply-to', action: 'WriteItems', status: 'accepted' }), '127.0.11.1', cookieOf(first)));
    expect(done.status).toBe(200);
    expect(store.jobs.get(job.id)?.state).toBe('cancelled');
  });
});

describe('group commit review: hostile clients over real sockets', () => {
  async function service() {
    const dataDir = newDir();
    const svc = new Service({ dataDir, host: '127.0.0.1', port: 0 });
    closers.push(() => svc.stop());
    const { port } = await svc.start();
    return { dataDir, svc, port };
  }
  const rows = (dir: string, sql: string, ...args: unknown[]) => withRawDb(dir, (db) => db.prepare(sql).all(...args));

  it('one MAC starting up from twenty connections at once: every answer stored, one interaction left open, each answer its own session', async () => {
    const { dataDir, svc, port } = await service();
    const mac = macOf(6000);
    const answers = await Promise.all(Array.from({ length: 20 }, () => post(port, message({ reason: 'start-up', items: startUpItems(mac) }))));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(svc.store.exchangeCount()).toBe(20);
    // Each start-up abandons the one before: one interaction stays open, the others were ended in order.
    expect(rows(dataDir, `SELECT id FROM interactions WHERE mac = ? AND ended IS NULL`, mac)).toHaveLength(1);
    expect(rows(dataDir, `SELECT id FROM interactions WHERE mac = ?`, mac)).toHaveLength(20);
    expect(new Set(answers.map((a) => String(a.headers['set-cookie']))).size).toBe(20);
    // The cookie the engine holds is the one of the interaction left open.
    const open = rows(dataDir, `SELECT e.response_headers AS h FROM exchanges e JOIN interactions i ON i.id = e.interaction_id WHERE i.mac = ? AND i.ended IS NULL`, mac) as { h: string }[];
    expect(open).toHaveLength(1);
    const cookie = new RegExp(`${SESSION_COOKIE}=[0-9A-F]{32}`).exec(open[0]!.h)![0];
    const reply = await post(port, message({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', fragment: 'final', items: startUpItems(mac) }), { headers: { Cookie: cookie } });
    expect(reply.status).toBe(200);
  });

  it('the same start-up replayed from ten connections at once is answered once; every refusal is stored too', async () => {
    const { dataDir, svc, port } = await service();
    const mac = macOf(6001);
    const body = message({ reason: 'start-up', items: startUpItems(mac) });
    const answers = await Promise.all(Array.from({ length: 10 }, () => post(port, body)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 403)).toHaveLength(9);
    expect(svc.store.exchangeCount()).toBe(10);
    expect(rows(dataDir, `SELECT id FROM interactions WHERE mac = ?`, mac)).toHaveLength(1);
  });

  it('two requests pipelined on one keep-alive connection are answered in order and both stored', async () => {
    const { svc, port } = await service();
    const http = (body: string, close = false) =>
      `POST /DeploymentService/LoginService HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n${close ? 'Connection: close\r\n' : ''}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    const a = message({ reason: 'start-up', items: startUpItems(macOf(6002)) });
    // Written at once without ending our side (the server would drop a half-closed request); the second asks to close.
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => socket.write(http(a) + http(a, true)));
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
      socket.on('error', reject);
    });
    const statuses = [...raw.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1]));
    // The second is a replay of the first, decided after the first is committed.
    expect(statuses).toEqual([200, 403]);
    expect(svc.store.exchangeCount()).toBe(2);
  });
});
