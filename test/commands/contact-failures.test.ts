/**
 * A phone that cannot be reached: a failed contact-me (over a real socket to a closed loopback port)
 * is not a contact, is counted on the device and reported on its waiting jobs, and after the bound
 * the jobs fail with the reason instead of waiting forever. Hearing from the phone again ends it.
 * The device record says what became of the last contact-me (sent and awaited, answered, failed
 * with why): sending alone is never taken for an answer.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Contacts } from '../../src/main/app/contact';
import * as commands from '../../src/main/commands';
import { cliContext } from '../../src/main/cli/context';
import { Store, type ExchangeRecord } from '../../src/main/store';
import { runCli } from '../support/cli';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const MAC = '00:1A:E8:00:00:01';
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

/** A loopback port nobody listens on (bound once, then closed): contact-me there is refused. */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

async function answeringPhone(): Promise<number> {
  const server = http.createServer((_req, res) => res.writeHead(204).end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanup.push(() => new Promise((r) => server.close(r)));
  return (server.address() as AddressInfo).port;
}

const wpi = (at: number): ExchangeRecord => ({
  kind: 'wpi', started: at, ended: at, listener: 'default', localPort: 18443, peerAddress: '127.0.0.1', peerPort: 1, tlsProtocol: null, tlsCipher: null,
  method: 'POST', path: '/', httpStatus: 200, requestHeaders: [], requestBody: Buffer.alloc(0), responseHeaders: [], responseBody: Buffer.alloc(0),
  mac: null, reason: 'start-up', replyAction: null, replyStatus: null, nonce: 'n', fragment: null, itemCount: 0, refusedItems: 0, action: 'CleanUp', error: null, warning: null,
});

function phoneAt(dir: string, port: number) {
  const store = new Store(dir);
  cleanup.push(() => store.close());
  store.commit(wpi(1000), { device: { mac: MAC, contactMeUri: `http://127.0.0.1:${port}/contact_dls.html/ContactDLS`, lastAddress: '127.0.0.1' } }, null);
  return store;
}

describe('a phone that cannot be reached', () => {
  it('is reported on its job, attempt by attempt, and the job fails with the reason after the bound', async () => {
    const store = phoneAt(newDir(), await closedPort());
    const lastContact = store.device(MAC)!.lastContact;
    const job = store.jobs.add({ mac: MAC, kind: 'ReadAllItems', items: [], source: 'test' }, 2000);
    let now = 10_000_000;
    const contacts = new Contacts(store, { gapMs: 60_000, maxFailures: 3 }, undefined, () => now);

    const first = await contacts.contact(MAC);
    expect(first).toMatchObject({ ok: false, failures: 1, failedJobs: [] });
    expect(first.error).toMatch(/refused|ECONNREFUSED/i);
    const d1 = store.device(MAC)!;
    expect(d1.lastContact).toBe(lastContact);
    expect(d1).toMatchObject({ contactFailures: 1 });
    expect(d1.lastContactError).toBe(first.error);
    expect(store.jobs.get(job.id)).toMatchObject({ state: 'queued' });
    expect(store.jobs.get(job.id)!.error).toMatch(/^contact-me failed 1 of 3 times, last: .*refused/i);

    // Within the gap nothing is sent and nothing counted.
    expect((await contacts.contact(MAC)).skipped).toMatch(/contact gap/);
    expect(store.device(MAC)!.contactFailures).toBe(1);

    now += 61_000;
    expect(await contacts.contact(MAC)).toMatchObject({ failures: 2, failedJobs: [] });
    now += 61_000;
    const third = await contacts.contact(MAC);
    expect(third).toMatchObject({ failures: 3, failedJobs: [job.id] });
    const failed = store.jobs.get(job.id)!;
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatch(/^the phone could not be reached: 3 contact-me requests in a row failed, last: .*refused.*queue the job again$/i);
    expect(store.device(MAC)!.lastContact).toBe(lastContact);
    // No waiting jobs left: the automatic contact-me stops.
    expect(contacts.due(() => false)).toEqual([]);
  });

  it('is reachable again once it calls in, and counting starts afresh', async () => {
    const store = phoneAt(newDir(), await closedPort());
    let now = 10_000_000;
    const contacts = new Contacts(store, { gapMs: 60_000, maxFailures: 2 }, undefined, () => now);
    await contacts.contact(MAC);
    expect(store.device(MAC)!.contactFailures).toBe(1);
    store.commit(wpi(20_000_000), { device: { mac: MAC, lastAddress: '127.0.0.1' } }, null);
    expect(store.device(MAC)).toMatchObject({ contactFailures: 0, lastContactError: null, lastContact: 20_000_000 });
    const job = store.jobs.add({ mac: MAC, kind: 'Restart', items: [], source: 'test' }, 2000);
    now = 20_100_000;
    expect(await contacts.contact(MAC)).toMatchObject({ failures: 1, failedJobs: [] });
    expect(store.jobs.get(job.id)!.state).toBe('queued');
  });

  it('an answered contact-me clears the count and the note on its jobs', async () => {
    const dir = newDir();
    const store = phoneAt(dir, await closedPort());
    const job = store.jobs.add({ mac: MAC, kind: 'ReadAllItems', items: [], source: 'test' }, 2000);
    let now = 10_000_000;
    await new Contacts(store, { gapMs: 60_000 }, undefined, () => now).contact(MAC);
    expect(store.jobs.get(job.id)!.error).toMatch(/^contact-me failed 1 of 5/);
    // The phone is back, on another port (its listener restarted).
    store.commit(wpi(1500), { device: { mac: MAC, contactMeUri: `http://127.0.0.1:${await answeringPhone()}/contact_dls.html/ContactDLS`, lastAddress: '127.0.0.1' } }, null);
    now += 61_000;
    // lastContact (1500) is older than the failure: still counted until the phone answers.
    expect(store.device(MAC)!.contactFailures).toBe(1);
    expect(await new Contacts(store, { gapMs: 60_000 }, undefined, () => now).contact(MAC)).toMatchObject({ ok: true });
    expect(store.device(MAC)).toMatchObject({ contactFailures: 0, lastContactError: null });
    expect(store.jobs.get(job.id)).toMatchObject({ state: 'queued', error: null });
  });

  it('a failed bootstrap by unreachability leaves the phone out of "bootstrap pending"', async () => {
    const store = phoneAt(newDir(), await closedPort());
    store.queueBootstrap({ mac: MAC, kind: 'Bootstrap', items: [], source: 'test' }, 2000);
    expect(store.device(MAC)!.bootstrap).toBe('pending');
    await new Contacts(store, { gapMs: 60_000, maxFailures: 1 }, undefined, () => 10_000_000).contact(MAC);
    expect(store.device(MAC)!.bootstrap).toBe('failed');
  });

  it('contactNow reports the failed jobs, and job list shows the reason', async () => {
    const dir = newDir();
    const store = phoneAt(dir, await closedPort());
    store.jobs.add({ mac: MAC, kind: 'ReadAllItems', items: [], source: 'test' }, 2000);
    // One failure before: the CLI's is the second of the default bound.
    await new Contacts(store, { gapMs: 60_000, maxFailures: 2 }, undefined, () => 10_000_000).contact(MAC);
    const results = await commands.contactNow(cliContext(store, { contacts: new Contacts(store, { gapMs: 60_000, maxFailures: 2 }) }), [MAC]);
    expect(results[0]).toMatchObject({ ok: false, failures: 2, failedJobs: [1] });
    store.close();
    const run = await runCli(['job', 'list', '--data-dir', dir]);
    expect(run.stdout).toMatch(/could not be reached/);
  });

  it('says what became of the last contact-me: awaited while in flight, then answered or failed with why', async () => {
    // A phone that holds the request until told to answer.
    let answer: (() => void) | null = null;
    const server = http.createServer((_req, res) => {
      answer = () => res.writeHead(204).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => server.close(r)));
    const slow = phoneAt(newDir(), (server.address() as AddressInfo).port);
    expect(slow.device(MAC)).toMatchObject({ lastContactMe: null, lastContactMeOutcome: null, lastContactMeError: null });
    const pending = new Contacts(slow, { gapMs: 60_000 }).contact(MAC);
    await expect.poll(() => answer !== null, { timeout: 5000, interval: 5 }).toBe(true);
    expect(slow.device(MAC)).toMatchObject({ lastContactMeOutcome: 'sent', lastContactMeError: null });
    expect(slow.device(MAC)!.lastContactMe).not.toBeNull();
    answer!();
    expect(await pending).toMatchObject({ ok: true });
    expect(slow.device(MAC)).toMatchObject({ lastContactMeOutcome: 'answered', lastContactMeError: null });

    const refused = phoneAt(newDir(), await closedPort());
    const outcome = await new Contacts(refused, { gapMs: 60_000 }).contact(MAC);
    expect(outcome.ok).toBe(false);
    const d = refused.device(MAC)!;
    expect(d.lastContactMeOutcome).toBe('failed');
    expect(d.lastContactMeError).toBe(outcome.error);
    expect(d.lastContactMeError).toMatch(/refused|ECONNREFUSED/i);
    // The phone calls in by itself afterwards: heard from since, so no longer "failed".
    refused.commit(wpi(Date.now() + 1000), { device: { mac: MAC, lastAddress: '127.0.0.1' } }, null);
    expect(refused.device(MAC)).toMatchObject({ lastContactMeOutcome: 'answered', contactFailures: 0 });
  });
});
