/**
 * The Rollouts view follows what other front ends do, as the rest of the UI does (a new-user pass
 * found it offering "Retry 2 failed" after the CLI had retried them, until a reload): a rollout's
 * failed phones retried with `localdls rollout retry` while the view shows that rollout in
 * Chromium. Built on test/e2e/inspector.test.ts's failing bulk job.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliProcess, runCli, runCliProcess } from '../support/cli';
import { type ChromiumSession, ensureRendererBuilt, launchWithPage, serveWithUi, suiteDirs } from './support';

const newDir = suiteDirs();
const P1 = '00:1A:E8:00:21:01';
const PHONES = ['--count', '2', '--mac-base', P1, '--ip-base', '127.0.21.1'];

let serve: CliProcess;
let ui: string;
let port: number;
let page: Page;
let browser: ChromiumSession;
let site: string;
const pageErrors: string[] = [];
const WAIT = { timeout: 60_000 };

beforeAll(async () => {
  ensureRendererBuilt();
  site = join(newDir(), 'site');
  ({ serve, port, ui } = await serveWithUi(site));
  ({ browser, page } = await launchWithPage(pageErrors, { timeoutMs: 30_000 }));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (serve) expect(await serve.stop('SIGTERM')).toBe(0);
});

const cli = (...args: string[]) => runCli([...args, '--data-dir', site]);
const rollouts = async () => (await cli('rollout', '--json')).stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: string; finished: boolean; counts: Record<string, number> });

describe('the Rollouts view follows a retry made elsewhere', () => {
  it('after `rollout retry` in the CLI it offers no retry of those phones and links their new jobs, without a reload', async () => {
    // Two phones refuse a read-only item: a rollout with two failed phones.
    const first = await runCli(['phone', '--server', `https://127.0.0.1:${port}`, ...PHONES]);
    expect(first.code, first.stderr).toBe(0);
    expect((await cli('job', 'add', '--all', 'write', 'device-type=Not a phone')).code).toBe(0);
    const phones = new CliProcess(['phone', '--server', `https://127.0.0.1:${port}`, ...PHONES, '--stay', '--contact-gap', '60', '--json']);
    await phones.waitFor((l) => l.includes('"ready"'), 60_000);
    await expect.poll(async () => (await rollouts()).every((r) => r.finished), WAIT).toBe(true);
    // Gone before the retry: its jobs wait (they would fail again at once, and be offered again rightly).
    await phones.stop('SIGTERM');
    const [failing] = await rollouts();
    expect(failing!.counts).toMatchObject({ failed: 2 });

    await page.goto(`${ui}#/rollouts?id=${failing!.id}`);
    const detail = page.getByTestId('rollout-detail');
    await detail.getByRole('button', { name: 'Retry 2 failed' }).waitFor();
    // A mark on this document: still there at the end, so nothing reloaded the page.
    await page.evaluate(() => Object.assign(globalThis, { notReloaded: true }));

    const retry = await runCliProcess(['rollout', 'retry', failing!.id, '--data-dir', site]);
    expect(retry.code, retry.stderr).toBe(0);
    const retryId = /^queued 2 failed jobs again as rollout (j\d+-WriteItems)$/m.exec(retry.stdout)?.[1];
    expect(retryId, retry.stdout).toBeDefined();

    // The list gains the retry; the rollout shown still has its two failed phones, now queued again.
    await expect.poll(() => page.getByTestId('rollouts-table').locator('tbody tr').count(), WAIT).toBe(2);
    // (Live updates reach the page within a second; the bound only keeps a failure short.)
    await expect.poll(() => detail.getByRole('button', { name: /^Retry/ }).count(), { timeout: 20_000 }).toBe(0);
    expect(await detail.getByTestId('rollout-retried').textContent()).toMatch(/^2 failed phones have been queued again since/);
    expect(await detail.getByTestId('phase-failed').locator('strong').textContent()).toBe('2');
    const again = detail.getByTestId('retried-by');
    const texts = await again.allTextContents();
    expect(texts).toHaveLength(2);
    for (const text of texts) expect(text).toMatch(/^queued again: #\d+$/);
    for (const href of await again.evaluateAll((links) => links.map((a) => a.getAttribute('href')))) expect(href).toBe(`#/rollouts?id=${retryId}`);
    expect(await page.evaluate(() => (globalThis as { notReloaded?: boolean }).notReloaded)).toBe(true);

    // The same in German; the link opens the retry's rollout.
    await page.getByLabel('Language').selectOption('de');
    await detail.getByTestId('rollout-retried').filter({ hasText: '2 fehlgeschlagene Telefone wurden seither neu eingereiht' }).waitFor();
    await detail.getByRole('link', { name: 'Diesen Rollout öffnen' }).click();
    await expect.poll(() => page.url(), WAIT).toMatch(new RegExp(`#/rollouts\\?id=${retryId}$`));
    await expect.poll(async () => (await detail.getByTestId('rollout-devices').locator('tbody tr[data-phase="failed"]').count()), WAIT).toBe(0);
    await page.getByLabel('Sprache').selectOption('en');
    expect(pageErrors).toEqual([]);
  }, 180_000);
});
