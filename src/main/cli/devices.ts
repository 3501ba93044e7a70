/** `localdls devices` and `localdls items`: the devices that have contacted the service, and their items. */
import type { Device } from '../../shared/model';
import * as commands from '../commands';
import { isLegacyProtocol } from '../net/tls-profile';
import { withContext, type CliIo } from './context';
import { macOf, noPositionals, parseCli, table, UsageError } from './format';

export const DEVICES_USAGE = `localdls devices [--data-dir D] [--json]

Example:
  localdls devices --data-dir ./site-a --json`;

export const ITEMS_USAGE = `localdls items --mac M [--data-dir D] [--json] [--reveal]

Example:
  localdls items --data-dir ./site-a --mac 00:1A:E8:00:00:01`;

export async function devicesCommand(args: string[], io: CliIo): Promise<number> {
  const { values: v, positionals } = parseCli(args, { 'data-dir': { type: 'string' }, json: { type: 'boolean' } });
  noPositionals(positionals);
  return withContext(v['data-dir'], 'read', {}, async (ctx) => {
    // The JSON keeps the records as they are stored (scripts read it); the table adds nothing.
    const list: Device[] = (await commands.listDevices(ctx)).map(({ jobs: _jobs, ...d }) => d);
    if (v.json) io.out(JSON.stringify(list));
    else if (list.length === 0) io.out('no devices yet');
    else io.out(table(['MAC', 'MODE', 'STATE', 'MODEL', 'FIRMWARE', 'E164', 'ADDRESS', 'TLS', 'LAST CONTACT (UTC)'], list.map(deviceRow)));
    return 0;
  });
}

function deviceRow(d: Device): string[] {
  const tls = d.tlsProtocol ? `${d.tlsProtocol}${isLegacyProtocol(d.tlsProtocol) ? ' (legacy)' : ''}` : '';
  const mode = d.bootstrap === 'pending' || d.bootstrap === 'failed' ? `${d.mode} (bootstrap ${d.bootstrap})` : d.mode;
  return [d.mac, mode, d.state, d.deviceType ?? '', d.softwareVersion ?? '', d.e164 ?? '', d.lastAddress ?? '', tls, new Date(d.lastContact).toISOString().replace('T', ' ').slice(0, 19)];
}

export async function itemsCommand(args: string[], io: CliIo): Promise<number> {
  const { values: v, positionals } = parseCli(args, { 'data-dir': { type: 'string' }, mac: { type: 'string' }, json: { type: 'boolean' }, reveal: { type: 'boolean' } });
  noPositionals(positionals);
  if (!v.mac) throw new UsageError('--mac is required');
  const mac = macOf(v.mac);
  return withContext(v['data-dir'], 'read', {}, async (ctx) => {
    if (!ctx.store.device(mac)) throw new Error(`no device ${mac} in this data directory (see \`localdls devices\`)`);
    const list = await commands.deviceItems(ctx, mac, v.reveal === true);
    if (v.json) io.out(JSON.stringify(list));
    else io.out(table(['NAME', 'INDEX', 'VALUE', 'STATUS'], list.map((i) => [i.name, i.index === null ? '' : String(i.index), commands.shortValue(i.value, 80), i.status ?? ''])));
    return 0;
  });
}
