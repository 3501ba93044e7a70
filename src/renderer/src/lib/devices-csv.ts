/**
 * The device list as CSV (RFC 4180: CRLF, fields quoted when needed), for a spreadsheet. A cell
 * that a spreadsheet would run as a formula (= + - @, tab, CR) gets a leading apostrophe: a phone
 * reports its own E.164 or model, and none of that may execute on the engineer's machine.
 */
import type { DeviceView } from '../../../shared/api';

const COLUMNS: [string, (d: DeviceView) => string | number | null][] = [
  ['mac', (d) => d.mac],
  ['e164', (d) => d.e164],
  ['device_type', (d) => d.deviceType],
  ['software_version', (d) => d.softwareVersion],
  ['mode', (d) => d.mode],
  ['state', (d) => ((d.contactFailures ?? 0) > 0 ? 'unreachable' : d.state)],
  ['bootstrap', (d) => d.bootstrap],
  ['jobs_waiting', (d) => d.jobs.queued + d.jobs.sent + d.jobs.waitingBusy],
  ['last_address', (d) => d.lastAddress],
  ['tls', (d) => d.tlsProtocol],
  ['profile', (d) => d.profile],
  ['first_contact', (d) => new Date(d.firstContact).toISOString()],
  ['last_contact', (d) => new Date(d.lastContact).toISOString()],
  ['last_contact_error', (d) => d.lastContactError ?? null],
];

export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  let s = String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function devicesCsv(devices: readonly DeviceView[]): string {
  const lines = [COLUMNS.map(([h]) => h).join(','), ...devices.map((d) => COLUMNS.map(([, get]) => csvCell(get(d))).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}
