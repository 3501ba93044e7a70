/**
 * A body with NUL bytes (UTF-16, or NULs slipped between the letters of a name) hides its ASCII
 * item names from masks that read it as UTF-8 (helper-62: `admin-pwd` shown and exported in clear,
 * `secure-mode-data` stored); read without its NULs, UTF-16 code units can spell `</Item>` before
 * the value (helper-63). Such a body's text is withheld from views, exports and search, and one
 * naming key material is not stored. Sent over real sockets to a real Service, then looked for
 * in the store's raw bytes, the view, both exports and free-text search.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LocalDlsApiHost } from '../../src/main/bridge/api-host';
import { Service } from '../../src/main/app/service';
import { bodyText, textWithoutNuls } from '../../src/shared/body-text';
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
/**
 * The same text four ways with NULs: UTF-16 either way, UTF-8 turning into UTF-16 half-way, and
 * helper-63's: UTF-16LE code units whose bytes, without the NULs, read `</Item>` right after the
 * secret item's start tag, so a mask reading that text sees an empty Item and leaves the value.
 */
const encodings = (text: string): Record<string, Buffer> => {
  const at = text.indexOf('">', text.indexOf('name="admin-pwd"')) + 2;
  // U+2F3C U+7449 U+6D65 ('</', 'It', 'em' as little-endian pairs), then '>' in UTF-16LE.
  const fakeEnd = Buffer.from([0x3c, 0x2f, 0x49, 0x74, 0x65, 0x6d, 0x3e, 0x00]);
  return {
    'UTF-16LE with its byte order mark': Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]),
    'UTF-16BE without one': swapped(Buffer.from(text, 'utf16le')),
    'UTF-8 start, UTF-16LE items (NULs between the letters)': Buffer.concat([Buffer.from(text.slice(0, 200), 'utf8'), Buffer.from(text.slice(200), 'utf16le')]),
    'a fake </Item> in UTF-16 code units before the value': Buffer.concat([Buffer.from(text.slice(0, at), 'utf16le'), fakeEnd, Buffer.from(text.slice(at), 'utf16le')]),
  };
};

/** The value in any of the encodings a body could carry it in. */
const forms = (v: string) => [Buffer.from(v, 'utf8'), Buffer.from(v, 'utf16le'), swapped(Buffer.from(v, 'utf16le'))];

describe('bodies with NUL bytes', () => {
  it('show no text; a phone\'s UTF-8 stays as it is; the never-stored rule reads them without their NULs', () => {
    for (const body of Object.values(encodings(xml))) expect(bodyText(body)).toEqual({ text: '', invalidUtf8: false, withheld: true });
    expect(bodyText(Buffer.from(xml, 'utf8'))).toEqual({ text: xml, invalidUtf8: false, withheld: false });
    expect(bodyText(Buffer.from([0x3c, 0xff, 0x3e]))).toEqual({ text: '<\uFFFD>', invalidUtf8: true, withheld: false });
    expect(textWithoutNuls(encodings(xml)['UTF-16BE without one']!)).toBe(xml);
  });

  it('store no key material, and show, export and find no password, whatever the encoding', async () => {
    const dataDir = newDir();
    const service = new Service({ dataDir, host: '127.0.0.1', port: 0, autoContact: false });
    services.push(service);
    const { port } = await service.start();
    const api = new LocalDlsApiHost(service, { dataDir, networkInterfaces: () => ({}), listeners: [] });
    const newest = async () => (await api.listExchanges({}, { limit: 1 })).exchanges[0]!.id;

    // Key material: not kept at all, only its size.
    for (const [what, body] of Object.entries(encodings(xml))) {
      // Refused (not UTF-8, or NULs XML does not allow), and recorded.
      expect((await post(port, body)).status, what).toBe(400);
      const stored = Buffer.from(service.store.exchange(await newest())!.requestBody);
      for (const form of [...forms(KEY), ...forms(PASSWORD)]) expect(stored.includes(form), `${what}: stored`).toBe(false);
      expect(stored.toString('utf8'), what).toBe(`[${body.length} bytes not kept: NUL bytes and the name of key material, which LocalDLS never stores]`);
    }
    // No key material: stored byte for byte, NULs and all; its text withheld from the view, exports and search.
    const ids: number[] = [];
    for (const [what, body] of Object.entries(encodings(xmlWithPassword))) {
      expect((await post(port, body)).status, what).toBe(400);
      const id = await newest();
      ids.push(id);
      expect(Buffer.from(service.store.exchange(id)!.requestBody).equals(body), `${what}: stored as received`).toBe(true);
      const view = (await api.getExchange(id))!.request;
      expect([view.text, view.withheld, view.bytes, view.items], what).toEqual(['', true, body.length, []]);
      expect(JSON.stringify(await api.getExchange(id)), what).not.toContain(PASSWORD);
    }
    for (const format of ['json', 'har'] as const) {
      const content = (await api.exportExchanges(ids, format)).content;
      for (const form of forms(PASSWORD)) expect(Buffer.from(content).includes(form), `${format} export`).toBe(false);
      expect(content).toMatch(format === 'har' ? /"_withheld": ?true/ : /"withheld": ?true/);
    }
    // Search finds nothing in them, not even the text around the password; a phone's UTF-8 body is found.
    expect((await api.listExchanges({ text: PASSWORD }, { limit: 10 })).exchanges).toEqual([]);
    expect((await api.listExchanges({ text: 'admin-pwd' }, { limit: 10 })).exchanges).toEqual([]);
    expect((await post(port, Buffer.from(xmlWithPassword, 'utf8'))).status).toBe(200);
    expect((await api.listExchanges({ text: 'admin-pwd' }, { limit: 10 })).exchanges.map((x) => x.id)).toEqual([await newest()]);
  });

  it('a body that does not look like XML (another type, text before the first tag) is masked all the same (helper-63)', async () => {
    const dataDir = newDir();
    const service = new Service({ dataDir, host: '127.0.0.1', port: 0, autoContact: false });
    services.push(service);
    const { port } = await service.start();
    const api = new LocalDlsApiHost(service, { dataDir, networkInterfaces: () => ({}), listeners: [] });
    expect((await post(port, `junk first ${xmlWithPassword}`, { headers: { 'Content-Type': 'application/octet-stream' } })).status).toBe(400);
    const [row] = (await api.listExchanges({}, { limit: 1 })).exchanges;
    const view = (await api.getExchange(row!.id))!.request;
    expect(view.isXml).toBe(false);
    expect(view.text).toContain('<Item name="admin-pwd">••••••</Item>');
    for (const format of ['json', 'har'] as const) expect((await api.exportExchanges([row!.id], format)).content).not.toContain(PASSWORD);
    expect((await api.listExchanges({ text: PASSWORD }, { limit: 10 })).exchanges).toEqual([]);
  });
});
