/** `localdls traffic`: the recorded exchanges, followed live, and purging old ones. */
import type { ExchangeSummary } from '../../shared/model';
import * as commands from '../commands';
import { cliContext, openStore, withContext, type CliIo } from './context';
import { macOf, noPositionals, parseCli, UsageError } from './format';

export const TRAFFIC_USAGE = `localdls traffic [--data-dir D] [--mac M] [--limit N] [--follow] [--json]
       localdls traffic purge --older-than <N>d|<N>h [--data-dir D] [--json]

Lists the newest exchanges (default 50), oldest first. --follow keeps printing new ones
while \`serve\` runs, until Ctrl-C.

purge deletes the exchanges older than the given age (days or hours), and the finished
interactions nothing refers to any more, in small batches: \`serve\` may keep running.
It prints how many rows were removed and how much space was freed.

Examples:
  localdls traffic --data-dir ./site-a --follow
  localdls traffic purge --data-dir ./site-a --older-than 30d`;

export async function trafficCommand(args: string[], io: CliIo): Promise<number> {
  if (args[0] === 'purge') return trafficPurge(args.slice(1), io);
  const { values: v, positionals } = parseCli(args, { 'data-dir': { type: 'string' }, mac: { type: 'string' }, limit: { type: 'string' }, follow: { type: 'boolean' }, json: { type: 'boolean' } });
  noPositionals(positionals);
  const limit = v.limit === undefined ? 50 : Number(v.limit);
  if (!/^\d{1,5}$/.test(v.limit ?? '50') || limit < 1 || limit > 10_000) throw new UsageError(`--limit must be a whole number from 1 to 10000, not "${v.limit}"`);
  const mac = v.mac === undefined ? undefined : macOf(v.mac);
  const store = openStore(v['data-dir'], 'read');
  const ctx = cliContext(store);
  const print = (x: ExchangeSummary) => io.out(v.json ? JSON.stringify(x) : trafficLine(x));
  try {
    const rows = await commands.recentTraffic(ctx, { ...(mac ? { mac } : {}), limit });
    rows.forEach(print);
    if (!v.follow) return 0;
    let last = rows.at(-1)?.id ?? store.exchanges({ limit: 1 })[0]?.id ?? 0;
    await new Promise<void>((done) => {
      const timer = setInterval(() => {
        void commands.recentTraffic(ctx, { ...(mac ? { mac } : {}), afterId: last, limit: 1000 }).then((next) => {
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
    });
  } finally {
    store.close();
  }
  return 0;
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
        event: 'purged', exchanges: r.exchanges, interactions: r.interactions, before: new Date(before).toISOString(), seconds: Math.round(seconds * 10) / 10,
        returnedBytes: r.vacuumedPages * r.pageSize, freeBytes: r.freePages * r.pageSize,
      }));
    } else {
      const space = r.vacuumedPages > 0 ? `; ${mb(r.vacuumedPages)} MB given back to the file system` : r.freePages > 0 ? `; ${mb(r.freePages)} MB free inside the database for new traffic` : '';
      out(`removed ${r.exchanges} exchanges and ${r.interactions} interactions older than ${v['older-than']} (before ${new Date(before).toISOString()}) in ${seconds.toFixed(1)} s${space}`);
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
  const time = new Date(x.started).toISOString().slice(11, 23);
  if (x.kind === 'tls-failure') {
    return `${String(x.id).padStart(6)} ${time} ${x.listener.padEnd(10)} ${'-'.padEnd(17)} ${x.peerAddress.padEnd(15)} ${x.error}${x.warning ? `  hint: ${x.warning}` : ''}`;
  }
  const what = x.reason ? `${x.reason}${x.replyAction ? ` ${x.replyAction}/${x.replyStatus ?? ''}` : ''}${x.fragment === 'next' ? ' (fragment)' : ''}` : `${x.method} ${x.path}`;
  const answer = x.action ?? `HTTP ${x.httpStatus}`;
  const note = x.error ? `  ! ${x.error}` : x.warning ? `  ⚠ ${x.warning}` : '';
  return `${String(x.id).padStart(6)} ${time} ${x.listener.padEnd(10)} ${(x.mac ?? '-').padEnd(17)} ${x.peerAddress.padEnd(15)} ${what} -> ${answer} [${x.itemCount} items, ${x.requestBytes}/${x.responseBytes} B, ${x.ended - x.started} ms, ${x.tlsProtocol ?? 'no TLS'}]${note}`;
}

