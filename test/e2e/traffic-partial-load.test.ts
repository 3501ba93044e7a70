/**
 * The traffic list's loading in steps (a screenful of rows, then catch-up, counts and the rest of
 * the page) against the real service in Chromium, with answers held back in the page to force the
 * races: a filter set while the previous filter's answers are on the way, and phones talking while
 * a load's counts and older rows are not back yet.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliProcess, runCli } from '../support/cli';
import { withRawDb } from '../support/raw-db';
import { type ChromiumSession, ensureRendererBuilt, launchWithPage, suiteDirs } from './support';

const newDir = suiteDirs();
let dir: string;
let serve: CliProcess;
let port: number;
let ui: string;
let page: Page;
let browser: ChromiumSession;
const pageErrors: string[] = [];

/**
 * In the page before the app: answers to requests whose text holds one of `__hold.match` wait in
 * `__hold.held` until `__hold.release()`.
 */
const HOLD = `
  const hold = (window.__hold = { match: [], ids: new Set(), held: [], release() { for (const f of hold.held.splice(0)) f(); } });
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    send(data) {
      if (typeof data === 'string' && hold.match.some((m) => data.includes(m))) hold.ids.add(Number(/"id":(\\d+)/.exec(data)[1]));
      return super.send(data);
    }
    set onmessage(fn) {
      super.onmessage = (e) => {
        const m = typeof e.data === 'string' ? /^\\{"id":(\\d+),/.exec(e.data) : null;
        if (m && hold.ids.has(Number(m[1]))) hold.held.push(() => fn.call(this, e));
        else fn.call(this, e);
      };
    }
    get onmessage() {
      return super.onmessage;
    }
  };
`;

// Plain JavaScript in the page (this file is type-checked without the DOM library).
const hold = (match: string[]) => page.evaluate(`window.__hold.match = ${JSON.stringify(match)}`);
const held = () => page.evaluate('window.__hold.held.length') as Promise<number>;
const release = () => page.evaluate('window.__hold.release()');
const storeCount = (where = '1') => withRawDb(dir, (db) => (db.prepare(`SELECT count(*) AS n FROM exchanges WHERE ${where}`).get() as { n: number }).n);
/** Rows in the list: the virtual list's inner box is rows × 26 px high, and 40 px of room under the last (ExchangeList paddingEnd). */
const rowsInList = () => page.evaluate(`Math.round(((document.querySelector('[data-testid="exchange-scroll"] > div[style*="height"]')?.offsetHeight ?? 40) - 40) / 26)`) as Promise<number>;
const shownCount = () => page.getByTestId('shown-count').textContent();
/** The row at the top of the list's pane (the first one not scrolled past). */
const topRowId = () =>
  page.evaluate(`(() => {
    const pane = document.querySelector('[data-testid="exchange-scroll"]').getBoundingClientRect();
    const rows = [...document.querySelectorAll('.xrow[data-id]')].map((r) => ({ id: Number(r.dataset.id), rect: r.getBoundingClientRect() }));
    return rows.filter((r) => r.rect.bottom > pane.top + 1).sort((a, b) => a.rect.top - b.rect.top)[0]?.id ?? null;
  })()`) as Promise<number | null>;
const visibleIds = async () => (await page.locator('.xrow[data-id]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')))).map(Number);

beforeAll(async () => {
  ensureRendererBuilt();
  dir = newDir();
  // Some real traffic, then copied up to a few thousand exchanges (more than the list's first page).
  const first = new CliProcess(['serve', '--data-dir', dir, '--host', '127.0.0.1', '--port', '0', '--no-auto-contact']);
  const listening = JSON.parse(await first.waitFor((l) => l.includes('"listening"'))) as { port: number };
  expect((await runCli(['phone', '--server', `https://127.0.0.1:${listening.port}`, '--count', '4', '--max-items', '50', '--ip-base', '127.0.4.10'])).code).toBe(0);
  expect(await first.stop('SIGTERM')).toBe(0);
  withRawDb(dir, (db) => {
    const columns = (db.prepare('PRAGMA table_info(exchanges)').all() as { name: string }[]).map((c) => c.name).filter((c) => c !== 'id').join(', ');
    while ((db.prepare('SELECT count(*) AS n FROM exchanges').get() as { n: number }).n < 3000) db.exec(`INSERT INTO exchanges (${columns}) SELECT ${columns} FROM exchanges ORDER BY id`);
  });
  serve = new CliProcess(['serve', '--data-dir', dir, '--host', '127.0.0.1', '--port', '0', '--no-auto-contact', '--ui', '--ui-port', '0']);
  const ready = JSON.parse(await serve.waitFor((l) => l.includes('"listening"'))) as { port: number; ui: string };
  port = ready.port;
  ui = ready.ui;
  ({ browser, page } = await launchWithPage(pageErrors, { timeoutMs: 15_000 }));
  await page.addInitScript(HOLD);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (serve) expect(await serve.stop('SIGTERM')).toBe(0);
});

describe('traffic list loading in steps, in Chromium', () => {
  it('shows the newest screenful, then the rest of the page and the count', async () => {
    await page.goto(ui);
    const total = storeCount();
    await expect.poll(shownCount, { timeout: 20_000 }).toBe(`${total.toLocaleString('en-US')} exchanges`);
    await expect.poll(rowsInList).toBe(2000);
    const ids = await visibleIds();
    expect(ids.at(-1)).toBe(withRawDb(dir, (db) => (db.prepare('SELECT max(id) AS id FROM exchanges').get() as { id: number }).id));
  });

  it('a filter set while the previous filter\'s answers are on the way never shows them', async () => {
    const ok = storeCount('http_status = 200');
    const accepted = storeCount("reply_status = 'accepted'");
    expect(accepted).toBeGreaterThan(0);
    expect(accepted).not.toBe(ok); // else a stale count would look right
    // Status 200: its first rows come, its counts and the rest of its page wait.
    await hold(['"status":"200"},{"limit":1,', '"status":"200"},{"limit":1800,']);
    await page.getByLabel('Status', { exact: true }).fill('200');
    await expect.poll(held).toBe(2);
    await page.getByLabel('Status', { exact: true }).fill('accepted');
    const want = `${accepted.toLocaleString('en-US')} of ${storeCount().toLocaleString('en-US')} exchanges`;
    await expect.poll(shownCount).toBe(want);
    await release(); // the older filter's counts and rows land now
    await page.waitForTimeout(500);
    expect(await shownCount()).toBe(want);
    const statuses = await page.locator('.xrow[data-id] .c-status').allTextContents();
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.filter((t) => !t.includes('accepted'))).toEqual([]);
    expect(await rowsInList()).toBe(Math.min(accepted, 2000));
    await hold([]);
    await page.getByLabel('Status', { exact: true }).fill('');
    await expect.poll(rowsInList).toBe(2000);
  });

  it('phones talking while a load\'s counts and older rows are held: every new exchange shown once, counted once', async () => {
    await page.getByLabel('Reason', { exact: true }).fill('start-up');
    // The count as a number, read from the same text the poll saw: a second read once found
    // "Loading…" there (a fresh-clone CI run, 2026-12-06) and took NaN for the count.
    let matched = Number.NaN;
    await expect
      .poll(async () => {
        const m = /^([\d,]+) of /.exec((await shownCount()) ?? '');
        matched = m ? Number(m[1]!.replace(/,/g, '')) : Number.NaN;
        return Number.isNaN(matched);
      })
      .toBe(false);
    // The number is start-up's: while the typing wait (250 ms) had not applied the filter yet, the
    // count showed the previous filter's numbers, the poll took them, and then "Loading…" came.
    expect(matched).toBe(storeCount("reason = 'start-up'"));
    // That load wholly in, the rest of its page too: else its late request for older rows was held
    // as this load's, this load's own went out while the phones talked, and the page it fills was
    // smaller by the rows that had come live (by design: a page holds 2,000), the CI failures of
    // this test (2,020 rows where 2,028 were expected).
    await expect.poll(rowsInList).toBe(Math.min(matched, 2000));
    // The next load (the filter reset): its first rows come, its counts and older rows wait.
    await hold(['"counts":true', '"beforeId"']);
    await page.getByLabel('Reason', { exact: true }).fill('');
    await expect.poll(held).toBe(2);
    const before = storeCount();
    const phones = await runCli(['phone', '--server', `https://127.0.0.1:${port}`, '--count', '2', '--max-items', '50', '--mac-base', '00:1A:E8:00:05:00', '--ip-base', '127.0.5.10']);
    expect(phones.code).toBe(0);
    const added = storeCount() - before;
    expect(added).toBeGreaterThan(0);
    // The live rows are in (the rest of the page is not yet).
    await expect.poll(async () => (await visibleIds()).at(-1)).toBe(withRawDb(dir, (db) => (db.prepare('SELECT max(id) AS id FROM exchanges').get() as { id: number }).id));
    await release();
    await hold([]);
    const total = storeCount();
    await expect.poll(shownCount).toBe(`${total.toLocaleString('en-US')} exchanges`);
    // 2,000 of the page (the first screenful and the rest) and the new ones, none twice.
    await expect.poll(rowsInList).toBe(2000 + added);
    const ids = await visibleIds();
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(pageErrors).toEqual([]);
  });

  it('"Load older" keeps the row you were on in its place; sorted, "Arrival order" takes the place of "Jump to latest"', async () => {
    await page.goto(ui);
    await expect.poll(rowsInList).toBe(2000);
    const scroll = page.getByTestId('exchange-scroll');
    // Up to the first rows loaded, two rows down from the top (a user on a row of theirs).
    await scroll.evaluate((el) => (el.scrollTop = 2 * 26));
    const older = page.getByRole('button', { name: 'Load older exchanges' });
    await older.waitFor();
    const was = await topRowId();
    const oldest = (await visibleIds())[0]!;
    expect(was).toBe(oldest + 2);
    await older.click();
    await expect.poll(rowsInList).toBeGreaterThan(2000);
    const added = (await rowsInList()) - 2000;
    // The same row at the top, the older ones above it (it used to show the oldest loaded instead).
    expect(await topRowId()).toBe(was);
    expect(await scroll.evaluate((el) => el.scrollTop)).toBe((added + 2) * 26);
    // A second page further back: still in place.
    if (await older.isVisible()) {
      await older.click();
      await expect.poll(rowsInList).toBeGreaterThan(2000 + added);
      expect(await topRowId()).toBe(was);
    }
    // Sorted, the latest is not at the end: one button, "Arrival order", which goes back there, a
    // row focused or not (it went to the focused row, and following stopped).
    await page.locator('.xrow[data-id]').nth(3).click();
    await page.getByRole('columnheader', { name: 'Items' }).getByRole('button').click();
    await expect.poll(() => page.getByRole('button', { name: 'Arrival order (follow live)' }).count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Jump to latest' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Arrival order (follow live)' }).click();
    const newest = withRawDb(dir, (db) => (db.prepare('SELECT max(id) AS id FROM exchanges').get() as { id: number }).id);
    await expect.poll(async () => (await visibleIds()).at(-1)).toBe(newest);
    expect(await page.getByRole('button', { name: 'Jump to latest' }).count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });
});
