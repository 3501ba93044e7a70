/**
 * The UI text in Chromium, as the built page loads it (src/renderer/src/i18n): one file per
 * language and namespace. The first screen loads the language in use only; switching language
 * loads the other and every view shows it; a reload starts in the chosen language; a namespace
 * whose file cannot be loaded falls back to English instead of showing raw keys or breaking the page.
 */
import type { Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliProcess } from '../support/cli';
import { ensureRendererBuilt, launchChromium, suiteDirs } from './support';

const newDir = suiteDirs();
let serve: CliProcess;
let ui: string;
let browser: Awaited<ReturnType<typeof launchChromium>>;

// ASCII strings of one namespace file each (the build may escape other characters).
const GERMAN_COMMON = 'Sprache';
const GERMAN_JOBS = 'Offen (eingereiht, gesendet, besetzt)';
const ENGLISH_JOBS = 'Waiting (queued, sent, busy)';

beforeAll(async () => {
  ensureRendererBuilt();
  serve = new CliProcess(['serve', '--data-dir', newDir(), '--port', '0', '--no-auto-contact', '--ui', '--ui-port', '0']);
  ui = (JSON.parse(await serve.waitFor((l) => l.includes('"listening"'))) as { ui: string }).ui;
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (serve) expect(await serve.stop('SIGTERM')).toBe(0);
});

/** A page that records the page's scripts as served, and its errors. */
async function openPage(): Promise<{ page: Page; scripts: string[]; errors: string[] }> {
  const page = await browser.context.newPage();
  page.setDefaultTimeout(15_000);
  const scripts: string[] = [];
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('response', (r) => {
    if (r.url().endsWith('.js')) void r.text().then((body) => scripts.push(body), () => undefined);
  });
  return { page, scripts, errors };
}

describe('UI text in the browser', () => {
  it('starts with English only, switches to German in every view, and a reload starts in German', async () => {
    const { page, scripts, errors } = await openPage();
    await page.goto(ui);
    await page.getByText('No traffic yet.', { exact: false }).waitFor();
    await page.getByRole('link', { name: 'Devices' }).waitFor();
    expect(scripts.some((s) => s.includes(GERMAN_COMMON))).toBe(false);
    // The other namespaces follow the first screen in the same language: the jobs view's text is
    // there without German.
    await expect.poll(() => scripts.some((s) => s.includes(ENGLISH_JOBS))).toBe(true);
    expect(scripts.some((s) => s.includes(GERMAN_JOBS))).toBe(false);

    await page.getByLabel('Language').selectOption('de');
    await page.getByRole('link', { name: 'Datenverkehr' }).waitFor();
    expect(await page.evaluate('document.documentElement.lang')).toBe('de');
    await page.getByRole('link', { name: 'Jobs' }).click();
    await page.getByRole('option', { name: GERMAN_JOBS }).waitFor({ state: 'attached' });
    await page.getByRole('link', { name: /Geräte/ }).click();
    await page.getByTestId('device-count').getByText('0 Geräte').waitFor();

    await page.goto(ui.replace(/\?token=.*/, '#/traffic'));
    await page.getByRole('link', { name: 'Datenverkehr' }).waitFor();
    expect(await page.getByLabel('Sprache').inputValue()).toBe('de');
    expect(errors).toEqual([]);
    await page.getByLabel('Sprache').selectOption('en');
    await page.getByRole('link', { name: 'Traffic' }).waitFor();
    await page.close();
  });

  it('a namespace whose file cannot be loaded shows English, and the page says which file', async () => {
    const { page, errors } = await openPage();
    // The German jobs file fails to load (as if it were missing from the build).
    await page.route('**/assets/*.js', async (route: Route) => {
      const response = await route.fetch();
      if ((await response.text()).includes(GERMAN_JOBS)) await route.abort();
      else await route.fulfill({ response });
    });
    await page.goto(ui);
    await page.getByLabel('Language').selectOption('de');
    await page.getByRole('link', { name: 'Datenverkehr' }).waitFor();
    await page.getByRole('link', { name: 'Jobs' }).click();
    // The jobs view in English, the frame around it in German.
    await page.getByRole('option', { name: ENGLISH_JOBS }).waitFor({ state: 'attached' });
    expect(await page.getByRole('link', { name: 'Einrichtung' }).count()).toBe(1);
    expect(await page.locator('main').textContent()).not.toMatch(/view\.\w+/);
    expect(errors.some((e) => /UI text \.\/locales\/de\/jobs\.json could not be loaded/.test(e))).toBe(true);
    expect(errors.filter((e) => !e.includes('UI text') && !e.includes('net::ERR_FAILED'))).toEqual([]);
    await page.close();
  });
});
