/**
 * The API's actions over the real store: jobs built as the CLI builds them, cancel, contact-me,
 * profiles, the catalogue, Secure Mode status, bootstrap runs and their PIN sheet; the argument
 * checks every transport shares; job and bootstrap events.
 */
import { generateKeyPair } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { BOOTSTRAP_CONCURRENCY } from '../../src/main/app/bootstrap';
import { LocalDlsApiHost } from '../../src/main/bridge/api-host';
import { Contacts } from '../../src/main/app/contact';
import type { Pki } from '../../src/main/pki';
import { ApiArgumentError, type ApiError, type BootstrapRun } from '../../src/shared/api';
import type { ExchangeSummary, Job } from '../../src/shared/model';
import { MASK } from '../../src/shared/secrets';
import { fastProtector, openPki } from '../pki/helpers';
import { FlowHarness } from '../support/handler';
import { runCli } from '../support/cli';
import { startUpItems } from '../support/messages';
import { tempDirs } from '../support/tmp';
import { interaction, MAC } from './api-harness';

const newDir = tempDirs();
const B = '00:1A:E8:00:00:02';
const open: { h: FlowHarness; api: LocalDlsApiHost }[] = [];
afterEach(async () => {
  for (const { h, api } of open.splice(0)) {
    await api.close();
    h.close();
  }
});

function setup(extra: { pki?: Pki; dir?: string; contacts?: boolean } = {}) {
  const dir = extra.dir ?? newDir();
  const h = new FlowHarness(dir);
  const service = {
    store: h.store,
    onExchange: (cb: (x: ExchangeSummary) => void) => {
      h.handler.events.on('exchange', cb);
      return () => h.handler.events.off('exchange', cb);
    },
    ...(extra.contacts ? { contacts: new Contacts(h.store, {}) } : {}),
    ...(extra.pki ? { pki: extra.pki, keyProtector: fastProtector(dir) } : {}),
  };
  const api = new LocalDlsApiHost(service, { dataDir: dir, batchMs: 5, networkInterfaces: () => ({}), listeners: [{ kind: 'secure', host: '0.0.0.0', port: 18444, tlsProfile: 'mutual TLS', state: 'listening', error: null }] });
  open.push({ h, api });
  return { h, api, dir };
}

const refused = async (p: Promise<unknown>, message: RegExp, code = 'bad-argument') => {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e, String(message)).not.toBeNull();
  expect((e as ApiError).code).toBe(code);
  expect((e as Error).message).toMatch(message);
};

const until = async (check: () => boolean) => {
  await expect.poll(check, { timeout: 5000, interval: 10 }).toBe(true);
};

describe('API actions', () => {
  it('addJob builds every kind as `localdls job add` does, for several devices at once', async () => {
    const { h, api } = setup();
    interaction(h);
    interaction(h, B, '192.0.2.11');
    const write = await api.addJob([MAC, '00-1a-e8-00-00-02'], { kind: 'write', items: [{ name: 'sntp-addr', value: 'pool.ntp.org' }, { name: 'function-key-def', index: 0, value: '3' }, { name: 'no-such-item', value: 'x' }] });
    expect(write.jobs.map((j) => [j.mac, j.kind, j.state, j.source])).toEqual([[MAC, 'WriteItems', 'queued', 'ui'], [B, 'WriteItems', 'queued', 'ui']]);
    expect(write.jobs[0]!.items).toEqual([{ name: 'sntp-addr', value: 'pool.ntp.org' }, { name: 'function-key-def', index: 0, value: '3' }, { name: 'no-such-item', value: 'x' }]);
    expect(write.notes).toEqual(['not in LocalDLS\'s item catalogue (the phone may answer "unknown item"): no-such-item']);
    // An item the phone only reports: said before it is queued (the UI's editor says it as it is typed).
    const readOnly = await api.addJob([MAC], { kind: 'write', items: [{ name: 'user-pwd-expiry', value: '30' }, { name: 'sntp-addr', value: 'pool.ntp.org' }] });
    expect(readOnly.notes).toEqual(['read-only on the phone (it will answer "read only", and the job fails): user-pwd-expiry']);
    expect((await api.addJob([MAC], { kind: 'read', items: [{ name: 'user-pwd-expiry' }] })).notes).toEqual([]);
    const read = await api.addJob([MAC], { kind: 'read', items: [{ name: 'sntp-addr' }, { name: 'ldap-server-address', index: 1 }] });
    expect(read.jobs[0]!.items).toEqual([{ name: 'sntp-addr', value: '' }, { name: 'ldap-server-address', index: 1, value: '' }]);
    expect((await api.addJob([MAC], { kind: 'read-all' })).jobs[0]!.kind).toBe('ReadAllItems');
    expect((await api.addJob([MAC], { kind: 'factory-reset' })).jobs[0]!.kind).toBe('FactoryReset');
    const file = await api.addJob([MAC], { kind: 'file', fileType: 'LOGO', urls: ['https://files.example/logo.png'] });
    expect(file.jobs[0]!.items).toEqual([{ name: 'file-https-base-url', value: 'https://files.example/logo.png' }, { name: 'file-type', value: 'LOGO' }]);
    const two = await api.addJob([MAC], { kind: 'file', fileType: 'RINGTONE', urls: ['https://f/a.mp3'], deletes: [{ name: 'old.mp3', type: 'RINGTONE' }] });
    expect(two.jobs[0]!.items.filter((i) => i.name === 'file-action')).toEqual([{ name: 'file-action', index: 1, value: 'deploy' }, { name: 'file-action', index: 2, value: 'delete' }]);
    const fw = await api.addJob([MAC], { kind: 'firmware', version: '3.5.12.0', url: 'ftp://user:pw@files.example/fw/os60.img' });
    expect(fw.jobs[0]).toMatchObject({ kind: 'SoftwareDeployment', expect: { 'software-version': 'V3 R5.12.0' } });
    // The FTP password is a secret: masked in what the UI gets, intact in the store.
    expect(fw.jobs[0]!.items.find((i) => i.name === 'file-pwd')?.value).toBe(MASK);
    expect(h.store.jobs.get(fw.jobs[0]!.id)!.items.find((i) => i.name === 'file-pwd')?.value).toBe('pw');
  });

  it('addJob and the other actions refuse bad input with the words the CLI uses, and queue nothing', async () => {
    const { h, api } = setup();
    interaction(h);
    await refused(api.addJob([], { kind: 'read-all' }), /addJob: macs must name at least one device/);
    await refused(api.addJob(['nope'], { kind: 'read-all' }), /macs\[0\] "nope" is not a MAC address/);
    await refused(api.addJob([MAC], { kind: 'launch' } as never), /spec.kind must be one of write, read, read-all/);
    await refused(api.addJob([MAC], { kind: 'write', items: [] }), /spec.items must hold at least one item to write/);
    await refused(api.addJob([MAC], { kind: 'write', items: [{ name: '=x', value: '1' }] }), /"=x" is not an item name/);
    await refused(api.addJob([MAC], { kind: 'write', items: [{ name: 'a', index: 1_000_000, value: '1' }] }), /index must be from 0 to 999999/);
    await refused(api.addJob([MAC], { kind: 'write', items: [{ name: 'a' }] } as never), /spec.items\[0\].value must be a string/);
    await refused(api.addJob([MAC], { kind: 'read', items: [{ name: 'a', value: 'b' }] } as never), /a read names items without values/);
    await refused(api.addJob([MAC], { kind: 'restart', items: [] } as never), /spec has an unknown field "items"/);
    await refused(api.addJob([MAC], { kind: 'firmware', version: 'new', url: 'https://x/fw' }), /addJob: version "new" is not a firmware version like 3.5.12.0/);
    await refused(api.addJob([MAC], { kind: 'file', fileType: 'LOGO', urls: ['http://x/a.png'] }), /https:\/\/ or ftp:\/\//);
    await refused(api.addJob([MAC], { kind: 'file', urls: ['https://x/a.png'] }), /file needs a file type \(RINGTONE, LOGO/);
    // A refused URL is quoted without its password.
    await refused(api.addJob([MAC], { kind: 'file', fileType: 'LOGO', urls: ['ftp://user:s3cret@files.example/'] }), /"ftp:\/\/user:••••••@files.example\/" names no file/);
    await refused(api.addJob([MAC], { kind: 'file', urls: [] }), /file needs a URL/);
    await refused(api.addJob([MAC], { kind: 'firmware', version: '3.5.12.0', url: 'https://x/fw', priority: 'now' } as never), /spec.priority must be one of normal, immediate/);
    await refused(api.addJob(['00:1A:E8:00:00:09'], { kind: 'restart' }), /no device 00:1A:E8:00:00:09: a phone must contact the service once/, 'not-found');
    expect(h.store.jobs.list()).toEqual([]);

    await refused(api.listJobs({ states: ['stuck'] } as never), /filter.states\[0\] must be one of queued, sent, done/);
    await refused(api.listJobs({ limit: 0 }), /filter.limit must be from 1 to 5000/);
    await refused(api.cancelJob(-1), /id must be a whole number/);
    await refused(api.contactNow('x' as never), /macs must be a list of MAC addresses/);
    await refused(api.setProfile({ name: 'bad name!', deviceType: null, matchMac: null, matchE164: null, items: [{ name: 'a', value: 'b' }] }), /profile.name must be letters, digits/);
    await refused(api.applyProfile('site', []), /macs must name at least one device/);
    await refused(api.startBootstrap([MAC], { pin: '12', maxPinRetries: 3 }), /options.pin must be "none", "auto" or a PIN of 6 to 16 digits/);
    await refused(api.startBootstrap([MAC], { pin: 'auto', maxPinRetries: 11 }), /options.maxPinRetries must be from 1 to 10/);
    await refused(api.bootstrapPinSheet('run', 'pdf' as never), /format must be one of csv, html/);
    await refused(api.getBootstrapRun('../etc'), /runId is not a bootstrap run id/);
    await refused(api.call('addJob', [[MAC]]), /takes 2 arguments, not 1/);
    const e = await api.addJob([MAC], { kind: 'launch' } as never).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiArgumentError);
  });

  it('listJobs: newest first, filtered, masked; cancelJob once; job changes arrive as batched events with the devices', async () => {
    const { h, api } = setup();
    interaction(h);
    interaction(h, B, '192.0.2.11');
    const events: Job[][] = [];
    const devices: string[] = [];
    api.onJobsChanged((j) => events.push(j));
    api.onDevicesChanged((d) => devices.push(...d.map((x) => `${x.mac}:${x.jobs.queued}`)));
    const [a] = (await api.addJob([MAC], { kind: 'write', items: [{ name: 'sip-pwd', value: 's3cret' }] })).jobs;
    const [b] = (await api.addJob([B], { kind: 'read-all' })).jobs;
    await until(() => events.flat().length >= 2);
    expect(events.flat().map((j) => j.id).sort()).toEqual([a!.id, b!.id]);
    expect(JSON.stringify(events)).not.toContain('s3cret');
    await until(() => devices.includes(`${MAC}:1`) && devices.includes(`${B}:1`));
    expect((await api.listDevices()).map((d) => [d.mac, d.jobs])).toEqual([[MAC, { queued: 1, sent: 0, waitingBusy: 0 }], [B, { queued: 1, sent: 0, waitingBusy: 0 }]]);

    const all = await api.listJobs({});
    expect(all.jobs.map((j) => j.id)).toEqual([b!.id, a!.id]);
    expect(all.matched).toBe(2);
    expect(all.jobs[1]!.items).toEqual([{ name: 'sip-pwd', value: MASK }]);
    expect((await api.listJobs({ mac: '00-1a-e8-00-00-02' })).jobs.map((j) => j.id)).toEqual([b!.id]);
    expect((await api.listJobs({ kinds: ['WriteItems'], states: ['queued'] })).jobs.map((j) => j.id)).toEqual([a!.id]);
    expect(await api.listJobs({ limit: 1 })).toMatchObject({ matched: 2, jobs: [{ id: b!.id }] });

    events.length = 0;
    expect(await api.cancelJob(a!.id)).toMatchObject({ state: 'cancelled', error: 'cancelled by the user' });
    await refused(api.cancelJob(a!.id), new RegExp(`job ${a!.id} is cancelled: only queued, sent or waiting-busy jobs can be cancelled`), 'conflict');
    await refused(api.cancelJob(999), /no job 999/, 'not-found');
    await until(() => events.flat().some((j) => j.id === a!.id && j.state === 'cancelled'));

    // The phone calls and takes its job: the change is announced without anyone asking.
    events.length = 0;
    h.clock = Date.now(); // the service's clock: jobs changed by exchanges carry its time
    h.say('192.0.2.11', { reason: 'solicited', items: startUpItems(B).filter((i) => i.name !== 'configuration-changed-flag') });
    await until(() => events.flat().some((j) => j.id === b!.id && j.state === 'sent'));
  });

  it('contactNow: skips phones it may not contact, and says why and when', async () => {
    const { h, api } = setup({ contacts: true });
    // The phone reports a contact-me URI on the address it talks from (else it is never contacted).
    interaction(h, MAC, '127.0.0.1');
    h.store.jobs.contactMeSent(MAC, Date.now());
    const [r] = await api.contactNow([MAC]);
    expect(r).toMatchObject({ mac: MAC, ok: false });
    expect(r!.skipped).toMatch(/contact gap: the phone ignores another contact-me until \d{4}-/);
    expect(r!.nextAt).toBeGreaterThan(Date.now());
    // With a key for the UI's language: the same moment as nextAt.
    expect(r!.skip).toEqual({ key: 'gap', params: { until: new Date(r!.nextAt!).toISOString() } });
    expect(await api.contactNow(['00:1A:E8:00:00:77'])).toEqual([
      { mac: '00:1A:E8:00:00:77', ok: false, skipped: expect.stringMatching(/^no device 00:1A:E8:00:00:77: this service has not heard from that phone/) as unknown, skip: { key: 'noDevice', params: { mac: '00:1A:E8:00:00:77' } } },
    ]);
    const { api: without } = setup();
    await refused(without.contactNow([MAC]), /contact-me is not available/, 'unavailable');
  });

  it('profiles: set (a masked secret keeps its value), list masked, apply queues only what differs', async () => {
    const { h, api } = setup();
    interaction(h);
    const p = await api.setProfile({ name: 'site', deviceType: null, matchMac: null, matchE164: null, items: [{ name: 'sntp-addr', value: 'pool.ntp.org' }, { name: 'sip-pwd', value: 'p4ss' }] });
    expect(p.items).toEqual([{ name: 'sntp-addr', value: 'pool.ntp.org' }, { name: 'sip-pwd', value: MASK }]);
    expect((await api.listProfiles())[0]!.items[1]!.value).toBe(MASK);
    // Saved again from the UI with the mask: the stored password stays.
    await api.setProfile({ name: 'site', deviceType: '', matchMac: '00:1A:E8:*', matchE164: null, items: [{ name: 'sntp-addr', value: 'pool.ntp.org' }, { name: 'sip-pwd', value: MASK }] });
    expect(h.store.jobs.profile('site')).toMatchObject({ deviceType: null, matchMac: '00:1A:E8:*', items: [{ name: 'sntp-addr', value: 'pool.ntp.org' }, { name: 'sip-pwd', value: 'p4ss' }] });
    await refused(api.setProfile({ name: 'other', deviceType: null, matchMac: null, matchE164: null, items: [{ name: 'sip-pwd', value: MASK }] }), /sip-pwd has the mask/);
    // A file URL whose query and password the view masks: saved back as shown (the Edit dialog), it keeps its value.
    const url = 'https://dls:pw@files.example/fw/?version=3&sig=abc';
    await api.setProfile({ name: 'fw', deviceType: null, matchMac: null, matchE164: null, items: [{ name: 'file-https-base-url', value: url }, { name: 'e164', value: '1' }] });
    const shown = (await api.listProfiles()).find((x) => x.name === 'fw')!.items;
    expect(shown[0]!.value).toBe(`https://dls:${MASK}@files.example/fw/?version=${MASK}&sig=${MASK}`);
    await api.setProfile({ name: 'fw', deviceType: null, matchMac: null, matchE164: null, items: [shown[0]!, { name: 'e164', value: '2' }] });
    expect(h.store.jobs.profile('fw')!.items).toEqual([{ name: 'file-https-base-url', value: url }, { name: 'e164', value: '2' }]);
    // Edited around the mask, it would be stored broken: refused, saying so.
    await refused(api.setProfile({ name: 'fw', deviceType: null, matchMac: null, matchE164: null, items: [{ name: 'file-https-base-url', value: shown[0]!.value.replace('/fw/', '/fw2/') }] }), /file-https-base-url holds the mask \(••••••\) in its value: type the whole value again/);
    expect(h.store.jobs.profile('fw')!.items[0]!.value).toBe(url);

    const [applied] = await api.applyProfile('site', [MAC]);
    // sntp-addr is already pool.ntp.org on the phone (interaction()); only the password differs.
    expect(applied).toMatchObject({ mac: MAC, differs: 1 });
    expect(h.store.jobs.get(applied!.jobId!)!.items).toEqual([{ name: 'sip-pwd', value: 'p4ss' }]);
    // Applied again (a double click, the CLI beside the UI) while that job waits: nothing queued twice.
    const [again] = await api.applyProfile('site', [MAC]);
    expect(again).toEqual({ mac: MAC, jobId: null, differs: 1, skipped: `what differs is queued already (job ${applied!.jobId} writes it): nothing queued again`, skip: { key: 'profileQueued', params: { jobs: String(applied!.jobId) } } });
    const cli = await runCli(['profile', 'apply', 'site', '--mac', MAC, '--data-dir', h.store.dataDir]);
    expect(cli.stdout).toContain(`${MAC}: skipped, what differs is queued already (job ${applied!.jobId} writes it)`);
    expect(h.store.jobs.list({ mac: MAC }).filter((j) => j.kind === 'WriteItems')).toHaveLength(1);
    await api.setProfile({ name: 'os40', deviceType: 'OpenStage 40', matchMac: null, matchE164: null, items: [{ name: 'e164', value: '1' }] });
    expect(await api.applyProfile('os40', [MAC])).toEqual([{ mac: MAC, jobId: null, differs: 0, skipped: 'profile os40 is for OpenStage 40, the phone is OpenStage 60', skip: { key: 'profileOtherType', params: { profile: 'os40', profileType: 'OpenStage 40', deviceType: 'OpenStage 60' } } }]);
    await refused(api.applyProfile('nope', [MAC]), /no profile "nope"/, 'not-found');
  });

  it('overrides: set, listed masked, laid over the profile when applied, removed; the CLI sees and does the same', async () => {
    const { h, api } = setup();
    interaction(h);
    expect(await api.getOverrides(MAC)).toEqual([]);
    expect(await api.setOverrides(MAC, [{ name: 'e164', value: '4989700107' }, { name: 'sip-pwd', value: 'own s3cret' }])).toBe(2);
    // Set again: the same name replaces its value, nothing doubled.
    expect(await api.setOverrides(MAC, [{ name: 'e164', value: '4989700108' }])).toBe(1);
    expect(await api.getOverrides(MAC)).toEqual([{ name: 'e164', value: '4989700108' }, { name: 'sip-pwd', value: MASK }]);
    // The CLI lists the same overrides, masked too.
    const listed = await runCli(['profile', 'override', '--mac', MAC, '--json', '--data-dir', h.store.dataDir]);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([{ name: 'e164', value: '4989700108' }, { name: 'sip-pwd', value: MASK }]);
    expect(listed.stdout).not.toContain('own s3cret');

    // What a write may not carry, an override may not either; one bad item refuses the whole call.
    await refused(api.setOverrides(MAC, [{ name: 'e164', value: '1' }, { name: 'secure-mode-data', value: 'x' }]), /secure-mode-data is sent only by a bootstrap/);
    await refused(api.setOverrides(MAC, [{ name: 'sip-pwd', value: MASK }]), /sip-pwd has the mask/);
    await refused(api.setOverrides(MAC, [{ name: 'function-key-def', value: '3' }]), /function-key-def is indexed/);
    await refused(api.setOverrides(MAC, []), /at least one item/);
    await refused(api.setOverrides('00:1A:E8:00:00:99', [{ name: 'e164', value: '1' }]), /a phone must contact the service once/, 'not-found');
    expect(h.store.jobs.overrides(MAC)).toEqual([{ name: 'e164', value: '4989700108' }, { name: 'sip-pwd', value: 'own s3cret' }]);

    // Applied, the profile's values give way to the phone's own.
    await api.setProfile({ name: 'site', deviceType: null, matchMac: null, matchE164: null, items: [{ name: 'e164', value: '0' }, { name: 'sntp-addr', value: 'ntp.site' }] });
    const [applied] = await api.applyProfile('site', [MAC]);
    expect(h.store.jobs.get(applied!.jobId!)!.items).toEqual([{ name: 'e164', value: '4989700108' }, { name: 'sntp-addr', value: 'ntp.site' }, { name: 'sip-pwd', value: 'own s3cret' }]);

    // Removed one by one (an absent one counts nothing), then from the CLI, then all at once.
    expect(await api.clearOverrides(MAC, [{ name: 'e164' }, { name: 'e164', index: 2 }])).toBe(1);
    expect(await api.getOverrides(MAC)).toEqual([{ name: 'sip-pwd', value: MASK }]);
    await api.setOverrides(MAC, [{ name: 'function-key-def', index: 1, value: '3' }]);
    const cleared = await runCli(['profile', 'override', '--mac', MAC, '--clear', 'sip-pwd', '--data-dir', h.store.dataDir]);
    expect(cleared.code).toBe(0);
    expect(await api.getOverrides(MAC)).toEqual([{ name: 'function-key-def', index: 1, value: '3' }]);
    expect(await api.clearOverrides(MAC, null)).toBe(1);
    expect(await api.clearOverrides(MAC, null)).toBe(0);
    expect(await api.getOverrides(MAC)).toEqual([]);

    // The same item twice in one call: the last counts, and is counted once (helper-68).
    expect(await api.setOverrides(MAC, [{ name: 'e164', value: '1' }, { name: 'e164', value: '2' }])).toBe(1);
    expect(h.store.jobs.overrides(MAC)).toEqual([{ name: 'e164', value: '2' }]);
    // Bounded as a write is: a device's overrides stop at LIMITS.items, whatever the number of calls.
    const many = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ name: 'function-key-def', index: from + i, value: '1' }));
    expect(await api.setOverrides(MAC, many(1, 999))).toBe(999);
    await refused(api.setOverrides(MAC, many(1000, 2)), new RegExp(`${MAC} would have 1002 overrides, more than 1000: remove some first`));
    expect(h.store.jobs.overrides(MAC)).toHaveLength(1000);
    // Replacing existing ones is no growth.
    expect(await api.setOverrides(MAC, many(1, 10))).toBe(10);
  });

  it('itemCatalogue: every entry with name, indexed, type, values and description', async () => {
    const { api } = setup();
    const list = await api.itemCatalogue();
    expect(list.length).toBeGreaterThan(300);
    expect(list.find((e) => e.name === 'function-key-def')).toMatchObject({ indexed: true, type: 'int' });
    expect(list.every((e) => typeof e.description === 'string' && typeof e.values === 'string')).toBe(true);
  });

  it('getSecureStatus: off without a key passphrase, saying what to set; bootstrap refused with that reason', async () => {
    const saved = { p: process.env.LOCALDLS_KEY_PASSPHRASE, f: process.env.LOCALDLS_KEY_PASSPHRASE_FILE };
    delete process.env.LOCALDLS_KEY_PASSPHRASE;
    delete process.env.LOCALDLS_KEY_PASSPHRASE_FILE;
    try {
      const { h, api } = setup();
      interaction(h);
      const s = await api.getSecureStatus();
      expect(s).toMatchObject({ on: false, securePort: null, ca: null });
      expect(s.reason).toMatch(/^no key passphrase: .*Set LOCALDLS_KEY_PASSPHRASE to the passphrase.*start the service again/);
      await refused(api.startBootstrap([MAC], { pin: 'auto', maxPinRetries: 3 }), /^Secure Mode is off: no key passphrase/, 'unavailable');
    } finally {
      if (saved.p !== undefined) process.env.LOCALDLS_KEY_PASSPHRASE = saved.p;
      if (saved.f !== undefined) process.env.LOCALDLS_KEY_PASSPHRASE_FILE = saved.f;
    }
  });

  it('startBootstrap: progress and states as events, the PIN sheet for the run only, PINs never in events', async () => {
    const dir = newDir();
    const pki = await openPki(dir, { keyBits: 1024 });
    const { h, api } = setup({ pki, dir });
    interaction(h);
    interaction(h, B, '192.0.2.11');
    const s = await api.getSecureStatus();
    expect(s).toMatchObject({ on: true, reason: null, securePort: 18444, protector: 'passphrase', ca: { subject: 'CN=LocalDLS CA testhost, O=LocalDLS' } });

    await refused(api.startBootstrap([MAC, B], { pin: '12345678', maxPinRetries: 3 }), /one PIN for several phones/);
    const events: BootstrapRun[] = [];
    api.onBootstrap((r) => events.push(r));
    const started = await api.startBootstrap([MAC, B], { pin: 'auto', maxPinRetries: 2, pinDigits: 10 });
    expect(started).toMatchObject({ total: 2, prepared: 0, pin: 'auto', finished: false, pinsAvailable: false });
    expect(started.devices.map((d) => d.state)).toEqual(['preparing', 'preparing']);
    await until(() => events.some((r) => r.prepared === 2));
    const ready = await api.getBootstrapRun(started.id);
    expect(ready.devices.map((d) => [d.mac, d.state, d.hasPin, d.jobState])).toEqual([[MAC, 'pending', true, 'queued'], [B, 'pending', true, 'queued']]);
    expect(events.map((r) => r.prepared).filter((n, i, a) => a.indexOf(n) === i)).toEqual([1, 2]);
    await refused(api.startBootstrap([MAC], { pin: 'none', maxPinRetries: 3 }), /has a bootstrap under way \(job \d+, queued\): cancel that job first/, 'conflict');

    const csv = await api.bootstrapPinSheet(started.id, 'csv');
    expect(csv.filename).toMatch(/^localdls-pins-\d{8}-\d{6}\.csv$/);
    const rows = csv.content.trim().split('\n');
    expect(rows[0]).toBe('mac,e164,pin');
    const pins = rows.slice(1).map((r) => r.split(',')[2]!);
    expect(pins.every((p) => /^\d{10}$/.test(p))).toBe(true);
    const html = await api.bootstrapPinSheet(started.id, 'html');
    expect(html.mimeType).toBe('text/html');
    expect(html.content).toContain(pins[0]!);
    // The PINs are sealed in the store and in no event.
    for (const p of pins) {
      expect(JSON.stringify(events)).not.toContain(p);
      expect(JSON.stringify(await api.listJobs({}))).not.toContain(p);
    }

    // One phone takes its job and comes back secure; the other's job fails.
    const [jobA, jobB] = ready.devices.map((d) => d.jobId!);
    h.store.jobs.apply({ id: jobA!, state: 'done', finished: Date.now() }, Date.now());
    await until(() => events.at(-1)!.devices[0]!.state === 'secure');
    expect(events.at(-1)!.finished).toBe(false);
    expect((await api.bootstrapPinSheet(started.id, 'csv')).content).toContain(pins[1]!);
    h.store.jobs.apply({ id: jobB!, state: 'failed', finished: Date.now(), error: 'password retries exceeded' }, Date.now());
    await until(() => events.at(-1)!.finished);
    expect(events.at(-1)!.devices[1]).toMatchObject({ state: 'failed', error: 'password retries exceeded' });
    expect(events.at(-1)!.pinsAvailable).toBe(false);
    await refused(api.bootstrapPinSheet(started.id, 'csv'), /the PINs of this run are gone/, 'not-found');
    await refused(api.getBootstrapRun('nosuchrun'), /no bootstrap run nosuchrun/, 'not-found');

    // Without PIN: no sheet.
    const nopin = await api.startBootstrap([B], { pin: 'none', maxPinRetries: 3 });
    await refused(api.bootstrapPinSheet(nopin.id, 'csv'), /uses no PINs/, 'not-found');
    await until(() => events.some((r) => r.id === nopin.id && r.prepared === 1));
  });

  it('closed while phones are being prepared: settles once they are, each certificate made has its job, none is made after (one was written into a removed folder)', async () => {
    const dir = newDir();
    const pki = await openPki(dir, { keyBits: 1024 });
    const { h, api } = setup({ pki, dir });
    // More phones than are prepared at a time (2 per key-generation slot: 8 or more on a machine with 4+ cores and a larger thread pool).
    const macs = Array.from({ length: BOOTSTRAP_CONCURRENCY + 2 }, (_, i) => `00:1A:E8:00:01:${i.toString(16).toUpperCase().padStart(2, '0')}`);
    macs.forEach((m, i) => interaction(h, m, `192.0.2.${20 + i}`));
    await api.startBootstrap(macs, { pin: 'none', maxPinRetries: 3 });
    open.splice(open.findIndex((o) => o.api === api), 1); // closed here
    await api.close();
    // Nor does a run start now: closing would not wait for it, and its phones would stay "preparing".
    await refused(api.startBootstrap(macs, { pin: 'none', maxPinRetries: 3 }), /the service is stopping/, 'unavailable');
    const devices = join(dir, 'pki', 'devices');
    const certificates = () => (existsSync(devices) ? readdirSync(devices).filter((f) => f.endsWith('.crt')).map((f) => f.slice(0, -4).replaceAll('-', ':')).sort() : []);
    const made = certificates();
    const queued = h.store.jobs.list({}).filter((j) => j.kind === 'Bootstrap').map((j) => j.mac).sort();
    h.close();
    // The phones under way when it closed were finished, with their jobs; no other was started.
    expect(made.length).toBeGreaterThan(0);
    expect(made.length).toBeLessThan(macs.length);
    expect(made).toEqual(queued);
    // Nothing of the run runs on: a key made now on the same thread pool, and a turn after it, find no new certificate.
    await promisify(generateKeyPair)('rsa', { modulusLength: 1024 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(certificates()).toEqual(made);
  });

  it('a cancelled bootstrap job leaves the phone no longer pending', async () => {
    const dir = newDir();
    const pki = await openPki(dir, { keyBits: 1024 });
    const { h, api } = setup({ pki, dir });
    interaction(h);
    const run = await api.startBootstrap([MAC], { pin: 'none', maxPinRetries: 3 });
    await until(() => h.store.device(MAC)!.bootstrap === 'pending');
    const job = (await api.listJobs({ kinds: ['Bootstrap'] })).jobs[0]!;
    await api.cancelJob(job.id);
    expect(h.store.device(MAC)!.bootstrap).toBe('failed');
    await expect.poll(async () => (await api.getBootstrapRun(run.id)).devices[0]!.state, { timeout: 5000, interval: 10 }).toBe('cancelled');
    // It can be bootstrapped again.
    expect((await api.startBootstrap([MAC], { pin: 'none', maxPinRetries: 3 })).total).toBe(1);
  });
});
