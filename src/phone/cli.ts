/**
 * `localdls phone`: runs simulated phones against a provisioning service and reports each phone's
 * interaction. Exit code 0 = every phone finished ok, 1 = some failed, 2 = bad arguments.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_CONCURRENCY, DEFAULT_E164_BASE, DEFAULT_MAC_BASE, e164At, ipAt, macAt, runFleet } from './fleet';
import { normalizeMac } from './items';
import { CONTACT_REASONS, type ContactReason, type InteractionResult } from './phone';
import { OLD_FIRMWARE_TLS } from './transport';

export const PHONE_HELP = `Usage: localdls phone --server https://HOST:PORT [options]

Simulates OpenStage phones talking WPI to a provisioning service: each phone opens one
interaction (start-up by default), answers ReadAllItems/ReadItems/WriteItems/Restart and stops
at CleanUp.

Options:
  --server URL          service address, must be https:// (required)
  --count N             number of phones (default 1)
  --mac-base MAC        MAC of the first phone; the others count up (default ${DEFAULT_MAC_BASE})
  --e164-base NUMBER    E.164 number of the first phone; the others count up (default ${DEFAULT_E164_BASE})
  --ip-base A.B.C.D     give each phone its own address, counting up from this one, and send
                        from it (e.g. 127.0.1.1: Linux answers on all of 127.0.0.0/8); by
                        default every phone uses the machine's own address
  --concurrency C       phones talking at the same time (default ${DEFAULT_CONCURRENCY})
  --max-items N         maxItems of the phones' messages; -1 = unlimited (default -1)
  --reason R            ${CONTACT_REASONS.join(' | ')} (default start-up)
  --no-config-change    phones report configuration-changed-flag=false
  --tls1.0              act as old firmware: TLS 1.0 only, RSA key exchange, AES128-SHA
                        (the service needs \`serve --tls legacy\` for these phones)
  --json                one JSON line per phone, then a summary line
  --help                show this text

Example:
  localdls phone --server https://127.0.0.1:18443 --count 50 --max-items 100 --json`;

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
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

class UsageError extends Error {}

export async function phoneMain(argv: string[], out: (line: string) => void = console.log, err: (line: string) => void = console.error): Promise<number> {
  let args: ReturnType<typeof parse>;
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
  const summary = await runFleet({
    server: args.server,
    count: args.count,
    macBase: args.macBase,
    e164Base: args.e164Base,
    concurrency: args.concurrency,
    maxItems: args.maxItems,
    reason: args.reason,
    configurationChanged: args.configurationChanged,
    ...(args.oldTls ? { tls: OLD_FIRMWARE_TLS } : {}),
    ...(args.ipBase ? { ipBase: args.ipBase } : {}),
    onResult: (r) => out(args.json ? JSON.stringify({ event: 'phone', ...r }) : humanLine(r)),
  });
  if (args.json) out(JSON.stringify({ event: 'summary', ...summary }));
  else out(`summary: ${summary.phones} phones, ${summary.ok} ok, ${summary.failed} failed, ${summary.exchanges} exchanges, ${summary.durationMs} ms`);
  return summary.failed === 0 ? 0 : 1;
}

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
  const e164Base = values['e164-base'] ?? DEFAULT_E164_BASE;
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
  };
}

function integer(flag: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`${flag} must be an integer from ${min} to ${max}, not "${raw}"`);
  return n;
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
  const head = `${r.mac} ${r.reason} ${r.ok ? 'ok' : 'FAILED'} ${r.exchanges} exchanges ${actions}${tls} ${Math.round(r.durations.totalMs)} ms`;
  return r.ok ? head : `${head}: ${r.error}`;
}
