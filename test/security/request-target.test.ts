/**
 * A credential in the request target's query (helper-62: `…/LoginService?password=…` was stored
 * and shown as sent). Phones send no query in WPI; the values are masked before the exchange is
 * stored, as an Authorization header is, so no view, export or search shows or finds them.
 */
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalDlsApiHost } from '../../src/main/bridge/api-host';
import { Service } from '../../src/main/app/service';
import { maskRequestTarget, MASK } from '../../src/shared/secrets';
import { post } from '../support/https-client';
import { message, startUpItems } from '../support/messages';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const services: Service[] = [];
afterEach(async () => {
  for (const s of services.splice(0)) await s.stop();
});

const SECRET = 'Query-Secret-8L';

describe('the request target', () => {
  it('has its query values masked, names kept; a target without a query stays as it is', () => {
    expect(maskRequestTarget('/DeploymentService/LoginService')).toBe('/DeploymentService/LoginService');
    expect(maskRequestTarget(`/DeploymentService/LoginService?password=${SECRET}&debug&x=`)).toBe(`/DeploymentService/LoginService?password=${MASK}&${MASK}&x=`);
    expect(maskRequestTarget(`/x?token=${SECRET}#frag`)).toBe(`/x?token=${MASK}#${MASK}`);
    expect(maskRequestTarget(`/DeploymentService/LoginService#tok=${SECRET}`)).toBe(`/DeploymentService/LoginService#${MASK}`);
    // The absolute form: the whole user part to the authority's last @, whatever it holds (helper-65).
    expect(maskRequestTarget(`https://user:PW'${SECRET}@h:1/x?k=a'${SECRET}`)).toBe(`https://${MASK}@h:1/x?k=${MASK}`);
    expect(maskRequestTarget(`https://user:PW@${SECRET}@h/x`)).toBe(`https://${MASK}@h/x`);
    expect(maskRequestTarget('https://h:1/x')).toBe('https://h:1/x');
    // A scheme-relative target (a server reads it against its own scheme), and a special scheme's
    // slashes as WHATWG skips them: the user part masked the same.
    expect(maskRequestTarget(`//admin:${SECRET}@h/x?k=${SECRET}`)).toBe(`//${MASK}@h/x?k=${MASK}`);
    expect(maskRequestTarget(`https:/\\admin:${SECRET}@h/x`)).toBe(`https:/\\${MASK}@h/x`);
    expect(maskRequestTarget('//h/x')).toBe('//h/x');
    expect(maskRequestTarget('/path/user@h')).toBe('/path/user@h');
    // A typed password holding `/` (WHATWG would end the authority there): to the last @ after a `:`;
    // holding `?` or `#`, where the user part ends cannot be told: all after the scheme.
    expect(maskRequestTarget(`http://u:pa/${SECRET}@h/x`)).toBe(`http://${MASK}@h/x`);
    expect(maskRequestTarget(`http://u:pa?${SECRET}@h/x`)).toBe(`http://${MASK}`);
    expect(maskRequestTarget('http://h/x@y')).toBe('http://h/x@y');
    // DCMP's device-id is kept when it is a MAC; anything else in it, or beside it, is masked.
    expect(maskRequestTarget(`/dcmp/contact-me?device-id=001AE8000011&x=${SECRET}`, ['device-id'])).toBe(`/dcmp/contact-me?device-id=001AE8000011&x=${MASK}`);
    expect(maskRequestTarget(`/dcmp/contact-me?device-id=001AE8000011;x=${SECRET}`, ['device-id'])).toBe(`/dcmp/contact-me?device-id=${MASK}`);
  });

  it('is stored masked, so the view, both exports and free text never show or find the value', async () => {
    const dataDir = newDir();
    const service = new Service({ dataDir, host: '127.0.0.1', port: 0, autoContact: false });
    services.push(service);
    const { port } = await service.start();
    const answer = await post(port, message({ reason: 'start-up', items: startUpItems('00:1A:E8:77:00:01') }), { path: `/DeploymentService/LoginService?password=${SECRET}` });
    expect(answer.status).toBe(200);
    const api = new LocalDlsApiHost(service, { dataDir, networkInterfaces: () => ({}), listeners: [] });
    const row = (await api.listExchanges({}, { limit: 1 })).exchanges[0]!;
    expect(service.store.exchange(row.id)!.path).toBe(`/DeploymentService/LoginService?password=${MASK}`);
    const seen = [JSON.stringify(await api.getExchange(row.id)), (await api.exportExchanges([row.id], 'json')).content, (await api.exportExchanges([row.id], 'har')).content];
    for (const text of seen) expect(text).not.toContain(SECRET);
    expect((await api.getExchange(row.id))!.request.startLine).toBe(`POST /DeploymentService/LoginService?password=${MASK} HTTP/1.1`);
    expect((await api.listExchanges({ text: SECRET }, { limit: 5 })).exchanges).toEqual([]);
  });

  it('is masked as it is recorded: the live list, a full URL\'s user:password@ in the path and the reason, DCMP\'s other parameters (helper-64)', async () => {
    const dataDir = newDir();
    const service = new Service({ dataDir, host: '127.0.0.1', port: 0, dcmpPort: 0, autoContact: false });
    services.push(service);
    const { port, dcmpPort } = await service.start();
    const live: string[] = [];
    service.onExchange((x) => live.push(JSON.stringify(x)));
    await post(port, 'not xml', { path: `/DeploymentService/LoginService?password=${SECRET}` });
    await post(port, 'not xml', { path: `http://admin:${SECRET}@dls.example/x` });
    await post(port, 'not xml', { path: `//admin:${SECRET}@dls.example/y` });
    await new Promise<void>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: dcmpPort, path: `/dcmp/contact-me?device-id=001AE8770003&token=${SECRET}` }, (res) => res.resume().on('end', resolve)).on('error', reject);
    });
    await expect.poll(() => live.length).toBe(4);
    for (const x of live) expect(x).not.toContain(SECRET);
    const rows = service.store.exchanges({});
    for (const x of rows) expect(JSON.stringify(x)).not.toContain(SECRET);
    expect(rows.map((x) => x.path)).toEqual([`/dcmp/contact-me?device-id=001AE8770003&token=${MASK}`, `//${MASK}@dls.example/y`, `http://${MASK}@dls.example/x`, `/DeploymentService/LoginService?password=${MASK}`]);
    expect(rows[1]!.error).toBe(`no WPI service at //${MASK}@dls.example/y; phones POST to /DeploymentService/LoginService`);
    expect(rows[2]!.error).toBe(`no WPI service at http://${MASK}@dls.example/x; phones POST to /DeploymentService/LoginService`);
  });

  it('HAR lists the query (masked) and the cookies each side sent (helper-61: cookies were [] beside a Cookie header)', async () => {
    const dataDir = newDir();
    const service = new Service({ dataDir, host: '127.0.0.1', port: 0, autoContact: false });
    services.push(service);
    const { port } = await service.start();
    const mac = '00:1A:E8:77:00:02';
    const first = await post(port, message({ reason: 'start-up', items: startUpItems(mac) }), { path: `/DeploymentService/LoginService?password=${SECRET}&debug` });
    const cookie = String(first.headers['set-cookie']).split(';')[0]!;
    await post(port, message({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', items: startUpItems(mac) }), { headers: { Cookie: `${cookie}; other=1` } });
    const api = new LocalDlsApiHost(service, { dataDir, networkInterfaces: () => ({}), listeners: [] });
    const ids = (await api.listExchanges({}, { limit: 2 })).exchanges.map((x) => x.id).sort((a, b) => a - b);
    const har = JSON.parse((await api.exportExchanges(ids, 'har')).content) as { log: { entries: { request: { cookies: unknown[]; queryString: unknown[] }; response: { cookies: { name: string; value: string; path?: string }[] } }[] } };
    const [start, reply] = har.log.entries;
    expect(start!.request.queryString).toEqual([{ name: 'password', value: MASK }, { name: MASK, value: '' }]);
    const [name, value] = cookie.split('=');
    expect(start!.response.cookies).toEqual([expect.objectContaining({ name, value })]);
    expect(reply!.request.cookies).toEqual([{ name, value }, { name: 'other', value: '1' }]);
    expect(reply!.request.queryString).toEqual([]);
  });
});
