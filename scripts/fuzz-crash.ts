/**
 * The long crash-safety run (test/hardening/crash-safety.test.ts runs it with 100 phones):
 *
 *   node --import tsx scripts/fuzz-crash.ts [--phones 500] [--concurrency 50] [--kill-at 0.35] [--keep]
 *
 * Starts `localdls serve`, runs a first round of phones, queues jobs, kills the service with SIGKILL
 * in the middle of a storm, checks the data directory, restarts, lets the phones finish their jobs,
 * and prints the report. Exit status 0 when every check holds. Loopback only.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { crashScenario, loopbackRange, type CrashReport } from '../test/hardening/crash/scenario';

const { values: v } = parseArgs({ options: { phones: { type: 'string' }, concurrency: { type: 'string' }, 'kill-at': { type: 'string' }, keep: { type: 'boolean' } } });
const phones = Number(v.phones ?? 500);
const concurrency = Number(v.concurrency ?? 50);
const killAt = Number(v['kill-at'] ?? 0.35);
if (!Number.isInteger(phones) || phones < 10 || phones > 60_000 || !loopbackRange('127.0.3.1', phones)) throw new Error('--phones must be 10..60000');
if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error('--concurrency must be a positive whole number');

function problems(r: CrashReport): string[] {
  const p: string[] = [];
  const expect = (ok: boolean, what: string) => {
    if (!ok) p.push(what);
  };
  expect(r.firstRound.code === 0, `first round exited ${r.firstRound.code}: ${r.firstRound.stderr}`);
  expect(r.storm.answered < r.storm.expected && r.storm.lost > 0, 'the kill did not land in the middle of the storm');
  for (const [when, c] of [['after the crash', r.afterCrash], ['at the end', r.final]] as const) {
    expect(c.integrity === 'ok', `${when}: integrity_check says ${c.integrity}`);
    expect(c.foreignKeyViolations === 0, `${when}: ${c.foreignKeyViolations} foreign key violations`);
    expect(c.answeredButMissing.length === 0, `${when}: ${c.answeredButMissing.length} answered exchanges not in the store, e.g. ${c.answeredButMissing.slice(0, 3).join(', ')}`);
    expect(c.doneWithoutConfirmation.length === 0, `${when}: jobs done without the phone's confirmation: ${c.doneWithoutConfirmation.slice(0, 10).join(', ')}`);
    expect(c.jobs.failed + c.jobs.cancelled === 0, `${when}: ${c.jobs.failed} failed, ${c.jobs.cancelled} cancelled jobs`);
  }
  expect(r.afterCrash.jobs.done + r.afterCrash.jobs.queued + r.afterCrash.jobs.sent === r.jobsQueued, 'after the crash: jobs are missing');
  expect(r.heldJobAfterCrash?.state === 'sent', `the job in flight at the kill is ${r.heldJobAfterCrash?.state}, not sent`);
  expect(r.recovery.failures.length === 0, `recovery: ${r.recovery.failures.slice(0, 3).join('; ')}`);
  expect(r.final.jobs.done === r.jobsQueued, `at the end: ${r.final.jobs.done} of ${r.jobsQueued} jobs done`);
  expect(r.serveExit === 0, `serve exited ${r.serveExit} on SIGTERM`);
  return p;
}

const dataDir = mkdtempSync(join(tmpdir(), 'localdls-crash-'));
const started = Date.now();
try {
  const report = await crashScenario({ dataDir, phones, concurrency, killAt, log: (l) => console.log(`crash: ${l}`) });
  console.log(JSON.stringify({ ...report, afterCrash: { ...report.afterCrash, answeredButMissing: report.afterCrash.answeredButMissing.length }, final: { ...report.final, answeredButMissing: report.final.answeredButMissing.length } }, null, 2));
  const p = problems(report);
  for (const line of p) console.log(`FAIL ${line}`);
  console.log(`crash: ${phones} phones, ${((Date.now() - started) / 1000).toFixed(1)} s; ${p.length === 0 ? 'all checks hold' : `${p.length} checks failed`}${v.keep ? `; data in ${dataDir}` : ''}`);
  process.exitCode = p.length === 0 ? 0 : 1;
} finally {
  if (!v.keep) rmSync(dataDir, { recursive: true, force: true });
}
