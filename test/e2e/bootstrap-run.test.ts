/**
 * A bootstrap run in Chromium tells the truth and can be stopped: `LOCALDLS_KEY_PASSPHRASE=…
 * localdls serve --ui` with Secure Mode on, and simulated phones that called once and were
 * switched off (their contact-me port refuses, over real loopback sockets).
 * - The PIN sheet's buttons stay disabled, saying how many phones are prepared, until every phone
 *   is (checked on every render the page makes, not at one moment).
 * - A refused contact-me is said as refused, with why, never as "the phone answered".
 * - "Cancel run…" asks first; the run then shows cancelled, each phone's state, and the second
 *   tab that confirms too gets no error. In German as well.
 * - The Rollouts view counts the cancelled phones as cancelled, not failed.
 * - The wizard shows the key pool; the run is a rollout that is still there after `serve` restarts
 *   (found from its jobs), and the run's old address says where to look.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliProcess, runCli } from '../support/cli';
import { ensureRendererBuilt, launchChromium, seriousA11yViolations, suiteDirs, withAxe } from './support';

const newDir = suiteDirs();
const PASSPHRASE = 'e2e key passphrase, not a real one';
const COUNT = 8;
const MAC_BASE = '00:1A:E8:00:18:01';
const macs = Array.from({ length: COUNT }, (_, i) => `00:1A:E8:00:18:${(i + 1).toString(16).padStart(2, '0').toUpperCase()}`);

let serve: CliProcess;
let ui: string;
let site: string;
/** The first test's run: its address in the wizard, and its rollout. */
let runAddress = '';
let rolloutId = '';
let page: Page;
let browser: Awaited<ReturnType<typeof launchChromium>>;
const pageErrors: string[] = [];
const WAIT = { timeout: 60_000 };

// The page's globals, for the functions that run in it (this file compiles without the DOM types).
declare const document: {
  querySelector(s: string): { textContent: string | null } | null;
  querySelectorAll(s: string): ArrayLike<{ disabled: boolean; textContent: string | null }>;
  body: unknown;
};
declare const MutationObserver: new (cb: () => void) => { observe(target: unknown, options: unknown): void };
declare const window: Record<string, unknown>;
declare const localStorage: { setItem(key: string, value: string): void };

beforeAll(async () => {
  ensureRendererBuilt();
  site = join(newDir(), 'site');
  const listening = await startServe();
  // The phones call once and are switched off: their contact-me listener is gone.
  const phones = await runCli(['phone', '--server', `https://127.0.0.1:${listening.port}`, '--count', String(COUNT), '--mac-base', MAC_BASE, '--ip-base', '127.0.18.1', '--e164-base', '498972218001', '--json']);
  expect(phones.code, phones.stderr).toBe(0);
  browser = await launchChromium();
  await withAxe(browser.context);
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.setDefaultTimeout(30_000);
  page.on('pageerror', (e) => pageErrors.push(e.message));
}, 180_000);

/** `serve --ui` on the site's folder with Secure Mode on; sets `serve` and `ui`. */
async function startServe(): Promise<{ port: number; ui: string }> {
  process.env.LOCALDLS_KEY_PASSPHRASE = PASSPHRASE;
  try {
    serve = new CliProcess(['serve', '--data-dir', site, '--host', '127.0.0.1', '--port', '0', '--secure-port', '0', '--contact-gap', '60', '--ui', '--ui-port', '0']);
  } finally {
    delete process.env.LOCALDLS_KEY_PASSPHRASE;
  }
  const listening = JSON.parse(await serve.waitFor((l) => l.includes('"listening"'), 60_000)) as { port: number; ui: string };
  ui = listening.ui;
  return listening;
}

afterAll(async () => {
  await browser?.close();
  if (serve) expect(await serve.stop('SIGTERM')).toBe(0);
});

/** Records, at every change the page makes, the progress text and whether the PIN buttons are enabled. */
async function watchSheetButtons(p: Page): Promise<void> {
  await p.evaluate(() => {
    const seen: { progress: string; enabled: boolean[]; note: string }[] = [];
    window.sheetStates = seen;
    const record = () => {
      const progress = document.querySelector('[data-testid="run-progress"]')?.textContent ?? '';
      const buttons = Array.from(document.querySelectorAll('.pin-actions button'));
      if (!progress || buttons.length === 0) return;
      seen.push({ progress, enabled: buttons.map((b) => !b.disabled), note: document.querySelector('[data-testid="pins-note"]')?.textContent ?? '' });
    };
    new MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  });
}

describe('a bootstrap run in the browser', () => {
  it('offers the PIN sheet only once every phone is prepared, says a refused contact-me as refused, and cancels after asking', async () => {
    await page.goto(`${ui}#/bootstrap?macs=${macs.join(',')}`);
    await page.getByTestId('secure-on').waitFor();
    // The key pool (64 by default), as the service counts it.
    expect(await page.getByTestId('key-pool').textContent()).toMatch(/^Key pool: \d+ of 64 device keys ready: (filling while the service is idle|the first 64 phones)/);
    await watchSheetButtons(page);
    await page.getByRole('button', { name: `Bootstrap ${COUNT} devices` }).click();
    await expect.poll(() => page.getByTestId('run-progress').textContent(), WAIT).toMatch(new RegExp(`^prepared ${COUNT}/${COUNT}`));
    await expect.poll(() => page.getByRole('button', { name: 'Save CSV' }).isEnabled(), WAIT).toBe(true);

    const states = (await page.evaluate(() => window.sheetStates)) as { progress: string; enabled: boolean[]; note: string }[];
    const partial = states.filter((s) => !s.progress.startsWith(`prepared ${COUNT}/${COUNT}`));
    expect(partial.length).toBeGreaterThan(0);
    for (const s of partial) {
      expect(s.enabled, s.progress).toEqual([false, false, false]);
      expect(s.note).toMatch(new RegExp(`^The PIN sheet is ready once every phone is prepared \\(\\d+ of ${COUNT} so far\\)\\.$`));
    }
    const saved = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Save CSV' }).click()]);
    const sheet = await saved[0].path();
    expect(readFileSync(sheet, 'utf8').trim().split('\n').length).toBe(COUNT + 1);

    // Each phone's contact-me was refused (nobody listens any more): said so, with why; never "answered".
    const stateOf = (mac: string) => page.locator(`tr[data-mac="${mac}"]`).getByTestId('bootstrap-state');
    for (const mac of macs) {
      await expect.poll(() => stateOf(mac).textContent(), WAIT).toMatch(/contact-me.*failed.*(refused|ECONNREFUSED)/i);
      expect(await stateOf(mac).textContent()).not.toMatch(/answered/);
    }

    // A second tab on the same run, its confirmation open.
    const other = await browser.context.newPage();
    await other.goto(`${ui}${new URL(page.url()).hash}`);
    await other.getByRole('button', { name: 'Cancel run…' }).click();
    await other.getByRole('dialog', { name: 'Cancel this bootstrap run?' }).waitFor();

    // Cancel asks first; "Keep running" keeps it running.
    await page.getByRole('button', { name: 'Cancel run…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Cancel this bootstrap run?' });
    expect(await dialog.textContent()).toMatch(/No phone has its credentials yet\./);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await dialog.getByRole('button', { name: 'Keep running' }).click();
    expect(await page.getByTestId('run-cancelled').count()).toBe(0);
    await page.getByRole('button', { name: 'Cancel run…' }).click();
    await dialog.getByRole('button', { name: 'Cancel run', exact: true }).click();
    await page.getByRole('heading', { name: /^Bootstrap cancelled/ }).waitFor();
    expect(await page.getByTestId('run-cancelled').textContent()).toMatch(new RegExp(`^Cancelled at .* \\(cancelled from the run view\\): 0 secure, 0 failed, ${COUNT} cancelled`));
    for (const mac of macs) expect(await stateOf(mac).textContent()).toBe('cancelled: cancelled with its bootstrap run');
    expect(await page.getByRole('button', { name: 'Cancel run…' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Save CSV' }).isEnabled()).toBe(false);
    expect(await page.getByTestId('pins-note').textContent()).toMatch(/forgotten/);

    // The other tab confirms too: no error, the same cancelled run.
    await other.getByRole('dialog').getByRole('button', { name: 'Cancel run', exact: true }).click();
    await other.getByRole('heading', { name: /^Bootstrap cancelled/ }).waitFor();
    expect(await other.getByRole('alert').count()).toBe(0);
    await other.close();

    // Rollouts (the run's link): all cancelled, none failed, no red in the bar.
    runAddress = new URL(page.url()).hash;
    await page.getByTestId('run-rollout').click();
    await page.getByTestId('rollouts-table').waitFor();
    rolloutId = /[?&]id=(j\d+-Bootstrap)$/.exec(page.url())?.[1] ?? '';
    expect(rolloutId, page.url()).not.toBe('');
    const row = page.getByTestId('rollouts-table').locator('tbody tr').first();
    await expect.poll(() => row.locator('td').nth(5).textContent(), WAIT).toBe('0');
    expect(await row.locator('.bar-failed').count()).toBe(0);
    expect(await row.locator('.bar-cancelled').count()).toBe(1);
    expect(await page.getByTestId('phase-cancelled').textContent()).toMatch(new RegExp(`^${COUNT}\\D`));
    expect(await page.getByTestId('phase-failed').textContent()).toMatch(/^0/);
    expect(await row.locator('td').nth(1).textContent()).toBe('Bootstrap');

    // German: the cancelled run in German words.
    await page.goBack();
    await page.getByRole('heading', { name: /^Bootstrap cancelled/ }).waitFor();
    await page.evaluate(() => localStorage.setItem('localdls.language', 'de'));
    await page.reload();
    await page.getByRole('heading', { name: /^Bootstrap abgebrochen/ }).waitFor();
    expect(await page.getByTestId('run-cancelled').textContent()).toMatch(new RegExp(`^Abgebrochen um .*: 0 im Secure Mode, 0 fehlgeschlagen, ${COUNT} abgebrochen`));
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.evaluate(() => localStorage.setItem('localdls.language', 'en'));
    expect(pageErrors).toEqual([]);
  }, 240_000);

  it('is still a rollout after serve restarts; the run\'s old address points there', async () => {
    expect(rolloutId).not.toBe('');
    expect(await serve.stop('SIGTERM')).toBe(0);
    await startServe();
    await page.goto(`${ui}#/rollouts`);
    const row = page.getByTestId('rollouts-table').locator('tbody tr').first();
    await expect.poll(() => row.locator('a').getAttribute('href'), WAIT).toBe(`#/rollouts?id=${rolloutId}`);
    expect(await page.getByTestId('phase-cancelled').textContent()).toMatch(new RegExp(`^${COUNT}\\D`));
    expect(await page.getByTestId('rollout-devices').locator('tbody tr').count()).toBe(COUNT);
    // The run itself lived in the old service: its address says so and links to the rollouts.
    await page.goto(`${ui}${runAddress}`);
    await page.getByTestId('run-rollouts').click();
    await page.getByTestId('rollouts-table').waitFor();
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
