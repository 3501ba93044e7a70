/**
 * A phone that took its PIN bootstrap, was restarted before anyone typed the PIN and came back in
 * Default Mode: in Chromium against `localdls serve --ui --secure-port 0`, the device page says
 * the bootstrap failed and why, and the bootstrap wizard offers the phone again.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliProcess, runCli } from '../support/cli';
import { ensureRendererBuilt, launchChromium, suiteDirs } from './support';

const newDir = suiteDirs();
const MAC = '00:1A:E8:00:08:01';
const ENV = { LOCALDLS_KEY_PASSPHRASE: 'a passphrase only this test knows' };
let serve: CliProcess;
let ui: string;
let page: Page;
let browser: Awaited<ReturnType<typeof launchChromium>>;
const WAIT = { timeout: 30_000 };

beforeAll(async () => {
  ensureRendererBuilt();
  const site = newDir();
  process.env.LOCALDLS_KEY_PASSPHRASE = ENV.LOCALDLS_KEY_PASSPHRASE;
  serve = new CliProcess(['serve', '--data-dir', site, '--host', '127.0.0.1', '--port', '0', '--secure-port', '0', '--ui', '--ui-port', '0', '--no-auto-contact']);
  delete process.env.LOCALDLS_KEY_PASSPHRASE;
  const listening = JSON.parse(await serve.waitFor((l) => l.includes('"listening"'), 60_000)) as { port: number; ui: string };
  ui = listening.ui;
  const phone = ['phone', '--server', `https://127.0.0.1:${listening.port}`, '--count', '1', '--mac-base', MAC, '--ip-base', '127.0.18.1'];
  expect((await runCli(phone)).code).toBe(0);
  const boot = await runCli(['bootstrap', '--data-dir', site, '--all', '--pin', 'auto', '--sheet', join(newDir(), 'pins.csv')], ENV);
  expect(boot.code, boot.stderr).toBe(0);
  // It takes the bootstrap and shows its PIN dialog; nobody types the PIN; then it is restarted.
  const took = await runCli([...phone, '--json']);
  expect(took.stdout).toMatch(/waiting-for-pin|pin-dialog/);
  expect((await runCli(phone)).code).toBe(0);
  browser = await launchChromium();
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.setDefaultTimeout(20_000);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (serve) expect(await serve.stop('SIGTERM')).toBe(0);
});

describe('a bootstrap that failed because the phone came back in Default Mode, in the UI', () => {
  it('the device page shows why; the wizard offers the phone again', async () => {
    await page.goto(`${ui}#/devices/${MAC}`);
    const state = page.getByTestId('bootstrap-state');
    await expect.poll(() => state.textContent(), WAIT).toMatch(/the phone came back in Default Mode \(start-up on the Default-Mode port\)/);
    expect(await state.textContent()).toMatch(/PIN not entered/);
    await page.goto(`${ui}#/bootstrap`);
    const row = page.locator('tr', { hasText: MAC });
    await expect.poll(() => row.count(), WAIT).toBeGreaterThan(0);
    expect(await row.first().textContent()).toMatch(/failed/i);
    expect(await row.first().locator('input[type="checkbox"]').isDisabled()).toBe(false);
  });
});
