/**
 * Hostile review of group commit (issue #14): exchanges decided side by side in one batch must end
 * as if they had been decided and committed one at a time. In one process over the real handler and
 * store (so that the batch is certain), then over real sockets.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ExchangeHandler } from '../../src/main/app/exchange-handler';
import { GroupCommit } from '../../src/main/app/group-commit';
import type { WpiRequest, WpiResponse } from '../../src/main/net/wpi-listener';
import { DEFAULT_MAX_SESSIONS_PER_ADDRESS } from '../../src/main/provisioning/session';
import { Store } from '../../src/main/store';
import { parseDLSMessage } from '../../src/main/wpi';
import { message, startUpItems } from '../support/messages';
import { withRawDb } from '../support/raw-db';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const macOf = (i: number) => `00:1A:E8:30:${(i >> 8).toString(16).padStart(2, '0').toUpperCase()}:${(i & 255).toString(16).padStart(2, '0').toUpperCase()}`;
const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

function request(body: string, peer: string, cookie?: string): WpiRequest {
  return {
    started: Date.now(), listener: 'default', localPort: 18443, peerAddress: peer, peerPort: 40000, tlsProtocol: 'TLSv1.3', tlsCipher: 'X',
    method: 'POST', path: '/DeploymentService/LoginService', headers: cookie ? [['Cookie', cookie]] : [], body: Buffer.from(body),
  };
}

function inProcess() {
  const dir = newDir();
  const store = new Store(dir);
  const handler = new ExchangeHandler(store);
  const group = new GroupCommit(handler, store);
  closers.push(() => store.close());
  return { dir, store, handler, group };
}

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
  it.fails('[not fixed] start-ups of one batch from an address one short of its share leave no interaction open that the engine forgot', async () => {
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
