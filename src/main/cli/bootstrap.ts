/**
 * `localdls bootstrap`: Secure Mode from the command line. Keys are opened with the key passphrase
 * ($LOCALDLS_KEY_PASSPHRASE, $LOCALDLS_KEY_PASSPHRASE_FILE or --key-passphrase-file) and never
 * printed. The rules (which phones, one bootstrap at a time) are the commands' (commands/bootstrap.ts).
 */
import { pinSheet, type PreparedBootstrap } from '../app/bootstrap';
import * as commands from '../commands';
import { writePrivateFile } from '../files/private-files';
import { withContext, type CliIo } from './context';
import { allWithinLimit, macList, noPositionals, oneMac, parseCli, sheetFormatOf, table, UsageError } from './format';

export const BOOTSTRAP_USAGE = `localdls bootstrap (--mac M… | --all) [--pin auto | --pin DIGITS | --nopin] [--pin-digits N]
                   [--max-pin-retries N] [--sheet FILE.csv|FILE.html] [--show-pins] [--json]
localdls bootstrap --mac M --undo      take the phone back to Default Mode (factory reset over
                                       the secure channel; its certificate is revoked)
localdls bootstrap --mac M --forget    the phone was reset by hand: revoke its certificate and
                                       accept it on the Default-Mode port again
localdls bootstrap --mac M --renew     give a secure phone a new client certificate (sent over
                                       the secure channel; the old one is revoked once replaced)
localdls bootstrap --status [--json]   which phones are secure, pending or failed, and why
localdls bootstrap --sheet FILE        a new copy of the PIN sheet: every PIN bootstrap under way
(all take --data-dir D and --key-passphrase-file F)

Moves phones from Default Mode to Secure Mode (manual p.62–68). Each phone gets its own client
certificate from this site's CA; from then on it talks mutual TLS on the secure port only, and its
requests on the Default-Mode port are refused. A running \`serve\` sends the job on the phone's
next contact (it sends contact-me by itself), always with the secure port that \`serve\` listens
on, whatever port the job was prepared with; a \`serve\` without the key passphrase holds it.

  --nopin         the credentials travel in dls-client-certificate (PKCS#12)
  --pin auto      (default) a random PIN per phone (--pin-digits, default 8); the phone asks for it,
                  opens secure-mode-data with it, and sends its last 3 digits back as the TAN
  --pin DIGITS    this PIN, for one phone (6-16 digits)
  --sheet FILE    write the PIN sheet (MAC, E.164, PIN) as CSV or printable HTML (mode 0600)
  --show-pins     also print the PINs (they are masked otherwise)

Examples:
  LOCALDLS_KEY_PASSPHRASE=… localdls bootstrap --all --pin auto --sheet pins.html
  localdls bootstrap --mac 00:1A:E8:00:00:01 --nopin
  localdls bootstrap --mac 00:1A:E8:00:00:01 --mac 00:1A:E8:00:00:02 --sheet pins.csv
  localdls bootstrap --status`;

const OPTIONS = {
  'data-dir': { type: 'string' }, 'key-passphrase-file': { type: 'string' }, json: { type: 'boolean' },
  mac: { type: 'string', multiple: true }, all: { type: 'boolean' }, pin: { type: 'string' }, nopin: { type: 'boolean' }, 'pin-digits': { type: 'string' },
  'max-pin-retries': { type: 'string' }, sheet: { type: 'string' }, 'show-pins': { type: 'boolean' }, undo: { type: 'boolean' },
  forget: { type: 'boolean' }, status: { type: 'boolean' }, renew: { type: 'boolean' },
} as const;

export async function bootstrapCommand(args: string[], io: CliIo): Promise<number> {
  const { values: v, positionals } = parseCli(args, OPTIONS);
  noPositionals(positionals);
  const passphrase = v['key-passphrase-file'] !== undefined ? { passphraseFile: v['key-passphrase-file'] } : {};
  if (v.status) {
    return withContext(v['data-dir'], 'read', passphrase, async (ctx) => {
      const rows = await commands.bootstrapStatus(ctx);
      if (v.json) io.out(JSON.stringify(rows));
      else io.out(table(['MAC', 'E164', 'MODE', 'BOOTSTRAP', 'JOB', 'WHY'], rows.map((r) => [r.mac, r.e164 ?? '', r.mode, r.bootstrap ?? '-', r.job === null ? '' : `${r.job} ${r.role} ${r.state}`, r.why ?? ''])));
      return 0;
    });
  }
  if (v.undo || v.forget) {
    const mac = v.all ? undefined : oneMac(v.mac, `--${v.undo ? 'undo' : 'forget'}`);
    if (!mac) throw new UsageError(`--${v.undo ? 'undo' : 'forget'} takes one --mac`);
    return withContext(v['data-dir'], 'write', passphrase, async (ctx) => {
      if (v.undo) {
        const jobId = await commands.undoBootstrap(ctx, mac);
        io.out(`queued job ${jobId}: factory reset of ${mac} over the secure channel; its certificate is revoked when the reset is sent, and its start-up on the Default-Mode port confirms the reset`);
      } else {
        const serial = await commands.forgetBootstrap(ctx, mac);
        io.out(`${mac}: certificate ${serial ?? '(unknown)'} revoked; the phone is accepted on the Default-Mode port again`);
      }
      return 0;
    });
  }
  if (v.sheet !== undefined && !v.mac && !v.all) {
    // A new copy of the sheet for the PIN bootstraps under way (the first was lost, or never written).
    if (v.pin !== undefined || v.nopin || v.renew) throw new UsageError('--sheet alone writes the sheet of the bootstraps under way: no --pin, --nopin or --renew');
    const format = sheetFormatOf(v.sheet);
    return withContext(v['data-dir'], 'read', passphrase, async (ctx) => {
      const { rows, unreadable } = await commands.pendingPinSheet(ctx);
      for (const mac of unreadable) io.err(`${mac}: its bootstrap's PIN does not open with this key passphrase: not on the sheet`);
      if (rows.length === 0) {
        io.out('no PIN bootstraps under way: no sheet written');
        return unreadable.length > 0 ? 1 : 0;
      }
      writePrivateFile(v.sheet!, pinSheet(rows, format));
      io.err(`PIN sheet written to ${v.sheet} (keep it private): ${rows.length} phone${rows.length === 1 ? '' : 's'} whose bootstrap is under way`);
      return unreadable.length > 0 ? 1 : 0;
    });
  }
  if (v.nopin && v.pin !== undefined) throw new UsageError('give --pin or --nopin, not both');
  const macs = macList(v.mac);
  if (v.renew && (v.all || macs.length !== 1 || v.pin !== undefined)) throw new UsageError('--renew takes one --mac and no --pin');
  const digits = v['pin-digits'] === undefined ? undefined : Number(v['pin-digits']);
  if (digits !== undefined && !(Number.isInteger(digits) && digits >= 6 && digits <= 16)) throw new UsageError('--pin-digits must be 6 to 16');
  const pin = v.nopin || v.renew ? 'none' : (v.pin ?? 'auto');
  if (pin !== 'none' && pin !== 'auto' && !/^\d{6,16}$/.test(pin)) throw new UsageError('--pin must be "auto" or 6 to 16 digits');
  const retries = v['max-pin-retries'] === undefined ? 3 : Number(v['max-pin-retries']);
  if (!(Number.isInteger(retries) && retries >= 1 && retries <= 10)) throw new UsageError('--max-pin-retries must be 1 to 10');
  const sheetFormat = v.sheet === undefined ? undefined : sheetFormatOf(v.sheet);
  if (sheetFormat && pin === 'none') throw new UsageError('--sheet is for PINs: not with --nopin');
  if (macs.length && v.all) throw new UsageError('give --mac or --all, not both');
  if (!macs.length && !v.all) throw new UsageError('--mac M or --all is required');
  if (pin !== 'none' && pin !== 'auto' && (v.all || macs.length > 1)) throw new UsageError('--pin DIGITS is for one phone: give one --mac, or --pin auto for several');
  const progress = (done: number, total: number, m: string) => io.err(`[${done}/${total}] ${m}: certificate issued, bootstrap queued`);
  return withContext(v['data-dir'], 'write', { ...passphrase, progress }, async (ctx) => {
    const chosen = macs.length ? macs : await commands.bootstrapCandidates(ctx);
    if (chosen.length === 0) {
      const underWay = await commands.bootstrapsUnderWay(ctx);
      // With --json, standard output holds one JSON line per phone: none here.
      (v.json ? io.err : io.out)(
        underWay > 0
          ? `no phones in Default Mode to bootstrap: ${underWay} already ${underWay === 1 ? 'has a bootstrap' : 'have bootstraps'} under way (see \`localdls bootstrap --status\`; cancel a job to start that phone again)`
          : 'no phones in Default Mode to bootstrap',
      );
      return 0;
    }
    if (!macs.length) allWithinLimit(chosen, 'phones');
    const { prepared, notQueued, securePort, rolloutId } = await commands.bootstrap(ctx, chosen, { pin, maxPinRetries: retries, ...(digits ? { pinDigits: digits } : {}), renew: v.renew === true, all: macs.length === 0 });
    const reveal = v['show-pins'] === true;
    for (const p of prepared) io.out(v.json ? JSON.stringify(shown(p, reveal)) : v.renew ? renewLine(p, securePort) : line(p, reveal, securePort));
    // --json: a line of its own for each phone not queued too (as `job add` prints it), before the
    // sheet is written, so a script sees every phone it named even when the sheet cannot be (helper-84).
    if (v.json) for (const n of notQueued) io.out(JSON.stringify({ notQueued: { mac: n.mac, reason: n.reason } }));
    // The sheet holds every phone whose job was queued, also when others were not: those phones will ask for their PINs.
    if (v.sheet && sheetFormat && prepared.length > 0) {
      try {
        writePrivateFile(v.sheet, pinSheet(prepared, sheetFormat));
      } catch (e) {
        throw new Error(`could not write the PIN sheet ${v.sheet}: ${(e as Error).message}. The bootstraps are queued: print the PINs with --show-pins next time, or cancel the jobs and start again`);
      }
      io.err(`PIN sheet written to ${v.sheet} (keep it private)${notQueued.length > 0 ? `: ${prepared.length} of ${chosen.length} phones` : ''}`);
    }
    if (prepared.length > 1) io.err(`rollout ${rolloutId}: follow it with \`localdls rollout show ${rolloutId}\` (or in the app's rollouts view)`);
    if (prepared.length > 0 && !(await commands.serviceRunning(ctx))) {
      io.err(`no service seems to run on this data folder: the bootstraps are sent when \`localdls serve\` (or the desktop app) runs on it, with Secure Mode on`);
    }
    if (notQueued.length === 0) return 0;
    for (const n of notQueued) io.err(`${n.mac}: not queued: ${n.reason}`);
    io.err(`${prepared.length} of ${chosen.length} bootstraps queued${prepared.length > 0 && pin !== 'none' && !v.sheet && !reveal ? ' (their PINs: `localdls bootstrap --status` lists the jobs; cancel and start again to get new PINs)' : ''}; ${notQueued.length} not`);
    return 1;
  });
}

function shown(p: PreparedBootstrap, reveal: boolean) {
  return { ...p, ...(p.pin ? { pin: reveal ? p.pin : '••••••' } : {}) };
}

/** A renewal is no way into Secure Mode: the phone is there, and gets a new certificate (helper-77: said "bootstrap … to Secure Mode"). */
function renewLine(p: PreparedBootstrap, port: number): string {
  return `queued job ${p.jobId}: a new client certificate for ${p.mac}, sent over the secure channel (port ${port}); the old one is refused once the phone has it`;
}

function line(p: PreparedBootstrap, reveal: boolean, port: number): string {
  return `queued job ${p.jobId}: bootstrap of ${p.mac} to Secure Mode (port ${port})${p.pin ? `, PIN ${reveal ? p.pin : '•••••• (see the sheet, or --show-pins)'}` : ', no PIN'}`;
}
