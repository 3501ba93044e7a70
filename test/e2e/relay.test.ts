/**
 * The "done when" for relay mode, in a real browser: `localdls serve --ui --upstream` as a
 * child process in front of a stand-in DLS (test/support/stand-in-dls.ts, none of LocalDLS's
 * engine), simulator phones through it (start-up, fragmented ReadAllItems, WriteItems, CleanUp),
 * and Chromium showing every exchange with WPI understanding. Screenshot: docs/screenshots/relay.png.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliProcess, runCli } from '../support/cli';
import { startStandInDls, STAND_IN_WRITE, type StandInDls } from '../support/stand-in-dls';
import { type ChromiumSession, ensureRendererBuilt, launchWithPage, screenshotDir, suiteDirs } from './support';

const newDir = suiteDirs();
const PHONES = 6;
let dls: StandInDls;
let serve: CliProcess;
let port: number;
let ui: string;
let page: Page;
let browser: ChromiumSession;
let shots: string;
const pageErrors: string[] = [];

beforeAll(async () => {
  ensureRendererBuilt();
  dls = await startStandInDls({ host: '127.0.0.2' });
  serve = new CliProcess(['serve', '--data-dir', newDir(), '--host', '127.0.0.1', '--port', '0', '--secure-port', '0', '--ui', '--ui-port', '0', '--upstream', dls.url, '--upstream-fingerprint', dls.fingerprint]);
  const listening = JSON.parse(await serve.waitFor((l) => l.includes('"listening"'))) as { port: number; ui: string; relay: { upstream: string } };
  expect(listening.relay.upstream).toBe(dls.url);
  port = listening.port;
  ui = listening.ui;
  ({ browser, page } = await launchWithPage(pageErrors, { timeoutMs: 10_000 }));
  shots = screenshotDir(newDir);
  mkdirSync(shots, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (serve) expect(await serve.stop('SIGTERM')).toBe(0);
  await dls?.close();
});

const rows = () => page.locator('.xrow[data-id]');

describe('relay mode in Chromium', () => {
  it('says it relays and to where, before any phone talks', async () => {
    await page.goto(ui);
    const banner = page.getByTestId('relay-banner');
    await banner.waitFor();
    expect(await banner.textContent()).toContain(dls.url);
    expect(await banner.textContent()).toContain('Secure-Mode phones cannot be relayed');
    // One line at 1024 px (helper-81: three lines left six rows of the list); the rest on a click.
    await page.setViewportSize({ width: 1024, height: 768 });
    const height = async () => (await banner.boundingBox())!.height;
    expect(await height()).toBeLessThan(32);
    expect(await banner.getByText('Secure-Mode phones cannot be relayed', { exact: false }).isVisible()).toBe(false);
    await banner.locator('summary').click();
    expect(await banner.getByText('Secure-Mode phones cannot be relayed', { exact: false }).isVisible()).toBe(true);
    expect(await height()).toBeGreaterThan(40);
    await banner.locator('summary').click();
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  it('shows every exchange between the phones and the stand-in DLS, live, with WPI understanding', async () => {
    const phones = await runCli(['phone', '--server', `https://127.0.0.1:${port}`, '--count', String(PHONES), '--max-items', '60', '--ip-base', '127.0.4.10', '--concurrency', '3', '--json']);
    expect(phones.code, phones.stderr).toBe(0);
    const summary = JSON.parse(phones.stdout.trim().split('\n').at(-1)!) as { ok: number; exchanges: number };
    expect(summary.ok).toBe(PHONES);
    // Every phone message reached the stand-in and every one of its answers reached a phone.
    expect(dls.requests).toHaveLength(summary.exchanges);
    await expect.poll(() => page.getByTestId('shown-count').textContent(), { timeout: 15_000 }).toBe(`${summary.exchanges} exchanges`);
    // Fragments, the DLS's WriteItems and CleanUp, as the list's columns read them.
    expect(await page.locator('.xrow', { hasText: 'GetNextFragment' }).count()).toBeGreaterThan(PHONES);
    expect(await page.locator('.xrow', { hasText: 'WriteItems' }).count()).toBeGreaterThanOrEqual(PHONES);
    expect(await page.locator('.row-error').count()).toBe(0);

    // One WriteItems answer: pretty XML of what the DLS sent, the raw text byte for byte as the stand-in wrote it.
    await page.getByLabel('Device', { exact: true }).fill('00:1A:E8:00:00:02');
    await expect.poll(() => rows().count()).toBeLessThan(20);
    await page.locator('.xrow', { hasText: 'WriteItems' }).first().click();
    const detail = page.getByTestId('detail');
    await detail.getByTestId('xml-pretty').first().waitFor();
    expect(await detail.textContent()).toContain(STAND_IN_WRITE[1]!.name);
    await page.screenshot({ path: join(shots, 'relay.png') });

    await detail.getByRole('tab', { name: 'Raw' }).last().click();
    // The raw view shows the stored text line by line (line numbers apart).
    const raw = (await detail.getByTestId('xml-raw').locator('.lc').allTextContents()).join('\n');
    const sent = dls.requests.map((r) => r.answer!.body.toString('utf8')).filter((b) => b.includes('<Action>WriteItems</Action>'));
    expect(sent).toContain(raw);

    await detail.getByRole('tab', { name: 'Upstream' }).click();
    const panel = detail.getByTestId('upstream-panel');
    expect(await panel.textContent()).toContain(dls.fingerprint);
    expect(await panel.textContent()).toContain(dls.url);
    // The headers as they went to the stand-in and came back from it: its own record of that request.
    const shownSent = await panel.locator('.upstream-headers').first().locator('.lc').allTextContents();
    expect(dls.requests.some((r) => JSON.stringify(r.headers.map(([n, v]) => `${n}: ${v}`)) === JSON.stringify(shownSent)), shownSent.join(' | ')).toBe(true);
    expect(shownSent).toContain(`Host: ${new URL(dls.url).host}`);
    expect(await panel.locator('.upstream-headers').last().textContent()).toContain('X-Stand-In: yes');
    await page.screenshot({ path: join(shots, 'relay-upstream.png') });

    // The interaction's ladder credits the DLS with the answers, not LocalDLS (helper-81).
    await detail.getByRole('link', { name: 'Ladder' }).click();
    const lanes = page.locator('.lanes');
    await expect.poll(() => lanes.textContent()).toContain(`DLS, relayed by LocalDLS ${dls.url}`);
    expect(await page.locator('.rung').first().textContent()).toContain('Answer 1 from the DLS, relayed:');
    // Back comes to the exchange it left, still shown (helper-81: the selection was lost).
    const focused = new URL(page.url()).hash;
    await page.goBack();
    await page.getByTestId('detail').getByTestId('xml-pretty').first().waitFor();
    expect(await page.getByTestId('detail').textContent()).toContain(STAND_IN_WRITE[1]!.name);
    expect(new URL(page.url()).hash).toMatch(/^#\/traffic\?(.*&)?focus=\d+/);
    expect(focused).toMatch(/^#\/interaction\/\d+$/);
    expect(pageErrors).toEqual([]);
  });

  it('learns the devices read-only, with the item the DLS wrote', async () => {
    await page.getByRole('link', { name: /Devices/ }).click();
    await expect.poll(() => page.getByTestId('device-count').textContent()).toBe(`${PHONES} devices`);
    await page.getByRole('link', { name: '00:1A:E8:00:00:02' }).click();
    await page.getByText(STAND_IN_WRITE[0]!.value).first().waitFor();
    expect(pageErrors).toEqual([]);
  });
});
