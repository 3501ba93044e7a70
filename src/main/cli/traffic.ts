/** `localdls traffic`: the recorded exchanges (filtered), followed live, exported, and purging old ones. */
import { statSync, writeFileSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { ExchangeFilter } from '../../shared/api';
import { EXCHANGE_KINDS, LIMITS, LISTENER_KINDS } from '../../shared/constants';
import { searchableText, TEXT_TOO_SHORT } from '../../shared/free-text';
import { statusFilter } from '../../shared/status-filter';
import { REPLY_STATUSES } from '../wpi';
import type { ExchangeSummary } from '../../shared/model';
import * as commands from '../commands';
import { accessError, isDanglingLink } from '../files/private-files';
import { cliContext, openStore, withContext, type CliIo } from './context';
import { macOf, noPositionals, parseCli, UsageError } from './format';

export const TRAFFIC_USAGE = `localdls traffic [list] [--data-dir D] [FILTERS] [--limit N] [--follow] [--json]
       localdls traffic export --format har|json --output FILE [--force] [--data-dir D] [FILTERS]
       localdls traffic purge --older-than <N>d|<N>h [--data-dir D] [--json]

Lists the newest exchanges (default 50), oldest first. --follow keeps printing new ones
while \`serve\` runs, until Ctrl-C.

FILTERS, the same as the traffic view's (list and export take them alike):
  --mac M            one device (any MAC spelling)
  --device TEXT      part of a MAC or a peer address
  --reason R         the phone's ReasonForContact (start-up, solicited, reply-to, …)
  --action A         our answer's Action (WriteItems, CleanUp, …)
  --status S         200, 4xx, an HTTP status, or a reply status (accepted, failed, busy, tls)
  --listener L       ${LISTENER_KINDS.join(', ')}
  --kind K           ${EXCHANGE_KINDS.join(', ')}
  --errors           only refusals, failed handshakes, HTTP >= 400, failed replies (not busy) and
                     replies that refuse items of a write
  --interaction N    one interaction
  --text T           text in the bodies or the summary fields (3 characters or more)

export writes every exchange the filters select to FILE as HAR 1.2 (opens in browser
developer tools and most HTTP tools) or as JSON, secret item values masked. Failed TLS
handshakes, which have no HTTP, go to the HAR's "_tlsErrors". A FILE that exists is left
as it is unless --force is given.

purge deletes the exchanges older than the given age (days or hours), the finished
interactions nothing refers to any more, and the item history those exchanges recorded
(a device's current items stay), in small batches: \`serve\` may keep running.
It prints how many rows were removed and how much space was freed.

Examples:
  localdls traffic --data-dir ./site-a --follow
  localdls traffic list --data-dir ./site-a --errors --limit 20
  localdls traffic export --data-dir ./site-a --mac 00:1A:E8:00:00:01 --format har --output phone.har
  localdls traffic purge --data-dir ./site-a --older-than 30d`;

/** The filter flags, shared by list and export. */
const FILTER_OPTIONS = {
  mac: { type: 'string' }, device: { type: 'string' }, reason: { type: 'string' }, action: { type: 'string' }, status: { type: 'string' },
  listener: { type: 'string' }, kind: { type: 'string' }, errors: { type: 'boolean' }, interaction: { type: 'string' }, text: { type: 'string' },
} as const;

type FilterValues = { [K in keyof typeof FILTER_OPTIONS]?: (typeof FILTER_OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

/** The ExchangeFilter of the flags; the command checks it (same words as the UI's). */
function filterOf(v: FilterValues): ExchangeFilter {
  if (v.mac !== undefined && v.device !== undefined) throw new UsageError('give --mac or --device, not both');
  if (v.interaction !== undefined && !/^\d{1,15}$/.test(v.interaction)) throw new UsageError(`--interaction must be an interaction id (a whole number), not "${v.interaction}"`);
  if (v.listener !== undefined && !(LISTENER_KINDS as readonly string[]).includes(v.listener)) throw new UsageError(`--listener must be one of ${LISTENER_KINDS.join(', ')}, not "${v.listener}"`);
  if (v.kind !== undefined && !(EXCHANGE_KINDS as readonly string[]).includes(v.kind)) throw new UsageError(`--kind must be one of ${EXCHANGE_KINDS.join(', ')}, not "${v.kind}"`);
  // The command layer's rule, in the CLI's words (its message names the API's field filter.text).
  if (v.text !== undefined && !searchableText(v.text)) throw new UsageError(`--text ${TEXT_TOO_SHORT}`);
  const filter: ExchangeFilter = {};
  if (v.mac !== undefined) filter.device = macOf(v.mac);
  if (v.device !== undefined) filter.device = v.device;
  if (v.reason !== undefined) filter.reason = v.reason;
  if (v.action !== undefined) filter.action = v.action;
  if (v.status !== undefined) filter.status = v.status.trim();
  if (v.listener !== undefined) filter.listener = v.listener as ExchangeFilter['listener'];
  if (v.kind !== undefined) filter.kind = v.kind as ExchangeFilter['kind'];
  if (v.errors) filter.errorsOnly = true;
  if (v.interaction !== undefined) filter.interactionId = Number(v.interaction);
  if (v.text !== undefined) filter.text = v.text;
  return filter;
}

/**
 * What --status would not find as meant: an empty one is refused; a word that is no HTTP status
 * and no reply status a phone sends is still looked for (a firmware may send another), with a note
 * (helper-77: `--status bogus` listed nothing without a word).
 */
function statusNote(status: string | undefined): string | null {
  if (status === undefined) return null;
  const s = statusFilter(status);
  const values = `200, 4xx, ${REPLY_STATUSES.join(', ')} or tls`;
  if (s.kind === 'reply' && s.status === '') throw new UsageError(`--status needs a value: ${values}`);
  if (status.trim().length > LIMITS.field) throw new UsageError(`--status must be at most ${LIMITS.field} characters: ${values}`);
  if (s.kind !== 'reply' || (REPLY_STATUSES as readonly string[]).includes(s.status)) return null;
  const said = s.status.length > 40 ? `${s.status.slice(0, 40)}…` : s.status;
  return `note: --status "${said}" is no HTTP status (200, 4xx) and no reply status the phones send (${REPLY_STATUSES.join(', ')}, or tls for failed handshakes): listing the exchanges whose reply says "${said}"`;
}

const pick = (v: Record<string, unknown>): FilterValues => Object.fromEntries(Object.keys(FILTER_OPTIONS).filter((k) => v[k] !== undefined).map((k) => [k, v[k]])) as FilterValues;

export async function trafficCommand(args: string[], io: CliIo): Promise<number> {
  if (args[0] === 'purge') return trafficPurge(args.slice(1), io);
  if (args[0] === 'export') return trafficExport(args.slice(1), io);
  const { values: v, positionals } = parseCli(args[0] === 'list' ? args.slice(1) : args, {
    'data-dir': { type: 'string' }, ...FILTER_OPTIONS, limit: { type: 'string' }, follow: { type: 'boolean' }, json: { type: 'boolean' },
  });
  noPositionals(positionals);
  const limit = v.limit === undefined ? 50 : Number(v.limit);
  if (!/^\d{1,5}$/.test(v.limit ?? '50') || limit < 1 || limit > 10_000) throw new UsageError(`--limit must be a whole number from 1 to 10000, not "${v.limit}"`);
  const filter = filterOf(pick(v));
  const note = statusNote(v.status);
  if (note) io.err(note);
  const store = openStore(v['data-dir'], 'read');
  const ctx = cliContext(store);
  const print = (x: ExchangeSummary) => io.out(v.json ? JSON.stringify(x) : trafficLine(x));
  // The newest `limit` matching rows, oldest first (in pages of at most 5000, further back each
  // time); then (follow) the matching rows after the last.
  const newest = async () => {
    let rows: ExchangeSummary[] = [];
    for (;;) {
      const want = Math.min(5000, limit - rows.length);
      const got = await commands.listExchanges(ctx, filter, { limit: want, counts: false, ...(rows[0] ? { beforeId: rows[0].id } : {}) });
      rows = [...got.exchanges, ...rows];
      if (!got.hasOlder || rows.length >= limit) return rows;
    }
  };
  const page = async (afterId: number) => (await commands.listExchanges(ctx, filter, { limit: 1000, counts: false, afterId })).exchanges;
  try {
    const rows = await newest();
    rows.forEach(print);
    if (!v.follow) return 0;
    // Only a running service stores exchanges: without one, following would wait in silence (helper-77).
    const noService = !(await commands.serviceRunning(ctx));
    let last = Math.max(rows.at(-1)?.id ?? 0, store.exchanges({ limit: 1 })[0]?.id ?? 0);
    await new Promise<void>((done) => {
      const timer = setInterval(() => {
        void page(last).then((next) => {
          for (const x of next) {
            print(x);
            last = x.id;
          }
        });
      }, 300);
      const stop = () => {
        clearInterval(timer);
        done();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      // Said once Ctrl-C is handled, as it says.
      if (noService) io.err('no service seems to run on this data folder: new exchanges show once `localdls serve` (or the desktop app) runs on it; Ctrl-C stops');
    });
  } finally {
    store.close();
  }
  return 0;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** What the file holds, exactly: in HAR the failed handshakes are not entries (no HTTP happened). */
export function exportMessage(format: 'har' | 'json', count: number, tlsFailures: number, output: string): string {
  if (format === 'har' && tlsFailures > 0) {
    return `wrote ${plural(count - tlsFailures, 'exchange', 'exchanges')} as HAR entries and ${plural(tlsFailures, 'failed TLS handshake', 'failed TLS handshakes')} in log._tlsErrors (HAR has no place for them) to ${output} (secret item values masked)`;
  }
  const failed = tlsFailures > 0 ? ` (${tlsFailures} of them failed TLS handshakes)` : '';
  return `wrote ${plural(count, 'exchange', 'exchanges')}${failed} as ${format.toUpperCase()} to ${output} (secret item values masked)`;
}

/**
 * How the export is written to `output`, checked before it is built: a file there is kept unless
 * --force (helper-77); a folder or a link to nothing is said as such (helper-79: both were "exists",
 * and --force then failed, or wrote through the link); a device or a pipe (/dev/stdout, a FIFO) is
 * written to.
 */
function exportFlag(output: string, force: boolean): 'w' | 'wx' {
  let st: Stats;
  try {
    st = statSync(output);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw accessError(e, output, 'write the export to');
    if (isDanglingLink(output)) throw new Error(`${output} is a link to a file that does not exist: give another --output`);
    return 'wx';
  }
  if (st.isDirectory()) throw new Error(`${output} is a folder: give a file name, e.g. --output ${join(output, 'traffic.har')}`);
  if (st.isFile() && !force) throw exists(output);
  return 'w';
}

const exists = (output: string): Error => new Error(`${output} exists: give another --output, or --force to replace it`);

async function trafficExport(args: string[], io: CliIo): Promise<number> {
  const { values: v, positionals } = parseCli(args, { 'data-dir': { type: 'string' }, ...FILTER_OPTIONS, format: { type: 'string' }, output: { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' } });
  noPositionals(positionals);
  if (v.format !== 'har' && v.format !== 'json') throw new UsageError(v.format === undefined ? '--format is required: har or json' : `--format must be har or json, not "${v.format}"`);
  if (!v.output) throw new UsageError('--output is required: the file to write, e.g. --output traffic.har');
  const filter = filterOf(pick(v));
  const note = statusNote(v.status);
  if (note) io.err(note);
  const flag = exportFlag(v.output, v.force === true);
  const store = openStore(v['data-dir'], 'read');
  try {
    const result = await commands.exportTraffic(cliContext(store), filter, v.format);
    try {
      // 'wx': a file made there while the export was built is not replaced either.
      writeFileSync(v.output, result.content, { mode: 0o600, flag });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw exists(v.output);
      throw accessError(e, v.output, 'write the export to');
    }
    if (v.json) io.out(JSON.stringify({ event: 'exported', format: v.format, count: result.count, tlsFailures: result.tlsFailures, output: v.output }));
    else io.out(exportMessage(v.format, result.count, result.tlsFailures, v.output));
    return 0;
  } finally {
    store.close();
  }
}

async function trafficPurge(args: string[], io: CliIo): Promise<number> {
  const { values: v, positionals } = parseCli(args, { 'data-dir': { type: 'string' }, 'older-than': { type: 'string' }, json: { type: 'boolean' } });
  noPositionals(positionals);
  const out = io.out;
  if (v['older-than'] === undefined) throw new UsageError('--older-than is required, e.g. --older-than 30d');
  const age = ageMs(v['older-than']);
  const before = Date.now() - age;
  const started = performance.now();
  return withContext(v['data-dir'], 'write', {}, async (ctx) => {
    const r = await commands.purgeTraffic(ctx, before);
    const seconds = (performance.now() - started) / 1000;
    const mb = (pages: number) => ((pages * r.pageSize) / 1024 / 1024).toFixed(1);
    if (v.json) {
      out(JSON.stringify({
        event: 'purged', exchanges: r.exchanges, interactions: r.interactions, itemChanges: r.itemChanges, before: new Date(before).toISOString(), seconds: Math.round(seconds * 10) / 10,
        returnedBytes: r.vacuumedPages * r.pageSize, freeBytes: r.freePages * r.pageSize,
      }));
    } else {
      const space = r.vacuumedPages > 0 ? `; ${mb(r.vacuumedPages)} MB given back to the file system` : r.freePages > 0 ? `; ${mb(r.freePages)} MB free inside the database for new traffic` : '';
      out(`removed ${r.exchanges} exchanges, ${r.interactions} interactions and ${r.itemChanges} item history rows older than ${v['older-than']} (before ${new Date(before).toISOString()}) in ${seconds.toFixed(1)} s${space}`);
    }
    return 0;
  });
}

/** `30d` or `12h` in ms. */
function ageMs(raw: string): number {
  const m = /^(\d{1,5})([dh])$/.exec(raw.trim());
  if (!m || Number(m[1]) === 0) throw new UsageError(`--older-than must be a number of days or hours, e.g. 30d or 12h, not "${raw}"`);
  return Number(m[1]) * (m[2] === 'd' ? 86_400_000 : 3_600_000);
}

function trafficLine(x: ExchangeSummary): string {
  // UTC, and said so (Z): the README promises the CLI names its zone.
  const time = `${new Date(x.started).toISOString().slice(11, 23)}Z`;
  if (x.kind === 'tls-failure') {
    return `${String(x.id).padStart(6)} ${time} ${x.listener.padEnd(10)} ${'-'.padEnd(17)} ${x.peerAddress.padEnd(15)} ${x.error}${x.warning ? `  hint: ${x.warning}` : ''}`;
  }
  const what = x.reason ? `${x.reason}${x.replyAction ? ` ${x.replyAction}/${x.replyStatus ?? ''}` : ''}${x.fragment === 'next' ? ' (fragment)' : ''}` : `${x.method} ${x.path}`;
  const answer = x.action ?? `HTTP ${x.httpStatus}`;
  const refused = x.refusedItems ? `  ! the phone refused ${x.refusedItems} item${x.refusedItems > 1 ? 's' : ''} of the write` : '';
  const note = x.error ? `  ! ${x.error}` : `${refused}${x.warning ? `  ⚠ ${x.warning}` : ''}`;
  return `${String(x.id).padStart(6)} ${time} ${x.listener.padEnd(10)} ${(x.mac ?? '-').padEnd(17)} ${x.peerAddress.padEnd(15)} ${what} -> ${answer} [${x.itemCount} items, ${x.requestBytes}/${x.responseBytes} B, ${x.ended - x.started} ms, ${x.tlsProtocol ?? 'no TLS'}]${note}`;
}

