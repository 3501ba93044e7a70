/**
 * Group commit (issue #14, app/group-commit.ts): the exchanges of one event-loop turn share one
 * transaction, each answer waits for its commit, one failing write costs only its own exchange,
 * and two messages about the same phone are never decided side by side. First over the real
 * handler and store in one process (so that the batch is certain), then over real sockets.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ExchangeHandler } from '../../src/main/app/exchange-handler';
import { GroupCommit, MAX_BATCH, MAX_BATCH_ITEMS } from '../../src/main/app/group-commit';
import { TurnQueue } from '../../src/main/net/turns';
import { Service } from '../../src/main/app/service';
import { Store } from '../../src/main/store';
import { parseDLSMessage } from '../../src/main/wpi';
import { post } from '../support/https-client';
import { message, startUpItems } from '../support/messages';
import { withRawDb } from '../support/raw-db';
import { groupCommitIn, wpiRequest } from '../support/group-commit';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const macOf = (i: number) => `00:1A:E8:20:00:${i.toString(16).padStart(2, '0').toUpperCase()}`;
const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

const request = wpiRequest;
const inProcess = () => groupCommitIn(newDir(), (f) => closers.push(f));

const openInteractions = (dir: string, mac: string) =>
  withRawDb(dir, (db) => (db.prepare(`SELECT count(*) AS n FROM interactions WHERE mac = ? AND ended IS NULL`).get(mac) as { n: number }).n);

describe('group commit, in one process', () => {
  it('commits the exchanges of one turn together and answers each only after the commit', async () => {
    const { store, group } = inProcess();
    const answers = Array.from({ length: 20 }, (_, i) => group.exchange(request(message({ reason: 'start-up', items: startUpItems(macOf(i)) }), `127.0.5.${i + 1}`)));
    // Nothing is committed or answered within the turn that decided them.
    expect(store.exchangeCount()).toBe(0);
    let answered = 0;
    for (const a of answers) void a.then(() => answered++);
    await Promise.resolve();
    expect(answered).toBe(0);
    const responses = await Promise.all(answers);
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(responses.every((r) => parseDLSMessage(r.body.toString()).action === 'ReadAllItems')).toBe(true);
    expect(group.largestBatch).toBe(20);
    expect(store.exchangeCount()).toBe(20);
    expect(store.devices()).toHaveLength(20);
  });

  it('commits at once when a batch is full, so a storm never holds more than MAX_BATCH decided exchanges', async () => {
    const { store, group } = inProcess();
    const n = MAX_BATCH + 8;
    const answers = Array.from({ length: n }, (_, i) => group.exchange(request(message({ reason: 'start-up', items: startUpItems(macOf(100 + i)) }), `127.0.6.${i + 1}`)));
    expect(store.exchangeCount()).toBe(MAX_BATCH);
    expect((await Promise.all(answers)).every((r) => r.status === 200)).toBe(true);
    expect(group.largestBatch).toBe(MAX_BATCH);
    expect(store.exchangeCount()).toBe(n);
  });

  it('a batch that writes many items is committed early: a few first reads per commit, so one commit never holds the loop long', async () => {
    const { store, group } = inProcess();
    const items = (mac: string) => [...startUpItems(mac), ...Array.from({ length: 300 }, (_, k) => ({ name: `item-${k}`, value: `v${k}` }))];
    const answers = Array.from({ length: 8 }, (_, i) => group.exchange(request(message({ reason: 'start-up', items: items(macOf(140 + i)) }), `127.0.7.${i + 1}`)));
    expect((await Promise.all(answers)).every((r) => r.status === 200)).toBe(true);
    // 300-odd items each: four reach the budget.
    expect(group.largestBatch).toBe(Math.ceil(MAX_BATCH_ITEMS / items(macOf(0)).length));
    expect(store.exchangeCount()).toBe(8);
  });

  it('with one message decided per turn (net/turns.ts), a batch gathers over turns and is committed when nothing waits', async () => {
    const dir = newDir();
    const store = new Store(dir);
    closers.push(() => store.close());
    const handler = new ExchangeHandler(store);
    const turns = new TurnQueue();
    // No time bound here: the batch ends only because nothing waits (the 8 ms bound would make the test depend on speed).
    const group = new GroupCommit(handler, store, { waiting: () => turns.length, maxWaitMs: 60_000 });
    const order: string[] = [];
    const answers = Array.from({ length: 5 }, (_, i) =>
      new Promise<number>((resolve) =>
        turns.push(() => {
          order.push(`decide ${i}`);
          void group.exchange(request(message({ reason: 'start-up', items: startUpItems(macOf(160 + i)) }), `127.0.8.${i + 1}`)).then((r) => {
            order.push(`answer ${i}`);
            resolve(r.status);
          });
        }),
      ),
    );
    expect(await Promise.all(answers)).toEqual([200, 200, 200, 200, 200]);
    // Five turns, one decision each, then one commit: every answer after the last decision.
    expect(order.slice(0, 5)).toEqual(['decide 0', 'decide 1', 'decide 2', 'decide 3', 'decide 4']);
    expect(group.largestBatch).toBe(5);
    expect(store.exchangeCount()).toBe(5);
  });

  it('decides a second message of the same phone only after the first is committed', async () => {
    const { dir, store, handler, group } = inProcess();
    const mac = macOf(1);
    // The same phone starts up from two connections in one turn (a confused or hostile client).
    const both = [
      group.exchange(request(message({ reason: 'start-up', items: startUpItems(mac) }), '127.0.5.1')),
      group.exchange(request(message({ reason: 'start-up', items: startUpItems(mac) }), '127.0.5.2')),
    ];
    let settled = 0;
    for (const p of both) void p.then(() => settled++);
    // The second is decided and committed in the same turn as the first, not left for a later one
    // (where a timer such as the session sweep could run between its decision and its commit).
    await new Promise((r) => setImmediate(r));
    await Promise.resolve();
    expect(settled).toBe(2);
    const [a, b] = await Promise.all(both);
    expect([a.status, b.status]).toEqual([200, 200]);
    // As without group commit: the second start-up abandoned the first interaction.
    expect(openInteractions(dir, mac)).toBe(1);
    expect(store.inspector.interactionsOf(mac, 10).map((i) => i.endReason)).toEqual([null, expect.stringMatching(/./)]);
    expect(handler.inInteraction(mac)).toBe(true);
    expect(group.largestBatch).toBe(1);
  });

  it('the same message sent twice in one turn (a replay) is refused the second time, as one at a time', async () => {
    const { store, group } = inProcess();
    const body = message({ reason: 'start-up', items: startUpItems(macOf(2)) });
    const [first, second] = await Promise.all([group.exchange(request(body, '127.0.5.1')), group.exchange(request(body, '127.0.5.1'))]);
    expect(first.status).toBe(200);
    expect(second.status).toBe(403);
    expect(second.body.toString()).toMatch(/replay|nonce/i);
    expect(store.exchangeCount()).toBe(2);
  });

  it('a write that fails costs only its own exchange: HTTP 500 for it, the others answered, its retry answered', async () => {
    const { dir, store, handler, group } = inProcess();
    const victim = macOf(3);
    withRawDb(dir, (db) => db.exec(`CREATE TRIGGER fail_one BEFORE INSERT ON exchanges WHEN NEW.mac = '${victim}' BEGIN SELECT RAISE(ABORT, 'disk trouble'); END`));
    const bodies = [macOf(4), victim, macOf(5)].map((mac) => message({ reason: 'start-up', items: startUpItems(mac) }));
    const results = await Promise.allSettled(bodies.map((b, i) => group.exchange(request(b, `127.0.5.${i + 1}`))));
    expect(group.largestBatch).toBe(3);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/disk trouble/);
    // Nothing of the failed one is kept: no exchange, no device, no session.
    expect(store.device(victim)).toBeUndefined();
    expect(handler.inInteraction(victim)).toBe(false);
    expect(store.devices().map((d) => d.mac).sort()).toEqual([macOf(4), macOf(5)]);
    withRawDb(dir, (db) => db.exec(`DROP TRIGGER fail_one`));
    const retry = await group.exchange(request(bodies[1]!, '127.0.5.2'));
    expect(retry.status).toBe(200);
    expect(handler.inInteraction(victim)).toBe(true);
  });

  it('when SQLite rolls back the whole transaction, none of its exchanges is answered or kept', async () => {
    const { dir, store, handler, group } = inProcess();
    const victim = macOf(6);
    // RAISE(ROLLBACK) ends the whole transaction, as a full disk or an I/O error can.
    withRawDb(dir, (db) => db.exec(`CREATE TRIGGER fail_all BEFORE INSERT ON exchanges WHEN NEW.mac = '${victim}' BEGIN SELECT RAISE(ROLLBACK, 'disk gone'); END`));
    const macs = [macOf(7), victim, macOf(8)];
    const results = await Promise.allSettled(macs.map((mac, i) => group.exchange(request(message({ reason: 'start-up', items: startUpItems(mac) }), `127.0.5.${i + 1}`))));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(store.exchangeCount()).toBe(0);
    expect(store.devices()).toEqual([]);
    for (const mac of macs) expect(handler.inInteraction(mac)).toBe(false);
  });
});

describe('group commit over real sockets', () => {
  it('fifty phones at once: every exchange answered and stored, each phone in its own interaction', async () => {
    const dataDir = newDir();
    const service = new Service({ dataDir, host: '127.0.0.1', port: 0 });
    closers.push(() => service.stop());
    const { port } = await service.start();
    const macs = Array.from({ length: 50 }, (_, i) => macOf(i + 16));
    const answers = await Promise.all(macs.map((mac) => post(port, message({ reason: 'start-up', items: startUpItems(mac) }))));
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(200));
    // Each answer carries its own phone's session; the store has one open interaction per phone.
    expect(new Set(answers.map((a) => String(a.headers['set-cookie']))).size).toBe(50);
    for (const mac of macs) expect(openInteractions(dataDir, mac)).toBe(1);
    expect(service.store.exchangeCount()).toBe(50);
  });

  it('stop commits what is decided before the store closes', async () => {
    const dataDir = newDir();
    const service = new Service({ dataDir, host: '127.0.0.1', port: 0 });
    const { port } = await service.start();
    const pending = Promise.all([macOf(80), macOf(81)].map((mac) => post(port, message({ reason: 'start-up', items: startUpItems(mac) })).catch((e: Error) => e)));
    await new Promise((r) => setTimeout(r, 50));
    await service.stop();
    const outcomes = await pending;
    const store = new Store(dataDir);
    closers.push(() => store.close());
    // What a phone was answered is stored; what was not answered may be missing, never the reverse.
    const answered = outcomes.filter((o) => !(o instanceof Error) && o.status === 200).length;
    expect(store.exchangeCount()).toBeGreaterThanOrEqual(answered);
  });
});
