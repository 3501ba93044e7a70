import { afterEach, describe, expect, it } from 'vitest';
import { ApiArgumentError, ApiError } from '../../src/shared/api';
import { MASK } from '../../src/shared/secrets';
import type { LocalDlsApiHost } from '../../src/main/bridge/api-host';
import type { ExchangeSummary } from '../../src/shared/model';
import { FlowHarness } from '../support/handler';
import { tempDirs } from '../support/tmp';
import { apiOver, interaction, MAC, PEER } from './api-harness';

const newDir = tempDirs();
const open: { h: FlowHarness; api: LocalDlsApiHost }[] = [];
afterEach(async () => {
  for (const { h, api } of open.splice(0)) {
    await api.close();
    h.close();
  }
});

function setup(options: Parameters<typeof apiOver>[1] = {}) {
  const h = new FlowHarness(newDir());
  const api = apiOver(h, options);
  open.push({ h, api });
  return { h, api };
}

describe('LocalDlsApiHost', () => {
  it('getExchange: raw text with secrets masked, parsed items with reveal, headers, TLS, the interaction chain', async () => {
    const { h, api } = setup();
    interaction(h);
    const [first, second] = (await api.listExchanges({}, { limit: 10 })).exchanges;
    const d = await api.getExchange(second!.id);
    expect(d.summary).toMatchObject({ reason: 'reply-to', action: 'CleanUp', mac: MAC });
    expect(d.request.startLine).toBe('POST /DeploymentService/LoginService HTTP/1.1');
    expect(d.response.startLine).toBe('HTTP/1.1 200 OK');
    expect(d.request.text).not.toContain('123456');
    expect(d.request.text).toContain(`<Item name="user-pwd">${MASK}</Item>`);
    expect(d.request.isXml && d.request.xmlProblem === null && d.request.wpiProblem === null).toBe(true);
    const items = d.request.items;
    expect(items.map((i) => [i.name, i.index, i.value, i.secret])).toEqual([
      ['sntp-addr', null, 'pool.ntp.org', false],
      ['user-pwd', null, MASK, true],
      ['function-key-def', 0, 'line', false],
      ['function-key-def', 1, 'forward', false],
    ]);
    expect(await api.revealExchangeItem(second!.id, 'request', 1)).toBe('123456');
    await expect(api.revealExchangeItem(second!.id, 'request', 9)).rejects.toThrow(/no request item at position 9/);
    expect(d.response.items).toEqual([]);
    expect(d.tls).toEqual({ protocol: 'TLSv1.3', cipher: 'X', legacy: false, clientCertificate: null });
    expect(d.interaction).toMatchObject({ mac: MAC, reason: 'start-up', endReason: 'CleanUp' });
    expect(d.chain.map((x) => x.id)).toEqual([first!.id, second!.id]);
  });

  it('masks secrets item by item: an empty self-closing secret item hides nothing after it', async () => {
    const { maskXml } = await import('../../src/main/bridge/api-host');
    const xml = '<ItemList><Item name="admin-pwd"/>\n<Item name="e164">4989</Item><Item name="user-pwd">123456</Item><Item name="sip-pwd"></Item></ItemList>';
    expect(maskXml(xml)).toBe(`<ItemList><Item name="admin-pwd"/>\n<Item name="e164">4989</Item><Item name="user-pwd">${MASK}</Item><Item name="sip-pwd"></Item></ItemList>`);
  });

  it('shows where a refused body is not well-formed, and that it is not WPI', async () => {
    const { h, api } = setup();
    h.handler.exchange({
      started: 1, listener: 'default', localPort: 18443, peerAddress: PEER, peerPort: 1, tlsProtocol: 'TLSv1', tlsCipher: 'AES128-SHA',
      method: 'POST', path: '/DeploymentService/LoginService', headers: [['Content-Type', 'text/xml']], body: Buffer.from('<WorkpointMessage>\n<Message nonce="1">\n</Mesage>'),
    });
    const [x] = (await api.listExchanges({}, { limit: 1 })).exchanges;
    const d = await api.getExchange(x!.id);
    expect(d.summary.httpStatus).toBe(400);
    expect(d.request.xmlProblem).toMatchObject({ line: 3 });
    expect(d.request.wpiProblem).not.toBeNull();
    expect(d.response.isXml).toBe(false);
    expect(d.response.text).toMatch(/\n$/);
    expect(d.tls.legacy).toBe(true);
    expect(d.interaction).toBeNull();
  });

  it('exports JSON and HAR with secrets masked; failed handshakes go to _tlsErrors', async () => {
    const { h, api } = setup();
    interaction(h);
    h.handler.handshakeFailed({ time: 5, listener: 'default', localPort: 18443, peerAddress: '192.0.2.99', peerPort: 7, reason: 'unsupported protocol', hint: 'try --tls legacy', suppressed: 0 });
    const all = (await api.listExchanges({}, { limit: 10 })).exchanges.map((x) => x.id);
    const json = await api.exportExchanges(all, 'json');
    expect(json.count).toBe(3);
    expect(json.filename).toMatch(/^localdls-exchanges-\d{8}-\d{6}\.json$/);
    expect(json.content).not.toContain('123456');
    const parsed = JSON.parse(json.content) as { secretsMasked: boolean; exchanges: { request: { body: string; items: { value: string }[] } }[] };
    expect(parsed.secretsMasked).toBe(true);
    expect(parsed.exchanges[1]!.request.items.find((i) => i.value === MASK)).toBeTruthy();

    const har = await api.exportExchanges(all, 'har');
    expect(har.content).not.toContain('123456');
    const log = (JSON.parse(har.content) as { log: { version: string; entries: { request: { url: string; postData: { text: string } }; response: { status: number }; _localdls: { mac: string } }[]; _tlsErrors: { error: string }[] } }).log;
    expect(log.version).toBe('1.2');
    expect(log.entries).toHaveLength(2);
    expect(log.entries[0]!.request.url).toBe('https://localhost:18443/DeploymentService/LoginService');
    expect(log.entries[1]!.request.postData.text).toContain(MASK);
    expect(log.entries[0]!._localdls.mac).toBe(MAC);
    expect(log._tlsErrors[0]!.error).toBe('TLS handshake failed: unsupported protocol');
    await expect(api.exportExchanges([999], 'json')).rejects.toMatchObject({ code: 'not-found' });
  });

  it('devices: list, detail with masked items and traffic, reveal one value', async () => {
    const { h, api } = setup();
    interaction(h);
    const [device] = await api.listDevices();
    expect(device).toMatchObject({ mac: MAC, deviceType: 'OpenStage 60', state: 'idle' });
    const d = await api.getDevice('00-1a-e8-00-00-01');
    expect(d.items.find((i) => i.name === 'user-pwd')).toMatchObject({ value: MASK, secret: true });
    expect(d.traffic.map((x) => x.action)).toEqual(['ReadAllItems', 'CleanUp']);
    expect(d.trafficTotal).toBe(2);
    expect(await api.revealDeviceItem(MAC, 'user-pwd', null)).toBe('123456');
    await expect(api.getDevice('00:1A:E8:00:00:99')).rejects.toMatchObject({ code: 'not-found', message: expect.stringMatching(/^no device 00:1A:E8:00:00:99: this service has not heard from that phone; check the MAC/) as unknown });
  });

  it('validates every argument with clear errors', async () => {
    const { api } = setup();
    const refused = async (p: Promise<unknown>, message: RegExp) => {
      const e = await p.then(() => null, (x: unknown) => x);
      expect(e).toBeInstanceOf(ApiArgumentError);
      expect((e as ApiError).code).toBe('bad-argument');
      expect((e as Error).message).toMatch(message);
    };
    await refused(api.listExchanges({ device: 5 } as never, { limit: 10 }), /listExchanges: filter.device must be a string/);
    await refused(api.listExchanges({ text: 'x'.repeat(201) }, { limit: 10 }), /filter.text must be at most 200 characters/);
    await refused(api.listExchanges({ text: ' ab ' }, { limit: 10 }), /filter.text must have at least 3 characters in a row/);
    await refused(api.exportTraffic({ text: 'Ψ' }, 'har'), /filter.text must have at least 3 characters in a row/);
    await refused(api.listExchanges({ listener: 'lan' } as never, { limit: 10 }), /filter.listener must be one of default, secure/);
    await refused(api.listExchanges({ evil: 1 } as never, { limit: 10 }), /filter has an unknown field "evil"/);
    await refused(api.listExchanges({}, { limit: 0 }), /page.limit must be from 1 to 5000/);
    await refused(api.listExchanges({}, { limit: 5, beforeId: 1, afterId: 1 }), /beforeId or afterId, not both/);
    await refused(api.getExchange(-1), /id must be a whole number/);
    await refused(api.getExchange(1.5), /id must be a whole number/);
    await refused(api.revealExchangeItem(1, 'both' as never, 0), /side must be "request" or "response"/);
    await refused(api.exportExchanges([], 'json'), /ids must name at least one exchange/);
    await refused(api.exportExchanges([1], 'xml' as never), /format must be "json" or "har"/);
    await refused(api.getDevice('not-a-mac'), /"not-a-mac" is not a MAC address/);
    await refused(api.call('getExchange', [1, 2]), /takes 1 argument, not 2/);
    await refused(api.call('getStatus', ['x']), /takes no arguments/);
    await refused(api.call('dropDatabase', []), /unknown method "dropDatabase"/);
    await refused(api.call('getExchange', 'nope'), /arguments must be a list/);
  });

  it('sends new exchanges in batches and the devices they changed; status on listener changes', async () => {
    const { h, api } = setup({ batchMs: 20 });
    const batches: ExchangeSummary[][] = [];
    const devices: string[][] = [];
    api.onExchanges((b) => batches.push(b));
    api.onDevicesChanged((d) => devices.push(d.map((x) => `${x.mac}:${x.state}`)));
    interaction(h);
    interaction(h, '00:1A:E8:00:00:02', '192.0.2.11');
    await new Promise((r) => setTimeout(r, 60));
    expect(batches).toHaveLength(1);
    expect(batches[0]!.map((x) => x.action)).toEqual(['ReadAllItems', 'CleanUp', 'ReadAllItems', 'CleanUp']);
    expect(devices).toEqual([['00:1A:E8:00:00:01:idle', '00:1A:E8:00:00:02:idle']]);

    const statuses: string[] = [];
    const off = api.onStatus((s) => statuses.push(s.listeners.map((l) => `${l.kind}:${l.port}:${l.state}`).join()));
    api.setListeners([{ kind: 'default', host: '0.0.0.0', port: 18443, tlsProfile: 'modern', state: 'listening', error: null }]);
    off();
    api.setListeners([]);
    expect(statuses).toEqual(['default:18443:listening']);
  });

  it('getStatus: listeners, non-internal addresses (IPv4 first, link-local last), counts, data dir', async () => {
    const { h, api } = setup({
      networkInterfaces: () => ({
        lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true, netmask: '', mac: '', cidr: null }],
        eth0: [
          { address: 'fe80::1', family: 'IPv6', internal: false, netmask: '', mac: '', cidr: null, scopeid: 2 },
          { address: 'fd00::2', family: 'IPv6', internal: false, netmask: '', mac: '', cidr: null, scopeid: 0 },
          { address: '192.168.2.19', family: 'IPv4', internal: false, netmask: '', mac: '', cidr: null },
        ],
      }),
      listeners: [{ kind: 'default', host: '0.0.0.0', port: 18443, tlsProfile: 'legacy', state: 'listening', error: null }],
    });
    interaction(h);
    const s = await api.getStatus();
    expect(s.addresses.map((a) => `${a.address}${a.linkLocal ? ' ll' : ''}`)).toEqual(['192.168.2.19', 'fd00::2', 'fe80::1 ll']);
    expect(s).toMatchObject({ dataDir: '/data', deviceCount: 1, exchangeCount: 2, listeners: [{ tlsProfile: 'legacy' }] });
    expect((await api.clearView()).throughId).toBe(2);
  });
});
