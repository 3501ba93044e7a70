/**
 * URL credentials in a phone's items, written every way the masking reads (a special scheme
 * without slashes, a scheme-relative URL, a password holding `/` or a blank, character references,
 * a CDATA section, a comment), sent over a real socket, and looked for on every way out: the
 * detail view's raw text and item table, Copy as curl, both exports, and free-text search.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LocalDlsApiHost } from '../../src/main/bridge/api-host';
import { Service } from '../../src/main/app/service';
import { curlCommand } from '../../src/shared/curl';
import { MASK } from '../../src/shared/secrets';
import { post } from '../support/https-client';
import { message, startUpItems } from '../support/messages';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const services: Service[] = [];
afterEach(async () => {
  for (const s of services.splice(0)) await s.stop();
});

/** Raw item text (as the body carries it) and the distinctive password in it. */
const VALUES: [string, string][] = [
  ['https:u:Pw1-noslash@files.example/', 'Pw1-noslash'],
  ['//u:Pw2-relative@files.example/', 'Pw2-relative'],
  ['https://u:Pw3/typed@files.example/', 'Pw3/typed'],
  ['https://u:Pw4 blank@files.example/', 'Pw4 blank'],
  ['https&#58;//u:Pw5-charref@files.example/', 'Pw5-charref'],
  ['https://u:<![CDATA[Pw6-cdata]]>@files.example/', 'Pw6-cdata'],
  ['https://u:Pw7<!-- -->-comment@files.example/', 'Pw7'],
];

describe('URL credentials on every way out', () => {
  it('are masked in the raw text, the items, Copy as curl, the JSON and HAR exports, and not found by search', async () => {
    const dataDir = newDir();
    const service = new Service({ dataDir, host: '127.0.0.1', port: 0, autoContact: false });
    services.push(service);
    const { port } = await service.start();
    const items = startUpItems('00:1A:E8:77:00:09');
    // Placeholders, replaced by the raw text the builder would escape.
    const body = VALUES.reduce((xml, [raw], k) => xml.replace(`PLACEHOLDER-${k}`, raw), message({ reason: 'start-up', items: [...items, ...VALUES.map((_, k) => ({ name: 'XML-app-server-addr', index: k + 1, value: `PLACEHOLDER-${k}` }))] }));
    expect((await post(port, body)).status).toBe(200);
    const api = new LocalDlsApiHost(service, { dataDir, networkInterfaces: () => ({}), listeners: [] });
    const row = (await api.listExchanges({}, { limit: 1 })).exchanges[0]!;
    const detail = (await api.getExchange(row.id))!;
    const shown = detail.request.items.filter((i) => i.name === 'XML-app-server-addr').map((i) => i.value);
    expect(shown).toHaveLength(VALUES.length);
    for (const value of shown) expect(value).toContain(`:${MASK}@files.example/`);
    const seen = [
      detail.request.text,
      curlCommand({ summary: detail.summary, headers: detail.request.headers, body: detail.request.text })!,
      (await api.exportExchanges([row.id], 'json')).content,
      (await api.exportExchanges([row.id], 'har')).content,
    ];
    for (const [, password] of VALUES) {
      for (const text of seen) expect(text).not.toContain(password);
      expect((await api.listExchanges({ text: password }, { limit: 5 })).exchanges, password).toEqual([]);
    }
    // The stored bytes are what the phone sent (the protocol needs them); only what is shown is masked.
    expect(Buffer.from(service.store.exchange(row.id)!.requestBody).toString('utf8')).toContain('Pw6-cdata');
  });
});
