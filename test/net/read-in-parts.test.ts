/**
 * A ReadItems over the phone's maxItems goes in parts (manual p.28: maxItems is "the maximum number
 * of items allowed in a single message"; p.71: the service splits, as for WriteItems), against the
 * real listener and the simulated phone (helper-66 found every read sent whole).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Service } from '../../src/main/app/service';
import { jobMessages } from '../../src/main/provisioning/job-messages';
import { SimulatedPhone } from '../../src/phone';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const services: Service[] = [];
afterEach(async () => {
  for (const s of services.splice(0)) await s.stop();
});

const MAC = '00:1A:E8:00:09:21';
const WANTED = ['sntp-addr', 'daylight-save', 'e164', 'reg-addr', 'reg-port'];

describe('a read over the phone\'s maxItems', () => {
  it('splits a key\'s related items too: a read asks for each on its own (helper-68); a write keeps them together (p.71)', () => {
    const items = ['function-key-def', 'key-label', 'blf-code'].flatMap((name) => [1, 2].map((index) => ({ name, index, value: '' })));
    expect(jobMessages({ kind: 'ReadItems', items }, 2).map((m) => m.items.length)).toEqual([2, 2, 2]);
    expect(jobMessages({ kind: 'WriteItems', items: items.map((i) => ({ ...i, value: '1' })) }, 2).every((m) => m.items.length >= 2)).toBe(true);
  });

  it('goes in parts of at most maxItems, each answered before the next; the job is done once, with every item read', async () => {
    const service = new Service({ dataDir: newDir(), host: '127.0.0.1', port: 0, autoContact: false });
    services.push(service);
    const { port } = await service.start();
    const options = { server: `https://127.0.0.1:${port}`, mac: MAC };
    expect(await new SimulatedPhone(options).runInteraction()).toMatchObject({ ok: true, end: 'CleanUp' });
    const job = service.store.jobs.add({ mac: MAC, kind: 'ReadItems', items: WANTED.map((name) => ({ name, value: '' })) }, Date.now());

    // The same phone, announcing maxItems 2 from now on.
    const sent: { action: string; items: string[] }[] = [];
    const phone = new SimulatedPhone({
      ...options, maxItems: 2, configurationChanged: false,
      onExchange: (_xml, res) => void (res.message && sent.push({ action: res.message.action, items: res.message.items.map((i) => i.name) })),
    });
    // Values changed on the phone since its start-up (by hand, say): only the read can bring them.
    for (const item of phone.config.items.values()) if (WANTED.includes(item.name)) item.value = `${item.value}-changed`;
    const result = await phone.runInteraction('solicited');
    expect(result).toMatchObject({ ok: true, end: 'CleanUp' });
    expect(sent).toEqual([
      { action: 'ReadItems', items: ['sntp-addr', 'daylight-save'] },
      { action: 'ReadItems', items: ['e164', 'reg-addr'] },
      { action: 'ReadItems', items: ['reg-port'] },
      { action: 'CleanUp', items: [] },
    ]);
    expect(service.store.jobs.get(job.id)).toMatchObject({ state: 'done', attempts: 1, error: null });
    const stored = new Map(service.store.items(MAC).map((i) => [i.name, i.value]));
    const onPhone = new Map([...phone.config.items.values()].map((i) => [i.name, i.value]));
    for (const name of WANTED) expect(stored.get(name), name).toMatch(/-changed$/);
    expect(WANTED.map((name) => stored.get(name))).toEqual(WANTED.map((name) => onPhone.get(name)));
  });
});
