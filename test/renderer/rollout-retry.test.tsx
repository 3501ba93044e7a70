/**
 * "Retry failed" in the Rollouts view when another front end retried those phones first (the CLI,
 * another window) and the view had not heard yet: it says so in the UI's words and shows the
 * rollout as it is now, with no retry left to offer. test/e2e/rollout-live.test.ts checks the live
 * update against the real service.
 */
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { App } from '../../src/renderer/src/App';
import { setLanguage } from '../../src/renderer/src/i18n';
import type { Rollout, RolloutDevice } from '../../src/shared/api';
import { FakeApi } from './fake-api';

const ID = 'j1764151300000-WriteItems';
const RETRY = 'j1764151400000-WriteItems';
const MACS = ['00:1A:E8:00:00:01', '00:1A:E8:00:00:02'];

function rollout(retried: boolean): Rollout {
  const devices = MACS.map((mac, i): RolloutDevice => ({
    mac, e164: null, jobId: i + 1, jobState: 'failed', phase: 'failed', error: 'the phone refused 1 item: device-type: read only', interactionId: null,
    retriedBy: retried ? { jobId: i + 3, rolloutId: RETRY } : null,
  }));
  const counts = { queued: 0, contacted: 0, pin: 0, busy: 0, done: 0, failed: 2, unreachable: 0, cancelled: 0 };
  return { id: ID, kind: 'jobs', jobKind: 'WriteItems', started: 1_764_151_300_000, total: 2, counts, finished: true, devices };
}

let api: FakeApi;

beforeEach(() => {
  window.location.hash = `#/rollouts?id=${ID}`;
  api = new FakeApi();
  api.rollouts = [rollout(false)];
});

afterEach(() => {
  cleanup();
  setLanguage('en');
});

describe('Rollouts: retry after another front end retried', () => {
  it.each<['en' | 'de', string, string, string]>([
    ['en', 'Retry 2 failed', 'Nothing to retry. 00:1A:E8:00:00:01: already queued again (job #3); 00:1A:E8:00:00:02: already queued again (job #4)', '2 failed phones have been queued again since'],
    ['de', '2 fehlgeschlagene wiederholen', 'Nichts zu wiederholen. 00:1A:E8:00:00:01: bereits neu eingereiht (Job #3); 00:1A:E8:00:00:02: bereits neu eingereiht (Job #4)', '2 fehlgeschlagene Telefone wurden seither neu eingereiht'],
  ])('%s: says the phones were queued again already and offers no retry of them', async (lang, button, note, queuedAgain) => {
    setLanguage(lang);
    render(<App api={api} />);
    const detail = await screen.findByTestId('rollout-detail');
    const retry = await within(detail).findByRole('button', { name: button });
    // The CLI retried them meanwhile; the service answers the click with what it found.
    api.rollouts = [rollout(true)];
    api.retryResult = { rolloutId: null, retried: 0, skipped: MACS.map((mac, i) => ({ mac, reason: `retried already: job ${i + 3} does it again`, retriedBy: i + 3 })) };
    fireEvent.click(retry);
    expect((await screen.findByRole('status')).textContent).toBe(note);
    await waitFor(() => expect(within(screen.getByTestId('rollout-detail')).queryByRole('button', { name: button })).toBeNull());
    expect(screen.getByTestId('rollout-retried').textContent).toMatch(new RegExp(`^${queuedAgain}`));
    expect(screen.getAllByTestId('retried-by').map((a) => a.getAttribute('href'))).toEqual([`#/rollouts?id=${RETRY}`, `#/rollouts?id=${RETRY}`]);
  });

  it.each<['en' | 'de', string]>([
    ['en', 'Nothing to retry. 00:1A:E8:00:00:01: in Secure Mode by now; 00:1A:E8:00:00:02: not queued again: an item it cannot take'],
    ['de', 'Nichts zu wiederholen. 00:1A:E8:00:00:01: inzwischen im Secure Mode; 00:1A:E8:00:00:02: not queued again: an item it cannot take'],
  ])('%s: a known reason is said in the UI\'s language, another as the service says it', async (lang, note) => {
    setLanguage(lang);
    render(<App api={api} />);
    const detail = await screen.findByTestId('rollout-detail');
    const retry = await within(detail).findByRole('button', { name: lang === 'en' ? 'Retry 2 failed' : '2 fehlgeschlagene wiederholen' });
    api.retryResult = { rolloutId: null, retried: 0, skipped: [{ mac: MACS[0]!, reason: 'in Secure Mode by now', key: 'secureNow' }, { mac: MACS[1]!, reason: 'not queued again: an item it cannot take' }] };
    fireEvent.click(retry);
    expect((await screen.findByRole('status')).textContent).toBe(note);
  });
});
