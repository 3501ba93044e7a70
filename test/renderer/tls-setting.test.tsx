/** The Setup page's TLS compatibility setting against the fake API. */
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { App } from '../../src/renderer/src/App';
import { FakeApi } from './fake-api';

let api: FakeApi;

beforeEach(() => {
  window.location.hash = '#/setup';
  api = new FakeApi();
  api.status = {
    ...api.status,
    listeners: [
      { kind: 'default', host: '0.0.0.0', port: 18443, tlsProfile: 'modern', state: 'listening', error: null },
      { kind: 'secure', host: '0.0.0.0', port: 18444, tlsProfile: 'modern', state: 'listening', error: null },
    ],
  };
});

afterEach(() => cleanup());

const tlsCalls = () => api.calls.filter((c) => c.method === 'setTlsProfile').map((c) => c.args);

describe('Setup: TLS compatibility', () => {
  it('explains the risk and shows one setting per listener, Modern checked', async () => {
    render(<App api={api} />);
    const section = await screen.findByRole('region', { name: 'TLS compatibility' });
    expect(section.textContent).toMatch(/someone on the LAN who records the traffic has a better chance of decrypting it/);
    expect(section.textContent).toMatch(/failed TLS handshakes in the traffic view/);
    for (const kind of ['default', 'secure']) {
      const box = within(screen.getByTestId(`tls-setting-${kind}`));
      expect((box.getByRole('radio', { name: /Modern/ }) as HTMLInputElement).checked).toBe(true);
      expect((box.getByRole('radio', { name: /Legacy/ }) as HTMLInputElement).checked).toBe(false);
    }
  });

  it('asks before switching to Legacy; Cancel changes nothing', async () => {
    render(<App api={api} />);
    const box = within(await screen.findByTestId('tls-setting-default'));
    fireEvent.click(box.getByRole('radio', { name: /Legacy/ }));
    const dialog = await screen.findByRole('dialog', { name: /Allow legacy TLS on the Default Mode listener/ });
    expect(dialog.textContent).toMatch(/better chance of decrypting/);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(tlsCalls()).toEqual([]);
    expect((box.getByRole('radio', { name: /Modern/ }) as HTMLInputElement).checked).toBe(true);
  });

  it('confirmed: sets Legacy on that listener only, shows it, and Modern goes back without asking', async () => {
    render(<App api={api} />);
    const box = within(await screen.findByTestId('tls-setting-default'));
    fireEvent.click(box.getByRole('radio', { name: /Legacy/ }));
    fireEvent.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Allow legacy TLS' }));
    await waitFor(() => expect((box.getByRole('radio', { name: /Legacy/ }) as HTMLInputElement).checked).toBe(true));
    expect(tlsCalls()).toEqual([['default', 'legacy']]);
    expect(box.getByText(/Legacy TLS is on for this listener/)).toBeTruthy();
    expect((within(screen.getByTestId('tls-setting-secure')).getByRole('radio', { name: /Modern/ }) as HTMLInputElement).checked).toBe(true);
    expect(screen.getAllByText('TLS 1.0/1.1 allowed')).toHaveLength(1);

    fireEvent.click(box.getByRole('radio', { name: /Modern/ }));
    await waitFor(() => expect((box.getByRole('radio', { name: /Modern/ }) as HTMLInputElement).checked).toBe(true));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(tlsCalls()).toEqual([['default', 'legacy'], ['default', 'modern']]);
  });

  it('a refused change leaves the setting as it was and says why', async () => {
    render(<App api={api} />);
    const box = within(await screen.findByTestId('tls-setting-secure'));
    api.failNext = new Error('the TLS profile cannot be changed here: the service is not running');
    fireEvent.click(box.getByRole('radio', { name: /Legacy/ }));
    fireEvent.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Allow legacy TLS' }));
    expect(await screen.findByText(/service is not running/)).toBeTruthy();
    expect((box.getByRole('radio', { name: /Modern/ }) as HTMLInputElement).checked).toBe(true);
  });
});
