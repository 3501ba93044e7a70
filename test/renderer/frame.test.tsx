/**
 * What the frame tells the user, truthfully: "Clear" says what it hid and brings it back, a device
 * link shows all of that device's traffic, counts follow device changes, status dots go grey when
 * the service is gone, a page without its token says why, failures stay on screen; and the
 * preferences: shortcut list, dark mode, German.
 */
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from '../../src/renderer/src/App';
import { connect, NO_TOKEN } from '../../src/renderer/src/api/connect';
import type { ConnectionState } from '../../src/renderer/src/api/ws-client';
import { LINGER_MS, ToastProvider, useToast } from '../../src/renderer/src/common/Toasts';
import { setLanguage } from '../../src/renderer/src/i18n';
import { DEVICE, FakeApi, summary } from './fake-api';

let api: FakeApi;
beforeEach(() => {
  window.location.hash = '#/traffic';
  localStorage.clear();
  sessionStorage.clear();
  api = new FakeApi();
  api.rows = [summary(1), summary(2), summary(3, { mac: '00:1A:E8:00:00:02', peerAddress: '192.0.2.11' })];
});
afterEach(() => {
  cleanup();
  setLanguage('en');
  delete document.documentElement.dataset.theme;
});

const rowsShown = () => [...document.querySelectorAll<HTMLElement>('.xrow[data-id]')].map((r) => Number(r.dataset.id));

describe('Clear in the traffic view', () => {
  it('says how many exchanges it hid, shows new ones, and brings the hidden back', async () => {
    render(<App api={api} />);
    await waitFor(() => expect(rowsShown()).toEqual([1, 2, 3]));
    fireEvent.click(screen.getByRole('button', { name: 'Clear' }));
    const note = await screen.findByTestId('cleared-note');
    expect(note.textContent).toMatch(/^Cleared at \d\d:\d\d:\d\d: 3 older exchanges are hidden, not deleted\./);
    expect(screen.getByText(/^Nothing new since you cleared the view at/)).toBeTruthy();
    act(() => api.push(summary(4)));
    await waitFor(() => expect(rowsShown()).toEqual([4]));
    fireEvent.click(within(note).getByRole('button', { name: 'Show them' }));
    await waitFor(() => expect(rowsShown()).toEqual([1, 2, 3, 4]));
    expect(screen.queryByTestId('cleared-note')).toBeNull();
  });

  it('a device\'s "Open in traffic view" shows all its traffic, whatever was cleared', async () => {
    render(<App api={api} />);
    await waitFor(() => expect(rowsShown()).toHaveLength(3));
    fireEvent.click(screen.getByRole('button', { name: 'Clear' }));
    await screen.findByTestId('cleared-note');
    act(() => {
      window.location.hash = '#/traffic?device=00:1A:E8:00:00:02';
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    });
    await waitFor(() => expect(rowsShown()).toEqual([3]));
    expect(screen.queryByTestId('cleared-note')).toBeNull();
  });
});

describe('status', () => {
  it('the Devices count and the status bar follow device changes', async () => {
    render(<App api={api} />);
    await waitFor(() => expect(screen.getByTestId('nav-device-count').textContent).toBe('1'));
    // One of each is singular ("1 devices" was shown).
    api.status = { ...api.status, deviceCount: 1, exchangeCount: 1 };
    act(() => api.pushDevices({ ...DEVICE }));
    await waitFor(() => expect(screen.getByTestId('status-counts').textContent).toBe('1 device · 1 exchange'));
    api.status = { ...api.status, deviceCount: 2, exchangeCount: 3 };
    act(() => api.pushDevices({ ...DEVICE, mac: '00:1A:E8:00:00:02' }));
    await waitFor(() => expect(screen.getByTestId('nav-device-count').textContent).toBe('2'));
    expect(screen.getByTestId('status-counts').textContent).toBe('2 devices · 3 exchanges');
    expect(document.querySelector('.statusbar')!.textContent).toMatch(/Times: local, UTC/);
  });

  it('dots go grey and the bar says so while the service cannot be reached', async () => {
    let tell: (s: ConnectionState, d: string | null) => void = () => undefined;
    render(<App api={api} onConnection={(l) => ((tell = l), () => undefined)} />);
    await waitFor(() => expect(screen.getByTestId('dot-default').className).toContain('dot-listening'));
    act(() => tell('closed', null));
    expect(screen.getByTestId('dot-default').className).toContain('dot-unknown');
    expect(screen.getByTestId('service-unreachable').textContent).toMatch(/not reachable/);
    act(() => tell('open', null));
    expect(screen.getByTestId('dot-default').className).toContain('dot-listening');
  });

  it('a page opened without its token says why and what to do, instead of reconnecting forever', async () => {
    const c = connect(window);
    // The start-up waits for the first attempt to be over before React runs (main.tsx): a refusal ends it.
    await c.settled;
    render(<App api={c.api} onConnection={c.onConnection} />);
    const refused = await screen.findByTestId('connection-refused');
    expect(refused.textContent).toContain(NO_TOKEN.replace(/`/g, ''));
    expect(screen.queryByText(/reconnecting/)).toBeNull();
    // The command to run is shown as code, not with markdown backticks.
    expect(refused.textContent).not.toContain('`');
    expect([...refused.querySelectorAll('code')].map((c) => c.textContent)).toEqual(['localdls serve --ui']);
  });
});

describe('device page', () => {
  it('says what became of contact-me: failed in a row with the reason, or when it was last answered', async () => {
    api.devices = [{ ...DEVICE, contactFailures: 3, lastContactError: 'connect ECONNREFUSED 192.0.2.10:8085', lastContactMe: 1_764_151_300_000 }];
    window.location.hash = `#/devices/${DEVICE.mac}`;
    render(<App api={api} />);
    expect((await screen.findByTestId('contact-me-state')).textContent).toBe('failed 3 times in a row, last: connect ECONNREFUSED 192.0.2.10:8085');
    act(() => api.pushDevices({ ...DEVICE, contactFailures: 0, lastContactError: null, lastContactMe: Date.UTC(2025, 10, 26, 10, 0, 0) }));
    await waitFor(() => expect(screen.getByTestId('contact-me-state').textContent).toMatch(/^last sent 2025-11-26 \d\d:\d\d:00 UTC.*, answered$/));
  });
});

describe('toasts', () => {
  it('successes go, failures and partial failures stay until closed', () => {
    vi.useFakeTimers();
    try {
      let toast: ReturnType<typeof useToast> | null = null;
      const Grab = () => ((toast = useToast()), null);
      render(<ToastProvider><Grab /></ToastProvider>);
      act(() => {
        toast!.push('ok', 'Read all queued');
        toast!.push('warn', 'Contact-me sent to 1 of 2 phones');
        toast!.error('Job 3 not cancelled', new Error('job 3 is done'));
      });
      expect(screen.getAllByTestId('toast')).toHaveLength(3);
      act(() => vi.advanceTimersByTime(10 * 60_000));
      expect(screen.getAllByTestId('toast').map((t) => t.textContent)).toEqual([expect.stringContaining('1 of 2'), expect.stringContaining('job 3 is done')]);
      expect(LINGER_MS.warn).toBeNull();
      fireEvent.click(within(screen.getAllByTestId('toast')[0]!).getByRole('button', { name: 'Close message' }));
      expect(screen.getAllByTestId('toast')).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a burst of successes never pushes a failure out', () => {
    let toast: ReturnType<typeof useToast> | null = null;
    const Grab = () => ((toast = useToast()), null);
    render(<ToastProvider><Grab /></ToastProvider>);
    act(() => {
      toast!.error('Export failed', new Error('too large'));
      for (let i = 0; i < 8; i++) toast!.push('ok', `ok ${i}`);
    });
    expect(screen.getAllByTestId('toast')).toHaveLength(5);
    expect(screen.getAllByTestId('toast')[0]!.textContent).toContain('too large');
  });
});

describe('preferences', () => {
  it('? lists the real shortcuts, and 1–6 switch views (6: Rollouts)', async () => {
    render(<App api={api} />);
    await waitFor(() => expect(rowsShown()).toHaveLength(3));
    fireEvent.keyDown(window, { key: '?' });
    const help = await screen.findByRole('dialog', { name: 'Keyboard shortcuts' });
    expect(within(help).getByTestId('shortcuts-traffic').textContent).toContain('Previous / next exchange');
    fireEvent.keyDown(window, { key: 'Escape' });
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    fireEvent.keyDown(window, { key: '3' });
    await waitFor(() => expect(window.location.hash).toBe('#/jobs'));
    // The keys follow the tabs: 4 Rollouts, 5 Secure Mode, 6 Setup.
    fireEvent.keyDown(window, { key: '4' });
    await waitFor(() => expect(window.location.hash).toBe('#/rollouts'));
    fireEvent.keyDown(window, { key: '5' });
    await waitFor(() => expect(window.location.hash).toBe('#/bootstrap'));
    fireEvent.keyDown(window, { key: '6' });
    await waitFor(() => expect(window.location.hash).toBe('#/setup'));
    const tabs = [...document.querySelectorAll('nav a')].map((a) => a.getAttribute('href'));
    expect(tabs.filter((h) => h !== null && /^#\/(traffic|devices|jobs|rollouts|bootstrap|setup)$/.test(h))).toEqual(['#/traffic', '#/devices', '#/jobs', '#/rollouts', '#/bootstrap', '#/setup']);
  });

  it('dark mode is switched on the document and remembered', async () => {
    render(<App api={api} />);
    fireEvent.change(screen.getByLabelText('Colour scheme'), { target: { value: 'dark' } });
    await waitFor(() => expect(document.documentElement.dataset.theme).toBe('dark'));
    expect(localStorage.getItem('localdls.theme')).toBe('dark');
    cleanup();
    delete document.documentElement.dataset.theme;
    render(<App api={api} />);
    await waitFor(() => expect(document.documentElement.dataset.theme).toBe('dark'));
    fireEvent.change(screen.getByLabelText('Colour scheme'), { target: { value: 'system' } });
    await waitFor(() => expect(document.documentElement.dataset.theme).toBeUndefined());
    expect(localStorage.getItem('localdls.theme')).toBeNull();
  });

  it('switches the views to German', async () => {
    render(<App api={api} />);
    fireEvent.change(screen.getByLabelText('Language'), { target: { value: 'de' } });
    expect(await screen.findByRole('link', { name: 'Datenverkehr' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Leeren' })).toBeTruthy();
    expect(screen.getByTestId('shown-count').textContent).toBe('3 Austausche');
    expect(localStorage.getItem('localdls.language')).toBe('de');
    expect(document.documentElement.lang).toBe('de');
  });
});
