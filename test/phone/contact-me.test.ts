/** A started phone's contact-me listener (manual p.14–15 §1.4.4.2, p.41) over real loopback sockets. */
import { afterEach, describe, expect, it } from 'vitest';
import type { Item } from '../../src/main/wpi';
import { CONTACT_ME_PATH, SimulatedPhone, type PhoneOptions } from '../../src/phone';
import { contactMe, httpRequest, readAllScript, startService, type Script, type TestService } from './helpers';

const valueOf = (items: Item[], name: string) => items.find((i) => i.name === name)?.value;
const cleanUp: Script = () => ({ action: 'CleanUp' });

const services: TestService[] = [];
const phones: SimulatedPhone[] = [];
afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.stop()));
  await Promise.all(services.splice(0).map((s) => s.close()));
});

async function service(script: Script): Promise<TestService> {
  const s = await startService(script);
  services.push(s);
  return s;
}

async function startedPhone(server: string, options: Partial<PhoneOptions> = {}): Promise<SimulatedPhone> {
  const phone = new SimulatedPhone({ server, mac: '00:1A:E8:00:05:01', contactMePort: 0, ...options });
  phones.push(phone);
  const first = await phone.start();
  expect(first).toMatchObject({ ok: true, reason: 'start-up', trigger: 'start' });
  return phone;
}

describe('contact-me listener', () => {
  it('listens on the phone\'s own IP, reports the bound port in contact-me-uri, answers 204 and calls back solicited', async () => {
    const svc = await service(readAllScript);
    const phone = await startedPhone(svc.url, { ipAddress: '127.0.5.1', bindIpAddress: true });
    const uri = phone.contactMeUri;
    expect(uri).toMatch(/^http:\/\/127\.0\.5\.1:(\d+)\/contact_dls\.html\/ContactDLS$/);
    expect(uri).not.toMatch(/:0\//);
    // The start-up message carries that URI, and came from the phone's address.
    expect(valueOf(svc.requests[0].message.items, 'contact-me-uri')).toBe(uri);
    expect(svc.requests[0].remoteAddress).toBe('127.0.5.1');

    const solicited = phone.next('interaction', (r) => r.reason === 'solicited');
    const answer = await contactMe(uri);
    expect(answer.status).toBe(204);
    // The phone's answer header for header (p.15); Node adds only Connection.
    const headers = Object.fromEntries(answer.rawHeaders.flatMap((v, i, a) => (i % 2 === 0 ? [[v, a[i + 1]]] : [])));
    expect(headers).toEqual({ Server: 'DlsClient', 'Content-Length': '0', 'Content-type': 'text/html', Connection: 'close' });
    expect(answer.body).toBe('');

    const [result] = await solicited;
    expect(result).toMatchObject({ ok: true, reason: 'solicited', trigger: 'contact-me', actions: ['ReadAllItems', 'CleanUp'] });
    expect(svc.requests.map((r) => r.message.reason)).toEqual(['start-up', 'reply-to', 'solicited', 'reply-to']);
    expect(valueOf(svc.requests[2].message.items, 'mac-addr')).toBe('00:1A:E8:00:05:01');
    expect(phone.contactMes).toHaveLength(1);
    expect(phone.contactMes[0]).toMatchObject({ method: 'POST', path: CONTACT_ME_PATH, status: 204, outcome: 'accepted' });
  });

  it('accepts a GET with the parameters in the query string (field notes)', async () => {
    const svc = await service(cleanUp);
    const phone = await startedPhone(svc.url);
    const solicited = phone.next('interaction', (r) => r.reason === 'solicited');
    const answer = await httpRequest(`${phone.contactMeUri}?ContactMe=true`, { method: 'GET' });
    expect(answer.status).toBe(204);
    expect((await solicited)[0]).toMatchObject({ ok: true, trigger: 'contact-me' });
    expect(phone.contactMes[0]).toMatchObject({ method: 'GET', outcome: 'accepted' });
  });

  it('calls back to dls_ip_addr:dls_ip_port over HTTPS instead of its configured service', async () => {
    const configured = await service(cleanUp);
    const other = await service(cleanUp);
    const phone = await startedPhone(configured.url);
    const port = Number(new URL(other.url).port);
    const solicited = phone.next('interaction', (r) => r.reason === 'solicited');
    expect((await contactMe(phone.contactMeUri, `ContactMe=true&dls_ip_addr=127.0.0.1&dls_ip_port=${port}`)).status).toBe(204);
    const [result] = await solicited;
    expect(result).toMatchObject({ ok: true, server: `https://127.0.0.1:${port}/DeploymentService/LoginService` });
    expect(other.requests.map((r) => [r.url, r.message.reason])).toEqual([['/DeploymentService/LoginService', 'solicited']]);
    expect(configured.requests.map((r) => r.message.reason)).toEqual(['start-up']);
    expect(phone.contactMes[0]).toMatchObject({ dlsIpAddr: '127.0.0.1', dlsIpPort: port });
  });

  it('answers 204 but does not call back within the contact gap; calls back once the gap has passed', async () => {
    let now = 1_000_000;
    const svc = await service(cleanUp);
    const phone = await startedPhone(svc.url, { now: () => now });
    const first = phone.next('interaction', (r) => r.reason === 'solicited');
    expect((await contactMe(phone.contactMeUri)).status).toBe(204);
    await first;

    now += 299_000; // default gap 300 s
    expect((await contactMe(phone.contactMeUri)).status).toBe(204);
    expect(phone.contactMes[1]).toMatchObject({ status: 204, outcome: 'ignored' });
    expect(phone.contactMes[1].reason).toMatch(/within the contact gap \(1 s of 300 s left\)/);

    now += 1_000;
    const second = phone.next('interaction', (r) => r.reason === 'solicited');
    expect((await contactMe(phone.contactMeUri)).status).toBe(204);
    expect(phone.contactMes[2]).toMatchObject({ outcome: 'accepted' });
    await second;
    await phone.stop();
    expect(svc.requests.filter((r) => r.message.reason === 'solicited')).toHaveLength(2);
  });

  it('takes the gap from dls-contact-interval once the service writes it [FIELD]', async () => {
    let now = 5_000_000;
    let wrote = false;
    const svc = await service((m) => {
      if (m.reason === 'solicited' && !wrote) {
        wrote = true;
        return { action: 'WriteItems', items: [{ name: 'dls-contact-interval', value: '65' }] };
      }
      return { action: 'CleanUp' };
    });
    const phone = await startedPhone(svc.url, { now: () => now });
    const first = phone.next('interaction', (r) => r.reason === 'solicited');
    await contactMe(phone.contactMeUri);
    await first;
    expect(phone.contactGapMs).toBe(65_000);
    now += 66_000;
    const second = phone.next('interaction', (r) => r.reason === 'solicited');
    await contactMe(phone.contactMeUri);
    expect(phone.contactMes[1].outcome).toBe('accepted');
    await second;
  });

  it('ignores a contact-me while it is already in an interaction', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const svc = await service(async (m) => {
      if (m.reason === 'solicited') await held;
      return { action: 'CleanUp' };
    });
    const phone = await startedPhone(svc.url, { contactGapMs: 0 });
    const solicited = phone.next('interaction', (r) => r.reason === 'solicited');
    await contactMe(phone.contactMeUri);
    await svc.request((r) => r.message.reason === 'solicited');
    expect(phone.inInteraction).toBe(true);
    expect((await contactMe(phone.contactMeUri)).status).toBe(204);
    expect(phone.contactMes[1]).toMatchObject({ outcome: 'ignored', reason: 'already in an interaction' });
    release();
    await solicited;
    await phone.stop();
    expect(svc.requests.filter((r) => r.message.reason === 'solicited')).toHaveLength(1);
  });

  it.each([
    ['a wrong path', '/contact_dls.html/Other', { method: 'POST', body: 'ContactMe=true', headers: { 'Content-type': 'application/x-www-form-urlencoded' } }, 404, /no such page/],
    ['a wrong method', CONTACT_ME_PATH, { method: 'PUT', body: 'ContactMe=true', headers: { 'Content-type': 'application/x-www-form-urlencoded' } }, 405, /method PUT/],
    ['no ContactMe', CONTACT_ME_PATH, { method: 'POST', body: 'dls_ip_addr=127.0.0.1', headers: { 'Content-type': 'application/x-www-form-urlencoded' } }, 400, /no ContactMe/],
    ['ContactMe=yes', CONTACT_ME_PATH, { method: 'POST', body: 'ContactMe=yes', headers: { 'Content-type': 'application/x-www-form-urlencoded' } }, 400, /ContactMe must be true or false/],
    ['a JSON body', CONTACT_ME_PATH, { method: 'POST', body: '{"ContactMe":true}', headers: { 'Content-type': 'application/json' } }, 400, /Content-type must be application\/x-www-form-urlencoded/],
    ['a bad dls_ip_port', CONTACT_ME_PATH, { method: 'POST', body: 'ContactMe=true&dls_ip_port=99999', headers: { 'Content-type': 'application/x-www-form-urlencoded' } }, 400, /dls_ip_port "99999"/],
    ['a host name as dls_ip_addr', CONTACT_ME_PATH, { method: 'POST', body: 'ContactMe=true&dls_ip_addr=dls.example', headers: { 'Content-type': 'application/x-www-form-urlencoded' } }, 400, /not an IP address/],
  ])('refuses %s without calling back', async (_name, path, request, status, reason) => {
    const svc = await service(cleanUp);
    const phone = await startedPhone(svc.url);
    const answer = await httpRequest(new URL(path, phone.contactMeUri).href, request);
    expect(answer.status).toBe(status);
    if (status === 405) expect(answer.headers.allow).toBe('GET, POST');
    expect(phone.contactMes).toHaveLength(1);
    expect(phone.contactMes[0]).toMatchObject({ status, outcome: 'refused' });
    expect(phone.contactMes[0].reason).toMatch(reason);
    expect(phone.inInteraction).toBe(false);
    await phone.stop();
    expect(svc.requests.map((r) => r.message.reason)).toEqual(['start-up']);
  });

  it('answers ContactMe=false 204 without calling back (no response expected, p.14)', async () => {
    const svc = await service(cleanUp);
    const phone = await startedPhone(svc.url, { contactGapMs: 0 });
    expect((await contactMe(phone.contactMeUri, 'ContactMe=false')).status).toBe(204);
    expect(phone.contactMes[0]).toMatchObject({ outcome: 'ignored', reason: expect.stringMatching(/ContactMe=false/) });
    await phone.stop();
    expect(svc.requests).toHaveLength(1);
  });

  it('closes the listener on stop() and runs none when contactMe is false', async () => {
    const svc = await service(cleanUp);
    const phone = await startedPhone(svc.url);
    const uri = phone.contactMeUri;
    await phone.stop();
    expect(phone.started).toBe(false);
    await expect(contactMe(uri)).rejects.toThrow(/ECONNREFUSED/);

    const quiet = new SimulatedPhone({ server: svc.url, mac: '00:1A:E8:00:05:02', contactMe: false });
    phones.push(quiet);
    let listening = false;
    quiet.on('listening', () => (listening = true));
    expect((await quiet.start()).ok).toBe(true);
    expect(listening).toBe(false);
    expect(quiet.contactMeUri).toMatch(/:8085\//);
  });

  it('refuses to start when its contact-me port is taken', async () => {
    const svc = await service(cleanUp);
    const first = await startedPhone(svc.url);
    const port = Number(new URL(first.contactMeUri).port);
    const second = new SimulatedPhone({ server: svc.url, mac: '00:1A:E8:00:05:03', contactMePort: port });
    phones.push(second);
    await expect(second.start()).rejects.toThrow(`contact-me port 127.0.0.1:${port} is already in use`);
    expect(second.started).toBe(false);
    // The port freed, it starts (helper-64: a failed start left a stopped runtime that every later start reused).
    await first.stop();
    expect((await second.start()).ok).toBe(true);
    // Stopped and started again, it talks again.
    await second.stop();
    expect((await second.start()).ok).toBe(true);
  });
});
