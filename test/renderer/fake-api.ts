/**
 * An in-memory LocalDlsApi for component tests: the same contract as the preload and the web
 * bridge, with helpers to push live events. Filtering mirrors the service loosely (enough for
 * the views); the real SQL is tested in test/web/exchange-filter.test.ts.
 */
import type { DeviceDetail, ExchangeDetail, ExchangeFilter, ExchangeList, ExchangePage, LocalDlsApi, ServiceStatus } from '../../src/shared/api';
import type { Device, ExchangeSummary } from '../../src/shared/model';
import { MASK } from '../../src/shared/secrets';

/** Hex of a string's UTF-8 bytes (the web project has no Buffer). */
export const hex = (s: string) => [...new TextEncoder().encode(s)].map((b) => b.toString(16).padStart(2, '0')).join('');

export function summary(id: number, over: Partial<ExchangeSummary> = {}): ExchangeSummary {
  return {
    id, kind: 'wpi', started: 1_764_151_200_000 + id * 10, ended: 1_764_151_200_000 + id * 10 + 3, listener: 'default', localPort: 18443,
    peerAddress: '192.0.2.10', peerPort: 40000 + id, tlsProtocol: 'TLSv1.3', tlsCipher: 'TLS_AES_256_GCM_SHA384', method: 'POST',
    path: '/DeploymentService/LoginService', httpStatus: 200, mac: '00:1A:E8:00:00:01', interactionId: 1, reason: 'start-up',
    replyAction: null, replyStatus: null, nonce: `N${id}`, fragment: null, itemCount: 3, action: 'ReadAllItems', error: null, warning: null,
    requestBytes: 900, responseBytes: 300, ...over,
  };
}

export const DEVICE: Device = {
  mac: '00:1A:E8:00:00:01', e164: '498972231001', deviceType: 'OpenStage 60', softwareVersion: 'V3 R5.12.0', partNumber: 'S30817-S7403-A101',
  contactMeUri: 'http://192.0.2.10:8085/contact_dls.html/ContactDLS', lastAddress: '192.0.2.10', mode: 'default', state: 'idle',
  tlsProtocol: 'TLSv1', firstContact: 1_764_151_200_000, lastContact: 1_764_151_260_000,
} as Device;

export const REQUEST_XML =
  '<?xml version="1.0" encoding="UTF-8"?>\n<WorkpointMessage xmlns="http://www.siemens.com/DLS"><Message nonce="N1" maxItems="-1">' +
  '<ReasonForContact>start-up</ReasonForContact><ItemList><Item name="e164">498972231001</Item>' +
  `<Item name="user-pwd">${MASK}</Item><Item name="function-key-def" index="2">line</Item></ItemList></Message></WorkpointMessage>`;

export class FakeApi implements LocalDlsApi {
  rows: ExchangeSummary[] = [];
  devices: Device[] = [DEVICE];
  calls: { method: string; args: unknown[] }[] = [];
  private exchangeListeners = new Set<(b: ExchangeSummary[]) => void>();
  private deviceListeners = new Set<(d: Device[]) => void>();
  private statusListeners = new Set<(s: ServiceStatus) => void>();

  status: ServiceStatus = {
    version: '0.1.0', dataDir: '/home/me/.localdls',
    listeners: [{ kind: 'default', host: '0.0.0.0', port: 18443, tlsProfile: 'modern', state: 'listening', error: null }],
    addresses: [{ interface: 'eth0', family: 'IPv4', address: '192.168.2.19', linkLocal: false }],
    deviceCount: 1, exchangeCount: 0, now: 0,
  };

  private matches(x: ExchangeSummary, f: ExchangeFilter): boolean {
    if (f.sinceId !== undefined && x.id <= f.sinceId) return false;
    if (f.device && !(x.mac ?? '').includes(f.device) && !x.peerAddress.includes(f.device)) return false;
    if (f.reason && x.reason !== f.reason) return false;
    if (f.action && x.action !== f.action) return false;
    if (f.errorsOnly && !(x.error || x.kind === 'tls-failure' || x.httpStatus >= 400)) return false;
    if (f.text && !JSON.stringify(x).includes(f.text)) return false;
    return true;
  }

  async getStatus() {
    this.calls.push({ method: 'getStatus', args: [] });
    return this.status;
  }

  async listExchanges(filter: ExchangeFilter, page: ExchangePage): Promise<ExchangeList> {
    this.calls.push({ method: 'listExchanges', args: [filter, page] });
    let all = this.rows.filter((x) => this.matches(x, filter));
    if (page.afterId !== undefined) all = all.filter((x) => x.id > page.afterId!);
    if (page.beforeId !== undefined) all = all.filter((x) => x.id < page.beforeId!);
    const rows = page.afterId !== undefined ? all.slice(0, page.limit) : all.slice(-page.limit);
    const counts = page.counts !== false;
    return {
      exchanges: rows,
      matched: counts ? this.rows.filter((x) => this.matches(x, filter)).length : null,
      total: counts ? this.rows.filter((x) => x.id > (filter.sinceId ?? 0)).length : null,
      newestId: counts ? (this.rows.at(-1)?.id ?? 0) : null,
      hasOlder: page.afterId === undefined && all.length > rows.length,
      hasNewer: page.afterId !== undefined && all.length > rows.length,
    };
  }

  async getExchange(id: number): Promise<ExchangeDetail> {
    this.calls.push({ method: 'getExchange', args: [id] });
    const s = this.rows.find((x) => x.id === id);
    if (!s) throw new Error(`no exchange ${id}`);
    const message = (text: string, items: ExchangeDetail['request']['items']) => ({
      startLine: 'POST /DeploymentService/LoginService HTTP/1.1', headers: [['Content-Type', 'text/xml']] as [string, string][], contentType: 'text/xml',
      bytes: text.length, text, truncated: false, invalidUtf8: false, isXml: true, xmlProblem: null, items, wpiProblem: null,
    });
    return {
      summary: s,
      request: message(REQUEST_XML, [
        { name: 'e164', index: null, value: '498972231001', status: null, secret: false },
        { name: 'user-pwd', index: null, value: MASK, status: null, secret: true },
        { name: 'function-key-def', index: 2, value: 'line', status: null, secret: false },
      ]),
      response: message('<DLSMessage><Message nonce="N1"><Action>ReadAllItems</Action></Message></DLSMessage>', []),
      tls: { protocol: s.tlsProtocol, cipher: s.tlsCipher, legacy: false },
      interaction: { id: 1, mac: s.mac, peer: s.peerAddress, listener: 'default', reason: 'start-up', started: s.started, ended: s.ended + 100, endReason: 'CleanUp' },
      chain: this.rows.filter((x) => x.interactionId === s.interactionId).slice(0, 5),
    };
  }

  async revealExchangeItem(id: number, side: 'request' | 'response', position: number) {
    this.calls.push({ method: 'revealExchangeItem', args: [id, side, position] });
    return 'secret-123456';
  }

  async exportExchanges(ids: number[], format: 'json' | 'har') {
    this.calls.push({ method: 'exportExchanges', args: [ids, format] });
    return { filename: `x.${format}`, mimeType: 'application/json', content: '{}', count: ids.length };
  }

  async clearView() {
    this.calls.push({ method: 'clearView', args: [] });
    return { throughId: this.rows.at(-1)?.id ?? 0 };
  }

  async listDevices() {
    return this.devices;
  }

  async getDevice(mac: string): Promise<DeviceDetail> {
    const device = this.devices.find((d) => d.mac === mac);
    if (!device) throw new Error(`no device ${mac}`);
    return {
      device,
      items: [
        { name: 'e164', index: null, value: '498972231001', status: null, secret: false, updated: 0 },
        { name: 'function-key-def', index: 1, value: 'line', status: null, secret: false, updated: 0 },
        { name: 'function-key-def', index: 2, value: 'forward', status: null, secret: false, updated: 0 },
        { name: 'sip-pwd', index: null, value: MASK, status: null, secret: true, updated: 0 },
      ],
      traffic: this.rows.filter((x) => x.mac === mac),
      trafficTotal: this.rows.filter((x) => x.mac === mac).length,
    };
  }

  async revealDeviceItem(mac: string, name: string, index: number | null) {
    this.calls.push({ method: 'revealDeviceItem', args: [mac, name, index] });
    return 'sip-secret';
  }

  onExchanges(l: (b: ExchangeSummary[]) => void) {
    this.exchangeListeners.add(l);
    return () => this.exchangeListeners.delete(l);
  }

  onDevicesChanged(l: (d: Device[]) => void) {
    this.deviceListeners.add(l);
    return () => this.deviceListeners.delete(l);
  }

  onStatus(l: (s: ServiceStatus) => void) {
    this.statusListeners.add(l);
    return () => this.statusListeners.delete(l);
  }

  /** The service recorded these: store them and announce them, as the real one does. */
  push(...batch: ExchangeSummary[]): void {
    this.rows.push(...batch);
    for (const l of this.exchangeListeners) l(batch);
  }

  pushDevices(...devices: Device[]): void {
    for (const l of this.deviceListeners) l(devices);
  }
}
