/** `localdls contact`: contact-me now, so phones call back (within their contact gap). */
import * as commands from '../commands';
import { Contacts, MIN_GAP_MS } from '../app/contact';
import { cliContext, openStore, type CliIo } from './context';
import { macOf, noPositionals, parseCli, UsageError } from './format';

export const CONTACT_USAGE = `localdls contact (--mac M | --all) [--data-dir D] [--json] [--contact-gap S]

Sends contact-me (HTTP POST to the phone's contact-me-uri, port 8085) so the phone calls back
now. Phones ignore a second contact-me within their contact gap (default 300 s) and may crash
when contacted more than once a minute: LocalDLS refuses to send within the gap and says when
the next one may go. --all contacts every phone with waiting jobs, 10 at a time.

Example:
  localdls contact --mac 00:1A:E8:00:00:01`;

export async function contactCommand(args: string[], io: CliIo): Promise<number> {
  const { values: o, positionals } = parseCli(args, { 'data-dir': { type: 'string' }, mac: { type: 'string' }, all: { type: 'boolean' }, json: { type: 'boolean' }, 'contact-gap': { type: 'string' } });
  noPositionals(positionals);
  const gap = o['contact-gap'] === undefined ? undefined : Number(o['contact-gap']) * 1000;
  if (gap !== undefined && !(Number.isFinite(gap) && gap >= MIN_GAP_MS)) throw new UsageError(`--contact-gap must be at least ${MIN_GAP_MS / 1000} seconds`);
  if (o.mac && o.all) throw new UsageError('give --mac or --all, not both');
  if (!o.mac && !o.all) throw new UsageError('--mac M or --all is required');
  const mac = o.mac === undefined ? undefined : macOf(o.mac);
  const store = openStore(o['data-dir'], 'write');
  try {
    const base = cliContext(store);
    const macs = mac ? [mac] : await commands.devicesWithWaitingJobs(base);
    if (macs.length === 0) {
      io.out('no phones with waiting jobs');
      return 0;
    }
    let sent = 0;
    const ctx = cliContext(store, {
      contacts: new Contacts(store, gap ? { gapMs: gap } : {}),
      contactProgress: (r) => {
        sent++;
        const failed = r.failedJobs?.length ? `; ${r.failures} failures in a row: job${r.failedJobs.length > 1 ? 's' : ''} ${r.failedJobs.join(', ')} failed (phone unreachable)` : r.failures ? ` (${r.failures} in a row)` : '';
        const line = r.ok ? `${r.mac}: contact-me answered 204, the phone will call back` : `${r.mac}: ${r.skipped ? `not sent: ${r.skipped}` : `failed: ${r.error}${failed}`}`;
        io.out(o.json ? JSON.stringify({ event: 'contact', ...r, done: sent, total: macs.length }) : `[${sent}/${macs.length}] ${line}`);
      },
    });
    const results = await commands.contactNow(ctx, macs);
    return results.every((r) => r.ok) ? 0 : 1;
  } finally {
    store.close();
  }
}
