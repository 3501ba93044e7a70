/** `localdls rollout`: bulk jobs and bootstraps as rollouts (how many phones are where), and retrying the failed ones. */
import type { Rollout, RolloutSummary } from '../../shared/api';
import { ROLLOUT_PHASES } from '../../shared/api';
import { RolloutId } from '../../shared/api-args';
import { clipped } from '../../shared/quote';
import * as valibot from 'valibot';
import { pinSheet } from '../app/bootstrap';
import * as commands from '../commands';
import { writePrivateFile } from '../files/private-files';
import { withContext, type CliIo } from './context';
import { noPositionals, parseCli, sheetFormatOf, table, UsageError } from './format';

export const ROLLOUT_USAGE = `localdls rollout [list] [--data-dir D] [--json]
       localdls rollout show <ID> [--data-dir D] [--json]
       localdls rollout retry <ID> [--sheet FILE.csv|FILE.html] [--key-passphrase-file F]
                                   [--data-dir D] [--json]

A rollout is a job queued for several phones at once (\`job add\` with several --mac, or
"Write items" on a selection), or a bootstrap of several phones (\`bootstrap --all\`, the
app's bootstrap wizard). list shows them, newest first, with how many phones are
${ROLLOUT_PHASES.join(', ')}
(pin: the phone took its PIN bootstrap and waits for someone to type the PIN).
show lists each phone with its job and, when it failed, why. retry queues the failed jobs again (not cancelled ones); the retries form a rollout of
their own. Retrying a bootstrap gives each failed phone a new certificate and, with PINs, a
new PIN (needs the key passphrase; --sheet writes the new PINs, \`bootstrap --sheet\` later).

Examples:
  localdls rollout --data-dir ./site-a
  localdls rollout retry j1764151200000-WriteItems --data-dir ./site-a
  LOCALDLS_KEY_PASSPHRASE=… localdls rollout retry j1764151200000-Bootstrap --sheet pins.csv`;

const counts = (r: RolloutSummary) => ROLLOUT_PHASES.map((p) => String(r.counts[p]));

export async function rolloutCommand(args: string[], io: CliIo): Promise<number> {
  const sub = args[0] === 'show' || args[0] === 'retry' || args[0] === 'list' ? args[0] : null;
  const { values: v, positionals } = parseCli(sub ? args.slice(1) : args, {
    'data-dir': { type: 'string' }, json: { type: 'boolean' }, 'key-passphrase-file': { type: 'string' }, sheet: { type: 'string' },
  });
  if (sub === 'show' || sub === 'retry') {
    if (positionals.length !== 1) throw new UsageError(`rollout ${sub} takes one rollout id, e.g. j1764151200000-WriteItems (see \`localdls rollout\`)`);
  } else noPositionals(positionals);
  if (v.sheet !== undefined && sub !== 'retry') throw new UsageError('--sheet is for `rollout retry` of a bootstrap with PINs');
  const sheetFormat = v.sheet === undefined ? undefined : sheetFormatOf(v.sheet);
  const id = positionals[0] ?? '';
  // The command layer's own rule, in the CLI's words (its message names the API's argument "id").
  if ((sub === 'show' || sub === 'retry') && !valibot.safeParse(RolloutId, id).success) throw new UsageError(`"${clipped(id)}" is not a rollout id (j<time>-<kind> or b-<run>): \`localdls rollout\` lists them`);
  const passphrase = v['key-passphrase-file'] !== undefined ? { passphraseFile: v['key-passphrase-file'] } : {};
  return withContext(v['data-dir'], sub === 'retry' ? 'write' : 'read', passphrase, async (ctx) => {
    if (sub === 'show') {
      const r: Rollout = await commands.getRollout(ctx, id);
      if (v.json) io.out(JSON.stringify(r));
      else {
        io.out(`${r.id}  ${r.jobKind} to ${r.total} phones, started ${new Date(r.started).toISOString()}${r.finished ? ', finished' : ''}`);
        io.out(table(['MAC', 'PHASE', 'JOB', 'STATE', 'INTERACTION', 'ERROR'], r.devices.map((d) => [d.mac, d.phase, String(d.jobId ?? '-'), d.jobState ?? '-', String(d.interactionId ?? '-'), d.error ?? ''])));
      }
      return 0;
    }
    if (sub === 'retry') {
      const r = await commands.retryFailed(ctx, id);
      if (v.json) io.out(JSON.stringify(r));
      else {
        io.out(r.retried ? `queued ${r.retried} failed job${r.retried === 1 ? '' : 's'} again as rollout ${r.rolloutId}` : 'nothing retried: no failed phone in this rollout that can be retried');
        for (const s of r.skipped) io.out(`  skipped ${s.mac}: ${s.reason}`);
      }
      if (r.rolloutId && r.rolloutId.endsWith('-Bootstrap')) await newPins(ctx, r.rolloutId, v.sheet, sheetFormat, io);
      return 0;
    }
    const list = await commands.listRollouts(ctx);
    if (v.json) for (const r of list) io.out(JSON.stringify(r));
    else if (list.length === 0) io.out('no rollouts yet: a job queued for several phones at once, or a bootstrap of several phones, is one');
    else io.out(table(['ID', 'KIND', 'STARTED', 'PHONES', ...ROLLOUT_PHASES.map((p) => p.toUpperCase())], list.map((r) => [r.id, r.jobKind, new Date(r.started).toISOString(), String(r.total), ...counts(r)])));
    return 0;
  });
}

/** The PINs a bootstrap retry made: on the sheet asked for, or where to get them. */
async function newPins(ctx: commands.CommandContext, rolloutId: string, sheet: string | undefined, format: 'csv' | 'html' | undefined, io: CliIo): Promise<void> {
  const jobs = (await commands.getRollout(ctx, rolloutId)).devices.map((d) => d.jobId);
  const { rows } = await commands.pendingPinSheet(ctx);
  // In the rollout's order (by MAC), like its table.
  const mine = rows.filter((row) => jobs.includes(row.jobId)).sort((a, b) => jobs.indexOf(a.jobId) - jobs.indexOf(b.jobId));
  if (mine.length === 0) return; // without PINs
  if (!sheet || !format) {
    io.err(`the retried phones have new PINs: \`localdls bootstrap --sheet FILE.csv\` writes them (with every PIN bootstrap under way)`);
    return;
  }
  writePrivateFile(sheet, pinSheet(mine, format));
  io.err(`PIN sheet written to ${sheet} (keep it private): ${mine.length} phone${mine.length === 1 ? '' : 's'} of rollout ${rolloutId}`);
}
