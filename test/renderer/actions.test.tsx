/** The action screens against the fake API: item editor, confirmations, contact-me, jobs view, profiles, bootstrap wizard. */
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from '../../src/renderer/src/App';
import { ApiError, type BootstrapRun } from '../../src/shared/api';
import { DEVICE, device, FakeApi, job } from './fake-api';

const downloads: { filename: string; content: string }[] = [];
vi.mock('../../src/renderer/src/lib/download', () => ({
  downloadText: (filename: string, _mime: string, content: string) => downloads.push({ filename, content }),
  copyText: async () => undefined,
}));

let api: FakeApi;
const MAC = DEVICE.mac;
const B = '00:1A:E8:00:00:02';

beforeEach(() => {
  api = new FakeApi();
  downloads.length = 0;
});
afterEach(() => cleanup());

function show(hash: string) {
  window.location.hash = hash;
  return render(<App api={api} />);
}

function go(hash: string) {
  act(() => {
    window.location.hash = hash;
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  });
}

const calls = (method: string) => api.calls.filter((c) => c.method === method).map((c) => c.args);
/** Each message as "title | line | line". */
const toastTexts = () =>
  screen.queryAllByTestId('toast').map((t) => [t.querySelector('strong')!.textContent, ...[...t.querySelectorAll('li')].map((l) => l.textContent)].join(' | '));

async function openDialog(button: string) {
  fireEvent.click(await screen.findByRole('button', { name: button }));
  return screen.findByRole('dialog');
}

function type(input: HTMLElement, value: string) {
  fireEvent.focus(input);
  fireEvent.change(input, { target: { value } });
}

describe('item editor', () => {
  it('offers catalogue names while typing, shows the description and values, warns, splits name[i]=value, and queues the write', async () => {
    show(`#/devices/${MAC}`);
    const dialog = await openDialog('Write items…');
    expect(within(dialog).getByRole('heading').textContent).toBe(`Write items to ${MAC}`);
    const name1 = within(dialog).getByLabelText('Item 1 name') as HTMLInputElement;
    type(name1, 'sntp-a');
    const options = await within(dialog).findAllByRole('option');
    expect(options.map((o) => o.querySelector('.ac-name')!.textContent)).toEqual(['sntp-addr', 'sntp-addr-backup']);
    fireEvent.mouseDown(options[0]!);
    expect(name1.value).toBe('sntp-addr');
    expect(within(dialog).queryAllByRole('option')).toHaveLength(0);
    const info = within(dialog).getByTestId('item-info');
    expect(info.textContent).toContain('IP or DNS name, e.g. time.nist.gov');
    fireEvent.change(within(dialog).getByLabelText('Item 1 value'), { target: { value: 'ntp.example' } });

    fireEvent.click(within(dialog).getByRole('button', { name: '+ Add item' }));
    const name2 = within(dialog).getByLabelText('Item 2 name') as HTMLInputElement;
    type(name2, 'function-key-def');
    await waitFor(() => expect(info.textContent).toContain('This item is indexed: give an index'));
    expect(info.textContent).toContain('Function assigned to a free programmable key');
    // Typed or pasted as the CLI writes it.
    type(name2, 'function-key-def[3]=1');
    expect(name2.value).toBe('function-key-def');
    expect((within(dialog).getByLabelText('Item 2 index') as HTMLInputElement).value).toBe('3');
    expect((within(dialog).getByLabelText('Item 2 value') as HTMLInputElement).value).toBe('1');
    await waitFor(() => expect(info.textContent).not.toContain('give an index'));

    fireEvent.click(within(dialog).getByRole('button', { name: '+ Add item' }));
    const name3 = within(dialog).getByLabelText('Item 3 name');
    type(name3, 'made-up-item');
    await waitFor(() => expect(info.textContent).toContain('made-up-item is not in LocalDLS\'s item catalogue'));
    type(name3, 'bad name');
    expect(within(dialog).getByText('"bad name" is not an item name')).toBeTruthy();
    expect((within(dialog).getByRole('button', { name: /^Write 3 items/ }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Remove item 3' }));

    fireEvent.click(within(dialog).getByRole('button', { name: 'Write 2 items' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(calls('addJob')).toEqual([[[MAC], { kind: 'write', items: [{ name: 'sntp-addr', value: 'ntp.example' }, { name: 'function-key-def', index: 3, value: '1' }] }]]);
    await waitFor(() => expect(toastTexts().join()).toContain(`Write of 2 items queued for ${MAC}`));
    // The device page's job list shows the new job at once.
    await waitFor(() => expect(document.querySelector('.jobs-table tr.job-row')?.textContent).toContain('sntp-addr=ntp.example'));
  });

  it('picks a suggestion with the keyboard; Escape closes the list, not the dialog', async () => {
    show(`#/devices/${MAC}`);
    const dialog = await openDialog('Write items…');
    const name = within(dialog).getByLabelText('Item 1 name') as HTMLInputElement;
    type(name, 'sntp');
    await within(dialog).findAllByRole('option');
    fireEvent.keyDown(name, { key: 'ArrowDown' });
    const second = within(dialog).getAllByRole('option')[1]!;
    expect(second.getAttribute('aria-selected')).toBe('true');
    const picked = second.querySelector('.ac-name')!.textContent;
    fireEvent.keyDown(name, { key: 'Enter' });
    expect(name.value).toBe(picked);
    expect(screen.getByRole('dialog')).toBeTruthy();
    // A second row keeps the focus while the device changes behind the dialog.
    fireEvent.click(within(dialog).getByRole('button', { name: '+ Add item' }));
    const name2 = within(dialog).getByLabelText('Item 2 name');
    name2.focus();
    type(name2, 'sntp');
    act(() => api.pushDevices({ ...DEVICE, state: 'in-interaction' }));
    await screen.findByText('in interaction');
    expect(document.activeElement).toBe(name2);
    expect(within(dialog).getAllByRole('option').length).toBeGreaterThan(0);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Remove item 2' }));
    name.focus();
    type(name, 'sntp');
    await within(dialog).findAllByRole('option');
    fireEvent.keyDown(name, { key: 'Escape' });
    expect(within(dialog).queryAllByRole('option')).toHaveLength(0);
    expect(screen.getByRole('dialog')).toBeTruthy();
    fireEvent.keyDown(window, { key: 'Escape' });
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
  });

  it('keeps Write off while a row is invalid, and says why on the button', async () => {
    show(`#/devices/${MAC}`);
    const dialog = await openDialog('Write items…');
    const button = () => within(dialog).getByRole('button', { name: /^Write \d+ items?$/ }) as HTMLButtonElement;
    expect([button().disabled, button().title]).toEqual([true, 'Enter an item name first']);
    // An indexed item without its index, with a value: the phone would be sent nothing useful.
    type(within(dialog).getByLabelText('Item 1 name'), 'function-key-def');
    fireEvent.change(within(dialog).getByLabelText('Item 1 value'), { target: { value: '3' } });
    const problem = (await within(dialog).findByTestId('row-problem')).textContent!;
    expect(button().disabled).toBe(true);
    expect(button().title).toBe(`Row 1: ${problem}`);
    fireEvent.click(button());
    expect(calls('addJob')).toEqual([]);
    fireEvent.change(within(dialog).getByLabelText('Item 1 index'), { target: { value: '1' } });
    await waitFor(() => expect(button().disabled).toBe(false));
    expect(button().title).toBe('');
  });

  it('shows the service\'s refusal in its own words and keeps what was typed', async () => {
    show(`#/devices/${MAC}`);
    const dialog = await openDialog('Write items…');
    type(within(dialog).getByLabelText('Item 1 name'), 'sntp-addr');
    fireEvent.change(within(dialog).getByLabelText('Item 1 value'), { target: { value: 'x' } });
    api.failNext = new ApiError('not-found', `no device ${MAC}: a phone must contact the service once before it can get jobs`);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Write 1 item' }));
    expect((await within(dialog).findByRole('alert')).textContent).toBe(`no device ${MAC}: a phone must contact the service once before it can get jobs`);
    expect((within(dialog).getByLabelText('Item 1 value') as HTMLInputElement).value).toBe('x');
  });

  it('reads items: names and indexes only', async () => {
    show(`#/devices/${MAC}`);
    const dialog = await openDialog('Read items…');
    expect(within(dialog).queryByLabelText('Item 1 value')).toBeNull();
    type(within(dialog).getByLabelText('Item 1 name'), 'ldap-server-address');
    fireEvent.change(within(dialog).getByLabelText('Item 1 index'), { target: { value: '1' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Read 1 item' }));
    await waitFor(() => expect(calls('addJob')).toEqual([[[MAC], { kind: 'read', items: [{ name: 'ldap-server-address', index: 1 }] }]]));
  });
});

describe('devices view and its actions', () => {
  beforeEach(() => {
    api.devices = [
      DEVICE,
      device(2, { state: 'in-interaction', jobs: { queued: 1, sent: 1, waitingBusy: 0 } }),
      device(3, { jobs: { queued: 0, sent: 0, waitingBusy: 2 }, bootstrap: 'failed' }),
      device(4, { mode: 'secure', bootstrap: 'done' }),
      device(5, { bootstrap: 'pending' }),
    ];
  });

  it('shows mode, what each device is doing and its waiting jobs', async () => {
    show('#/devices');
    await screen.findByText(B);
    const row = (mac: string) => document.querySelector(`tr[data-mac="${mac}"]`)!;
    const states = (mac: string) => [...row(mac).querySelectorAll('.state')].map((s) => s.textContent);
    expect(states(MAC)).toEqual(['idle']);
    expect(states(B)).toEqual(['in interaction']);
    expect(states('00:1A:E8:00:00:03')).toEqual(['busy', 'bootstrap failed']);
    expect(states('00:1A:E8:00:00:05')).toEqual(['idle', 'bootstrap pending']);
    expect(row('00:1A:E8:00:00:04').querySelector('.mode')!.textContent).toBe('secure');
    expect(row(B).querySelector('.jobs-waiting')!.textContent).toBe('2 waiting');
    expect(row('00:1A:E8:00:00:03').querySelector('.jobs-waiting')!.textContent).toBe('2 waiting');
    expect(row(MAC).textContent).toContain('—');
    // A device's record changes live (its job was taken).
    act(() => api.pushDevices({ ...api.devices[1]!, state: 'idle', jobs: { queued: 0, sent: 0, waitingBusy: 0 } }));
    await waitFor(() => expect(states(B)).toEqual(['idle']));
  });

  it('acts on the selected devices only; factory reset asks first, naming them and saying what it does', async () => {
    show('#/devices');
    await screen.findByText(B);
    expect((screen.getByRole('button', { name: 'Factory reset…' }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(screen.getByLabelText(`Select ${MAC}`));
    fireEvent.click(screen.getByLabelText(`Select ${B}`));
    expect(screen.getByTestId('selected-count').textContent).toBe('2 selected');

    let dialog = await openDialog('Factory reset…');
    expect(within(dialog).getByRole('heading').textContent).toBe('Factory reset 2 devices?');
    expect(within(dialog).getByTestId('dialog-devices').textContent).toContain(`${MAC} 498972231001 · OpenStage 60`);
    expect(within(dialog).getByTestId('dialog-devices').textContent).toContain(B);
    expect(dialog.textContent).toContain('erases everything on each phone');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(calls('addJob')).toEqual([]);

    dialog = await openDialog('Factory reset…');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Factory reset 2 devices' }));
    await waitFor(() => expect(calls('addJob')).toEqual([[[MAC, B], { kind: 'factory-reset' }]]));
    await waitFor(() => expect(toastTexts().join()).toContain('Factory reset queued for 2 devices'));

    // A filter narrows what is acted on to the selected devices shown.
    fireEvent.change(screen.getByLabelText('Filter devices'), { target: { value: ':02' } });
    expect(screen.getByTestId('selected-count').textContent).toBe('1 selected');
    fireEvent.click(screen.getByRole('button', { name: 'Read all' }));
    await waitFor(() => expect(calls('addJob').at(-1)).toEqual([[B], { kind: 'read-all' }]));
  });

  it('a job the service did not queue again (the same waits already) is named in the toast, with the job that does it', async () => {
    const base = api.addJob.bind(api);
    api.addJob = async (macs, spec) => ({ ...(await base(macs.slice(1), spec)), same: [{ mac: macs[0]!, jobId: 7 }] });
    show('#/devices');
    await screen.findByText(B);
    fireEvent.click(screen.getByLabelText(`Select ${MAC}`));
    fireEvent.click(screen.getByLabelText(`Select ${B}`));
    fireEvent.click(screen.getByRole('button', { name: 'Read all' }));
    await waitFor(() => expect(toastTexts().join()).toContain(`${MAC}: the same job waits for the phone already (job 7): not queued again`));
  });

  it('contact now reports each phone, with the service\'s reason and the next time for a skipped one', async () => {
    api.contactResults = [
      { mac: MAC, ok: true },
      { mac: B, ok: false, skipped: 'contact gap: the phone ignores another contact-me until 2025-11-26T10:05:00.000Z', nextAt: Date.parse('2025-11-26T10:05:00.000Z') },
    ];
    show('#/devices');
    await screen.findByText(B);
    fireEvent.click(screen.getByLabelText('Select all shown devices'));
    fireEvent.click(screen.getByRole('button', { name: 'Contact now' }));
    await waitFor(() => expect(toastTexts()).toHaveLength(1));
    const text = toastTexts()[0]!;
    expect(text).toContain('Contact-me sent to 1 of 2 phones');
    expect(text).toContain(`${MAC}: contact-me answered, the phone will call`);
    expect(text).toContain(`${B}: not sent: contact gap: the phone ignores another contact-me until 2025-11-26T10:05:00.000Z (next at `);
    expect(calls('contactNow')).toEqual([[api.devices.map((d) => d.mac)]]);
  });

  it('applies a profile, and makes one', async () => {
    api.profiles = [{ name: 'site', deviceType: null, matchMac: null, matchE164: null, items: [{ name: 'sntp-addr', value: 'pool.ntp.org' }], created: 1, updated: 1 }];
    show(`#/devices/${MAC}`);
    let dialog = await openDialog('Apply profile…');
    await within(dialog).findByText('sntp-addr=pool.ntp.org');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Apply site' }));
    await waitFor(() => expect(calls('applyProfile')).toEqual([['site', [MAC]]]));
    await waitFor(() => expect(toastTexts().join()).toContain(`Profile site: 1 job queued | ${MAC}: job 100, 1 item differs`));

    dialog = await openDialog('Apply profile…');
    await within(dialog).findByText('sntp-addr=pool.ntp.org');
    fireEvent.click(within(dialog).getByRole('tab', { name: 'New or edit profile' }));
    fireEvent.change(within(dialog).getByLabelText('Profile name'), { target: { value: 'os60' } });
    fireEvent.change(within(dialog).getByLabelText('Device type'), { target: { value: 'OpenStage 60' } });
    type(within(dialog).getByLabelText('Item 1 name'), 'sntp-tz-offset');
    fireEvent.change(within(dialog).getByLabelText('Item 1 value'), { target: { value: '60' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save profile' }));
    await waitFor(() => expect(calls('setProfile')).toEqual([[{ name: 'os60', deviceType: 'OpenStage 60', matchMac: null, matchE164: null, items: [{ name: 'sntp-tz-offset', value: '60' }] }]]));
    expect(((await within(dialog).findByRole('combobox', { name: 'Profile' })) as HTMLSelectElement).value).toBe('os60');
  });

  it('checks a profile\'s rows by the write rules, but lets its masked secrets through (they keep the stored values)', async () => {
    api.profiles = [{ name: 'site', deviceType: null, matchMac: null, matchE164: null, items: [{ name: 'admin-pwd', value: '••••••' }], created: 1, updated: 1 }];
    show(`#/devices/${MAC}`);
    const dialog = await openDialog('Apply profile…');
    await within(dialog).findByText('admin-pwd=••••••');
    fireEvent.click(within(dialog).getByText('Edit…'));
    const save = within(dialog).getByRole('button', { name: 'Save profile' }) as HTMLButtonElement;
    await waitFor(() => expect((within(dialog).getByLabelText('Item 1 value') as HTMLInputElement).value).toBe('••••••'));
    expect(within(dialog).queryByTestId('row-problem')).toBeNull();
    expect(save.disabled).toBe(false);
    // An indexed item without its index: said on the row, and Save is off (the service refuses it too).
    fireEvent.click(within(dialog).getByRole('button', { name: '+ Add item' }));
    type(within(dialog).getByLabelText('Item 2 name'), 'function-key-def');
    fireEvent.change(within(dialog).getByLabelText('Item 2 value'), { target: { value: '5' } });
    expect((await within(dialog).findByTestId('row-problem')).textContent).toContain('function-key-def is indexed');
    expect(save.disabled).toBe(true);
  });

  it('deploys a file and firmware with the fields the service needs', async () => {
    show(`#/devices/${MAC}`);
    let dialog = await openDialog('Deploy…');
    fireEvent.change(within(dialog).getByLabelText('File URLs'), { target: { value: 'https://files.example/a.png\nhttps://files.example/b.png\n' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Deploy' }));
    await waitFor(() => expect(calls('addJob')).toEqual([[[MAC], { kind: 'file', fileType: 'LOGO', urls: ['https://files.example/a.png', 'https://files.example/b.png'] }]]));
    dialog = await openDialog('Deploy…');
    fireEvent.click(within(dialog).getByRole('tab', { name: 'Firmware' }));
    fireEvent.change(within(dialog).getByLabelText('Firmware version'), { target: { value: '3.5.12.0' } });
    fireEvent.change(within(dialog).getByLabelText('Firmware URL'), { target: { value: 'https://files.example/fw.img' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Deploy' }));
    await waitFor(() => expect(calls('addJob').at(-1)).toEqual([[MAC], { kind: 'firmware', version: '3.5.12.0', url: 'https://files.example/fw.img', priority: 'normal' }]));
  });
});

describe('jobs view', () => {
  beforeEach(() => {
    api.jobs = [
      job(1, { state: 'done', results: [], attempts: 1 }),
      job(2, { state: 'failed', error: 'the phone refused WriteItems (status failed)', items: [{ name: 'mac-addr', value: 'x' }, { name: 'e164', value: '1' }], results: [{ name: 'mac-addr', status: 'read only' }] }),
      job(3, { kind: 'ReadAllItems', items: [], mac: B }),
    ];
  });

  const shown = () => [...document.querySelectorAll<HTMLElement>('.jobs-table tr.job-row')].map((r) => Number(r.dataset.job));
  const stateOf = (id: number) => document.querySelector(`tr[data-job="${id}"] .jstate`);

  it('lists jobs newest first with coloured states and reasons, and keeps them current', async () => {
    show('#/jobs');
    await waitFor(() => expect(shown()).toEqual([3, 2, 1]));
    expect(stateOf(1)!.className).toContain('jstate-done');
    expect(stateOf(2)!.className).toContain('jstate-failed');
    expect(document.querySelector('tr[data-job="2"]')!.textContent).toContain('the phone refused WriteItems (status failed)');
    expect(document.querySelector('tr[data-job="2"]')!.textContent).toContain('1 item refused');
    expect(screen.getByTestId('job-count').textContent).toBe('3 jobs');

    // Opened: every item with the phone's status.
    fireEvent.click(document.querySelector('tr[data-job="2"]')!);
    const detail = document.querySelector('.job-detail')!;
    expect(detail.textContent).toContain('Whythe phone refused WriteItems (status failed)');
    const statuses = [...detail.querySelectorAll('.job-items tbody tr')].map((r) => r.textContent);
    expect(statuses).toEqual(['mac-addrxread only', 'e1641—']);

    // Live: a job moves, a new one appears at the top.
    act(() => api.pushJobs({ ...api.jobs[2]!, state: 'sent', attempts: 1 }, job(4, { kind: 'Restart', items: [] })));
    await waitFor(() => expect(shown()).toEqual([4, 3, 2, 1]));
    expect(stateOf(3)!.textContent).toBe('sent');
  });

  it('a waiting job shows what it does and, below, why it waits (helper-77: the note hid the items)', async () => {
    api.jobs = [job(4, { state: 'queued', error: 'contact-me sent at 2026-12-06T00:13:22Z; waiting for the phone to call back (the next contact-me goes at 2026-12-06T00:18:22Z: a phone ignores one within its contact gap)', items: [{ name: 'sntp-addr', value: 'pool.ntp.org' }] })];
    show('#/jobs');
    await waitFor(() => expect(shown()).toEqual([4]));
    const cell = document.querySelector('tr[data-job="4"] td.details')!;
    expect(cell.querySelector('.mono')!.textContent).toBe('sntp-addr=pool.ntp.org');
    expect(cell.querySelector('.job-note')!.textContent).toMatch(/^contact-me sent at .*; waiting for the phone to call back/);
  });

  it('a write failed because the phone refused some items: the others show as accepted (the phone names only its problems)', async () => {
    api.jobs = [job(5, { state: 'failed', error: 'the phone refused 1 item: mac-addr: read only', items: [{ name: 'mac-addr', value: 'x' }, { name: 'e164', value: '1' }], results: [{ name: 'mac-addr', status: 'read only' }] })];
    show('#/jobs');
    await waitFor(() => expect(shown()).toEqual([5]));
    fireEvent.click(document.querySelector('tr[data-job="5"]')!);
    const statuses = [...document.querySelectorAll('.job-detail .job-items tbody tr')].map((r) => r.textContent);
    expect(statuses).toEqual(['mac-addrxread only', 'e1641accepted']);
    // The row says the refusal once: the note names it, so no "1 item refused" badge beside it.
    const row = document.querySelector('tr[data-job="5"] td.details')!;
    expect(row.textContent).toBe('the phone refused 1 item: mac-addr: read only');
    expect(row.querySelector('.badge')).toBeNull();
  });

  it('a bootstrap refused in part was not taken at all: its other items show no "accepted"', async () => {
    api.jobs = [job(6, { kind: 'Bootstrap', state: 'failed', error: 'the phone refused 1 item: dls-client-certificate: invalid data', items: [{ name: 'goto-secure-mode', value: 'nopin' }, { name: 'dls-client-certificate', value: '••••••' }], results: [{ name: 'dls-client-certificate', status: 'invalid data' }] })];
    show('#/jobs');
    await waitFor(() => expect(shown()).toEqual([6]));
    fireEvent.click(document.querySelector('tr[data-job="6"]')!);
    const statuses = [...document.querySelectorAll('.job-detail .job-items tbody tr')].map((r) => r.textContent);
    expect(statuses.find((t) => t!.startsWith('goto-secure-mode'))).toMatch(/—$/);
  });

  it('filters by state, kind and device through the service', async () => {
    show('#/jobs');
    await waitFor(() => expect(shown()).toHaveLength(3));
    fireEvent.change(screen.getByLabelText('State'), { target: { value: 'waiting' } });
    await waitFor(() => expect(shown()).toEqual([3]));
    expect(calls('listJobs').at(-1)).toEqual([{ limit: 500, states: ['queued', 'sent', 'waiting-busy'] }]);
    // A job that stops waiting leaves the filtered list.
    act(() => api.pushJobs({ ...api.jobs[2]!, state: 'done' }));
    await waitFor(() => expect(shown()).toEqual([]));
    expect(screen.getByText('No jobs match the filter.')).toBeTruthy();
    fireEvent.change(screen.getByLabelText('State'), { target: { value: '' } });
    fireEvent.change(screen.getByLabelText('Kind'), { target: { value: 'WriteItems' } });
    await waitFor(() => expect(shown()).toEqual([2, 1]));
    fireEvent.change(screen.getByLabelText('Device'), { target: { value: '00:1A:E8' } });
    expect(screen.getByText(/Type a whole MAC address/)).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Device'), { target: { value: '00-1a-e8-00-00-02' } });
    await waitFor(() => expect(calls('listJobs').at(-1)).toEqual([{ limit: 500, kinds: ['WriteItems'], mac: B }]));
    await waitFor(() => expect(shown()).toEqual([]));
  });

  it('cancels a waiting job, and says so when the service refuses', async () => {
    api.jobs.push(job(4, { state: 'waiting-busy', error: 'the phone is in a call' }));
    show('#/jobs');
    await waitFor(() => expect(shown()).toHaveLength(4));
    expect([...document.querySelectorAll('.jobs-table button')].filter((b) => !b.classList.contains('caret-button'))).toHaveLength(2);
    // Asked first: kept, nothing is sent; then cancelled.
    fireEvent.click(within(document.querySelector('tr[data-job="4"]') as HTMLElement).getByRole('button', { name: 'Cancel…' }));
    const ask = await screen.findByRole('dialog', { name: 'Cancel job #4?' });
    expect(ask.textContent).toContain('it is not sent to the phone, and cannot be taken back');
    fireEvent.click(within(ask).getByRole('button', { name: 'Keep it' }));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(calls('cancelJob')).toEqual([]);
    fireEvent.click(within(document.querySelector('tr[data-job="4"]') as HTMLElement).getByRole('button', { name: 'Cancel…' }));
    fireEvent.click(within(await screen.findByRole('dialog', { name: 'Cancel job #4?' })).getByRole('button', { name: 'Cancel job' }));
    await waitFor(() => expect(stateOf(4)!.textContent).toBe('cancelled'));
    // What the cancel does depends on the job: a sent one went out already; a renewal leaves the phone its certificate.
    api.jobs.push(job(5, { kind: 'Restart', state: 'sent' }), job(6, { kind: 'Bootstrap', state: 'queued', source: 'bootstrap:renew' }));
    show('#/jobs');
    for (const [id, says] of [[5, 'it went to the phone already'], [6, 'the phone keeps the certificate it has']] as const) {
      await waitFor(() => expect(document.querySelector(`tr[data-job="${id}"]`)).toBeTruthy());
      fireEvent.click(within(document.querySelector(`tr[data-job="${id}"]`) as HTMLElement).getByRole('button', { name: 'Cancel…' }));
      const dialog = await screen.findByRole('dialog', { name: `Cancel job #${id}?` });
      expect(dialog.textContent).toContain(says);
      fireEvent.click(within(dialog).getByRole('button', { name: 'Keep it' }));
    }
    expect(calls('cancelJob')).toEqual([[4]]);
    expect(calls('cancelJob')).toEqual([[4]]);
    await waitFor(() => expect(toastTexts().join()).toContain('Job 4 cancelled'));
    api.failNext = new ApiError('conflict', 'job 3 is done: only queued, sent or waiting-busy jobs can be cancelled');
    fireEvent.click(within(document.querySelector('tr[data-job="3"]') as HTMLElement).getByRole('button', { name: 'Cancel…' }));
    fireEvent.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Cancel job' }));
    await waitFor(() => expect(toastTexts().join()).toContain('Job 3 not cancelled | job 3 is done: only queued, sent or waiting-busy jobs can be cancelled'));
  });
});

describe('bootstrap wizard', () => {
  it('says why Secure Mode is off and what to do, and cannot start', async () => {
    api.secure = { on: false, reason: 'no key passphrase: the private keys of Secure Mode (in /data/pki, made when it is first on) are encrypted with a passphrase. Set LOCALDLS_KEY_PASSPHRASE to the passphrase.', securePort: null, ca: null, protector: null, keyPool: null };
    show(`#/bootstrap?macs=${MAC}`);
    const off = await screen.findByTestId('secure-off');
    expect(off.textContent).toContain('Secure Mode is off');
    expect(off.textContent).toContain('Why: no key passphrase: the private keys of Secure Mode (in /data/pki, made when it is first on) are encrypted');
    expect(off.textContent).toContain('LOCALDLS_KEY_PASSPHRASE=… localdls serve --ui');
    expect((screen.getByRole('button', { name: 'Bootstrap 1 device' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('relaying: says why (the DLS keeps its phones\' Secure Mode) and to turn relay mode off, not to set a passphrase (helper-61)', async () => {
    api.secure = { on: false, reason: 'Secure Mode cannot be relayed (LocalDLS relays to https://dls.site:18443).', relaying: 'https://dls.site:18443', securePort: null, ca: null, protector: null, keyPool: null };
    show(`#/bootstrap?macs=${MAC}`);
    const off = await screen.findByTestId('secure-off');
    expect(off.textContent).toContain('LocalDLS relays to https://dls.site:18443: phones in Secure Mode trust only their DLS\'s CA');
    expect(off.textContent).toContain('localdls serve --no-upstream');
    expect(off.textContent).not.toContain('LOCALDLS_KEY_PASSPHRASE=');
  });

  it('preselects the devices, lists Default-Mode ones, starts with generated PINs and follows each phone to secure or failed', async () => {
    api.devices = [DEVICE, device(2), device(3, { mode: 'secure' }), device(4, { bootstrap: 'pending' })];
    show(`#/bootstrap?macs=${MAC},00:1A:E8:00:00:03`);
    await screen.findByTestId('secure-on');
    expect(screen.getByTestId('secure-on').textContent).toContain('port 18444');
    expect(screen.getByTestId('key-pool').textContent).toBe('Key pool: 3 of 64 device keys ready: filling while the service is idle (each key made ahead is sealed and used for one phone only)');
    await screen.findByLabelText(`Choose ${MAC}`);
    expect((screen.getByLabelText(`Choose ${MAC}`) as HTMLInputElement).checked).toBe(true);
    expect((screen.getByLabelText(`Choose ${B}`) as HTMLInputElement).checked).toBe(false);
    expect((screen.getByLabelText('Choose 00:1A:E8:00:00:04') as HTMLInputElement).disabled).toBe(true);
    expect(screen.queryByLabelText('Choose 00:1A:E8:00:00:03')).toBeNull();
    expect(screen.getByText('1 selected device is already in Secure Mode: not listed.')).toBeTruthy();
    fireEvent.click(screen.getByLabelText(`Choose ${B}`));
    fireEvent.change(screen.getByLabelText('PIN digits'), { target: { value: '10' } });
    fireEvent.click(screen.getByRole('button', { name: 'Bootstrap 2 devices' }));
    await waitFor(() => expect(calls('startBootstrap')).toEqual([[[MAC, B], { pin: 'auto', maxPinRetries: 3, pinDigits: 10 }]]));
    await waitFor(() => expect(window.location.hash).toBe('#/bootstrap?run=run1'));
    const run = await screen.findByTestId('bootstrap-run');
    expect(within(run).getByTestId('run-progress').textContent).toBe('prepared 0/2 · 0 secure');
    const stateOf = (mac: string) => run.querySelector(`tr[data-mac="${mac}"] [data-testid="bootstrap-state"]`)!.textContent;
    expect(stateOf(MAC)).toBe('preparing its certificate…');
    expect((within(run).getByRole('button', { name: 'Save CSV' }) as HTMLButtonElement).disabled).toBe(true);

    const base = api.runs.get('run1')!;
    const moved = (devices: Partial<BootstrapRun['devices'][number]>[], over: Partial<BootstrapRun> = {}): BootstrapRun => ({
      ...base, ...over, devices: base.devices.map((d, i) => ({ ...d, ...devices[i] })),
    });
    act(() => api.pushBootstrap(moved([{ state: 'pending', jobState: 'queued', jobId: 7, hasPin: true }, { state: 'pending', jobState: 'sent', jobId: 8, hasPin: true }], { prepared: 2, pinsAvailable: true })));
    await waitFor(() => expect(within(run).getByTestId('run-progress').textContent).toBe('prepared 2/2 · 0 secure'));
    // What happened to contact-me, as it is: not sent yet, sent and awaited, answered, failed.
    expect(stateOf(MAC)).toBe('queued: waiting for the phone to call (no contact-me sent yet)');
    act(() => api.pushDevices({ ...DEVICE, lastContactMe: base.started + 1000, lastContactMeOutcome: 'sent' }));
    await waitFor(() => expect(stateOf(MAC)).toMatch(/^queued: contact-me sent at \d\d:\d\d:\d\d, waiting for the phone's answer$/));
    act(() => api.pushDevices({ ...DEVICE, lastContactMe: base.started + 1000, lastContactMeOutcome: 'answered' }));
    await waitFor(() => expect(stateOf(MAC)).toMatch(/^queued: contact-me sent at \d\d:\d\d:\d\d, the phone answered; waiting for it to call$/));
    act(() => api.pushDevices({ ...DEVICE, lastContactMe: base.started + 1000, contactFailures: 2, lastContactError: 'connect ECONNREFUSED 192.0.2.10:8085' }));
    await waitFor(() => expect(stateOf(MAC)).toBe('queued: contact-me failed 2 times, last: connect ECONNREFUSED 192.0.2.10:8085; the phone gets its job when it calls'));
    act(() => api.pushBootstrap(moved([{ state: 'pending', jobState: 'queued', jobId: 7, hasPin: true, error: 'contact-me failed 3 of 5 times, last: timed out' }, { state: 'pending', jobState: 'sent', jobId: 8, hasPin: true }], { prepared: 2, pinsAvailable: true })));
    await waitFor(() => expect(stateOf(MAC)).toBe('queued: contact-me failed 3 of 5 times, last: timed out'));
    expect(stateOf(B)).toBe('the phone has its credentials: type the PIN on the phone');
    expect(run.querySelectorAll('.x-mask')).toHaveLength(2);

    // The sheet: saved through the service, shown only in the print view.
    fireEvent.click(within(run).getByRole('button', { name: 'Save CSV' }));
    await waitFor(() => expect(downloads.map((d) => d.filename)).toEqual(['localdls-pins.csv']));
    expect(calls('bootstrapPinSheet')).toEqual([['run1', 'csv']]);
    expect(document.body.textContent).not.toContain('12345670');
    fireEvent.click(within(run).getByRole('button', { name: /Show & print PIN sheet/ }));
    const sheet = await screen.findByTestId('pin-sheet');
    expect(sheet.textContent).toContain(`${MAC}49897223100112345670`);
    fireEvent.click(within(sheet).getByRole('button', { name: 'Close' }));
    expect(document.body.textContent).not.toContain('12345670');

    act(() => api.pushBootstrap(moved([{ state: 'secure', jobState: 'done', jobId: 7, hasPin: true }, { state: 'failed', jobState: 'failed', jobId: 8, hasPin: true, error: 'the phone gave up: password retries exceeded' }], { prepared: 2, finished: true, pinsAvailable: false })));
    await waitFor(() => expect(stateOf(MAC)).toBe('secure'));
    expect(stateOf(B)).toBe('failed: the phone gave up: password retries exceeded');
    expect(run.textContent).toContain('1 of 2 phones are secure; 1 failed');
    expect(run.textContent).toContain('The PINs are forgotten');
    expect((within(run).getByRole('button', { name: 'Save CSV' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('cancels a run only after asking, then shows it cancelled with each phone\'s state', async () => {
    api.devices = [DEVICE, device(2)];
    show(`#/bootstrap?macs=${MAC},${B}`);
    await screen.findByTestId('secure-on');
    fireEvent.click(await screen.findByRole('button', { name: 'Bootstrap 2 devices' }));
    const run = await screen.findByTestId('bootstrap-run');
    expect(within(run).getByTestId('pins-note').textContent).toBe('The PIN sheet is ready once every phone is prepared (0 of 2 so far).');
    fireEvent.click(within(run).getByRole('button', { name: 'Cancel run…' }));
    const dialog = await screen.findByRole('dialog', { name: 'Cancel this bootstrap run?' });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Keep running' }));
    expect(calls('cancelBootstrapRun')).toEqual([]);
    fireEvent.click(within(run).getByRole('button', { name: 'Cancel run…' }));
    fireEvent.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Cancel run' }));
    await waitFor(() => expect(calls('cancelBootstrapRun')).toEqual([['run1']]));
    await waitFor(() => expect(run.querySelector('h2')!.textContent).toMatch(/^Bootstrap cancelled/));
    expect(within(run).getByTestId('run-cancelled').textContent).toMatch(/\(cancelled from the run view\): 0 secure, 0 failed, 2 cancelled/);
    expect(within(run).queryByRole('button', { name: 'Cancel run…' })).toBeNull();
    expect(run.querySelector(`tr[data-mac="${B}"] [data-testid="bootstrap-state"]`)!.textContent).toBe('cancelled: not prepared: the bootstrap run was cancelled');
  });

  it('a new bootstrap after a run starts with no phones chosen, not the previous run\'s', async () => {
    api.devices = [DEVICE, device(2)];
    show('#/bootstrap');
    await screen.findByTestId('secure-on');
    fireEvent.click(await screen.findByLabelText(`Choose ${MAC}`));
    fireEvent.click(screen.getByLabelText(`Choose ${B}`));
    fireEvent.click(screen.getByRole('button', { name: 'Bootstrap 2 devices' }));
    const run = await screen.findByTestId('bootstrap-run');
    fireEvent.click(within(run).getByRole('button', { name: 'New bootstrap…' }));
    await screen.findByLabelText(`Choose ${MAC}`);
    expect((screen.getByLabelText(`Choose ${MAC}`) as HTMLInputElement).checked).toBe(false);
    expect((screen.getByLabelText(`Choose ${B}`) as HTMLInputElement).checked).toBe(false);
    expect((screen.getByRole('button', { name: 'Bootstrap devices' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('one given PIN is for one phone; without PIN there is no sheet; the service\'s refusal is shown', async () => {
    api.devices = [DEVICE, device(2)];
    show(`#/bootstrap?macs=${MAC},${B}`);
    await screen.findByTestId('secure-on');
    await screen.findByLabelText(`Choose ${B}`);
    fireEvent.click(screen.getByRole('radio', { name: /This PIN/ }));
    fireEvent.change(screen.getByLabelText('The PIN'), { target: { value: '12ab345678' } });
    expect((screen.getByLabelText('The PIN') as HTMLInputElement).value).toBe('12345678');
    expect(screen.getByText('One PIN is for one phone only: choose generated PINs for several phones.')).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Bootstrap 2 devices' }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(screen.getByLabelText(`Choose ${B}`));
    fireEvent.click(screen.getByRole('button', { name: 'Bootstrap 1 device' }));
    await waitFor(() => expect(calls('startBootstrap')).toEqual([[[MAC], { pin: '12345678', maxPinRetries: 3 }]]));
    // The PIN typed is not kept in the form.
    go(`#/bootstrap?macs=${MAC}`);
    await screen.findByLabelText(`Choose ${MAC}`);
    fireEvent.click(screen.getByRole('radio', { name: /No PIN/ }));
    expect(screen.queryByLabelText('Max PIN retries')).toBeNull();
    api.failNext = new ApiError('conflict', `${MAC} has a bootstrap under way (job 7, queued): cancel that job first to start again`);
    fireEvent.click(screen.getByRole('button', { name: 'Bootstrap 1 device' }));
    expect((await screen.findByRole('alert')).textContent).toBe(`${MAC} has a bootstrap under way (job 7, queued): cancel that job first to start again`);
  });

  it('opens from the devices view with the selection', async () => {
    api.devices = [DEVICE, device(2)];
    show('#/devices');
    await screen.findByText(B);
    fireEvent.click(screen.getByLabelText(`Select ${B}`));
    fireEvent.click(screen.getByRole('button', { name: 'Bootstrap…' }));
    await waitFor(() => expect(window.location.hash).toBe(`#/bootstrap?macs=${encodeURIComponent(B)}`));
    await waitFor(() => expect((screen.getByLabelText(`Choose ${B}`) as HTMLInputElement).checked).toBe(true));
    expect((screen.getByLabelText(`Choose ${MAC}`) as HTMLInputElement).checked).toBe(false);
  });
});

describe('after a lost connection', () => {
  it('loads the devices and jobs again (events sent meanwhile are lost)', async () => {
    let notify: ((state: 'open' | 'closed' | 'connecting' | 'refused', detail: string | null) => void) | null = null;
    window.location.hash = '#/jobs';
    render(<App api={api} onConnection={(l) => ((notify = l), () => undefined)} />);
    // The jobs view's loads (the navigation's waiting-jobs count asks for one row).
    const viewLoads = () => calls('listJobs').filter(([f]) => (f as { limit?: number }).limit !== 1);
    await waitFor(() => expect(viewLoads()).toHaveLength(1));
    api.jobs = [job(9, { state: 'done' })];
    act(() => notify!('closed', null));
    act(() => notify!('open', null));
    await waitFor(() => expect(document.querySelector('tr[data-job="9"]')).not.toBeNull());
    expect(viewLoads()).toHaveLength(2);
    // The navigation's counts were loaded again too.
    expect(calls('listJobs').length - viewLoads().length).toBe(2);
  });
});
