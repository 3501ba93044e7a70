/**
 * The canonical form of a `mac-addr` (manual p.27 example: 00:01:E3:25:EA:13): upper-case hex
 * pairs joined by colons. Accepts colons, dashes, dots or none.
 */
export function normalizeMac(raw: string): string | null {
  const hex = raw.trim().replace(/[:\-.]/g, '');
  if (!/^[0-9a-fA-F]{12}$/.test(hex)) return null;
  return (hex.toUpperCase().match(/../g) as string[]).join(':');
}
