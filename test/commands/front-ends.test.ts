/**
 * The same user action through two front ends, on the same data directory: the CLI (its main(),
 * in this process) and the API object the Electron IPC and WebSocket bridges call. Each case was a
 * disagreement when the CLI and the UI had their own implementations (issue #13); now both call
 * one command, and these tests hold them to it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LocalDlsApiHost } from '../../src/main/bridge/api-host';
import type { Pki } from '../../src/main/pki';
import { ApiError } from '../../src/shared/api';
import type { ExchangeSummary, Job } from '../../src/shared/model';
import { fastProtector, openPki } from '../pki/helpers';
import { runCli } from '../support/cli';
import { FlowHarness } from '../support/handler';
import { tempDirs } from '../support/tmp';
import { interaction, MAC } from '../web/api-harness';

const newDir = tempDirs();
const B = '00:1A:E8:00:00:02';
const PASS = 'correct horse battery staple';
const ENV = { LOCALDLS_KEY_PASSPHRASE: PASS };
const open: { h: FlowHarness; api: LocalDlsApiHost }[] = [];
afterEach(async () => {
  for (const { h, api } of open.splice(0)) {
    await api.close();
    h.close();
  }
});

/** A data directory with two phones that have talked to the service, the API over it, and the CLI's words. */
async function site(options: { secure?: boolean } = {}) {
  const dir = newDir();
  const pki: Pki | undefined = options.secure ? await openPki(dir, { keyBits: 1024 }) : undefined;
  const h = new FlowHarness(dir);
  const api = new LocalDlsApiHost(
    {
      store: h.store,
      onExchange: (cb: (x: ExchangeSummary) => void) => {
        h.handler.events.on('exchange', cb);
        return () => h.handler.events.off('exchange', cb);
      },
      ...(pki ? { pki, keyProtector: fastProtector(dir, PASS) } : {}),
    },
    { dataDir: dir, batchMs: 5, networkInterfaces: () => ({}) },
  );
  open.push({ h, api });
  interaction(h);
  interaction(h, B, '192.0.2.11');
  const cli = (...args: string[]) => runCli([...args, '--data-dir', dir], ENV);
  const jobs = () => h.store.jobs.list({});
  return { dir, h, api, cli, jobs };
}

const apiError = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e as ApiError);

describe('one command, two front ends', () => {
  it('cancelling a bootstrap job clears "bootstrap pending" whichever front end cancels, so bootstrap --all takes the phone again', async () => {
    const { h, api, cli, jobs } = await site({ secure: true });
    // Started in the UI, cancelled from the CLI.
    await api.startBootstrap([MAC], { pin: 'none', maxPinRetries: 3 });
    await expect.poll(() => jobs().filter((j) => j.kind === 'Bootstrap').length, { timeout: 20_000 }).toBe(1);
    expect(h.store.device(MAC)!.bootstrap).toBe('pending');
    const first = jobs().find((j) => j.kind === 'Bootstrap')!;
    expect(await cli('job', 'cancel', String(first.id))).toMatchObject({ code: 0, stdout: `cancelled job ${first.id}\n` });
    expect(h.store.device(MAC)!.bootstrap).toBe('failed');

    // Started from the CLI, cancelled in the UI.
    const started = await cli('bootstrap', '--mac', B, '--nopin');
    expect(started.code, started.stderr).toBe(0);
    const second = jobs().find((j) => j.kind === 'Bootstrap' && j.mac === B)!;
    expect(h.store.device(B)!.bootstrap).toBe('pending');
    expect((await api.cancelJob(second.id)).state).toBe('cancelled');
    expect(h.store.device(B)!.bootstrap).toBe('failed');

    // Both phones are candidates again, for either front end.
    const all = await cli('bootstrap', '--all', '--nopin');
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout.match(/queued job \d+: bootstrap of (\S+)/g)!.map((l) => l.split(' ').at(-1))).toEqual([MAC, B]);
  });

  it('a second bootstrap of a phone is refused with the same words in the CLI and the UI, and issues no second certificate', async () => {
    const { api, cli, jobs } = await site({ secure: true });
    expect((await cli('bootstrap', '--mac', MAC, '--nopin')).code).toBe(0);
    const first = jobs().find((j) => j.kind === 'Bootstrap')!;
    const again = await cli('bootstrap', '--mac', MAC, '--nopin');
    expect(again.code).toBe(1);
    const words = `${MAC} has a bootstrap under way (job ${first.id}, queued): cancel that job first to start again`;
    expect(again.stderr).toBe(`localdls bootstrap: ${words}\n`);
    const ui = await apiError(api.startBootstrap([MAC], { pin: 'auto', maxPinRetries: 3 }));
    expect(ui).toMatchObject({ code: 'conflict', message: words });
    expect(jobs().filter((j) => j.kind === 'Bootstrap')).toHaveLength(1);
    // Once the first is cancelled, a new one may start.
    await api.cancelJob(first.id);
    expect((await cli('bootstrap', '--mac', MAC, '--nopin')).code).toBe(0);
    expect(jobs().filter((j) => j.kind === 'Bootstrap' && j.state === 'queued')).toHaveLength(1);
  });

  it('the same bootstrap from the CLI and the UI at the same moment: one job, one refusal', async () => {
    const { api, cli, jobs, h } = await site({ secure: true });
    // Both pass the first check before either has queued: the store's transaction decides.
    const [fromCli, run] = await Promise.all([cli('bootstrap', '--mac', MAC, '--nopin'), api.startBootstrap([MAC], { pin: 'none', maxPinRetries: 3 })]);
    // The UI's run prepares in the background: wait until it has either queued its job or failed.
    await expect.poll(async () => {
      const r = await api.getBootstrapRun(run.id);
      return r.prepared === 1 || r.error !== null;
    }, { timeout: 20_000 }).toBe(true);
    const uiRun = await api.getBootstrapRun(run.id);
    const boots = jobs().filter((j) => j.kind === 'Bootstrap');
    expect(boots).toHaveLength(1);
    const refused = [fromCli.code === 0 ? null : 'cli', uiRun.error === null ? null : 'ui'].filter(Boolean);
    if (refused[0] === 'ui') expect(uiRun.error).toMatch(/has a bootstrap under way/);
    expect(refused).toHaveLength(1);
    if (refused[0] === 'cli') expect(fromCli.stderr).toMatch(new RegExp(`has a bootstrap under way \\(job ${boots[0]!.id}, queued\\)`));
    // Refused at the first check (no certificate made), or, when both had passed it, by the queueing
    // transaction, which revokes the certificate made for the loser (test/store/revocations.test.ts
    // forces that case).
    const revoked = h.store.revokedCertificates();
    expect(revoked.length).toBeLessThanOrEqual(1);
    for (const r of revoked) expect(r).toMatchObject({ mac: MAC, reason: `issued for a bootstrap refused: job ${boots[0]!.id} was already under way` });
  });

  it('the same write from the CLI and the UI at the same moment: one job per phone, the other told which job does it (helper-61: each phone got it twice)', async () => {
    const { api, cli, jobs } = await site();
    const write = { kind: 'write' as const, items: [{ name: 'sntp-addr', value: 'ntp.same.test' }] };
    const [fromCli, fromUi] = await Promise.all([cli('job', 'add', '--mac', MAC, '--mac', B, 'write', 'sntp-addr=ntp.same.test'), api.addJob([MAC, B], write)]);
    expect(fromCli.code, fromCli.stderr).toBe(0);
    const writes = jobs().filter((j) => j.kind === 'WriteItems');
    expect(writes.map((j) => j.mac).sort()).toEqual([MAC, B]);
    // Whoever came second got no job and was told which one does it; the first got both.
    const cliQueued = fromCli.stdout.split('\n').filter((l) => l.startsWith('queued job')).length;
    const cliSame = fromCli.stderr.split('\n').filter((l) => l.includes('the same job waits for the phone already')).length;
    expect([cliQueued + fromUi.jobs.length, cliSame + fromUi.same.length]).toEqual([2, 2]);
    for (const s of fromUi.same) expect(writes.map((j) => j.id)).toContain(s.jobId);

    // Again, one after the other: nothing new. Another value, or another kind of job, is queued.
    expect(await api.addJob([MAC], write)).toMatchObject({ jobs: [], same: [{ mac: MAC, jobId: writes.find((j) => j.mac === MAC)!.id }] });
    expect((await api.addJob([MAC], { kind: 'write', items: [{ name: 'sntp-addr', value: 'ntp.other.test' }] })).jobs).toHaveLength(1);
    // The first value again after another: queued, or the phone would end on the other (helper-64).
    expect((await api.addJob([MAC], write)).jobs).toHaveLength(1);
    expect(jobs().filter((j) => j.mac === MAC && j.kind === 'WriteItems').map((j) => j.items[0]!.value)).toEqual(['ntp.same.test', 'ntp.other.test', 'ntp.same.test']);
    expect((await api.addJob([MAC], { kind: 'read-all' })).jobs).toHaveLength(1);
    expect((await api.addJob([MAC], { kind: 'read-all' })).jobs).toHaveLength(0);
  });

  it('job add file keeps each file its own type, from the CLI as from the UI', async () => {
    const { api, cli, jobs } = await site();
    const r = await cli('job', 'add', '--mac', MAC, 'file', '--type', 'LOGO', 'https://files.example/a.png', '--type', 'RINGTONE', 'https://files.example/b.wav');
    expect(r.code, r.stderr).toBe(0);
    const viaUi = await api.addJob([MAC, B], { kind: 'file', urls: ['https://files.example/a.png', 'https://files.example/b.wav'], fileTypes: ['LOGO', 'RINGTONE'] });
    const [fromCli, fromUi] = jobs();
    const types = (j: Job) => j.items.filter((i) => i.name === 'file-type').map((i) => [i.index, i.value]);
    expect(types(fromCli!)).toEqual([[1, 'LOGO'], [2, 'RINGTONE']]);
    // For MAC the UI's job is the CLI's, item for item: it waits already, so none is queued again.
    expect(viaUi.same).toEqual([{ mac: MAC, jobId: fromCli!.id }]);
    expect(fromUi!.mac).toBe(B);
    expect(fromUi!.items).toEqual(fromCli!.items);
    expect(viaUi.jobs[0]!.items).toEqual(fromCli!.items);
    // --url / --ftp take the type before them too; one type after every file still applies to all.
    expect((await cli('job', 'add', '--mac', MAC, 'file', '--type', 'PIC', '--url', 'https://f.example/p.jpg', '--type', 'MOH', '--ftp', 'ftp://u:p@f.example/m.wav')).code).toBe(0);
    expect(types(jobs()[2]!)).toEqual([[1, 'PIC'], [2, 'MOH']]);
    expect((await cli('job', 'add', '--mac', MAC, 'file', '--url', 'https://f.example/1.png', '--url', 'https://f.example/2.png', '--type', 'LOGO')).code).toBe(0);
    expect(types(jobs()[3]!)).toEqual([[1, 'LOGO'], [2, 'LOGO']]);
    // A file with no type before or after it is refused, saying what to add.
    const untyped = await cli('job', 'add', '--mac', MAC, 'file', 'https://f.example/x.png');
    expect(untyped.code).toBe(2);
    expect(untyped.stderr).toMatch(/file needs --type before each file/);
    expect(await apiError(api.addJob([MAC], { kind: 'file', urls: ['https://f.example/x.png', 'https://f.example/y.png'], fileTypes: ['LOGO'] }))).toMatchObject({ code: 'bad-argument', message: expect.stringMatching(/2 files but 1 file type/) });
    // A type the manual does not name: refused by both, nothing queued (helper-77: the CLI queued BOGUS).
    const before = jobs().length;
    expect((await cli('job', 'add', '--mac', MAC, 'file', '--type', 'BOGUS', 'https://f.example/x.png')).stderr).toMatch(/file type "BOGUS" is not one of/);
    expect(await apiError(api.addJob([MAC], { kind: 'file', fileType: 'BOGUS', urls: ['https://f.example/x.png'] }))).toMatchObject({ code: 'bad-argument', message: expect.stringMatching(/file type "BOGUS" is not one of/) });
    expect(jobs()).toHaveLength(before);
  });

  it('masking and validation are the same: secrets masked in what both return, the same refusals', async () => {
    const { api, cli } = await site();
    const viaCli = await cli('job', 'add', '--mac', MAC, '--json', 'write', 'sip-pwd=hunter22', 'sntp-addr=ntp.site');
    const viaUi = await api.addJob([B], { kind: 'write', items: [{ name: 'sip-pwd', value: 'hunter22' }, { name: 'sntp-addr', value: 'ntp.site' }] });
    const cliJob = JSON.parse(viaCli.stdout) as Job;
    expect(cliJob.items).toEqual(viaUi.jobs[0]!.items);
    expect(JSON.stringify(cliJob)).not.toContain('hunter22');
    const listed = await cli('job', 'list', '--json');
    expect(listed.stdout).not.toContain('hunter22');
    expect(JSON.stringify(await api.listJobs({}))).not.toContain('hunter22');
    // A firmware version the phone cannot report is refused by both, in the same words after the field name.
    const cliBad = await cli('job', 'add', '--mac', MAC, 'firmware', '--version', 'new', '--url', 'https://x/fw');
    const uiBad = await apiError(api.addJob([MAC], { kind: 'firmware', version: 'new', url: 'https://x/fw' }));
    expect(cliBad.code).toBe(2);
    expect(cliBad.stderr).toContain('--version "new" is not a firmware version like 3.5.12.0');
    expect(uiBad!.message).toBe('addJob: version "new" is not a firmware version like 3.5.12.0');
    // Profiles: the secret is masked in both listings.
    expect((await cli('profile', 'set', 'site', 'admin-pwd=s3cret!', 'sntp-addr=a')).code).toBe(0);
    expect((await cli('profile', 'show', '--json')).stdout).not.toContain('s3cret!');
    expect(JSON.stringify(await api.listProfiles())).not.toContain('s3cret!');
  });

  it('job list shows a bootstrap job on one line: no CA certificate in the table', async () => {
    const { cli } = await site({ secure: true });
    expect((await cli('bootstrap', '--mac', MAC, '--nopin')).code).toBe(0);
    const table = await cli('job', 'list');
    expect(table.code).toBe(0);
    expect(table.stdout).not.toContain('BEGIN CERTIFICATE');
    const row = table.stdout.split('\n').find((l) => l.includes('Bootstrap'))!;
    expect(row).toMatch(/goto-secure-mode=nopin dls-server-ca\[0\]=\(certificate, \d+ bytes\)/);
    expect(table.stdout.trim().split('\n')).toHaveLength(2);
    // The JSON carries the items whole (the CA certificate is public).
    expect((await cli('job', 'list', '--json')).stdout).toContain('BEGIN CERTIFICATE');
  });

  it('every front end takes the same MAC spellings and refuses the same ones', async () => {
    const { api, cli } = await site();
    for (const spelling of ['00:1a:e8:00:00:01', '00-1A-E8-00-00-01', '001a.e800.0001', '001AE8000001', ' 00:1A:E8:00:00:01 ']) {
      expect((await api.getDevice(spelling)).device.mac, spelling).toBe(MAC);
      const r = await cli('items', '--mac', spelling.trim(), '--json');
      expect(r.code, `${spelling}: ${r.stderr}`).toBe(0);
    }
    for (const wrong of ['00:1A:E8:00:00', '00:1A-E8:00:00:01', '0:1A:E8:00:00:01', '001a.e800.00011', '00.1A.E8.00.00.01', 'zz:1A:E8:00:00:01']) {
      expect(await apiError(api.getDevice(wrong)), wrong).toMatchObject({ code: 'bad-argument', message: expect.stringContaining('is not a MAC address') });
      const r = await cli('items', '--mac', wrong);
      expect(r.code, wrong).toBe(2);
      expect(r.stderr).toContain(`--mac "${wrong}" is not a MAC address`);
    }
  });
});
