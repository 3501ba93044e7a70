/** `localdls profile`: named item sets, applied as a WriteItems of only what differs; overrides. */
import * as commands from '../commands';
import { formatItem } from '../commands/item-spec';
import { readOnlyItemsNote, unknownItemsNote } from '../commands/job-spec';
import { withContext, type CliIo } from './context';
import { oneMac, parseCli, UsageError } from './format';
import { parseItems, targets } from './job';

/** An item as named on the command line: name, or name[index]. */
const itemLabel = (i: { name: string; index?: number | null }): string => (i.index === undefined || i.index === null ? i.name : `${i.name}[${i.index}]`);

export const PROFILE_USAGE = `localdls profile set NAME [--device-type T] [--match-mac GLOB] [--match-e164 GLOB] name=value …
localdls profile show [NAME] [--json]
localdls profile apply NAME (--mac M… | --all)
localdls profile override --mac M name=value …   (no items: list them; --clear [name …]: remove them)
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

const OPTIONS = {
  'data-dir': { type: 'string' }, mac: { type: 'string', multiple: true }, all: { type: 'boolean' }, json: { type: 'boolean' },
  'device-type': { type: 'string' }, 'match-mac': { type: 'string' }, 'match-e164': { type: 'string' }, clear: { type: 'boolean' },
} as const;

export async function profileCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  const { values: o, positionals } = parseCli(rest, OPTIONS);
  const dataDir = o['data-dir'];
  const name = positionals[0];
  const needName = () => {
    if (!name || !/^[\w.-]{1,64}$/.test(name)) throw new UsageError('a profile name (letters, digits, . _ -, up to 64) is required');
    return name;
  };
  /** Said once the items are taken: a note before a refusal would contradict it (helper-77). */
  const notesOn = (list: readonly { name: string }[]) => {
    for (const note of [unknownItemsNote(list), readOnlyItemsNote(list)]) if (note) io.err(`note: ${note}`);
  };
  switch (sub) {
    case 'set': {
      const profileName = needName();
      const items = parseItems(positionals.slice(1), true);
      return withContext(dataDir, 'write', {}, async (ctx) => {
        const p = await commands.setProfile(ctx, { name: profileName, items, deviceType: o['device-type'] ?? null, matchMac: o['match-mac'] ?? null, matchE164: o['match-e164'] ?? null });
        notesOn(items);
        const pnp = [p.matchMac && `MAC ${p.matchMac}`, p.matchE164 && `E.164 ${p.matchE164}`].filter(Boolean).join(' and ');
        io.out(`profile ${p.name}: ${p.items.length} items${p.deviceType ? ` for ${p.deviceType}` : ' (site-wide)'}${pnp ? `, plug & play for ${pnp}` : ''}`);
        const relaying = commands.keptWhileRelaying(ctx, 'the profile is');
        if (relaying) io.err(`note: ${relaying}`);
        return 0;
      });
    }
    case 'show':
      return withContext(dataDir, 'read', {}, async (ctx) => {
        const list = name ? [await commands.getProfile(ctx, name)] : await commands.listProfiles(ctx);
        if (o.json) io.out(JSON.stringify(list));
        else if (list.length === 0) io.out('no profiles');
        else for (const p of list) io.out(`${p.name}${p.deviceType ? ` [${p.deviceType}]` : ''}${p.matchMac ? ` mac:${p.matchMac}` : ''}${p.matchE164 ? ` e164:${p.matchE164}` : ''}\n${p.items.map((i) => `  ${formatItem(i)}`).join('\n')}`);
        return 0;
      });
    case 'apply': {
      const profileName = needName();
      return withContext(dataDir, 'write', {}, async (ctx) => {
        const macs = await targets(ctx, o.mac, o.all);
        if (macs.length === 0) {
          io.out('no devices yet: nothing to apply');
          return 0;
        }
        for (const r of await commands.applyProfile(ctx, profileName, macs)) {
          if (r.skipped) io.out(`${r.mac}: skipped, ${r.skipped}`);
          else if (r.jobId !== null) io.out(`${r.mac}: queued job ${r.jobId}, ${r.differs === 1 ? '1 item differs' : `${r.differs} items differ`}`);
          else io.out(`${r.mac}: nothing differs, nothing queued`);
        }
        return 0;
      });
    }
    case 'override': {
      const mac = oneMac(o.mac, `profile ${sub}`);
      if (!mac) throw new UsageError('--mac M is required');
      if (o.clear) {
        // Names only (name or name[index]): which overrides go; none named, every one.
        const names = positionals.length ? parseItems(positionals, false).map(({ name, index }) => (index === undefined ? { name } : { name, index })) : null;
        return withContext(dataDir, 'write', {}, async (ctx) => {
          // A name that is no override of the phone (a typo, most often) is said, not passed over (helper-77).
          const had = names ? (await commands.getOverrides(ctx, mac)).map(itemLabel) : [];
          const missing = (names ?? []).map(itemLabel).filter((n) => !had.includes(n));
          const n = await commands.clearOverrides(ctx, mac, names);
          io.out(`${mac}: ${n} override${n === 1 ? '' : 's'} removed; the phone keeps what it has until something writes it`);
          if (missing.length) {
            const left = (await commands.getOverrides(ctx, mac)).map(itemLabel);
            io.err(`no override ${missing.join(', ')} on ${mac} (${left.length ? `its overrides: ${left.join(', ')}` : 'it has none'})`);
          }
          return 0;
        });
      }
      if (positionals.length === 0) {
        return withContext(dataDir, 'read', {}, async (ctx) => {
          const list = await commands.getOverrides(ctx, mac);
          if (o.json) io.out(JSON.stringify(list));
          else io.out(list.length ? `${mac}: ${list.length} override${list.length === 1 ? '' : 's'}\n${list.map((i) => `  ${formatItem(i)}`).join('\n')}` : `${mac}: no overrides`);
          return 0;
        });
      }
      const items = parseItems(positionals, true);
      return withContext(dataDir, 'write', {}, async (ctx) => {
        const n = await commands.setOverrides(ctx, mac, items);
        notesOn(items);
        io.out(`${mac}: ${n} override${n > 1 ? 's' : ''} set; \`profile apply\` writes them`);
        const relaying = commands.keptWhileRelaying(ctx, n > 1 ? 'the overrides are' : 'the override is');
        if (relaying) io.err(`note: ${relaying}`);
        return 0;
      });
    }
    case 'delete': {
      const profileName = needName();
      return withContext(dataDir, 'write', {}, async (ctx) => {
        await commands.deleteProfile(ctx, profileName);
        io.out(`deleted profile ${profileName}`);
        return 0;
      });
    }
    default:
      throw new UsageError(sub ? `unknown profile command "${sub}"` : 'profile needs a command: set, show, apply, override or delete');
  }
}
