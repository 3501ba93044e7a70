/**
 * End to end in Chromium, without the CLI: `LOCALDLS_KEY_PASSPHRASE=… localdls serve --ui` with
 * Secure Mode on, and simulated phones that stay up and answer contact-me. The user watches the
 * phones start up, reads one phone's XML, writes an item to a phone from the item editor, contacts
 * one, restarts one, and bootstraps two into Secure Mode from the wizard (without PIN, and with a
 * generated PIN whose sheet the phone then "types").
 *
 * The service sends contact-me by itself when a job is queued, and the phones keep a contact gap
 * of 60 s: every action goes to a phone of its own, so each phone is contacted once.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliProcess, runCli } from '../support/cli';
import { type ChromiumSession, ensureRendererBuilt, launchWithPage, screenshotDir, suiteDirs } from './support';

const newDir = suiteDirs();
const PASSPHRASE = 'e2e key passphrase, not a real one';
// Four phones that stay up (127.0.4.1–4), and a fifth that is switched on later.
const [A1, A2, A3, A4] = ['00:1A:E8:00:04:01', '00:1A:E8:00:04:02', '00:1A:E8:00:04:03', '00:1A:E8:00:04:04'] as const;
const LATE = '00:1A:E8:00:04:21';
const LATE_PHONE = ['--count', '1', '--mac-base', LATE, '--ip-base', '127.0.4.21', '--e164-base', '498972239021'];

let serve: CliProcess;
let phones: CliProcess | null = null;
let late: CliProcess | null = null;
let port: number;
let ui: string;
let page: Page;
let browser: ChromiumSession;
let shots: string;
let work: string;
const pageErrors: string[] = [];

beforeAll(async () => {
  ensureRendererBuilt();
  work = newDir();
  // The child gets the passphrase from its environment, as a user would give it.
  process.env.LOCALDLS_KEY_PASSPHRASE = PASSPHRASE;
  try {
    serve = new CliProcess(['serve', '--data-dir', join(work, 'site'), '--host', '127.0.0.1', '--port', '0', '--secure-port', '0', '--contact-gap', '60', '--ui', '--ui-port', '0']);
  } finally {
    delete process.env.LOCALDLS_KEY_PASSPHRASE;
  }
  const listening = JSON.parse(await serve.waitFor((l) => l.includes('"listening"'), 60_000)) as { port: number; securePort?: number; ui: string };
  expect(listening.securePort).toBeGreaterThan(0);
  port = listening.port;
  ui = listening.ui;
  ({ browser, page } = await launchWithPage(pageErrors, { timeoutMs: 30_000 }));
  shots = screenshotDir(newDir);
  mkdirSync(shots, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await late?.stop('SIGTERM');
  await phones?.stop('SIGTERM');
  if (serve) expect(await serve.stop('SIGTERM')).toBe(0);
});

/** How long to wait for the service, the phones and the page (generous: the machine may be busy; nothing is timed). */
const WAIT = { timeout: 30_000 };
const server = () => `https://127.0.0.1:${port}`;
const rows = () => page.locator('.xrow[data-id]');
const nav = (name: string) => page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: new RegExp(`^${name}`) });
const toast = (title: RegExp) => page.getByTestId('toast').filter({ hasText: title });
const deviceRow = (mac: string) => page.locator(`tr[data-mac="${mac}"]`);

async function select(...macs: string[]): Promise<void> {
  // A dialog left open by a failed step must not hide the page from the next one.
  if (await page.getByRole('dialog').count()) await page.keyboard.press('Escape');
  await nav('Devices').click();
  // Start from no selection.
  const clear = page.getByRole('button', { name: 'Clear' });
  if (await clear.isVisible()) await clear.click();
  for (const mac of macs) await page.getByLabel(`Select ${mac}`).check();
  await expect.poll(() => page.getByTestId('selected-count').textContent(), WAIT).toBe(`${macs.length} selected`);
}

/** Screenshots show the view, not the messages of earlier steps. */
async function closeToasts(): Promise<void> {
  // Successes also leave by themselves, so close whichever is first until none is left.
  const close = page.getByRole('button', { name: 'Close message' });
  while ((await close.count()) > 0) await close.first().click({ timeout: 2000 }).catch(() => undefined);
}

async function jobStateOf(row: Locator): Promise<string> {
  return (await row.locator('.jstate').textContent()) ?? '';
}

describe('acting on phones from the web UI', () => {
  it('the user watches phones start up, filters to one and reads its XML', async () => {
    await page.goto(ui);
    await page.getByText('No traffic yet.', { exact: false }).waitFor();
    phones = new CliProcess(['phone', '--server', server(), '--count', '4', '--mac-base', A1, '--ip-base', '127.0.4.1', '--stay', '--contact-gap', '60', '--reboot-delay', '1', '--json']);
    await phones.waitFor((l) => l.includes('"ready"'), 30_000);
    await expect.poll(() => rows().count(), WAIT).toBeGreaterThanOrEqual(8);
    await page.getByLabel('Device', { exact: true }).fill(A2);
    // Only that phone's exchanges are listed once the service has answered the filter.
    await expect.poll(async () => [...new Set(await page.locator('.xrow[data-id] .c-mac').allTextContents())], WAIT).toEqual([A2]);
    // The counts follow the rows (the list asks for them after its first screenful).
    await expect.poll(() => page.getByTestId('shown-count').textContent(), WAIT).toMatch(/^\d+ of \d+ exchanges$/);
    await rows().first().click();
    const pretty = (await page.getByTestId('detail').getByTestId('xml-pretty').first().textContent()) ?? '';
    expect(pretty).toContain('<ReasonForContact>start-up</ReasonForContact>');
    expect(pretty).toContain(`<Item name="mac-addr">${A2}</Item>`);
    await page.getByRole('button', { name: 'Reset' }).click();

    await nav('Devices').click();
    await expect.poll(() => page.getByTestId('device-count').textContent(), WAIT).toBe('4 devices');
    expect(await deviceRow(A1).textContent()).toContain('default');
  });

  it('writes an item to one phone from the item editor: the job reaches the phone and the item changes', async () => {
    await select(A1);
    await closeToasts();
    await page.getByRole('button', { name: 'Write items…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Item 1 name').fill('sntp-a');
    await dialog.getByRole('option', { name: /^sntp-addr\b/ }).first().click();
    expect(await dialog.getByLabel('Item 1 name').inputValue()).toBe('sntp-addr');
    await dialog.getByLabel('Item 1 value').fill('ntp.e2e.example');
    const info = dialog.getByTestId('item-info');
    expect(await info.textContent()).toContain('IP or DNS name');
    // A second row, showing the catalogue's word on an indexed item.
    await dialog.getByRole('button', { name: '+ Add item' }).click();
    await dialog.getByLabel('Item 2 name').fill('function-key');
    await dialog.getByRole('option', { name: /^function-key-def\b/ }).first().waitFor();
    await page.screenshot({ path: join(shots, 'item-editor-autocomplete.png') });
    await dialog.getByRole('option', { name: /^function-key-def\b/ }).first().click();
    await expect.poll(() => info.textContent(), WAIT).toContain('indexed: give an index');
    await dialog.getByLabel('Item 2 index').fill('3');
    await dialog.getByLabel('Item 2 value').fill('1');
    await dialog.getByLabel('Item 2 index').focus();
    await page.screenshot({ path: join(shots, 'item-editor.png') });
    await dialog.getByRole('button', { name: 'Remove item 2' }).click();
    await dialog.getByRole('button', { name: 'Write 1 item' }).click();
    await toast(/Write of 1 item queued for 00:1A:E8:00:04:01/).waitFor();
    await expect(dialog.count()).resolves.toBe(0);

    // The service contacts the phone, the phone calls and takes the job.
    await page.getByRole('link', { name: A1 }).click();
    const job = page.locator('.jobs-table tr.job-row').first();
    await expect.poll(() => jobStateOf(job), WAIT).toBe('done');
    await page.getByLabel('Filter items').fill('sntp-addr');
    await expect.poll(() => page.locator('table.itable tr', { hasText: /^sntp-addr/ }).first().textContent(), WAIT).toContain('ntp.e2e.example');
  });

  it('contacts a phone now, and refuses a second contact-me within its gap, saying when', async () => {
    await select(A3);
    await page.getByRole('button', { name: 'Contact now' }).click();
    await toast(/Contact-me sent to the phone/).waitFor();
    await page.getByRole('button', { name: 'Contact now' }).click();
    const refused = toast(/No contact-me sent/);
    await refused.waitFor();
    expect(await refused.textContent()).toMatch(/not sent: contact gap: the phone ignores another contact-me until \d{4}-/);
  });

  it('restarts a phone after a confirmation naming it; the job is done when the phone is back', async () => {
    await select(A4);
    await page.getByRole('button', { name: 'Restart…' }).click();
    const dialog = page.getByRole('dialog');
    expect(await dialog.getByTestId('dialog-devices').textContent()).toContain(A4);
    expect(await dialog.textContent()).toContain('starts up again');
    await dialog.getByRole('button', { name: `Restart ${A4}` }).click();
    await toast(/Restart queued for 00:1A:E8:00:04:04/).waitFor();
    await nav('Jobs').click();
    const restart = page.locator('.jobs-table tr.job-row', { hasText: A4 }).first();
    await expect.poll(() => jobStateOf(restart), WAIT).toBe('done');
  });

  it('bootstraps a phone into Secure Mode from the wizard, without PIN', async () => {
    await select(A2);
    await page.getByRole('button', { name: 'Bootstrap…' }).click();
    await page.getByTestId('secure-on').waitFor();
    expect(await page.getByTestId('secure-on').textContent()).toMatch(/port \d+/);
    expect(await page.getByLabel(`Choose ${A2}`).isChecked()).toBe(true);
    expect(await page.getByLabel(`Choose ${A1}`).isChecked()).toBe(false);
    await page.getByRole('radio', { name: /No PIN/ }).check();
    await page.getByRole('button', { name: 'Bootstrap 1 device' }).click();
    const state = page.locator(`tr[data-mac="${A2}"]`).getByTestId('bootstrap-state');
    await expect.poll(() => state.textContent(), WAIT).toBe('secure');
    expect(await page.getByTestId('run-progress').textContent()).toBe('prepared 1/1 · 1 secure');
    await page.getByText('The phone is in Secure Mode.').waitFor();

    // The device page: secure, and its newest traffic came through the secure listener.
    await page.getByRole('link', { name: A2 }).click();
    await page.getByRole('heading', { name: A2 }).waitFor();
    await expect.poll(() => page.locator('.page-head .mode').textContent(), WAIT).toBe('secure');
    await expect.poll(() => page.locator('.listener-secure').count(), WAIT).toBeGreaterThan(0);
    await nav('Traffic').click();
    await page.getByLabel('Device', { exact: true }).fill(A2);
    await page.getByLabel('Mode').selectOption('secure');
    await expect.poll(() => rows().count(), WAIT).toBeGreaterThan(0);
    await rows().first().click();
    expect(await page.getByTestId('detail').getByTestId('xml-pretty').first().textContent()).toContain('<ReasonForContact>start-up</ReasonForContact>');
    await page.getByRole('button', { name: 'Reset' }).click();
  });

  it('bootstraps a phone with a generated PIN: the sheet is saved, the phone types its PIN, and the PINs are forgotten', async () => {
    // A phone that called once and was switched off: it is bootstrapped before it is back.
    expect((await runCli(['phone', '--server', server(), ...LATE_PHONE])).code).toBe(0);
    await select(LATE);
    await page.getByRole('button', { name: 'Bootstrap…' }).click();
    await page.getByTestId('secure-on').waitFor();
    expect(await page.getByRole('radio', { name: /A generated PIN per phone/ }).isChecked()).toBe(true);
    await closeToasts();
    await page.screenshot({ path: join(shots, 'bootstrap-wizard.png'), fullPage: true });
    await page.getByRole('button', { name: 'Bootstrap 1 device' }).click();
    await expect.poll(() => page.getByTestId('run-progress').textContent(), WAIT).toMatch(/^prepared 1\/1/);
    const saveCsv = page.getByRole('button', { name: 'Save CSV' });
    await expect.poll(() => saveCsv.isEnabled(), WAIT).toBe(true);
    const [download] = await Promise.all([page.waitForEvent('download'), saveCsv.click()]);
    expect(download.suggestedFilename()).toMatch(/^localdls-pins-\d{8}-\d{6}\.csv$/);
    const sheet = join(work, 'pins.csv');
    await download.saveAs(sheet);
    const [header, row] = readFileSync(sheet, 'utf8').trim().split('\n');
    expect(header).toBe('mac,e164,pin');
    const pin = row!.split(',')[2]!;
    expect(row).toBe(`${LATE},498972239021,${pin}`);
    expect(pin).toMatch(/^\d{8}$/);
    // The PIN is shown nowhere but on the sheet.
    expect(await page.locator('body').innerText()).not.toContain(pin);
    await page.getByRole('button', { name: /Show & print PIN sheet/ }).click();
    expect(await page.getByTestId('pin-sheet').textContent()).toContain(pin);
    await page.getByTestId('pin-sheet').getByRole('button', { name: 'Close' }).click();
    expect(await page.locator('body').innerText()).not.toContain(pin);
    const state = page.locator(`tr[data-mac="${LATE}"]`).getByTestId('bootstrap-state');
    expect(await state.textContent()).toMatch(/queued|credentials/);
    await closeToasts();
    await page.screenshot({ path: join(shots, 'bootstrap-progress.png'), fullPage: true });

    // The phone is switched on with its PIN sheet; it calls, gets the job, types the PIN.
    late = new CliProcess(['phone', '--server', server(), ...LATE_PHONE, '--stay', '--contact-gap', '60', '--pins', sheet, '--json']);
    await expect.poll(() => state.textContent(), WAIT).toBe('secure');
    await expect.poll(() => saveCsv.isEnabled(), WAIT).toBe(false);
    await page.getByText('The PINs are forgotten', { exact: false }).waitFor();
    await page.screenshot({ path: join(shots, 'bootstrap-done.png'), fullPage: true });
    expect(late.lines.some((l) => l.includes('"secure-mode"'))).toBe(true);
  });

  it('lists the jobs: state colours, cancel, filters by state and device, items with the phone statuses', async () => {
    // Two jobs for a phone inside its contact gap: they wait; one is cancelled from the list.
    await select(A3);
    await page.getByRole('button', { name: 'Read items…' }).click();
    await page.getByRole('dialog').getByLabel('Item 1 name').fill('sntp-tz-offset');
    await page.getByRole('dialog').getByRole('button', { name: 'Read 1 item' }).click();
    await toast(/Read of 1 item queued/).waitFor();
    await page.getByRole('button', { name: 'Read all' }).click();
    await toast(/Read all queued/).waitFor();
    await nav('Jobs').click();
    await expect.poll(() => page.locator('.jobs-table tr.job-row').count(), WAIT).toBe(6);
    expect(await page.locator('.jobs-table .jstate-done').count()).toBe(4);
    const readAll = page.locator('.jobs-table tr.job-row', { hasText: 'Read all' });
    expect(await jobStateOf(readAll)).toBe('queued');
    await readAll.getByRole('button', { name: 'Cancel…' }).click();
    await page.getByRole('dialog', { name: /^Cancel job #\d+\?$/ }).getByRole('button', { name: 'Cancel job' }).click();
    await toast(/Job \d+ cancelled/).waitFor();
    await expect.poll(() => jobStateOf(readAll), WAIT).toBe('cancelled');
    await page.locator('.jobs-table tr.job-row', { hasText: A1 }).click();
    await page.locator('.job-detail').waitFor();
    await closeToasts();
    await page.screenshot({ path: join(shots, 'jobs.png') });
    await page.locator('.jobs-table tr.job-row', { hasText: A1 }).click();
    await page.getByLabel('State').selectOption('waiting');
    await expect.poll(() => page.locator('.jobs-table tr.job-row').count(), WAIT).toBe(1);
    await page.getByLabel('State').selectOption('');
    await page.getByLabel('Device', { exact: true }).fill(A1);
    await expect.poll(() => page.locator('.jobs-table tr.job-row').count(), WAIT).toBe(1);
    await page.locator('.jobs-table tr.job-row').first().click();
    const detail = page.locator('.job-detail');
    expect(await detail.textContent()).toContain('sntp-addr');
    expect(await detail.textContent()).toContain('ntp.e2e.example');
    await page.getByLabel('State').selectOption('failed');
    await page.getByText('No jobs match the filter.').waitFor();
  });

  it('shows modes, states and waiting jobs in the devices view, and a device page with its jobs', async () => {
    await select(A3, A4);
    await expect.poll(() => page.locator('tr.selected').count(), WAIT).toBe(2);
    expect(await deviceRow(A2).locator('.mode').textContent()).toBe('secure');
    expect(await deviceRow(LATE).locator('.mode').textContent()).toBe('secure');
    expect(await deviceRow(A3).locator('.jobs-waiting').textContent()).toBe('1 waiting');
    await closeToasts();
    await page.screenshot({ path: join(shots, 'devices-actions.png') });
    await page.getByRole('link', { name: A3 }).click();
    await page.locator('.jobs-table tr.job-row').nth(1).waitFor();
    await closeToasts();
    await page.screenshot({ path: join(shots, 'device-jobs.png') });
    expect(pageErrors).toEqual([]);
  });
});
