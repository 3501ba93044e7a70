/**
 * The devices list's columns at a laptop's width (1024×768) and a desktop's (1440×900), in Chromium
 * against the real service and simulated phones, in English and German: the table is never wider
 * than its window, no cell is cut without its whole text in its title, no heading is cut, and the
 * columns that give way at 1024 px (a new-user pass: Firmware and TLS were dropped with no way to
 * get them back) come back from the Columns menu, as in the traffic list (traffic-columns.test.ts).
 * The phones' longest usual contents are there: a 15-digit number, three state badges (German), a
 * legacy TLS phone, waiting jobs; and longer ones that may be cut (a long model and firmware name,
 * an IPv6 address).
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliProcess, runCli } from '../support/cli';
import { withRawDb } from '../support/raw-db';
import { type ChromiumSession, ensureRendererBuilt, launchWithPage, suiteDirs } from './support';

const newDir = suiteDirs();
let serve: CliProcess;
let ui: string;
let page: Page;
let browser: ChromiumSession;
const pageErrors: string[] = [];
const MAC = (n: number) => `00:1A:E8:00:22:0${n}`;

beforeAll(async () => {
  ensureRendererBuilt();
  const dir = newDir();
  serve = new CliProcess(['serve', '--data-dir', dir, '--host', '127.0.0.1', '--port', '0', '--tls', 'legacy', '--no-auto-contact', '--ui', '--ui-port', '0']);
  const ready = JSON.parse(await serve.waitFor((l) => l.includes('"listening"'))) as { port: number; ui: string };
  ui = ready.ui;
  const server = `https://127.0.0.1:${ready.port}`;
  const cli = async (args: string[]) => (await runCli([...args, '--data-dir', dir])).code;
  // Enough phones that the page scrolls at 768 px: its scrollbar takes room from the table.
  expect((await runCli(['phone', '--server', server, '--count', '4', '--mac-base', MAC(1), '--ip-base', '127.0.22.10'])).code).toBe(0);
  expect((await runCli(['phone', '--server', server, '--count', '20', '--mac-base', '00:1A:E8:00:22:40', '--ip-base', '127.0.22.40'])).code).toBe(0);
  // Old firmware: TLS 1.0, the legacy badge.
  expect((await runCli(['phone', '--server', server, '--count', '1', '--tls1.0', '--mac-base', MAC(5), '--ip-base', '127.0.22.20'])).code).toBe(0);
  // Twelve jobs wait for phone 1 ("12 wartend"); phone 2's contact-me finds no phone (unreachable).
  for (let i = 0; i < 12; i++) expect(await cli(['job', 'add', '--mac', MAC(1), 'write', `sntp-addr=ntp${i}.columns.example`])).toBe(0);
  expect(await cli(['contact', '--mac', MAC(2)])).not.toBe(0);
  // What no simulated phone reports: a 15-digit number and a failed bootstrap beside "unreachable"
  // (three badges), a long model and firmware name and an IPv6 address (these may be cut, titled).
  withRawDb(dir, (db) => {
    db.prepare(`UPDATE devices SET e164 = '498972231009999', bootstrap = 'failed' WHERE mac = ?`).run(MAC(2));
    db.prepare(`UPDATE devices SET device_type = 'OpenScape Desk Phone IP 55G', software_version = 'V3 R5.16.0 SIP 230818 (hotfix 2)', last_address = 'fd12:3456:789a:1:21e:e8ff:fe00:2203' WHERE mac = ?`).run(MAC(3));
  });
  ({ browser, page } = await launchWithPage(pageErrors, { scrollbars: true, timeoutMs: 15_000 }));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (serve) expect(await serve.stop('SIGTERM')).toBe(0);
});

async function open(language: 'en' | 'de'): Promise<void> {
  await page.goto(ui);
  await page.evaluate(`localStorage.setItem('localdls.language', ${JSON.stringify(language)}); localStorage.removeItem('localdls.devices.hiddenColumns'); localStorage.removeItem('localdls.devices.shownColumns')`);
  // The language is read at start: a new document, by way of a blank page (a reload right after the
  // hash changed was aborted by Chromium once in CI: net::ERR_ABORTED).
  await page.goto('about:blank');
  await page.goto(`${ui}#/devices`);
  await page.locator(`tr[data-mac="${MAC(5)}"]`).waitFor();
}

interface Seen {
  /** The headings shown (the first is the select-all box's: empty). */
  headers: string[];
  /** Cells whose contents do not fit: their column's heading, their text and their title. */
  cut: { column: string; text: string; title: string }[];
  /** Headings cut. */
  cutHeaders: string[];
  /** The table's width, its box's and the page's, and the window's. */
  tableWidth: number;
  wrapWidth: number;
  pageWidth: number;
  windowWidth: number;
}

/** Every cell and heading of the list measured. Plain JavaScript in the page (this file is type-checked without the DOM library). */
const measure = () =>
  page.evaluate(`(() => {
    const table = document.querySelector('.devices table.dtable');
    const wrap = table.parentElement;
    const shown = (el) => el.offsetParent !== null;
    const heads = [...table.querySelectorAll('thead th')].filter(shown);
    const isCut = (el) => el.scrollWidth > el.clientWidth + 0.5;
    const cut = [];
    for (const row of table.querySelectorAll('tbody tr')) {
      [...row.children].filter(shown).forEach((td, i) => {
        if (isCut(td)) cut.push({ column: heads[i].textContent, text: td.textContent.trim(), title: td.title });
      });
    }
    return {
      headers: heads.map((h) => h.textContent),
      cut,
      cutHeaders: heads.filter(isCut).map((h) => h.textContent + ' ' + h.scrollWidth + '>' + h.clientWidth),
      tableWidth: table.getBoundingClientRect().width, wrapWidth: wrap.clientWidth, pageWidth: document.documentElement.scrollWidth, windowWidth: window.innerWidth,
    };
  })()`) as Promise<Seen>;

const relayout = () => page.evaluate('new Promise((resolve) => { requestAnimationFrame(() => requestAnimationFrame(resolve)); setTimeout(resolve, 1000); })');
const headers = async () => (await measure()).headers;

const WORDS = {
  en: { all: ['', 'MAC', 'Mode', 'State', 'Jobs', 'Model', 'Firmware', 'E.164', 'Address', 'TLS', 'Last contact'] },
  de: { all: ['', 'MAC', 'Modus', 'Zustand', 'Jobs', 'Modell', 'Firmware', 'E.164', 'Adresse', 'TLS', 'Letzter Kontakt'] },
} as const;
/** What may be cut, its whole text in its title: the long names planted, not what phones usually say. */
const MAY_BE_CUT = ['OpenScape Desk Phone IP 55G', 'V3 R5.16.0 SIP 230818 (hotfix 2)', 'fd12:3456:789a:1:21e:e8ff:fe00:2203'];

describe('devices list columns at a laptop\'s and a desktop\'s width, in Chromium', () => {
  for (const language of ['en', 'de'] as const) {
    it(`no cell cut without its title, no heading cut, nothing wider than the window; at 1024 px only firmware and TLS give way (${language})`, async () => {
      await open(language);
      const [, mac, mode, state, jobs, model, firmware, e164, address, , last] = WORDS[language].all;
      for (const [width, height] of [[1024, 768], [1440, 900]] as const) {
        await page.setViewportSize({ width, height });
        await relayout();
        const seen = await measure();
        expect(seen.headers, `${width} px`).toEqual(width === 1024 ? ['', mac, mode, state, jobs, model, e164, address, last] : WORDS[language].all);
        // Cut only where the text is longer than a phone usually sends, and then with its title whole.
        for (const c of seen.cut) expect(c, `cut at ${width} px (${language})`).toEqual({ column: expect.stringMatching(new RegExp(`^(${model}|${firmware}|${address})$`)), text: expect.toBeOneOf(MAY_BE_CUT), title: c.text });
        expect(seen.cutHeaders, `headings cut at ${width} px (${language})`).toEqual([]);
        expect(seen.tableWidth, `table wider than its box at ${width} px (${language})`).toBeLessThanOrEqual(seen.wrapWidth + 0.5);
        expect(seen.pageWidth, `page wider than the window at ${width} px (${language})`).toBeLessThanOrEqual(seen.windowWidth);
      }
      // The usual contents whole: a 15-digit number, three state badges, twelve waiting jobs, legacy TLS.
      const row = (n: number) => page.locator(`tr[data-mac="${MAC(n)}"]`);
      expect(await row(2).textContent()).toContain('498972231009999');
      expect(await row(2).locator('.state').count()).toBe(3);
      expect(await row(1).textContent()).toContain(language === 'en' ? '12 waiting' : '12 wartend');
      expect(await row(5).locator('.tls-legacy').count()).toBe(1);
      expect(pageErrors).toEqual([]);
    }, 60_000);
  }

  it('a column the width drops is unchecked in Columns; checked, it is shown (another gives way), and it stays through a reload', async () => {
    await open('en');
    await page.setViewportSize({ width: 1024, height: 768 });
    await relayout();
    expect(await headers()).not.toContain('Firmware');
    await page.getByText('Columns', { exact: true }).click();
    const firmware = page.getByRole('checkbox', { name: 'Firmware' });
    expect(await firmware.isChecked()).toBe(false);
    expect(await page.getByRole('checkbox', { name: 'TLS' }).isChecked()).toBe(false);
    expect(await page.getByRole('checkbox', { name: 'Address' }).isChecked()).toBe(true);
    await firmware.check();
    await expect.poll(headers).toContain('Firmware');
    // Asked for, firmware stays; the address, next in line, gives way to it.
    expect(await headers()).toEqual(['', 'MAC', 'Mode', 'State', 'Jobs', 'Model', 'Firmware', 'E.164', 'Last contact']);
    const seen = await measure();
    for (const c of seen.cut) expect(c.title).toBe(c.text);
    expect(seen.cutHeaders).toEqual([]);
    expect(seen.tableWidth).toBeLessThanOrEqual(seen.wrapWidth + 0.5);
    // Escape closes the menu, as the traffic list's does.
    await page.keyboard.press('Escape');
    expect(await page.getByRole('checkbox', { name: 'Firmware' }).count()).toBe(0);
    await page.reload();
    await page.locator(`tr[data-mac="${MAC(5)}"]`).waitFor();
    expect(await headers()).toContain('Firmware');

    // In German: TLS comes back too; Firmware unchecked is gone again.
    await page.getByLabel('Language').selectOption('de');
    await page.getByText('Spalten', { exact: true }).click();
    await page.getByRole('checkbox', { name: 'TLS' }).check();
    await expect.poll(headers).toContain('TLS');
    await page.getByRole('checkbox', { name: 'Firmware' }).uncheck();
    await expect.poll(headers).not.toContain('Firmware');
    const german = await measure();
    expect(german.headers).toContain('TLS');
    for (const c of german.cut) expect(c.title).toBe(c.text);
    expect(german.cutHeaders).toEqual([]);
    expect(german.tableWidth).toBeLessThanOrEqual(german.wrapWidth + 0.5);
    await page.getByLabel('Sprache').selectOption('en');
    expect(pageErrors).toEqual([]);
  }, 60_000);
  it('every column asked back in turn at 1024 px: the table stays in its box and the model keeps its room; the newest asked is shown (helper-79)', async () => {
    await open('en');
    await page.setViewportSize({ width: 1024, height: 768 });
    await relayout();
    await page.getByText('Columns', { exact: true }).click();
    const modelWidth = () => page.evaluate(`[...document.querySelectorAll('.devices table.dtable thead th')].find((th) => th.textContent === 'Model').getBoundingClientRect().width`) as Promise<number>;
    let asked = 0;
    for (const name of ['Firmware', 'TLS', 'Address', 'E.164', 'Last contact', 'Jobs', 'Mode', 'Firmware', 'TLS']) {
      const box = page.getByRole('checkbox', { name });
      if (await box.isChecked()) continue;
      await box.check();
      asked++;
      await expect.poll(headers).toContain(name);
      const seen = await measure();
      expect(seen.tableWidth, `after ${name}`).toBeLessThanOrEqual(seen.wrapWidth + 0.5);
      expect(seen.pageWidth, `after ${name}`).toBeLessThanOrEqual(seen.windowWidth);
      expect(seen.cutHeaders, `after ${name}`).toEqual([]);
      expect(await modelWidth(), `after ${name}`).toBeGreaterThanOrEqual(104);
    }
    // More were asked for than fit at once: each time another gave way.
    expect(asked).toBeGreaterThan(3);
    await page.keyboard.press('Escape');
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
