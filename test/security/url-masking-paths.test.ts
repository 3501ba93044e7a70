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
/** A service on loopback, and the exchanges its feed announced (as `serve` prints them). */
async function started() {
  const dataDir = newDir();
  const service = new Service({ dataDir, host: '127.0.0.1', port: 0, autoContact: false });
  services.push(service);
  const { port } = await service.start();
  const feed: string[] = [];
  service.onExchange((x) => feed.push(JSON.stringify(x)));
  return { dataDir, service, port, feed };
}
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
    const { dataDir, service, port } = await started();
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

describe('URL credentials where a client writes them outside bodies and values (helper-72 F2)', () => {
  it('an error quoting the reason, the action, the nonce, an item\'s name and status, and a request header: masked in the list, the detail, the exports, the serve feed, and not found by search', async () => {
    const { dataDir, service, port, feed } = await started();
    const wrap = (message: string) => `<?xml version="1.0" encoding="UTF-8"?>\n<WorkpointMessage xmlns="http://www.siemens.com/DLS">${message}</WorkpointMessage>`;
    const bodies = [
      // An unknown reason: refused, and the error quotes it.
      wrap('<Message nonce="N1"><ReasonForContact>https://u:Qx1Secret@h/</ReasonForContact><ItemList><Item name="mac-addr">00:1A:E8:77:00:0A</Item></ItemList></Message>'),
      // A reply-to without a session naming its action, and a nonce that is a URL.
      wrap('<Message nonce="https://u:Qx3Secret@h/"><ReasonForContact action="https://u:Qx2Secret@h/" status="accepted">reply-to</ReasonForContact><ItemList/></Message>'),
      // Items whose name and status hold one.
      message({ reason: 'start-up', items: [...startUpItems('00:1A:E8:77:00:0B'), { name: 'https://u:Qx4Secret@h/', value: 'x' }, { name: 'x-note', value: 'y', status: 'https://u:Qx5Secret@h/' }] }),
    ];
    for (const body of bodies) await post(port, body, { headers: { Referer: 'https://u:Qx6Secret@h/x' } });
    const api = new LocalDlsApiHost(service, { dataDir, networkInterfaces: () => ({}), listeners: [] });
    const rows = (await api.listExchanges({}, { limit: 10 })).exchanges;
    expect(rows).toHaveLength(3);
    const seen = [JSON.stringify(rows), ...feed];
    for (const row of rows) {
      const detail = (await api.getExchange(row.id))!;
      seen.push(JSON.stringify(detail), (await api.exportExchanges([row.id], 'json')).content, (await api.exportExchanges([row.id], 'har')).content);
    }
    expect(seen.join('\n')).toContain(`https://u:${MASK}@h/`);
    for (const password of ['Qx1Secret', 'Qx2Secret', 'Qx3Secret', 'Qx4Secret', 'Qx5Secret', 'Qx6Secret']) {
      for (const text of seen) expect(text, password).not.toContain(password);
      expect((await api.listExchanges({ text: password }, { limit: 5 })).exchanges, password).toEqual([]);
    }
  });
});

describe('SIP URIs with a password, and URLs in attributes written with references (helper-74)', () => {
  it('are masked in the raw text, the items, Copy as curl, both exports and the serve feed, and not found by search; a SIP URI without one shows as written', async () => {
    const { dataDir, service, port, feed } = await started();
    // Attribute values as written (the builder would escape their `&`), put in for placeholders.
    const statuses = ['https://u&#58;Sp2Secret@h/', 'sip&#58;bob:Sp3Secret@pbx.example'];
    const items = [
      ...startUpItems('00:1A:E8:77:00:0C'),
      { name: 'XML-app-server-addr', index: 1, value: 'sip:alice:Sp1Secret@pbx.example' },
      { name: 'XML-app-server-addr', index: 2, value: 'sip:alice@pbx.example' },
      { name: 'XML-app-server-addr', index: 3, value: 'sip:pbx.example:5060' },
      ...statuses.map((_, k) => ({ name: 'x-note', index: k + 1, value: 'y', status: `PLACEHOLDER-${k}` })),
    ];
    const body = statuses.reduce((xml, raw, k) => xml.replace(`PLACEHOLDER-${k}`, raw), message({ reason: 'start-up', items }));
    expect((await post(port, body, { headers: { Referer: 'sip:carol:Sp4Secret@pbx.example' } })).status).toBe(200);
    const api = new LocalDlsApiHost(service, { dataDir, networkInterfaces: () => ({}), listeners: [] });
    const row = (await api.listExchanges({}, { limit: 1 })).exchanges[0]!;
    const detail = (await api.getExchange(row.id))!;
    expect(detail.request.items.filter((i) => i.name === 'XML-app-server-addr').map((i) => i.value)).toEqual([`sip:alice:${MASK}@pbx.example`, 'sip:alice@pbx.example', 'sip:pbx.example:5060']);
    expect(detail.request.items.filter((i) => i.name === 'x-note').map((i) => i.status)).toEqual([`https://u:${MASK}@h/`, `sip:bob:${MASK}@pbx.example`]);
    expect(detail.request.text).toContain(`status="https://u&#58;${MASK}@h/"`);
    expect(detail.request.text).toContain(`status="sip&#58;bob:${MASK}@pbx.example"`);
    expect(JSON.stringify(detail.request.headers)).toContain(`sip:carol:${MASK}@pbx.example`);
    const seen = [
      JSON.stringify(row),
      JSON.stringify(detail),
      curlCommand({ summary: detail.summary, headers: detail.request.headers, body: detail.request.text })!,
      (await api.exportExchanges([row.id], 'json')).content,
      (await api.exportExchanges([row.id], 'har')).content,
      ...feed,
    ];
    for (const password of ['Sp1Secret', 'Sp2Secret', 'Sp3Secret', 'Sp4Secret']) {
      for (const text of seen) expect(text, password).not.toContain(password);
      expect((await api.listExchanges({ text: password }, { limit: 5 })).exchanges, password).toEqual([]);
    }
    // The look-alikes are found as written.
    expect((await api.listExchanges({ text: 'sip:pbx.example:5060' }, { limit: 5 })).exchanges).toHaveLength(1);
  });
});
