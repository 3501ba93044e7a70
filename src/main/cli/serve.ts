/** `localdls serve`: the provisioning service without the desktop app (and the web UI with --ui). */
import type { ExchangeSummary } from '../../shared/model';
import { TLS_PROFILES, type TlsProfile } from '../net/tls-profile';
import { DEFAULT_PORT, DEFAULT_SECURE_PORT, readCaFile, Service, UPSTREAM_SETTING, type RelayConfig } from '../app/service';
import { normalizeFingerprint, parseUpstreamUrl } from '../net/upstream-client';
import { KEYLOG_WARNING } from '../app/tls-keylog';
import { keyPoolIdleMsFromEnvironment, keyPoolSizeFromEnvironment } from '../pki';
import { dataDirOf, protectorFor, type CliIo } from './context';
import { freshDataDir, removeFreshDataDir } from './fresh-data-dir';
import { noPositionals, parseCli, UsageError, type Out } from './format';

export const SERVE_USAGE = `localdls serve [--data-dir D] [--host H] [--port N] [--tls modern|legacy]
               [--secure-port N] [--secure-tls modern|legacy] [--key-passphrase-file F]
               [--dcmp-port N] [--contact-gap S] [--no-auto-contact] [--contact-me-announce]
               [--ui [--ui-port N]] [--tls-keylog FILE]
               [--upstream https://HOST:PORT (--upstream-ca FILE | --upstream-fingerprint SHA256)…
                [--upstream-timeout S]] [--no-upstream] [--forget-upstream]

Runs the WPI service (Default Mode, HTTPS). When ready it prints one JSON line
  {"event":"listening","host":…,"port":…}
with the port actually bound (--port 0 picks a free one), then one JSON line per exchange.
Ctrl-C (SIGINT) or SIGTERM stops it cleanly.

Options:
  --data-dir D   where the database and the TLS identity live (default: $LOCALDLS_DATA_DIR or ~/.localdls)
  --host H       address to listen on (default 0.0.0.0, every interface)
  --port N       Default-Mode port (default ${DEFAULT_PORT})
  --tls P        TLS compatibility of the Default-Mode port:
                   modern  TLS 1.2 and newer (default, unless the app or web UI stored legacy
                           for this data directory: serve then says so on stderr, and
                           reports "tlsFrom" in its listening line)
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
  --tls-keylog FILE  append the TLS secrets of both WPI ports to FILE (NSS key-log format,
                 mode 0600), so Wireshark can decrypt a capture of the same session. Off by
                 default. Whoever reads the file can read every exchange: delete it after use.
  --ui           also serve the traffic inspector to a browser, on 127.0.0.1 only, with a
                 random token per run: open the address printed on stderr (also reported
                 as "ui" in the listening line). Needs the built UI (\`npm run build\`).
  --ui-port N    port of the web UI (default 0: any free port)

Relay mode (inspect an existing DLS; docs/relay.md):
  --upstream https://HOST:PORT
                 pass every phone request on to this DLS and its answer back unchanged,
                 recording both; LocalDLS queues and sends nothing itself. The listening line
                 says "relay":{"upstream":…} and "relayFrom":"flag". Without this flag, the
                 upstream chosen in the app's settings applies, if any ("relayFrom":"app",
                 and a notice on stderr).
  --upstream-ca FILE
                 PEM of the CA that signed the DLS's certificate (its host name is checked)
  --upstream-fingerprint SHA256
                 accept the DLS certificate with this SHA-256 fingerprint (repeatable); an
                 unknown certificate is refused, and the refusal shows its fingerprint
  --upstream-timeout S
                 seconds to wait for the DLS's whole answer (default 15); then the phone
                 gets 504 (502 at once when the DLS cannot be reached)
  --no-upstream  answer phones here even if the app's settings name an upstream
  --forget-upstream
                 forget the upstream chosen in the app (e.g. when its CA file is gone)
  Secure-Mode phones cannot be relayed (they trust only their DLS's CA); their attempts on the
  secure port are recorded as failed handshakes. DCMP polling is not relayed (no --dcmp-port).

Example:
  localdls serve --data-dir ./site-a --port 18443`;

function portOf(raw: string | undefined, fallback: number, flag = '--port'): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d{1,5}$/.test(raw) || n > 65535) throw new UsageError(`${flag} must be a number from 0 to 65535, not "${raw}"`);
  return n;
}

export async function serve(args: string[], io: CliIo): Promise<number> {
  const out: Out = io.out;
  const { values: v, positionals } = parseCli(args, {
    'data-dir': { type: 'string' }, host: { type: 'string' }, port: { type: 'string' }, tls: { type: 'string' }, 'dcmp-port': { type: 'string' },
    'contact-gap': { type: 'string' }, 'no-auto-contact': { type: 'boolean' }, 'contact-me-announce': { type: 'boolean' },
    ui: { type: 'boolean' }, 'ui-port': { type: 'string' },
    'secure-port': { type: 'string' }, 'secure-tls': { type: 'string' }, 'key-passphrase-file': { type: 'string' },
    upstream: { type: 'string' }, 'upstream-ca': { type: 'string' }, 'upstream-fingerprint': { type: 'string', multiple: true },
    'upstream-timeout': { type: 'string' }, 'no-upstream': { type: 'boolean' }, 'forget-upstream': { type: 'boolean' },
    'tls-keylog': { type: 'string' },
  });
  noPositionals(positionals);
  // Listened for before anything starts, not after the listening line: a supervisor that sends
  // SIGTERM as soon as it reads that line gets a clean stop, never the default action (Node sets up
  // a signal's handling only when its first listener is added, which took long enough after the
  // line for such a SIGTERM to kill the process). One that comes while the database is opened and
  // checked (seconds on a large store) stops it before any port is bound.
  let stopping = false;
  let stopped!: () => void;
  const stopAsked = new Promise<void>((resolve) => (stopped = resolve));
  const stopRequested = (): void => {
    stopping = true;
    stopped();
  };
  process.once('SIGINT', stopRequested);
  process.once('SIGTERM', stopRequested);
  try {
    // Without --tls / --secure-tls the profile chosen in the app (stored setting) applies, else modern.
    const secureTls = v['secure-tls'] as TlsProfile | undefined;
    if (secureTls !== undefined && !TLS_PROFILES.includes(secureTls)) throw new UsageError(`--secure-tls must be one of ${TLS_PROFILES.join(', ')}, not "${v['secure-tls']}"`);
    const securePort = portOf(v['secure-port'], DEFAULT_SECURE_PORT, '--secure-port');
    const port = portOf(v.port, DEFAULT_PORT);
    const dcmpPort = v['dcmp-port'] !== undefined ? portOf(v['dcmp-port'], 0, '--dcmp-port') : undefined;
    if (v['ui-port'] !== undefined && !v.ui) throw new UsageError('--ui-port needs --ui');
    const uiPort = portOf(v['ui-port'], 0, '--ui-port');
    const gapS = v['contact-gap'] === undefined ? 300 : Number(v['contact-gap']);
    if (!Number.isFinite(gapS) || gapS < 60 || gapS > 86_400) throw new UsageError(`--contact-gap must be seconds from 60 to 86400, not "${v['contact-gap']}"`);
    // Read from the environment here, so a wrong value stops serve before it binds anything.
    const keyPoolSize = keyPoolSizeFromEnvironment();
    const keyPoolIdleMs = keyPoolIdleMsFromEnvironment();
    const tls = v.tls as TlsProfile | undefined;
    if (tls !== undefined && !TLS_PROFILES.includes(tls)) throw new UsageError(`--tls must be one of ${TLS_PROFILES.join(', ')}, not "${v.tls}"`);
    const upstream = upstreamOf(v);
    if (v['tls-keylog'] === '') throw new UsageError('--tls-keylog needs a file name, e.g. --tls-keylog ./keys.log');
    let fresh = freshDataDir(dataDirOf(v['data-dir']));
    // After every argument is checked: a mistyped flag is said alone, not after Secure Mode's warning.
    // A relay has no Secure Mode of its own (its phones' is the DLS's): no warning that it is off.
    const keyProtector = protectorOrWarning(dataDirOf(v['data-dir']), v['key-passphrase-file'], upstream === undefined ? io : null);
    // A start that fails or is stopped before it listens takes back what it made (fresh-data-dir.ts).
    const takeBack = (): void => {
      const removed = removeFreshDataDir(fresh);
      if (removed) io.err(JSON.stringify({ event: 'notice', message: removed }));
    };
    const made = <T>(make: () => T): T => {
      try {
        return make();
      } catch (e) {
        takeBack();
        throw e;
      }
    };
    const service = made(() => new Service({
      dataDir: dataDirOf(v['data-dir']),
      keyPoolSize,
      keyPoolIdleMs,
      host: v.host ?? '0.0.0.0',
      port,
      ...(tls ? { tls } : {}),
      ...(dcmpPort !== undefined ? { dcmpPort } : {}),
      contact: { gapMs: gapS * 1000 },
      autoContact: !v['no-auto-contact'],
      announceInContactMe: v['contact-me-announce'] === true,
      ...(keyProtector ? { keyProtector, securePort, ...(secureTls ? { secureTls } : {}) } : {}),
      ...(upstream !== undefined ? { upstream } : {}),
      securePort,
      ...(v['tls-keylog'] ? { tlsKeyLog: v['tls-keylog'] } : {}),
      onError: (e) => io.err(JSON.stringify({ event: 'error', message: e.message })),
    }));
    // It waited for the folder's lock while another start, failing, took the folder back, and made
    // it again: that is this start's to take back (it had seen the folder made, so would keep it).
    if (service.store.remade) fresh = service.store.remade;
    if (v['tls-keylog']) io.err(JSON.stringify({ event: 'warning', message: `TLS key log ${v['tls-keylog']}: ${KEYLOG_WARNING}` }));
    for (const message of service.store.notices) io.err(JSON.stringify({ event: 'warning', message }));
    if (v['forget-upstream']) {
      service.store.setSetting(UPSTREAM_SETTING, '');
      io.err(JSON.stringify({ event: 'warning', message: 'forgot the relay upstream chosen in the app' }));
    }
    // A signal while the database was checked (a synchronous step): no start, a clean stop. Two
    // turns of the event loop: the signal is read in a poll phase, which one turn may not reach.
    for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
    if (stopping) {
      await service.stop();
      takeBack();
      out(JSON.stringify({ event: 'stopped' }));
      return 0;
    }
    let listening;
    let webUi: import('../bridge/serve-ui').WebUi | null = null;
    try {
      listening = await service.start();
      if (v.ui) {
        const { startWebUi } = await import('../bridge/serve-ui');
        webUi = await startWebUi(service, listening, { dataDir: dataDirOf(v['data-dir']), port: uiPort });
      }
    } catch (e) {
      await service.stop();
      takeBack();
      throw e;
    }
    // One write per PRINT_INTERVAL_MS (or PRINT_BATCH_MAX lines), not per exchange: writes to a
    // pipe are synchronous in Node, and under a boot storm one per exchange cost about as much as
    // parsing the messages. Lines stay in order.
    let lines: string[] = [];
    let printTimer: NodeJS.Timeout | undefined;
    const printLines = () => {
      clearTimeout(printTimer);
      if (lines.length > 0) out(lines.join('\n'));
      lines = [];
    };
    service.onExchange((x) => {
      const n = lines.push(JSON.stringify(exchangeLine(x)));
      if (n >= PRINT_BATCH_MAX) printLines();
      else if (n === 1) printTimer = setTimeout(printLines, PRINT_INTERVAL_MS);
    });
    const tlsFrom = tlsSources(service, { default: tls, secure: secureTls }, listening.securePort !== undefined);
    const { bootstrapNotes, ...listeningLine } = listening;
    // Where relay mode came from, as for TLS: a flag, or the app's stored choice (which nothing on
    // the command line shows, so it is said: helper-61 found serve relaying without a word).
    const relayFrom = listeningLine.relay ? (upstream !== undefined ? 'flag' : 'app') : undefined;
    out(JSON.stringify({ event: 'listening', ...listeningLine, ...(relayFrom ? { relayFrom } : {}), dataDir: dataDirOf(v['data-dir']), tlsFrom: tlsFrom.sources, ...(webUi ? { ui: webUi.url } : {}) }));
    for (const message of tlsFrom.notices) io.err(JSON.stringify({ event: 'notice', message }));
    if (relayFrom) {
      // Jobs queued before (from the CLI, or a run without relay) are held, not lost: say so (helper-61).
      const held = service.store.jobs.waitingCount();
      if (held > 0) io.err(JSON.stringify({ event: 'notice', message: `${held} job${held === 1 ? '' : 's'} queued wait${held === 1 ? 's' : ''}: LocalDLS sends none while it relays; they go out when it answers phones itself again (--no-upstream), or cancel them (localdls job cancel)` }));
    }
    if (relayFrom === 'app') {
      io.err(JSON.stringify({ event: 'notice', message: `relaying to ${listeningLine.relay!.upstream}, as chosen in the app (Setup › Relay): --no-upstream answers phones here for this run, --forget-upstream forgets the choice` }));
    }
    for (const message of bootstrapNotes ?? []) io.err(JSON.stringify({ event: 'warning', message }));
    if (webUi) io.err(`LocalDLS web UI: ${webUi.url}`);
    await stopAsked;
    try {
      try {
        // Its bootstrap runs' phones being prepared are finished before the store closes.
        await webUi?.close();
      } finally {
        // Closed (its WAL checkpointed, the folder's lock released) even if the web UI's close failed.
        await service.stop();
      }
    } finally {
      // The lines of the last exchanges, before `stopped` or the error that stopped it.
      printLines();
    }
    out(JSON.stringify({ event: 'stopped' }));
    return 0;
  } finally {
    process.off('SIGINT', stopRequested);
    process.off('SIGTERM', stopRequested);
  }
}

type TlsSource = 'flag' | 'stored' | 'default';

/**
 * Where each listener's TLS profile came from. The desktop app, the web UI and `serve` on one data
 * directory are one site: a profile chosen in the UI is stored there and used by the next
 * `serve` too, unless --tls / --secure-tls say otherwise. So that this is never silent, `serve`
 * reports the source in its listening line and says on stderr when a stored choice applies.
 */
function tlsSources(service: Service, flags: { default: TlsProfile | undefined; secure: TlsProfile | undefined }, secureRuns: boolean) {
  const sources: Partial<Record<'default' | 'secure', TlsSource>> = {};
  const notices: string[] = [];
  const file = `${service.store.dataDir}/localdls.sqlite`;
  for (const [listener, flag, option] of [['default', flags.default, '--tls'], ['secure', flags.secure, '--secure-tls']] as const) {
    if (listener === 'secure' && !secureRuns) continue;
    const stored = service.storedTlsProfile(listener);
    sources[listener] = flag ? 'flag' : stored ? 'stored' : 'default';
    if (!flag && stored) {
      const name = listener === 'default' ? 'Default-Mode' : 'Secure-Mode';
      notices.push(`the ${name} port uses ${stored} TLS, as chosen in the app or web UI (stored in ${file}); ${option} ${stored === 'legacy' ? 'modern' : 'legacy'} overrides it for this run`);
    }
  }
  return { sources, notices };
}

interface UpstreamFlags {
  upstream?: string;
  'upstream-ca'?: string;
  'upstream-fingerprint'?: string[];
  'upstream-timeout'?: string;
  'no-upstream'?: boolean;
  'dcmp-port'?: string;
}

/** The relay flags: undefined = as set in the app, null = --no-upstream. */
function upstreamOf(v: UpstreamFlags): RelayConfig | null | undefined {
  const dependent = (['upstream-ca', 'upstream-fingerprint', 'upstream-timeout'] as const).find((f) => v[f] !== undefined);
  if (v['no-upstream']) {
    if (v.upstream !== undefined || dependent) throw new UsageError(`--no-upstream cannot be combined with --${v.upstream !== undefined ? 'upstream' : dependent}`);
    return null;
  }
  if (v.upstream === undefined) {
    if (dependent) throw new UsageError(`--${dependent} needs --upstream https://HOST:PORT`);
    return undefined;
  }
  try {
    parseUpstreamUrl(v.upstream);
  } catch (e) {
    throw new UsageError(`--upstream: ${(e as Error).message}`);
  }
  if (v['dcmp-port'] !== undefined) throw new UsageError('--dcmp-port cannot be combined with --upstream: DCMP polling is not relayed; let the phones poll the DLS directly (docs/relay.md)');
  const fingerprints = (v['upstream-fingerprint'] ?? []).map((raw) => {
    const f = normalizeFingerprint(raw);
    if (!f) throw new UsageError(`--upstream-fingerprint "${raw.slice(0, 100)}" is not a SHA-256 fingerprint (64 hex digits, colons optional)`);
    return f;
  });
  let timeoutMs: number | undefined;
  if (v['upstream-timeout'] !== undefined) {
    const s = Number(v['upstream-timeout']);
    if (!Number.isFinite(s) || s < 0.1 || s > 600) throw new UsageError(`--upstream-timeout must be seconds from 0.1 to 600, not "${v['upstream-timeout']}"`);
    timeoutMs = Math.round(s * 1000);
  }
  let ca: RelayConfig['ca'];
  if (v['upstream-ca'] !== undefined) {
    try {
      ca = { pem: readCaFile(v['upstream-ca']), file: v['upstream-ca'] };
    } catch (e) {
      throw new UsageError(`--upstream-ca: ${(e as Error).message}`);
    }
  }
  return { url: v.upstream, fingerprints, ...(ca ? { ca } : {}), ...(timeoutMs !== undefined ? { timeoutMs } : {}) };
}

/** Secure Mode needs the key passphrase; without it the service runs Default Mode only and says why. */
function protectorOrWarning(dataDir: string, passphraseFile: string | undefined, io: CliIo | null) {
  try {
    return protectorFor(dataDir, passphraseFile);
  } catch (e) {
    if (passphraseFile !== undefined) throw e;
    io?.err(JSON.stringify({ event: 'warning', message: `Secure Mode is off: ${(e as Error).message}` }));
    return undefined;
  }
}

/** How long an exchange line may wait to be written with the ones after it… */
export const PRINT_INTERVAL_MS = 100;
/** … and how many may wait (a write larger than a pipe's buffer would block until it is read). */
export const PRINT_BATCH_MAX = 100;

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
    ...(x.refusedItems ? { refusedItems: x.refusedItems } : {}),
    action: x.action,
    http: x.httpStatus,
    ms: x.ended - x.started,
    tls: x.tlsProtocol,
    cipher: x.tlsCipher,
    ...(x.error ? { error: x.error } : {}),
    ...(x.warning ? { warning: x.warning } : {}),
  };
}

