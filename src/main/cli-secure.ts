/**
 * `localdls bootstrap` and `localdls ca`: Secure Mode from the command line. Keys are opened with
 * the key passphrase ($LOCALDLS_KEY_PASSPHRASE, $LOCALDLS_KEY_PASSPHRASE_FILE or
 * --key-passphrase-file) and never printed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { writePrivateFile } from './private-files';
import { parseArgs } from 'node:util';
import { pinSheet, prepareBootstraps, type PinChoice, type PreparedBootstrap } from './bootstrap';
import { table, UsageError } from './cli-format';
import type { CliContext } from './cli-jobs';
import { Pki, protectorFromEnvironment, type KeyProtector } from './pki';
import { normalizeMac } from './provisioning';
import { DEFAULT_SECURE_PORT } from './service';

export const BOOTSTRAP_USAGE = `localdls bootstrap (--mac M | --all) [--pin auto | --pin DIGITS | --nopin] [--pin-digits N]
                   [--max-pin-retries N] [--sheet FILE.csv|FILE.html] [--show-pins] [--json]
localdls bootstrap --mac M --undo      take the phone back to Default Mode (factory reset over
                                       the secure channel; its certificate is revoked)
localdls bootstrap --mac M --forget    the phone was reset by hand: revoke its certificate and
                                       accept it on the Default-Mode port again
localdls bootstrap --mac M --renew     give a secure phone a new client certificate (sent over
                                       the secure channel; the old one is revoked once replaced)
localdls bootstrap --status [--json]   which phones are secure, pending or failed, and why
(all take --data-dir D and --key-passphrase-file F)

Moves phones from Default Mode to Secure Mode (manual p.62–68). Each phone gets its own client
certificate from this site's CA; from then on it talks mutual TLS on the secure port only, and its
requests on the Default-Mode port are refused. A running \`serve\` sends the job on the phone's
next contact (it sends contact-me by itself).

  --nopin         the credentials travel in dls-client-certificate (PKCS#12)
  --pin auto      (default) a random PIN per phone (--pin-digits, default 8); the phone asks for it,
                  opens secure-mode-data with it, and sends its last 3 digits back as the TAN
  --pin DIGITS    this PIN, for one phone (6-16 digits)
  --sheet FILE    write the PIN sheet (MAC, E.164, PIN) as CSV or printable HTML (mode 0600)
  --show-pins     also print the PINs (they are masked otherwise)

Examples:
  LOCALDLS_KEY_PASSPHRASE=… localdls bootstrap --all --pin auto --sheet pins.html
  localdls bootstrap --mac 00:1A:E8:00:00:01 --nopin
  localdls bootstrap --status`;

export const CA_USAGE = `localdls ca show [--json]
localdls ca import FILE [--password P]   a site CA as PEM (certificate + key) or PKCS#12
localdls ca export-public [FILE]         the CA certificate (PEM), to stdout or FILE
(all take --data-dir D and --key-passphrase-file F)

The CA signs the secure port's certificate and each phone's client certificate. It is made on
first use; its key is stored encrypted with the key passphrase. After an import, restart \`serve\`;
phones bootstrapped before it trust the old CA and must be bootstrapped again.

Example:
  localdls ca export-public site-ca.pem`;

export function protectorFor(dataDir: string, passphraseFile: string | undefined): KeyProtector {
  return protectorFromEnvironment({ env: process.env, dataDir, ...(passphraseFile !== undefined ? { passphraseFile } : {}) });
}

const COMMON = { 'data-dir': { type: 'string' }, 'key-passphrase-file': { type: 'string' }, json: { type: 'boolean' } } as const;

function parse<T extends NonNullable<Parameters<typeof parseArgs>[0]>['options']>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
}

export async function bootstrapCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values: v, positionals } = parse(args, {
    ...COMMON, mac: { type: 'string' }, all: { type: 'boolean' }, pin: { type: 'string' }, nopin: { type: 'boolean' }, 'pin-digits': { type: 'string' },
    'max-pin-retries': { type: 'string' }, sheet: { type: 'string' }, 'show-pins': { type: 'boolean' }, undo: { type: 'boolean' },
    forget: { type: 'boolean' }, status: { type: 'boolean' }, renew: { type: 'boolean' },
  });
  if (positionals.length) throw new UsageError(`unexpected "${positionals[0]}"`);
  const store = ctx.openStore(v['data-dir'], v.status ? 'read' : 'write');
  try {
    if (v.status) return status(store, ctx, v.json === true);
    const dataDir = store.dataDir;
    if (v.undo || v.forget) {
      if (!v.mac || v.all) throw new UsageError(`--${v.undo ? 'undo' : 'forget'} takes one --mac`);
      const mac = normalizeMac(v.mac);
      if (!mac) throw new UsageError(`--mac "${v.mac}" is not a MAC address`);
      const device = store.device(mac);
      if (!device) throw new Error(`no device ${mac}`);
      if (device.mode !== 'secure') throw new Error(`${mac} is not in Secure Mode`);
      if (v.undo) {
        // A factory reset returns the phone to its delivery state, Default Mode (wpi-protocol.md §5.7).
        const job = store.jobs.add({ mac, kind: 'FactoryReset', items: [], source: 'bootstrap:undo' }, Date.now());
        ctx.out(`queued job ${job.id}: factory reset of ${mac} over the secure channel; when it starts up on the Default-Mode port its certificate is revoked`);
        return 0;
      }
      const pki = await Pki.open(dataDir, protectorFor(dataDir, v['key-passphrase-file']));
      if (device.certSerial) pki.revoke(device.certSerial);
      store.updateDevice(mac, { mode: 'default', bootstrap: null, certSerial: null });
      ctx.out(`${mac}: certificate ${device.certSerial ?? '(unknown)'} revoked; the phone is accepted on the Default-Mode port again`);
      return 0;
    }
    if (v.nopin && v.pin !== undefined) throw new UsageError('give --pin or --nopin, not both');
    if (v.renew && (v.all || !v.mac || v.pin !== undefined)) throw new UsageError('--renew takes one --mac and no --pin');
    const digits = v['pin-digits'] === undefined ? undefined : Number(v['pin-digits']);
    if (digits !== undefined && !(Number.isInteger(digits) && digits >= 6 && digits <= 16)) throw new UsageError('--pin-digits must be 6 to 16');
    const pin: PinChoice = v.nopin || v.renew ? { kind: 'none' } : v.pin === undefined || v.pin === 'auto' ? { kind: 'auto', ...(digits ? { digits } : {}) } : { kind: 'given', pin: v.pin };
    if (pin.kind === 'given' && !/^\d{6,16}$/.test(pin.pin)) throw new UsageError('--pin must be "auto" or 6 to 16 digits');
    const retries = v['max-pin-retries'] === undefined ? 3 : Number(v['max-pin-retries']);
    if (!(Number.isInteger(retries) && retries >= 1 && retries <= 10)) throw new UsageError('--max-pin-retries must be 1 to 10');
    const sheetFormat = v.sheet === undefined ? undefined : v.sheet.endsWith('.csv') ? 'csv' : v.sheet.endsWith('.html') || v.sheet.endsWith('.htm') ? 'html' : null;
    if (sheetFormat === null) throw new UsageError('--sheet must end in .csv or .html');
    if (sheetFormat && pin.kind === 'none') throw new UsageError('--sheet is for PINs: not with --nopin');
    let macs: string[];
    if (v.all) macs = store.devices().filter((d) => d.mode === 'default' && d.bootstrap !== 'pending').map((d) => d.mac);
    else {
      if (!v.mac) throw new UsageError('--mac M or --all is required');
      const mac = normalizeMac(v.mac);
      if (!mac) throw new UsageError(`--mac "${v.mac}" is not a MAC address`);
      macs = [mac];
    }
    if (macs.length === 0) {
      ctx.out('no phones in Default Mode to bootstrap');
      return 0;
    }
    const protector = protectorFor(dataDir, v['key-passphrase-file']);
    const pki = await Pki.open(dataDir, protector);
    const securePort = Number(store.setting('secure_port') ?? DEFAULT_SECURE_PORT);
    const prepared = await prepareBootstraps(store, pki, protector, macs, {
      pin, securePort, maxPinRetries: retries, ...(v.renew ? { renew: true } : {}),
      onProgress: (done, total, mac) => ctx.err(`[${done}/${total}] ${mac}: certificate issued, bootstrap queued`),
    });
    for (const p of prepared) ctx.out(v.json ? JSON.stringify(shown(p, v['show-pins'] === true)) : line(p, v['show-pins'] === true, securePort));
    if (v.sheet && sheetFormat) {
      writePrivateFile(v.sheet, pinSheet(prepared, sheetFormat));
      ctx.err(`PIN sheet written to ${v.sheet} (keep it private)`);
    }
    return 0;
  } finally {
    store.close();
  }
}

function shown(p: PreparedBootstrap, reveal: boolean) {
  return { ...p, ...(p.pin ? { pin: reveal ? p.pin : '••••••' } : {}) };
}

function line(p: PreparedBootstrap, reveal: boolean, port: number): string {
  return `queued job ${p.jobId}: bootstrap of ${p.mac} to Secure Mode (port ${port})${p.pin ? `, PIN ${reveal ? p.pin : '•••••• (see the sheet, or --show-pins)'}` : ', no PIN'}`;
}

function status(store: ReturnType<CliContext['openStore']>, ctx: CliContext, json: boolean): number {
  const rows = store.devices().map((d) => {
    const jobs = store.jobs.list({ mac: d.mac }).filter((j) => j.kind === 'Bootstrap' || j.source === 'bootstrap:undo');
    const last = jobs.at(-1);
    return { mac: d.mac, e164: d.e164, mode: d.mode, bootstrap: d.bootstrap, job: last?.id ?? null, state: last?.state ?? null, why: last?.error ?? null, certSerial: d.certSerial };
  });
  if (json) ctx.out(JSON.stringify(rows));
  else {
    ctx.out(table(['MAC', 'E164', 'MODE', 'BOOTSTRAP', 'JOB', 'WHY'], rows.map((r) => [r.mac, r.e164 ?? '', r.mode, r.bootstrap ?? '-', r.job === null ? '' : `${r.job} ${r.state}`, r.why ?? ''])));
  }
  return 0;
}

export async function caCommand(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  const { values: v, positionals } = parse(rest, { ...COMMON, password: { type: 'string' } });
  const store = ctx.openStore(v['data-dir'], 'read');
  const dataDir = store.dataDir;
  store.close();
  const pki = await Pki.open(dataDir, protectorFor(dataDir, v['key-passphrase-file']));
  switch (sub) {
    case 'show': {
      const s = pki.caSummary();
      ctx.out(v.json ? JSON.stringify(s) : `subject: ${s.subject}\nfingerprint (SHA-256): ${s.fingerprint}\nvalid until: ${new Date(s.notAfter).toISOString()}\nchain: ${s.chainLength} certificate(s)\nimported: ${s.imported ? 'yes' : 'no (made by LocalDLS)'}`);
      return 0;
    }
    case 'import': {
      const file = positionals[0];
      if (!file) throw new UsageError('ca import needs a FILE (PEM or PKCS#12)');
      const s = await pki.importCa(readFileSync(file), v.password);
      ctx.out(`imported CA ${s.subject} (${s.fingerprint}); restart \`serve\`, and bootstrap again phones that trusted the old CA`);
      return 0;
    }
    case 'export-public': {
      const pem = pki.caChainPems().join('');
      if (positionals[0]) {
        writeFileSync(positionals[0], pem, { mode: 0o644 });
        ctx.out(`CA certificate written to ${positionals[0]}`);
      } else ctx.out(pem.trimEnd());
      return 0;
    }
    default:
      throw new UsageError(sub ? `unknown ca command "${sub}"` : 'ca needs a command: show, import or export-public');
  }
}
