/**
 * A body in UTF-16, or with NULs between its letters, hides its ASCII item names from masks that
 * read it as UTF-8 (helper-62: `admin-pwd` shown and exported in clear, `secure-mode-data` stored).
 * Sent over real sockets to a real Service, then looked for in the store's raw bytes, the view,
 * both exports and free-text search.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LocalDlsApiHost } from '../../src/main/bridge/api-host';
import { Service } from '../../src/main/app/service';
import { bodyText } from '../../src/shared/body-text';
import { MASK } from '../../src/shared/secrets';
import { post } from '../support/https-client';
import { message, startUpItems } from '../support/messages';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const services: Service[] = [];
afterEach(async () => {
  for (const s of services.splice(0)) await s.stop();
});

const PASSWORD = 'Utf16-Admin-7Q';
const KEY = 'Utf16-KeyMaterial-3Z';
const MAC = '00:1A:E8:16:16:01';

const xml = message({ reason: 'start-up', items: [...startUpItems(MAC), { name: 'admin-pwd', value: PASSWORD }, { name: 'secure-mode-data', value: KEY }] });
const xmlWithPassword = message({ reason: 'start-up', items: [...startUpItems(MAC), { name: 'admin-pwd', value: PASSWORD }] });

const swapped = (b: Buffer) => Buffer.from(b).swap16();
/** The same text three ways with NULs: UTF-16 either way, and UTF-8 turning into UTF-16 half-way. */
const encodings = (text: string): Record<string, Buffer> => ({
  'UTF-16LE with its byte order mark': Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]),
  'UTF-16BE without one': swapped(Buffer.from(text, 'utf16le')),
  'UTF-8 start, UTF-16LE items (NULs between the letters)': Buffer.concat([Buffer.from(text.slice(0, 200), 'utf8'), Buffer.from(text.slice(200), 'utf16le')]),
});
const BODIES = encodings(xml);

/** The value in any of the encodings a body could carry it in. */
const forms = (v: string) => [Buffer.from(v, 'utf8'), Buffer.from(v, 'utf16le'), swapped(Buffer.from(v, 'utf16le'))];

describe('bodies that are not UTF-8 text', () => {
  it('reads a body with NULs without them, so every ASCII byte shows in order; a phone\'s UTF-8 stays as it is', () => {
    expect(bodyText(BODIES['UTF-16LE with its byte order mark']!)).toEqual({ text: `\uFFFD\uFFFD${xml}`, invalidUtf8: true, nulsDropped: true });
    expect(bodyText(BODIES['UTF-16BE without one']!)).toEqual({ text: xml, invalidUtf8: false, nulsDropped: true });
    expect(bodyText(BODIES['UTF-8 start, UTF-16LE items (NULs between the letters)']!)).toEqual({ text: xml, invalidUtf8: false, nulsDropped: true });
    expect(bodyText(Buffer.from(xml, 'utf8'))).toEqual({ text: xml, invalidUtf8: false, nulsDropped: false });
    expect(bodyText(Buffer.from([0x3c, 0xff, 0x3e]))).toEqual({ text: '<\uFFFD>', invalidUtf8: true, nulsDropped: false });
  });

  it('stores no key material, and shows, exports and finds no password, whatever the encoding', async () => {
    const dataDir = newDir();
    const service = new Service({ dataDir, host: '127.0.0.1', port: 0, autoContact: false });
    services.push(service);
    const { port } = await service.start();
    const api = new LocalDlsApiHost(service, { dataDir, networkInterfaces: () => ({}), listeners: [] });
    const newest = async () => (await api.listExchanges({}, { limit: 1 })).exchanges[0]!.id;

    // Key material: stored as the text the views read, masked, in no encoding left.
    for (const [what, body] of Object.entries(BODIES)) {
      // Refused (not UTF-8, or NULs XML does not allow), and recorded.
      expect((await post(port, body)).status, what).toBe(400);
      const stored = Buffer.from(service.store.exchange(await newest())!.requestBody);
      for (const form of forms(KEY)) expect(stored.includes(form), `${what}: key material stored`).toBe(false);
      expect(stored.toString('utf8'), what).toContain(`<Item name="secure-mode-data">${MASK}</Item>`);
    }
    // No key material: stored byte for byte, NULs and all; shown without them, the password masked.
    const ids: number[] = [];
    for (const [what, body] of Object.entries(encodings(xmlWithPassword))) {
      expect((await post(port, body)).status, what).toBe(400);
      const id = await newest();
      ids.push(id);
      expect(Buffer.from(service.store.exchange(id)!.requestBody).equals(body), `${what}: stored as received`).toBe(true);
      const view = (await api.getExchange(id))!.request;
      expect(view.text, what).not.toContain(PASSWORD);
      expect(view.text, what).toContain(`<Item name="admin-pwd">${MASK}</Item>`);
      expect(view.nulsDropped, what).toBe(true);
    }
    for (const format of ['json', 'har'] as const) {
      const content = (await api.exportExchanges(ids, format)).content;
      for (const form of forms(PASSWORD)) expect(Buffer.from(content).includes(form), `${format} export`).toBe(false);
      expect(content).toMatch(format === 'har' ? /"_nulsDropped": ?true/ : /"nulsDropped": ?true/);
    }
    expect((await api.listExchanges({ text: PASSWORD }, { limit: 10 })).exchanges).toEqual([]);
  });
});
