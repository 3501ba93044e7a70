/**
 * The store's change notices, which the live views follow instead of polling tables: its own
 * writes name the jobs and devices they touched, coalesced per turn of the event loop; a commit
 * by another connection (the CLI's process) is noticed through PRAGMA data_version.
 */
import { describe, expect, it } from 'vitest';
import { Store, type StoreChange } from '../../src/main/store';
import { exchangeRecord } from '../support/records';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const A = '00:1A:E8:00:00:01';
const B = '00:1A:E8:00:00:02';

const record = (mac: string) => exchangeRecord({ mac });

function collect(store: Store, checkMs?: number) {
  const seen: StoreChange[] = [];
  const off = store.onChange((c) => seen.push({ jobs: new Map(c.jobs), devices: new Set(c.devices), external: c.external }), checkMs);
  const next = () => new Promise<StoreChange>((resolve) => {
    const started = seen.length;
    const wait = () => (seen.length > started ? resolve(seen[seen.length - 1]!) : setTimeout(wait, 5));
    wait();
  });
  return { seen, off, next };
}

describe('store change notices', () => {
  it('names the devices and jobs its own writes touched, one notice per turn', async () => {
    const store = new Store(newDir());
    const feed = collect(store);
    store.commit(record(A), { device: { mac: A, lastAddress: '127.0.0.1' } }, null);
    store.commit(record(B), { device: { mac: B, lastAddress: '127.0.0.2' } }, null);
    const [job] = store.addJobs([{ mac: A, kind: 'ReadAllItems', items: [] }], 2000);
    const change = await feed.next();
    expect(feed.seen).toHaveLength(1);
    expect([...change.devices].sort()).toEqual([A, B]);
    expect([...change.jobs]).toEqual([[job!.id, A]]);
    expect(change.external).toBe(false);

    store.cancelJob(job!.id, 3000);
    expect(await feed.next()).toMatchObject({ jobs: new Map([[job!.id, A]]) });
    // Jobs moved by a bulk update are named too (RETURNING), e.g. those requeued when a phone went silent.
    const [j2] = store.addJobs([{ mac: B, kind: 'ReadAllItems', items: [] }], 4000);
    store.commit(record(B), { jobs: [{ id: j2!.id, state: 'sent', attempt: true, sent: 4001 }] }, null);
    await feed.next();
    store.expireInteractions([], [B], 5000);
    const expired = await feed.next();
    expect(expired.jobs.get(j2!.id)).toBe(B);
    expect(store.jobs.get(j2!.id)?.state).toBe('queued');
    feed.off();
    store.close();
  });

  it('notices a commit of another connection, and not its own', async () => {
    const dir = newDir();
    const service = new Store(dir);
    const cli = new Store(dir);
    service.commit(record(A), { device: { mac: A, lastAddress: '127.0.0.1' } }, null);
    const feed = collect(service, 10);
    await new Promise((r) => setTimeout(r, 50));
    const before = feed.seen.length;
    cli.addJobs([{ mac: A, kind: 'ReadAllItems', items: [] }], 1000);
    const change = await feed.next();
    expect(feed.seen.length).toBe(before + 1);
    expect(change.external).toBe(true);
    // Nothing more without another commit.
    await new Promise((r) => setTimeout(r, 60));
    expect(feed.seen.length).toBe(before + 1);
    feed.off();
    service.close();
    cli.close();
  });

  it('says nothing to nobody: writes without a listener queue no notice', async () => {
    const store = new Store(newDir());
    store.commit(record(A), { device: { mac: A, lastAddress: '127.0.0.1' } }, null);
    const feed = collect(store);
    await new Promise((r) => setTimeout(r, 20));
    expect(feed.seen).toEqual([]);
    feed.off();
    store.close();
  });
});
