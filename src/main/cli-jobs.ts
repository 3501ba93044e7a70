/**
 * `localdls job`, `profile` and `contact`: queue work for phones while `serve` runs (it picks new
 * jobs up within a second and sends contact-me), inspect it, and contact phones by hand.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { JOB_STATES, type ItemValue, type Job, type JobState } from '../shared/model';
import { maskItemValue, maskUrlPasswords } from '../shared/secrets';
import { Contacts, MIN_GAP_MS } from './contact';
import type { JobSpec } from '../shared/api';
import { buildJob, CLI_WORDS, JobSpecError, unknownItemsNote, type BuiltJob } from './job-builder';
import { formatItem, parseItemSpec } from './item-spec';
import { normalizeMac, phoneVersionOf } from './provisioning';
import { applyProfileTo } from './profile-apply';
import { Store } from './store';

import { table, UsageError, type Out } from './cli-format';

export interface CliContext {
  out: Out;
  err: Out;
  openStore: (dataDir: string | undefined, mode: 'read' | 'write') => Store;
}

export const JOB_USAGE = `localdls job add (--mac M | --all) KIND [ARGS…] [--data-dir D] [--json]
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
  file --type T (--url U | --ftp F)… [--delete NAME:TYPE]…
                                            FileDeployment; several files get indexes and file-action
  firmware --version 3.5.12.0 (--url U | --ftp F) [--sw-type "Siemens SIP"] [--priority normal|immediate]
                                            SoftwareDeployment; done when the phone reports that version
  U = https://server/path/file, F = ftp://user:password@server[:port]/path/file

States: queued, sent, done, failed, waiting-busy (the phone was in a call), cancelled.

Examples:
  localdls job add --mac 00:1A:E8:00:00:01 write sntp-addr=pool.ntp.org function-key-def[1]=3
  localdls job add --all read-all
  localdls job add --mac 00:1A:E8:00:00:01 file --type LOGO --url https://files.example/logo.png
  localdls job list --state waiting-busy`;

export const PROFILE_USAGE = `localdls profile set NAME [--device-type T] [--match-mac GLOB] [--match-e164 GLOB] name=value …
localdls profile show [NAME] [--json]
localdls profile apply NAME (--mac M | --all)
localdls profile override --mac M name=value …
localdls profile delete NAME
(all take --data-dir D)

A profile is a named item set, site-wide or for one device type (--device-type "OpenStage 60").
Applying it compares it, with the device's overrides laid over it, to the items the phone last
reported and queues a WriteItems of only what differs (nothing when nothing differs).
Plug & play: with --match-mac or --match-e164 (globs: * and ?), a new phone that matches gets
the profile at its first start-up, in the same interaction.

Examples:
  localdls profile set site --match-mac "00:1A:E8:*" sntp-addr=pool.ntp.org sntp-tz-offset=60
  localdls profile apply site --all`;

export const CONTACT_USAGE = `localdls contact (--mac M | --all) [--data-dir D] [--json] [--contact-gap S]

Sends contact-me (HTTP POST to the phone's contact-me-uri, port 8085) so the phone calls back
now. Phones ignore a second contact-me within their contact gap (default 300 s) and may crash
when contacted more than once a minute: LocalDLS refuses to send within the gap and says when
the next one may go. --all contacts every phone with waiting jobs, 10 at a time.

Example:
  localdls contact --mac 00:1A:E8:00:00:01`;

function parse(args: string[], options: NonNullable<ParseArgsConfig['options']>) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
}

function macOf(raw: string): string {
  const mac = normalizeMac(raw);
  if (!mac) throw new UsageError(`--mac "${raw}" is not a MAC address (e.g. 00:1A:E8:00:00:01)`);
  return mac;
}

/** The devices a command is for: --mac (must be known) or --all. */
function targets(store: Store, mac: string | undefined, all: boolean | undefined): string[] {
  if (mac && all) throw new UsageError('give --mac or --all, not both');
  if (all) return store.devices().map((d) => d.mac);
  if (!mac) throw new UsageError('--mac M or --all is required');
  const m = macOf(mac);
  if (!store.device(m)) throw new Error(`no device ${m}: a phone must contact the service once before it can get jobs (see \`localdls devices\`)`);
  return [m];
}

function parseItems(specs: string[], needValue: boolean): ItemValue[] {
  if (specs.length === 0) throw new UsageError(needValue ? 'no items: write name=value …' : 'no items: name the items to read');
  return specs.map((s) => {
    try {
      return parseItemSpec(s, needValue);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  });
}

function items(specs: string[], needValue: boolean, err: Out): ItemValue[] {
  const list = parseItems(specs, needValue);
  const note = unknownItemsNote(list);
  if (note) err(`note: ${note}`);
  return list;
}

export async function jobCommand(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  const v = parse(rest, {
    'data-dir': { type: 'string' }, mac: { type: 'string' }, all: { type: 'boolean' }, json: { type: 'boolean' }, state: { type: 'string' },
    url: { type: 'string', multiple: true }, ftp: { type: 'string', multiple: true }, delete: { type: 'string', multiple: true },
    type: { type: 'string' }, version: { type: 'string' }, 'sw-type': { type: 'string' }, priority: { type: 'string' },
  });
  const o = v.values as Record<string, string | boolean | string[] | undefined>;
  if (sub === 'add') {
    const [kindWord, ...specs] = v.positionals;
    if (!kindWord) throw new UsageError('job add needs a kind: write, read, read-all, restart, factory-reset, file or firmware');
    const built = jobOf(kindWord, specs, o, ctx.err);
    const store = ctx.openStore(o['data-dir'] as string | undefined, 'write');
    try {
      const macs = targets(store, o.mac as string | undefined, o.all as boolean | undefined);
      const now = Date.now();
      const jobs = store.db.transaction(() => macs.map((mac) => store.jobs.add({ mac, ...built, source: 'cli' }, now)))();
      for (const j of jobs) ctx.out(o.json ? JSON.stringify(maskJob(j)) : `queued job ${j.id}: ${j.kind} for ${j.mac}${summary(j) ? ` (${summary(j)})` : ''}`);
      if (jobs.length === 0) ctx.err('no devices yet: nothing queued');
    } finally {
      store.close();
    }
    return 0;
  }
  if (sub === 'list') {
    if (v.positionals.length) throw new UsageError(`unexpected "${v.positionals[0]}"`);
    const state = o.state as string | undefined;
    if (state !== undefined && !(JOB_STATES as readonly string[]).includes(state)) throw new UsageError(`--state must be one of ${JOB_STATES.join(', ')}`);
    const store = ctx.openStore(o['data-dir'] as string | undefined, 'read');
    try {
      const list = store.jobs.list({ ...(o.mac ? { mac: macOf(o.mac as string) } : {}), ...(state ? { states: [state as JobState] } : {}) });
      if (o.json) ctx.out(JSON.stringify(list.map(maskJob)));
      else if (list.length === 0) ctx.out('no jobs');
      else ctx.out(table(['ID', 'MAC', 'KIND', 'STATE', 'TRIES', 'UPDATED', 'DETAILS'], list.map((j) => [
        String(j.id), j.mac, j.kind, j.state, String(j.attempts), new Date(j.updated).toISOString().slice(0, 19).replace('T', ' '), j.error ?? summary(j),
      ])));
    } finally {
      store.close();
    }
    return 0;
  }
  if (sub === 'cancel') {
    if (v.positionals.length === 0) throw new UsageError('job cancel needs job ids (see `localdls job list`)');
    const ids = v.positionals.map((p) => {
      if (!/^\d+$/.test(p)) throw new UsageError(`"${p}" is not a job id`);
      return Number(p);
    });
    const store = ctx.openStore(o['data-dir'] as string | undefined, 'write');
    let failed = 0;
    try {
      for (const id of ids) {
        const job = store.jobs.get(id);
        if (!job) { ctx.err(`no job ${id}`); failed++; }
        else if (store.jobs.cancel(id, Date.now())) ctx.out(`cancelled job ${id}`);
        else { ctx.err(`job ${id} is ${job.state}: only queued, sent or waiting-busy jobs can be cancelled`); failed++; }
      }
    } finally {
      store.close();
    }
    return failed ? 1 : 0;
  }
  throw new UsageError(sub ? `unknown job command "${sub}"` : 'job needs a command: add, list or cancel');
}

function jobOf(kindWord: string, specs: string[], o: Record<string, string | boolean | string[] | undefined>, err: Out): Omit<BuiltJob, 'notes'> {
  const none = () => { if (specs.length) throw new UsageError(`${kindWord} takes no items`); };
  const sources = [...((o.url as string[]) ?? []), ...((o.ftp as string[]) ?? [])];
  let spec: JobSpec;
  switch (kindWord) {
    case 'write': spec = { kind: 'write', items: parseItems(specs, true) }; break;
    case 'read': spec = { kind: 'read', items: parseItems(specs, false) }; break;
    case 'read-all': none(); spec = { kind: 'read-all' }; break;
    case 'restart': none(); spec = { kind: 'restart' }; break;
    case 'factory-reset': none(); spec = { kind: 'factory-reset' }; break;
    case 'file': {
      none();
      const deletes = ((o.delete as string[]) ?? []).map((d) => {
        const [name, type] = d.split(':');
        if (!name || !type) throw new UsageError(`--delete "${d}": write NAME:TYPE, e.g. logo.png:LOGO`);
        return { name, type };
      });
      spec = { kind: 'file', urls: sources, deletes, ...(o.type !== undefined ? { fileType: o.type as string } : {}) };
      break;
    }
    case 'firmware': {
      none();
      const version = o.version as string | undefined;
      if (!version) throw new UsageError('firmware needs --version, e.g. --version 3.5.12.0');
      if (phoneVersionOf(version) && sources.length !== 1) throw new UsageError('firmware needs exactly one --url or --ftp');
      const priority = (o.priority as string | undefined) ?? 'normal';
      if (priority !== 'normal' && priority !== 'immediate') throw new UsageError('--priority must be normal (only when the phone is idle) or immediate');
      spec = { kind: 'firmware', version, url: sources[0] ?? '', priority, ...(o['sw-type'] !== undefined ? { swType: o['sw-type'] as string } : {}) };
      break;
    }
    default:
      throw new UsageError(`unknown job kind "${kindWord}": write, read, read-all, restart, factory-reset, file or firmware`);
  }
  try {
    const { notes, ...built } = buildJob(spec, CLI_WORDS);
    for (const note of notes) err(`note: ${note}`);
    return built;
  } catch (e) {
    // A refused file URL is quoted in the reason: not its password.
    if (e instanceof JobSpecError) throw new UsageError(maskUrlPasswords(e.message));
    throw e;
  }
}

function maskJob(j: Job): Job {
  return { ...j, items: j.items.map((i) => ({ ...i, value: maskItemValue(i.name, i.value) })) };
}

function summary(j: Job): string {
  const shown = maskJob(j).items.slice(0, 3).map((i) => (j.kind === 'ReadItems' ? i.name : formatItem(i)));
  return shown.join(' ') + (j.items.length > 3 ? ` …(+${j.items.length - 3})` : '');
}

export async function profileCommand(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  const v = parse(rest, {
    'data-dir': { type: 'string' }, mac: { type: 'string' }, all: { type: 'boolean' }, json: { type: 'boolean' },
    'device-type': { type: 'string' }, 'match-mac': { type: 'string' }, 'match-e164': { type: 'string' },
  });
  const o = v.values as Record<string, string | boolean | undefined>;
  const dataDir = o['data-dir'] as string | undefined;
  const name = v.positionals[0];
  const needName = () => {
    if (!name || !/^[\w.-]{1,64}$/.test(name)) throw new UsageError('a profile name (letters, digits, . _ -, up to 64) is required');
    return name;
  };
  switch (sub) {
    case 'set': {
      const profileName = needName();
      const list = items(v.positionals.slice(1), true, ctx.err);
      const store = ctx.openStore(dataDir, 'write');
      try {
        const p = store.jobs.setProfile({
          name: profileName, items: list, deviceType: (o['device-type'] as string | undefined) ?? null,
          matchMac: (o['match-mac'] as string | undefined) ?? null, matchE164: (o['match-e164'] as string | undefined) ?? null,
        }, Date.now());
        ctx.out(`profile ${p.name}: ${p.items.length} items${p.deviceType ? ` for ${p.deviceType}` : ' (site-wide)'}${p.matchMac || p.matchE164 ? `, plug & play for ${[p.matchMac && `MAC ${p.matchMac}`, p.matchE164 && `E.164 ${p.matchE164}`].filter(Boolean).join(' and ')}` : ''}`);
      } finally {
        store.close();
      }
      return 0;
    }
    case 'show': {
      const store = ctx.openStore(dataDir, 'read');
      try {
        const list = name ? [store.jobs.profile(name)].filter((p) => p !== undefined) : store.jobs.profiles();
        if (name && list.length === 0) throw new Error(`no profile "${name}"`);
        const masked = list.map((p) => ({ ...p, items: p.items.map((i) => ({ ...i, value: maskItemValue(i.name, i.value) })) }));
        if (o.json) ctx.out(JSON.stringify(masked));
        else if (masked.length === 0) ctx.out('no profiles');
        else for (const p of masked) ctx.out(`${p.name}${p.deviceType ? ` [${p.deviceType}]` : ''}${p.matchMac ? ` mac:${p.matchMac}` : ''}${p.matchE164 ? ` e164:${p.matchE164}` : ''}\n${p.items.map((i) => `  ${formatItem(i)}`).join('\n')}`);
      } finally {
        store.close();
      }
      return 0;
    }
    case 'apply': {
      const profileName = needName();
      const store = ctx.openStore(dataDir, 'write');
      try {
        const profile = store.jobs.profile(profileName);
        if (!profile) throw new Error(`no profile "${profileName}" (see \`localdls profile show\`)`);
        for (const r of applyProfileTo(store, profile, targets(store, o.mac as string | undefined, o.all as boolean | undefined))) {
          if (r.skipped) ctx.out(`${r.mac}: skipped, ${r.skipped}`);
          else if (r.jobId !== null) ctx.out(`${r.mac}: queued job ${r.jobId}, ${r.differs === 1 ? '1 item differs' : `${r.differs} items differ`}`);
          else ctx.out(`${r.mac}: nothing differs, nothing queued`);
        }
      } finally {
        store.close();
      }
      return 0;
    }
    case 'override': {
      const list = items(v.positionals, true, ctx.err);
      const store = ctx.openStore(dataDir, 'write');
      try {
        const [mac] = targets(store, o.mac as string | undefined, false);
        store.jobs.setOverrides(mac!, list);
        ctx.out(`${mac}: ${list.length} override${list.length > 1 ? 's' : ''} set; \`profile apply\` writes them`);
      } finally {
        store.close();
      }
      return 0;
    }
    case 'delete': {
      const profileName = needName();
      const store = ctx.openStore(dataDir, 'write');
      try {
        if (!store.jobs.deleteProfile(profileName)) throw new Error(`no profile "${profileName}"`);
        ctx.out(`deleted profile ${profileName}`);
      } finally {
        store.close();
      }
      return 0;
    }
    default:
      throw new UsageError(sub ? `unknown profile command "${sub}"` : 'profile needs a command: set, show, apply, override or delete');
  }
}

export async function contactCommand(args: string[], ctx: CliContext): Promise<number> {
  const v = parse(args, { 'data-dir': { type: 'string' }, mac: { type: 'string' }, all: { type: 'boolean' }, json: { type: 'boolean' }, 'contact-gap': { type: 'string' } });
  const o = v.values as Record<string, string | boolean | undefined>;
  if (v.positionals.length) throw new UsageError(`unexpected "${v.positionals[0]}"`);
  const gap = o['contact-gap'] === undefined ? undefined : Number(o['contact-gap']) * 1000;
  if (gap !== undefined && !(Number.isFinite(gap) && gap >= MIN_GAP_MS)) throw new UsageError(`--contact-gap must be at least ${MIN_GAP_MS / 1000} seconds`);
  const store = ctx.openStore(o['data-dir'] as string | undefined, 'write');
  try {
    const macs = o.all
      ? store.jobs.pendingDevices().map((p) => p.mac)
      : targets(store, o.mac as string | undefined, false);
    if (macs.length === 0) {
      ctx.out('no phones with waiting jobs');
      return 0;
    }
    const contacts = new Contacts(store, gap ? { gapMs: gap } : {});
    let sent = 0;
    const outcomes = await contacts.contactMany(macs, (r) => {
      sent++;
      const line = r.ok ? `${r.mac}: contact-me answered 204, the phone will call back` : `${r.mac}: ${r.skipped ? `not sent: ${r.skipped}` : `failed: ${r.error}`}`;
      ctx.out(o.json ? JSON.stringify({ event: 'contact', ...r, done: sent, total: macs.length }) : `[${sent}/${macs.length}] ${line}`);
    });
    return outcomes.every((r) => r.ok) ? 0 : 1;
  } finally {
    store.close();
  }
}
