/**
 * Two `bootstrap --all` runs at once on one data folder (two engineers, or a script started twice):
 * whatever the interleaving, every bootstrap job that gets queued has its PIN on exactly one of the
 * two sheets, no phone gets two jobs, and a run that could not queue every phone says which and
 * exits non-zero. (Before, a run that met the other's phone mid-way threw away the PINs of the
 * phones it had already queued: those phones would ask for PINs nobody had.)
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openJobSecret } from '../../src/main/app/bootstrap';
import { passphraseProtector } from '../../src/main/pki';
import { Store } from '../../src/main/store';
import { PID_FILE } from '../../src/main/store/service-lock';
import { macAt } from '../../src/phone';
import { runCliProcess } from '../support/cli';
import { exchangeRecord } from '../support/records';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const PASSPHRASE = 'overlap test passphrase';

/** A phone's first contact, as the service stores it: enough for `bootstrap` to know the phone. */
const startUp = (mac: string) => exchangeRecord({ mac, started: Date.now(), ended: Date.now() });

function sheetRows(file: string): Map<string, string> {
  if (!existsSync(file)) return new Map();
  const [header, ...rows] = readFileSync(file, 'utf8').trim().split('\n');
  expect(header).toBe('mac,e164,pin');
  return new Map(rows.map((r) => r.split(',')).map(([mac, , pin]) => [mac!, pin!]));
}

describe('two bootstrap --all runs at once', () => {
  it('hand out the PIN of every queued job on exactly one sheet, and say which phones they left', async () => {
    const dir = newDir();
    const macs = Array.from({ length: 8 }, (_, i) => macAt('00:1A:E8:61:00:00', i));
    const store = new Store(dir);
    for (const [i, mac] of macs.entries()) store.commit(startUp(mac), { device: { mac, e164: String(4989700200 + i), lastAddress: '127.0.0.1' } }, null);
    store.close();
    // A live process named as the folder's service (this one): no "no service" hint expected.
    writeFileSync(join(dir, PID_FILE), `${process.pid}\n`);
    const env = { LOCALDLS_KEY_PASSPHRASE: PASSPHRASE, LOCALDLS_KEY_POOL_SIZE: '0' };
    const sheets = [join(dir, 'a.csv'), join(dir, 'b.csv')];
    const run = (sheet: string) => runCliProcess(['bootstrap', '--data-dir', dir, '--all', '--pin', 'auto', '--sheet', sheet, '--json'], env);
    // The second starts while the first is making keys (its list checked, some phones queued).
    const first = run(sheets[0]!);
    await new Promise((r) => setTimeout(r, 1200));
    const second = run(sheets[1]!);
    const results = await Promise.all([first, second]);

    const reopened = new Store(dir);
    try {
      const jobs = reopened.jobs.list({}).filter((j) => j.kind === 'Bootstrap');
      // One job per phone at most, and every phone that has one is on exactly one sheet with the job's PIN.
      expect(new Set(jobs.map((j) => j.mac)).size).toBe(jobs.length);
      const [a, b] = sheets.map(sheetRows);
      const protector = passphraseProtector(PASSPHRASE, dir);
      for (const job of jobs) {
        const onA = a!.get(job.mac);
        const onB = b!.get(job.mac);
        expect([onA, onB].filter(Boolean), `${job.mac} on exactly one sheet`).toHaveLength(1);
        const tan = openJobSecret(protector, reopened.jobs.secret(job.id)!)!.tan;
        expect((onA ?? onB)!.slice(-3), `${job.mac}: the sheet's PIN opens its job`).toBe(tan);
      }
      expect(a!.size + b!.size).toBe(jobs.length);
      // Between them the two runs queued every phone.
      expect(jobs.map((j) => j.mac).sort()).toEqual([...macs].sort());
      for (const [i, r] of results.entries()) {
        const own = [a, b][i]!;
        const other = [a, b][1 - i]!;
        const rows = own.size;
        expect(r.stderr).not.toContain('no service seems to run');
        // Every phone a run says it left is one the other run queued (on the other sheet, not on its own).
        const left = [...r.stderr.matchAll(/^([0-9A-F:]{17}): not queued: \1 has a bootstrap under way/gm)].map((m) => m[1]!);
        // --json: standard output is one line per phone the run named, queued (its job) or not (why), and nothing else.
        const lines = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { mac?: string; jobId?: number; notQueued?: { mac: string; reason: string } });
        expect(lines.filter((l) => l.jobId !== undefined).map((l) => l.mac).sort()).toEqual([...own.keys()].sort());
        expect(lines.filter((l) => l.notQueued).map((l) => l.notQueued!.mac).sort()).toEqual([...left].sort());
        expect(lines.filter((l) => l.notQueued).every((l) => /has a bootstrap under way/.test(l.notQueued!.reason))).toBe(true);
        expect(lines).toHaveLength(own.size + left.length);
        for (const mac of left) {
          expect(other.has(mac), `${mac}, left by run ${i}, is on the other sheet`).toBe(true);
          expect(own.has(mac), `${mac}, left by run ${i}, is not on its own sheet`).toBe(false);
        }
        if (left.length === 0) {
          // Every phone it chose was queued (all of them, or those not under way when it listed them).
          expect(r.code, r.stderr).toBe(0);
          expect(r.stderr).not.toMatch(/not queued/);
          if (rows === 0) expect(r.stderr).toMatch(/no phones in Default Mode to bootstrap: \d+ already have bootstraps under way/);
          else expect(r.stderr).toContain(`PIN sheet written to ${sheets[i]} (keep it private)\n`);
          continue;
        }
        // A run that left phones to the other says so, names them, and fails. It counts against
        // the phones it set out to take: those the other run had queued before it listed the
        // candidates are not its own (CI met a second run that started after the first had
        // queued one phone: "2 of 7").
        expect(r.code, r.stderr).toBe(1);
        const counted = /(\d+) of (\d+) bootstraps queued; (\d+) not/.exec(r.stderr);
        expect(counted, r.stderr).not.toBeNull();
        const [queued, chosen, notQueued] = counted!.slice(1).map(Number) as [number, number, number];
        expect(queued).toBe(rows);
        expect(notQueued).toBe(left.length);
        expect(chosen).toBe(rows + left.length);
        expect(chosen).toBeLessThanOrEqual(macs.length);
        if (rows > 0) expect(r.stderr).toContain(`PIN sheet written to ${sheets[i]} (keep it private): ${rows} of ${chosen} phones`);
      }
      // A new copy of the sheet holds exactly the PINs the two runs handed out.
      const again = join(dir, 'again.csv');
      const reprint = await runCliProcess(['bootstrap', '--data-dir', dir, '--sheet', again], env);
      expect(reprint.code, reprint.stderr).toBe(0);
      expect(reprint.stderr).toContain(`PIN sheet written to ${again} (keep it private): ${macs.length} phones whose bootstrap is under way`);
      expect(new Map([...sheetRows(again)].sort())).toEqual(new Map([...a!, ...b!].sort()));
      // With another passphrase the PINs do not open: said per phone, nothing written.
      const wrong = await runCliProcess(['bootstrap', '--data-dir', dir, '--sheet', join(dir, 'wrong.csv')], { LOCALDLS_KEY_PASSPHRASE: 'not the passphrase' });
      expect(wrong.code).toBe(1);
      expect(existsSync(join(dir, 'wrong.csv'))).toBe(false);
    } finally {
      reopened.close();
    }
  }, 180_000);
});

describe('bootstrap --json with a sheet that cannot be written', () => {
  it('prints each queued phone first, then fails naming the sheet and saying the jobs are queued; a sheet of another kind is refused before anything is queued', async () => {
    const dir = newDir();
    const macs = [macAt('00:1A:E8:62:00:00', 0), macAt('00:1A:E8:62:00:00', 1)];
    const store = new Store(dir);
    for (const [i, mac] of macs.entries()) store.commit(startUp(mac), { device: { mac, e164: String(4989700300 + i), lastAddress: '127.0.0.1' } }, null);
    store.close();
    writeFileSync(join(dir, PID_FILE), `${process.pid}\n`);
    const env = { LOCALDLS_KEY_PASSPHRASE: PASSPHRASE, LOCALDLS_KEY_POOL_SIZE: '0' };
    const args = (sheet: string) => ['bootstrap', '--data-dir', dir, ...macs.flatMap((m) => ['--mac', m]), '--pin', 'auto', '--sheet', sheet, '--json'];

    const wrongKind = await runCliProcess(args(join(dir, 'pins.pdf')), env);
    expect(wrongKind.code).toBe(2);
    expect(wrongKind.stderr).toContain('--sheet must end in .csv or .html');
    expect(wrongKind.stdout).toBe('');

    const missingFolder = join(dir, 'no-such-folder', 'pins.csv');
    const r = await runCliProcess(args(missingFolder), env);
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { mac: string; jobId: number; pin: string });
    expect(lines.map((l) => l.mac).sort()).toEqual([...macs].sort());
    // Not shown without --show-pins, even though the sheet that would hold them is lost.
    expect(lines.every((l) => l.pin === '••••••')).toBe(true);
    expect(r.stderr).toContain(`could not write the PIN sheet ${missingFolder}`);
    expect(r.stderr).toContain('The bootstraps are queued: print the PINs with --show-pins next time, or cancel the jobs and start again');
    expect(existsSync(missingFolder)).toBe(false);
    const reopened = new Store(dir);
    try {
      const jobs = reopened.jobs.list({}).filter((j) => j.kind === 'Bootstrap');
      expect(jobs.map((j) => j.id).sort()).toEqual(lines.map((l) => l.jobId).sort());
    } finally {
      reopened.close();
    }
  });
});
