/**
 * Crash safety, with real processes: `localdls serve`, 100 phones (a first round with
 * `localdls phone`, then a storm in a child process), jobs queued for a third of them, SIGKILL of
 * the service in the middle of the storm, restart on the same data directory. The long version:
 * `node --import tsx scripts/fuzz-crash.ts --phones 500 --concurrency 50`.
 *
 * Why synchronous=FULL (src/main/store/store.ts): in WAL mode a commit appends to the WAL; FULL
 * fsyncs the WAL at every commit, so an exchange whose answer went out survives a power cut or an
 * OS crash. NORMAL fsyncs only at checkpoints: the database stays consistent, but the last
 * transactions before a power cut can roll back, i.e. a phone was told "WriteItems" (or had its
 * reply acknowledged) and the store forgot it. A SIGKILL of the process, as here, loses nothing
 * under either setting (the WAL is in the OS's page cache); what this test proves is that every
 * answer is committed before it is sent, the WAL recovers to an intact database, and jobs resume.
 */
import { describe, expect, it } from 'vitest';
import { tempDirs } from '../support/tmp';
import { crashScenario } from './crash/scenario';

const newDir = tempDirs();

describe('crash safety', () => {
  it('survives SIGKILL in a storm of 100 phones: intact store, every answered exchange recorded, jobs resume and none done unconfirmed', async () => {
    const r = await crashScenario({ dataDir: newDir(), phones: 100, concurrency: 20 });
    expect(r.firstRound.code, r.firstRound.stderr).toBe(0);
    // Killed in the middle: some answered, some lost.
    expect(r.storm.killedAfter).toBeGreaterThan(100);
    expect(r.storm.answered).toBeLessThan(r.storm.expected);
    expect(r.storm.lost).toBeGreaterThan(0);
    expect(r.storm.failed).toBeGreaterThan(0);

    // The store as the crash left it.
    expect(r.afterCrash.integrity).toBe('ok');
    expect(r.afterCrash.foreignKeyViolations).toBe(0);
    expect(r.afterCrash.answered200).toBeGreaterThan(100);
    expect(r.afterCrash.answeredButMissing).toEqual([]);
    expect(r.afterCrash.doneWithoutConfirmation).toEqual([]);
    const after = r.afterCrash.jobs;
    expect(after.failed + after.cancelled + after.waitingBusy).toBe(0);
    expect(after.done + after.queued + after.sent).toBe(r.jobsQueued);
    expect(after.queued + after.sent).toBeGreaterThan(0);
    // The job held in flight at the kill is still pending, as sent.
    expect(r.heldJobAfterCrash).toEqual({ state: 'sent', attempts: 1 });

    // The restart closes what the crash left open and says so; no job stays `sent` (these jobs all
    // wait for a reply in their interaction: none waits for a reboot or the secure port).
    const restart = r.afterRestart;
    expect(restart.recovered).not.toBeNull();
    expect(restart.recovered!.jobs).toBe(after.sent);
    expect(restart.recovered!.requeued).toBe(after.sent);
    expect(restart.recovered!.failed).toBe(0);
    expect(restart.recovered!.message).toMatch(/^the last run stopped during \d+ interactions?: closed them/);
    expect(restart.jobs).toMatchObject({ sent: 0, done: after.done, queued: after.queued + after.sent });
    expect(restart.openInteractions).toBe(0);
    expect(restart.devicesInInteraction).toBe(0);
    expect(r.heldJobAfterRestart).toEqual({ state: 'queued', attempts: 1 });

    // After the restart the phones come back and every job completes, each confirmed by its phone.
    expect(r.recovery.failures).toEqual([]);
    expect(r.recovery.ok).toBeGreaterThan(0);
    expect(r.final.integrity).toBe('ok');
    expect(r.final.answeredButMissing).toEqual([]);
    expect(r.final.jobs).toEqual({ done: r.jobsQueued, queued: 0, sent: 0, waitingBusy: 0, failed: 0, cancelled: 0 });
    expect(r.final.doneWithoutConfirmation).toEqual([]);
    expect(r.heldJobFinal?.state).toBe('done');
    expect(r.heldJobFinal?.attempts).toBeGreaterThanOrEqual(2);
    expect(r.serveExit).toBe(0);
  }, 120_000);
});
