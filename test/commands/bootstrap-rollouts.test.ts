/**
 * Bootstraps as rollouts (issue #18 follow-up), through the API the UI calls and the CLI on the
 * same data folder, over the real handler, store and PKI:
 * - a bootstrap of several phones, from the wizard (a run) or `bootstrap --all`, is one rollout
 *   with its phases (queued, waiting for the PIN, failed…), found from its jobs alone, so it is
 *   still there when the service that ran it is gone;
 * - "retry failed" bootstraps the failed phones again (new certificate, new PIN) from either front
 *   end; a second retry, from either, skips the phones already retried and says why;
 * - ids that do not exist, a run's id after the restart, hostile ids;
 * - the key pool in Secure Mode's status (the wizard shows it).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bootstrapToSend, openJobPin, openJobSecret } from '../../src/main/app/bootstrap';
import { LocalDlsApiHost } from '../../src/main/bridge/api-host';
import { cliContext } from '../../src/main/cli/context';
import { bootstrap } from '../../src/main/commands/bootstrap';
import { BootstrapRuns } from '../../src/main/commands/bootstrap-runs';
import { Store } from '../../src/main/store';
import type { Pki } from '../../src/main/pki';
import type { ApiError, RolloutSummary } from '../../src/shared/api';
import { fastProtector, openPki } from '../pki/helpers';
import { runCli } from '../support/cli';
import { FlowHarness } from '../support/handler';
import { startUpItems } from '../support/messages';
import { withRawDb } from '../support/raw-db';
import { tempDirs } from '../support/tmp';
import { apiOver, interaction, SECURE_LISTENER } from '../web/api-harness';

const newDir = tempDirs();
const PASS = 'correct horse battery staple';
const ENV = { LOCALDLS_KEY_PASSPHRASE: PASS, LOCALDLS_KEY_POOL_SIZE: '0' };
const open: { h: FlowHarness; apis: LocalDlsApiHost[] }[] = [];
afterEach(() => open.splice(0).forEach(({ h, apis }) => (apis.forEach((a) => a.close()), h.close())));

const macOf = (i: number) => `00:1A:E8:00:03:${i.toString(16).padStart(2, '0').toUpperCase()}`;
const peerOf = (i: number) => `192.0.2.${i + 20}`;
const WAIT = { timeout: 30_000, interval: 20 };

/** `n` phones that have called once, Secure Mode on, and "a service" (the API host) over them; `restart` gives a new one. */
async function site(n: number, keyPoolSize?: number) {
  const dir = newDir();
  const pki: Pki = await openPki(dir, { keyBits: 1024, ...(keyPoolSize !== undefined ? { keyPoolSize } : {}) });
  const protector = fastProtector(dir, PASS);
  const h = new FlowHarness(dir);
  h.handler.security = { openSecret: (sealed) => openJobSecret(protector, sealed), bootstrapToSend: (job, sealed) => bootstrapToSend(protector, sealed, job, 18444) };
  h.clock = Date.now();
  const entry = { h, apis: [] as LocalDlsApiHost[] };
  open.push(entry);
  const service = () => {
    const api = apiOver(h, { dataDir: dir, listeners: [SECURE_LISTENER] }, { pki, keyProtector: protector });
    entry.apis.push(api);
    return api;
  };
  const macs = Array.from({ length: n }, (_, i) => macOf(i));
  macs.forEach((mac, i) => interaction(h, mac, peerOf(i)));
  const cli = (...args: string[]) => runCli([...args, '--data-dir', dir], ENV);
  const cliRollouts = async () => (await cli('rollout', '--json')).stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as RolloutSummary);
  return { dir, h, pki, protector, macs, service, cli, cliRollouts };
}

/** Phone `i` takes its bootstrap on the Default-Mode port (the WriteItems, accepted); with `reset` it then starts up there again, which fails the job. */
function takeBootstrap(h: FlowHarness, i: number, reset = false): void {
  h.clock = Math.max(h.clock, Date.now());
  const w = h.say(peerOf(i), { reason: 'solicited', items: startUpItems(macOf(i), { 'configuration-changed-flag': 'false' }) });
  expect(w.action).toBe('WriteItems');
  expect(w.items.find((it) => it.name === 'goto-secure-mode')).toBeDefined();
  expect(h.say(peerOf(i), { reason: 'reply-to', action: 'WriteItems', status: 'accepted' }).action).toBe('CleanUp');
  if (reset) h.say(peerOf(i), { reason: 'start-up', items: startUpItems(macOf(i)) });
}

const apiError = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e as ApiError);

describe('bootstrap runs as rollouts', () => {
  it('a wizard run is one rollout with its phases, the same in the CLI, and still there after the service is gone; retry bootstraps the failed phones again, once', async () => {
    const { dir, h, macs, service, cli, cliRollouts } = await site(3);
    const ui = service();
    const run = await ui.startBootstrap(macs, { pin: 'auto', maxPinRetries: 3 });
    expect(run.rolloutId).toBe(`j${run.started}-Bootstrap`);
    // Listed at once, while its phones are still being prepared (no jobs yet): queued.
    const [first] = await ui.listRollouts();
    expect(first).toMatchObject({ id: run.rolloutId, kind: 'bootstrap', jobKind: 'Bootstrap', total: 3, finished: false });
    await expect.poll(async () => (await ui.getBootstrapRun(run.id)).prepared, WAIT).toBe(3);
    // Every job of the run names the run's start as its rollout: that is what finds it again. Each
    // keeps the time it was really queued.
    const jobs = h.store.jobs.list({}).filter((j) => j.kind === 'Bootstrap');
    expect(h.store.rollouts.jobs(run.started, 'Bootstrap').map((j) => j.id).sort()).toEqual(jobs.map((j) => j.id).sort());
    for (const j of jobs) expect(j.created).toBeGreaterThanOrEqual(run.started);
    // Each job names its rollout (the Jobs view links to it), through every way jobs are read.
    expect(jobs.map((j) => `j${j.rolloutAt}-${j.kind}`)).toEqual([run.rolloutId, run.rolloutId, run.rolloutId]);
    expect(h.store.jobs.get(jobs[0]!.id)!.rolloutAt).toBe(run.started);
    expect((await ui.listJobs({})).jobs.filter((j) => j.kind === 'Bootstrap').map((j) => j.rolloutAt)).toEqual([run.started, run.started, run.started]);

    // Phone 0 takes its bootstrap and waits for its PIN; phone 1 takes it and is reset: failed.
    takeBootstrap(h, 0);
    takeBootstrap(h, 1, true);
    const shown = await ui.getRollout(run.rolloutId);
    expect(shown.counts).toMatchObject({ queued: 1, pin: 1, failed: 1, done: 0 });
    expect(shown.devices.find((d) => d.mac === macs[1])).toMatchObject({ phase: 'failed', error: expect.stringMatching(/came back in Default Mode/) });
    // The run's own id opens the same rollout while the service keeps the run.
    expect((await ui.getRollout(`b-${run.id}`)).id).toBe(run.rolloutId);
    // The CLI (its own store connection, no runs in memory) sees the same rollout from the jobs.
    const [fromCli] = await cliRollouts();
    expect(fromCli).toMatchObject({ id: run.rolloutId, kind: 'bootstrap', total: 3, counts: shown.counts });
    const table = await cli('rollout');
    expect(table.stdout).toMatch(new RegExp(`^${run.rolloutId}\\s+Bootstrap\\s`, 'm'));

    // The service restarts: the run is gone from memory, the rollout is not.
    ui.close();
    const after = service();
    expect((await after.listRollouts()).map((r) => [r.id, r.counts])).toEqual([[run.rolloutId, shown.counts]]);
    expect(await apiError(after.getRollout(`b-${run.id}`))).toMatchObject({ code: 'not-found', message: expect.stringMatching(/no bootstrap run/) });
    expect(await apiError(after.getRollout('j1-Bootstrap'))).toMatchObject({ code: 'not-found', message: expect.stringMatching(/^no rollout j1-Bootstrap/) });

    // Retry from the UI: options from the jobs (generated PINs, 3 retries): a new run for phone 1 only.
    const retried = await after.retryFailed(run.rolloutId);
    expect(retried).toMatchObject({ retried: 1, skipped: [] });
    expect(retried.rolloutId).toMatch(/^j\d+-Bootstrap$/);
    expect(retried.rolloutId).not.toBe(run.rolloutId);
    const again = await after.getRollout(retried.rolloutId!);
    expect(again.devices.map((d) => d.mac)).toEqual([macs[1]]);
    await expect.poll(async () => (await after.getRollout(retried.rolloutId!)).devices[0]!.jobId !== null, WAIT).toBe(true);
    const newJob = h.store.jobs.get((await after.getRollout(retried.rolloutId!)).devices[0]!.jobId!)!;
    expect(newJob.items).toContainEqual({ name: 'goto-secure-mode', value: 'pin' });
    expect(newJob.items).toContainEqual({ name: 'max-pin-retries', value: '3' });

    // The first rollout shows the failed phone as bootstrapped again, linked to the retry (the UI offers no retry of it).
    expect((await after.getRollout(run.rolloutId)).devices.find((d) => d.mac === macs[1])).toMatchObject({ phase: 'failed', retriedBy: { jobId: newJob.id, rolloutId: retried.rolloutId } });
    // Retried twice (the UI again, then the CLI while the UI shows it): nothing more is queued, and each says why.
    for (const second of [await after.retryFailed(run.rolloutId), JSON.parse((await cli('rollout', 'retry', run.rolloutId, '--json')).stdout) as typeof retried]) {
      expect(second).toEqual({ rolloutId: null, retried: 0, skipped: [{ mac: macs[1], reason: expect.stringMatching(/^bootstrap job \d+ is already under way/), retriedBy: newJob.id }] });
    }
    expect(h.store.jobs.list({ mac: macs[1] }).filter((j) => j.kind === 'Bootstrap')).toHaveLength(2);
    // With nothing left to retry, the key passphrase is not needed to say so.
    const noKey = await runCli(['rollout', 'retry', run.rolloutId, '--json', '--data-dir', dir], { LOCALDLS_KEY_PASSPHRASE: '', LOCALDLS_KEY_POOL_SIZE: '0' });
    expect(noKey.code, noKey.stderr).toBe(0);
    expect(JSON.parse(noKey.stdout)).toEqual({ rolloutId: null, retried: 0, skipped: [{ mac: macs[1], reason: expect.stringMatching(/^bootstrap job \d+ is already under way/), retriedBy: newJob.id }] });
  });

  it('bootstrap --all is a rollout too; the CLI retries its failed phones with new PINs on a sheet, as long as the first, the UI then finds nothing left to retry', async () => {
    const { dir, h, protector, macs, service, cli } = await site(3);
    const started = await cli('bootstrap', '--all', '--pin', 'auto', '--pin-digits', '11');
    expect(started.code, started.stderr).toBe(0);
    const id = /rollout (j\d+-Bootstrap)/.exec(started.stderr)?.[1];
    expect(id, started.stderr).toBeDefined();
    const ui = service();
    expect((await ui.listRollouts()).map((r) => r.id)).toEqual([id]);
    takeBootstrap(h, 0, true);
    takeBootstrap(h, 2, true);
    const shown = await cli('rollout', 'show', id!);
    expect(shown.stdout.split('\n').filter((l) => / failed /.test(l)).map((l) => l.split(/\s+/)[0])).toEqual([macs[0], macs[2]]);

    // Without the key passphrase the retry cannot make keys: it says so, and queues nothing.
    const noKey = await runCli(['rollout', 'retry', id!, '--data-dir', dir], { LOCALDLS_KEY_PASSPHRASE: '', LOCALDLS_KEY_POOL_SIZE: '0' });
    expect(noKey.code).not.toBe(0);
    expect(noKey.stderr).toMatch(/passphrase/i);
    expect(h.store.jobs.list({}).filter((j) => j.kind === 'Bootstrap')).toHaveLength(3);

    const sheet = join(dir, 'retry-pins.csv');
    const retried = await cli('rollout', 'retry', id!, '--sheet', sheet);
    expect(retried.code, retried.stderr).toBe(0);
    const newId = /as rollout (j\d+-Bootstrap)$/m.exec(retried.stdout)?.[1];
    expect(retried.stdout).toMatch(/^queued 2 failed jobs again as rollout j\d+-Bootstrap$/m);
    // The sheet holds the two new PINs, each the one sealed in its new job.
    const rows = readFileSync(sheet, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    expect(rows.map((r) => r[0])).toEqual([macs[0], macs[2]]);
    // As many digits as the run asked for, though no service kept the run's options.
    expect(rows.map((r) => r[2]!.length)).toEqual([11, 11]);
    const retriedRollout = await ui.getRollout(newId!);
    for (const d of retriedRollout.devices) {
      const pin = rows.find((r) => r[0] === d.mac)![2]!;
      expect(openJobSecret(protector, h.store.jobs.secret(d.jobId!)!)!.tan).toBe(pin.slice(-3));
    }
    // The UI, which shows the first rollout, retries it too: both phones are under way already.
    const fromUi = await ui.retryFailed(id!);
    expect(fromUi.retried).toBe(0);
    expect(fromUi.skipped.map((s) => s.mac)).toEqual([macs[0], macs[2]]);
    // A phone of the retry fails again: the UI retries that rollout (a run of its own).
    takeBootstrap(h, 2, true);
    const third = await ui.retryFailed(newId!);
    expect(third).toMatchObject({ retried: 1, skipped: [] });
    expect((await ui.getRollout(third.rolloutId!)).devices.map((d) => d.mac)).toEqual([macs[2]]);
    await expect.poll(async () => (await ui.getRollout(third.rolloutId!)).devices[0]!.jobId !== null, WAIT).toBe(true);
    const thirdJob = (await ui.getRollout(third.rolloutId!)).devices[0]!.jobId!;
    expect(openJobPin(protector, h.store.jobs.secret(thirdJob)!)).toMatch(/^\d{11}$/);
    expect(existsSync(sheet)).toBe(true);
  });

  it('bootstrap --all leaves a phone another front end started after the list was made, names it, and queues the others', async () => {
    const { dir, h, macs, cli } = await site(3);
    // `bootstrap --all` has listed the three (bootstrapCandidates); then another front end starts phone 1.
    expect((await cli('bootstrap', '--mac', macs[1]!, '--nopin')).code).toBe(0);
    const passphraseFile = join(dir, 'passphrase');
    writeFileSync(passphraseFile, `${PASS}\n`, { mode: 0o600 });
    const ctx = cliContext(h.store, { passphraseFile });
    const r = await bootstrap(ctx, macs, { pin: 'none', maxPinRetries: 3, all: true });
    expect(r.prepared.map((p) => p.mac)).toEqual([macs[0], macs[2]]);
    expect(r.notQueued).toEqual([{ mac: macs[1], reason: expect.stringMatching(/^00:1A:E8:00:03:01 has a bootstrap under way \(job \d+, queued\)/) }]);
    expect(h.store.jobs.list({ mac: macs[1] }).filter((j) => j.kind === 'Bootstrap')).toHaveLength(1);
    // Named by the user, a phone under way is an error for the whole command, as before: nothing queued.
    await expect(bootstrap(ctx, [macs[1]!], { pin: 'none', maxPinRetries: 3 })).rejects.toThrow(/has a bootstrap under way/);
    expect(h.store.jobs.list({}).filter((j) => j.kind === 'Bootstrap')).toHaveLength(3);
  });

  it('bootstraps started in the same millisecond are separate rollouts, also when the first came from the CLI', async () => {
    const { h, pki, protector, macs, cli, dir } = await site(5);
    // A CLI bootstrap, then two runs whose clock says the moment naming its rollout.
    const fromCli = await cli('bootstrap', '--mac', macs[0]!, '--nopin');
    expect(fromCli.code, fromCli.stderr).toBe(0);
    const taken = withRawDb(dir, (db) => (db.prepare(`SELECT coalesce(rollout, created) AS at FROM jobs WHERE kind = 'Bootstrap'`).get() as { at: number }).at);
    const runs = new BootstrapRuns({ store: h.store, secure: () => ({ pki, protector, securePort: 18444 }), offReason: () => 'off', emit: () => undefined, now: () => taken });
    try {
      const a = runs.start([macs[1]!, macs[2]!], { pin: 'none', maxPinRetries: 3 });
      const b = runs.start([macs[3]!, macs[4]!], { pin: 'none', maxPinRetries: 3 });
      expect(new Set([`j${taken}-Bootstrap`, a.rolloutId, b.rolloutId]).size).toBe(3);
      await expect.poll(() => h.store.jobs.list({}).filter((j) => j.kind === 'Bootstrap').length, WAIT).toBe(5);
      expect(h.store.rollouts.jobs(a.started, 'Bootstrap').map((j) => j.mac)).toEqual([macs[1], macs[2]]);
      expect(h.store.rollouts.jobs(b.started, 'Bootstrap').map((j) => j.mac)).toEqual([macs[3], macs[4]]);
    } finally {
      await runs.close();
    }
  });

  it('two front ends on one database claim different moments for their rollouts, also before either has queued a job', () => {
    const dir = newDir();
    const one = new Store(dir);
    const other = new Store(dir); // another process's connection, as far as SQLite can tell
    try {
      const at = 1_800_000_000_000;
      expect(one.rollouts.claimTime(at, 'Bootstrap')).toBe(at);
      expect(other.rollouts.claimTime(at, 'Bootstrap')).toBe(at + 1);
      expect(one.rollouts.claimTime(at, 'Bootstrap')).toBe(at + 2);
      // Each kind on its own; a later clock is taken as it is.
      expect(other.rollouts.claimTime(at, 'WriteItems')).toBe(at);
      expect(one.rollouts.claimTime(at + 5_000, 'Bootstrap')).toBe(at + 5_000);
      // A clock set back by more than a minute is not held at the old claims: it names its own moment.
      expect(other.rollouts.claimTime(at - 120_000, 'Bootstrap')).toBe(at - 120_000);
    } finally {
      other.close();
      one.close();
    }
  });

  it('refuses ids that name no rollout, in words that say what to do', async () => {
    const { cli } = await site(2);
    const missing = await cli('rollout', 'show', 'j1764151200000-Bootstrap');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/no rollout j1764151200000-Bootstrap/);
    const run = await cli('rollout', 'retry', 'b-abc');
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/b-abc names a bootstrap run of the running service: here its rollout is j<start time>-Bootstrap/);
    expect((await cli('rollout', 'retry', '../../etc')).code).not.toBe(0);
    expect((await cli('rollout', 'show', 'j1-Bootstrap', '--sheet', 'x.csv')).stderr).toMatch(/--sheet is for `rollout retry`/);
  });
});

describe('the key pool in Secure Mode status', () => {
  it('says how many keys are ready of how many, and that the pool is off at size 0', async () => {
    const on = await site(1, 5);
    expect((await on.service().getSecureStatus()).keyPool).toEqual({ ready: 0, size: 5 });
    const off = await site(1, 0);
    expect((await off.service().getSecureStatus()).keyPool).toEqual({ ready: 0, size: 0 });
  });
});
