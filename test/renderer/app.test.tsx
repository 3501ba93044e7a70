/** The UI against a fake LocalDlsApi: what a person sees and does, without Electron or a service. */
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { App } from '../../src/renderer/src/App';
import { FakeApi, hex, summary } from './fake-api';

let api: FakeApi;

beforeEach(() => {
  window.location.hash = '#/traffic';
  api = new FakeApi();
  api.rows = [
    summary(1),
    summary(2, { reason: 'reply-to', replyAction: 'ReadAllItems', replyStatus: 'accepted', action: 'CleanUp', fragment: null }),
    summary(3, { kind: 'tls-failure', mac: null, reason: null, action: null, httpStatus: 0, error: 'TLS handshake failed: unsupported protocol', warning: 'an old phone firmware may need legacy TLS', tlsProtocol: null, interactionId: null }),
    summary(4, { httpStatus: 400, reason: null, action: null, error: 'unknown ReasonForContact "hello"', mac: null, interactionId: null }),
  ];
});

afterEach(() => cleanup());

const rowsShown = () => [...document.querySelectorAll<HTMLElement>('.xrow[data-id]')].map((r) => Number(r.dataset.id));

describe('traffic view', () => {
  it('lists the exchanges, marks TLS failures and refusals, and adds live rows', async () => {
    render(<App api={api} />);
    await waitFor(() => expect(rowsShown()).toEqual([1, 2, 3, 4]));
    const tls = document.querySelector('[data-id="3"]')!;
    expect(tls.className).toContain('row-tls');
    expect(tls.textContent).toContain('TLS failure');
    const refused = document.querySelector('[data-id="4"]')!;
    expect(refused.className).toContain('row-error');
    expect(refused.textContent).toContain('400');
    expect(screen.getByTestId('shown-count').textContent).toBe('4 exchanges');

    act(() => api.push(summary(5, { action: 'CleanUp' }), summary(6)));
    await waitFor(() => expect(rowsShown()).toEqual([1, 2, 3, 4, 5, 6]));
    expect(screen.getByTestId('shown-count').textContent).toBe('6 exchanges');
  });

  it('shows a contact-me (LocalDLS to the phone) with the phone\'s port, not a port 0 of ours', async () => {
    api.rows = [summary(7, { kind: 'contact-me', listener: 'contact-me', localPort: 0, peerPort: 8085, method: 'POST', path: '/contact_dls.html/ContactDLS', reason: null, action: null, httpStatus: 204, tlsProtocol: null, interactionId: null })];
    render(<App api={api} />);
    await waitFor(() => expect(rowsShown()).toEqual([7]));
    const port = document.querySelector('[data-id="7"] .c-port')!;
    expect(port.textContent).toMatch(/^→:8085 /);
    expect(port.textContent).not.toContain(':0');
  });

  it('tags a fragment in the reason only where the answer does not say it (GetNextFragment, or the Action column hidden)', async () => {
    const fragment = { reason: 'reply-to', replyAction: 'ReadAllItems', replyStatus: 'accepted', fragment: 'next' } as const;
    api.rows = [summary(8, { ...fragment, action: 'GetNextFragment' }), summary(9, { ...fragment, action: 'CleanUp' })];
    render(<App api={api} />);
    await waitFor(() => expect(rowsShown()).toEqual([8, 9]));
    const tags = (id: number) => [...document.querySelectorAll(`[data-id="${id}"] .c-what .tag`)].map((t) => t.textContent);
    expect(tags(8)).toEqual([]);
    expect(tags(9)).toEqual(['fragment']);
    // Without the Action column the reason is all the row says of it.
    fireEvent.click(screen.getByText('Columns'));
    fireEvent.click(screen.getByRole('checkbox', { name: 'Action' }));
    await waitFor(() => expect(tags(8)).toEqual(['fragment']));
    fireEvent.click(screen.getByRole('checkbox', { name: 'Action' }));
    await waitFor(() => expect(tags(8)).toEqual([]));
  });

  it('the Columns popover closes on Escape (the focus back on its button) and on a click elsewhere (helper-77: it stayed open over the list)', async () => {
    render(<App api={api} />);
    await waitFor(() => expect(rowsShown()).toHaveLength(4));
    const button = screen.getByText('Columns');
    fireEvent.click(button);
    await waitFor(() => expect(screen.queryByRole('checkbox', { name: 'Action' })).not.toBeNull());
    fireEvent.keyDown(screen.getByRole('checkbox', { name: 'Action' }), { key: 'Escape' });
    await waitFor(() => expect(screen.queryByRole('checkbox', { name: 'Action' })).toBeNull());
    expect(document.activeElement).toBe(button);
    fireEvent.click(button);
    await waitFor(() => expect(screen.queryByRole('checkbox', { name: 'Action' })).not.toBeNull());
    fireEvent.pointerDown(document.querySelector('[data-id]')!);
    await waitFor(() => expect(screen.queryByRole('checkbox', { name: 'Action' })).toBeNull());
  });

  it('a write whose reply refuses items says how many, in red, where a green "accepted" stood', async () => {
    const write = { reason: 'reply-to', replyAction: 'WriteItems', replyStatus: 'accepted', action: 'CleanUp' } as const;
    api.rows = [summary(10, { ...write, refusedItems: 2 }), summary(11, { ...write, refusedItems: 0 })];
    render(<App api={api} />);
    await waitFor(() => expect(rowsShown()).toEqual([10, 11]));
    const pill = (id: number) => document.querySelector<HTMLElement>(`[data-id="${id}"] .rs`)!;
    expect([pill(10).textContent, pill(10).className, pill(10).title]).toEqual(['2 refused', 'rs rs-bad', 'The reply says "accepted", but the phone refused 2 of the written items: see their statuses']);
    expect(document.querySelector('[data-id="10"]')!.className).toContain('row-failed');
    expect([pill(11).textContent, pill(11).className]).toEqual(['accepted', 'rs rs-ok']);
    expect(document.querySelector('[data-id="11"]')!.className).not.toContain('row-failed');
  });

  it('filters through the service and shows shown/total', async () => {
    render(<App api={api} />);
    await waitFor(() => expect(rowsShown()).toHaveLength(4));
    fireEvent.change(screen.getByLabelText('Reason'), { target: { value: 'reply-to' } });
    await waitFor(() => expect(rowsShown()).toEqual([2]));
    expect(screen.getByTestId('shown-count').textContent).toBe('1 of 4 exchanges');
    expect(api.calls.some((c) => c.method === 'listExchanges' && (c.args[0] as { reason?: string }).reason === 'reply-to')).toBe(true);

    fireEvent.click(screen.getByLabelText(/Errors only/));
    await waitFor(() => expect(rowsShown()).toEqual([]));
    expect(screen.getByText('No exchanges match the filter.')).toBeTruthy();
    fireEvent.click(screen.getByText('Reset'));
    await waitFor(() => expect(rowsShown()).toHaveLength(4));
  });

  it('while typing waits to be applied, the count says "Loading…", not the previous filter\'s numbers as the new one\'s; one load per filter', async () => {
    render(<App api={api} />);
    await waitFor(() => expect(screen.getByTestId('shown-count').textContent).toBe('4 exchanges'));
    fireEvent.change(screen.getByLabelText('Reason'), { target: { value: 'reply-to' } });
    // The debounce has not applied it yet: "4 of 4 exchanges" here read as the count of reply-to
    // (the partial-load e2e's poll took it, then found "Loading…" once the filter was applied).
    expect(screen.getByTestId('shown-count').textContent).toBe('Loading…');
    await waitFor(() => expect(screen.getByTestId('shown-count').textContent).toBe('1 of 4 exchanges'));
    const loads = api.calls.filter((c) => c.method === 'listExchanges' && (c.args[0] as { reason?: string }).reason === 'reply-to' && (c.args[1] as { counts?: boolean }).counts === true);
    expect(loads).toHaveLength(1);
    // A draft that filters as the filter applied does (a trailing space, free text too short to
    // apply) waits for nothing, and is not loaded again once typing stops: that reload dropped the
    // rows read and the place in them.
    const asked = () => api.calls.filter((c) => c.method === 'listExchanges').length;
    const before = asked();
    fireEvent.change(screen.getByLabelText('Reason'), { target: { value: 'reply-to ' } });
    expect(screen.getByTestId('shown-count').textContent).toBe('1 of 4 exchanges');
    fireEvent.change(screen.getByLabelText('Free text'), { target: { value: 'ab' } });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(asked()).toBe(before);
  });

  it('moves the selection with j/k and arrows, and shows the detail: pretty XML, items with reveal, chain', async () => {
    render(<App api={api} />);
    await waitFor(() => expect(rowsShown()).toHaveLength(4));
    const grid = screen.getByRole('grid', { name: 'Exchanges' });
    fireEvent.keyDown(grid, { key: 'j' });
    await waitFor(() => expect(document.querySelector('.xrow.focused')?.getAttribute('data-id')).toBe('1'));
    fireEvent.keyDown(grid, { key: 'ArrowDown' });
    fireEvent.keyDown(grid, { key: 'j' });
    fireEvent.keyDown(grid, { key: 'k' });
    await waitFor(() => expect(document.querySelector('.xrow.focused')?.getAttribute('data-id')).toBe('2'));

    const detail = await screen.findByTestId('detail');
    await waitFor(() => expect(within(detail).getAllByTestId('xml-pretty')).toHaveLength(2));
    const pretty = within(detail).getAllByTestId('xml-pretty')[0]!;
    expect(pretty.textContent).toContain('<Item name="e164">498972231001</Item>');
    expect(pretty.querySelector('.x-mask')?.textContent).toBe('••••••');

    fireEvent.click(within(detail).getAllByRole('tab', { name: 'Raw' })[0]!);
    expect(within(detail).getByTestId('xml-raw').textContent).toContain('<WorkpointMessage xmlns="http://www.siemens.com/DLS"><Message');

    fireEvent.click(within(detail).getByRole('tab', { name: /Items/ }));
    const table = detail.querySelector('table.itable')!;
    expect(table.textContent).toContain('function-key-def');
    expect(table.textContent).toContain('••••••');
    fireEvent.click(within(detail).getByRole('button', { name: 'Reveal' }));
    await waitFor(() => expect(table.textContent).toContain('secret-123456'));
    expect(api.calls.find((c) => c.method === 'revealExchangeItem')?.args).toEqual([2, 'request', 1]);

    fireEvent.click(within(detail).getByRole('tab', { name: /Interaction/ }));
    fireEvent.click(within(detail).getAllByRole('button', { name: /start-up/ })[0]!);
    await waitFor(() => expect(document.querySelector('.xrow.focused')?.getAttribute('data-id')).toBe('1'));
  });

  it('a browser that refuses to replace the address (Safari: over 100 times in 30 s) leaves the view working, only the address behind (helper-82: the page went blank)', async () => {
    const replace = window.history.replaceState;
    let calls = 0;
    window.history.replaceState = function (this: History, ...args: Parameters<History['replaceState']>) {
      if (++calls > 1) throw new DOMException('Attempt to use history.replaceState() more than 100 times per 30 seconds', 'SecurityError');
      return replace.apply(this, args);
    };
    try {
      render(<App api={api} />);
      await waitFor(() => expect(rowsShown()).toHaveLength(4));
      const grid = screen.getByRole('grid', { name: 'Exchanges' });
      fireEvent.keyDown(grid, { key: 'j' });
      await waitFor(() => expect(window.location.hash).toBe('#/traffic?focus=1'));
      fireEvent.keyDown(grid, { key: 'j' });
      fireEvent.keyDown(grid, { key: 'j' });
      await waitFor(() => expect(document.querySelector('.xrow.focused')?.getAttribute('data-id')).toBe('3'));
      await new Promise((r) => setTimeout(r, 50));
      expect(calls).toBeGreaterThan(1);
      expect(rowsShown()).toHaveLength(4);
      expect(window.location.hash).toBe('#/traffic?focus=1');
    } finally {
      window.history.replaceState = replace;
    }
  });

  it('exports the selection with secrets masked by the service', async () => {
    render(<App api={api} />);
    await waitFor(() => expect(rowsShown()).toHaveLength(4));
    const scroll = screen.getByTestId('exchange-scroll');
    fireEvent.mouseDown(scroll.querySelector('[data-id="1"]')!);
    fireEvent.mouseDown(scroll.querySelector('[data-id="2"]')!, { ctrlKey: true });
    const detail = await screen.findByTestId('detail');
    fireEvent.click(await within(detail).findByRole('button', { name: /Export HAR \(2\)/ }));
    await waitFor(() => expect(api.calls.find((c) => c.method === 'exportExchanges')?.args).toEqual([[1, 2], 'har']));
    await screen.findByText('Exported 2 exchanges as x.har (secrets masked)');
  });

  it('"Export shown" exports every row shown while one is selected to read it (it exported that one alone), the selection once there are two', async () => {
    render(<App api={api} />);
    await waitFor(() => expect(rowsShown()).toHaveLength(4));
    const scroll = screen.getByTestId('exchange-scroll');
    fireEvent.mouseDown(scroll.querySelector('[data-id="2"]')!);
    fireEvent.click(screen.getByRole('button', { name: 'Export shown' }));
    await waitFor(() => expect(api.calls.filter((c) => c.method === 'exportExchanges')).toHaveLength(1));
    const [ids, format] = api.calls.find((c) => c.method === 'exportExchanges')!.args as [number[], string];
    expect([[...ids].sort((a, b) => a - b), format]).toEqual([[1, 2, 3, 4], 'har']);
    fireEvent.mouseDown(scroll.querySelector('[data-id="3"]')!, { ctrlKey: true });
    fireEvent.click(screen.getByRole('button', { name: 'Export 2 selected' }));
    await waitFor(() => expect(api.calls.filter((c) => c.method === 'exportExchanges').at(-1)?.args).toEqual([[2, 3], 'har']));
  });

  it('says where a HAR export put the failed TLS handshakes (not entries: log._tlsErrors)', async () => {
    render(<App api={api} />);
    await waitFor(() => expect(rowsShown()).toHaveLength(4));
    const scroll = screen.getByTestId('exchange-scroll');
    fireEvent.mouseDown(scroll.querySelector('[data-id="2"]')!);
    fireEvent.mouseDown(scroll.querySelector('[data-id="3"]')!, { ctrlKey: true });
    const detail = await screen.findByTestId('detail');
    fireEvent.click(await within(detail).findByRole('button', { name: /Export HAR \(2\)/ }));
    await screen.findByText('Exported x.har: 1 exchange as HAR entries and 1 failed TLS handshake in log._tlsErrors (HAR has no place for it); secrets masked');
  });

  it('pauses and resumes without losing rows', async () => {
    render(<App api={api} />);
    await waitFor(() => expect(rowsShown()).toHaveLength(4));
    fireEvent.click(screen.getByRole('button', { name: /Pause/ }));
    act(() => api.push(summary(5)));
    await waitFor(() => expect(screen.getByRole('button', { name: /Resume \(1 new\)/ })).toBeTruthy());
    expect(rowsShown()).toHaveLength(4);
    fireEvent.click(screen.getByRole('button', { name: /Resume/ }));
    await waitFor(() => expect(rowsShown()).toHaveLength(5));
  });
});

describe('the splitter between the list and the detail', () => {
  const splitter = () => screen.getByRole('separator', { name: 'Resize the list' });
  const listFlex = () => document.querySelector<HTMLElement>('.split-top')!.style.flex;
  afterEach(() => localStorage.removeItem('localdls.traffic.listShare'));

  it('moves with the keys, is kept for the next start, and Enter puts it back', async () => {
    render(<App api={api} />);
    await waitFor(() => expect(rowsShown()).toEqual([1, 2, 3, 4]));
    expect([splitter().getAttribute('aria-valuenow'), listFlex()]).toEqual(['42', '0 0 42.0%']);
    fireEvent.keyDown(splitter(), { key: 'ArrowDown' });
    fireEvent.keyDown(splitter(), { key: 'ArrowDown' });
    expect([splitter().getAttribute('aria-valuenow'), listFlex(), localStorage.getItem('localdls.traffic.listShare')]).toEqual(['52', '0 0 52.0%', '0.52']);
    // The list's own keys do not move it, nor does it take theirs.
    fireEvent.keyDown(splitter(), { key: 'j' });
    expect(splitter().getAttribute('aria-valuenow')).toBe('52');
    cleanup();
    render(<App api={api} />);
    await waitFor(() => expect(rowsShown()).toEqual([1, 2, 3, 4]));
    expect(listFlex()).toBe('0 0 52.0%');
    fireEvent.keyDown(splitter(), { key: 'End' });
    expect(splitter().getAttribute('aria-valuenow')).toBe('85');
    fireEvent.keyDown(splitter(), { key: 'ArrowDown' });
    expect(splitter().getAttribute('aria-valuenow')).toBe('85');
    fireEvent.keyDown(splitter(), { key: 'Home' });
    expect(splitter().getAttribute('aria-valuenow')).toBe('15');
    fireEvent.keyDown(splitter(), { key: 'Enter' });
    expect([splitter().getAttribute('aria-valuenow'), localStorage.getItem('localdls.traffic.listShare')]).toEqual(['42', null]);
    fireEvent.keyDown(splitter(), { key: 'ArrowUp' });
    fireEvent.doubleClick(splitter());
    expect(splitter().getAttribute('aria-valuenow')).toBe('42');
  });

  it('a kept value that is no share (edited, or from elsewhere) is the default', async () => {
    for (const kept of ['abc', '2', '0.01', '-1', '']) {
      localStorage.setItem('localdls.traffic.listShare', kept);
      render(<App api={api} />);
      await waitFor(() => expect(rowsShown()).toEqual([1, 2, 3, 4]));
      expect(splitter().getAttribute('aria-valuenow'), kept).toBe('42');
      cleanup();
    }
  });
});

describe('devices view', () => {
  it('lists devices with the legacy TLS marker and opens a device page with grouped items', async () => {
    window.location.hash = '#/devices';
    render(<App api={api} />);
    const row = await screen.findByText('00:1A:E8:00:00:01');
    const tr = row.closest('tr')!;
    expect(tr.textContent).toContain('OpenStage 60');
    expect(tr.textContent).toContain('TLSv1');
    expect(within(tr).getByText('legacy')).toBeTruthy();

    act(() => {
      window.location.hash = '#/devices/00:1A:E8:00:00:01';
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    });
    await screen.findByText('2 indexed values');
    fireEvent.click(screen.getByText('2 indexed values'));
    expect(screen.getByText('forward')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Reveal' }));
    await screen.findByText('sip-secret');
    expect(api.calls.find((c) => c.method === 'revealDeviceItem')?.args).toEqual(['00:1A:E8:00:00:01', 'sip-pwd', null]);
  });
});

describe('setup and status bar', () => {
  it('shows listeners, the DLS address to enter and the option 43 hex', async () => {
    window.location.hash = '#/setup';
    render(<App api={api} />);
    expect(await screen.findByTestId('option43-hex')).toBeTruthy();
    expect(screen.getByTestId('option43-hex').textContent).toBe(
      `0107${hex('Siemens')}0319${hex('sdlp://192.168.2.19:18443')}`,
    );
    expect(document.querySelector('.statusbar')!.textContent).toContain('Default Mode 0.0.0.0:18443');
    expect(document.querySelector('.statusbar')!.textContent).toContain('TLS Modern');
    // Listening on every interface: nothing to warn about beside the address to enter.
    expect(screen.queryByTestId('phone-loopback')).toBeNull();
  });

  it('a service listening on loopback only says so beside the address to enter on the phone', async () => {
    api.status = { ...api.status, listeners: api.status.listeners.map((l) => ({ ...l, host: '127.0.0.1' })) };
    window.location.hash = '#/setup';
    render(<App api={api} />);
    expect((await screen.findByTestId('phone-loopback')).textContent).toBe('The service listens on 127.0.0.1 only: a phone set to 192.168.2.19 gets no answer until the service listens there too (start it with --host 0.0.0.0).');
  });
});
