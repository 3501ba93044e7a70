/**
 * Review of live updates (093005a): the UI's job and device events follow the store's change feed;
 * a commit by another process (the CLI) is seen through PRAGMA data_version, and then the jobs
 * changed lately are re-read (jobsChangedSince, at most 2000, oldest change first).
 * The "other process" is a second Store (its own connection) on the same data folder: the same
 * path as the CLI's process, as far as SQLite and the feed are concerned.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LocalDlsApiHost } from '../../src/main/bridge/api-host';
import { Store } from '../../src/main/store';
import type { ExchangeSummary, Job } from '../../src/shared/model';
import { FlowHarness } from '../support/handler';
import { exchangeRecord } from '../support/records';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const closers: (() => void)[] = [];
afterEach(() => closers.splice(0).reverse().forEach((c) => c()));

function serveUi() {
  const dir = newDir();
  const h = new FlowHarness(dir);
  const api = new LocalDlsApiHost(
    {
      store: h.store,
      onExchange: (cb: (x: ExchangeSummary) => void) => {
        h.handler.events.on('exchange', cb);
        return () => h.handler.events.off('exchange', cb);
      },
    },
    { dataDir: dir, batchMs: 5, externalCheckMs: 10, networkInterfaces: () => ({}) },
  );
  // Commits need not be durable here: 2,500 devices are set up quickly.
  const cli = new Store(dir, { synchronous: 'OFF' });
  closers.push(() => h.close(), () => api.close(), () => cli.close());
  const seen = new Map<number, Job>();
  api.onJobsChanged((jobs) => jobs.forEach((j) => seen.set(j.id, j)));
  return { h, api, cli, seen };
}

const mac = (i: number) => `00:1A:E8:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0').toUpperCase()}:${(i & 0xff).toString(16).padStart(2, '0').toUpperCase()}`;

describe('review: the UI follows what another process writes', () => {
  it('held: a job queued and then cancelled by the CLI reaches the UI in both states', async () => {
    const { cli, seen } = serveUi();
    cli.commit(exchangeRecord({ mac: mac(1) }), { device: { mac: mac(1), lastAddress: '127.0.0.1' } }, null);
    const [job] = cli.addJobs([{ mac: mac(1), kind: 'ReadAllItems', items: [] }], Date.now());
    await expect.poll(() => seen.get(job!.id)?.state, { timeout: 5000, interval: 10 }).toBe('queued');
    cli.cancelJob(job!.id, Date.now());
    await expect.poll(() => seen.get(job!.id)?.state, { timeout: 5000, interval: 10 }).toBe('cancelled');
  });

  // FINDING (medium): one `job add --all` over 2,500 phones from the CLI while `serve --ui` runs:
  // the UI is told of the first 2,000 jobs only (jobsChangedSince's limit, oldest first); the rest
  // are never announced (no later notice re-reads them unless something else changes).
  it('announces every job of one large CLI commit', async () => {
    const { cli, seen } = serveUi();
    const macs = Array.from({ length: 2500 }, (_, i) => mac(i + 1));
    for (const m of macs) cli.commit(exchangeRecord({ mac: m }), { device: { mac: m, lastAddress: '127.0.0.1' } }, null);
    const added = cli.addJobs(macs.map((m) => ({ mac: m, kind: 'ReadAllItems' as const, items: [] })), Date.now());
    const want = new Set(added.map((j) => j.id));
    await expect
      .poll(() => [...want].filter((id) => !seen.has(id)).length, { timeout: 5000, interval: 20 })
      .toBe(0);
  });
});
