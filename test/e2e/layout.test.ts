/**
 * Layout and accessibility in Chromium against the real service and simulator: every view fits a
 * 1024×768 window (a laptop on a site's desk: nothing wider than the window) and the laptop widths
 * above it (1280 and 1366), no label is cut at
 * 1440×900, and axe-core finds no serious or critical violation, in light and dark, English and
 * German — the ladder, a phone's timeline and a rollout with queued phones included. With
 * LOCALDLS_SCREENSHOTS=1 it also takes the dark screenshots for the docs.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliProcess, runCli } from '../support/cli';
import { unreachableNote } from '../../src/shared/job-notes';
import { ACTIONS, REASONS_FOR_CONTACT } from '../../src/main/wpi/types';
import { withRawDb } from '../support/raw-db';
import { ensureRendererBuilt, launchChromium, screenshotDir, seriousA11yViolations, withAxe, suiteDirs } from './support';

const newDir = suiteDirs();
let serve: CliProcess;
let dataDir: string;
let ui: string;
let page: Page;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let shots: string;
const pageErrors: string[] = [];
const MAC = '00:1A:E8:00:00:02';

/** Every view; the interaction is set once the phones have made one. */
const VIEWS = ['#/traffic', '#/devices', `#/devices/${MAC}`, '#/jobs', '#/bootstrap', '#/setup', '#/rollouts', `#/timeline/${MAC}`];

beforeAll(async () => {
  ensureRendererBuilt();
  dataDir = newDir();
  serve = new CliProcess(['serve', '--data-dir', dataDir, '--port', '0', '--ui', '--ui-port', '0', '--no-auto-contact']);
  const listening = JSON.parse(await serve.waitFor((l) => l.includes('"listening"'))) as { port: number; ui: string };
  ui = listening.ui;
  const phones = await runCli(['phone', '--server', `https://127.0.0.1:${listening.port}`, '--count', '8', '--ip-base', '127.0.3.10', '--json']);
  expect(phones.code).toBe(0);
  // The longest reason and Action words in the device page's traffic card: inventory-changes,
  // local-changes, GetNextFragment (fragments of at most 5 items).
  for (const reason of ['inventory-changes', 'local-changes']) {
    const more = await runCli(['phone', '--server', `https://127.0.0.1:${listening.port}`, '--mac-base', MAC, '--reason', reason, '--max-items', '5', '--ip-base', '127.0.3.11']);
    expect(more.code).toBe(0);
  }
  // A write the phone refuses ten items of: the status cell's "10 refused" pill (German: the longest).
  const unknown = Array.from({ length: 10 }, (_, i) => `x-layout-${i}=1`);
  expect((await runCli(['job', 'add', '--data-dir', dataDir, '--mac', '00:1A:E8:00:00:03', 'write', ...unknown])).code).toBe(0);
  const refusing = await runCli(['phone', '--server', `https://127.0.0.1:${listening.port}`, '--mac-base', '00:1A:E8:00:00:03', '--reason', 'solicited', '--no-config-change', '--ip-base', '127.0.3.12']);
  expect(refusing.code).toBe(0);
  // A contact-me to a phone that is gone: an exchange of its own (a link inside text) in the phone's timeline.
  expect((await runCli(['contact', '--data-dir', dataDir, '--mac', MAC])).code).not.toBe(0);
  // Old firmware against the modern TLS profile: a failed-handshake row (its tag) in the traffic list.
  const old = await runCli(['phone', '--server', `https://127.0.0.1:${listening.port}`, '--count', '1', '--tls1.0', '--mac-base', '00:1A:E8:00:01:00', '--ip-base', '127.0.3.40']);
  expect(old.code).toBe(1);
  // A rollout for the rollouts view (the phones are gone: its phones stay queued) and a ladder.
  expect((await runCli(['job', 'add', '--data-dir', dataDir, '--all', 'write', 'sntp-addr=ntp.layout.example'])).code).toBe(0);
  // One of its phones failed as one that stays unreachable does, after five contact gaps (minutes):
  // the reason, a sentence, is what made the rollout's table wider than any window.
  withRawDb(dataDir, (db) =>
    db.prepare(`UPDATE jobs SET state = 'failed', finished = updated, error = ? WHERE mac = (SELECT max(mac) FROM jobs)`)
      .run(unreachableNote(5, 'connect ECONNREFUSED 127.0.3.17:40213')),
  );
  const list = await runCli(['traffic', 'list', '--data-dir', dataDir, '--device', MAC, '--json']);
  const interaction = (JSON.parse(list.stdout.trim().split('\n')[0]!) as { interactionId: number }).interactionId;
  VIEWS.push(`#/interaction/${interaction}`);
  browser = await launchChromium();
  await withAxe(browser.context);
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (e) => pageErrors.push(e.message));
  shots = screenshotDir(newDir);
  mkdirSync(shots, { recursive: true });
  await page.goto(ui);
  await page.locator('.xrow[data-id]').first().waitFor();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (serve) expect(await serve.stop('SIGTERM')).toBe(0);
});

// The page's globals, for the functions that run in it: this file compiles without the DOM types
// (and the page's CSP forbids evaluating source text).
interface El { parentElement: El | null; id: string; placeholder?: string; tagName: string; className: string; textContent: string | null; offsetParent: unknown; scrollWidth: number; clientWidth: number; scrollHeight: number; clientHeight: number; getBoundingClientRect(): { right: number }; append(child: El): void; remove(): void }
declare const window: { innerWidth: number; location: { hash: string } };
declare function requestAnimationFrame(callback: () => void): number;
declare const document: {
  documentElement: { scrollWidth: number; dataset: Record<string, string | undefined> };
  body: { textContent: string | null; append(child: El): void };
  querySelector(selector: string): El | null;
  querySelectorAll(selector: string): Iterable<El>;
  createElement(tag: 'canvas'): { getContext(kind: '2d'): { font: string; measureText(text: string): { width: number } } };
  createElement(tag: 'div' | 'button' | 'span'): El;
  createRange(): { setStart(node: TextNode, offset: number): void; setEnd(node: TextNode, offset: number): void; getClientRects(): { length: number } };
  createTreeWalker(root: El, whatToShow: number): { nextNode(): TextNode | null };
};
interface TextNode { data: string }
declare const localStorage: { setItem(key: string, value: string): void };
declare function getComputedStyle(el: El): { position: string; overflow: string; font: string; paddingLeft: string; paddingRight: string; color: string; backgroundColor: string };

async function show(hash: string): Promise<void> {
  await page.evaluate((h) => {
    window.location.hash = h;
  }, hash);
  // Let the view load its data and lay out.
  await page.waitForFunction(() => !(document.body.textContent ?? '').includes('Loading…') && !(document.body.textContent ?? '').includes('Lade…'), undefined, { timeout: 5000 }).catch(() => undefined);
  await page.waitForTimeout(300);
}

/**
 * The view on screen, laid out again at a new window size: two frames, no data to wait for. At
 * most a second: the measurements force a layout of their own, and a page that paints no frame for
 * a while (a loaded machine) must not hold the test (a CI run stalled here until its timeout).
 */
async function relayout(): Promise<void> {
  await page.evaluate(() => new Promise<void>((resolve) => {
    requestAnimationFrame(() => requestAnimationFrame(() => resolve()));
    setTimeout(resolve, 1000);
  }));
}

/** What is wider than the window, and which elements stick out (for the failure message). */
const overflow = () =>
  page.evaluate(() => {
    const width = window.innerWidth;
    const doc = document.documentElement.scrollWidth;
    const wide = [...document.querySelectorAll('body *')]
      .filter((el) => el.getBoundingClientRect().right > width + 1 && getComputedStyle(el).position !== 'fixed')
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}.${el.className} → ${Math.round(el.getBoundingClientRect().right)}`);
    return { width, doc, wide };
  });

/** Labels whose text does not fit their box (buttons, tabs, headings, table and column headers, form labels). */
const cutLabels = () =>
  page.evaluate(() =>
    [...document.querySelectorAll('button, .sort-label, .tabs a, th, [role="columnheader"], [role="tab"], label, legend, h1, h2, .sb-item:not(.sb-grow)')]
      .filter((el) => el.offsetParent !== null && el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflow !== 'visible')
      .map((el) => `${el.tagName.toLowerCase()} "${(el.textContent ?? '').trim().slice(0, 40)}" ${el.scrollWidth}>${el.clientWidth}`),
  );

/**
 * What the new-user passes found cut on a laptop's screen: a MAC, a start time, an Action
 * ("GetNextFr…") or a status ("200 accept…" at 1024 px) in the traffic list, a status-bar part (the time zone), the device's contact-me URI and its traffic table (in its
 * card), filter placeholders; and an exchange number of seven digits (a store of millions).
 */
const cutCells = () =>
  page.evaluate(() => {
    const cut: string[] = [];
    for (const el of document.querySelectorAll('.xrow .c-mac, .xrow .c-time, .xrow .c-status, .xrow .c-action, .statusbar .sb-item:not(.sb-grow), dd, .device-cols .card, .table-wrap')) {
      if (el.offsetParent !== null && el.scrollWidth > el.clientWidth + 1) cut.push(`${el.tagName.toLowerCase()}.${el.className} "${(el.textContent ?? '').trim().slice(0, 40)}" ${el.scrollWidth}>${el.clientWidth}`);
    }
    // The reply's pill ("10 abgelehnt") whole inside its cell's content box, not by a pixel's grace:
    // with Chromium's fallback font it overflowed by 0.16 px, and the ellipsis took its last letters.
    for (const pill of document.querySelectorAll('.xrow .c-status .rs')) {
      const cell = pill.parentElement!;
      const contentRight = cell.getBoundingClientRect().right - parseFloat(getComputedStyle(cell).paddingRight);
      if (pill.getBoundingClientRect().right > contentRight + 0.01) cut.push(`pill "${pill.textContent ?? ''}" ${pill.getBoundingClientRect().right.toFixed(2)}>${contentRight.toFixed(2)}`);
    }
    // The reason's tags ("fragment", the warning) are never cut: the reason's text gives way to them (at 1400 px they were).
    for (const tag of document.querySelectorAll('.xrow .c-what .tag')) {
      const cell = tag.parentElement!;
      if (tag.offsetParent !== null && tag.getBoundingClientRect().right > cell.getBoundingClientRect().right + 0.5) cut.push(`tag "${tag.textContent ?? ''}" in "${(cell.textContent ?? '').slice(0, 40)}" ${Math.round(tag.getBoundingClientRect().right)}>${Math.round(cell.getBoundingClientRect().right)}`);
    }
    // A placeholder is not in scrollWidth: measure it in the input's font.
    const ctx = document.createElement('canvas').getContext('2d');
    // An exchange number of a store of millions (seven digits) fits its column.
    for (const cell of [...document.querySelectorAll('.xrow[data-id] .c-id')].slice(0, 1)) {
      const style = getComputedStyle(cell);
      ctx.font = style.font;
      const room = cell.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
      const need = ctx.measureText('9999999').width;
      if (need > room + 1) cut.push(`exchange number "9999999" ${Math.round(need)}>${Math.round(room)}`);
    }
    for (const input of document.querySelectorAll('.filterbar input[placeholder]')) {
      const style = getComputedStyle(input);
      ctx.font = style.font;
      const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
      const need = ctx.measureText(input.placeholder ?? '').width;
      if (need > room + 1) cut.push(`placeholder "${input.placeholder}" ${Math.round(need)}>${Math.round(room)}`);
    }
    return cut;
  });

/**
 * The protocol's words broken inside a word: the device page's traffic card broke "reply-to
 * WriteItems" as "WriteIte|ms" at 1280 and 1366 px (a new-user pass). A reason or an Action in a
 * reason cell may wrap only after a hyphen ("inventory-|changes"); free text there, an error or a
 * path, may wrap anywhere so the card keeps to its column.
 */
const PROTOCOL_WORDS: readonly string[] = [...REASONS_FOR_CONTACT, ...ACTIONS];
const brokenWords = () =>
  page.evaluate((words) => {
    const broken: string[] = [];
    for (const cell of document.querySelectorAll('.device-traffic td.t-reason')) {
      if (cell.offsetParent === null) continue;
      const walker = document.createTreeWalker(cell, 4 /* NodeFilter.SHOW_TEXT */);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (const m of node.data.matchAll(/\S+/g)) {
          if (!words.includes(m[0])) continue;
          for (const part of m[0].matchAll(/[^-]+-?/g)) {
            const start = (m.index ?? 0) + (part.index ?? 0);
            const range = document.createRange();
            range.setStart(node, start);
            range.setEnd(node, start + part[0].length);
            if (range.getClientRects().length > 1) broken.push(m[0]);
          }
        }
      }
    }
    return broken;
  }, PROTOCOL_WORDS);

async function setPreferences(theme: 'light' | 'dark', language: 'en' | 'de'): Promise<void> {
  await page.evaluate(([th, lang]) => {
    localStorage.setItem('localdls.theme', th);
    localStorage.setItem('localdls.language', lang);
    window.location.hash = '#/traffic';
  }, [theme, language] as const);
  await page.reload();
  await page.locator('.xrow[data-id]').first().waitFor();
}

describe('layout in Chromium', () => {
  for (const [theme, language] of [['light', 'en'], ['dark', 'de']] as const) {
    it(`every view fits 1024×768, 1280×800 and 1366×768 without a label cut, and no label is cut at 1440×900 (${theme}, ${language})`, async () => {
      await setPreferences(theme, language);
      expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe(theme);
      const a11y: string[] = [];
      for (const view of VIEWS) {
        await page.setViewportSize({ width: 1024, height: 768 });
        await show(view);
        const o = await overflow();
        expect(o.doc, `${view} at 1024×768: ${o.wide.join('; ')}`).toBeLessThanOrEqual(o.width);
        expect(await cutCells(), `${view} at 1024×768`).toEqual([]);
        expect(await cutLabels(), `${view} at 1024×768`).toEqual([]);
        expect(await brokenWords(), `${view} at 1024×768: words broken across lines`).toEqual([]);
        // The laptop widths between (1280×800, 1366×768): the traffic list's full set of columns needs about 1,400 px.
        for (const [width, height] of [[1280, 800], [1366, 768]] as const) {
          await page.setViewportSize({ width, height });
          await relayout();
          const at = await overflow();
          expect(at.doc, `${view} at ${width}×${height}: ${at.wide.join('; ')}`).toBeLessThanOrEqual(at.width);
          expect(await cutLabels(), `${view} at ${width}×${height}`).toEqual([]);
          expect(await cutCells(), `${view} at ${width}×${height}`).toEqual([]);
          expect(await brokenWords(), `${view} at ${width}×${height}: words broken across lines`).toEqual([]);
        }
        await page.setViewportSize({ width: 1440, height: 900 });
        await relayout();
        expect(await cutLabels(), `${view} at 1440×900`).toEqual([]);
        expect(await cutCells(), `${view} at 1440×900`).toEqual([]);
        a11y.push(...(await seriousA11yViolations(page)).map((v) => `${view}: ${v}`));
        if (view.startsWith('#/timeline/')) expect(await page.locator('a[href^="#/traffic?focus="]').count(), 'a contact-me in the timeline').toBeGreaterThan(0);
        if (view === '#/traffic') {
          // With an exchange selected: its scrollable bodies and XML colours; and a TLS-failure row's tag.
          expect(await page.locator('.xrow .tag-tls').count(), 'a failed-handshake row').toBeGreaterThan(0);
          // The list scrolls (more rows than fit), so its scroll region must take the keyboard.
          expect(await page.evaluate(() => [...document.querySelectorAll('.xscroll')].some((el) => el.scrollHeight > el.clientHeight)), 'the list scrolls').toBe(true);
          await page.locator('.xrow[data-id]').nth(1).click();
          await page.getByTestId('detail').getByTestId('xml-pretty').first().waitFor();
          a11y.push(...(await seriousA11yViolations(page)).map((v) => `${view} with an exchange selected: ${v}`));
          // Between the widths where columns come back (duration, then size at 1440 px): nothing
          // usual cut either (traffic-columns.test.ts measures the reasons).
          await page.setViewportSize({ width: 1400, height: 900 });
          await relayout();
          expect(await cutCells(), `${view} at 1400×900`).toEqual([]);
          // The messages' start lines are shown whole at a laptop's widths too ("POST /D…" at 1024 px).
          for (const [width, height] of [[1024, 768], [1280, 800], [1440, 900]] as const) {
            await page.setViewportSize({ width, height });
            await relayout();
            const lines = await page.evaluate(() =>
              [...document.querySelectorAll('.msg-line')].filter((el) => el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1).map((el) => el.textContent),
            );
            expect(lines, `start lines cut at ${width}×${height}`).toEqual([]);
          }
        }
      }
      expect(a11y, `axe-core (${theme}, ${language})`).toEqual([]);
      await page.setViewportSize({ width: 1440, height: 900 });
      if (theme === 'dark') {
        await show('#/traffic');
        await page.locator('.xrow[data-id]').nth(2).click();
        await page.getByTestId('detail').waitFor();
        await page.screenshot({ path: join(shots, 'traffic-dark-de.png') });
        await show('#/devices');
        await page.screenshot({ path: join(shots, 'devices-dark-de.png') });
      }
      expect(pageErrors, pageErrors.join('; ')).toEqual([]);
    }, 120_000);
  }

  it.each(['light', 'dark'] as const)('%s theme: filled buttons and badges keep their text readable (4.5:1), hovered too', async (theme) => {
    await setPreferences(theme, 'en');
    const kinds = ['btn btn-primary', 'btn btn-danger', 'pill pill-error', 'tag tag-error', 'tag tag-tls', 'rs rs-bad', 'rs rs-busy', 'rs rs-ok'];
    // Placed in the page as the views place them (the CSS under test is the page's own).
    await page.evaluate((classes) => {
      const box = document.createElement('div');
      box.id = 'contrast-probe';
      for (const c of classes) {
        const el = document.createElement(c.startsWith('btn') ? 'button' : 'span');
        el.className = c;
        el.textContent = 'Allow legacy TLS 12';
        box.append(el);
      }
      document.body.append(box);
    }, kinds);
    const ratio = (selector: string) =>
      page.evaluate((sel) => {
        const el = document.querySelector(sel)!;
        const style = getComputedStyle(el);
        const lum = (css: string) => {
          const [r, g, b] = (css.match(/[\d.]+/g) ?? []).slice(0, 3).map(Number).map((v) => v / 255).map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
          return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
        };
        const [hi, lo] = [lum(style.color), lum(style.backgroundColor)].sort((a, b) => b - a);
        return (hi! + 0.05) / (lo! + 0.05);
      }, selector);
    const low: string[] = [];
    for (const [i, c] of kinds.entries()) {
      const selector = `#contrast-probe > :nth-child(${i + 1})`;
      const plain = await ratio(selector);
      await page.hover(selector);
      const hovered = await ratio(selector);
      if (plain < 4.5 || hovered < 4.5) low.push(`${c}: ${plain.toFixed(2)}, hovered ${hovered.toFixed(2)}`);
    }
    await page.evaluate(() => document.querySelector('#contrast-probe')?.remove());
    expect(low).toEqual([]);
  });

  it('? opens the shortcut list', async () => {
    await setPreferences('light', 'en');
    await page.keyboard.press('?');
    await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor();
    await page.screenshot({ path: join(shots, 'shortcuts.png') });
    await page.keyboard.press('Escape');
  });

  it("a view waits for its words: with the German job words held back, a rollout's job states still come in German", async () => {
    await setPreferences('light', 'de');
    // Hold the jobs namespace's text (its chunks are data: no import), not the code of lib/jobs.ts
    // that shares the name: the rollout view's own words and data arrive first. Routing turns
    // Chromium's cache off, so the reload fetches them again.
    let held = 0;
    await page.route(/\/assets\/jobs-[\w-]+\.js$/, async (route) => {
      const response = await route.fetch();
      if (!(await response.text()).startsWith('import')) {
        held++;
        await new Promise((resolve) => setTimeout(resolve, 1500));
      }
      await route.fulfill({ response });
    });
    try {
      await page.evaluate(() => {
        window.location.hash = '#/rollouts';
      });
      await page.reload();
      await page.locator('[data-testid="rollouts-table"] tbody tr a').first().click();
      const jobs = page.getByTestId('rollout-devices');
      await jobs.waitFor();
      const cells = await jobs.locator('tbody tr td:nth-child(3)').allTextContents();
      expect(held).toBeGreaterThan(0);
      expect(cells.length).toBeGreaterThan(0);
      for (const cell of cells) expect(cell).toMatch(/^#\d+ (eingereiht|fehlgeschlagen)$/);
      expect(cells.filter((c) => c.endsWith('fehlgeschlagen'))).toHaveLength(1);
    } finally {
      await page.unrouteAll({ behavior: 'wait' });
    }
  });

  it('German: 4 opens the rollouts view (job states translated); the shortcut list names 1 – 6 and Umschalt/Strg; code not backticks; a bad address refused in German', async () => {
    await setPreferences('light', 'de');
    await page.keyboard.press('4');
    await page.waitForFunction(() => window.location.hash.startsWith('#/rollouts'));
    await page.keyboard.press('?');
    const help = page.getByRole('dialog', { name: 'Tastenkürzel' });
    await help.waitFor();
    const text = (await help.textContent()) ?? '';
    expect(text).toContain('1 – 6');
    expect(text).toContain('Umschalt+Klick');
    expect(text).toContain('Strg+Klick');
    expect(text).not.toContain('click');
    await page.keyboard.press('Escape');
    // A rollout's job states in German too (its phones are gone: their jobs stay queued, one failed).
    await page.locator('[data-testid="rollouts-table"] tbody tr a').first().click();
    const jobs = page.getByTestId('rollout-devices');
    await jobs.waitFor();
    const cells = await jobs.locator('tbody tr td:nth-child(3)').allTextContents();
    expect(cells.length).toBeGreaterThan(0);
    for (const cell of cells) expect(cell).toMatch(/^#\d+ (eingereiht|fehlgeschlagen)$/);
    expect(cells.filter((c) => c.endsWith('fehlgeschlagen'))).toHaveLength(1);
    // Setup shows the command as code, not with backticks.
    await show('#/setup');
    const stored = page.getByTestId('tls-stored');
    expect(await stored.locator('code').allTextContents()).toEqual(['localdls serve']);
    expect(await stored.textContent()).not.toContain('`');
    // A malformed address: the refusal in German, without the service's internal names.
    await show('#/timeline/garbage');
    await page.getByText('„garbage“ ist keine MAC-Adresse', { exact: false }).waitFor();
    expect(await page.evaluate(() => document.body.textContent ?? '')).not.toMatch(/getDeviceTimeline|is not a MAC/);
  });
});
