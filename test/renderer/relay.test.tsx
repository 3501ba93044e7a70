/** Relay mode in the UI against the fake API: the banner, the upstream tab, the Setup page's setting. */
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiArgumentError, type UpstreamView } from '../../src/shared/api';
import { App } from '../../src/renderer/src/App';
import { setLanguage } from '../../src/renderer/src/i18n';
import { device, FakeApi, summary } from './fake-api';

const FP = 'A8:63:25:DD:12:F6:C5:C8:98:6C:FE:90:E3:0E:51:D8:7B:EE:F4:77:6C:CB:59:F9:D4:DB:B2:53:AA:55:62:00';
const UPSTREAM: UpstreamView = {
  url: 'https://10.1.2.3:18443', started: 1000, connected: 1012, firstByte: 1030, ended: 1034, httpStatus: 200, reused: false,
  tlsProtocol: 'TLSv1.2', tlsCipher: 'ECDHE-RSA-AES256-GCM-SHA384', fingerprint: FP, subject: 'CN=dls.site', trustedBy: 'fingerprint', failure: null, error: null,
  requestHeaders: [['Content-Type', 'text/xml'], ['Host', '10.1.2.3:18443'], ['Content-Length', '512'], ['Connection', 'keep-alive']],
  responseHeaders: [['Content-Type', 'text/xml;charset=UTF-8'], ['Set-Cookie', 'JSESSIONID=AB12; Path=/DeploymentService'], ['Content-Length', '900'], ['Connection', 'keep-alive']],
  headersRecorded: true,
};

let api: FakeApi;

beforeEach(() => {
  api = new FakeApi();
  api.rows = [summary(1)];
  const base = api.getExchange.bind(api);
  api.getExchange = async (id) => ({ ...(await base(id)), upstream: UPSTREAM });
});

afterEach(() => cleanup());

describe('relay mode in the UI', () => {
  it('shows no banner when LocalDLS answers phones itself', async () => {
    window.location.hash = '#/traffic';
    render(<App api={api} />);
    await screen.findByRole('grid', { name: 'Exchanges' });
    expect(screen.queryByTestId('relay-banner')).toBeNull();
  });

  it('says on every view that it relays, to where, and that Secure-Mode phones cannot be relayed', async () => {
    window.location.hash = '#/devices';
    api.status = { ...api.status, relay: { upstream: 'https://10.1.2.3:18443', ca: false, fingerprints: [] }, listeners: [...api.status.listeners, { kind: 'secure', host: '0.0.0.0', port: 18444, tlsProfile: 'mutual TLS', state: 'listening', error: null }] };
    render(<App api={api} />);
    const banner = await screen.findByTestId('relay-banner');
    expect(banner.textContent).toMatch(/Relay mode.*https:\/\/10\.1\.2\.3:18443.*answer comes back unchanged/);
    expect(banner.textContent).toMatch(/refused until you accept it/);
    expect(banner.textContent).toMatch(/Secure-Mode phones cannot be relayed/);
    // One line, the rest on a click; a certificate nothing accepts yet is said in that line.
    expect(banner.querySelector('details')!.open).toBe(false);
    expect(banner.querySelector('summary')!.textContent).toMatch(/^Relay mode: every phone request goes to https:\/\/10\.1\.2\.3:18443; LocalDLS records both sides\. .*refused until you accept it/);
    // The secure port listens only to record the refused attempts: amber in the status bar, and said.
    await waitFor(() => expect(screen.getByTestId('dot-secure').className).toContain('dot-records-only'));
    expect(screen.getByTestId('secure-records-only').textContent).toBe(' · not relayed: attempts recorded');
  });

  const upstreamTab = async (u: Partial<UpstreamView>, row: Parameters<typeof summary>[1] = {}) => {
    const base = new FakeApi();
    base.rows = [summary(1, row)];
    api.getExchange = async (id) => ({ ...(await base.getExchange(id)), upstream: { ...UPSTREAM, ...u } });
    window.location.hash = '#/traffic';
    render(<App api={api} />);
    await waitFor(() => expect(document.querySelector('.xrow[data-id="1"]')).toBeTruthy());
    fireEvent.keyDown(screen.getByRole('grid', { name: 'Exchanges' }), { key: 'j' });
    const detail = await screen.findByTestId('detail');
    fireEvent.click(await within(detail).findByRole('tab', { name: 'Upstream' }));
    return within(detail).getByTestId('upstream-panel').textContent;
  };

  it('shows the upstream side of a relayed exchange on its own tab', async () => {
    const text = await upstreamTab({});
    expect(text).toContain('https://10.1.2.3:18443');
    expect(text).toContain(FP);
    expect(text).toContain('its fingerprint');
    expect(text).toContain('TLSv1.2');
  });

  it('an upstream never reached says no connection was made, not "reused" (helper-61), and nothing about accepting its certificate', async () => {
    const text = await upstreamTab({ connected: null, firstByte: null, httpStatus: null, reused: false, tlsProtocol: null, tlsCipher: null, fingerprint: null, subject: null, trustedBy: null, failure: 'unreachable', error: 'ECONNREFUSED' });
    expect(text).toContain('TLS connection: none made');
    expect(text).not.toContain('reused');
    expect(text).not.toContain('not accepted');
  });

  it('an upstream whose certificate was refused: the handshake was made and nothing sent, not "none made" beside its TLS version (helper-81)', async () => {
    const text = await upstreamTab({ connected: null, firstByte: null, httpStatus: null, reused: false, trustedBy: null, failure: 'certificate', error: 'its certificate is unknown' });
    expect(text).toContain('TLS connection: handshake done, then closed unused: its certificate was not accepted');
    expect(text).not.toContain('none made');
    expect(text).toContain('TLSv1.2');
    expect(text).toContain('not accepted');
  });

  it('a phone answered 502 because the upstream failed is not said to be refused (helper-81)', async () => {
    const failed = { httpStatus: 502, error: 'the upstream https://10.1.2.3:18443 is unreachable: ECONNREFUSED' };
    await upstreamTab({ connected: null, firstByte: null, httpStatus: null, tlsProtocol: null, tlsCipher: null, fingerprint: null, subject: null, trustedBy: null, failure: 'unreachable', error: 'ECONNREFUSED' }, failed);
    const note = within(screen.getByTestId('detail')).getByText(/is unreachable: ECONNREFUSED/);
    expect(note.textContent).toBe('The upstream failed: the upstream https://10.1.2.3:18443 is unreachable: ECONNREFUSED');
  });

  it('relaying, the device actions are off and say why, before a click (helper-81: each refused only after one)', async () => {
    window.location.hash = '#/devices';
    api.status = { ...api.status, relay: { upstream: 'https://10.1.2.3:18443', ca: false, fingerprints: [] } };
    api.devices = [device(1)];
    render(<App api={api} />);
    expect((await screen.findByTestId('actions-relaying')).textContent).toBe('Relaying to https://10.1.2.3:18443: that DLS sends the jobs, so they are given there, not here.');
    // With a phone selected, as otherwise each would be on.
    fireEvent.click(await screen.findByLabelText(`Select ${device(1).mac}`));
    expect(screen.getByTestId('selected-count').textContent).toBe('1 selected');
    const buttons = within(screen.getByRole('toolbar', { name: 'Device actions' })).getAllByRole('button');
    expect(buttons.length).toBeGreaterThan(5);
    expect(buttons.filter((b) => !(b as HTMLButtonElement).disabled)).toEqual([]);
  });

  it("relaying, a phone's overrides say they are kept and not applied (helper-81: accepted without a word)", async () => {
    api.status = { ...api.status, relay: { upstream: 'https://10.1.2.3:18443', ca: false, fingerprints: [] } };
    api.devices = [device(1)];
    window.location.hash = `#/devices/${encodeURIComponent(device(1).mac)}`;
    render(<App api={api} />);
    expect((await screen.findByTestId('overrides-relaying')).textContent).toBe('LocalDLS relays to https://10.1.2.3:18443 now: overrides are kept, and applied only when it answers phones itself.');
  });

  it("shows the headers sent to the upstream and those it answered with, apart from the phone's", async () => {
    const panel = await upstreamTab({});
    expect(panel).toContain('Request headers sent to the upstreamContent-Type: text/xmlHost: 10.1.2.3:18443Content-Length: 512Connection: keep-alive');
    expect(panel).toContain('Response headers from the upstreamContent-Type: text/xml;charset=UTF-8Set-Cookie: JSESSIONID=AB12; Path=/DeploymentServiceContent-Length: 900Connection: keep-alive');
  });

  it('an upstream never reached says nothing was sent and no answer came; a row from before the record says not recorded', async () => {
    const failed = await upstreamTab({ connected: null, firstByte: null, httpStatus: null, tlsProtocol: null, tlsCipher: null, fingerprint: null, subject: null, trustedBy: null, failure: 'unreachable', error: 'ECONNREFUSED', requestHeaders: null, responseHeaders: null });
    expect(failed).toContain('Request headers sent to the upstreamNothing was sent: no connection was handed the request.');
    expect(failed).toContain('Response headers from the upstreamno answer');
    cleanup();
    const old = await upstreamTab({ requestHeaders: null, responseHeaders: null, headersRecorded: false });
    expect(old).toContain('Request headers sent to the upstreamNot recorded');
    expect(old).toContain('Response headers from the upstreamNot recorded');
    cleanup();
    // A failure from before the record: what was sent is not known, not "nothing" (helper-84).
    const oldTimeout = await upstreamTab({ httpStatus: null, firstByte: null, failure: 'timeout', error: 'no answer within 300 ms', requestHeaders: null, responseHeaders: null, headersRecorded: false });
    expect(oldTimeout).toContain('Request headers sent to the upstreamNot recorded');
    expect(oldTimeout).not.toContain('Nothing was sent');
  });

  it.each<['en' | 'de', string]>([
    ['en', 'Failureunreachable: the upstream https://10.1.2.3:18443 is unreachable: ECONNREFUSED'],
    ['de', 'Fehlernicht erreichbar: der Upstream https://10.1.2.3:18443 ist nicht erreichbar: ECONNREFUSED'],
  ])("%s: the upstream's failure is named in the UI's language, and so are the service's words in its detail (the address and the system's message as recorded)", async (lang, row) => {
    await upstreamTab({ connected: null, firstByte: null, httpStatus: null, tlsProtocol: null, tlsCipher: null, fingerprint: null, subject: null, trustedBy: null, failure: 'unreachable', error: 'the upstream https://10.1.2.3:18443 is unreachable: ECONNREFUSED', requestHeaders: null, responseHeaders: null });
    try {
      act(() => setLanguage(lang));
      await waitFor(() => expect(screen.getByTestId('upstream-panel').textContent).toContain(row));
    } finally {
      setLanguage('en');
    }
  });

  it.each<['en' | 'de', string, string, string]>([
    ['en', 'not relayed', 'the upstream https://10.1.2.3:18443 did not answer within 15000 ms', 'refused'],
    ['de', 'nicht weitergeleitet', 'der Upstream https://10.1.2.3:18443 hat nicht binnen 15000 ms geantwortet', 'abgewiesen'],
  ])("%s: the list tags a relay's failure as not relayed, with its words in the UI's language, and a refusal of its own as refused", async (lang, tag, words, refusedTag) => {
    api.rows = [
      summary(1, { httpStatus: 504, action: null, error: 'the upstream https://10.1.2.3:18443 did not answer within 15000 ms', warning: 'the MAC is the one the message names, unconfirmed: the upstream did not answer' }),
      summary(2, { reason: null, httpStatus: 508, action: null, error: 'this request has passed this LocalDLS already (its Via header names localdls-0123456789ab): the upstream https://10.1.2.3:18443 relays it back here, so the relays form a loop; point one of them at the DLS itself' }),
      summary(3, { httpStatus: 403, action: null, error: 'the relay accepts phones from 192.0.2.0/24 only' }),
      summary(4, { reason: null, method: 'GET', httpStatus: 405, action: null, error: 'method GET not allowed; WPI messages are POSTed' }),
    ];
    window.location.hash = '#/traffic';
    render(<App api={api} />);
    try {
      act(() => setLanguage(lang));
      const row = async (id: number) => {
        const el = await waitFor(() => {
          const r = document.querySelector(`.xrow[data-id="${id}"]`);
          expect(r).not.toBeNull();
          return r!;
        });
        return { tag: el.querySelector('.tag-error')?.textContent, what: el.querySelector('.c-what')!.getAttribute('title'), warning: el.querySelector('.tag-warn')?.getAttribute('title') };
      };
      await waitFor(async () => expect((await row(1)).tag).toBe(tag));
      expect((await row(1)).what).toBe(words);
      expect((await row(1)).warning).toBe(lang === 'de' ? 'die MAC ist die, die die Nachricht nennt, unbestätigt: Der Upstream hat nicht geantwortet' : 'the MAC is the one the message names, unconfirmed: the upstream did not answer');
      expect((await row(2)).tag).toBe(tag);
      expect((await row(2)).what).toContain(lang === 'de' ? 'Schleife' : 'loop');
      expect((await row(3)).tag).toBe(refusedTag);
      expect((await row(3)).what).toBe('the relay accepts phones from 192.0.2.0/24 only');
      // The listener's own refusal: refused, in the UI's language.
      expect((await row(4)).tag).toBe(refusedTag);
      expect((await row(4)).what).toBe(lang === 'de' ? 'Methode GET nicht erlaubt; WPI-Nachrichten werden per POST gesendet' : 'method GET not allowed; WPI messages are POSTed');
    } finally {
      setLanguage('en');
    }
  });

  it('a kept-alive upstream connection says reused', async () => {
    expect(await upstreamTab({ connected: null, reused: true })).toContain('TLS connection: reused (keep-alive)');
  });

  it('relaying from `serve --upstream` with nothing stored: Setup says so, not "Not set: LocalDLS answers phones itself" (helper-61)', async () => {
    window.location.hash = '#/setup';
    api.status = { ...api.status, relay: { upstream: 'https://10.1.2.3:18443', ca: false, fingerprints: [] } };
    render(<App api={api} />);
    const section = await screen.findByRole('region', { name: 'Relay to an existing DLS' });
    await waitFor(() => expect(section.textContent).toContain('Running now: relaying to https://10.1.2.3:18443.'));
    expect(section.textContent).toContain('Nothing stored: this run relays as localdls serve --upstream was told');
    expect(section.textContent).not.toContain('answers phones itself.');
  });

  it('stores the upstream from the Setup page and says it applies at the next start; refusals show', async () => {
    window.location.hash = '#/setup';
    render(<App api={api} />);
    const section = await screen.findByRole('region', { name: 'Relay to an existing DLS' });
    const box = within(section);
    fireEvent.change(box.getByLabelText(/Upstream DLS/), { target: { value: 'https://10.1.2.3:18443' } });
    fireEvent.change(box.getByLabelText(/Accepted certificate fingerprints/), { target: { value: `${FP}\n\n` } });
    fireEvent.click(box.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(api.calls.filter((c) => c.method === 'setUpstream')).toHaveLength(1));
    expect(api.calls.find((c) => c.method === 'setUpstream')!.args).toEqual([{ url: 'https://10.1.2.3:18443', fingerprints: [FP] }]);
    await waitFor(() => expect(section.textContent).toContain('Stored: https://10.1.2.3:18443'));
    fireEvent.click(box.getByRole('button', { name: 'Turn relay mode off' }));
    await waitFor(() => expect(api.calls.filter((c) => c.method === 'setUpstream').at(-1)!.args).toEqual([null]));
    await waitFor(() => expect(section.textContent).toContain('Not set: LocalDLS answers phones itself.'));

    api.setUpstream = async () => {
      const reason = 'the upstream must be an https:// URL (phones talk WPI over TLS), not "http:"';
      throw new ApiArgumentError(`setting.url: ${reason}`, [{ key: 'upstreamUrl', params: { reason } }]);
    };
    fireEvent.change(box.getByLabelText(/Upstream DLS/), { target: { value: 'http://x' } });
    fireEvent.click(box.getByRole('button', { name: 'Save' }));
    // In the UI's words, not the API argument's name.
    expect((await screen.findByText(/must be an https:\/\/ URL/)).textContent).toMatch(/^The upstream URL cannot be used: the upstream must be an https:\/\/ URL .*not "http:"$/);
  });
});
