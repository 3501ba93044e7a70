/**
 * The headless command line (bin/localdls): the service without Electron, the read-only views of a
 * data directory, and the phone simulator.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Device, DeviceItem, ExchangeSummary } from '../shared/model';
import { maskItemValue } from '../shared/secrets';
import { phoneMain } from '../phone/cli';
import { table, UsageError, type Out } from './cli-format';
import { CONTACT_USAGE, contactCommand, JOB_USAGE, jobCommand, PROFILE_USAGE, profileCommand, type CliContext } from './cli-jobs';
import { DEFAULT_PORT, DEFAULT_SECURE_PORT, Service } from './service';
import { BOOTSTRAP_USAGE, bootstrapCommand, CA_USAGE, caCommand, protectorFor } from './cli-secure';
import { isLegacyProtocol, TLS_PROFILES, type TlsProfile } from './net/tls-profile';
import { Store } from './store';


const COMMANDS: Record<string, { summary: string; usage: string; run: (args: string[], out: Out) => Promise<number> }> = {
  serve: {
    summary: 'run the provisioning service without the desktop app',
    usage: `localdls serve [--data-dir D] [--host H] [--port N] [--tls modern|legacy] [--dcmp-port N]
               [--contact-gap S] [--no-auto-contact] [--contact-me-announce] [--ui [--ui-port N]]

Runs the WPI service (Default Mode, HTTPS). When ready it prints one JSON line
  {"event":"listening","host":…,"port":…}
with the port actually bound (--port 0 picks a free one), then one JSON line per exchange.
Ctrl-C (SIGINT) or SIGTERM stops it cleanly.

Options:
  --data-dir D   where the database and the TLS identity live (default: $LOCALDLS_DATA_DIR or ~/.localdls)
  --host H       address to listen on (default 0.0.0.0, every interface)
  --port N       Default-Mode port (default ${DEFAULT_PORT})
  --tls P        TLS compatibility of the Default-Mode port:
                   modern  TLS 1.2 and newer (default, unless the desktop app set legacy)
                   legacy  also TLS 1.0/1.1 with RSA key exchange and CBC ciphers, for old
                           OpenStage firmware. Weaker: anyone on the LAN who records the
                           traffic has a better chance of decrypting it. Use it only while
                           such phones need it; failed handshakes say when they do.
  --secure-port N   Secure-Mode (mutual TLS) port, default 18444; 0 picks a free one (securePort)
  --secure-tls P    TLS compatibility of the secure port (modern | legacy; default as set in the app)
  --key-passphrase-file F
                    file whose first line opens the keys (else $LOCALDLS_KEY_PASSPHRASE or
                    $LOCALDLS_KEY_PASSPHRASE_FILE). Without a passphrase Secure Mode is off.
  --dcmp-port N  also answer DCMP polling (plain HTTP GET /dcmp/contact-me?device-id=MAC) on
                 this port: 202 when jobs wait for the phone, 200 otherwise. Off by default;
                 0 picks a free port (reported as dcmpPort).
  --contact-gap S       the phones' contact gap in seconds (default 300, at least 60): at most
                        one contact-me per phone within it
  --no-auto-contact     do not send contact-me by itself when jobs wait (use \`localdls contact\`)
  --contact-me-announce put this machine's address and port into contact-me (dls_ip_addr,
                        dls_ip_port), so phones call back here whatever DLS address they have
  --ui           also serve the traffic inspector to a browser, on 127.0.0.1 only, with a
                 random token per run: open the address printed on stderr (also reported
                 as "ui" in the listening line). Needs the built UI (\`npm run build\`).
  --ui-port N    port of the web UI (default 0: any free port)

Example:
  localdls serve --data-dir ./site-a --port 18443`,
    run: serve,
  },
  devices: {
    summary: 'list the devices that have contacted the service',
    usage: `localdls devices [--data-dir D] [--json]

Example:
  localdls devices --data-dir ./site-a --json`,
    run: devices,
  },
  items: {
    summary: "show a device's current items (secrets masked unless --reveal)",
    usage: `localdls items --mac M [--data-dir D] [--json] [--reveal]

Example:
  localdls items --data-dir ./site-a --mac 00:1A:E8:00:00:01`,
    run: items,
  },
  traffic: {
    summary: 'list the recorded exchanges, or follow them live',
    usage: `localdls traffic [--data-dir D] [--mac M] [--limit N] [--follow] [--json]
       localdls traffic purge --older-than <N>d|<N>h [--data-dir D] [--json]

Lists the newest exchanges (default 50), oldest first. --follow keeps printing new ones
while \`serve\` runs, until Ctrl-C.

purge deletes the exchanges older than the given age (days or hours), and the finished
interactions nothing refers to any more, in small batches: \`serve\` may keep running.
It prints how many rows were removed and how much space was freed.

Examples:
  localdls traffic --data-dir ./site-a --follow
  localdls traffic purge --data-dir ./site-a --older-than 30d`,
    run: traffic,
  },
  job: {
    summary: 'queue, list and cancel provisioning jobs (write, read, restart, files, firmware)',
    usage: JOB_USAGE,
    run: (args, out) => jobCommand(args, cliContext(out)),
  },
  profile: {
    summary: 'named item sets: set, show, apply (writes only what differs), plug & play',
    usage: PROFILE_USAGE,
    run: (args, out) => profileCommand(args, cliContext(out)),
  },
  contact: {
    summary: 'send contact-me so phones call back now (respects their contact gap)',
    usage: CONTACT_USAGE,
    run: (args, out) => contactCommand(args, cliContext(out)),
  },
  bootstrap: {
    summary: 'move phones to Secure Mode (with or without PIN), print the PIN sheet',
    usage: BOOTSTRAP_USAGE,
    run: (args, out) => bootstrapCommand(args, cliContext(out)),
  },
  ca: {
    summary: "show, import or export the site's certificate authority",
    usage: CA_USAGE,
    run: (args, out) => caCommand(args, cliContext(out)),
  },
  phone: {
    summary: 'simulate one or many phones against a service',
    usage: 'localdls phone --help',
    run: (args, out) => phoneMain(args, out),
  },
};

export async function main(argv: string[], out: Out = (l) => console.log(l), err: Out = (l) => console.error(l)): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    out(topHelp());
    return command === undefined ? 2 : 0;
  }
  const entry = COMMANDS[command];
  if (!entry) {
    err(`localdls: unknown command "${command}"\n\n${topHelp()}`);
    return 2;
  }
  if (command !== 'phone' && (rest.includes('--help') || rest.includes('-h'))) {
    out(entry.usage);
    return 0;
  }
  try {
    return await entry.run(rest, out);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`localdls ${command}: ${e.message}\n\n${entry.usage}`);
      return 2;
    }
    err(`localdls ${command}: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

function topHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return `LocalDLS: a provisioning service for Unify OpenStage / OpenScape Desk Phone IP phones (WPI).

Usage: localdls <command> [options]   (localdls <command> --help for details)

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
  .join('\n')}`;
}

const DATA_DIR = { 'data-dir': { type: 'string' } } as const;

function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
}

function dataDirOf(value: string | undefined): string {
  return resolve(value ?? process.env.LOCALDLS_DATA_DIR ?? join(homedir(), '.localdls'));
}

function portOf(raw: string | undefined, fallback: number, flag = '--port'): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d{1,5}$/.test(raw) || n > 65535) throw new UsageError(`${flag} must be a number from 0 to 65535, not "${raw}"`);
  return n;
}

async function serve(args: string[], out: Out): Promise<number> {
  const v = parse(args, {
    ...DATA_DIR, host: { type: 'string' }, port: { type: 'string' }, tls: { type: 'string' }, 'dcmp-port': { type: 'string' },
    'contact-gap': { type: 'string' }, 'no-auto-contact': { type: 'boolean' }, 'contact-me-announce': { type: 'boolean' },
    ui: { type: 'boolean' }, 'ui-port': { type: 'string' },
    'secure-port': { type: 'string' }, 'secure-tls': { type: 'string' }, 'key-passphrase-file': { type: 'string' },
  });
  // Without --tls / --secure-tls the profile chosen in the app (stored setting) applies, else modern.
  const secureTls = v['secure-tls'] as TlsProfile | undefined;
  if (secureTls !== undefined && !TLS_PROFILES.includes(secureTls)) throw new UsageError(`--secure-tls must be one of ${TLS_PROFILES.join(', ')}, not "${v['secure-tls']}"`);
  const securePort = portOf(v['secure-port'], DEFAULT_SECURE_PORT, '--secure-port');
  const keyProtector = protectorOrWarning(dataDirOf(v['data-dir']), v['key-passphrase-file']);
  if (v['ui-port'] !== undefined && !v.ui) throw new UsageError('--ui-port needs --ui');
  const uiPort = portOf(v['ui-port'], 0, '--ui-port');
  const gapS = v['contact-gap'] === undefined ? 300 : Number(v['contact-gap']);
  if (!Number.isFinite(gapS) || gapS < 60 || gapS > 86_400) throw new UsageError(`--contact-gap must be seconds from 60 to 86400, not "${v['contact-gap']}"`);
  const tls = v.tls as TlsProfile | undefined;
  if (tls !== undefined && !TLS_PROFILES.includes(tls)) throw new UsageError(`--tls must be one of ${TLS_PROFILES.join(', ')}, not "${v.tls}"`);
  const service = new Service({
    dataDir: dataDirOf(v['data-dir']),
    host: v.host ?? '0.0.0.0',
    port: portOf(v.port, DEFAULT_PORT),
    ...(tls ? { tls } : {}),
    ...(v['dcmp-port'] !== undefined ? { dcmpPort: portOf(v['dcmp-port'], 0, '--dcmp-port') } : {}),
    contact: { gapMs: gapS * 1000 },
    autoContact: !v['no-auto-contact'],
    announceInContactMe: v['contact-me-announce'] === true,
    ...(keyProtector ? { keyProtector, securePort, ...(secureTls ? { secureTls } : {}) } : {}),
    onError: (e) => console.error(JSON.stringify({ event: 'error', message: e.message })),
  });
  for (const message of service.store.notices) console.error(JSON.stringify({ event: 'warning', message }));
  let listening;
  let webUi: import('./web/serve-ui').WebUi | null = null;
  try {
    listening = await service.start();
    if (v.ui) {
      const { startWebUi } = await import('./web/serve-ui');
      webUi = await startWebUi(service, listening, { dataDir: dataDirOf(v['data-dir']), port: uiPort });
    }
  } catch (e) {
    await service.stop();
    throw e;
  }
  service.onExchange((x) => out(JSON.stringify(exchangeLine(x))));
  out(JSON.stringify({ event: 'listening', ...listening, dataDir: dataDirOf(v['data-dir']), ...(webUi ? { ui: webUi.url } : {}) }));
  if (webUi) console.error(`LocalDLS web UI: ${webUi.url}`);
  await new Promise<void>((done) => {
    const stop = () => done();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await webUi?.close();
  await service.stop();
  out(JSON.stringify({ event: 'stopped' }));
  return 0;
}

/** Secure Mode needs the key passphrase; without it the service runs Default Mode only and says why. */
function protectorOrWarning(dataDir: string, passphraseFile: string | undefined) {
  try {
    return protectorFor(dataDir, passphraseFile);
  } catch (e) {
    if (passphraseFile !== undefined) throw e;
    console.error(JSON.stringify({ event: 'warning', message: `Secure Mode is off: ${(e as Error).message}` }));
    return undefined;
  }
}

function exchangeLine(x: ExchangeSummary) {
  return {
    event: x.kind === 'tls-failure' ? 'tls-failure' : 'exchange',
    id: x.id,
    time: new Date(x.started).toISOString(),
    peer: `${x.peerAddress}:${x.peerPort}`,
    listener: x.listener,
    mac: x.mac,
    reason: x.reason,
    replyAction: x.replyAction,
    replyStatus: x.replyStatus,
    fragment: x.fragment,
    items: x.itemCount,
    action: x.action,
    http: x.httpStatus,
    ms: x.ended - x.started,
    tls: x.tlsProtocol,
    cipher: x.tlsCipher,
    ...(x.error ? { error: x.error } : {}),
    ...(x.warning ? { warning: x.warning } : {}),
  };
}

/** Opens a data directory while `serve` may be using it (WAL allows readers and a writer). */
function openStore(dataDirArg: string | undefined, mode: 'read' | 'write'): Store {
  const dir = dataDirOf(dataDirArg);
  if (!existsSync(join(dir, 'localdls.sqlite'))) {
    throw new Error(`no LocalDLS data in ${dir}: start \`localdls serve --data-dir ${dir}\` first, or pass the right --data-dir`);
  }
  return new Store(dir, { readonly: mode === 'read' });
}

function openReadOnly(dataDirArg: string | undefined): Store {
  return openStore(dataDirArg, 'read');
}

function cliContext(out: Out): CliContext {
  return { out, err: (line) => console.error(line), openStore };
}

async function devices(args: string[], out: Out): Promise<number> {
  const v = parse(args, { ...DATA_DIR, json: { type: 'boolean' } });
  const store = openReadOnly(v['data-dir']);
  try {
    const list = store.devices();
    if (v.json) out(JSON.stringify(list));
    else if (list.length === 0) out('no devices yet');
    else out(table(['MAC', 'MODE', 'STATE', 'MODEL', 'FIRMWARE', 'E164', 'ADDRESS', 'TLS', 'LAST CONTACT'], list.map(deviceRow)));
  } finally {
    store.close();
  }
  return 0;
}

function deviceRow(d: Device): string[] {
  const tls = d.tlsProtocol ? `${d.tlsProtocol}${isLegacyProtocol(d.tlsProtocol) ? ' (legacy)' : ''}` : '';
  const mode = d.bootstrap === 'pending' || d.bootstrap === 'failed' ? `${d.mode} (bootstrap ${d.bootstrap})` : d.mode;
  return [d.mac, mode, d.state, d.deviceType ?? '', d.softwareVersion ?? '', d.e164 ?? '', d.lastAddress ?? '', tls, new Date(d.lastContact).toISOString()];
}

async function items(args: string[], out: Out): Promise<number> {
  const v = parse(args, { ...DATA_DIR, mac: { type: 'string' }, json: { type: 'boolean' }, reveal: { type: 'boolean' } });
  if (!v.mac) throw new UsageError('--mac is required');
  const { normalizeMac } = await import('./provisioning');
  const mac = normalizeMac(v.mac);
  if (!mac) throw new UsageError(`--mac "${v.mac}" is not a MAC address (e.g. 00:1A:E8:00:00:01)`);
  const store = openReadOnly(v['data-dir']);
  try {
    if (!store.device(mac)) throw new Error(`no device ${mac} in this data directory (see \`localdls devices\`)`);
    const list = store.items(mac).map((i): DeviceItem => (v.reveal ? i : { ...i, value: maskItemValue(i.name, i.value) }));
    if (v.json) out(JSON.stringify(list));
    else out(table(['NAME', 'INDEX', 'VALUE', 'STATUS'], list.map((i) => [i.name, i.index === null ? '' : String(i.index), oneLine(i.value), i.status ?? ''])));
  } finally {
    store.close();
  }
  return 0;
}

async function traffic(args: string[], out: Out): Promise<number> {
  if (args[0] === 'purge') return trafficPurge(args.slice(1), out);
  const v = parse(args, { ...DATA_DIR, mac: { type: 'string' }, limit: { type: 'string' }, follow: { type: 'boolean' }, json: { type: 'boolean' } });
  const limit = v.limit === undefined ? 50 : Number(v.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new UsageError(`--limit must be a whole number from 1 to 10000, not "${v.limit}"`);
  let mac: string | undefined;
  if (v.mac !== undefined) {
    const { normalizeMac } = await import('./provisioning');
    mac = normalizeMac(v.mac) ?? undefined;
    if (!mac) throw new UsageError(`--mac "${v.mac}" is not a MAC address`);
  }
  const store = openReadOnly(v['data-dir']);
  const print = (x: ExchangeSummary) => out(v.json ? JSON.stringify(x) : trafficLine(x));
  try {
    const rows = store.exchanges({ mac, limit }).reverse();
    rows.forEach(print);
    if (!v.follow) return 0;
    let last = rows.at(-1)?.id ?? store.exchanges({ limit: 1 })[0]?.id ?? 0;
    await new Promise<void>((done) => {
      const timer = setInterval(() => {
        for (const x of store.exchanges({ mac, afterId: last, newestFirst: false, limit: 1000 })) {
          print(x);
          last = x.id;
        }
      }, 300);
      const stop = () => {
        clearInterval(timer);
        done();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  } finally {
    store.close();
  }
  return 0;
}

async function trafficPurge(args: string[], out: Out): Promise<number> {
  const v = parse(args, { ...DATA_DIR, 'older-than': { type: 'string' }, json: { type: 'boolean' } });
  if (v['older-than'] === undefined) throw new UsageError('--older-than is required, e.g. --older-than 30d');
  const age = ageMs(v['older-than']);
  const before = Date.now() - age;
  const store = openStore(v['data-dir'], 'write');
  const started = performance.now();
  try {
    const r = await store.purgeOlderThan(before);
    const seconds = (performance.now() - started) / 1000;
    const mb = (pages: number) => ((pages * r.pageSize) / 1024 / 1024).toFixed(1);
    if (v.json) {
      out(JSON.stringify({
        event: 'purged', exchanges: r.exchanges, interactions: r.interactions, before: new Date(before).toISOString(), seconds: Math.round(seconds * 10) / 10,
        returnedBytes: r.vacuumedPages * r.pageSize, freeBytes: r.freePages * r.pageSize,
      }));
    } else {
      const space = r.vacuumedPages > 0 ? `; ${mb(r.vacuumedPages)} MB given back to the file system` : r.freePages > 0 ? `; ${mb(r.freePages)} MB free inside the database for new traffic` : '';
      out(`removed ${r.exchanges} exchanges and ${r.interactions} interactions older than ${v['older-than']} (before ${new Date(before).toISOString()}) in ${seconds.toFixed(1)} s${space}`);
    }
  } finally {
    store.close();
  }
  return 0;
}

/** `30d` or `12h` in ms. */
function ageMs(raw: string): number {
  const m = /^(\d{1,5})([dh])$/.exec(raw.trim());
  if (!m || Number(m[1]) === 0) throw new UsageError(`--older-than must be a number of days or hours, e.g. 30d or 12h, not "${raw}"`);
  return Number(m[1]) * (m[2] === 'd' ? 86_400_000 : 3_600_000);
}

function trafficLine(x: ExchangeSummary): string {
  const time = new Date(x.started).toISOString().slice(11, 23);
  if (x.kind === 'tls-failure') {
    return `${String(x.id).padStart(6)} ${time} ${x.listener.padEnd(10)} ${'-'.padEnd(17)} ${x.peerAddress.padEnd(15)} ${x.error}${x.warning ? `  hint: ${x.warning}` : ''}`;
  }
  const what = x.reason ? `${x.reason}${x.replyAction ? ` ${x.replyAction}/${x.replyStatus ?? ''}` : ''}${x.fragment === 'next' ? ' (fragment)' : ''}` : `${x.method} ${x.path}`;
  const answer = x.action ?? `HTTP ${x.httpStatus}`;
  const note = x.error ? `  ! ${x.error}` : x.warning ? `  ⚠ ${x.warning}` : '';
  return `${String(x.id).padStart(6)} ${time} ${x.listener.padEnd(10)} ${(x.mac ?? '-').padEnd(17)} ${x.peerAddress.padEnd(15)} ${what} -> ${answer} [${x.itemCount} items, ${x.requestBytes}/${x.responseBytes} B, ${x.ended - x.started} ms, ${x.tlsProtocol ?? 'no TLS'}]${note}`;
}

function oneLine(s: string): string {
  const flat = s.replace(/\s+/g, ' ');
  return flat.length > 80 ? `${flat.slice(0, 79)}…` : flat;
}
