/**
 * End to end in a real browser: `localdls serve --ui` as a child process, the phone simulator
 * producing traffic, Debian's Chromium showing it. The page is loaded before any phone talks, so
 * every row it shows arrived live over the WebSocket.
 */
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SETTLED_FILE_MS } from '../../src/main/bridge/static-files';
import { isSecretItem, MASK } from '../../src/shared/secrets';
import { CliProcess, runCli } from '../support/cli';
import { post } from '../support/https-client';
import { type ChromiumSession, ensureRendererBuilt, launchWithPage, ROOT, screenshotDir, suiteDirs } from './support';

const newDir = suiteDirs();
const PHONES = 16;
let serve: CliProcess;
let port: number;
let ui: string;
let dataDir: string;
let page: Page;
let browser: ChromiumSession;
let shots: string;
const pageErrors: string[] = [];

beforeAll(async () => {
  ensureRendererBuilt();
  // Screenshots for the docs show the usual port; tests take any free one.
  const dlsPort = process.env.LOCALDLS_SCREENSHOTS ? '18443' : '0';
  dataDir = newDir();
  serve = new CliProcess(['serve', '--data-dir', dataDir, '--port', dlsPort, '--ui', '--ui-port', '0']);
  const listening = JSON.parse(await serve.waitFor((l) => l.includes('"listening"'))) as { port: number; ui: string };
  port = listening.port;
  ui = listening.ui;
  ({ browser, page } = await launchWithPage(pageErrors, { timeoutMs: 10_000 }));
  shots = screenshotDir(newDir);
  mkdirSync(shots, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (serve) expect(await serve.stop('SIGTERM')).toBe(0);
});

const rows = () => page.locator('.xrow[data-id]');
const shownCount = () => page.getByTestId('shown-count').textContent();

describe('web UI in Chromium', () => {
  it('serve --ui reports the address with its token; the page loads and connects', async () => {
    expect(ui).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
    expect(serve.stderr).toContain(`LocalDLS web UI: ${ui}`);
    await page.goto(ui);
    await page.getByText('No traffic yet.', { exact: false }).waitFor();
    // The token leaves the address bar once the page is idle (it stays in this tab's session storage).
    await expect.poll(() => page.url()).not.toContain('token=');
    await page.getByText(/Default Mode 0\.0\.0\.0:\d+/).waitFor();
  });

  it('fills the list live while phones talk: exchanges, failed handshakes, a refused request', async () => {
    const phones = runCli(['phone', '--server', `https://127.0.0.1:${port}`, '--count', String(PHONES), '--max-items', '200', '--ip-base', '127.0.1.10', '--concurrency', '4', '--json']);
    await rows().first().waitFor({ timeout: 20_000 });
    const result = await phones;
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { exchanges: number };
    // Old firmware against the modern TLS profile, and one request no phone would send.
    const old = await runCli(['phone', '--server', `https://127.0.0.1:${port}`, '--count', '2', '--tls1.0', '--mac-base', '00:1A:E8:00:01:00', '--ip-base', '127.0.2.10']);
    expect(old.code).toBe(1);
    expect((await post(port, '<hello/>')).status).toBe(400);
    const total = summary.exchanges + 3;
    await expect.poll(shownCount, { timeout: 15_000 }).toBe(`${total} exchanges`);
    await expect.poll(() => page.locator('.row-tls').count()).toBeGreaterThanOrEqual(1);
    expect(await page.locator('.row-error').count()).toBeGreaterThanOrEqual(1);
    // Tail mode: the newest row is in view.
    await page.locator('.row-error').last().waitFor({ state: 'visible' });

    // Keyboard: ↑ takes the newest row, k goes up; the detail follows.
    await page.getByRole('grid', { name: 'Exchanges' }).focus();
    await page.keyboard.press('ArrowUp');
    await expect.poll(() => page.locator('.xrow.focused').getAttribute('class')).toContain('row-error');
    for (let i = 0; i < 5; i++) await page.keyboard.press('k');
    await page.getByTestId('detail').getByTestId('xml-pretty').first().waitFor();
    await page.screenshot({ path: join(shots, 'traffic.png') });
  });

  it('following the live end, the list keeps its newest rows in view and no blank rows when the window is resized; End follows again', async () => {
    // What the list shows at its top and whether it is at its end (rows are drawn by a virtual list:
    // a row not rendered where the pane shows is a blank row).
    const view = () =>
      page.getByTestId('exchange-scroll').evaluate((pane) => {
        const box = pane.getBoundingClientRect();
        const shown = [...pane.querySelectorAll('.xrow[data-id]')].map((r) => r.getBoundingClientRect()).filter((r) => r.bottom > box.top && r.top < box.bottom);
        return { firstRowTop: Math.min(...shown.map((r) => r.top)) - box.top, rows: shown.length, atEnd: pane.scrollTop + pane.clientHeight >= pane.scrollHeight - 1 };
      });
    const size = page.viewportSize() ?? { width: 1440, height: 900 };
    await page.getByRole('grid', { name: 'Exchanges' }).focus();
    await page.keyboard.press('End');
    const jump = page.getByRole('button', { name: 'Jump to latest' });
    try {
      // Large steps, and small ones (20 px: the rows shown do not change, the newest would slide under the list's foot).
      for (const height of [1400, 420, 1000, 480, 900, 880, 860, 840]) {
        await page.setViewportSize({ width: size.width, height });
        await expect.poll(view).toMatchObject({ atEnd: true });
        const v = await view();
        expect(v.firstRowTop, `height ${height}: the pane's top shows a row`).toBeLessThanOrEqual(0);
        expect(v.rows).toBeGreaterThan(0);
        expect(await jump.count(), `height ${height}: still following`).toBe(0);
      }
      // Scrolled up, the list stops following; End goes back to the end and follows again.
      await page.getByTestId('exchange-scroll').hover();
      await page.mouse.wheel(0, -600);
      await jump.waitFor();
      expect((await view()).atEnd).toBe(false);
      await page.getByRole('grid', { name: 'Exchanges' }).focus();
      await page.keyboard.press('End');
      await expect.poll(view).toMatchObject({ atEnd: true });
      await expect.poll(() => jump.count()).toBe(0);
      // From the first row (Home: far from the end), End too: the room under the last row shown,
      // and following (it stopped 40 px short, the focused row scrolled into view after it).
      await page.keyboard.press('Home');
      await jump.waitFor();
      await page.keyboard.press('End');
      await expect.poll(view).toMatchObject({ atEnd: true });
      await expect.poll(() => jump.count()).toBe(0);
    } finally {
      await page.setViewportSize(size);
    }
  });

  it('shows an exchange: pretty XML, raw text as stored, the item table with masked secrets, the chain', async () => {
    await page.getByLabel('Device', { exact: true }).fill('00:1A:E8:00:00:03');
    await expect.poll(() => rows().count(), { timeout: 10_000 }).toBeLessThan(10);
    const count = await rows().count();
    // The list loads a screenful first and its counts after it ("Loading…" meanwhile).
    await expect.poll(() => shownCount(), { timeout: 10_000 }).toMatch(new RegExp(`^${count} of \\d+ exchanges$`));
    // The last exchange of the phone's interaction: its final reply with the rest of the items.
    await rows().last().click();
    const detail = page.getByTestId('detail');
    await detail.getByTestId('xml-pretty').first().waitFor();
    const pretty = (await detail.getByTestId('xml-pretty').first().textContent()) ?? '';
    // The simulator writes status before action, as the manual's phones do (p.46, p.76–83).
    expect(pretty).toContain('<ReasonForContact status="accepted" action="ReadAllItems">reply-to</ReasonForContact>');
    // Secret items are masked in the view (the simulator's passwords are 123456); flags of the
    // password family (fault-report-admin-pwd) are not secrets and are shown as they are.
    const pwdItems = [...pretty.matchAll(/<Item name="([\w-]*pwd[\w-]*)">([^<]*)<\/Item>/g)].map(([, n, v]) => [n!, v!] as const);
    expect(pwdItems.length).toBeGreaterThan(0);
    for (const [n, v] of pwdItems) expect(v === MASK, `${n}=${v}`).toBe(isSecretItem(n) && v !== '');
    expect(pretty).not.toContain('123456');
    await page.screenshot({ path: join(shots, 'traffic-filter.png') });

    await detail.getByRole('tab', { name: 'Raw' }).first().click();
    // As the phone sent it: the declaration real phones send (wpi-protocol.md §2.3).
    expect(await detail.getByTestId('xml-raw').textContent()).toContain('<?xml version="1.0" encoding="utf-8"?>');

    // Free text of fewer than 3 characters in a row is not applied (the index reads 3 at a time): the
    // count says so, the rows stay those of the other filters.
    const before = await rows().count();
    await page.getByLabel('Free text').fill('pw');
    await expect.poll(() => page.getByTestId('shown-count').textContent()).toBe('Free text: type at least 3 characters');
    await page.waitForTimeout(600); // past the typing debounce: nothing was asked (the service would refuse it: an alert)
    expect(await rows().count()).toBe(before);
    expect(await page.locator('.note-error').count()).toBe(0);
    // A message of this phone that carries a password: its item table.
    await page.getByLabel('Free text').fill('name="user-pwd"');
    await expect.poll(() => rows().count(), { timeout: 10_000 }).toBeLessThan(count);
    await rows().last().click();
    await detail.getByRole('tab', { name: /^Items/ }).click();
    await detail.getByLabel('Filter items').fill('pwd');
    const table = detail.locator('table.itable');
    await expect.poll(() => table.locator('tbody tr').count()).toBeGreaterThan(0);
    const name = (await table.locator('tr', { has: page.getByRole('button', { name: 'Reveal' }) }).first().locator('td.name').textContent()) ?? '';
    const secret = table.locator('tr', { has: page.getByText(name, { exact: true }) });
    expect(await secret.textContent()).toContain(MASK);
    await secret.getByRole('button', { name: 'Reveal' }).click();
    await secret.getByText('Hide').waitFor();
    // The service hands over the stored value (not the mask) only on this explicit request.
    expect(await secret.locator('.revealed').textContent()).not.toMatch(new RegExp(`^(${MASK})?$`));
    await page.screenshot({ path: join(shots, 'traffic-items.png') });

    await detail.getByRole('tab', { name: /^Interaction/ }).click();
    const steps = detail.locator('.chain-step');
    expect(await steps.first().textContent()).toContain('start-up');
    expect(await steps.last().textContent()).toContain('CleanUp');
    await steps.first().click();
    await expect.poll(() => page.locator('.xrow.focused').textContent()).toContain('start-up');
    await page.screenshot({ path: join(shots, 'traffic-interaction.png') });

    await page.getByRole('button', { name: 'Reset' }).click();
    await page.getByLabel('Errors only').check();
    await expect.poll(() => rows().count()).toBe(3);
    await page.getByLabel('Errors only').uncheck();
    await expect.poll(() => rows().count()).toBeGreaterThan(3);
  });

  it('lists the phones in the devices view and opens one', async () => {
    await page.getByRole('link', { name: /Devices/ }).click();
    await expect.poll(() => page.getByTestId('device-count').textContent()).toBe(`${PHONES} devices`);
    expect(await page.locator('table.dtable tbody tr').count()).toBe(PHONES);
    expect(await page.locator('table.dtable tbody tr').first().textContent()).toContain('OpenStage');
    await page.screenshot({ path: join(shots, 'devices.png') });

    await page.getByRole('link', { name: '00:1A:E8:00:00:03' }).click();
    await page.getByText(/indexed values/).first().waitFor();
    await page.getByRole('heading', { name: '00:1A:E8:00:00:03' }).waitFor();
    await page.screenshot({ path: join(shots, 'device.png') });
  });

  it("a phone's overrides on its page: added under the write rules, listed masked, applied over its profile, removed; the CLI sees the same", async () => {
    const MAC = '00:1A:E8:00:00:03';
    const card = page.getByTestId('overrides');
    await card.getByText('No overrides').waitFor();
    // A profile the phone has (applied from the CLI beside the running service).
    expect((await runCli(['profile', 'set', 'site', '--data-dir', dataDir, 'sntp-addr=ntp.site.example'])).code).toBe(0);
    expect((await runCli(['profile', 'apply', 'site', '--data-dir', dataDir, '--mac', MAC])).code).toBe(0);
    await page.reload();
    await card.getByRole('button', { name: 'Apply profile site now' }).waitFor();

    await card.getByRole('button', { name: 'Add overrides…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Item 1 name').fill('e164=4989700107');
    await dialog.getByRole('button', { name: '+ Add item' }).click();
    // The mask copied from a masked view is refused before sending, as key material is.
    await dialog.getByLabel('Item 2 name').fill(`sip-pwd=${MASK}`);
    await dialog.getByText(/sip-pwd has the mask/).waitFor();
    const save = dialog.getByRole('button', { name: 'Save overrides' });
    expect(await save.isDisabled()).toBe(true);
    await dialog.getByLabel('Item 2 name').fill('secure-mode-data=x');
    await dialog.getByText(/secure-mode-data is sent only by a bootstrap/).waitFor();
    expect(await save.isDisabled()).toBe(true);
    await dialog.getByLabel('Item 2 name').fill('sip-pwd=own s3cret');
    await save.click();
    await page.getByTestId('toast').filter({ hasText: `2 overrides saved for ${MAC}` }).waitFor();
    await card.locator('tbody tr').nth(1).waitFor();
    expect(await card.locator('tbody tr').allTextContents()).toEqual(['e1644989700107Remove', `sip-pwd${MASK}Remove`]);
    expect(await page.content()).not.toContain('own s3cret');
    const listed = await runCli(['profile', 'override', '--data-dir', dataDir, '--mac', MAC, '--json']);
    expect(JSON.parse(listed.stdout)).toEqual([{ name: 'e164', value: '4989700107' }, { name: 'sip-pwd', value: MASK }]);

    // Applied now: the profile's own item is queued already (the CLI's apply), the overrides are what differs.
    await card.getByRole('button', { name: 'Apply profile site now' }).click();
    const applied = page.getByTestId('toast').filter({ hasText: /Profile site: job \d+ writes 2 items that differ/ });
    await applied.waitFor();
    const jobId = Number(/job (\d+)/.exec((await applied.textContent())!)![1]);
    const jobs = JSON.parse((await runCli(['job', 'list', '--data-dir', dataDir, '--mac', MAC, '--json'])).stdout) as { id: number; items: unknown[] }[];
    expect(jobs.find((j) => j.id === jobId)!.items).toEqual([{ name: 'e164', value: '4989700107' }, { name: 'sip-pwd', value: MASK }]);

    await card.getByRole('button', { name: 'Remove override e164' }).click();
    await expect.poll(() => card.locator('tbody tr').count()).toBe(1);
    expect(JSON.parse((await runCli(['profile', 'override', '--data-dir', dataDir, '--mac', MAC, '--json'])).stdout)).toEqual([{ name: 'sip-pwd', value: MASK }]);
    await card.getByRole('button', { name: 'Remove override sip-pwd' }).click();
    await card.getByText('No overrides').waitFor();

    // Changed from the CLI in its own process: the card follows without a reload.
    expect((await runCli(['profile', 'override', '--data-dir', dataDir, '--mac', MAC, 'sntp-addr=ntp.cli.example'])).code).toBe(0);
    await card.getByText('ntp.cli.example').waitFor();
    expect((await runCli(['profile', 'override', '--data-dir', dataDir, '--mac', MAC, 'sntp-addr=ntp2.cli.example'])).code).toBe(0);
    await card.getByText('ntp2.cli.example').waitFor();
    expect((await runCli(['profile', 'override', '--data-dir', dataDir, '--mac', MAC, '--clear'])).code).toBe(0);
    await card.getByText('No overrides').waitFor();
    expect(pageErrors).toEqual([]);
  });

  it('shows the setup help with the DHCP option 43 bytes', async () => {
    await page.getByRole('link', { name: 'Setup', exact: true }).click();
    const hex = (await page.getByTestId('option43-hex').textContent()) ?? '';
    expect(hex.startsWith(`0107${Buffer.from('Siemens').toString('hex')}03`)).toBe(true);
    expect(Buffer.from(hex.slice(22), 'hex').toString()).toMatch(/^sdlp:\/\/.+:\d+$/);
    // The page scrolls inside the app frame: a taller window shows all of it.
    await page.setViewportSize({ width: 1440, height: 1180 });
    await page.screenshot({ path: join(shots, 'setup.png') });
    await page.setViewportSize({ width: 1440, height: 900 });
    expect(pageErrors).toEqual([]);
  });

  it('opened without its token, in a new tab, on the traffic view or another: the page says how to open it, at once', async () => {
    // No socket opens without the token: the first render must not wait for rows that never come.
    const bare = ui.replace(/\?token=.*/, '');
    for (const hash of ['#/traffic', '#/devices']) {
      const tab = await browser.context.newPage();
      try {
        await tab.goto(`${bare}${hash}`);
        await tab.getByText('This address has no access token', { exact: false }).first().waitFor({ timeout: 10_000 });
      } finally {
        await tab.close();
      }
    }
  });

  it('a reload takes the scripts and styles from the browser cache and fetches the page itself again', async () => {
    // A build written seconds ago is not cacheable yet (static-files.ts): wait until this one is
    // older than that, as a build is whenever the UI is opened outside a test that just made it.
    const assets = join(ROOT, 'out/renderer/assets');
    const newest = Math.max(...readdirSync(assets).map((f) => statSync(join(assets, f)).mtimeMs));
    const young = SETTLED_FILE_MS - (Date.now() - newest);
    if (young > 0) await new Promise((resolve) => setTimeout(resolve, young + 100));
    await page.goto(new URL('/#/traffic', ui).href);
    // The first load, which the browser may keep, with everything it asks for after its first rows
    // (a view's code, the other UI text) in; then the reload measured.
    await page.reload();
    await rows().first().waitFor();
    let seen = -1;
    await expect
      .poll(async () => {
        const now = (await page.evaluate("performance.getEntriesByType('resource').length")) as number;
        const still = now === seen;
        seen = now;
        return still;
      }, { interval: 500 })
      .toBe(true);
    await page.reload();
    await rows().first().waitFor();
    // Plain JavaScript in the page (this file is type-checked without the DOM library).
    const loaded = (await page.evaluate(`({
      page: performance.getEntriesByType('navigation')[0].transferSize,
      assets: performance.getEntriesByType('resource')
        .filter((r) => /\\/assets\\/.+\\.(?:js|css)$/.test(r.name))
        .map((r) => ({ name: r.name.split('/').pop(), transferSize: r.transferSize })),
    })`)) as { page: number; assets: { name: string; transferSize: number }[] };
    // index.html is no-store: it names the build's files, and its first address carried the token.
    expect(loaded.page).toBeGreaterThan(0);
    // Every script and style the page loaded came from the cache (0 bytes over the network): the
    // build's names must keep matching the server's immutable rule (static-files.ts).
    expect(loaded.assets.length).toBeGreaterThan(5);
    expect(loaded.assets.filter((a) => a.transferSize !== 0)).toEqual([]);
    // Reloaded, the page still has its token (session storage) and shows the traffic. The counts
    // come after the rows (traffic-feed.ts): "Loading…" until then.
    await expect.poll(shownCount).toMatch(/^\d+ exchanges$/);
    expect(pageErrors).toEqual([]);
  }, 30_000);
});
