/** `localdls rollout`: bulk jobs as rollouts (how many phones are where), and retrying the failed ones. */
import type { Rollout, RolloutSummary } from '../../shared/api';
import { ROLLOUT_PHASES } from '../../shared/api';
import * as commands from '../commands';
import { withContext, type CliIo } from './context';
import { noPositionals, parseCli, table, UsageError } from './format';

export const ROLLOUT_USAGE = `localdls rollout [list] [--data-dir D] [--json]
       localdls rollout show <ID> [--data-dir D] [--json]
       localdls rollout retry <ID> [--data-dir D] [--json]

A rollout is a job queued for several phones at once (\`job add\` with several --mac, or
"Write items" on a selection): list shows them, newest first, with how many phones are
${ROLLOUT_PHASES.join(', ')}. show lists each phone with its job and, when it failed,
why. retry queues the failed jobs again (not cancelled ones); the retries form a rollout
of their own. Bootstrap runs started in the app are shown there (they live in the running
service).

Examples:
  localdls rollout --data-dir ./site-a
  localdls rollout retry j1764151200000-WriteItems --data-dir ./site-a`;

const counts = (r: RolloutSummary) => ROLLOUT_PHASES.map((p) => String(r.counts[p]));

export async function rolloutCommand(args: string[], io: CliIo): Promise<number> {
  const sub = args[0] === 'show' || args[0] === 'retry' || args[0] === 'list' ? args[0] : null;
  const { values: v, positionals } = parseCli(sub ? args.slice(1) : args, { 'data-dir': { type: 'string' }, json: { type: 'boolean' } });
  if (sub === 'show' || sub === 'retry') {
    if (positionals.length !== 1) throw new UsageError(`rollout ${sub} takes one rollout id, e.g. j1764151200000-WriteItems (see \`localdls rollout\`)`);
  } else noPositionals(positionals);
  const id = positionals[0] ?? '';
  return withContext(v['data-dir'], sub === 'retry' ? 'write' : 'read', {}, async (ctx) => {
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
        io.out(r.retried ? `queued ${r.retried} failed job${r.retried === 1 ? '' : 's'} again as rollout ${r.rolloutId}` : 'nothing to retry: no failed job in this rollout');
        for (const s of r.skipped) io.out(`  skipped ${s.mac}: ${s.reason}`);
      }
      return 0;
    }
    const list = await commands.listRollouts(ctx);
    if (v.json) for (const r of list) io.out(JSON.stringify(r));
    else if (list.length === 0) io.out('no rollouts yet: a job queued for several phones at once is one');
    else io.out(table(['ID', 'KIND', 'STARTED', 'PHONES', ...ROLLOUT_PHASES.map((p) => p.toUpperCase())], list.map((r) => [r.id, r.jobKind, new Date(r.started).toISOString(), String(r.total), ...counts(r)])));
    return 0;
  });
}
