/**
 * The PIN sheet `localdls bootstrap --sheet pins.csv` writes, read back so that each simulated
 * phone types its own PIN (`localdls phone --pins pins.csv`): CSV with a header line naming the
 * columns `mac`, `e164`, `pin` (any order, other columns ignored), one phone per line. A MAC may
 * be spelt in any common way; a row with an empty PIN means that phone has none.
 */
import { normalizeMac } from './items';

/** What a user can type as a PIN on the keypad: digits, and more than the 3 of the TAN (p.67–68). */
export const PIN_PATTERN = /^\d{4,16}$/;

export function pinProblem(pin: string): string | undefined {
  return PIN_PATTERN.test(pin) ? undefined : `a PIN is 4 to 16 digits (the last 3 are the TAN), not "${pin}"`;
}

/** MAC (upper case, colons) → PIN. Throws with "line N: …" for anything it cannot read. */
export function parsePinSheet(text: string): Map<string, string> {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const headerAt = lines.findIndex((l) => l.trim() !== '');
  if (headerAt < 0) throw new Error('the file is empty (expected a header line "mac,e164,pin")');
  const header = cells(lines[headerAt]!, headerAt + 1).map((c) => c.trim().toLowerCase());
  const macCol = header.indexOf('mac');
  const pinCol = header.indexOf('pin');
  if (macCol < 0 || pinCol < 0) throw new Error(`line ${headerAt + 1}: the header must name the columns mac and pin (e.g. "mac,e164,pin"), not "${lines[headerAt]!.trim()}"`);
  const pins = new Map<string, string>();
  for (let i = headerAt + 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const row = cells(line, i + 1).map((c) => c.trim());
    const at = `line ${i + 1}`;
    if (row.length <= Math.max(macCol, pinCol)) throw new Error(`${at}: ${row.length} column(s), the header has ${header.length}`);
    let mac: string;
    try {
      mac = normalizeMac(row[macCol]!);
    } catch (e) {
      throw new Error(`${at}: ${(e as Error).message}`);
    }
    if (pins.has(mac)) throw new Error(`${at}: ${mac} is listed twice`);
    const pin = row[pinCol]!;
    if (pin === '') continue;
    const problem = pinProblem(pin);
    if (problem !== undefined) throw new Error(`${at}: ${problem}`);
    pins.set(mac, pin);
  }
  return pins;
}

/** One CSV line (RFC 4180 quoting: "a,b" and "" inside quotes). */
function cells(line: string, lineNo: number): string[] {
  const out: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell.trim() === '') {
      quoted = true;
      cell = '';
    } else if (c === ',') {
      out.push(cell);
      cell = '';
    } else cell += c;
  }
  if (quoted) throw new Error(`line ${lineNo}: a quoted cell is not closed`);
  out.push(cell);
  return out;
}
