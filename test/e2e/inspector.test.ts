/**
 * The inspector's views end to end in Chromium against `localdls serve --ui` and simulated phones
 * (issue #15, part B): two bulk jobs go to two phones — one done, one refused ("read only") — and
 * the user follows them in the rollouts view, opens a failed phone's ladder (the refusal red),
 * retries the failed ones, reads a phone's timeline with the item that changed, and from the
 * traffic view's detail copies an exchange as curl and opens its ladder.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliProcess, runCli } from '../support/cli';
import { post } from '../support/https-client';
import { type ChromiumSession, ensureRendererBuilt, launchWithPage, screenshotDir, serveWithUi, suiteDirs } from './support';

const newDir = suiteDirs();
const P1 = '00:1A:E8:00:05:01';
const PHONES = ['--count', '2', '--mac-base', P1, '--ip-base', '127.0.15.1'];

let serve: CliProcess;
let phones: CliProcess | null = null;
let port: number;
let ui: string;
let page: Page;
let browser: ChromiumSession;
let shots: string;
let site: string;
const pageErrors: string[] = [];
const WAIT = { timeout: 60_000 };

beforeAll(async () => {
  ensureRendererBuilt();
  site = join(newDir(), 'site');
  ({ serve, port, ui } = await serveWithUi(site));
  ({ browser, page } = await launchWithPage(pageErrors, { timeoutMs: 30_000 }));
  shots = screenshotDir(newDir);
  mkdirSync(shots, { recursive: true });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await phones?.stop('SIGTERM');
  if (serve) expect(await serve.stop('SIGTERM')).toBe(0);
});

/** The view as it is, in light and in dark (the docs show both): `name.png` and `name-dark.png`, chosen in the top bar. */
async function shoot(name: string): Promise<void> {
  await page.screenshot({ path: join(shots, `${name}.png`) });
  const theme = page.locator('.prefs select').nth(1);
  const before = await theme.inputValue();
  await theme.selectOption('dark');
  await page.screenshot({ path: join(shots, `${name}-dark.png`) });
  await theme.selectOption(before);
}

const cli = (...args: string[]) => runCli([...args, '--data-dir', site]);
const rollouts = async () => (await cli('rollout', '--json')).stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: string; finished: boolean; counts: Record<string, number> });

describe('the inspector in the browser', () => {
  it('two bulk jobs reach two phones; the rollouts view shows one done, one failed, live', async () => {
    // The phones register once, the jobs are queued, then the phones come back and stay.
    const first = await runCli(['phone', '--server', `https://127.0.0.1:${port}`, ...PHONES]);
    expect(first.code, first.stderr).toBe(0);
    expect((await cli('job', 'add', '--all', 'write', 'sntp-addr=ntp.inspector.example')).code).toBe(0);
    expect((await cli('job', 'add', '--all', 'write', 'device-type=Not a phone')).code).toBe(0);
    await page.goto(`${ui}#/rollouts`);
    await page.getByTestId('rollouts-table').waitFor();
    expect(await page.getByTestId('rollouts-table').locator('tbody tr').count()).toBe(2);

    phones = new CliProcess(['phone', '--server', `https://127.0.0.1:${port}`, ...PHONES, '--stay', '--contact-gap', '60', '--json']);
    await phones.waitFor((l) => l.includes('"ready"'), 60_000);
    await expect.poll(async () => (await rollouts()).every((r) => r.finished), WAIT).toBe(true);
    const [failing, done] = await rollouts();
    expect(done!.counts).toMatchObject({ done: 2, failed: 0 });
    expect(failing!.counts).toMatchObject({ done: 0, failed: 2 });

    // The newest rollout (the refused one) is shown; the page followed the phones by itself.
    const detail = page.getByTestId('rollout-detail');
    await expect.poll(() => detail.getByTestId('phase-failed').locator('strong').textContent(), WAIT).toBe('2');
    expect(await detail.getByTestId('phase-done').locator('strong').textContent()).toBe('0');
    await shoot('rollouts');
    await page.locator('.rollouts-table a').nth(1).click();
    await expect.poll(() => detail.getByTestId('phase-done').locator('strong').textContent(), WAIT).toBe('2');
    await page.locator('.rollouts-table a').nth(0).click();
    await expect.poll(() => detail.getByTestId('phase-failed').locator('strong').textContent(), WAIT).toBe('2');
  });

  it('a failed phone is one click from its ladder, the refusal drawn red', async () => {
    const detail = page.getByTestId('rollout-detail');
    await detail.locator(`tr[data-phase="failed"]`).first().getByRole('link', { name: 'Open ladder' }).click();
    const ladder = page.getByTestId('ladder');
    await ladder.waitFor();
    const rungs = ladder.getByTestId('rung');
    expect(await rungs.count()).toBeGreaterThanOrEqual(2);
    // start-up → … → the WriteItems refused by the phone (reply-to WriteItems/failed), in red.
    const failed = ladder.locator('.rung-error');
    expect(await failed.count()).toBeGreaterThanOrEqual(1);
    expect(await failed.first().textContent()).toMatch(/reply-to WriteItems.*Job #\d+ WriteItems failed: the phone refused 1 item: device-type: read only/);
    // The reply said "accepted"; the rung says what the phone refused.
    expect(await failed.first().locator('.rs-bad').textContent()).toBe('1 refused');
    expect(await rungs.first().textContent()).toMatch(/start-up/);
    await shoot('ladder');
    // An arrow opens that exchange in the traffic view.
    const id = await failed.first().getAttribute('data-id');
    await failed.first().locator('a.arrow-right').click();
    await page.getByTestId('detail').waitFor();
    expect(await page.getByTestId('detail').textContent()).toContain(`#${id}`);
    expect(await page.getByTestId('detail').textContent()).toContain('reply-to WriteItems/accepted · 1 refused → ');
  });

  it('retry failed queues the failed phones again as a rollout of their own', async () => {
    await page.goto(`${ui}#/rollouts`);
    const detail = page.getByTestId('rollout-detail');
    await page.getByRole('button', { name: 'Retry 2 failed' }).click();
    await page.getByRole('status').filter({ hasText: 'Queued 2 failed jobs again' }).waitFor();
    await expect.poll(() => page.getByTestId('rollouts-table').locator('tbody tr').count(), WAIT).toBe(3);
    // The page moved to the new rollout: both phones, none failed yet.
    await expect.poll(async () => Number(await detail.getByTestId('phase-failed').locator('strong').textContent()) + Number(await detail.getByTestId('phase-done').locator('strong').textContent()), WAIT).toBe(0);
    expect(await detail.getByTestId('rollout-devices').locator('tbody tr').count()).toBe(2);
    // The navigation counts the waiting jobs and the errors, live.
    await expect.poll(() => page.getByTestId('nav-jobs').textContent(), WAIT).toBe('2');
    const errors = Number(await page.getByTestId('nav-errors').textContent());
    expect(errors).toBeGreaterThan(0);
    expect(await page.getByTestId('nav-errors').getAttribute('title')).toBe(`${errors} ${errors === 1 ? 'error' : 'errors'} in the traffic`);
  });

  it('the device list exports as CSV', async () => {
    await page.goto(`${ui}#/devices`);
    await page.locator(`tr[data-mac="${P1}"]`).waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    const file = await download.path();
    const lines = readFileSync(file, 'utf8').trimEnd().split('\r\n');
    expect(lines[0]).toMatch(/^mac,e164,device_type,/);
    expect(lines.slice(1).map((l) => l.split(',')[0]).sort()).toEqual([P1, '00:1A:E8:00:05:02']);
  });

  it('a phone’s timeline shows its interactions, jobs and the item that changed', async () => {
    await page.goto(`${ui}#/timeline/${P1}`);
    const timeline = page.getByTestId('timeline');
    await timeline.getByTestId('timeline-entry').first().waitFor();
    await expect.poll(async () => (await timeline.getByTestId('change').allTextContents()).some((t) => /^sntp-addr: .+ → ntp\.inspector\.example$/.test(t)), WAIT).toBe(true);
    // The phone's first complete read is one line with its count, not hundreds of "new" items.
    expect(await timeline.getByTestId('change-first-read').allTextContents()).toEqual([expect.stringMatching(/^First complete read: \d{2,} items$/)]);
    expect(await timeline.locator('[data-kind="job"]').count()).toBeGreaterThanOrEqual(4);
    expect(await timeline.locator('[data-kind="interaction"]').count()).toBeGreaterThanOrEqual(2);
    await shoot('timeline');
    // Its interactions open as ladders.
    await timeline.locator('[data-kind="interaction"] a').first().click();
    await page.getByTestId('ladder').waitFor();
  });

  it('from the traffic view: copy as curl, open the ladder and the timeline of an exchange', async () => {
    await page.goto(`${ui}#/traffic`);
    await page.locator('.xrow[data-id]').first().click();
    const detail = page.getByTestId('detail');
    await detail.getByRole('button', { name: 'Copy as curl' }).waitFor();
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(ui).origin });
    await detail.getByRole('button', { name: 'Copy as curl' }).click();
    await detail.getByRole('button', { name: 'Copied' }).waitFor();
    const copied = await page.evaluate<string>('navigator.clipboard.readText()');
    expect(copied).toMatch(/^curl --http1\.1 -sS -i -g -k -X 'POST' 'https:\/\/127\.0\.0\.1:\d+\/DeploymentService\/LoginService'/);
    await detail.getByRole('link', { name: 'Ladder' }).click();
    await page.getByTestId('ladder').waitFor();
  });

  it('the TLS key log is switched on from the TLS tab, with its warning, and holds NSS lines of the next handshake', async () => {
    const keyDir = mkdtempSync(join(tmpdir(), 'localdls-keylog-'));
    await page.goto(`${ui}#/traffic`);
    await page.locator('.xrow[data-id]').first().click();
    const detail = page.getByTestId('detail');
    await detail.getByRole('tab', { name: 'TLS' }).click();
    const setting = detail.getByRole('region', { name: 'TLS key log' });
    expect(await setting.textContent()).toMatch(/decrypt every captured exchange/);
    // A folder that does not exist: refused with the path and the reason.
    await setting.getByLabel('Key log file').fill(join(keyDir, 'no-such-folder', 'keys.log'));
    await setting.getByRole('button', { name: 'Start key log' }).click();
    await setting.getByRole('alert').filter({ hasText: /no-such-folder.*no such file or directory/ }).waitFor();
    const file = join(keyDir, 'keys.log');
    await setting.getByLabel('Key log file').fill(file);
    await setting.getByRole('button', { name: 'Start key log' }).click();
    await setting.getByRole('status').filter({ hasText: file }).waitFor();
    await post(port, '<not-wpi/>');
    const lines = readFileSync(file, 'latin1').trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(/^[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]{64,96}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await setting.getByRole('button', { name: 'Stop key log' }).click();
    await setting.getByRole('button', { name: 'Start key log' }).waitFor();
    rmSync(keyDir, { recursive: true, force: true });
  });

  it('a filter is saved, applied again after a reload, and everything it selects exports as HAR', async () => {
    await page.goto(`${ui}#/traffic`);
    await page.locator('.xrow[data-id]').first().waitFor();
    await page.getByLabel('Device', { exact: true }).fill(P1);
    await expect.poll(async () => [...new Set(await page.locator('.xrow[data-id] .c-mac').allTextContents())], WAIT).toEqual([P1]);
    await page.getByRole('button', { name: 'Save filter…' }).click();
    await page.getByLabel('Name of the filter').fill('phone one');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('button', { name: 'Reset' }).click();
    await expect.poll(async () => new Set(await page.locator('.xrow[data-id] .c-mac').allTextContents()).size, WAIT).toBeGreaterThan(1);
    await page.reload();
    await page.locator('.xrow[data-id]').first().waitFor();
    await page.getByLabel('Saved filters').selectOption('phone one');
    await expect.poll(async () => [...new Set(await page.locator('.xrow[data-id] .c-mac').allTextContents())], WAIT).toEqual([P1]);
    expect(await page.getByLabel('Device', { exact: true }).inputValue()).toBe(P1);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export all matching (HAR)' }).click()]);
    const har = JSON.parse(readFileSync(await download.path(), 'utf8')) as { log: { version: string; entries: { _localdls: { mac: string } }[] } };
    expect(har.log.version).toBe('1.2');
    expect(har.log.entries.length).toBeGreaterThan(0);
    expect(new Set(har.log.entries.map((e) => e._localdls.mac))).toEqual(new Set([P1]));
    await page.screenshot({ path: join(shots, 'traffic-saved-filter.png') });
    await page.getByRole('button', { name: 'Reset' }).click();
  });

  it('the list\'s keys work before any click (the empty detail pane says they do)', async () => {
    await page.goto(`${ui}#/traffic`);
    await page.locator('.xrow[data-id]').first().waitFor();
    expect(await page.locator('body').evaluate((body) => body.ownerDocument.activeElement === body)).toBe(true);
    const focused = () => page.locator('.xrow.focused').getAttribute('data-id');
    await page.keyboard.press('Home');
    const first = await page.locator('.xrow[data-id]').first().getAttribute('data-id');
    await expect.poll(focused, WAIT).toBe(first);
    await page.keyboard.press('j');
    await expect.poll(focused, WAIT).not.toBe(first);
    await page.getByTestId('detail').waitFor();
    // In a text field the same key is typed, not taken.
    await page.getByPlaceholder(/^Search bodies/).click();
    const before = await focused();
    await page.keyboard.press('j');
    expect(await page.getByPlaceholder(/^Search bodies/).inputValue()).toBe('j');
    expect(await focused()).toBe(before);
    await page.getByPlaceholder(/^Search bodies/).fill('');
  });

  it('the exchange list sorts by a column and remembers the columns chosen', async () => {
    await page.goto(`${ui}#/traffic`);
    const items = () => page.locator('.xrow[data-id] .c-items').allTextContents();
    await expect.poll(async () => (await items()).length, WAIT).toBeGreaterThan(5);
    const header = (name: string) => page.getByRole('columnheader', { name: new RegExp(`^${name}`) });
    const scroll = page.getByTestId('exchange-scroll');
    const position = () => scroll.evaluate((el) => ({ top: el.scrollTop, bottom: el.scrollHeight - el.clientHeight }));
    // Live, the list sits at its bottom (more rows than fit: else nothing here could fail).
    await expect.poll(async () => (await position()).bottom, WAIT).toBeGreaterThan(0);
    await expect.poll(async () => { const p = await position(); return p.top >= p.bottom - 1; }, WAIT).toBe(true);
    await header('Items').getByRole('button').click();
    const asc = (await items()).map(Number);
    expect(asc).toEqual([...asc].sort((a, b) => a - b));
    expect(await header('Items').getAttribute('aria-sort')).toBe('ascending');
    // A new order starts at its first row.
    await expect.poll(async () => (await position()).top, WAIT).toBe(0);
    await header('Items').getByRole('button').click();
    const desc = (await items()).map(Number);
    expect(desc).toEqual([...desc].sort((a, b) => b - a));
    await page.getByRole('button', { name: 'Arrival order (follow live)' }).click();
    const ids = (await page.locator('.xrow[data-id] .c-id').allTextContents()).map(Number);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    // A column too narrow for its label and the arrow (Duration) cuts the label, never the direction.
    await header('Duration').getByRole('button').click();
    const label = header('Duration').locator('.sort-label');
    expect(await label.evaluate((el) => el.scrollWidth > el.clientWidth)).toBe(true);
    const cell = await header('Duration').boundingBox();
    const arrow = await header('Duration').locator('.sort-arrow').boundingBox();
    expect(await header('Duration').locator('.sort-arrow').textContent()).toBe('▲');
    expect(arrow!.x + arrow!.width).toBeLessThanOrEqual(cell!.x + cell!.width + 0.5);
    await page.getByRole('button', { name: 'Arrival order (follow live)' }).click();
    // Back at the live bottom, the last row above the controls that float over the list's foot.
    await expect.poll(async () => { const p = await position(); return p.top >= p.bottom - 1; }, WAIT).toBe(true);
    const last = await page.locator('.xrow[data-id]').last().boundingBox();
    const chooser = await page.locator('.xlist .column-chooser').boundingBox();
    expect(last!.y + last!.height).toBeLessThanOrEqual(chooser!.y + 0.5);

    await page.getByText('Columns', { exact: true }).click();
    await page.getByRole('checkbox', { name: 'Peer' }).uncheck();
    expect(await page.locator('.xrow[data-id] .c-peer').count()).toBe(0);
    await page.reload();
    await page.locator('.xrow[data-id]').first().waitFor();
    expect(await page.getByRole('columnheader', { name: /^Peer/ }).count()).toBe(0);
    expect(await page.locator('.xrow[data-id] .c-mac').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(shots, 'traffic-sorted-columns.png') });
    expect(pageErrors).toEqual([]);
  });
});
