/**
 * `localdls job`: queue work for phones while `serve` runs (it picks new jobs up within a second
 * and sends contact-me), list it and cancel it. The rules are the commands' (src/main/commands/jobs.ts).
 */
import { ApiError, type JobSpec } from '../../shared/api';
import { JOB_STATES, type ItemValue, type JobState } from '../../shared/model';
import * as commands from '../commands';
import { parseItemSpec } from '../commands/item-spec';
import { withContext, type CliIo } from './context';
import { allWithinLimit, macList, oneMac, parseCli, table, UsageError, type ParsedCli } from './format';

export const JOB_USAGE = `localdls job add (--mac M… | --all) KIND [ARGS…] [--data-dir D] [--json]
localdls job list [--mac M] [--state S] [--data-dir D] [--json]
localdls job cancel ID… [--data-dir D]

Queues work for phones. A running \`serve\` picks new jobs up within a second and sends the
phone a contact-me (respecting its contact gap); the phone calls back and gets the job.

Kinds:
  write name=value name[index]=value …      WriteItems (index 0 is a real index)
  read name name[index] …                   ReadItems
  read-all                                  ReadAllItems
  restart                                   Restart (done when the phone starts up again)
  factory-reset                             Restart with restart-type FactoryReset (manual p.51)
  file (--type T (--url U | --ftp F | U))… [--delete NAME:TYPE]…
                                            FileDeployment; several files get indexes and file-action;
                                            each file has the --type given before it
  firmware --version 3.5.12.0 (--url U | --ftp F) [--sw-type "Siemens SIP"] [--priority normal|immediate]
                                            SoftwareDeployment; done when the phone reports that version
  U = https://server/path/file, F = ftp://user:password@server[:port]/path/file

States: queued, sent, done, failed, waiting-busy (the phone was in a call), cancelled.

Examples:
  localdls job add --mac 00:1A:E8:00:00:01 write sntp-addr=pool.ntp.org function-key-def[1]=3
  localdls job add --mac 00:1A:E8:00:00:01 --mac 00:1A:E8:00:00:02 restart   (one rollout of two jobs)
  localdls job add --all read-all
  localdls job add --mac 00:1A:E8:00:00:01 file --type LOGO https://files.example/logo.png --type RINGTONE https://files.example/ring.wav
  localdls job list --state waiting-busy`;

const OPTIONS = {
  'data-dir': { type: 'string' }, mac: { type: 'string', multiple: true }, all: { type: 'boolean' }, json: { type: 'boolean' }, state: { type: 'string' },
  url: { type: 'string', multiple: true }, ftp: { type: 'string', multiple: true }, delete: { type: 'string', multiple: true },
  type: { type: 'string', multiple: true }, version: { type: 'string' }, 'sw-type': { type: 'string' }, priority: { type: 'string' },
} as const;

/** name=value specs as items, or a usage error quoting the spec. */
export function parseItems(specs: string[], needValue: boolean): ItemValue[] {
  if (specs.length === 0) throw new UsageError(needValue ? 'no items: write name=value …' : 'no items: name the items to read');
  return specs.map((s) => {
    try {
      return parseItemSpec(s, needValue);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  });
}

/** The devices a command is for: --mac (once or more) or --all (every device; none is not an error here). */
export async function targets(ctx: commands.CommandContext, macs: readonly string[] | undefined, all: boolean | undefined): Promise<string[]> {
  const given = macList(macs);
  if (given.length && all) throw new UsageError('give --mac or --all, not both');
  if (all) return allWithinLimit((await commands.listDevices(ctx)).map((d) => d.mac), 'devices');
  if (!given.length) throw new UsageError('--mac M or --all is required');
  return given;
}

export async function jobCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  const { values: o, positionals, tokens } = parseCli(rest, OPTIONS);
  if (sub === 'add') {
    const [kindWord, ...specs] = positionals;
    if (!kindWord) throw new UsageError('job add needs a kind: write, read, read-all, restart, factory-reset, file or firmware');
    const spec = specOf(kindWord, specs, o, tokens);
    return withContext(o['data-dir'], 'write', {}, async (ctx) => {
      const macs = await targets(ctx, o.mac, o.all);
      if (macs.length === 0) {
        io.err('no devices yet: nothing queued');
        return 0;
      }
      const { jobs, notes, same } = await commands.addJob(ctx, macs, spec);
      for (const note of notes) io.err(`note: ${note}`);
      for (const s of same) {
        const why = 'the same job waits for the phone already';
        io.err(`${s.mac}: ${why} (job ${s.jobId}): not queued again`);
        // --json: a line of its own, told from a queued job's by its key, so a script sees every phone it named.
        if (o.json) io.out(JSON.stringify({ notQueued: { mac: s.mac, sameJob: s.jobId, reason: why } }));
      }
      for (const j of jobs) {
        const s = commands.jobSummary(j);
        io.out(o.json ? JSON.stringify(j) : `queued job ${j.id}: ${j.kind} for ${j.mac}${s ? ` (${s})` : ''}`);
      }
      return 0;
    });
  }
  if (sub === 'list') {
    if (positionals.length) throw new UsageError(`unexpected "${positionals[0]}"`);
    const state = o.state;
    if (state !== undefined && !(JOB_STATES as readonly string[]).includes(state)) throw new UsageError(`--state must be one of ${JOB_STATES.join(', ')}`);
    const mac = oneMac(o.mac, 'job list');
    return withContext(o['data-dir'], 'read', {}, async (ctx) => {
      const { jobs } = await commands.listJobs(ctx, { ...(mac ? { mac } : {}), ...(state ? { states: [state as JobState] } : {}), limit: 5000 });
      const list = jobs.reverse();
      if (o.json) io.out(JSON.stringify(list));
      else if (list.length === 0) io.out('no jobs');
      else {
        io.out(table(['ID', 'MAC', 'KIND', 'STATE', 'TRIES', 'UPDATED (UTC)', 'DETAILS'], list.map((j) => [
          String(j.id), j.mac, j.kind, j.state, String(j.attempts), new Date(j.updated).toISOString().slice(0, 19).replace('T', ' '), commands.shortValue(j.error ?? '', 120) || commands.jobSummary(j),
        ])));
      }
      return 0;
    });
  }
  if (sub === 'cancel') {
    if (positionals.length === 0) throw new UsageError('job cancel needs job ids (see `localdls job list`)');
    const ids = positionals.map((p) => {
      if (!/^\d{1,15}$/.test(p)) throw new UsageError(`"${p}" is not a job id`);
      return Number(p);
    });
    return withContext(o['data-dir'], 'write', {}, async (ctx) => {
      let failed = 0;
      for (const id of ids) {
        try {
          await commands.cancelJob(ctx, id);
          io.out(`cancelled job ${id}`);
        } catch (e) {
          if (!(e instanceof ApiError)) throw e;
          io.err(e.message);
          failed++;
        }
      }
      return failed ? 1 : 0;
    });
  }
  throw new UsageError(sub ? `unknown job command "${sub}"` : 'job needs a command: add, list or cancel');
}

type Values = ParsedCli<typeof OPTIONS>['values'];
type Tokens = ParsedCli<typeof OPTIONS>['tokens'];

/** The JobSpec the words on the command line ask for; the command checks it. */
function specOf(kindWord: string, specs: string[], o: Values, tokens: Tokens): JobSpec {
  const none = () => {
    if (specs.length) throw new UsageError(`${kindWord} takes no items`);
  };
  const sources = [...(o.url ?? []), ...(o.ftp ?? [])];
  switch (kindWord) {
    case 'write':
      return { kind: 'write', items: parseItems(specs, true) };
    case 'read':
      return { kind: 'read', items: parseItems(specs, false).map(({ name, index }) => (index === undefined ? { name } : { name, index })) };
    case 'read-all':
    case 'restart':
    case 'factory-reset':
      none();
      return { kind: kindWord };
    case 'file':
      return fileSpec(o, tokens);
    case 'firmware': {
      none();
      if (!o.version) throw new UsageError('firmware needs --version, e.g. --version 3.5.12.0');
      if (sources.length > 1) throw new UsageError('firmware needs exactly one --url or --ftp');
      const priority = o.priority ?? 'normal';
      if (priority !== 'normal' && priority !== 'immediate') throw new UsageError('--priority must be normal (only when the phone is idle) or immediate');
      return { kind: 'firmware', version: o.version, url: sources[0] ?? '', priority, ...(o['sw-type'] !== undefined ? { swType: o['sw-type'] } : {}) };
    }
    default:
      throw new UsageError(`unknown job kind "${kindWord}": write, read, read-all, restart, factory-reset, file or firmware`);
  }
}

/**
 * Files in the order given, each with the --type given last before it: `--type LOGO a.png
 * --type RINGTONE b.wav` deploys a LOGO and a RINGTONE. Sources are --url, --ftp or plain
 * URLs after `file`.
 */
function fileSpec(o: Values, tokens: Tokens): JobSpec {
  const urls: string[] = [];
  const types: (string | undefined)[] = [];
  let type: string | undefined;
  let seenFile = false;
  for (const t of tokens) {
    if (t.kind === 'option' && t.name === 'type') type = t.value;
    else if ((t.kind === 'option' && (t.name === 'url' || t.name === 'ftp')) || (t.kind === 'positional' && seenFile)) {
      urls.push(t.kind === 'option' ? t.value! : t.value);
      types.push(type);
    } else if (t.kind === 'positional' && t.value === 'file') seenFile = true;
  }
  // A type given only after the files applies to all of them, as it always has.
  const fileTypes = types.map((t) => t ?? type);
  const deletes = (o.delete ?? []).map((d) => {
    const [name, dtype] = d.split(':');
    if (!name || !dtype) throw new UsageError(`--delete "${d}": write NAME:TYPE, e.g. logo.png:LOGO`);
    return { name, type: dtype };
  });
  if (urls.length && fileTypes.some((t) => !t)) throw new UsageError('file needs --type before each file (RINGTONE, LOGO, MOH, PIC, LDAP, SCREENSAVER)');
  return { kind: 'file', urls, deletes, ...(urls.length ? { fileTypes: fileTypes as string[] } : {}) };
}
