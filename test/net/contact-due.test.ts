/**
 * The service's own contact loop (app/contact.ts due(), every second) against simulated phones over
 * real loopback sockets: phones no contact-me can reach (a contact-me-uri for another address, as
 * behind NAT, or none) do not take the contact slots from the phones that can be reached, and
 * their waiting jobs say why they wait.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Service } from '../../src/main/app/service';
import { message, startUpItems } from '../support/messages';
import { post } from '../support/https-client';
import { SimulatedPhone } from '../../src/phone';
import { tempDirs } from '../support/tmp';
import { contactGapNote, parseJobNote } from '../../src/shared/job-notes';

const newDir = tempDirs();
const services: Service[] = [];
const phones: SimulatedPhone[] = [];
const listeners: http.Server[] = [];
afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.stop()));
  for (const l of listeners.splice(0)) l.close();
  for (const s of services.splice(0)) await s.stop();
});

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const NAT_NOTE = /^not contacted: contact-me-uri points to 127\.0\.0\.99, but the phone talks from 127\.0\.0\.1; its jobs go out when the phone next calls in by itself$/;

describe('the contact loop', () => {
  it('twelve phones it cannot reach do not keep the one it can from being contacted; their jobs say why they wait, until they call in', async () => {
    const dataDir = newDir();
    const service = new Service({ dataDir, host: '127.0.0.1', port: 0, contact: { gapMs: 60_000 } });
    services.push(service);
    const { port } = await service.start();
    const server = `https://127.0.0.1:${port}`;
    // Behind NAT: each reports its own address in contact-me-uri, and talks from 127.0.0.1. Their
    // MACs sort first, as the loop takes the waiting devices.
    const behindNat = Array.from({ length: 12 }, (_, i) => new SimulatedPhone({ server, mac: `00:1A:E8:00:00:${(i + 1).toString(16).padStart(2, '0')}`, ipAddress: '127.0.0.99', contactMePort: 0 }));
    const reachable = new SimulatedPhone({ server, mac: '00:1A:E8:FF:00:01', ipAddress: '127.0.6.50', bindIpAddress: true, contactMePort: 0 });
    phones.push(...behindNat, reachable);
    for (const p of [...behindNat, reachable]) expect((await p.start()).ok).toBe(true);

    const jobOf = new Map<string, number>();
    for (const p of [...behindNat, reachable]) jobOf.set(p.mac, service.store.jobs.add({ mac: p.mac, kind: 'WriteItems', items: [{ name: 'sntp-addr', value: 'ntp.contact.example' }] }, Date.now()).id);

    // The reachable phone is contacted, calls back and takes its job.
    await until('the reachable phone to take its job', () => (service.store.jobs.get(jobOf.get(reachable.mac)!)?.state === 'done' ? true : undefined));
    expect(reachable.contactMes).toHaveLength(1);
    // The others were never tried, and their jobs say why.
    for (const p of behindNat) {
      const job = await until(`the note on ${p.mac}'s job`, () => {
        const j = service.store.jobs.get(jobOf.get(p.mac)!);
        return j?.error ? j : undefined;
      });
      expect(job).toMatchObject({ state: 'queued', attempts: 0 });
      expect(job.error).toMatch(NAT_NOTE);
    }
    expect(service.store.listExchanges({}, { limit: 500 }).exchanges.filter((x) => x.listener === 'contact-me')).toHaveLength(1);
    // A job queued later says so too, at the next turn of the loop (not at the next refresh, a minute on).
    const later = service.store.jobs.add({ mac: behindNat[1]!.mac, kind: 'ReadAllItems', items: [] }, Date.now()).id;
    expect(await until('the later job\'s note', () => service.store.jobs.get(later)?.error ?? undefined, 5000)).toMatch(NAT_NOTE);

    // One of them calls in by itself: its job goes out, and the note with it.
    const [first] = behindNat;
    expect((await first!.runInteraction('local-changes')).ok).toBe(true);
    expect(service.store.jobs.get(jobOf.get(first!.mac)!)).toMatchObject({ state: 'done', error: null });
  }, 60_000);

  it('a note is the running service\'s view: a restart clears it, and the loop writes it again while it holds', async () => {
    const dataDir = newDir();
    const first = new Service({ dataDir, host: '127.0.0.1', port: 0, contact: { gapMs: 60_000 } });
    services.push(first);
    const { port } = await first.start();
    const phone = new SimulatedPhone({ server: `https://127.0.0.1:${port}`, mac: '00:1A:E8:00:00:21', ipAddress: '127.0.0.99', contactMePort: 0 });
    phones.push(phone);
    expect((await phone.start()).ok).toBe(true);
    const id = first.store.jobs.add({ mac: phone.mac, kind: 'WriteItems', items: [{ name: 'sntp-addr', value: 'a' }] }, Date.now()).id;
    await until('the note', () => first.store.jobs.get(id)?.error ?? undefined);
    await first.stop();
    services.splice(services.indexOf(first), 1);

    // Without its contact loop (--no-auto-contact), the next run says nothing it does not know.
    const quiet = new Service({ dataDir, host: '127.0.0.1', port: 0, autoContact: false });
    services.push(quiet);
    await quiet.start();
    expect(quiet.store.jobs.get(id)).toMatchObject({ state: 'queued', error: null });
    await quiet.stop();
    services.splice(services.indexOf(quiet), 1);

    const again = new Service({ dataDir, host: '127.0.0.1', port: 0, contact: { gapMs: 60_000 } });
    services.push(again);
    await again.start();
    expect((await until('the note again', () => again.store.jobs.get(id)?.error ?? undefined))).toMatch(NAT_NOTE);
  }, 60_000);

  it('a job queued within the contact gap of the last contact-me says so, with when the next goes; the phone calling in clears it', async () => {
    const dataDir = newDir();
    const service = new Service({ dataDir, host: '127.0.0.1', port: 0, contact: { gapMs: 60_000 } });
    services.push(service);
    const { port } = await service.start();
    const phone = new SimulatedPhone({ server: `https://127.0.0.1:${port}`, mac: '00:1A:E8:00:00:31', ipAddress: '127.0.6.31', bindIpAddress: true, contactMePort: 0 });
    phones.push(phone);
    expect((await phone.start()).ok).toBe(true);
    const first = service.store.jobs.add({ mac: phone.mac, kind: 'WriteItems', items: [{ name: 'sntp-addr', value: 'a.example' }] }, Date.now()).id;
    await until('the first job done', () => (service.store.jobs.get(first)?.state === 'done' ? true : undefined));
    const sentAt = service.store.device(phone.mac)!.lastContactMe!;
    // A second job right after: no contact-me for a minute, and the job says why and until when.
    // The phone called back for the first job: the note does not say it is waited for (helper-61).
    const second = service.store.jobs.add({ mac: phone.mac, kind: 'WriteItems', items: [{ name: 'sntp-addr', value: 'b.example' }] }, Date.now()).id;
    const note = await until('the gap note', () => service.store.jobs.get(second)?.error ?? undefined, 5000);
    expect(note).toBe(contactGapNote(sentAt, sentAt + 60_000, true));
    expect(note).not.toContain('waiting for the phone to call back');
    expect(parseJobNote(note)).toMatchObject({ key: 'contactGapCalledBack' });
    expect(phone.contactMes).toHaveLength(1);
    // The phone calls in by itself: the job goes out, and the note with it.
    expect((await phone.runInteraction('local-changes')).ok).toBe(true);
    expect(service.store.jobs.get(second)).toMatchObject({ state: 'done', error: null });
  });

  /**
   * A service with a contact gap of a minute, and a "phone" that is only a contact-me listener on
   * `address` answering as `answer` does: registered by a start-up from that address, known.
   */
  async function serviceAndListener(address: string, mac: string, answer: http.RequestListener) {
    const service = new Service({ dataDir: newDir(), host: '127.0.0.1', port: 0, contact: { gapMs: 60_000 } });
    services.push(service);
    const { port } = await service.start();
    const listener = http.createServer(answer);
    await new Promise<void>((r) => listener.listen(0, address, r));
    listeners.push(listener);
    const uri = `http://${address}:${(listener.address() as AddressInfo).port}/contact_dls.html/ContactDLS`;
    expect((await post(port, message({ reason: 'start-up', items: startUpItems(mac, { 'contact-me-uri': uri }) }), { localAddress: address })).status).toBe(200);
    service.sweep(Date.now() + 10 * 60_000);
    return service;
  }

  it('a phone that took the contact-me (204) but has not called back is said to be waited for (helper-64: its own record moved last_contact)', async () => {
    // A "phone" that answers contact-me with 204 and never calls back.
    const contacts: string[] = [];
    const mac = '00:1A:E8:00:00:40';
    const service = await serviceAndListener('127.0.6.40', mac, (req, res) => {
      contacts.push(req.url ?? '');
      res.writeHead(204).end();
    });
    const job = service.store.jobs.add({ mac, kind: 'WriteItems', items: [{ name: 'sntp-addr', value: 'a.example' }] }, Date.now()).id;
    const note = await until('the gap note', () => service.store.jobs.get(job)?.error ?? undefined);
    const sentAt = service.store.device(mac)!.lastContactMe!;
    expect(contacts).toHaveLength(1);
    expect(note).toBe(contactGapNote(sentAt, sentAt + 60_000));
    expect(parseJobNote(note)).toMatchObject({ key: 'contactGap' });
  });

  it('a contact-me answer is stored without key material, as any body is (helper-65: it was stored as the phone sent it)', async () => {
    const mac = '00:1A:E8:00:00:41';
    const service = await serviceAndListener('127.0.6.41', mac, (_req, res) => res.writeHead(200, { 'Content-Type': 'text/xml' }).end('<ItemList><Item name="secure-mode-data">CONTACT-KEY-7</Item></ItemList>'));
    service.store.jobs.add({ mac, kind: 'ReadAllItems', items: [] }, Date.now());
    const answer = await until('the contact-me record', () => service.store.exchanges({ mac }).find((x) => x.kind === 'contact-me'));
    expect(Buffer.from(service.store.exchange(answer.id)!.responseBody).toString('utf8')).toBe('<ItemList><Item name="secure-mode-data">••••••</Item></ItemList>');
  });

  it('contacts stay fair: the phone longest without a contact-me goes first, whatever its MAC', async () => {
    const dataDir = newDir();
    const service = new Service({ dataDir, host: '127.0.0.1', port: 0, autoContact: false, contact: { gapMs: 60_000, concurrency: 1 } });
    services.push(service);
    const { port } = await service.start();
    const macs = ['00:1A:E8:00:00:41', '00:1A:E8:00:00:42', '00:1A:E8:00:00:43'];
    for (const mac of macs) expect((await post(port, message({ reason: 'start-up', items: startUpItems(mac) }))).status).toBe(200);
    for (const mac of macs) service.store.jobs.add({ mac, kind: 'ReadAllItems', items: [] }, Date.now());
    // Contacted 2 and 10 minutes ago, and never (all past the gap): the one never contacted first, then the longest ago.
    const now = Date.now();
    service.store.jobs.contactMeSent(macs[0]!, now - 120_000);
    service.store.jobs.contactMeSent(macs[2]!, now - 600_000);
    expect(service.contacts.due(() => false)).toEqual([macs[1]]);
    service.store.jobs.contactMeSent(macs[1]!, now - 90_000);
    expect(service.contacts.due(() => false)).toEqual([macs[2]]);
  });

  it('at most two contact-me go to one address at a time: a host naming many MACs cannot take every slot', async () => {
    const dataDir = newDir();
    const service = new Service({ dataDir, host: '127.0.0.1', port: 0, autoContact: false, contact: { gapMs: 60_000, timeoutMs: 1000 } });
    services.push(service);
    const { port } = await service.start();
    const many = Array.from({ length: 6 }, (_, i) => `00:1A:E8:00:01:0${i}`);
    for (const mac of many) expect((await post(port, message({ reason: 'start-up', items: startUpItems(mac) }))).status).toBe(200);
    const other = '00:1A:E8:FF:01:00';
    expect((await post(port, message({ reason: 'start-up', items: startUpItems(other, { 'contact-me-uri': 'http://127.0.0.3:9/contact_dls.html/ContactDLS' }) }), { localAddress: '127.0.0.3' })).status).toBe(200);
    for (const mac of [...many, other]) service.store.jobs.add({ mac, kind: 'ReadAllItems', items: [] }, Date.now());
    const due = service.contacts.due(() => false);
    expect(due).toEqual([many[0], many[1], other]);
    // As the service does: contacted at once. While they are under way, nothing more for either address.
    const underWay = due.map((mac) => service.contacts.contact(mac));
    expect(service.contacts.due(() => false)).toEqual([]);
    // They end (refused: nobody listens there): the address has its slots again.
    for (const o of await Promise.all(underWay)) expect(o.ok).toBe(false);
    expect(service.contacts.due(() => false)).toEqual([many[2], many[3]]);
  });

  it('no slot free: nothing more is handed out, and phones that cannot be contacted still get their note', async () => {
    const dataDir = newDir();
    const service = new Service({ dataDir, host: '127.0.0.1', port: 0, autoContact: false, contact: { gapMs: 60_000, concurrency: 1 } });
    services.push(service);
    const { port } = await service.start();
    const slow = http.createServer((_req, res) => void setTimeout(() => res.writeHead(204).end(), 800));
    await new Promise<void>((r) => slow.listen(0, '127.0.8.1', r));
    try {
      const uri = (ip: string) => `http://${ip}:${(slow.address() as AddressInfo).port}/contact_dls.html/ContactDLS`;
      const A = '00:1A:E8:00:02:01';
      const B = '00:1A:E8:00:02:02';
      expect((await post(port, message({ reason: 'start-up', items: startUpItems(A, { 'contact-me-uri': uri('127.0.8.1') }) }), { localAddress: '127.0.8.1' })).status).toBe(200);
      expect((await post(port, message({ reason: 'start-up', items: startUpItems(B, { 'contact-me-uri': uri('127.0.8.2') }) }), { localAddress: '127.0.8.2' })).status).toBe(200);
      // C was contacted before (it sorts last) and now names an address it does not talk from.
      const C = '00:1A:E8:00:02:03';
      expect((await post(port, message({ reason: 'start-up', items: startUpItems(C, { 'contact-me-uri': 'http://127.0.0.99:8085/contact_dls.html/ContactDLS' }) }), { localAddress: '127.0.8.3' })).status).toBe(200);
      service.store.jobs.contactMeSent(C, Date.now() - 600_000);
      const jobC = service.store.jobs.add({ mac: C, kind: 'ReadAllItems', items: [] }, Date.now()).id;
      for (const mac of [A, B]) service.store.jobs.add({ mac, kind: 'ReadAllItems', items: [] }, Date.now());
      const first = service.contacts.due(() => false);
      expect(first).toEqual([A]);
      const underWay = service.contacts.contact(A);
      for (let tick = 0; tick < 3; tick++) expect(service.contacts.due(() => false)).toEqual([]);
      expect(service.store.jobs.get(jobC)!.error).toMatch(/^not contacted: contact-me-uri points to 127\.0\.0\.99/);
      expect((await underWay).ok).toBe(true);
      expect(service.contacts.due(() => false)).toEqual([B]);
    } finally {
      await new Promise((r) => slow.close(r));
    }
  });

  it('stopping the service while a contact-me is on its way records nothing and reports no error', async () => {
    const errors: Error[] = [];
    const dataDir = newDir();
    const service = new Service({ dataDir, host: '127.0.0.1', port: 0, autoContact: false, onError: (e) => errors.push(e) });
    services.push(service);
    const { port } = await service.start();
    let asked!: () => void;
    const reached = new Promise<void>((r) => (asked = r));
    const slow = http.createServer((_req, res) => {
      asked();
      setTimeout(() => res.writeHead(204).end(), 1500);
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.7.1', r));
    try {
      const MAC = '00:1A:E8:00:00:51';
      const uri = `http://127.0.7.1:${(slow.address() as AddressInfo).port}/contact_dls.html/ContactDLS`;
      expect((await post(port, message({ reason: 'start-up', items: startUpItems(MAC, { 'contact-me-uri': uri }) }), { localAddress: '127.0.7.1' })).status).toBe(200);
      const contacted = service.contacts.contact(MAC);
      await reached;
      await service.stop();
      services.splice(services.indexOf(service), 1);
      await expect(contacted).resolves.toEqual({ mac: MAC, ok: false, skipped: 'the service is stopping', skip: { key: 'stopping', params: {} } });
      expect(errors).toEqual([]);
    } finally {
      await new Promise((r) => slow.close(r));
    }
  });
});
