/**
 * File deployment confirmed by what the phone says, over real sockets on loopback. Several files
 * (manual p.55): "The phone sends no status information ... The service should check the result
 * with ReadAllItems", which lists every stored file (p.245); "accepted" alone finishes nothing.
 * One file (p.52–54): its status report counts only when it names the job's file.
 * The simulated phone plays the manual's phone; the confused and hostile ones are played by hand.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Service } from '../../src/main/app/service';
import { buildJob } from '../../src/main/commands/job-spec';
import { jobSummary } from '../../src/main/commands';
import { deployedFiles, SimulatedPhone, type PhoneOptions } from '../../src/phone';
import type { Item } from '../../src/main/wpi';
import { startUpItems } from '../support/messages';
import { tempDirs } from '../support/tmp';
import { HandPhone } from '../security/support';
import { withRawDb } from '../support/raw-db';
import { exchangeRecord } from '../support/records';
import { checkFiles } from '../../src/main/provisioning/file-check';
import { parseJobNote } from '../../src/shared/job-notes';

const newDir = tempDirs();
const running: Service[] = [];
const phones: SimulatedPhone[] = [];
afterEach(async () => {
  for (const p of phones.splice(0)) await p.stop();
  for (const s of running.splice(0)) await s.stop();
});

const MAC = '00:1A:E8:00:09:01';
const known = (mac: string) => startUpItems(mac, { 'configuration-changed-flag': 'false' });

async function service(dataDir = newDir()) {
  const s = new Service({ dataDir, host: '127.0.0.1', port: 0, autoContact: false });
  running.push(s);
  const info = await s.start();
  return { service: s, port: info.port, dataDir, info };
}

async function stop(s: Service) {
  running.splice(running.indexOf(s), 1);
  await s.stop();
}

/** The job `localdls job add … file --type LOGO URL --type RINGTONE URL --delete NAME:TYPE` queues. */
function filesJob(s: Service, urls: string[], types: string[], deletes: { name: string; type: string }[] = []) {
  const built = buildJob({ kind: 'file', urls, fileTypes: types, deletes });
  return s.store.jobs.add({ mac: MAC, kind: built.kind, items: built.items }, Date.now()).id;
}

/** A phone known to the service (it read it once). */
async function simulated(port: number, options: Partial<PhoneOptions> = {}) {
  const phone = new SimulatedPhone({ server: `https://127.0.0.1:${port}`, mac: MAC, ...options });
  expect((await phone.runInteraction()).ok).toBe(true);
  return phone;
}

const reasons = (s: Service) => s.store.listExchanges({ device: MAC }, { limit: 100 }).exchanges.map((x) => x.reason);

describe('several files: checked with ReadAllItems (manual p.55, p.245)', () => {
  it('accepted is not done: the service reads the phone\'s files in the same interaction and judges each one', async () => {
    const { service: s, port } = await service();
    const phone = await simulated(port);
    const existing = deployedFiles(phone.config)[0]!;
    const job = filesJob(s, ['https://files.example/logo.png', 'https://files.example/ring%20one.wav'], ['LOGO', 'RINGTONE'], [{ name: existing.name, type: existing.type }]);
    const result = await phone.runInteraction('solicited');
    expect(result).toMatchObject({ ok: true, end: 'CleanUp', actions: ['FileDeployment', 'ReadAllItems', 'CleanUp'] });
    // The phone sent no status report (p.55): only its reply-to's.
    expect(reasons(s)).not.toContain('status');
    expect(s.store.jobs.get(job)).toMatchObject({
      state: 'done', error: null, attempts: 1,
      results: [
        { name: 'file-https-base-url', index: 1, status: 'ok' },
        { name: 'file-https-base-url', index: 2, status: 'ok' },
        { name: 'file-name', index: 3, status: 'ok: not listed any more' },
      ],
    });
    // `localdls job list` says it per file.
    expect(jobSummary(s.store.jobs.get(job)!)).toBe(`logo.png (LOGO): ok, ring one.wav (RINGTONE): ok, ${existing.name} (${existing.type}): ok: not listed any more`);
    // The read is the phone's item set now: the deleted file is gone from it, the new ones are there.
    const stored = s.store.items(MAC).filter((i) => i.name === 'file-deployment-name').map((i) => i.value);
    expect(stored).toEqual(expect.arrayContaining(['logo.png', 'ring one.wav']));
    expect(stored).not.toContain(existing.name);
    // Done: the next contact neither sends nor checks it again.
    expect((await phone.runInteraction('solicited')).actions).toEqual(['CleanUp']);
  });

  it('a file the phone lists as failed fails the job, naming it; the others say ok', async () => {
    const { service: s, port } = await service();
    const phone = await simulated(port, { failFiles: ['ring.wav'] });
    const job = filesJob(s, ['https://files.example/logo.png', 'https://files.example/ring.wav'], ['LOGO', 'RINGTONE']);
    expect((await phone.runInteraction('solicited')).actions).toEqual(['FileDeployment', 'ReadAllItems', 'CleanUp']);
    // The simulated phone keeps the failed transfer in its list (file-deployment-status failed, p.245).
    expect(deployedFiles(phone.config).find((f) => f.name === 'ring.wav')?.status).toBe('failed');
    expect(s.store.jobs.get(job)).toMatchObject({
      state: 'failed',
      error: 'the phone lists 1 of 2 files as failed (file-deployment-status): ring.wav (RINGTONE)',
      results: [{ name: 'file-https-base-url', index: 1, status: 'ok' }, { name: 'file-https-base-url', index: 2, status: 'failed' }],
    });
  });

  it('deleting a file the phone does not have: it is not listed, which is what was asked', async () => {
    const { service: s, port } = await service();
    const phone = await simulated(port);
    const job = filesJob(s, [], [], [{ name: 'never-there.png', type: 'LOGO' }]);
    const result = await phone.runInteraction('solicited');
    expect(result.files).toEqual([{ action: 'delete', name: 'never-there.png', type: 'LOGO', status: 'failed' }]);
    expect(s.store.jobs.get(job)).toMatchObject({ state: 'done', results: [{ name: 'file-name', index: 1, status: 'ok: not listed any more' }] });
  });

  it('a phone that downloads after the interaction: not confirmed at first, confirmed at its next contact', async () => {
    const { service: s, port } = await service();
    const phone = await simulated(port, { downloadAfterInteraction: true });
    const existing = deployedFiles(phone.config)[0]!;
    const job = filesJob(s, ['https://files.example/logo.png'], ['LOGO'], [{ name: existing.name, type: existing.type }]);
    expect((await phone.runInteraction('solicited')).actions).toEqual(['FileDeployment', 'ReadAllItems', 'CleanUp']);
    expect(s.store.jobs.get(job)).toMatchObject({
      state: 'sent', partsDone: 1,
      error: 'accepted by the phone; ReadAllItems does not confirm 2 of 2 files yet (logo.png (LOGO): not listed, ' + `${existing.name} (${existing.type}): still listed): checked again when the phone next calls in (or is contacted), until the deployment's time limit`,
      results: [{ name: 'file-https-base-url', index: 1, status: 'not confirmed: not listed' }, { name: 'file-name', index: 2, status: 'not confirmed: still listed' }],
    });
    // The phone has done it by now; its next contact is checked (not sent the files again).
    expect(deployedFiles(phone.config).map((f) => f.name)).toContain('logo.png');
    expect((await phone.runInteraction('local-changes')).actions).toEqual(['ReadAllItems', 'CleanUp']);
    expect(s.store.jobs.get(job)).toMatchObject({ state: 'done', attempts: 1, results: [{ status: 'ok' }, { status: 'ok: not listed any more' }] });
  });
});

describe('several files sent again: the old copy is not the new one (helper-73)', () => {
  it('a file the phone already holds counts once it lists it stored anew, not at the first check that still shows the old copy', async () => {
    const { service: s, port } = await service();
    let clock = Date.parse('2026-12-06T09:00:00Z');
    const phone = await simulated(port, { downloadAfterInteraction: true, now: () => clock });
    const urls = ['https://files.example/logo.png', 'https://files.example/ring.wav'];
    const first = filesJob(s, urls, ['LOGO', 'RINGTONE']);
    await phone.runInteraction('solicited');
    await phone.runInteraction('local-changes');
    expect(s.store.jobs.get(first)).toMatchObject({ state: 'done' });
    const before = deployedFiles(phone.config).filter((f) => f.name === 'logo.png' || f.name === 'ring.wav').map((f) => `${f.date} ${f.time}`);
    expect(before).toHaveLength(2);
    // An hour later, the same two files again (a new logo under the same name and type).
    clock += 3_600_000;
    const again = filesJob(s, urls, ['LOGO', 'RINGTONE']);
    expect((await phone.runInteraction('solicited')).actions).toEqual(['FileDeployment', 'ReadAllItems', 'CleanUp']);
    // The phone downloads after the interaction: its listing still shows the old copies, ok.
    expect(s.store.jobs.get(again)).toMatchObject({
      state: 'sent',
      error: "accepted by the phone; ReadAllItems does not confirm 2 of 2 files yet (logo.png (LOGO): listed as before, ring.wav (RINGTONE): listed as before): checked again when the phone next calls in (or is contacted), until the deployment's time limit",
      results: [
        { name: 'file-https-base-url', index: 1, status: 'not confirmed: listed as before', listedBefore: [before[0]] },
        { name: 'file-https-base-url', index: 2, status: 'not confirmed: listed as before', listedBefore: [before[1]] },
      ],
    });
    expect(jobSummary(s.store.jobs.get(again)!)).toBe('logo.png (LOGO): not confirmed: listed as before, ring.wav (RINGTONE): not confirmed: listed as before');
    // Downloaded now, stamped with the phone's clock: the next check confirms both.
    expect((await phone.runInteraction('local-changes')).actions).toEqual(['ReadAllItems', 'CleanUp']);
    const logo = deployedFiles(phone.config).find((f) => f.name === 'logo.png')!;
    expect(`${logo.date} ${logo.time}`).not.toBe(before[0]);
    expect(s.store.jobs.get(again)).toMatchObject({ state: 'done', error: null, results: [{ status: 'ok', listedBefore: [before[0]] }, { status: 'ok', listedBefore: [before[1]] }] });
  });

  it('a new copy that fails to download is the job\'s failure; the old copy\'s earlier failure is not', async () => {
    const { service: s, port } = await service();
    let clock = Date.parse('2026-12-06T09:00:00Z');
    const phone = await simulated(port, { now: () => clock, failFiles: ['ring.wav'] });
    const urls = ['https://files.example/logo.png', 'https://files.example/ring.wav'];
    const first = filesJob(s, urls, ['LOGO', 'RINGTONE']);
    await phone.runInteraction('solicited');
    expect(s.store.jobs.get(first)).toMatchObject({ state: 'failed', results: [{ status: 'ok' }, { status: 'failed' }] });
    clock += 60_000;
    const again = filesJob(s, urls, ['LOGO', 'RINGTONE']);
    await phone.runInteraction('solicited');
    // Downloaded at once (in the interaction): the logo anew, the ringtone failed anew.
    expect(s.store.jobs.get(again)).toMatchObject({ state: 'failed', results: [{ status: 'ok' }, { status: 'failed' }] });
    expect(s.store.jobs.get(again)!.error).toBe('the phone lists 1 of 2 files as failed (file-deployment-status): ring.wav (RINGTONE)');
  });
});

describe('file types', () => {
  it('the command layer takes the manual\'s types in any case and sends them as the manual writes them; the simulated phone refuses a type it has no place for', async () => {
    const { service: s, port } = await service();
    const built = buildJob({ kind: 'file', urls: ['https://files.example/a.png', 'https://files.example/b.wav'], fileTypes: ['logo', ' Ringtone '] });
    expect(built.items.filter((i) => i.name === 'file-type').map((i) => i.value)).toEqual(['LOGO', 'RINGTONE']);
    expect(() => buildJob({ kind: 'file', urls: ['https://files.example/a.png'], fileType: 'BOGUS' })).toThrow('file type "BOGUS" is not one of RINGTONE, LOGO, MOH, PIC, LDAP, SCREENSAVER, DONGLE');
    // Stored by an older version without that rule: the phone answers failed (p.29), and the job says so.
    const phone = await simulated(port);
    const job = s.store.jobs.add({ mac: MAC, kind: 'FileDeployment', items: [{ name: 'file-https-base-url', value: 'https://files.example/a.png' }, { name: 'file-type', value: 'BOGUS' }] }, Date.now()).id;
    await phone.runInteraction('solicited');
    expect(s.store.jobs.get(job)).toMatchObject({ state: 'failed', error: 'the phone refused FileDeployment (status failed)' });
  });
});

describe('several files, played by hand', () => {
  const listing = (files: { name: string; type: string; status: string; date?: string; time?: string }[]): Item[] =>
    files.flatMap((f, n) => [
      { name: 'file-deployment-status', index: n + 1, value: f.status },
      ...(f.date ? [{ name: 'file-deployment-date', index: n + 1, value: f.date }] : []),
      ...(f.time ? [{ name: 'file-deployment-time', index: n + 1, value: f.time }] : []),
      { name: 'file-deployment-name', index: n + 1, value: f.name },
      { name: 'file-deployment-type', index: n + 1, value: f.type },
    ]);

  /** A phone the service has read once, listing `files` as stored (p.245). */
  async function handPhone(port: number, from: string, files: Parameters<typeof listing>[0] = []) {
    const a = new HandPhone(MAC, port, from);
    await a.acceptAll(await a.say({ reason: 'start-up', items: startUpItems(MAC) }), () => [...startUpItems(MAC), ...listing(files)]);
    return a;
  }

  it('a check that never confirms: one ReadAllItems per contact, then the job fails at its limit, naming each file', async () => {
    const { service: s, port } = await service();
    const a = await handPhone(port, '127.0.9.1');
    const job = filesJob(s, ['https://files.example/logo.png', 'https://files.example/ring.wav'], ['LOGO', 'RINGTONE']);
    expect((await a.say({ reason: 'solicited', items: known(MAC) })).dls?.action).toBe('FileDeployment');
    expect((await a.say({ reason: 'reply-to', action: 'FileDeployment', status: 'accepted', items: [] })).dls?.action).toBe('ReadAllItems');
    expect(s.store.jobs.get(job)).toMatchObject({ state: 'sent', partsDone: 1, error: 'accepted by the phone; checking with ReadAllItems that it lists the files (it sends no status report for several files, manual p.55)' });
    // The logo arrived, the ringtone did not (yet): not asked again in this interaction.
    const check = await a.say({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', items: [...known(MAC), ...listing([{ name: 'logo.png', type: 'LOGO', status: 'ok' }])] });
    expect(check.dls?.action).toBe('CleanUp');
    expect(s.store.jobs.get(job)).toMatchObject({ state: 'sent', results: [{ status: 'ok' }, { status: 'not confirmed: not listed' }] });
    // A file of the same name and another type is not this one (file-name + file-type, p.55).
    expect((await a.say({ reason: 'solicited', items: known(MAC) })).dls?.action).toBe('ReadAllItems');
    await a.say({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', items: [...known(MAC), ...listing([{ name: 'logo.png', type: 'LOGO', status: 'ok' }, { name: 'ring.wav', type: 'MOH', status: 'ok' }])] });
    expect(s.store.jobs.get(job)).toMatchObject({ state: 'sent', attempts: 1 });
    s.sweep(Date.now() + 31 * 60_000);
    expect(s.store.jobs.get(job)).toMatchObject({
      state: 'failed',
      error: 'the phone did not confirm 1 of 2 files within 30 minutes after the FileDeployment was sent (ReadAllItems): ring.wav (RINGTONE): not listed',
      results: [{ name: 'file-https-base-url', index: 1, status: 'ok' }, { name: 'file-https-base-url', index: 2, status: 'not confirmed: not listed' }],
    });
  });

  it('the old copy listed unchanged until the time limit fails the job, saying so; the listing of the message that came before the sending is what it is compared with', async () => {
    const { service: s, port } = await service();
    const a = new HandPhone(MAC, port, '127.0.9.24');
    // Known by its MAC (a job can be queued for it), its items never read.
    s.store.commit(exchangeRecord({ mac: MAC }), { device: { mac: MAC, lastAddress: '127.0.9.24' } }, null);
    const job = filesJob(s, ['https://files.example/logo.png', 'https://files.example/ring.wav'], ['LOGO', 'RINGTONE']);
    const old = [{ name: 'logo.png', type: 'LOGO', status: 'ok', date: '10:06:2008', time: '15:35:52' }, { name: 'ring.wav', type: 'RINGTONE', status: 'failed', date: '10:06:2008', time: '15:36:10' }];
    // A phone never read: the service reads it first, and sends the files after that answer (not yet stored when decided).
    expect((await a.say({ reason: 'start-up', items: startUpItems(MAC) })).dls?.action).toBe('ReadAllItems');
    expect((await a.say({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', items: [...known(MAC), ...listing(old)] })).dls?.action).toBe('FileDeployment');
    expect(s.store.jobs.get(job)!.results).toEqual([
      { name: 'file-https-base-url', index: 1, status: 'not confirmed: not checked', listedBefore: ['10:06:2008 15:35:52'] },
      { name: 'file-https-base-url', index: 2, status: 'not confirmed: not checked', listedBefore: ['10:06:2008 15:36:10'] },
    ]);
    expect((await a.say({ reason: 'reply-to', action: 'FileDeployment', status: 'accepted', items: [] })).dls?.action).toBe('ReadAllItems');
    // Listed as before: the logo's old ok and the ringtone's old failure say nothing of this deployment.
    await a.say({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', items: [...known(MAC), ...listing(old)] });
    expect(s.store.jobs.get(job)).toMatchObject({ state: 'sent', results: [{ status: 'not confirmed: listed as before' }, { status: 'not confirmed: listed as before' }] });
    s.sweep(Date.now() + 31 * 60_000);
    expect(s.store.jobs.get(job)).toMatchObject({
      state: 'failed',
      error: 'the phone did not confirm 2 of 2 files within 30 minutes after the FileDeployment was sent (ReadAllItems): logo.png (LOGO): listed as before, ring.wav (RINGTONE): listed as before',
      results: [{ status: 'not confirmed: listed as before', listedBefore: ['10:06:2008 15:35:52'] }, { status: 'not confirmed: listed as before', listedBefore: ['10:06:2008 15:36:10'] }],
    });
  });

  it('at the time limit, the note names the files never confirmed and those listed as failed meanwhile', async () => {
    const { service: s, port } = await service();
    const a = await handPhone(port, '127.0.9.26');
    const job = filesJob(s, ['https://files.example/logo.png', 'https://files.example/ring.wav'], ['LOGO', 'RINGTONE']);
    expect((await a.say({ reason: 'solicited', items: known(MAC) })).dls?.action).toBe('FileDeployment');
    await a.say({ reason: 'reply-to', action: 'FileDeployment', status: 'accepted', items: [] });
    await a.say({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', items: [...known(MAC), ...listing([{ name: 'logo.png', type: 'LOGO', status: 'failed', date: '06:12:2026', time: '10:00:00' }])] });
    expect(s.store.jobs.get(job)).toMatchObject({ state: 'sent', results: [{ status: 'failed' }, { status: 'not confirmed: not listed' }] });
    s.sweep(Date.now() + 31 * 60_000);
    expect(s.store.jobs.get(job)).toMatchObject({
      state: 'failed',
      error: 'the phone did not confirm 1 of 2 files within 30 minutes after the FileDeployment was sent (ReadAllItems): ring.wav (RINGTONE): not listed; listed as failed: logo.png (LOGO)',
    });
    expect(parseJobNote(s.store.jobs.get(job)!.error!)).toEqual({ key: 'filesOverdueFailed', params: { open: 1, count: 2, minutes: '30', files: 'ring.wav (RINGTONE): not listed', failed: 'logo.png (LOGO)' } });
  });

  it('a listing\'s dates and times are kept on the job clipped: a hostile 40,000-character one does not grow every job\'s results', async () => {
    const { service: s, port } = await service();
    const a = await handPhone(port, '127.0.9.30');
    const huge = '1'.repeat(40_000);
    await a.say({ reason: 'local-changes', items: [...known(MAC), ...listing([{ name: 'logo.png', type: 'LOGO', status: 'ok', date: huge, time: huge }])] });
    const job = filesJob(s, ['https://files.example/logo.png', 'https://files.example/ring.wav'], ['LOGO', 'RINGTONE']);
    expect((await a.say({ reason: 'solicited', items: known(MAC) })).dls?.action).toBe('FileDeployment');
    expect(s.store.jobs.get(job)!.results[0]!.listedBefore).toEqual([`${'1'.repeat(32)} ${'1'.repeat(32)}`]);
  });

  it('both spellings listed before the sending: both are old copies; a new copy under either counts', async () => {
    const { service: s, port } = await service();
    const old = [{ name: 'ring one.wav', type: 'RINGTONE', status: 'ok', date: '01:12:2026', time: '08:00:00' }, { name: 'ring%20one.wav', type: 'RINGTONE', status: 'failed', date: '02:12:2026', time: '09:00:00' }];
    const a = await handPhone(port, '127.0.9.29', old);
    const job = filesJob(s, ['https://b.example/ring%20one.wav', 'https://b.example/logo.png'], ['RINGTONE', 'LOGO']);
    expect((await a.say({ reason: 'solicited', items: known(MAC) })).dls?.action).toBe('FileDeployment');
    expect(s.store.jobs.get(job)!.results[0]).toMatchObject({ listedBefore: ['01:12:2026 08:00:00', '02:12:2026 09:00:00'] });
    await a.say({ reason: 'reply-to', action: 'FileDeployment', status: 'accepted', items: [] });
    const logo = { name: 'logo.png', type: 'LOGO', status: 'ok', date: '06:12:2026', time: '10:00:01' };
    await a.say({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', items: [...known(MAC), ...listing([...old, logo])] });
    expect(s.store.jobs.get(job)).toMatchObject({ state: 'sent', results: [{ status: 'not confirmed: listed as before' }, { status: 'ok' }] });
    expect((await a.say({ reason: 'solicited', items: known(MAC) })).dls?.action).toBe('ReadAllItems');
    await a.say({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', items: [...known(MAC), ...listing([old[0]!, { ...old[1]!, status: 'ok', time: '10:30:00' }, logo])] });
    expect(s.store.jobs.get(job)).toMatchObject({ state: 'done', results: [{ status: 'ok' }, { status: 'ok' }] });
  });

  it('a listing with a new date or time for the file confirms it, whatever the old copy said', async () => {
    const { service: s, port } = await service();
    const a = await handPhone(port, '127.0.9.25');
    const old = [{ name: 'logo.png', type: 'LOGO', status: 'failed', date: '10:06:2008', time: '15:35:52' }];
    await a.say({ reason: 'local-changes', items: [...known(MAC), ...listing(old)] });
    const job = filesJob(s, ['https://files.example/logo.png', 'https://files.example/ring.wav'], ['LOGO', 'RINGTONE']);
    expect((await a.say({ reason: 'solicited', items: known(MAC) })).dls?.action).toBe('FileDeployment');
    expect(s.store.jobs.get(job)!.results[0]).toMatchObject({ listedBefore: ['10:06:2008 15:35:52'] });
    await a.say({ reason: 'reply-to', action: 'FileDeployment', status: 'accepted', items: [] });
    await a.say({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', items: [...known(MAC), ...listing([{ ...old[0]!, status: 'ok', time: '15:35:53' }, { name: 'ring.wav', type: 'RINGTONE', status: 'ok', date: '06:12:2026', time: '10:00:00' }])] });
    expect(s.store.jobs.get(job)).toMatchObject({ state: 'done', results: [{ status: 'ok' }, { status: 'ok' }] });
  });

  it('the listing a message of the same exchange brings before the sending (a status report) is what the old copy is, not the older one stored (helper-76)', async () => {
    const { service: s, port } = await service();
    const stored = { name: 'logo.png', type: 'LOGO', status: 'ok', date: '01:12:2026', time: '08:00:00' };
    const a = await handPhone(port, '127.0.9.27', [stored]);
    // One logo, then a bundle with a logo of the same name and type from elsewhere.
    const one = filesJob(s, ['https://a.example/logo.png'], ['LOGO']);
    const bundle = filesJob(s, ['https://b.example/logo.png', 'https://b.example/ring.wav'], ['LOGO', 'RINGTONE']);
    expect((await a.say({ reason: 'solicited', items: known(MAC) })).dls?.action).toBe('FileDeployment');
    // The first logo's report lists it stored now; the bundle goes out in answer to it.
    const first = { ...stored, date: '06:12:2026', time: '10:00:00' };
    expect((await a.say({ reason: 'status', items: [...known(MAC), ...listing([first])] })).dls?.action).toBe('FileDeployment');
    expect(s.store.jobs.get(one)).toMatchObject({ state: 'done' });
    expect(s.store.jobs.get(bundle)!.results[0]).toMatchObject({ listedBefore: ['06:12:2026 10:00:00', '01:12:2026 08:00:00'] });
    expect((await a.say({ reason: 'reply-to', action: 'FileDeployment', status: 'accepted', items: [] })).dls?.action).toBe('ReadAllItems');
    // The bundle's logo not fetched yet: the phone lists the first job's copy, as its report did.
    await a.say({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', items: [...known(MAC), ...listing([first])] });
    expect(s.store.jobs.get(bundle)).toMatchObject({ state: 'sent', results: [{ status: 'not confirmed: listed as before' }, { status: 'not confirmed: not listed' }] });
  });

  it('the old copy listed under one spelling, the new one under the other (decoded / raw URL segment): the new one counts (helper-76)', async () => {
    const { service: s, port } = await service();
    const old = { name: 'ring one.wav', type: 'RINGTONE', status: 'ok', date: '01:12:2026', time: '08:00:00' };
    const a = await handPhone(port, '127.0.9.28', [old]);
    const job = filesJob(s, ['https://b.example/ring%20one.wav', 'https://b.example/logo.png'], ['RINGTONE', 'LOGO']);
    expect((await a.say({ reason: 'solicited', items: known(MAC) })).dls?.action).toBe('FileDeployment');
    await a.say({ reason: 'reply-to', action: 'FileDeployment', status: 'accepted', items: [] });
    const now = [old, { name: 'ring%20one.wav', type: 'RINGTONE', status: 'ok', date: '06:12:2026', time: '10:00:00' }, { name: 'logo.png', type: 'LOGO', status: 'ok', date: '06:12:2026', time: '10:00:01' }];
    await a.say({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', items: [...known(MAC), ...listing(now)] });
    // The first entry that matches is the old copy: every entry is judged, not the first.
    expect(s.store.jobs.get(job)).toMatchObject({ state: 'done', results: [{ status: 'ok', listedBefore: ['01:12:2026 08:00:00'] }, { status: 'ok' }] });
  });

  it('items the phone refuses in its accepted reply fail the deployment at once with its reasons, not at the time limit (helper-73)', async () => {
    const { service: s, port } = await service();
    const a = await handPhone(port, '127.0.9.23');
    const job = filesJob(s, ['https://files.example/a.png', 'https://files.example/b.wav'], ['LOGO', 'RINGTONE']);
    expect((await a.say({ reason: 'solicited', items: known(MAC) })).dls?.action).toBe('FileDeployment');
    const reply = await a.say({ reason: 'reply-to', action: 'FileDeployment', status: 'accepted', items: [{ name: 'file-type', index: 2, value: 'RINGTONE', status: 'invalid data' }] });
    expect(reply.dls?.action).toBe('CleanUp');
    expect(s.store.jobs.get(job)).toMatchObject({ state: 'failed', results: [{ name: 'file-type', index: 2, status: 'invalid data' }] });
    expect(s.store.jobs.get(job)!.error).toMatch(/refused 1 item.*file-type\[2\]: invalid data/);
  });

  it('two deployments waiting for their checks are judged by one ReadAllItems, and a ReadAllItems job\'s answer checks them too (helper-73)', async () => {
    const { service: s, port } = await service();
    const a = await handPhone(port, '127.0.9.22');
    const one = filesJob(s, ['https://files.example/a.png', 'https://files.example/b.wav'], ['LOGO', 'RINGTONE']);
    const two = filesJob(s, ['https://files.example/c.png', 'https://files.example/d.wav'], ['LOGO', 'RINGTONE']);
    expect((await a.say({ reason: 'solicited', items: known(MAC) })).dls?.action).toBe('FileDeployment');
    expect((await a.say({ reason: 'reply-to', action: 'FileDeployment', status: 'accepted', items: [] })).dls?.action).toBe('ReadAllItems');
    expect((await a.say({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', items: known(MAC) })).dls?.action).toBe('FileDeployment');
    expect((await a.say({ reason: 'reply-to', action: 'FileDeployment', status: 'accepted', items: [] })).dls?.action).toBe('ReadAllItems');
    expect((await a.say({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', items: known(MAC) })).dls?.action).toBe('CleanUp');
    const all = listing([{ name: 'a.png', type: 'LOGO', status: 'ok' }, { name: 'b.wav', type: 'RINGTONE', status: 'ok' }, { name: 'c.png', type: 'LOGO', status: 'ok' }]);
    // Next contact: one read judges both.
    expect((await a.say({ reason: 'solicited', items: known(MAC) })).dls?.action).toBe('ReadAllItems');
    expect((await a.say({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', items: [...known(MAC), ...all] })).dls?.action).toBe('CleanUp');
    expect(s.store.jobs.get(one)).toMatchObject({ state: 'done' });
    expect(s.store.jobs.get(two)).toMatchObject({ state: 'sent', results: [{ status: 'ok' }, { status: 'not confirmed: not listed' }] });
    // A ReadAllItems job of the user's: its answer is the check.
    const read = s.store.jobs.add({ mac: MAC, kind: 'ReadAllItems', items: [] }, Date.now()).id;
    expect((await a.say({ reason: 'solicited', items: known(MAC) })).dls?.action).toBe('ReadAllItems');
    const full = listing([{ name: 'c.png', type: 'LOGO', status: 'ok' }, { name: 'd.wav', type: 'RINGTONE', status: 'ok' }]);
    expect((await a.say({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', items: [...known(MAC), ...full] })).dls?.action).toBe('CleanUp');
    expect(s.store.jobs.get(read)).toMatchObject({ state: 'done' });
    expect(s.store.jobs.get(two)).toMatchObject({ state: 'done' });
  });

  it('a check answered from another address than the deployment went to: done, and the job says from where (helper-72)', async () => {
    const { service: s, port } = await service();
    const a = await handPhone(port, '127.0.9.20');
    const job = filesJob(s, ['https://files.example/logo.png', 'https://files.example/ring.wav'], ['LOGO', 'RINGTONE']);
    expect((await a.say({ reason: 'solicited', items: known(MAC) })).dls?.action).toBe('FileDeployment');
    expect((await a.say({ reason: 'reply-to', action: 'FileDeployment', status: 'accepted', items: [] })).dls?.action).toBe('ReadAllItems');
    await a.say({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', items: known(MAC) });
    expect(s.store.jobs.get(job)).toMatchObject({ state: 'sent' });
    // Another host names the MAC, without a cookie, and lists the files.
    const b = new HandPhone(MAC, port, '127.0.9.21');
    expect((await b.say({ reason: 'local-changes', items: [{ name: 'mac-addr', value: MAC }] })).dls?.action).toBe('ReadAllItems');
    await b.say({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', items: [...known(MAC), ...listing([{ name: 'logo.png', type: 'LOGO', status: 'ok' }, { name: 'ring.wav', type: 'RINGTONE', status: 'ok' }])] });
    expect(s.store.jobs.get(job)).toMatchObject({
      state: 'done',
      error: 'confirmed by a ReadAllItems on the Default-Mode port from 127.0.9.21, not from 127.0.9.20, where the FileDeployment went: the phone got a new address, or another host named its MAC (Default Mode cannot tell which)',
    });
  });

  it('the service restarted between the phone\'s accept and the check: the next contact checks it', async () => {
    const first = await service();
    const a = await handPhone(first.port, '127.0.9.2');
    const job = filesJob(first.service, ['https://files.example/logo.png', 'https://files.example/ring.wav'], ['LOGO', 'RINGTONE']);
    expect((await a.say({ reason: 'solicited', items: known(MAC) })).dls?.action).toBe('FileDeployment');
    expect((await a.say({ reason: 'reply-to', action: 'FileDeployment', status: 'accepted', items: [] })).dls?.action).toBe('ReadAllItems');
    // Gone before the phone's answer to the check.
    await stop(first.service);
    const second = await service(first.dataDir);
    expect(second.info.recovered).toMatchObject({ jobs: 0, requeued: 0, failed: 0, awaitingReturn: 1 });
    expect(second.service.store.jobs.get(job)).toMatchObject({ state: 'sent', partsDone: 1, attempts: 1 });
    a.cookie = null;
    expect((await a.say({ reason: 'solicited', items: known(MAC) }, { port: second.port })).dls?.action).toBe('ReadAllItems');
    const files = listing([{ name: 'logo.png', type: 'LOGO', status: 'ok' }, { name: 'ring.wav', type: 'RINGTONE', status: 'ok' }]);
    expect((await a.say({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', items: [...known(MAC), ...files] }, { port: second.port })).dls?.action).toBe('CleanUp');
    expect(second.service.store.jobs.get(job)).toMatchObject({ state: 'done', attempts: 1, results: [{ status: 'ok' }, { status: 'ok' }] });
  });

  it('a status report about one of several files finishes nothing (the manual\'s phone sends none, p.55): the phone took the job, so it is checked at once', async () => {
    const { service: s, port } = await service();
    const a = await handPhone(port, '127.0.9.3');
    const job = filesJob(s, ['https://files.example/logo.png', 'https://files.example/ring.wav'], ['LOGO', 'RINGTONE']);
    expect((await a.say({ reason: 'solicited', items: known(MAC) })).dls?.action).toBe('FileDeployment');
    const report = await a.say({ reason: 'status', items: [...known(MAC), ...listing([{ name: 'logo.png', type: 'LOGO', status: 'ok' }])] });
    expect(report.dls?.action).toBe('ReadAllItems');
    expect(s.store.jobs.get(job)).toMatchObject({ state: 'sent', partsDone: 1 });
    expect(s.store.exchanges({ limit: 1 })[0]!.warning).toBe(`status report for logo.png (LOGO): no single-file deployment waits for one (job ${job}, of several files, is checked with ReadAllItems): not taken`);
    // The ringtone is not there yet: checked again at the next contact, which finds what the phone holds.
    expect((await a.say({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', items: [...known(MAC), ...listing([{ name: 'logo.png', type: 'LOGO', status: 'ok' }])] })).dls?.action).toBe('CleanUp');
    expect(s.store.jobs.get(job)).toMatchObject({ state: 'sent' });
    expect(s.store.jobs.pendingDevices().map((p) => p.mac)).toEqual([MAC]); // its phone is asked to call for the check
    expect((await a.say({ reason: 'solicited', items: known(MAC) })).dls?.action).toBe('ReadAllItems');
    await a.say({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', items: [...known(MAC), ...listing([{ name: 'logo.png', type: 'LOGO', status: 'ok' }, { name: 'ring.wav', type: 'RINGTONE', status: 'ok' }])] });
    expect(s.store.jobs.get(job)).toMatchObject({ state: 'done', attempts: 1 });
  });
});

describe('one file: the status report names the file (p.52–54)', () => {
  const status = (name: string, value = 'ok', type = 'LOGO'): Item[] => [
    ...known(MAC),
    { name: 'file-deployment-status', index: 1, value },
    { name: 'file-deployment-name', index: 1, value: name },
    { name: 'file-deployment-type', index: 1, value: type },
  ];

  it('a report naming another file does not finish the job (a warning instead); its own does, once', async () => {
    const { service: s, port } = await service();
    const a = new HandPhone(MAC, port, '127.0.9.4');
    await a.acceptAll(await a.say({ reason: 'start-up', items: startUpItems(MAC) }), () => startUpItems(MAC));
    const job = filesJob(s, ['https://files.example/logo.png'], ['LOGO']);
    expect((await a.say({ reason: 'solicited', items: known(MAC) })).dls?.action).toBe('FileDeployment');
    // In its own interaction, a report on another file, then on the same name of another type.
    expect((await a.say({ reason: 'status', items: status('ringer.wav', 'ok', 'RINGTONE') })).dls?.action).toBe('CleanUp');
    expect(s.store.jobs.get(job)).toMatchObject({ state: 'sent', finished: null });
    expect(s.store.exchanges({ limit: 1 })[0]).toMatchObject({ httpStatus: 200, warning: `status report for ringer.wav (RINGTONE), not the file of FileDeployment job ${job}: not taken; job ${job} waits for the report on its own file` });
    expect((await a.say({ reason: 'status', items: status('logo.png', 'ok', 'PIC') }, { cookie: null })).dls?.action).toBe('CleanUp');
    expect(s.store.jobs.get(job)).toMatchObject({ state: 'sent' });
    // Its own report, later, on a connection of its own.
    expect((await a.say({ reason: 'status', items: status('logo.png') }, { cookie: null })).dls?.action).toBe('CleanUp');
    expect(s.store.jobs.get(job)).toMatchObject({ state: 'done', results: [{ name: 'file-https-base-url', status: 'ok' }] });
    // The same report again (its nonce fresh, as a phone's): it finishes nothing more.
    expect((await a.say({ reason: 'status', items: status('logo.png', 'failed') }, { cookie: null })).dls?.action).toBe('CleanUp');
    expect(s.store.jobs.get(job)).toMatchObject({ state: 'done', results: [{ status: 'ok' }] });
    expect(s.store.exchanges({ limit: 1 })[0]!.warning).toBe('status report for no deployment waiting for one');
  });

  it('the simulated phone: the single form is finished by its status, without a ReadAllItems', async () => {
    const { service: s, port } = await service();
    const phone = await simulated(port);
    const job = filesJob(s, ['https://files.example/logo.png'], ['LOGO']);
    expect((await phone.runInteraction('solicited')).actions).toEqual(['FileDeployment', 'CleanUp']);
    expect(s.store.jobs.get(job)).toMatchObject({ state: 'done', results: [{ name: 'file-https-base-url', status: 'ok' }] });
  });

  it('a phone that answers the single form with reply-to accepted: the job waits for the status report', async () => {
    const { service: s, port } = await service();
    const a = new HandPhone(MAC, port, '127.0.9.5');
    await a.acceptAll(await a.say({ reason: 'start-up', items: startUpItems(MAC) }), () => startUpItems(MAC));
    const job = filesJob(s, ['https://files.example/logo.png'], ['LOGO']);
    expect((await a.say({ reason: 'solicited', items: known(MAC) })).dls?.action).toBe('FileDeployment');
    expect((await a.say({ reason: 'reply-to', action: 'FileDeployment', status: 'accepted', items: [] })).dls?.action).toBe('CleanUp');
    expect(s.store.jobs.get(job)).toMatchObject({ state: 'sent', error: 'accepted by the phone; waiting for its status report on the file' });
    expect((await a.say({ reason: 'status', items: status('logo.png', 'failed') }, { cookie: null })).dls?.action).toBe('CleanUp');
    expect(s.store.jobs.get(job)).toMatchObject({ state: 'failed', error: 'the phone could not deploy logo.png', results: [{ status: 'failed' }] });
  });
});

describe('several files: the phone is asked to call for the check', () => {
  it('with Secure Mode off (bootstraps held), a phone whose deployment waits for its check gets a contact-me, calls back and is checked (helper-73)', async () => {
    const { service: s, port } = await service();
    const phone = new SimulatedPhone({ server: `https://127.0.0.1:${port}`, mac: MAC, ipAddress: '127.0.9.41', bindIpAddress: true, contactMePort: 0, downloadAfterInteraction: true });
    phones.push(phone);
    expect((await phone.start()).ok).toBe(true);
    const job = filesJob(s, ['https://files.example/logo.png', 'https://files.example/ring.wav'], ['LOGO', 'RINGTONE']);
    expect((await phone.runInteraction('solicited')).actions).toEqual(['FileDeployment', 'ReadAllItems', 'CleanUp']);
    expect(s.store.jobs.get(job)).toMatchObject({ state: 'sent', partsDone: 1 });
    // Its last check a contact gap ago, as on a site minutes later.
    withRawDb(s.store.dataDir, (db) => db.prepare('UPDATE jobs SET updated = updated - 3600000 WHERE id = ?').run(job));
    s.contactDue();
    await expect.poll(() => s.store.jobs.get(job)?.state, { timeout: 15_000, interval: 100 }).toBe('done');
    expect(phone.contactMes).toHaveLength(1);
    expect(s.store.listExchanges({ device: MAC }, { limit: 100 }).exchanges.filter((x) => x.listener === 'contact-me')).toHaveLength(1);
  }, 30_000);
});

describe('a check that comes too late', () => {
  it('does not overwrite a job cancelled, or failed at its time limit, since it was read (helper-73)', async () => {
    const { service: s } = await service();
    s.store.commit(exchangeRecord({ mac: MAC }), { device: { mac: MAC, lastAddress: '127.0.0.1' } }, null);
    for (const end of ['cancelled', 'failed'] as const) {
      const job = filesJob(s, ['https://files.example/logo.png', 'https://files.example/ring.wav'], ['LOGO', 'RINGTONE']);
      s.store.jobs.apply({ id: job, state: 'sent', partsDone: 1, sent: Date.now() }, Date.now());
      const read = s.store.jobs.get(job)!;
      s.store.jobs.apply({ id: job, state: end, finished: Date.now(), error: `${end} meanwhile` }, Date.now());
      // The phone's listing, judged against the job as it was read.
      const listing: Item[] = ['logo.png', 'ring.wav'].flatMap((name, n) => [
        { name: 'file-deployment-status', index: n + 1, value: 'ok' },
        { name: 'file-deployment-name', index: n + 1, value: name },
        { name: 'file-deployment-type', index: n + 1, value: n === 0 ? 'LOGO' : 'RINGTONE' },
      ]);
      s.store.jobs.apply(checkFiles(read, listing, Date.now()).change, Date.now());
      expect(s.store.jobs.get(job)).toMatchObject({ state: end, error: `${end} meanwhile`, results: [] });
    }
  });
});
