/**
 * The one MAC normaliser of LocalDLS: the canonical form of a `mac-addr` (manual p.27 example:
 * 00:01:E3:25:EA:13) is upper-case hex pairs joined by colons. Used by the codec, the engine, the
 * PKI, the commands, the CLI and the renderer alike, so every front end accepts the same spellings.
 *
 * Accepted: six pairs joined by one kind of separator (`00:1a:e8:00:00:0a`, `00-1A-E8-00-00-0A`),
 * three groups of four joined by dots (`001a.e81d.000a`, as switches print them), or twelve hex
 * digits. Refused: mixed separators, one-digit groups, more or fewer than 48 bits.
 */
const FORMS = [
  /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i,
  /^[0-9a-f]{2}(-[0-9a-f]{2}){5}$/i,
  /^[0-9a-f]{4}(\.[0-9a-f]{4}){2}$/i,
  /^[0-9a-f]{12}$/i,
];

export function normalizeMac(raw: string): string | null {
  const s = raw.trim();
  if (!FORMS.some((f) => f.test(s))) return null;
  return (s.replace(/[:\-.]/g, '').toUpperCase().match(/../g) as string[]).join(':');
}

export const MAC_EXAMPLE = '00:1A:E8:00:00:01';
