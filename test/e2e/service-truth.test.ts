/**
 * What the UI says is what the service says, in German too — in Chromium against `localdls serve
 * --ui --tls-keylog FILE` and simulated phones: the key log started with the service is shown after
 * a reload (file, who started it, the warning); the Write-items dialog checks each row against the
 * item catalogue before sending, with the reason next to the row; refusals from the service (a
 * refused key log, a device or interaction not found) come in the UI's language; and no view of
 * the German UI shows English text from the translations.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliProcess, runCli } from '../support/cli';
import { ensureRendererBuilt, launchChromium, ROOT, screenshotDir, seriousA11yViolations, suiteDirs, withAxe } from './support';

const newDir = suiteDirs();
const MAC = '00:1A:E8:00:07:01';
let serve: CliProcess;
let site: string;
let ui: string;
let page: Page;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let keyDir: string;
let keyLog: string;
let shots: string;
let interaction: number;
const pageErrors: string[] = [];
const WAIT = { timeout: 30_000 };

// The page's globals, for the functions that run in it (this file compiles without the DOM types).
declare const window: { location: { hash: string } };
declare const document: { body: { innerText: string } };
declare const localStorage: { setItem(key: string, value: string): void };

beforeAll(async () => {
  ensureRendererBuilt();
  site = newDir();
  keyDir = newDir();
  keyLog = join(keyDir, 'serve-keys.log');
  serve = new CliProcess(['serve', '--data-dir', site, '--host', '127.0.0.1', '--port', '0', '--ui', '--ui-port', '0', '--no-auto-contact', '--tls-keylog', keyLog]);
  const listening = JSON.parse(await serve.waitFor((l) => l.includes('"listening"'), 60_000)) as { port: number; ui: string };
  ui = listening.ui;
  const phones = await runCli(['phone', '--server', `https://127.0.0.1:${listening.port}`, '--count', '2', '--mac-base', MAC, '--ip-base', '127.0.17.1', '--json']);
  expect(phones.code, phones.stderr).toBe(0);
  expect((await runCli(['job', 'add', '--data-dir', site, '--all', 'write', 'sntp-addr=ntp.truth.example'])).code).toBe(0);
  const list = await runCli(['traffic', 'list', '--data-dir', site, '--device', MAC, '--json']);
  interaction = (JSON.parse(list.stdout.trim().split('\n')[0]!) as { interactionId: number }).interactionId;
  browser = await launchChromium();
  await withAxe(browser.context);
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.setDefaultTimeout(20_000);
  page.on('pageerror', (e) => pageErrors.push(e.message));
  shots = screenshotDir(newDir);
  mkdirSync(shots, { recursive: true });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (serve) expect(await serve.stop('SIGTERM')).toBe(0);
});

async function language(lang: 'en' | 'de', hash: string): Promise<void> {
  await page.goto(`${ui}${hash}`);
  await page.evaluate((l) => localStorage.setItem('localdls.language', l), lang);
  await page.reload();
}

async function openTlsTab(): Promise<void> {
  await page.locator('.xrow[data-id]').first().click();
  await page.getByTestId('detail').getByRole('tab', { name: 'TLS' }).click();
}

describe('the UI tells the truth, in German too', () => {
  it('shows the key log started with serve --tls-keylog, also after a reload, and the status bar says it is on', async () => {
    await language('en', '#/traffic');
    await openTlsTab();
    const setting = page.getByRole('region', { name: 'TLS key log' });
    const on = setting.getByTestId('keylog-on');
    await expect.poll(() => on.textContent(), WAIT).toContain(keyLog);
    expect(await on.textContent()).toContain('Started with the service (serve --tls-keylog)');
    expect(await setting.textContent()).toMatch(/can decrypt every captured exchange/);
    expect(await page.getByTestId('status-keylog').getAttribute('title')).toContain(keyLog);
    await page.reload();
    await openTlsTab();
    await expect.poll(() => page.getByTestId('keylog-on').textContent(), WAIT).toContain(keyLog);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.screenshot({ path: join(shots, 'traffic-tls-keylog.png') });

    // Stopped here: every page, also one reloaded, shows it off.
    await page.getByRole('button', { name: 'Stop key log' }).click();
    await page.getByRole('button', { name: 'Start key log' }).waitFor();
    await page.reload();
    await openTlsTab();
    await page.getByRole('button', { name: 'Start key log' }).waitFor();
    expect(await page.getByTestId('status-keylog').count()).toBe(0);
  });

  it('a key log the service refuses says why in German; one started from the UI says so after a reload', async () => {
    await language('de', '#/traffic');
    await page.locator('.xrow[data-id]').first().click();
    await page.getByTestId('detail').getByRole('tab', { name: 'TLS' }).click();
    const setting = page.getByRole('region', { name: 'TLS-Schlüsselprotokoll' });
    await setting.getByLabel('Datei für das Schlüsselprotokoll').fill(join(keyDir, 'no-such-folder', 'keys.log'));
    await setting.getByRole('button', { name: 'Schlüsselprotokoll starten' }).click();
    await setting.getByRole('alert').filter({ hasText: /^Das Schlüsselprotokoll wurde nicht gestartet: .*no-such-folder/ }).waitFor();
    const file = join(keyDir, 'ui-keys.log');
    await setting.getByLabel('Datei für das Schlüsselprotokoll').fill(file);
    await setting.getByRole('button', { name: 'Schlüsselprotokoll starten' }).click();
    await page.reload();
    await page.locator('.xrow[data-id]').first().click();
    await page.getByTestId('detail').getByRole('tab', { name: 'TLS' }).click();
    await expect.poll(() => page.getByTestId('keylog-on').textContent(), WAIT).toContain(file);
    expect(await page.getByTestId('keylog-on').textContent()).toContain('Über die Oberfläche für diesen Lauf des Dienstes gestartet.');
    await page.getByRole('button', { name: 'Schlüsselprotokoll beenden' }).click();
    await page.getByRole('button', { name: 'Schlüsselprotokoll starten' }).waitFor();
  });

  it('the Write-items dialog checks each row against the catalogue before sending (German)', async () => {
    await language('de', `#/devices/${MAC}`);
    await page.getByRole('button', { name: 'Items schreiben…' }).click();
    const dialog = page.getByRole('dialog');
    const write = dialog.getByRole('button', { name: /Item schreiben$/ });
    const problem = dialog.getByTestId('row-problem');
    // An indexed item without its index.
    await dialog.getByLabel('Name von Item 1').fill('function-key-def');
    await dialog.getByLabel('Wert von Item 1').fill('3');
    await expect.poll(() => problem.textContent()).toBe('function-key-def ist indiziert (Index: key no.): Geben Sie an, welches, z. B. function-key-def[1]=3');
    expect(await write.isDisabled()).toBe(true);
    expect(await seriousA11yViolations(page)).toEqual([]);
    // With its index but an empty value: a number is needed.
    await dialog.getByLabel('Index von Item 1').fill('1');
    await dialog.getByLabel('Wert von Item 1').fill('');
    await expect.poll(() => problem.textContent()).toMatch(/^function-key-def\[1\] ist leer, braucht aber eine Zahl/);
    expect(await write.isDisabled()).toBe(true);
    await page.screenshot({ path: join(shots, 'item-editor-check-de.png') });
    // A valid row: no problem, and the service queues it.
    await dialog.getByLabel('Wert von Item 1').fill('5');
    await expect.poll(() => problem.count()).toBe(0);
    await write.click();
    await page.getByRole('status').filter({ hasText: /Schreiben von 1 Item/ }).first().waitFor();
    const jobs = await runCli(['job', 'list', '--data-dir', site, '--mac', MAC, '--json']);
    expect(jobs.code, jobs.stderr).toBe(0);
    expect(jobs.stdout).toContain('"name":"function-key-def","index":1,"value":"5"');
  });

  it('a device or interaction that does not exist is said in German', async () => {
    await language('de', '#/devices/00:1A:E8:00:07:99');
    await page.getByRole('alert').filter({ hasText: /^Kein Gerät 00:1A:E8:00:07:99: Dieser Dienst hat von diesem Telefon noch nichts gehört/ }).waitFor();
    await page.evaluate(() => (window.location.hash = '#/interaction/987654'));
    await page.getByRole('alert').filter({ hasText: 'Keine Interaktion #987654: Sie wurde vielleicht gelöscht.' }).waitFor();
  });

  it("German: a second contact-me within the phone's contact gap is not sent, and the toast says why in German, with the time in this computer's time", async () => {
    await language('de', '#/devices');
    await page.getByLabel(`${MAC} wählen`).check();
    const contact = page.getByRole('button', { name: 'Jetzt kontaktieren' });
    const toasts = page.getByTestId('toast');
    // The simulated phones are gone: the first contact-me fails, and it starts the phone's gap all the same.
    await contact.click();
    await expect.poll(() => toasts.count(), WAIT).toBe(1);
    // Why it failed, in German too (the service's words for a refused connection).
    expect(await toasts.first().textContent()).toMatch(new RegExp(`${MAC}: fehlgeschlagen: Verbindung von 127\\.0\\.17\\.\\d+:\\d+ abgelehnt: Das Telefon ist aus`));
    await contact.click();
    const refused = toasts.filter({ hasText: 'nicht gesendet: ' });
    await refused.waitFor(WAIT);
    const text = (await refused.textContent()) ?? '';
    expect(text).toMatch(new RegExp(`${MAC}: nicht gesendet: Kontaktpause: Das Telefon ignoriert bis \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d .* jedes weitere Contact-me`));
    expect(text).not.toMatch(/contact gap|ignores|\dT\d/);
  });

  it('no view of the German UI shows English text from the translations', async () => {
    // Every English text of three words or more that German says differently (a German text may
    // quote a phone's English words, so those found in the German texts are left out).
    const texts = (lang: string) =>
      readdirSync(join(ROOT, 'src/renderer/src/i18n/locales', lang)).flatMap((f) => {
        const flat = (v: unknown): string[] => (typeof v === 'string' ? [v] : typeof v === 'object' && v ? Object.values(v).flatMap(flat) : []);
        return flat(JSON.parse(readFileSync(join(ROOT, 'src/renderer/src/i18n/locales', lang, f), 'utf8')));
      });
    const german = texts('de');
    const english = [...new Set(texts('en'))]
      .flatMap((s) => s.split(/\{\{[^}]*\}\}|[:;(),.…“”"]/))
      .map((s) => s.trim())
      .filter((s) => s.split(/\s+/).length >= 3 && !german.some((g) => g.includes(s)));
    expect(english.length).toBeGreaterThan(200);
    await language('de', '#/traffic');
    await page.locator('.xrow[data-id]').first().waitFor();
    const views = ['#/traffic', '#/devices', `#/devices/${MAC}`, '#/jobs', '#/rollouts', '#/bootstrap', '#/setup', `#/timeline/${MAC}`, `#/interaction/${interaction}`];
    const found: string[] = [];
    for (const view of views) {
      await page.evaluate((h) => (window.location.hash = h), view);
      await page.waitForTimeout(500);
      const body = await page.evaluate(() => document.body.innerText);
      found.push(...english.filter((s) => body.includes(s)).map((s) => `${view}: "${s}"`));
    }
    expect(found).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
