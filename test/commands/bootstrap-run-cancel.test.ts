/**
 * A bootstrap run's PIN sheet and its cancellation, through the API host's commands (the argument
 * checks every front end shares) over the real store and PKI:
 * - the sheet is refused while any phone of the run is still being prepared, by the command too,
 *   so no front end can fetch a partial sheet that looks complete;
 * - cancelRun: no further phone starts, a phone being prepared has its job cancelled as soon as it
 *   exists, unsent jobs are cancelled, a phone that already has its credentials stays followed;
 * - cancelling twice, from two tabs at once, a finished run, an unknown or hostile id;
 * - the run's jobs cancelled elsewhere (`job cancel`): the run stops preparing the rest.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LocalDlsApiHost } from '../../src/main/bridge/api-host';
import { CANCELLED_ELSEWHERE } from '../../src/main/commands/bootstrap-runs';
import type { ApiError, BootstrapRun } from '../../src/shared/api';
import { fastProtector, openPki } from '../pki/helpers';
import { FlowHarness } from '../support/handler';
import { tempDirs } from '../support/tmp';
import { apiOver, interaction, SECURE_LISTENER } from '../web/api-harness';

const newDir = tempDirs();
const open: { h: FlowHarness; api: LocalDlsApiHost }[] = [];
afterEach(async () => {
  for (const { h, api } of open.splice(0)) {
    await api.close();
    h.close();
  }
});

const macOf = (i: number) => `00:1A:E8:00:02:${i.toString(16).padStart(2, '0').toUpperCase()}`;

/** An API host with Secure Mode on and `n` phones that have called once. */
async function setup(n: number) {
  const dir = newDir();
  const pki = await openPki(dir, { keyBits: 1024 });
  const h = new FlowHarness(dir);
  const api = apiOver(h, { dataDir: dir, listeners: [SECURE_LISTENER] }, { pki, keyProtector: fastProtector(dir) });
  open.push({ h, api });
  const macs = Array.from({ length: n }, (_, i) => macOf(i));
  macs.forEach((mac, i) => interaction(h, mac, `192.0.2.${i + 10}`));
  const events: BootstrapRun[] = [];
  api.onBootstrap((r) => events.push(r));
  return { h, api, macs, events };
}

const refused = async (p: Promise<unknown>, message: RegExp, code: string) => {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e, String(message)).not.toBeNull();
  expect((e as ApiError).code).toBe(code);
  expect((e as Error).message).toMatch(message);
};

const until = (check: () => boolean | Promise<boolean>) => expect.poll(check, { timeout: 20_000, interval: 10 }).toBe(true);

describe('a bootstrap run: the PIN sheet and cancel', () => {
  it('offers no PIN sheet while phones are still being prepared, and the whole sheet once all are', async () => {
    const { api, macs, events } = await setup(6);
    const sheets: Promise<unknown>[] = [];
    // At every announcement with phones still preparing, another front end asks for the sheet.
    api.onBootstrap((r) => {
      if (r.prepared < r.total) sheets.push(api.bootstrapPinSheet(r.id, 'csv').then(() => 'given', (e: ApiError) => e));
    });
    const run = await api.startBootstrap(macs, { pin: 'auto', maxPinRetries: 3 });
    await refused(api.bootstrapPinSheet(run.id, 'csv'), /ready once every phone of the run is prepared \(0 of 6 so far\)/, 'conflict');
    await until(() => events.some((r) => r.prepared === 6));
    const partial = events.filter((r) => r.prepared < 6);
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.every((r) => !r.pinsAvailable)).toBe(true);
    const answers = await Promise.all(sheets);
    expect(answers.length).toBe(partial.length);
    for (const a of answers) expect((a as ApiError).message).toMatch(/^the PIN sheet is ready once every phone of the run is prepared \(\d of 6 so far\)/);

    expect(events.at(-1)!.pinsAvailable).toBe(true);
    const csv = (await api.bootstrapPinSheet(run.id, 'csv')).content.trim().split('\n');
    expect(csv.slice(1).map((l) => l.split(',')[0]).sort()).toEqual([...macs].sort());
  });

  it('cancel: nothing more is prepared, unsent jobs are cancelled, a phone with its credentials stays followed', async () => {
    const { h, api, macs, events } = await setup(10);
    let cancelled: Promise<BootstrapRun> | null = null;
    const run = await api.startBootstrap(macs, { pin: 'auto', maxPinRetries: 3 });
    // At the first phone prepared, that phone takes its job (sent), and the user cancels at once.
    api.onBootstrap((r) => {
      if (cancelled || r.prepared === 0) return;
      const first = r.devices.find((d) => d.jobId !== null)!;
      h.store.jobs.apply({ id: first.jobId!, state: 'sent', sent: Date.now() }, Date.now());
      cancelled = api.cancelBootstrapRun(run.id);
    });
    await until(() => cancelled !== null);
    const atCancel = await cancelled!;
    expect(atCancel.cancelled).toMatchObject({ why: 'cancelled from the run view' });
    expect(atCancel.finished).toBe(false);
    // Phones not started are cancelled without a job; those being prepared finish first.
    const notStarted = atCancel.devices.filter((d) => d.state === 'cancelled' && d.jobId === null);
    expect(notStarted.length).toBeGreaterThan(0);
    for (const d of notStarted) expect(d.error).toBe('not prepared: the bootstrap run was cancelled');

    await until(() => !events.at(-1)!.devices.some((d) => d.state === 'preparing'));
    const after = await api.getBootstrapRun(run.id);
    const sent = after.devices.filter((d) => d.state === 'pending');
    expect(sent.map((d) => d.jobState)).toEqual(['sent']);
    expect(after.finished).toBe(false);
    // Every job the run queued, except the one already sent, is cancelled; no phone got a job after the cancel.
    const jobs = (await api.listJobs({ kinds: ['Bootstrap'] })).jobs;
    const withJob = after.devices.filter((d) => d.jobId !== null);
    expect(jobs.length).toBe(withJob.length);
    expect(withJob.length).toBeLessThan(macs.length);
    for (const d of withJob.filter((x) => x.jobState !== 'sent')) {
      expect(d).toMatchObject({ state: 'cancelled', jobState: 'cancelled', error: 'cancelled with its bootstrap run' });
      expect(h.store.bootstrapUnderWay(d.mac)).toBeFalsy();
    }
    // The one with its credentials still has its bootstrap under way.
    expect(h.store.bootstrapUnderWay(sent[0]!.mac)).toBeTruthy();
    // The PIN sheet now holds the one phone that can still type its PIN.
    expect(after.pinsAvailable).toBe(true);
    expect((await api.bootstrapPinSheet(run.id, 'csv')).content.trim().split('\n').slice(1).map((l) => l.split(',')[0])).toEqual([sent[0]!.mac]);

    // Cancel twice, and from two tabs at once: the same run, no error, nothing changes.
    const [a, b] = await Promise.all([api.cancelBootstrapRun(run.id), api.cancelBootstrapRun(run.id)]);
    expect(a.cancelled).toEqual(atCancel.cancelled);
    expect(b).toEqual(a);

    // The sent phone comes back secure: the run is finished (cancelled), the PINs are gone.
    h.store.jobs.apply({ id: sent[0]!.jobId!, state: 'done', finished: Date.now() }, Date.now());
    await until(() => events.at(-1)!.finished);
    expect(events.at(-1)!.devices.find((d) => d.mac === sent[0]!.mac)!.state).toBe('secure');
    expect(events.at(-1)!.pinsAvailable).toBe(false);
    expect((await api.cancelBootstrapRun(run.id)).cancelled).toEqual(atCancel.cancelled);
  });

  it('refuses to cancel a finished run, an unknown run and a hostile id', async () => {
    const { h, api, macs, events } = await setup(1);
    const run = await api.startBootstrap(macs, { pin: 'none', maxPinRetries: 3 });
    await until(() => events.some((r) => r.prepared === 1));
    h.store.jobs.apply({ id: events.at(-1)!.devices[0]!.jobId!, state: 'done', finished: Date.now() }, Date.now());
    await until(() => events.at(-1)!.finished);
    await refused(api.cancelBootstrapRun(run.id), /has finished \(every phone is secure, failed or cancelled\): there is nothing left to cancel/, 'conflict');
    await refused(api.cancelBootstrapRun('nosuchrun'), /no bootstrap run nosuchrun/, 'not-found');
    await refused(api.cancelBootstrapRun('../etc'), /runId is not a bootstrap run id/, 'bad-argument');
    await refused((api.cancelBootstrapRun as (...a: unknown[]) => Promise<unknown>)(), /runId/, 'bad-argument');
    await refused((api.cancelBootstrapRun as (...a: unknown[]) => Promise<unknown>)({ id: run.id }), /runId/, 'bad-argument');
  });

  it("stops preparing when every job it queued is cancelled elsewhere (job cancel)", async () => {
    const { api, macs, events } = await setup(10);
    let cancelledJob: Promise<unknown> | null = null;
    const run = await api.startBootstrap(macs, { pin: 'auto', maxPinRetries: 3 });
    api.onBootstrap((r) => {
      if (cancelledJob || r.prepared === 0) return;
      cancelledJob = api.cancelJob(r.devices.find((d) => d.jobId !== null)!.jobId!);
    });
    await until(() => events.some((r) => r.cancelled !== null));
    await until(() => !events.at(-1)!.devices.some((d) => d.state === 'preparing'));
    const after = await api.getBootstrapRun(run.id);
    expect(after.cancelled!.why).toBe(CANCELLED_ELSEWHERE);
    expect(after.finished).toBe(true);
    expect(after.devices.every((d) => d.state === 'cancelled')).toBe(true);
    // Phones it had not started got no certificate and no job.
    const jobs = (await api.listJobs({ kinds: ['Bootstrap'] })).jobs;
    expect(jobs.length).toBeLessThan(macs.length);
    expect(jobs.every((j) => j.state === 'cancelled')).toBe(true);
    expect(after.devices.filter((d) => d.jobId === null).length).toBe(macs.length - jobs.length);
  });

  it('one job of many cancelled elsewhere does not stop the run', async () => {
    const { api, macs, events } = await setup(3);
    const run = await api.startBootstrap(macs, { pin: 'none', maxPinRetries: 3 });
    await until(() => events.some((r) => r.prepared === 3));
    const ready = await api.getBootstrapRun(run.id);
    await api.cancelJob(ready.devices[0]!.jobId!);
    await until(() => events.at(-1)!.devices[0]!.state === 'cancelled');
    const after = await api.getBootstrapRun(run.id);
    expect(after.cancelled).toBeNull();
    expect(after.devices.map((d) => d.state)).toEqual(['cancelled', 'pending', 'pending']);
  });
});
