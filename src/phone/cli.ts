/**
 * `localdls phone`: runs simulated phones against a provisioning service and reports each phone's
 * interaction. One-shot (default): exit code 0 = every phone finished ok, 1 = some failed.
 * --stay: the phones keep running (contact-me, calls, reboots, polling) until SIGINT/SIGTERM,
 * then exit 0. Bad arguments: exit 2.
 */
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CONTACT_ME_PORT } from './contact-me-listener';
import { DEFAULT_BUSY_FOR_MS, DEFAULT_CONCURRENCY, DEFAULT_E164_BASE, DEFAULT_MAC_BASE, e164At, ipAt, macAt, macNumber, runFleet, startFleet, type FleetOptions, type RunningFleet } from './fleet';
import { normalizeMac } from './items';
import { CONTACT_REASONS, type ContactReason, type InteractionResult, type SecureModeChange, type SimulatedPhone } from './phone';
import { DEFAULT_CONTACT_GAP_MS, DEFAULT_POLL_INTERVAL_MS, DEFAULT_REBOOT_MS } from './phone-runtime';
import { parsePinSheet, pinProblem } from './pin-sheet';
import { OLD_FIRMWARE_TLS } from './transport';
import { ITEM_STATUSES, type ItemStatus } from './codec';
import { ITEM_NAME_PATTERN } from '../shared/constants';

export const PHONE_HELP = `Usage: localdls phone --server https://HOST:PORT [options]

Simulates OpenStage phones talking WPI to a provisioning service: each phone opens one
interaction (start-up by default), answers ReadAllItems/ReadItems/WriteItems/Restart/
FileDeployment/SoftwareDeployment and stops at CleanUp. With --stay the phones keep running:
each answers contact-me on its own listener, reconnects after a call when the service asked for
send-solicited, reboots and sends start-up again after Restart or firmware, and polls a DCMP.

Options:
  --server URL          service address, must be https:// (required)
  --count N             number of phones (default 1)
  --mac-base MAC        MAC of the first phone; the others count up (default ${DEFAULT_MAC_BASE})
  --e164-base NUMBER    E.164 number of the first phone; the others count up (default
                        ${DEFAULT_E164_BASE} for ${DEFAULT_MAC_BASE}, counting on with --mac-base)
  --ip-base A.B.C.D     give each phone its own address, counting up from this one, and send
                        from it (e.g. 127.0.1.1: Linux answers on all of 127.0.0.0/8); by
                        default every phone uses the machine's own address
  --concurrency C       phones talking at the same time (default ${DEFAULT_CONCURRENCY})
  --max-items N         maxItems of the phones' messages; -1 = unlimited (default -1)
  --reason R            ${CONTACT_REASONS.join(' | ')} (default start-up)
  --no-config-change    phones report configuration-changed-flag=false
  --tls1.0              act as old firmware: TLS 1.0 only, RSA key exchange, AES128-SHA
                        (the service needs \`serve --tls legacy\` for these phones)
  --busy K              the first K phones are in a call from the start: WriteItems and
                        normal-priority firmware get status="busy" (default 0)
  --busy-for S          length of that call in seconds (default ${DEFAULT_BUSY_FOR_MS / 1000})
  --no-send-solicited   old firmware (before V3R3): ignore send-solicited in CleanUp
  --keep-nonce          one nonce for every message of an interaction, as the manual's start-up
                        flow shows (p.34); by default each message has a fresh one (p.48, p.60)
  --download-after      carry out a FileDeployment of several files only once the interaction
                        ends, as a phone downloading after it accepted: the service's check in
                        the same interaction does not list them yet (manual p.55)
  --refuse NAME=STATUS  answer a WriteItems of item NAME with this item status inside an accepted
                        reply (manual p.82–83), e.g. --refuse "sntp-addr=invalid data"; repeatable.
                        STATUS: failed, unknown item, read only, invalid index, unexpected item,
                        not supported, invalid data, undefined status
  --json                one JSON line per phone (with --stay: per event), then a summary line
  --help                show this text

Running phones (--stay):
  --stay                keep the phones running until Ctrl-C / SIGTERM, one line per event
  --contact-me-port N   port of each phone's contact-me listener; 0 = any free port (default
                        ${CONTACT_ME_PORT} with --ip-base, each phone on its own address, else 0)
  --contact-gap S       contact gap: contact-me within S seconds of the last accepted one is
                        answered 204 but not called back (default ${DEFAULT_CONTACT_GAP_MS / 1000})
  --reboot-delay S      seconds from Restart/firmware to the new start-up (default ${DEFAULT_REBOOT_MS / 1000})
  --dcmp URL            poll this DCMP URL (http://…/dcmp/): GET URL contact-me?device-id=MAC
  --poll-interval S     seconds between polls (default ${DEFAULT_POLL_INTERVAL_MS / 1000}; needs --dcmp)

Secure Mode (the service sends WriteItems goto-secure-mode; the phones then talk only to the
secure port of the --server host, with their client certificate):
  --pin DIGITS          every phone types this PIN when it asks for one (PIN bootstrapping)
  --pins FILE           each phone types its own PIN from this CSV (header mac,e164,pin, as
                        \`localdls bootstrap --sheet pins.csv\` writes it); phones not in it have none
  --wrong-pins N        each phone with a PIN first types N wrong ones (more than max-pin-retries:
                        the phone sends clean-up "password retries exceeded")
  --wrong-tan           each phone with a PIN answers a wrong bootstrapping-tan
  --state-dir D         keep each phone's Secure-Mode credential in D (one file per MAC, mode 0600),
                        so the phones are still in Secure Mode the next time they are run

Examples:
  localdls phone --server https://127.0.0.1:18443 --count 50 --max-items 100 --json
  # a busy fleet: 20 phones on 127.0.1.1-20:8085, the first 10 in a call for 20 s, running
  # until Ctrl-C (after CleanUp send-solicited they call back once their call is over)
  localdls phone --server https://127.0.0.1:18443 --count 20 --ip-base 127.0.1.1 --busy 10 --busy-for 20 --stay
  # after \`localdls bootstrap --all --pin auto --sheet pins.csv\`: each phone types its PIN and
  # stays in Secure Mode across runs
  localdls phone --server https://127.0.0.1:18443 --count 5 --pins pins.csv --state-dir phones --stay`;

const OPTIONS = {
  server: { type: 'string' },
  count: { type: 'string' },
  'mac-base': { type: 'string' },
  'e164-base': { type: 'string' },
  concurrency: { type: 'string' },
  'ip-base': { type: 'string' },
  'max-items': { type: 'string' },
  reason: { type: 'string' },
  'no-config-change': { type: 'boolean' },
  'tls1.0': { type: 'boolean' },
  busy: { type: 'string' },
  'busy-for': { type: 'string' },
  'no-send-solicited': { type: 'boolean' },
  'keep-nonce': { type: 'boolean' },
  'download-after': { type: 'boolean' },
  refuse: { type: 'string', multiple: true },
  stay: { type: 'boolean' },
  'contact-me-port': { type: 'string' },
  'contact-gap': { type: 'string' },
  'reboot-delay': { type: 'string' },
  dcmp: { type: 'string' },
  'poll-interval': { type: 'string' },
  pin: { type: 'string' },
  pins: { type: 'string' },
  'wrong-pins': { type: 'string' },
  'wrong-tan': { type: 'boolean' },
  'state-dir': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

class UsageError extends Error {}

export interface PhoneMainOptions {
  /** --stay: stop when this aborts (in-process use); SIGINT/SIGTERM always stop it too. */
  stop?: AbortSignal;
}

export async function phoneMain(
  argv: string[],
  out: (line: string) => void = console.log,
  err: (line: string) => void = console.error,
  options: PhoneMainOptions = {},
): Promise<number> {
  let args: Args;
  try {
    args = parse(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`localdls phone: ${e.message} (see --help)`);
    return 2;
  }
  if (args === 'help') {
    out(PHONE_HELP);
    return 0;
  }
  const fleet: FleetOptions = {
    server: args.server,
    count: args.count,
    macBase: args.macBase,
    e164Base: args.e164Base,
    concurrency: args.concurrency,
    maxItems: args.maxItems,
    reason: args.reason,
    configurationChanged: args.configurationChanged,
    busyCount: args.busy,
    busyForMs: args.busyForMs,
    sendSolicitedSupported: args.sendSolicited,
    keepNonce: args.keepNonce,
    downloadAfterInteraction: args.downloadAfter,
    ...(args.oldTls ? { tls: OLD_FIRMWARE_TLS } : {}),
    ...(args.ipBase ? { ipBase: args.ipBase } : {}),
    ...(args.pin !== undefined ? { pin: args.pin } : {}),
    ...(args.pins ? { pins: args.pins } : {}),
    wrongPins: args.wrongPins,
    wrongTan: args.wrongTan,
    ...(args.stateDir !== undefined ? { stateDir: args.stateDir } : {}),
    ...(Object.keys(args.writeStatus).length ? { writeStatus: args.writeStatus } : {}),
  };
  if (args.stay) return stay(args, fleet, out, err, options.stop);
  const print = (event: string, data: object, human: string): void => out(args.json ? JSON.stringify({ event, ...data }) : human);
  let summary;
  try {
    summary = await runFleet({
      ...fleet,
      onPhone: (phone) => phone.on('secure-mode', (c) => print('secure-mode', c, secureModeLine(c))),
      onResult: (r) => out(args.json ? JSON.stringify({ event: 'phone', ...r }) : humanLine(r)),
    });
  } catch (e) {
    err(`localdls phone: ${(e as Error).message}`);
    return 1;
  }
  if (args.json) out(JSON.stringify({ event: 'summary', ...summary }));
  else out(`summary: ${summary.phones} phones, ${summary.ok} ok, ${summary.failed} failed, ${summary.exchanges} exchanges, ${summary.durationMs} ms`);
  return summary.failed === 0 ? 0 : 1;
}

/** --stay: start the phones, print their events until a signal, stop them, print the summary. */
async function stay(args: StayArgs, fleetOptions: FleetOptions, out: (line: string) => void, err: (line: string) => void, abort: AbortSignal | undefined): Promise<number> {
  let release = (): void => undefined;
  const stopRequested = new Promise<string>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => resolve(signal);
    const onAbort = (): void => resolve('abort');
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    abort?.addEventListener('abort', onAbort, { once: true });
    release = () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      abort?.removeEventListener('abort', onAbort);
    };
  });
  // Signal handlers do not keep Node alive; the phones' sockets might not either (no listener).
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const print = (event: string, data: object, human: string): void => out(args.json ? JSON.stringify({ event, ...data }) : human);
  let fleet: RunningFleet | undefined;
  try {
    fleet = await startFleet({
      ...fleetOptions,
      contactMePort: args.contactMePort,
      contactGapMs: args.contactGapMs,
      rebootMs: args.rebootMs,
      ...(args.dcmp ? { dcmpUrl: args.dcmp, pollIntervalMs: args.pollIntervalMs } : {}),
      onPhone: (phone) => attach(phone, print),
    });
    print('ready', { phones: fleet.phones.length }, `ready: ${fleet.phones.length} phone(s) running; Ctrl-C stops them`);
    await stopRequested;
    const stats = await fleet.stop();
    const c = stats.contactMe;
    print('summary', stats, `summary: ${stats.phones} phones, ${stats.interactions} interactions (${stats.ok} ok, ${stats.failed} failed), contact-me ${c.accepted} accepted / ${c.ignored} ignored / ${c.refused} refused, ${stats.reboots} reboots, ${stats.polls} polls, ${stats.durationMs} ms`);
    return 0;
  } catch (e) {
    err(`localdls phone: ${(e as Error).message}`);
    return 1;
  } finally {
    clearInterval(keepAlive);
    release();
  }
}

/** One line per event of a running phone. */
function attach(phone: SimulatedPhone, print: (event: string, data: object, human: string) => void): void {
  phone.on('listening', (e) => print('listening', e, `${e.mac} listening for contact-me on ${e.contactMeUri}`));
  phone.on('interaction', (r) => print('interaction', r, humanLine(r)));
  phone.on('contact-me', (c) =>
    print('contact-me', { mac: phone.mac, ...c }, `${phone.mac} contact-me ${c.method || '-'} from ${c.from}: ${c.outcome}${c.status ? ` (${c.status})` : ''}${c.reason ? `: ${c.reason}` : ''}`),
  );
  phone.on('busy-ended', (e) => print('busy-ended', e, `${e.mac} call ended${e.solicited ? '; send-solicited connection' : ''}`));
  phone.on('rebooting', (e) => print('rebooting', e, `${e.mac} rebooting after ${e.cause} (${e.delayMs} ms)`));
  phone.on('secure-mode', (c) => print('secure-mode', c, secureModeLine(c)));
  // Quiet polls (200, nothing pending) are counted, not printed.
  phone.on('poll', (p) => {
    if (p.outcome !== 'nothing') print('poll', { mac: phone.mac, ...p }, `${phone.mac} DCMP poll: ${p.outcome}${p.status ? ` (HTTP ${p.status})` : ''}${p.error ? `: ${p.error}` : ''}${p.solicited ? '; solicited connection' : ''}`);
  });
}

type Args = ReturnType<typeof parse>;
type StayArgs = Exclude<Args, 'help'>;

function parse(argv: string[]) {
  let values;
  try {
    values = parseArgs({ args: joinNegativeValues(argv), options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (e) {
    // Node's messages run over several sentences; the first says what is wrong.
    throw new UsageError(String((e as Error).message).split(/\.\s|\n/)[0]);
  }
  if (values.help) return 'help' as const;
  const server = values.server;
  if (server === undefined) throw new UsageError('missing --server, e.g. --server https://127.0.0.1:18443');
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new UsageError(`--server "${server}" is not a URL, e.g. https://127.0.0.1:18443`);
  }
  if (url.protocol !== 'https:') throw new UsageError(`--server must be https:// (phones only talk WPI over TLS), not ${url.protocol}//`);
  const count = integer('--count', values.count, 1, 1, 100_000);
  const macBase = values['mac-base'] ?? DEFAULT_MAC_BASE;
  try {
    normalizeMac(macBase);
    macAt(macBase, count - 1);
  } catch (e) {
    throw new UsageError(`--mac-base: ${(e as Error).message}`);
  }
  const e164Base = values['e164-base'] ?? defaultE164Base(macBase);
  if (!/^\d{1,15}$/.test(e164Base) || e164At(e164Base, count - 1).length > 15) {
    throw new UsageError(`--e164-base must be 1-15 digits and leave room for ${count} numbers, not "${e164Base}"`);
  }
  const ipBase = values['ip-base'];
  if (ipBase !== undefined) {
    try {
      ipAt(ipBase, count - 1);
    } catch (e) {
      throw new UsageError(`--ip-base: ${(e as Error).message}`);
    }
  }
  const maxItems = integer('--max-items', values['max-items'], -1, -1, 1_000_000);
  if (maxItems === 0) throw new UsageError('--max-items must be -1 (unlimited) or at least 1');
  const reason = values.reason ?? 'start-up';
  if (!(CONTACT_REASONS as readonly string[]).includes(reason)) throw new UsageError(`--reason must be one of ${CONTACT_REASONS.join(', ')}, not "${reason}"`);
  const busy = integer('--busy', values.busy, 0, 0, count);
  if (values['busy-for'] !== undefined && busy === 0) throw new UsageError('--busy-for needs --busy K (how many phones are in a call)');
  const busyForMs = seconds('--busy-for', values['busy-for'], DEFAULT_BUSY_FOR_MS / 1000, 0.001, 31_536_000);
  const stay = values.stay === true;
  for (const flag of ['contact-me-port', 'contact-gap', 'reboot-delay', 'dcmp', 'poll-interval'] as const) {
    if (values[flag] !== undefined && !stay) throw new UsageError(`--${flag} only applies to running phones: add --stay`);
  }
  const contactMePort = integer('--contact-me-port', values['contact-me-port'], ipBase !== undefined ? CONTACT_ME_PORT : 0, 0, 65535);
  if (contactMePort !== 0 && ipBase === undefined && count > 1) {
    throw new UsageError(`--contact-me-port ${contactMePort} for ${count} phones on one address: give --ip-base (one address per phone) or use 0 (any free port)`);
  }
  const dcmp = values.dcmp;
  if (dcmp !== undefined) {
    let dcmpUrl: URL;
    try {
      dcmpUrl = new URL(dcmp);
    } catch {
      throw new UsageError(`--dcmp "${dcmp}" is not a URL, e.g. http://127.0.0.1:8080/dcmp/`);
    }
    if (dcmpUrl.protocol !== 'http:') throw new UsageError(`--dcmp must be http:// (DCMP polling is plain HTTP), not ${dcmpUrl.protocol}//`);
  }
  if (values['poll-interval'] !== undefined && dcmp === undefined) throw new UsageError('--poll-interval needs --dcmp URL');
  const pin = values.pin;
  if (pin !== undefined && pinProblem(pin) !== undefined) throw new UsageError(`--pin: ${pinProblem(pin)}`);
  if (pin !== undefined && values.pins !== undefined) throw new UsageError('--pin (one PIN for every phone) and --pins (a PIN per phone) exclude each other');
  const pins = values.pins === undefined ? undefined : pinSheet(values.pins);
  const hasPins = pin !== undefined || pins !== undefined;
  if (values['wrong-pins'] !== undefined && !hasPins) throw new UsageError('--wrong-pins needs --pin or --pins (the right PIN the wrong ones differ from)');
  if (values['wrong-tan'] && !hasPins) throw new UsageError('--wrong-tan needs --pin or --pins (the TAN is the last 3 digits of the PIN)');
  const stateDir = values['state-dir'];
  if (stateDir !== undefined) usableDirectory('--state-dir', stateDir);
  const writeStatus: Record<string, ItemStatus> = {};
  for (const spec of values.refuse ?? []) {
    const at = spec.indexOf('=');
    const name = spec.slice(0, Math.max(at, 0)).trim();
    const status = spec.slice(at + 1).trim();
    if (!ITEM_NAME_PATTERN.test(name)) throw new UsageError(`--refuse "${spec}": give NAME=STATUS, e.g. --refuse "sntp-addr=invalid data"`);
    if (!(ITEM_STATUSES as readonly string[]).includes(status)) throw new UsageError(`--refuse ${name}: "${status}" is not an item status: ${ITEM_STATUSES.join(', ')}`);
    writeStatus[name] = status as ItemStatus;
  }
  return {
    server: url.href,
    count,
    macBase,
    e164Base,
    concurrency: integer('--concurrency', values.concurrency, DEFAULT_CONCURRENCY, 1, 1000),
    maxItems,
    reason: reason as ContactReason,
    configurationChanged: !values['no-config-change'],
    oldTls: values['tls1.0'] === true,
    ipBase,
    json: values.json === true,
    busy,
    busyForMs,
    sendSolicited: !values['no-send-solicited'],
    keepNonce: values['keep-nonce'] === true,
    downloadAfter: values['download-after'] === true,
    stay,
    contactMePort,
    contactGapMs: seconds('--contact-gap', values['contact-gap'], DEFAULT_CONTACT_GAP_MS / 1000, 0, 86_400),
    rebootMs: seconds('--reboot-delay', values['reboot-delay'], DEFAULT_REBOOT_MS / 1000, 0, 3600),
    dcmp,
    pollIntervalMs: seconds('--poll-interval', values['poll-interval'], DEFAULT_POLL_INTERVAL_MS / 1000, 0.01, 86_400),
    pin,
    pins,
    wrongPins: integer('--wrong-pins', values['wrong-pins'], 0, 0, 1000),
    wrongTan: values['wrong-tan'] === true,
    stateDir,
    writeStatus,
  };
}

/** --pins FILE: the PIN sheet, MAC → PIN. */
function pinSheet(file: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`--pins: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return parsePinSheet(text);
  } catch (e) {
    throw new UsageError(`--pins ${file}: ${(e as Error).message}`);
  }
}

/** A directory that exists or can be made (0700). */
function usableDirectory(flag: string, dir: string): void {
  if (dir === '') throw new UsageError(`${flag} needs a directory`);
  try {
    if (!statSync(dir).isDirectory()) throw new UsageError(`${flag} ${dir} is not a directory`);
    return;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new UsageError(`${flag} ${dir}: cannot use it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new UsageError(`${flag}: cannot create ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** A number of seconds (decimals allowed) → milliseconds. */
function seconds(flag: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return Math.round(fallback * 1000);
  const n = /^\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`${flag} must be a number of seconds from ${min} to ${max}, not "${raw}"`);
  return Math.round(n * 1000);
}

function integer(flag: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`${flag} must be an integer from ${min} to ${max}, not "${raw}"`);
  return n;
}

/**
 * The first phone's number when none is given: as far from the default number as its MAC is from
 * the default MAC, so phones started in several runs (`--mac-base 00:1A:E8:00:00:03`) do not
 * share numbers; the default number where that does not fit in 15 digits (a MAC below the default).
 */
function defaultE164Base(macBase: string): string {
  const offset = macNumber(macBase) - macNumber(DEFAULT_MAC_BASE);
  if (offset < 0n) return DEFAULT_E164_BASE;
  const n = (BigInt(DEFAULT_E164_BASE) + offset).toString();
  return n.length <= 15 ? n : DEFAULT_E164_BASE;
}

/** parseArgs refuses `--max-items -1` as ambiguous; a negative number there is meant as the value. */
function joinNegativeValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const name = a.startsWith('--') ? a.slice(2) : undefined;
    const next = argv[i + 1];
    if (name && name in OPTIONS && OPTIONS[name as keyof typeof OPTIONS].type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

function humanLine(r: InteractionResult): string {
  const tls = r.tls?.protocol ? ` ${r.tls.protocol}` : '';
  const actions = r.actions.length > 0 ? r.actions.join(',') : '-';
  const trigger = r.trigger && r.trigger !== 'call' ? ` (${r.trigger})` : '';
  const mode = r.mode === 'secure' ? ' [secure]' : '';
  const head = `${r.mac} ${r.reason}${trigger}${mode} ${r.ok ? 'ok' : 'FAILED'} ${r.exchanges} exchanges ${actions}${tls} ${Math.round(r.durations.totalMs)} ms`;
  return r.ok ? head : `${head}: ${r.error}`;
}

function secureModeLine(c: SecureModeChange): string {
  const origin = c.server ? new URL(c.server).origin : '';
  const problems = c.problems?.length ? `: ${c.problems.join('; ')}` : '';
  switch (c.change) {
    case 'switched':
      return `${c.mac} switched to Secure Mode on ${origin}`;
    case 'pin-dialog':
      return `${c.mac} PIN dialog open: waiting for a PIN (${c.wrongPins ?? 0} wrong of at most ${c.maxPinRetries ?? '?'})`;
    case 'pin-retries-exceeded':
      return `${c.mac} PIN retries exceeded (${c.wrongPins ?? '?'} wrong PINs, max-pin-retries ${c.maxPinRetries ?? '?'}): clean-up to the Default-Mode service`;
    case 'invalid-data':
      return `${c.mac} bootstrap refused, invalid data${problems}`;
    case 'unusable':
      return `${c.mac} bootstrap failed${problems}`;
    case 'wrong-tan':
      return `${c.mac} wrong TAN: the service refused the bootstrap; back in Default Mode`;
    case 'factory-reset':
      return `${c.mac} factory reset: back in Default Mode`;
  }
}
