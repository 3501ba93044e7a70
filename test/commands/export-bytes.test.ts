/**
 * Exports give the bodies as the view shows them (secrets masked), as text. A body with a byte
 * order mark comes back as its very bytes; one that is not UTF-8 cannot, and says so.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { toHar, toJsonExport } from '../../src/main/commands/traffic-views';
import { Store } from '../../src/main/store';
import { exchangeRecord } from '../support/records';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const open: Store[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

describe('HAR request URLs', () => {
  it('a Host header no URL can hold gives way to the address the request went to; every url parses (helper-67)', () => {
    const store = new Store(newDir(), { searchIndexing: 'manual' });
    open.push(store);
    const hosts = ['a b', 'exa mple.com:80', '[::1', 'x"y<z>', '127.0.0.1:18443', 'dls.example'];
    const ids = hosts.map((h) => store.commit(exchangeRecord({ requestHeaders: [['Host', h]], path: '/DeploymentService/LoginService' }), {}, null).exchangeId);
    const entries = toHar(ids.map((id) => store.exchange(id)!)).log.entries;
    for (const e of entries) expect(URL.canParse(e.request.url), e.request.url).toBe(true);
    expect(entries.map((e) => e.request.url)).toEqual([
      ...hosts.slice(0, 4).map(() => `https://localhost:${store.exchange(ids[0]!)!.localPort}/DeploymentService/LoginService`),
      'https://127.0.0.1:18443/DeploymentService/LoginService',
      'https://dls.example/DeploymentService/LoginService',
    ]);
    // The header itself is exported as it came.
    expect(entries.map((e) => e.request.headers.find((h) => h.name === 'Host')?.value)).toEqual(hosts);
  });
});

describe('exported bodies', () => {
  it('keep a byte order mark (the text encodes back to the bytes received) and flag bytes that are not UTF-8', () => {
    const store = new Store(newDir(), { searchIndexing: 'manual' });
    open.push(store);
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<?xml version="1.0"?><WorkpointMessage/>\r\n')]);
    const broken = Buffer.from([0x3c, 0x61, 0x3e, 0xff, 0xfe, 0x3c, 0x2f, 0x61, 0x3e]); // <a>\xff\xfe</a>
    const a = store.commit(exchangeRecord({ requestBody: bom, responseBody: Buffer.from('<DLSMessage/>') }), {}, null).exchangeId;
    const b = store.commit(exchangeRecord({ requestBody: broken }), {}, null).exchangeId;
    const exchanges = [store.exchange(a)!, store.exchange(b)!];

    const [first, second] = toHar(exchanges).log.entries;
    expect(Buffer.from(first!.request.postData.text, 'utf8').equals(bom)).toBe(true);
    expect(first!.request.postData).not.toHaveProperty('_invalidUtf8');
    expect(first!.response.content).not.toHaveProperty('_invalidUtf8');
    expect(second!.request.postData).toMatchObject({ text: '<a>\uFFFD\uFFFD</a>', _invalidUtf8: true });
    expect(second!.request.bodySize).toBe(broken.length);

    const json = toJsonExport(exchanges).exchanges;
    expect(Buffer.from(json[0]!.request.body, 'utf8').equals(bom)).toBe(true);
    expect(json[0]!.request).not.toHaveProperty('invalidUtf8');
    expect(json[1]!.request).toMatchObject({ bytes: broken.length, invalidUtf8: true });
    expect(json[1]!.response).not.toHaveProperty('invalidUtf8');
  });
});
