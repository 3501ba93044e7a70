/**
 * The traffic list's columns at a laptop's widths (1024 and 1280 px), in Chromium against the real
 * service and simulated phones, in English and German: every reason a phone sends is shown whole
 * ("reply-to WriteIte…" was cut at both), the other columns' usual contents are not cut, and the
 * page does not scroll sideways. Columns that give way at a narrow width can be shown again.
 * Scrollbars are drawn, as in a desktop window: they take the rows' room, and the header's.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliProcess, runCli } from '../support/cli';
import { type ChromiumSession, ensureRendererBuilt, launchWithPage, suiteDirs } from './support';

const newDir = suiteDirs();
let serve: CliProcess;
let ui: string;
let page: Page;
let browser: ChromiumSession;
const pageErrors: string[] = [];

/** The reasons phones send (the reason column's text: the reason, and for a reply the Action it answers). */
const PHONE_REASON = /^(start-up|solicited|local-changes|inventory-changes|status|clean-up|reply-to (ReadAllItems|ReadItems|WriteItems|Restart|FileDeployment|SoftwareDeployment|CleanUp|GetNextFragment))$/;

beforeAll(async () => {
  ensureRendererBuilt();
  const dir = newDir();
  serve = new CliProcess(['serve', '--data-dir', dir, '--host', '127.0.0.1', '--port', '0', '--no-auto-contact', '--ui', '--ui-port', '0']);
  const ready = JSON.parse(await serve.waitFor((l) => l.includes('"listening"'))) as { port: number; ui: string };
  ui = ready.ui;
  const server = `https://127.0.0.1:${ready.port}`;
  const phone = async (args: string[]) => expect((await runCli(['phone', '--server', server, ...args])).code).toBe(0);
  const job = async (args: string[]) => expect((await runCli(['job', 'add', '--data-dir', dir, ...args])).code).toBe(0);
  await phone(['--count', '2', '--ip-base', '127.0.9.10']);
  // Phone 1 answers a write, a read and a deployment of two files (reply-to WriteItems, ReadItems,
  // FileDeployment), then one of one file (its status); phone 2 is in a call and turns the
  // firmware down (reply-to SoftwareDeployment, the longest a phone sends).
  await job(['--mac', '00:1A:E8:00:00:01', 'write', 'sntp-addr=ntp.columns.example']);
  await job(['--mac', '00:1A:E8:00:00:01', 'read', 'sntp-addr']);
  await job(['--mac', '00:1A:E8:00:00:01', 'file', '--type', 'LOGO', 'https://files.example/logo.png', '--type', 'RINGTONE', 'https://files.example/ring.wav']);
  await job(['--mac', '00:1A:E8:00:00:01', 'file', '--type', 'LOGO', 'https://files.example/logo2.png']);
  await job(['--mac', '00:1A:E8:00:00:02', 'firmware', '--version', '3.5.12.0', '--url', 'https://files.example/fw.img']);
  await phone(['--mac-base', '00:1A:E8:00:00:01', '--reason', 'solicited', '--ip-base', '127.0.9.10']);
  await phone(['--mac-base', '00:1A:E8:00:00:02', '--reason', 'solicited', '--busy', '1', '--busy-for', '1', '--ip-base', '127.0.9.11']);
  for (const reason of ['local-changes', 'inventory-changes']) await phone(['--mac-base', '00:1A:E8:00:00:01', '--reason', reason, '--ip-base', '127.0.9.10']);
  ({ browser, page } = await launchWithPage(pageErrors, { scrollbars: true, timeoutMs: 15_000 }));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (serve) expect(await serve.stop('SIGTERM')).toBe(0);
});

async function open(language: 'en' | 'de'): Promise<void> {
  await page.goto(ui);
  await page.evaluate(`localStorage.setItem('localdls.language', ${JSON.stringify(language)}); localStorage.removeItem('localdls.traffic.hiddenColumns'); localStorage.removeItem('localdls.traffic.shownColumns')`);
  await page.goto(ui);
  await page.locator('.xrow[data-id]').first().waitFor();
}

interface Seen {
  /** Reason texts of the rows, each once. */
  reasons: string[];
  /** Reason cells whose text (or tags) does not fit. */
  cutReasons: string[];
  /** Other cells whose usual contents do not fit. */
  cutCells: string[];
  /** Column headers cut. */
  cutHeaders: string[];
  /** Headers not over their column: the header's left edge off the rows' by more than half a pixel. */
  misplacedHeaders: string[];
  /** The page's width and the window's: wider is a sideways scrollbar. */
  pageWidth: number;
  windowWidth: number;
}

/**
 * The list scrolled from top to bottom (the virtual list renders the rows near the view only),
 * every row's cells measured on the way. Plain JavaScript in the page (this file is type-checked
 * without the DOM library).
 */
const measure = () =>
  page.evaluate(`(async () => {
    const frame = () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    const scroll = document.querySelector('[data-testid="exchange-scroll"]');
    const reasons = new Set(), cutReasons = new Set(), cutCells = new Set();
    const pattern = new RegExp(${JSON.stringify(PHONE_REASON.source)});
    const cut = (el) => el.scrollWidth > el.clientWidth;
    for (let top = 0; ; top += scroll.clientHeight / 2) {
      scroll.scrollTop = top;
      await frame();
      for (const row of document.querySelectorAll('.xrow[data-id]')) {
        const cell = row.querySelector('.c-what');
        const text = cell.querySelector('.what-text').textContent;
        reasons.add(text);
        if (pattern.test(text) && (cut(cell) || cut(cell.querySelector('.what-text')))) cutReasons.add(text + ' ' + cell.querySelector('.what-text').scrollWidth + '>' + cell.querySelector('.what-text').clientWidth);
        for (const other of row.querySelectorAll('.c-mac, .c-time, .c-peer, .c-action, .c-status')) if (cut(other)) cutCells.add(other.className + ' "' + other.textContent + '" ' + other.scrollWidth + '>' + other.clientWidth);
      }
      if (top >= scroll.scrollHeight) break;
    }
    const cutHeaders = [...document.querySelectorAll('.xhead .sort-label')].filter(cut).map((el) => el.textContent);
    const row = document.querySelector('.xrow[data-id]:not(.row-error):not(.row-tls)');
    const misplacedHeaders = [...document.querySelectorAll('.xhead [role="columnheader"]')]
      .map((h) => [h, row.querySelector('.' + h.className.split(' ')[0])])
      .filter(([h, c]) => !c || Math.abs(c.getBoundingClientRect().left - h.getBoundingClientRect().left) > 0.5 || Math.abs(c.getBoundingClientRect().right - h.getBoundingClientRect().right) > 0.5)
      .map(([h]) => h.textContent);
    return { reasons: [...reasons].sort(), cutReasons: [...cutReasons], cutCells: [...cutCells], cutHeaders, misplacedHeaders, pageWidth: document.documentElement.scrollWidth, windowWidth: window.innerWidth };
  })()`) as Promise<Seen>;

const relayout = () => page.evaluate('new Promise((resolve) => { requestAnimationFrame(() => requestAnimationFrame(resolve)); setTimeout(resolve, 1000); })');

describe('traffic list columns at a laptop\'s widths, in Chromium', () => {
  for (const language of ['en', 'de'] as const) {
    it(`every reason a phone sends is shown whole at 1024 and 1280 px, nothing else usual is cut, no sideways scrolling (${language})`, async () => {
      await open(language);
      for (const width of [1024, 1280]) {
        await page.setViewportSize({ width, height: 768 });
        await relayout();
        const seen = await measure();
        // The longest reasons are there to be measured.
        for (const reason of ['start-up', 'solicited', 'local-changes', 'inventory-changes', 'status', 'reply-to ReadAllItems', 'reply-to WriteItems', 'reply-to ReadItems', 'reply-to FileDeployment', 'reply-to SoftwareDeployment']) {
          expect(seen.reasons, `${width} px`).toContain(reason);
        }
        expect(seen.cutReasons, `reasons cut at ${width} px (${language})`).toEqual([]);
        expect(seen.cutCells, `cells cut at ${width} px (${language})`).toEqual([]);
        expect(seen.cutHeaders, `headers cut at ${width} px (${language})`).toEqual([]);
        expect(seen.misplacedHeaders, `headers beside their columns at ${width} px (${language})`).toEqual([]);
        expect(seen.pageWidth, `page wider than the window at ${width} px (${language})`).toBeLessThanOrEqual(seen.windowWidth);
      }
      expect(pageErrors).toEqual([]);
    }, 60_000);
  }

  it('a column the width drops is unchecked in Columns, and checking it shows it (the reason whole still)', async () => {
    await open('en');
    await page.setViewportSize({ width: 1024, height: 768 });
    await relayout();
    const headers = () => page.locator('.xhead [role="columnheader"]').allTextContents();
    expect(await headers()).not.toContain('Peer');
    await page.getByText('Columns', { exact: true }).click();
    const peer = page.getByRole('checkbox', { name: 'Peer' });
    expect(await peer.isChecked()).toBe(false);
    await peer.check();
    await expect.poll(headers).toContain('Peer');
    const seen = await measure();
    expect(seen.cutReasons).toEqual([]);
    expect(seen.cutCells).toEqual([]);
    expect(seen.pageWidth).toBeLessThanOrEqual(seen.windowWidth);
    // Asked for, it stays through a reload; unchecked, it is gone again.
    await page.reload();
    await page.locator('.xrow[data-id]').first().waitFor();
    expect(await headers()).toContain('Peer');
    await page.getByText('Columns', { exact: true }).click();
    await page.getByRole('checkbox', { name: 'Peer' }).uncheck();
    await expect.poll(headers).not.toContain('Peer');
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it("the detail's device, peer, time and duration are shown whole at 1024 px in German (they wrap; helper-81: the time was cut)", async () => {
    await page.setViewportSize({ width: 1024, height: 768 });
    await open('de');
    await page.locator('.xrow[data-id]').first().click();
    const meta = page.getByTestId('detail-meta');
    await meta.waitFor();
    expect(await meta.textContent()).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d( UTC)? · \d+ ms$/);
    expect(await meta.evaluate((e) => e.scrollWidth <= e.clientWidth)).toBe(true);
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('the list takes the height the splitter is dragged to, after a reload and in a taller window too; its keys move it', async () => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await open('en');
    await page.evaluate(`localStorage.removeItem('localdls.traffic.listShare')`);
    await open('en');
    const heights = () => page.evaluate(`[document.querySelector('.split-top').getBoundingClientRect().height, document.querySelector('.split').getBoundingClientRect().height]`) as Promise<[number, number]>;
    const [list0, split0] = await heights();
    expect(list0 / split0).toBeCloseTo(0.42, 2);
    const bar = page.getByRole('separator', { name: 'Resize the list' });
    const box = (await bar.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2 + 150, { steps: 5 });
    await page.mouse.up();
    const [list1] = await heights();
    expect(Math.abs(list1 - (list0 + 150))).toBeLessThan(2);
    await open('en');
    expect(Math.abs((await heights())[0] - list1)).toBeLessThan(2);
    await page.setViewportSize({ width: 1280, height: 1000 });
    const [list2, split2] = await heights();
    expect(list2 / split2).toBeCloseTo(list1 / split0, 2);
    await bar.focus();
    await page.keyboard.press('Home');
    expect(Math.abs((await heights())[0] - 0.15 * split2)).toBeLessThan(2);
    await page.keyboard.press('Enter');
    expect((await heights())[0] / split2).toBeCloseTo(0.42, 2);
    expect(await page.evaluate(`localStorage.getItem('localdls.traffic.listShare')`)).toBeNull();
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
